#!/usr/bin/env bash
# Python Prophet's and the Rust Prophet's spread under ulp-sized input perturbations
# (see stan_spread.py). Needs a release build of sim (SIM=path to override).
set -euo pipefail
cd "$(dirname "$0")"
source ./venv.sh
SIM="${SIM:-${CARGO_TARGET_DIR:-../../target}/release/sim}"
"$VENV/bin/python" stan_spread.py "$SIM"
