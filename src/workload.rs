//! Workloads: a demand series at a fixed step, with optional known-in-advance
//! regressors. Generators live in `workload::generator`; file I/O lives in `trace`.

pub mod generator;
pub mod shapes;

use chrono::{DateTime, Duration, FixedOffset};

/// A demand trace: `demand[i]` requests arrive during step `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Short name used in outputs.
    pub name: String,
    /// Length of one step in milliseconds.
    pub step_ms: u64,
    /// Absolute time of step 0, when the source has one.
    pub start: Option<DateTime<FixedOffset>>,
    /// Requests per step.
    pub demand: Vec<f64>,
    /// Known-in-advance regressors (calendar flags, planned events), aligned with `demand`.
    pub regressors: Vec<(String, Vec<f64>)>,
    /// Steps whose value was not observed (a collection outage), aligned with `demand`;
    /// empty when every step was. `demand` holds an interpolation there, for the
    /// simulated load only: forecasters, policies and metrics skip these steps.
    pub missing: Vec<bool>,
    /// The individual requests, when the trace is a request log (`demand` counts them).
    pub requests: Option<std::sync::Arc<crate::trace::request_log::RequestLog>>,
}

impl Workload {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.demand.len()
    }
    /// True when the trace has no steps.
    pub fn is_empty(&self) -> bool {
        self.demand.is_empty()
    }
    /// Steps in one day (at least 1).
    pub fn steps_per_day(&self) -> usize {
        ((86_400_000 / self.step_ms.max(1)) as usize).max(1)
    }
    /// True when step `i` was not observed.
    pub fn is_missing(&self, i: usize) -> bool {
        self.missing.get(i).copied().unwrap_or(false)
    }
    /// The demand as observed: NaN at missing steps.
    pub fn observed(&self) -> Vec<f64> {
        self.demand
            .iter()
            .enumerate()
            .map(|(i, &d)| if self.is_missing(i) { f64::NAN } else { d })
            .collect()
    }
    /// Timestamp of step `i`: ISO-8601 when the start is known, else seconds since the start.
    pub fn timestamp_label(&self, i: usize) -> String {
        match self.start {
            Some(start) => {
                let t = start + Duration::milliseconds((i as u64 * self.step_ms) as i64);
                t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            }
            None => format!("{}", (i as u64 * self.step_ms) / 1000),
        }
    }
    /// Keeps steps `range` only (regressors too).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Workload {
        let start = self
            .start
            .map(|s| s + Duration::milliseconds((range.start as u64 * self.step_ms) as i64));
        Workload {
            name: self.name.clone(),
            step_ms: self.step_ms,
            start,
            demand: self.demand[range.clone()].to_vec(),
            regressors: self
                .regressors
                .iter()
                .map(|(n, v)| (n.clone(), v[range.clone()].to_vec()))
                .collect(),
            missing: if self.missing.is_empty() {
                Vec::new()
            } else {
                self.missing[range.clone()].to_vec()
            },
            requests: self.requests.as_ref().map(|r| {
                let (lo, hi) = (
                    range.start as u64 * self.step_ms,
                    range.end as u64 * self.step_ms,
                );
                let idx = r.between(lo, hi);
                std::sync::Arc::new(crate::trace::request_log::RequestLog {
                    t_ms: r.t_ms[idx.clone()].iter().map(|t| t - lo).collect(),
                    sizes: r
                        .sizes
                        .iter()
                        .map(|(n, v)| (n.clone(), v[idx.clone()].to_vec()))
                        .collect(),
                })
            }),
        }
    }
    /// A regressor by name.
    pub fn regressor(&self, name: &str) -> Option<&[f64]> {
        self.regressors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}
