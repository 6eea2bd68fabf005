#!/usr/bin/env bash
# The live demo on one machine: the serving image, a real Prometheus on 127.0.0.1:19090
# discovering the replicas through Docker, `sim live` with deploy/live/live.toml, and
# `sim load` replaying data/live/ramp.csv four times faster. Then the simulator runs the
# same trace and policy, and the comparison goes to validation/live/.
# Installs docker.io and prometheus when missing and starts dockerd (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
ensure_docker
ensure_prometheus
bash scripts/build-image.sh
STATIC="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/sim"
OUT=reports/live
mkdir -p "$OUT"
rm -rf "$OUT/prom-data"
"$STATIC" prometheus-config --config deploy/live/live.toml --out "$OUT/prometheus.yml"
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/prom-data" \
    --web.listen-address=127.0.0.1:19090 >"$OUT/prometheus.log" 2>&1 &
PROM=$!
LIVE=
cleanup() {
    [ -n "$LIVE" ] && kill -TERM "$LIVE" 2>/dev/null && wait "$LIVE" || true
    kill "$PROM" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 60); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:19090/-/ready', timeout=2)" 2>/dev/null && break
    sleep 0.5
done
"$STATIC" live --config deploy/live/live.toml 2> >(tee "$OUT/controller.log" >&2) &
LIVE=$!
"$STATIC" load --service scalesim-demo --trace data/live/ramp.csv --speedup 4 --seed 1 \
    --out "$OUT/requests.csv" | tee "$OUT/load_summary.txt"
sleep 20   # two more decisions after the load ends
kill -TERM "$LIVE"
wait "$LIVE"
LIVE=
mkdir -p validation/live
"$STATIC" compare-live --config deploy/live/live.toml --decisions "$OUT/decisions.parquet" \
    --trace data/live/ramp.csv --speedup 4 --startup-delay-s 1 --out validation/live
cp "$OUT/decisions.csv" "$OUT/load_summary.txt" validation/live/
echo "live demo done: decisions in $OUT/, comparison in validation/live/"
