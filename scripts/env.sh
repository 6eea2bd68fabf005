# Shared settings for the project's scripts (sourced, not run).
# A persistent build folder outside the clone: fresh clones and CI reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scalesim/target}"
SIM="$CARGO_TARGET_DIR/release/sim"

require_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        if [ -x "$HOME/.cargo/bin/cargo" ]; then
            export PATH="$HOME/.cargo/bin:$PATH"
        else
            echo "cargo not found: install Rust (https://rustup.rs) and run again" >&2
            exit 1
        fi
    fi
}

# PyTorch 2.13.0 (libtorch for tch 0.26) in a per-user venv, reused when present, and
# the .libtorch link that .cargo/config.toml points LIBTORCH at.
TORCH_VENV="$HOME/.cache/scalesim/torch-venv"
ensure_torch() {
    if ! "$TORCH_VENV/bin/python" -c "import torch, sys; sys.exit(not torch.__version__.startswith('2.13.0'))" >/dev/null 2>&1; then
        echo "installing PyTorch 2.13.0 into $TORCH_VENV (about 4.7 GB, once)..." >&2
        python3 -m venv "$TORCH_VENV"
        "$TORCH_VENV/bin/pip" install -q torch==2.13.0
    fi
    local torch_dir
    torch_dir=$("$TORCH_VENV/bin/python" -c "import torch, os; print(os.path.dirname(torch.__file__))" 2>/dev/null)
    ln -sfn "$torch_dir" .libtorch
}
