//! Observations for the policies' unit tests: one place that spells the structs out.

use super::{Observation, Observed, PodTimes};
use crate::time::SimTime;

/// An interval of `window_ms` with `demand` per step, `cpu` % busy, `ready_mean` ready
/// replicas and `concurrency` in flight.
pub fn observed(
    demand: f64,
    cpu: f64,
    ready_mean: f64,
    concurrency: f64,
    window_ms: u64,
) -> Observed {
    Observed {
        demand_per_step: demand,
        utilization: cpu / 100.0,
        latency_p95_ms: 0.0,
        cpu_pct: cpu,
        ready_mean,
        concurrency,
        window_ms,
    }
}

/// A decision at `now_ms` (steps of `step_ms`) with `current` replicas of which `ready`
/// serve, capacity `cap` per replica, what was `observed` (`None` and `failed`: the
/// metrics failed), and the replicas' times.
#[allow(clippy::too_many_arguments)]
pub fn observation<'a>(
    now_ms: u64,
    step_ms: u64,
    current: u32,
    ready: u32,
    cap: f64,
    observed: Option<Observed>,
    failed: bool,
    pods: &'a [PodTimes],
) -> Observation<'a> {
    Observation {
        tick: now_ms / step_ms.max(1),
        now: SimTime(now_ms),
        current,
        ready,
        pending: current.saturating_sub(ready),
        capacity_per_replica: cap,
        step_ms,
        forecast: None,
        observed,
        metrics_failed: failed,
        pods,
    }
}
