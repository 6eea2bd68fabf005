//! Per-run metrics: the prototype's columns (with its definitions), cost, request-level
//! latency, and the SPEC Research Group elasticity metrics. No I/O here.

pub mod elasticity;

use serde::Serialize;

use crate::sim::{RunOutput, SimConfig};
pub use elasticity::Elasticity;

/// Metrics of one run. Units are in the names.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct RunMetrics {
    /// Share of steps with capacity > `over_factor` · demand (%) — the prototype's `over_%`.
    pub over_pct: f64,
    /// Steps with demand > capacity — the prototype's `under_events`.
    pub under_events: u64,
    /// Mean of per-step latency (ms).
    pub avg_latency_ms: f64,
    /// 95th percentile of per-step latency (ms), linear interpolation as numpy.
    pub p95_latency_ms: f64,
    pub avg_cpu_pct: f64,
    /// The prototype's count: steps whose replica count differs from the previous step,
    /// where the first step always counts (pandas `diff() != 0` on a leading NaN).
    pub switches: u64,
    /// Replica-count changes, not counting the first step.
    pub replica_changes: u64,
    /// Sum of ready replicas over steps (replica-steps) — the prototype's `cost_index`.
    pub cost_index: f64,
    /// Paid replica time (starting + ready + draining), hours.
    pub cost_replica_hours: f64,
    /// `cost_replica_hours` × price per replica-hour.
    pub cost_money: f64,
    /// Cost above the optimal schedule's ([`crate::sim::optimal`]), % of it; empty when
    /// the sweep did not compute the bound.
    pub regret_cost_pct: f64,
    pub mean_replicas: f64,
    pub peak_replicas: u32,
    /// Requests not served (fluid: demand above capacity; requests: dropped at the queue limit).
    pub unserved_requests: f64,
    /// Share of requests (requests mode) or steps (fluid) over the latency SLO (%).
    pub slo_violation_pct: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    /// Scale-from-zero events (a scale-up with no replica ready or starting).
    pub cold_starts: u64,
    /// Requests that arrived while no replica was ready: they waited for a cold start
    /// (requests: counted; fluid: the demand of those times, all unserved).
    pub cold_start_requests: f64,
    /// Share of the window with no replica ready or starting (%).
    pub time_at_zero_pct: f64,
    /// Wait in the activator's buffer of the cold-start requests served (ms; requests
    /// mode, empty when none waited).
    pub activator_wait_p50_ms: f64,
    pub activator_wait_p95_ms: f64,
    pub activator_wait_p99_ms: f64,
    /// Steps not observed (collection outages): left out of every figure above except
    /// the cost, replica and switch counts, which run on the whole window.
    pub missing_steps: u64,
    #[serde(flatten)]
    pub elasticity: Elasticity,
}

/// Linear-interpolation percentile (numpy's default) of unsorted data.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    percentiles(values, [p])[0]
}

/// [`percentile`] at several levels, selecting only the order statistics they need.
pub fn percentiles<const K: usize>(values: &[f64], ps: [f64; K]) -> [f64; K] {
    let mut out = [f64::NAN; K];
    if !values.is_empty() {
        let mut v = values.to_vec();
        crate::forecast::residual::empirical_quantiles(&mut v, &ps.map(|p| p / 100.0), &mut out);
    }
    out
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Scoring parameters that are not part of the simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreConfig {
    /// Capacity above this multiple of demand counts as over-provisioned (1.15).
    pub over_factor: f64,
    pub price_per_replica_hour: f64,
    pub slo_ms: f64,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            over_factor: 1.15,
            price_per_replica_hour: 0.0,
            slo_ms: 500.0,
        }
    }
}

/// The observed steps `obs` of a series: the series itself when every step is observed
/// (no copy on the usual path), else a copy of those steps.
fn observed<'a, T: Copy>(v: &'a [T], obs: &[usize], all: bool) -> std::borrow::Cow<'a, [T]> {
    if all {
        std::borrow::Cow::Borrowed(&v[..obs.len()])
    } else {
        std::borrow::Cow::Owned(obs.iter().map(|&i| v[i]).collect())
    }
}

