#!/usr/bin/env bash
# LSTM training, Rust (scalesim's training pass) and PyTorch from Python, on the same data
# and architecture, alternately in one run: Rust, Python, Rust, Python. Each side prints
# the median of 3 trainings. Then the fp32 matrix-product rates, one thread, for the
# LSTM's shapes: libtorch's (what PyTorch and tch's `mm` use) and the gemm crate's (what
# the training pass uses). Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
ensure_torch
cargo build --release --locked --features lstm --example time_lstm --example gemm_rate -q
echo "# $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), PyTorch $("$TORCH_VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
for round in 1 2; do
    echo "round $round"
    "$CARGO_TARGET_DIR/release/examples/time_lstm" 3 "${GRADIENT_SHARDS:-2}"
    "$TORCH_VENV/bin/python" validation/lstm/bench_python.py 2>/dev/null | grep train
done
echo "matrix products, one thread"
"$TORCH_VENV/bin/python" validation/lstm/gemm_rate.py 2>/dev/null
"$CARGO_TARGET_DIR/release/examples/gemm_rate"
