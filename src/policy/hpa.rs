//! The Kubernetes Horizontal Pod Autoscaler, following upstream Kubernetes 1.34
//! (`pkg/controller/podautoscaler`: `horizontal.go`, `replica_calculator.go`) and the
//! `autoscaling/v2` API defaults.
//!
//! Each sync (every `sync_period`, 15 s by default — the policy's own decision interval,
//! inside a trace step when the step is longer): a replica count outside
//! `[minReplicas, maxReplicas]` is brought inside at once, without metrics; otherwise each
//! metric proposes a count (the replica calculator, [`replicas`]) and the highest wins, the
//! proposal is stabilised and rate-limited ([`rate`]) — by `behavior` when the spec has one,
//! else by the legacy rules (highest recommendation of the last 300 s, scale-up at most
//! `max(2·current, 4)` per sync) — and scale events are remembered for the rate periods.
//! The first sync records the current count as a recommendation, so a deployment that
//! starts large holds for the scale-down window. Metrics missing altogether hold the count.
//!
//! Not modelled: pods that turn unready after having been ready (simulated replicas never
//! do), so upstream's initial-readiness delay has no case to act on; per-metric failures
//! other than "no pod has a measurement".

pub mod config;
#[cfg(test)]
mod golden;
mod rate;
mod replicas;

use super::{Bounds, Observation, ScalingPolicy};
pub use config::{HpaConfig, Metric, Rate};

/// The HPA controller state for one target.
#[derive(Debug, Clone)]
pub struct Hpa {
    pub name: String,
    pub cfg: HpaConfig,
    pub bounds: Bounds,
    history: rate::History,
    started: bool,
}

impl Hpa {
    pub fn new(name: String, cfg: HpaConfig, bounds: Bounds) -> Hpa {
        Hpa {
            name,
            cfg,
            bounds,
            history: rate::History::default(),
            started: false,
        }
    }

    /// The count the metrics ask for, stabilised and rate-limited; `current` when the
    /// metrics cannot be computed.
    fn metrics_recommendation(&mut self, obs: &Observation<'_>) -> u32 {
        let cur = obs.current;
        let Some(proposal) = replicas::proposal(&self.cfg, obs) else {
            return cur;
        };
        let bounds = (self.bounds.min, self.bounds.max);
        match &self.cfg.behavior {
            None => self.history.normalize_legacy(
                obs.now,
                cur,
                proposal,
                self.cfg.downscale_stabilization_ms,
                bounds,
            ),
            Some(b) => self.history.normalize(obs.now, cur, proposal, b, bounds),
        }
    }
}

impl ScalingPolicy for Hpa {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let cur = obs.current;
        if !self.started {
            self.history.start(obs.now, cur);
            self.started = true;
        }
        let desired = if cur == 0 && self.bounds.min != 0 {
            0 // scaled to zero by hand: upstream disables autoscaling
        } else if cur > self.bounds.max {
            self.bounds.max
        } else if cur < self.bounds.min {
            self.bounds.min
        } else {
            self.metrics_recommendation(obs)
        };
        if let Some(b) = &self.cfg.behavior {
            self.history.store_event(obs.now, cur, desired, b);
        }
        desired
    }

    /// The HPA is upstream's controller alone; the prototype's safety net is opt-in.
    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        Some(self.cfg.sync_period_ms)
    }
}
