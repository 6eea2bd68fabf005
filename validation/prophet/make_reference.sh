#!/usr/bin/env bash
# Creates a virtual environment with Prophet 1.5.0 from PyPI and writes the reference files.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${PROPHET_VENV:-$HOME/.cache/scalesim/prophet-venv}"
if ! "$VENV/bin/python" -c "import prophet, sys; sys.exit(prophet.__version__ != '1.5.0')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q prophet==1.5.0
fi
"$VENV/bin/python" make_reference.py "$@"
"$VENV/bin/python" stan_trace.py "$@"
