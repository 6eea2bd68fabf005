#!/usr/bin/env bash
# Refactoring check: builds the main job's outputs (gen-data, every shipped scenario's
# sweep, training, reports) with the `sim` of git revision BASE and with the working
# tree's, and lists every file that differs (lock files and logs aside).
#   bash scripts/compare-outputs.sh BASE [OUT]   (OUT: default /tmp/scalesim-compare)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
base=${1:?usage: compare-outputs.sh BASE_REVISION [OUT]}
out=${2:-/tmp/scalesim-compare}
rm -rf "$out" && mkdir -p "$out"
git worktree add -f "$out/base-tree" "$base" >/dev/null
trap 'git worktree remove --force "$out/base-tree"' EXIT
run() { # TREE LABEL: build that tree's sim and run the main job's steps into $out/LABEL
    local tree=$1 label=$2
    (cd "$tree" && ensure_torch && cargo build --release --locked --features lstm -q)
    cp "$CARGO_TARGET_DIR/release/sim" "$out/sim-$label"
    (cd "$tree" && "$out/sim-$label" gen-data --out "$out/$label/generated" \
        && "$out/sim-$label" sweep -q scenarios/*.toml --out "$out/$label/reports" \
        && "$out/sim-$label" train scenarios/prophet.toml scenarios/lstm.toml scenarios/regression.toml --out "$out/$label/models" \
        && "$out/sim-$label" report "$out/$label"/reports/*) >"$out/$label.log" 2>&1
}
run "$out/base-tree" base
run . new
if diff -rq "$out/base" "$out/new" | grep -v '\.lock differ'; then
    echo "outputs differ (above)"
else
    echo "every output is byte-identical"
fi
