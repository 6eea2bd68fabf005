#!/usr/bin/env bash
# The test suite (unit, integration, golden, property, report, LSTM, live-mode and Slurm
# recipe tests),
# optimised build with the `lstm` feature. Installs what is missing: PyTorch 2.13.0
# (libtorch) in ~/.cache/scalesim/torch-venv, headless Chromium, docker.io and prometheus
# (Debian packages; dockerd is started in the background), slurm-wlm and munge (the test
# starts and stops its own one-node cluster), the FROM-scratch serving image
# and a Python virtual environment with the notebook packages — kept in ~/.cache/scalesim/
# so that later runs and clones reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing chromium for the report tests..." >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "the report tests need headless Chromium: sudo apt-get install chromium" >&2
        exit 1
    fi
fi
VENV="$HOME/.cache/scalesim/report-venv"
if ! "$VENV/bin/python" -c "import nbformat, nbclient, ipykernel, polars, matplotlib" >/dev/null 2>&1; then
    echo "creating $VENV for the notebook tests..." >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q nbformat==5.11.1 nbclient==0.11.0 ipykernel==7.4.0 polars==2.1.0 matplotlib==3.11.2
fi
export SCALESIM_PYTHON="$VENV/bin/python" SCALESIM_CHROMIUM=chromium SCALESIM_REQUIRE_TOOLS=1
# Live-mode tests: Docker (dockerd started when not running), Prometheus, the serving image.
ensure_docker
ensure_prometheus
bash scripts/build-image.sh
# The Kubernetes recipe's manifests against the Kubernetes 1.34 schemas, strictly
# (kubernetes-validate from PyPI, which bundles them; in its own venv).
K8S_VENV="$HOME/.cache/scalesim/k8s-venv"
if ! "$K8S_VENV/bin/kubernetes-validate" --version >/dev/null 2>&1; then
    python3 -m venv "$K8S_VENV"
    "$K8S_VENV/bin/pip" install -q kubernetes-validate==1.37.0
fi
"$K8S_VENV/bin/kubernetes-validate" --strict --quiet -k 1.34.0 deploy/k8s/*.yaml
# The Slurm recipe's test (tests/slurm.rs) on a real one-node cluster; as root it must run.
if [ "$(id -u)" = 0 ]; then
    ensure_slurm
    export SCALESIM_REQUIRE_SLURM=1
fi
ensure_torch
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --release --locked --no-fail-fast --features lstm
else
    cargo test --release --locked --no-fail-fast --features lstm
fi
