"""CmdStan's L-BFGS path inside Python Prophet 1.5.0: the log posterior after every
iteration, for tests/prophet.rs (lbfgs_follows_cmdstans_iterations).

Prophet is fitted exactly as make_reference.py does, except that its Stan call also
saves every iteration (save_iterations=1, which does not change the path). Writes
<name>_stan_trace.csv (iter, lp__; iteration 0 is Prophet's initial point).
Run with the venv of make_reference.sh: $VENV/bin/python stan_trace.py [dataset ...]
"""
import logging
import os
import sys

import numpy as np
import pandas as pd
from prophet.models import CmdStanPyBackend

from make_reference import DATASETS, prophet_for, with_cap

logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    traces = {}
    original = CmdStanPyBackend.fit

    def traced_fit(self, stan_init, stan_data, **kwargs):
        inits, data = self.prepare_data(stan_init, stan_data)
        mle = self.model.optimize(data=data, inits=inits, algorithm="LBFGS", iter=int(1e4), save_iterations=True)
        traces["lp"] = mle.optimized_iterations_pd["lp__"].to_numpy()
        return original(self, stan_init, stan_data, **kwargs)

    CmdStanPyBackend.fit = traced_fit
    only = set(sys.argv[1:])
    for name, _, n_train, _, regs, settings, cap in DATASETS:
        if (only and name not in only) or n_train < 100:
            continue  # below 100 rows Prophet uses Newton: no L-BFGS path to record
        df = pd.read_csv(os.path.join(HERE, f"{name}_input.csv"), parse_dates=["ds"]).iloc[:n_train]
        prophet_for(regs, settings).fit(with_cap(df, cap))
        lp = traces["lp"]
        pd.DataFrame({"iter": np.arange(len(lp)), "lp__": lp}).to_csv(
            os.path.join(HERE, f"{name}_stan_trace.csv"), index=False, float_format="%.8g")
        print(name, len(lp) - 1, "iterations, final lp__", lp[-1])


if __name__ == "__main__":
    main()
