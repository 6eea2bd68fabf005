#!/usr/bin/env bash
# Merges the shards of one sweep into $OUT/<scenario>/ once every shard has finished.
#   OUT     the shared results folder (required)
#   NAME    the scenario's name (default: the SCENARIO file's stem)
#   SHARDS  number of shards (required)
#   SIM     the sim binary (default: sim on PATH)
set -euo pipefail
: "${OUT:?set OUT to the shared results folder}"
: "${SHARDS:?set SHARDS to the number of shards}"
NAME="${NAME:-$(basename "${SCENARIO:?set NAME or SCENARIO}" .toml)}"
SIM="${SIM:-sim}"
dirs=()
for k in $(seq 1 "$SHARDS"); do
    dirs+=("$OUT/$NAME.shard-$k-of-$SHARDS")
done
exec "$SIM" merge "${dirs[@]}" --out "$OUT"
