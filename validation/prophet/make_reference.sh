#!/usr/bin/env bash
# Creates a virtual environment with Prophet 1.5.0 from PyPI and writes the reference
# files (all datasets, or those named as arguments).
set -euo pipefail
cd "$(dirname "$0")"
source ./venv.sh
"$VENV/bin/python" make_reference.py "$@"
"$VENV/bin/python" stan_trace.py "$@"
