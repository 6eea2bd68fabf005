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
    # The same absolute path from every clone (the .cargo/config.toml default is the clone's
    # own .libtorch link): torch-sys is then not rebuilt for each fresh clone.
    export LIBTORCH="$torch_dir"
}

# Docker (Debian's docker.io; dockerd started in the background when not running) and
# Prometheus (Debian's package), for live mode and its tests. Installing needs root.
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "live mode needs: sudo apt-get install -y $*" >&2
        exit 1
    fi
    echo "installing $* (Debian packages)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
ensure_docker() {
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
        if [ "$(id -u)" != 0 ]; then
            echo "the Docker engine is not running: sudo dockerd &" >&2
            exit 1
        fi
        mkdir -p "$HOME/.cache/scalesim"
        echo "starting dockerd (log: ~/.cache/scalesim/dockerd.log)..." >&2
        nohup dockerd >"$HOME/.cache/scalesim/dockerd.log" 2>&1 &
        for _ in $(seq 1 60); do
            docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
            sleep 1
        done
        echo "dockerd did not start: see ~/.cache/scalesim/dockerd.log" >&2
        exit 1
    fi
}
ensure_prometheus() {
    command -v prometheus >/dev/null 2>&1 || apt_install prometheus
}

# Slurm (Debian's slurm-wlm and munge) for the Slurm recipe's test, which starts a one-node
# cluster with scripts/slurm-cluster.sh and stops it again.
ensure_slurm() {
    command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 \
        || apt_install slurm-wlm munge
}
