# Sourced by the scripts here: sets VENV to a virtual environment with prophet==1.5.0
# from PyPI (reused when present, default ~/.cache/scalesim/prophet-venv).
VENV="${PROPHET_VENV:-$HOME/.cache/scalesim/prophet-venv}"
if ! "$VENV/bin/python" -c "import prophet, sys; sys.exit(prophet.__version__ != '1.5.0')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q prophet==1.5.0
fi
