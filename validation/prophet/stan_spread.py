"""How far Python Prophet's own forecast moves when its input moves by a few ulps, and
where the Rust Prophet lands under the same perturbations.

Prophet fits by Stan's L-BFGS, which on these non-smooth objectives (Laplace prior on
the trend changes) stops short of the optimum at a point that depends on rounding: the
paths of two runs that differ in the last bits of one input value part after a few tens
of iterations. This script perturbs the first training value by j ulps (j = 1..N),
fits Python Prophet 1.5.0 and `sim forecast --model prophet` on the identical CSV, and
reports max |yhat − reference yhat| / max y for both, against the unperturbed Python
reference of make_reference.py.

Run: validation/prophet/stan_spread.sh (uses the prophet venv of make_reference.sh and a
release `sim`). Writes stan_spread.csv and stan_spread.md.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import logging

from make_reference import DATASETS, prophet_for, with_cap

logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
HERE = os.path.dirname(os.path.abspath(__file__))
SIM = sys.argv[1]
# dataset: perturbations
RUNS = {"wikipedia": 20, "nasa_5min": 10, "run": 4, "nasa_5min_multiplicative": 10, "wikipedia_logistic": 10}


def err(yhat, ref, ymax):
    return float(np.max(np.abs(np.asarray(yhat) - np.asarray(ref))) / ymax)


def main():
    rows = []
    for name, _, n_train, n_test, regs, settings, cap in DATASETS:
        if name not in RUNS:
            continue
        n_pert = RUNS[name]
        df = pd.read_csv(os.path.join(HERE, f"{name}_input.csv"))[["ds", "y"]]
        ref = pd.read_csv(os.path.join(HERE, f"{name}_reference.csv"))
        ymax = float(df["y"].iloc[: n_train + n_test].max())
        y0 = float(df["y"].iloc[0])
        for j in range(0, n_pert + 1):
            pert = df.copy()
            v = y0
            for _ in range(j):
                v = np.nextafter(v, np.inf)
            pert.loc[0, "y"] = v
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "in.csv")
                pert.iloc[: n_train + n_test].to_csv(path, index=False, float_format="%.17g")
                train = pd.read_csv(path, parse_dates=["ds"]).iloc[:n_train]
                m = prophet_for(regs, settings)
                m.fit(with_cap(train, cap))
                future = with_cap(pd.DataFrame({"ds": pd.to_datetime(ref["ds"])}), cap)
                py = m.predict(future)["yhat"].values
                out = os.path.join(tmp, "out.csv")
                config = os.path.join(tmp, "prophet.toml")
                with open(config, "w") as f:
                    f.write("[prophet]\n")
                    for k, v in settings.items():
                        f.write(f'{k} = "{v}"\n')
                    if cap is not None:
                        f.write(f"cap = {cap}\n")
                subprocess.run(
                    [SIM, "forecast", "--model", "prophet", "--input", path, "--timestamp-column", "ds",
                     "--value-column", "y", "--train-until", ref["ds"].iloc[0], "--horizon", str(n_test),
                     "--config", config, "--out", out],
                    check=True, capture_output=True,
                )
                rs = pd.read_csv(out)["yhat"].values
            rows.append({
                "dataset": name, "ulps": j,
                "python_vs_reference": err(py, ref["yhat"], ymax),
                "rust_vs_reference": err(rs, ref["yhat"], ymax),
                "rust_vs_python_same_input": err(rs, py, ymax),
            })
            print(rows[-1], flush=True)
    out = pd.DataFrame(rows)
    out.to_csv(os.path.join(HERE, "stan_spread.csv"), index=False, float_format="%.6g")
    lines = ["| dataset | runs | Python vs its reference: median / max | Rust vs Python reference: median / max | Rust vs Python, same input: median / max |", "|---|---|---|---|---|"]
    for name, g in out.groupby("dataset", sort=False):
        p = g[g.ulps > 0]
        cell = lambda c: f"{100 * p[c].median():.3f} % / {100 * p[c].max():.3f} %"
        lines.append(f"| {name} | {len(p)} | {cell('python_vs_reference')} | {cell('rust_vs_reference')} | {cell('rust_vs_python_same_input')} |")
    open(os.path.join(HERE, "stan_spread.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
