#!/usr/bin/env bash
# The main job, end to end: build, generate the synthetic workloads, run every
# scenario's sweep into reports/, write each sweep's report, and re-run the
# validation suite into validation/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
ensure_torch
cargo build --release --locked --features lstm
"$SIM" gen-data --out data/generated
"$SIM" sweep scenarios/*.toml --out reports
"$SIM" tune scenarios/tune/*.toml --out reports
"$SIM" train scenarios/prophet.toml scenarios/lstm.toml scenarios/regression.toml --out models
"$SIM" report
"$SIM" validate --out validation/results
# The live demo: real replicas in Docker, a real Prometheus, the ramp trace (≈5 min).
if [ "${SCALESIM_SKIP_LIVE:-0}" != 1 ]; then
    bash scripts/live-demo.sh
fi
echo "done: results and reports (report.html, report.md, report.ipynb) in reports/<scenario>/, validation in validation/results/ and validation/live/"
