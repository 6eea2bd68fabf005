#!/usr/bin/env bash
# LSTM training, Rust (libtorch through tch) and PyTorch from Python, on the same data
# and architecture, alternately in one run: Rust, Python, Rust, Python. Each side prints
# the median of 3 trainings. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
ensure_torch
cargo build --release --locked --features lstm --example time_lstm -q
for round in 1 2; do
    echo "round $round"
    "$CARGO_TARGET_DIR/release/examples/time_lstm" 3 "${GRADIENT_SHARDS:-2}"
    "$TORCH_VENV/bin/python" validation/lstm/bench_python.py | grep train
done
