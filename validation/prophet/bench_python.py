"""Python Prophet 1.5.0 on the benchmark shapes of benches/prophet.rs (same sizes and
seasonalities; the data is the prototype's run.csv first week). Prints median seconds."""
import os
import statistics
import time

import pandas as pd
from prophet import Prophet

HERE = os.path.dirname(os.path.abspath(__file__))
df = pd.read_csv(os.path.join(HERE, "..", "..", "data", "seed", "run.csv"))
train = pd.DataFrame({"ds": pd.to_datetime(df["timestamp"]), "y": df["req_per_min"]}).iloc[:10080]
fits, preds = [], []
for _ in range(5):
    m = Prophet(weekly_seasonality=True, daily_seasonality=True)
    t0 = time.perf_counter()
    m.fit(train)
    fits.append(time.perf_counter() - t0)
    future = m.make_future_dataframe(periods=1440, freq="min", include_history=False)
    t0 = time.perf_counter()
    m.predict(future)
    preds.append(time.perf_counter() - t0)
print(f"fit 10080 points (daily + weekly): median {statistics.median(fits):.3f} s")
print(f"predict 1440 steps, 1000 samples: median {statistics.median(preds):.3f} s")
