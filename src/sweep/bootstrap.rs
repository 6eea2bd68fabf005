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

/// What resampling one run gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Resampled {
    /// The intervals of [`METRICS`] (NaN pairs for a request-mode run).
    pub intervals: Vec<(f64, f64)>,
    /// Per resample, the metrics comparisons pair ([`super::comparisons::COMPARED`]);
    /// empty for a request-mode run.
    pub compared: Vec<Vec<f64>>,
}

/// Resamples one run `b.resamples` times.
pub fn resample(
    out: &RunOutput,
    sim: &SimConfig,
    sc: &ScoreConfig,
    b: Bootstrap,
    seed: u64,
) -> Resampled {
    let n = out.timeline.len();
    if out.requests.is_some() || n == 0 {
        return Resampled {
            intervals: vec![(f64::NAN, f64::NAN); METRICS.len()],
            compared: Vec::new(),
        };
    }
    let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(b.resamples); METRICS.len()];
    let mut compared = Vec::with_capacity(b.resamples);
    for i in 0..b.resamples {
        let idx = crate::stats::block_resample(n, b.block, crate::stats::resample_seed(seed, i));
        let resampled = RunOutput {
            timeline: out.timeline.select(&idx),
            requests: None,
        };
        let m = serde_json::to_value(score(&resampled, sim, sc)).expect("metrics serialise");
        let get = |name: &str| m[name].as_f64().unwrap_or(f64::NAN);
        for (k, name) in METRICS.iter().enumerate() {
            values[k].push(get(name));
        }
        compared.push(
            super::comparisons::COMPARED
                .iter()
                .map(|c| get(c))
                .collect(),
        );
    }
    Resampled {
        intervals: values
            .into_iter()
            .map(crate::stats::percentile_interval)
            .collect(),
        compared,
    }
}

/// File of a cell's resampled compared metrics under `bootstrap/`.
pub fn samples_name(cell: usize) -> String {
    format!("cell_{cell:06}.csv")
}

/// Writes a cell's resampled compared metrics (one line per resample).
pub fn write_samples(path: &std::path::Path, compared: &[Vec<f64>]) -> crate::error::Result<()> {
    use std::io::Write;
    crate::trace::write::atomic_write(path, |f| {
        let mut b = std::io::BufWriter::new(f);
        writeln!(b, "{}", super::comparisons::COMPARED.join(","))?;
        for row in compared {
            let fields: Vec<String> = row.iter().map(|&x| super::outputs::num(x)).collect();
            writeln!(b, "{}", fields.join(","))?;
        }
        b.flush()
    })
}

/// Reads what [`write_samples`] wrote.
pub fn read_samples(path: &std::path::Path) -> crate::error::Result<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::error::Error::io(path, e))?;
    Ok(text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect())
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
