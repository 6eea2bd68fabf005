//! The replica calculator (upstream `replica_calculator.go`): per metric, the usage ratio
//! over the pods that have a measurement, the tolerance band, and the re-computation that
//! counts pods without one — missing pods at the target (100 % for CPU) on a scale-down
//! and at 0 on a scale-up, unready pods at 0 on a scale-up — refusing a result that
//! reverses the direction. The proposals of several metrics combine by their maximum.

use super::config::{HpaConfig, Metric, Tolerances};
use crate::policy::{Observation, Observed, PodTimes};
use crate::time::SimTime;

/// How upstream's `groupPods` sorts the pods for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Groups {
    /// Pods whose measurement counts.
    pub ready: u32,
    /// Pending pods, and (CPU) pods ready for less than a metric window inside the CPU
    /// initialisation period.
    pub unready: u32,
    /// Running pods without a measurement yet (non-CPU metrics: ready for less than a
    /// metric window, so no rate over the window exists).
    pub missing: u32,
}

/// Sorts the pods of `obs` for a CPU (`cpu = true`) or a pod-level custom metric.
pub(super) fn group(obs: &Observation<'_>, window_ms: u64, cpu: bool, cpu_init_ms: u64) -> Groups {
    if obs.pods.is_empty() {
        // The driver gave counts only: ready replicas measured, starting ones pending.
        return Groups {
            ready: obs.ready,
            unready: obs.pending,
            missing: 0,
        };
    }
    let now = obs.now;
    let mut g = Groups::default();
    for p in obs.pods {
        match classify(p, now, window_ms, cpu, cpu_init_ms) {
            Class::Ready => g.ready += 1,
            Class::Unready => g.unready += 1,
            Class::Missing => g.missing += 1,
        }
    }
    g
}

enum Class {
    Ready,
    Unready,
    Missing,
}

fn classify(p: &PodTimes, now: SimTime, window_ms: u64, cpu: bool, cpu_init_ms: u64) -> Class {
    let Some(ready_at) = p.ready_at else {
        return Class::Unready;
    };
    // Ready for less than one metric window: its sample does not cover a full window.
    let young = now.ms() < ready_at.ms() + window_ms;
    match (cpu, young) {
        (_, false) => Class::Ready,
        // Inside the CPU initialisation period a sample that began before the readiness
        // transition is ignored; after it the pod's (partial) sample counts.
        (true, true) if now.ms() < p.created.ms() + cpu_init_ms => Class::Unready,
        (true, true) => Class::Ready,
        (false, true) => Class::Missing,
    }
}

/// `ceil` as a replica count, saturating.
fn ceil_count(x: f64) -> u32 {
    let c = x.ceil();
    if c.is_nan() || c <= 0.0 {
        0
    } else {
        c.min(u32::MAX as f64) as u32
    }
}

/// One pod-level metric: per-pod value `per_pod` against `target` (same units) over the
/// pods in `g`; `fallback` is what a missing pod counts as on a scale-down; `whole`
/// truncates averages to whole units (CPU utilisation in percent).
struct PodMetric {
    per_pod: f64,
    target: f64,
    fallback: f64,
    whole: bool,
}

impl PodMetric {
    fn ratio(&self, average: f64) -> f64 {
        let a = if self.whole {
            (average + 1e-9).floor()
        } else {
            average
        };
        a / self.target
    }

    /// `GetResourceReplicas` / `calcPlainMetricReplicas` after the metrics are read.
    fn replicas(&self, current: u32, g: Groups, tol: Tolerances) -> Option<u32> {
        if g.ready == 0 {
            return None; // "did not receive metrics for targeted pods"
        }
        let ratio = self.ratio(self.per_pod);
        let scale_up_with_unready = g.unready > 0 && ratio > 1.0;
        if !scale_up_with_unready && g.missing == 0 {
            if tol.within(ratio) {
                return Some(current);
            }
            return Some(ceil_count(ratio * g.ready as f64));
        }
        let mut sum = self.per_pod * g.ready as f64;
        let mut n = g.ready;
        if g.missing > 0 {
            if ratio < 1.0 {
                sum += self.fallback * g.missing as f64;
                n += g.missing;
            } else if ratio > 1.0 {
                n += g.missing;
            }
        }
        if scale_up_with_unready {
            n += g.unready;
        }
        let new_ratio = self.ratio(sum / n as f64);
        if tol.within(new_ratio)
            || (ratio < 1.0 && new_ratio > 1.0)
            || (ratio > 1.0 && new_ratio < 1.0)
        {
            return Some(current);
        }
        let new = ceil_count(new_ratio * n as f64);
        if (new_ratio < 1.0 && new > current) || (new_ratio > 1.0 && new < current) {
            return Some(current);
        }
        Some(new)
    }
}

/// The replica count one metric proposes; `None` when it has no measurement.
fn metric_replicas(m: Metric, cfg: &HpaConfig, obs: &Observation<'_>, o: &Observed) -> Option<u32> {
    let cur = obs.current;
    let tol = cfg.tolerance;
    let cap = obs.capacity_per_replica;
    match m {
        Metric::CpuUtilization { target_pct } => {
            let g = group(obs, o.window_ms, true, cfg.cpu_initialization_period_ms);
            let pct = 100.0 * o.utilization.clamp(0.0, 1.0) * cfg.cpu_limit_ratio;
            PodMetric {
                per_pod: pct,
                target: target_pct as f64,
                fallback: (target_pct as f64).max(100.0),
                whole: true,
            }
            .replicas(cur, g, tol)
        }
        Metric::PodRate { target } => {
            if !(o.ready_mean > 0.0) {
                return None;
            }
            let g = group(obs, o.window_ms, false, cfg.cpu_initialization_period_ms);
            let t = target.per_step(obs.step_ms, cap);
            PodMetric {
                per_pod: o.demand_per_step / o.ready_mean,
                target: t,
                fallback: t,
                whole: false,
            }
            .replicas(cur, g, tol)
        }
        Metric::TotalRate { target, per_pod } => {
            let t = target.per_step(obs.step_ms, cap);
            let usage = o.demand_per_step;
            if per_pod {
                // GetExternalPerPodMetricReplicas / GetObjectPerPodMetricReplicas.
                let ratio = usage / (t * cur as f64);
                Some(if tol.within(ratio) {
                    cur
                } else {
                    ceil_count(usage / t)
                })
            } else if cur == 0 {
                Some(ceil_count(usage / t))
            } else {
                // getUsageRatioReplicaCount: the ratio times the ready pods.
                let ratio = usage / t;
                if tol.within(ratio) {
                    return Some(cur);
                }
                let ready = if obs.pods.is_empty() {
                    obs.ready
                } else {
                    obs.pods.iter().filter(|p| p.ready_at.is_some()).count() as u32
                };
                Some(ceil_count(ratio * ready as f64))
            }
        }
    }
}

/// `computeReplicasForMetrics`: the highest proposal; `None` (hold) when no metric has a
/// measurement, or when some have none and the others would scale down.
pub(super) fn proposal(cfg: &HpaConfig, obs: &Observation<'_>) -> Option<u32> {
    let o = obs.observed?;
    let mut best: Option<u32> = None;
    let mut invalid = 0;
    for &m in &cfg.metrics {
        match metric_replicas(m, cfg, obs, &o) {
            Some(r) => best = Some(best.map_or(r, |b| b.max(r))),
            None => invalid += 1,
        }
    }
    match best {
        Some(r) if invalid > 0 && r < obs.current => None,
        b => b,
    }
}
