"""Reference forecasts from Python Prophet 1.5.0 for the Rust Prophet validation.

Run: validation/prophet/make_reference.sh [dataset ...] (creates a venv with prophet==1.5.0
from PyPI; with names, only those datasets are refitted).
Writes, per dataset, <name>_input.csv (ds, y[, is_event]: the whole series, training rows
first), <name>_reference.csv (ds, y, yhat, yhat_lower, yhat_upper, trend over the
forecast window), <name>_params.json (fitted parameters, train size) and timings.json.
Timestamps are naive local wall-clock time, as Prophet expects.
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from prophet import Prophet

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")


def load_run():
    df = pd.read_csv(os.path.join(DATA, "seed", "run.csv"))
    return pd.DataFrame({"ds": pd.to_datetime(df["timestamp"]), "y": df["req_per_min"], "is_event": df["is_event"]})


def load_nasa():
    df = pd.read_csv(os.path.join(DATA, "traces", "nasa_http_1995.csv"))
    # Naive local (EDT) wall-clock time.
    ds = pd.to_datetime(df["timestamp"].str.slice(0, 19))
    s = pd.Series(df["requests"].values, index=ds).resample("5min").sum()
    s = s[: (16 * 288)]
    return pd.DataFrame({"ds": s.index, "y": s.values.astype(float)})


def load_wiki():
    df = pd.read_csv(os.path.join(DATA, "traces", "wikipedia_en_2016_01.csv"))
    return pd.DataFrame({"ds": pd.to_datetime(df["timestamp"].str.slice(0, 19)), "y": df["requests"].astype(float)})


DATASETS = [
    # name, loader, training rows, forecast rows, regressors, Prophet settings, cap
    ("run", load_run, 10080, 10080, [], {}, None),
    ("run_is_event", load_run, 10080, 10080, ["is_event"], {}, None),
    ("nasa_5min", load_nasa, 14 * 288, 2 * 288, [], {}, None),
    ("wikipedia", load_wiki, 21 * 24, 7 * 24, [], {}, None),
    # Beyond the four: the other seasonality mode and the other growth.
    ("nasa_5min_multiplicative", load_nasa, 14 * 288, 2 * 288, [], {"seasonality_mode": "multiplicative"}, None),
    ("wikipedia_logistic", load_wiki, 21 * 24, 7 * 24, [], {"growth": "logistic"}, 12e6),
    # Under 100 rows Prophet optimises with Newton instead of L-BFGS.
    ("wikipedia_short", load_wiki, 96, 48, [], {}, None),
]


def prophet_for(regs, settings):
    m = Prophet(**settings)
    for r in regs:
        m.add_regressor(r)
    return m


def with_cap(df, cap):
    return df if cap is None else df.assign(cap=cap)


def main():
    timings_path = os.path.join(HERE, "timings.json")
    timings = json.load(open(timings_path)) if os.path.exists(timings_path) else {}
    only = set(sys.argv[1:])
    for name, loader, n_train, n_test, regs, settings, cap in DATASETS:
        if only and name not in only:
            continue
        df = loader().iloc[: n_train + n_test].reset_index(drop=True)
        cols = ["ds", "y"] + regs
        df[cols].assign(ds=df["ds"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(os.path.join(HERE, f"{name}_input.csv"), index=False)
        train, test = with_cap(df.iloc[:n_train], cap), with_cap(df.iloc[n_train:], cap)
        m = prophet_for(regs, settings)
        t0 = time.perf_counter()
        m.fit(train[cols + ([] if cap is None else ["cap"])])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fc = m.predict(test[["ds"] + regs + ([] if cap is None else ["cap"])])
        predict_s = time.perf_counter() - t0
        out = pd.DataFrame({
            "ds": test["ds"].dt.strftime("%Y-%m-%d %H:%M:%S").values,
            "y": test["y"].values,
            "yhat": fc["yhat"].values,
            "yhat_lower": fc["yhat_lower"].values,
            "yhat_upper": fc["yhat_upper"].values,
            "trend": fc["trend"].values,
        })
        out.to_csv(os.path.join(HERE, f"{name}_reference.csv"), index=False)
        p = {k: np.asarray(v).ravel().tolist() for k, v in m.params.items() if k != "trend"}
        p.update({
            "y_scale": float(m.y_scale),
            "changepoints_t": m.changepoints_t.tolist(),
            "n_train": n_train,
            "seasonalities": sorted(m.seasonalities),
            "settings": settings,
            "cap": cap,
        })
        with open(os.path.join(HERE, f"{name}_params.json"), "w") as f:
            json.dump(p, f, indent=1)
        inside = ((out["y"] >= out["yhat_lower"]) & (out["y"] <= out["yhat_upper"])).mean()
        timings[name] = {"fit_s": fit_s, "predict_s": predict_s, "n_train": n_train, "n_forecast": n_test, "coverage": inside}
        print(name, timings[name], file=sys.stderr)
    with open(os.path.join(HERE, "timings.json"), "w") as f:
        json.dump(timings, f, indent=1)


if __name__ == "__main__":
    main()