/// Computes the metrics of a run.
pub fn score(out: &RunOutput, sim: &SimConfig, sc: &ScoreConfig) -> RunMetrics {
    let tl = &out.timeline;
    let n = tl.len();
    let cap = sim.capacity_per_replica;
    let missing = |i: usize| tl.missing.get(i).copied().unwrap_or(false);
    // Steps scored: the observed ones.
    let obs: Vec<usize> = (0..n).filter(|&i| !missing(i)).collect();
    let all = obs.len() == n;
    let pick = |v| observed(v, &obs, all);
    let m = obs.len();
    let mut over = 0u64;
    let mut under = 0u64;
    for &i in &obs {
        let capacity = tl.ready_effective[i] * cap;
        over += (capacity > sc.over_factor * tl.demand[i]) as u64;
        under += (tl.demand[i] > capacity) as u64;
    }
    let changes = tl.ready.windows(2).filter(|w| w[0] != w[1]).count() as u64;
    let provisioned: f64 = tl.provisioned_ms.iter().sum();
    let hours = provisioned / 3_600_000.0;
    let latency = pick(&tl.latency_ms);
    // Timeline latency percentiles, from one copy of the series.
    let [tl_p50, tl_p95, tl_p99] = percentiles(&latency, [50.0, 95.0, 99.0]);
    let (p50, p95, p99, slo) = match &out.requests {
        Some(r) => {
            let bad = r.slo_violations + r.dropped;
            (
                r.latency_p50_ms,
                r.latency_p95_ms,
                r.latency_p99_ms,
                100.0 * bad as f64 / r.arrived.max(1) as f64,
            )
        }
        None => (
            tl_p50,
            tl_p95,
            tl_p99,
            100.0 * latency.iter().filter(|&&l| l > sc.slo_ms).count() as f64 / m.max(1) as f64,
        ),
    };
    let unserved = match &out.requests {
        Some(r) => r.dropped as f64,
        None => pick(&tl.dropped).iter().sum(),
    };
    let ready = observed(&tl.ready, &obs, all);
    let step = sim.step_ms as f64;
    let nan = f64::NAN;
    let (cold_requests, waits) = match &out.requests {
        Some(r) => (
            r.cold_requests as f64,
            [
                r.activator_wait_p50_ms,
                r.activator_wait_p95_ms,
                r.activator_wait_p99_ms,
            ],
        ),
        None => (
            obs.iter()
                .map(|&i| tl.demand[i] * tl.no_ready_ms.get(i).copied().unwrap_or(0.0) / step)
                .sum(),
            [nan; 3],
        ),
    };
    let window_ms = n as f64 * step;
    RunMetrics {
        over_pct: 100.0 * over as f64 / m.max(1) as f64,
        under_events: under,
        avg_latency_ms: mean(&latency),
        p95_latency_ms: tl_p95,
        avg_cpu_pct: mean(&pick(&tl.cpu_pct)),
        switches: if n > 0 { changes + 1 } else { 0 },
        replica_changes: changes,
        cost_index: tl.ready.iter().map(|&r| r as f64).sum(),
        cost_replica_hours: hours,
        cost_money: hours * sc.price_per_replica_hour,
        regret_cost_pct: f64::NAN,
        mean_replicas: tl.ready.iter().map(|&r| r as f64).sum::<f64>() / n.max(1) as f64,
        peak_replicas: tl.ready.iter().copied().max().unwrap_or(0),
        unserved_requests: unserved,
        slo_violation_pct: slo,
        latency_p50_ms: p50,
        latency_p95_ms: p95,
        latency_p99_ms: p99,
        cold_starts: tl.cold_starts.iter().map(|&c| c as u64).sum(),
        cold_start_requests: cold_requests,
        time_at_zero_pct: if n > 0 {
            100.0 * tl.zero_ms.iter().sum::<f64>() / window_ms
        } else {
            0.0
        },
        activator_wait_p50_ms: waits[0],
        activator_wait_p95_ms: waits[1],
        activator_wait_p99_ms: waits[2],
        missing_steps: (n - m) as u64,
        elasticity: elasticity::compute(&pick(&tl.demand), &ready, cap, sim.step_ms),
    }
}
