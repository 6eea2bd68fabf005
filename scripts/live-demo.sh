#!/usr/bin/env bash
# The live demo on one machine: the serving image, a real Prometheus on 127.0.0.1:19090
# discovering the replicas through Docker, `sim live` with deploy/live/live.toml, and
# `sim load` replaying a trace (default data/live/ramp.csv; `bash scripts/live-demo.sh
# data/live/bursty.csv bursty` for another, into validation/live/bursty/) four times
# faster. Then the simulator's twin runs the same trace and policy (`sim compare-live`),
# `sim calibrate` fits service time and measurement delay to the live logs, and the twin
# runs again with them; the comparisons go to validation/live/[NAME/].
# Installs docker.io and prometheus when missing and starts dockerd (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
ensure_docker
ensure_prometheus
bash scripts/build-image.sh
STATIC="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/sim"
TRACE=${1:-data/live/ramp.csv}
NAME=${2:-}
OUT=reports/live${NAME:+/$NAME}
DEST=validation/live${NAME:+/$NAME}
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
sed "s#^decisions = .*#decisions = \"$PWD/$OUT/decisions.parquet\"#" deploy/live/live.toml >"$OUT/live.toml"
"$STATIC" live --config "$OUT/live.toml" 2> >(tee "$OUT/controller.log" >&2) &
LIVE=$!
"$STATIC" load --service scalesim-demo --trace "$TRACE" --speedup 4 --seed 1 \
    --out "$OUT/requests.csv" | tee "$OUT/load_summary.txt"
sleep 20   # two more decisions after the load ends
kill -TERM "$LIVE"
wait "$LIVE"
LIVE=
mkdir -p "$DEST"
COMMON=(--config "$OUT/live.toml" --decisions "$OUT/decisions.parquet" --requests "$OUT/requests.csv"
    --trace "$TRACE" --speedup 4 --seed 1 --startup-delay-s 1)
# The twin as configured: the live file's service time, the configured scrape interval.
"$STATIC" compare-live "${COMMON[@]}" --out "$DEST"
# Fitted to this run's logs, then the twin again with the fitted settings.
"$STATIC" calibrate --config "$OUT/live.toml" --decisions "$OUT/decisions.parquet" \
    --requests "$OUT/requests.csv" --out "$DEST/calibrated.toml" >/dev/null
"$STATIC" compare-live "${COMMON[@]}" --calibration "$DEST/calibrated.toml" --out "$DEST/calibrated"
cp "$OUT/decisions.csv" "$OUT/load_summary.txt" "$DEST/"
# The twin's own logs stay in $OUT (the request logs are large).
mv "$DEST/sim_requests.csv" "$OUT/sim_requests.csv"
mv "$DEST/calibrated/sim_requests.csv" "$OUT/sim_requests.calibrated.csv"
rm -f "$DEST/sim_decisions.parquet" "$DEST/calibrated/sim_decisions.parquet"
echo "live demo done: decisions in $OUT/, comparison in $DEST/"
