#!/usr/bin/env bash
# Merges the shards of one sweep into $OUT/<name>/ once every shard has finished.
#   OUT     the shared results folder (required)
#   SHARDS  number of shards (required)
#   NAME    the scenario's name (default: asked of sim for SCENARIO)
#   SIM     the sim binary (default: sim on PATH)
set -euo pipefail
: "${OUT:?set OUT to the shared results folder}"
: "${SHARDS:?set SHARDS to the number of shards}"
SIM="${SIM:-sim}"
NAME="${NAME:-$("$SIM" scenario-name "${SCENARIO:?set NAME or SCENARIO}")}"
dirs=() missing=()
for k in $(seq 1 "$SHARDS"); do
    d="$OUT/$NAME.shard-$k-of-$SHARDS"
    dirs+=("$d")
    [ -f "$d/shard.json" ] || missing+=("shard $k of $SHARDS (array task $((k - 1))): $d")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "merge.sh: cannot merge $NAME: missing or unfinished" >&2
    printf '  %s\n' "${missing[@]}" >&2
    echo "re-run those tasks: deploy/slurm/submit.sh --tasks LIST SCENARIO $SHARDS $OUT (Kubernetes: rerun the Job's failed indexes)" >&2
    exit 1
fi
exec "$SIM" merge "${dirs[@]}" --out "$OUT"
