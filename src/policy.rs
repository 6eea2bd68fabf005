//! Scaling policies: one implementation for the simulator and the live controller.
//! A policy sees an [`Observation`] and returns the replica count it wants; the
//! driver (simulator or live) applies it. No I/O, no clocks: time comes in the observation.

pub mod aws;
pub mod control;
pub mod hpa;
pub mod hybrid;
pub mod keda;
pub mod keepalive;
pub mod kpa;
pub mod optimal;
pub mod predictive;
pub mod prototype;
pub mod spec;
#[cfg(test)]
pub(crate) mod testing;

use std::fmt::Debug;

use crate::forecast::{ForecastTable, QUANTILES};
use crate::time::SimTime;

pub use spec::PolicySpec;

/// Metrics observed over the last decision interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    /// Arrivals per step, averaged over the interval.
    pub demand_per_step: f64,
    /// Busy share of ready capacity, 0–1 (each ready replica's share: load is balanced evenly).
    pub utilization: f64,
    /// 95th percentile latency (ms).
    pub latency_p95_ms: f64,
    /// CPU (%) per ready replica.
    pub cpu_pct: f64,
    /// Ready replicas averaged over the interval: the replicas that carried its load.
    pub ready_mean: f64,
    /// Requests in the system (queued, in the activator's buffer or in service), averaged
    /// over the interval: the concurrency Knative's queue-proxies and activator report.
    pub concurrency: f64,
    /// Length of the interval these figures cover (the metric window).
    pub window_ms: u64,
}

/// When a replica (starting or ready, not draining) was created and became ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodTimes {
    pub created: SimTime,
    /// `None` while it is still starting.
    pub ready_at: Option<SimTime>,
}

/// The forecast a decision can use: made at `step` from data before it.
#[derive(Debug, Clone, Copy)]
pub struct ForecastView<'a> {
    pub table: &'a ForecastTable,
    pub step: usize,
    /// Steps this decision governs (the decision interval in steps).
    pub window: usize,
}

impl ForecastView<'_> {
    fn span(&self, lead: usize) -> std::ops::Range<usize> {
        let lo = lead.min(self.table.horizon - 1);
        lo..(lead + self.window).min(self.table.horizon).max(lo + 1)
    }
    /// Highest point forecast over the governed steps, starting `lead` steps ahead.
    pub fn point(&self, lead: usize) -> f64 {
        self.span(lead)
            .map(|h| self.table.point(self.step, h))
            .fold(f64::MIN, f64::max)
    }
    /// Highest forecast quantile `level` over the governed steps; the point forecast
    /// when `level` is `None`.
    pub fn planned(&self, lead: usize, level: Option<usize>) -> f64 {
        match level {
            None => self.point(lead),
            Some(qi) => self
                .span(lead)
                .map(|h| self.table.quantile(self.step, h, qi))
                .fold(f64::MIN, f64::max),
        }
    }
}

/// Everything a policy may look at when it decides.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Decision number (0, 1, ...).
    pub tick: u64,
    /// Simulated (or wall-clock) time since the start.
    pub now: SimTime,
    /// Replicas the cluster is heading for (ready + starting).
    pub current: u32,
    /// Replicas serving now.
    pub ready: u32,
    /// Replicas still starting.
    pub pending: u32,
    /// Requests one replica serves per step.
    pub capacity_per_replica: f64,
    /// Step length (ms).
    pub step_ms: u64,
    /// The forecast, for predictive policies.
    pub forecast: Option<ForecastView<'a>>,
    /// What happened over the last interval, for reactive policies.
    pub observed: Option<Observed>,
    /// The metrics could not be read (a metric outage); `observed` is then `None`. Only
    /// policies that [`ScalingPolicy::reads_failed_metrics`] are asked in that case.
    pub metrics_failed: bool,
    /// Creation and readiness times of the replicas counted in `current`, for policies
    /// that treat young replicas specially (HPA); empty when the driver does not know
    /// them, which then reads as `ready` replicas ready long ago and `pending` starting.
    pub pods: &'a [PodTimes],
}

/// A scaling policy. Implementations keep their own state (cooldowns, windows).
pub trait ScalingPolicy: Send + Sync + Debug {
    /// Name used in outputs.
    fn name(&self) -> &str;
    /// The replica count wanted now.
    fn decide(&mut self, obs: &Observation<'_>) -> u32;
    /// Told when something else (the safety net) scaled at `tick`.
    fn on_external_scale(&mut self, _tick: u64) {}
    /// Whether the prototype's safety net applies on top of this policy.
    fn uses_safety_net(&self) -> bool {
        true
    }
    /// Steps ahead of the decision the policy needs forecasts for (`None`: no forecast used).
    fn forecast_lead(&self) -> Option<usize> {
        None
    }
    /// The demand the last decision provisioned for (forecast × buffer, or the quantile
    /// used); NaN when the policy does not plan from a forecast.
    fn last_planned(&self) -> f64 {
        f64::NAN
    }
    /// The policy's own time between decisions (the HPA's sync period), overriding the
    /// driver's decision interval; `None` decides on the driver's interval.
    fn decision_interval_ms(&self) -> Option<u64> {
        None
    }
    /// Whether the policy is asked when the metrics cannot be read (KEDA counts the
    /// failures for its fallback); otherwise the control step holds the count.
    fn reads_failed_metrics(&self) -> bool {
        false
    }
    /// Told, before the first decision, the demand per step (of `step_ms`) observed
    /// before the run, oldest first (a sweep's training window; empty live): for
    /// policies that learn from history themselves (AWS predictive scaling).
    fn prime(&mut self, _history: &[f64], _step_ms: u64) {}
    /// Told, before the first decision, the whole window's demand per step: only for a
    /// policy with perfect foresight (`optimal`, a bound; never live).
    fn foresee(&mut self, _demand: &[f64], _cfg: &crate::sim::SimConfig) {}
}

/// Replica bounds every policy clamps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min: u32,
    pub max: u32,
}

impl Bounds {
    pub fn clamp(&self, n: u32) -> u32 {
        n.clamp(self.min, self.max)
    }
}

/// `ceil(demand / capacity)` as a replica count, robust to NaN and negatives.
pub fn replicas_for(demand: f64, capacity: f64) -> u32 {
    let r = (demand / capacity).ceil();
    if r.is_finite() && r > 0.0 {
        r.min(u32::MAX as f64) as u32
    } else {
        0
    }
}

/// Quantile index for a level, for configuration checks.
pub fn level_index(level: f64) -> Option<usize> {
    crate::forecast::quantile_index(level).filter(|&i| i < QUANTILES.len())
}
