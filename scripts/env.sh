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
