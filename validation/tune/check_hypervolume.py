"""`sim tune` against the grid on the `tradeoff` space, scored by a reference implementation.

Reads the grid's `metrics_summary.csv` (`sim sweep scenarios/tradeoff.toml`) and the
search's `tune_evaluations.csv` (`sim tune scenarios/tune/tradeoff.toml`) and computes, per
start-up delay, the hypervolume of cost_replica_hours against under_events that each
dominates, with moocore (the reference code of Fonseca, Paquete & López-Ibáñez; PyPI
`moocore`). One reference point for both: 10 % beyond the worst value either saw.

    python check_hypervolume.py reports/tradeoff reports/tune_tradeoff > results.csv
"""

import csv
import sys
from collections import defaultdict

import moocore
import numpy as np


def by_delay(path):
    out = defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f):
            out[row["sim.startup_delay_s"]].append(
                (float(row["cost_replica_hours"]), float(row["under_events"]))
            )
    return out


def main(grid_dir, tune_dir):
    grid = by_delay(f"{grid_dir}/metrics_summary.csv")
    tuned = by_delay(f"{tune_dir}/tune_evaluations.csv")
    assert sorted(grid) == sorted(tuned), (sorted(grid), sorted(tuned))
    w = csv.writer(sys.stdout)
    w.writerow(["startup_delay_s", "grid_cells", "tune_evaluations", "grid_hv", "tune_hv", "ratio"])
    worst, total_g, total_t = 1.0, 0.0, 0.0
    for delay in sorted(grid, key=float):
        g, t = np.array(grid[delay]), np.array(tuned[delay])
        both = np.vstack([g, t])
        hi, lo = both.max(axis=0), both.min(axis=0)
        ref = hi + 0.1 * np.maximum(hi - lo, 1e-9)
        hg, ht = moocore.hypervolume(g, ref=ref), moocore.hypervolume(t, ref=ref)
        worst = min(worst, ht / hg)
        total_g, total_t = total_g + hg, total_t + ht
        w.writerow([delay, len(g), len(t), f"{hg:.6g}", f"{ht:.6g}", f"{ht / hg:.4f}"])
    w.writerow(["all", sum(map(len, grid.values())), sum(map(len, tuned.values())),
                f"{total_g:.6g}", f"{total_t:.6g}", f"{total_t / total_g:.4f}"])
    print(f"# lowest ratio {worst:.4f}, all variants together {total_t / total_g:.4f}, with "
          f"{sum(map(len, tuned.values()))} of {sum(map(len, grid.values()))} evaluations",
          file=sys.stderr)
    return 0 if worst >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
