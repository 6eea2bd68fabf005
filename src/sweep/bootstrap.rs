//! Uncertainty over time for a deterministic run (`[bootstrap]`): a real trace replayed in
//! fluid mode gives the same figures every replication; what is uncertain is which days
//! happened to fall in the test window. The run's timeline is resampled in moving blocks
//! (circular, `block` steps, default one day) `resamples` times (1,000) and re-scored
//! by the one scoring rule ([`crate::metrics::score`]); each metric that is a sum or a
//! mean over steps gets the 2.5–97.5 % percentile interval of its resampled values
//! (`<metric>_lo95`, `<metric>_hi95`). The resamples depend on the scenario seed and the
//! simulation variant only, so every policy of a variant is resampled on the same blocks
//! (paired) and the intervals do not depend on threads. Request-mode cells get none:
//! their per-request figures are not sums over steps (use `replications`).

use crate::metrics::{score, ScoreConfig};
use crate::sim::{RunOutput, SimConfig};

/// Metrics that are a sum or a mean over the window's steps.
pub const METRICS: [&str; 16] = [
    "over_pct",
    "under_events",
    "avg_latency_ms",
    "avg_cpu_pct",
    "cost_index",
    "cost_replica_hours",
    "cost_money",
    "mean_replicas",
    "unserved_requests",
    "slo_violation_pct",
    "cold_start_requests",
    "time_at_zero_pct",
    "theta_u_pct",
    "theta_o_pct",
    "tau_u_pct",
    "tau_o_pct",
];

/// The header's interval columns.
pub fn columns() -> Vec<String> {
    METRICS
        .iter()
        .flat_map(|m| [format!("{m}_lo95"), format!("{m}_hi95")])
        .collect()
}

/// How to resample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    /// Block length, steps.
    pub block: usize,
    pub resamples: usize,
}

/// The intervals of [`METRICS`] for one run (NaN pairs for a request-mode run).
pub fn intervals(
    out: &RunOutput,
    sim: &SimConfig,
    sc: &ScoreConfig,
    b: Bootstrap,
    seed: u64,
) -> Vec<(f64, f64)> {
    let n = out.timeline.len();
    if out.requests.is_some() || n == 0 {
        return vec![(f64::NAN, f64::NAN); METRICS.len()];
    }
    let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(b.resamples); METRICS.len()];
    for i in 0..b.resamples {
        let idx = crate::stats::block_resample(n, b.block, crate::stats::resample_seed(seed, i));
        let resampled = RunOutput {
            timeline: out.timeline.select(&idx),
            requests: None,
        };
        let m = serde_json::to_value(score(&resampled, sim, sc)).expect("metrics serialise");
        for (k, name) in METRICS.iter().enumerate() {
            values[k].push(m[*name].as_f64().unwrap_or(f64::NAN));
        }
    }
    values
        .into_iter()
        .map(crate::stats::percentile_interval)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bootstrapped_metric_is_a_metric() {
        let m = serde_json::to_value(crate::metrics::RunMetrics::default()).unwrap();
        for name in METRICS {
            assert!(m.get(name).is_some(), "{name} is not a metric");
        }
    }
}
