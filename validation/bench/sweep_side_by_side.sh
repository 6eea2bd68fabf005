#!/usr/bin/env bash
# Sweep speed of two `sim` builds side by side (#15: "within 5 % of today's"): the
# 1,000-cell fluid sweep without timelines on 2 threads, the builds alternating, N rounds;
# prints each time and the ratio of medians (and of minima), and checks the two summaries
# are identical.
#   git worktree add /tmp/old 77bc2ae && (cd /tmp/old && cargo build --release --bin sim)
#   bash validation/bench/sweep_side_by_side.sh OLD_SIM NEW_SIM [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
OLD=$1 NEW=$2 ROUNDS=${3:-13}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for _ in $(seq 1 "$ROUNDS"); do
    for b in old new; do
        bin=$OLD; [ "$b" = new ] && bin=$NEW
        rm -rf "$OUT/$b"
        s=$(date +%s.%N)
        "$bin" sweep validation/bench/sweep_1000_no_timelines.toml -q --threads 2 --out "$OUT/$b" 2>/dev/null
        echo "$b $(echo "$(date +%s.%N) - $s" | bc)"
    done
done | tee "$OUT/times.txt"
cmp "$OUT/old/bench_1000_no_timelines/metrics_summary.csv" \
    "$OUT/new/bench_1000_no_timelines/metrics_summary.csv" && echo "summaries identical"
python3 - "$OUT/times.txt" <<'PY'
import statistics as st, sys
d = {"old": [], "new": []}
for line in open(sys.argv[1]):
    b, t = line.split()
    d[b].append(float(t))
for b in d:
    print(f"{b}: {len(d[b])} runs, median {st.median(d[b]):.3f} s, min {min(d[b]):.3f} s")
print(f"new / old: median {st.median(d['new']) / st.median(d['old']):.3f}, min {min(d['new']) / min(d['old']):.3f}")
PY
