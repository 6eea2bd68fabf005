//! `optimal`: the least-cost schedule that serves all demand, replayed — the bound of
//! [`crate::sim::optimal`] as a runnable policy. It is told the whole test window's demand
//! before the run ([`ScalingPolicy::foresee`]) and sets, at each decision, the target of
//! [`optimal_schedule`]: perfect foresight, so a sweep's reference point, never a live
//! policy (`sim live` refuses it). In fluid mode it pays exactly the bound and serves every
//! step it can (demand needed before any replica could start is late whatever one does);
//! in request mode it provisions for each step's demand, and request-level bursts within a
//! step can still queue.

use super::{Bounds, Observation, ScalingPolicy};
use crate::sim::optimal::optimal_schedule;
use crate::sim::SimConfig;

#[derive(Debug, Clone)]
pub struct Optimal {
    pub name: String,
    pub bounds: Bounds,
    schedule: Vec<u32>,
    decision_ms: u64,
}

impl Optimal {
    pub fn new(name: String, bounds: Bounds) -> Optimal {
        Optimal {
            name,
            bounds,
            schedule: Vec::new(),
            decision_ms: 1,
        }
    }
}

impl ScalingPolicy for Optimal {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let k = (obs.now.ms() / self.decision_ms) as usize;
        let want = self
            .schedule
            .get(k)
            .or(self.schedule.last())
            .copied()
            .unwrap_or(obs.current);
        self.bounds.clamp(want)
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    /// It needs no metrics: an outage does not stop it.
    fn reads_failed_metrics(&self) -> bool {
        true
    }

    fn foresee(&mut self, demand: &[f64], cfg: &SimConfig) {
        self.decision_ms = cfg.decision_interval_ms.max(cfg.step_ms).max(1);
        self.schedule = optimal_schedule(cfg, demand);
    }
}
