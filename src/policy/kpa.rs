//! Knative's Pod Autoscaler (KPA), following Knative Serving 1.16
//! (`pkg/autoscaler/scaling/autoscaler.go`, the decider; `pkg/reconciler/autoscaling/kpa`,
//! the scaler and the PodAutoscaler's active condition) and the `config-autoscaler`
//! defaults.
//!
//! Every tick (2 s): the metric — concurrency (requests in flight, in the pods and the
//! activator) or requests per second — averaged over the stable window (60 s) and the
//! panic window (10 % of it), both over the time the metric has been collected when that
//! is shorter, goes to the [`decider`]. Its count is clamped to `[min-scale, max-scale]`
//! (and to the initial scale until that has been reached once), then scale to zero is
//! gated as the reconciler does: a PodAutoscaler asked for zero while active for less
//! than a stable window keeps one pod; once active that long it turns inactive (the
//! activator goes into the path) and scales to zero when it has been inactive for the
//! `scale-to-zero-grace-period` (30 s) and the pod-retention period — or at once when the
//! activator has already been in the path for the grace period (excess burst capacity
//! negative). A revision asked for pods while inactive is activating until one is ready;
//! if it asks for zero while activating it holds, and gives up after the progress
//! deadline (600 s + 10 s).
//!
//! Not modelled: the activator's own load balancing (the simulator's shared queue plays
//! it whether or not it is in the path), metric scraping delay, and revisions (one
//! revision, always reachable).

pub mod decider;
#[cfg(test)]
mod golden;

use std::collections::VecDeque;

use super::{Bounds, Observation, ScalingPolicy};
use crate::time::SimTime;
pub use decider::{Decider, DeciderSpec, ScaleResult};

/// What the KPA scales on (`autoscaling.knative.dev/metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpaMetric {
    Concurrency,
    Rps,
}

/// The KPA's resolved settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KpaConfig {
    pub metric: KpaMetric,
    pub decider: DeciderSpec,
    pub panic_window_ms: u64,
    pub tick_ms: u64,
    pub enable_scale_to_zero: bool,
    pub scale_to_zero_grace_ms: u64,
    pub pod_retention_ms: u64,
    /// `initial-scale` (1).
    pub initial_scale: u32,
    /// How long activation may take before the revision gives up (progress deadline).
    pub activation_timeout_ms: u64,
}

/// The PodAutoscaler's `Active` condition, with when it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    /// Active=True since.
    Active(SimTime),
    /// Active=False since: no traffic, the activator in the path.
    Inactive(SimTime),
    /// Active=Unknown since: pods asked for, none ready yet.
    Activating(SimTime),
}

/// A time-weighted series of the metric, one sample per observation interval.
#[derive(Debug, Clone, Default)]
struct Window {
    /// `(end, length, value)` of each interval.
    samples: VecDeque<(u64, u64, f64)>,
    /// Start of the first sample (the collector's first write).
    first_ms: Option<u64>,
}

impl Window {
    fn record(&mut self, end_ms: u64, len_ms: u64, v: f64, keep_ms: u64) {
        self.first_ms.get_or_insert(end_ms.saturating_sub(len_ms));
        self.samples.push_back((end_ms, len_ms, v));
        while let Some(&(e, _, _)) = self.samples.front() {
            if e + keep_ms < end_ms {
                self.samples.pop_front();
            } else {
                break;
            }
        }
    }

    /// The average over the last `window_ms` before `now_ms`, or over the time since the
    /// first sample when that is shorter.
    fn average(&self, now_ms: u64, window_ms: u64) -> f64 {
        let since = self.first_ms.map_or(0, |f| now_ms.saturating_sub(f));
        let span = window_ms.min(since);
        if span == 0 {
            return 0.0;
        }
        let lo = now_ms - span;
        let total: f64 = self
            .samples
            .iter()
            .map(|&(e, len, v)| {
                let (a, b) = (e.saturating_sub(len).max(lo), e.min(now_ms));
                if b > a {
                    v * (b - a) as f64
                } else {
                    0.0
                }
            })
            .sum();
        total / span as f64
    }
}

/// The KPA for one revision.
#[derive(Debug, Clone)]
pub struct Kpa {
    pub name: String,
    pub cfg: KpaConfig,
    pub bounds: Bounds,
    decider: Option<Decider>,
    window: Window,
    state: Option<Condition>,
    /// Since when the activator has been in the path (`None`: it is not).
    proxy_since: Option<SimTime>,
    /// The ready pods have reached the initial scale once.
    initialized: bool,
    last: Option<ScaleResult>,
}

impl Kpa {
    pub fn new(name: String, cfg: KpaConfig, bounds: Bounds) -> Kpa {
        Kpa {
            name,
            cfg,
            bounds,
            decider: None,
            window: Window::default(),
            state: None,
            proxy_since: None,
            initialized: false,
            last: None,
        }
    }

    /// The last decision's excess burst capacity (negative: the activator is in the path).
    pub fn last_result(&self) -> Option<ScaleResult> {
        self.last
    }

