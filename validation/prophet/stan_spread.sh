#!/usr/bin/env bash
# Python Prophet's and the Rust Prophet's spread under ulp-sized input perturbations
# (see stan_spread.py). Needs the venv of make_reference.sh and a release build of sim.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${PROPHET_VENV:-$HOME/.cache/scalesim/prophet-venv}"
if ! "$VENV/bin/python" -c "import prophet, sys; sys.exit(prophet.__version__ != '1.5.0')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q prophet==1.5.0
fi
SIM="${SIM:-${CARGO_TARGET_DIR:-../../target}/release/sim}"
"$VENV/bin/python" stan_spread.py "$SIM"
