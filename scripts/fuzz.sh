#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz / libFuzzer) of the loaders that read user files:
# `scripts/fuzz.sh [SECONDS] [TARGET...]` runs each target (default: all five) for
# SECONDS (default 60) from the seeds in tests/data/fuzz/, keeping the grown corpus and
# any crasher under ~/.cache/scalesim/fuzz-target/. Exits non-zero on a crasher.
# Needs the nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (installed from crates.io when missing). Instrumentation only (no sanitizer): the
# findings are panics, aborts, hangs (> 10 s) and memory blow-ups (> 2 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv_trace parquet_trace request_log scenario forecast_file)
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: no nightly toolchain (rustup toolchain install nightly): skipped" >&2
    exit 0
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install -q cargo-fuzz --locked
# The Parquet target reads each file in a probe child first, as `sim` does.
cargo build -q --release --bin sim
export SCALESIM_SIM_BINARY="$CARGO_TARGET_DIR/release/sim"
FT="$HOME/.cache/scalesim/fuzz-target"
flags=(-O -s none --codegen-units 16 --target-dir "$FT")
declare -A seed=([csv_trace]=trace.csv [parquet_trace]=trace.parquet [request_log]=requests.csv
                 [scenario]=scenario.toml [forecast_file]=forecast.csv)
cd fuzz
cargo +nightly fuzz build "${flags[@]}"
status=0
for t in "${targets[@]}"; do
    corpus="$FT/corpus/$t"
    seeds="$FT/seeds/$t"
    mkdir -p "$corpus" "$seeds" "$FT/artifacts/$t"
    cp "../tests/data/fuzz/${seed[$t]}" "$seeds/"
    log="$FT/$t.log"
    if cargo +nightly fuzz run "${flags[@]}" "$t" "$corpus" "$seeds" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -seed=1 \
        -artifact_prefix="$FT/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs in ${secs} s, corpus $(ls "$corpus" | wc -l), no crasher" >&2
    else
        echo "fuzz $t: crasher (log: $log, input under $FT/artifacts/$t/)" >&2
        tail -30 "$log" >&2
        status=1
    fi
done
rm -rf /dev/shm/scalesim-fuzz-* 2>/dev/null || true
exit $status