    /// The metric of one observation: total concurrency, or requests per second.
    fn metric(&self, obs: &Observation<'_>) -> Option<(u64, f64)> {
        let o = obs.observed?;
        let v = match self.cfg.metric {
            KpaMetric::Concurrency => o.concurrency,
            KpaMetric::Rps => o.demand_per_step * 1000.0 / obs.step_ms as f64,
        };
        Some((o.window_ms, v))
    }

    /// Min-scale, raised to the initial scale until it has been reached.
    fn min_scale(&self) -> u32 {
        if self.cfg.initial_scale > 1 && !self.initialized {
            self.bounds.min.max(self.cfg.initial_scale)
        } else {
            self.bounds.min
        }
    }

    /// `handleScaleToZero`: the count to apply (`None`: hold the current one) and the
    /// scale the PodAutoscaler reports (-1: unknown, while activating).
    fn gate_zero(&mut self, now: SimTime, want: u32) -> (Option<u32>, i64) {
        if want != 0 {
            return (Some(want), want as i64);
        }
        if !self.cfg.enable_scale_to_zero {
            return (Some(1), 1);
        }
        let c = &self.cfg;
        match self.state {
            Some(Condition::Activating(since)) => {
                if now.ms() >= since.ms() + c.activation_timeout_ms {
                    (Some(0), 0)
                } else {
                    (None, -1)
                }
            }
            Some(Condition::Active(since)) => {
                if now.ms() >= since.ms() + c.decider.stable_window_ms {
                    // Reported as 0: the PodAutoscaler turns inactive, the activator goes
                    // into the path, and the next decision may scale to zero.
                    (None, 0)
                } else {
                    // At most one pod for the rest of the stable window.
                    (Some(1), 1)
                }
            }
            Some(Condition::Inactive(since)) => {
                let inactive = now.ms() - since.ms();
                let grace = c.scale_to_zero_grace_ms;
                if inactive >= grace.max(c.pod_retention_ms) {
                    return (Some(0), 0);
                }
                if inactive < c.pod_retention_ms {
                    return (None, 0);
                }
                // Fast path: the activator has been in the path for the grace period.
                let proxied = self.proxy_since.map_or(0, |p| now.ms() - p.ms());
                ((proxied >= grace).then_some(0), 0)
            }
            // No pods and never active: nothing to scale down.
            None => (Some(0), 0),
        }
    }

    /// `computeActiveCondition` after a decision that reported `want` with `ready` pods.
    fn update_state(&mut self, now: SimTime, want: i64, ready: u32) {
        let min_ready = if self.initialized {
            self.bounds.min.max(1)
        } else {
            self.bounds.min.max(self.cfg.initial_scale)
        };
        if ready >= min_ready && min_ready > 0 {
            self.initialized = true;
        }
        let inactive = matches!(self.state, Some(Condition::Inactive(_)));
        let next = if want == 0 || min_ready == 0 {
            Condition::Inactive(now)
        } else if ready < min_ready {
            if want > 0 || !inactive {
                Condition::Activating(now)
            } else {
                Condition::Inactive(now)
            }
        } else if want > 0 || !inactive {
            Condition::Active(now)
        } else {
            Condition::Inactive(now)
        };
        // A condition keeps its transition time while it holds.
        let same = matches!(
            (self.state, next),
            (Some(Condition::Active(_)), Condition::Active(_))
                | (Some(Condition::Inactive(_)), Condition::Inactive(_))
                | (Some(Condition::Activating(_)), Condition::Activating(_))
        );
        if !same {
            self.state = Some(next);
        }
    }
}

impl ScalingPolicy for Kpa {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now;
        let c = &self.cfg;
        let keep = c.decider.stable_window_ms.max(c.panic_window_ms);
        if self.decider.is_none() {
            self.decider = Some(Decider::new(c.decider.clone(), obs.ready, now));
        }
        if self.state.is_none() && obs.current > 0 {
            self.state = Some(if obs.ready > 0 {
                Condition::Active(now)
            } else {
                Condition::Activating(now)
            });
        }
        let (sw, pw) = (c.decider.stable_window_ms, c.panic_window_ms);
        let metric = self.metric(obs).map(|(len, v)| {
            self.window.record(now.ms(), len, v, keep);
            (
                self.window.average(now.ms(), sw),
                self.window.average(now.ms(), pw),
            )
        });
        // No data yet: the decision is invalid and nothing changes.
        let Some((stable, panic)) = metric else {
            return obs.current;
        };
        let r = self
            .decider
            .as_mut()
            .expect("made at the first decision")
            .scale(now, obs.ready, stable, panic);
        self.last = Some(r);
        // The activator is in the path while the burst capacity is short, or inactive.
        let in_path =
            r.excess_burst_capacity < 0 || matches!(self.state, Some(Condition::Inactive(_)));
        match (in_path, self.proxy_since) {
            (true, None) => self.proxy_since = Some(now),
            (false, Some(_)) => self.proxy_since = None,
            _ => {}
        }
        let max = self.bounds.max;
        let want = r.desired.max(self.min_scale()).min(max);
        let (applied, reported) = self.gate_zero(now, want);
        self.update_state(now, reported, obs.ready);
        applied.unwrap_or(obs.current)
    }

    /// The KPA alone; the prototype's safety net is opt-in.
    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        Some(self.cfg.tick_ms)
    }
}
