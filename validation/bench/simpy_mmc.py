"""The request-level simulator against SimPy on the same M/M/c queue, side by side.

Same queue (c servers, exponential service of mean S, Poisson arrivals at utilisation rho),
same number of arrivals, same outputs (mean and p95 latency), run alternately R times in
one process: `sim mmc` (Rust, one thread; its own wall time, without process start) and a
SimPy model (SimPy from PyPI, one thread). Prints a JSON summary with the ratio of the
median times and the Rust simulator's events per second.

    python validation/bench/simpy_mmc.py SIM [--arrivals N] [--rounds R]
"""

import argparse
import json
import random
import statistics
import subprocess
import time

import simpy


def simpy_mmc(c, rho, service_ms, n, seed):
    rnd = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    lam = rho * c / service_ms
    latencies = []

    def customer(env):
        t0 = env.now
        with servers.request() as req:
            yield req
            yield env.timeout(rnd.expovariate(1.0 / service_ms))
        latencies.append(env.now - t0)

    def source(env):
        for _ in range(n):
            yield env.timeout(rnd.expovariate(lam))
            env.process(customer(env))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "arrivals": n,
        "latency_mean_ms": sum(latencies) / len(latencies),
        "latency_p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        "wall_s": wall,
    }


def rust_mmc(sim, c, rho, service_ms, n, seed):
    out = subprocess.run(
        [sim, "mmc", "--servers", str(c), "--utilization", str(rho),
         "--service-ms", str(service_ms), "--arrivals", str(n), "--seed", str(seed)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sim")
    p.add_argument("--servers", type=int, default=10)
    p.add_argument("--utilization", type=float, default=0.8)
    p.add_argument("--service-ms", type=float, default=100.0)
    p.add_argument("--arrivals", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    rust, py = [], []
    for r in range(a.rounds):
        rust.append(rust_mmc(a.sim, a.servers, a.utilization, a.service_ms, a.arrivals, r + 1))
        py.append(simpy_mmc(a.servers, a.utilization, a.service_ms, a.arrivals, r + 1))
    rt = statistics.median(x["wall_s"] for x in rust)
    pt = statistics.median(x["wall_s"] for x in py)
    print(json.dumps({
        "queue": f"M/M/{a.servers}, rho {a.utilization}, mean service {a.service_ms} ms",
        "arrivals": a.arrivals,
        "rounds": a.rounds,
        "theory_latency_mean_ms": rust[0]["theory_latency_mean_ms"],
        "rust_latency_mean_ms": [round(x["latency_mean_ms"], 2) for x in rust],
        "simpy_latency_mean_ms": [round(x["latency_mean_ms"], 2) for x in py],
        "rust_latency_p95_ms": [x["latency_p95_ms"] for x in rust],
        "simpy_latency_p95_ms": [round(x["latency_p95_ms"], 1) for x in py],
        "rust_median_s": rt,
        "simpy_median_s": pt,
        "simpy_over_rust": pt / rt,
        "rust_events_per_s_one_core": statistics.median(x["events_per_s"] for x in rust),
    }, indent=1))


if __name__ == "__main__":
    main()
