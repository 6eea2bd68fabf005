//! The Kubernetes Horizontal Pod Autoscaler algorithm (autoscaling/v2 semantics):
//! desired = ceil(ready · metric / target) outside a tolerance band, a scale-down
//! stabilisation window (the highest recommendation in it), and scale-up / scale-down
//! rate policies per period (`selectPolicy: Max`). It reacts to observations only.

use std::collections::VecDeque;

use super::{Bounds, Observation, ScalingPolicy};
use crate::time::SimTime;

/// What the HPA measures against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HpaMetric {
    /// Busy share of ready capacity (saturates at 1, like CPU utilisation).
    Utilization,
    /// Arrivals per ready replica over capacity (does not saturate, like a request-rate metric).
    RequestRate,
}

/// HPA parameters; defaults follow Kubernetes.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaConfig {
    pub target: f64,
    pub metric: HpaMetric,
    pub tolerance: f64,
    pub stabilization_up_ms: u64,
    pub stabilization_down_ms: u64,
    pub up_pods: u32,
    pub up_percent: f64,
    pub up_period_ms: u64,
    pub down_percent: f64,
    pub down_period_ms: u64,
}

impl Default for HpaConfig {
    fn default() -> Self {
        HpaConfig {
            target: 0.7,
            metric: HpaMetric::Utilization,
            tolerance: 0.1,
            stabilization_up_ms: 0,
            stabilization_down_ms: 300_000,
            up_pods: 4,
            up_percent: 100.0,
            up_period_ms: 15_000,
            down_percent: 100.0,
            down_period_ms: 15_000,
        }
    }
}

/// The HPA controller state.
#[derive(Debug, Clone)]
pub struct Hpa {
    pub name: String,
    pub cfg: HpaConfig,
    pub bounds: Bounds,
    recommendations: VecDeque<(SimTime, u32)>,
    changes: VecDeque<(SimTime, i64)>,
}

impl Hpa {
    pub fn new(name: String, cfg: HpaConfig, bounds: Bounds) -> Hpa {
        Hpa {
            name,
            cfg,
            bounds,
            recommendations: VecDeque::new(),
            changes: VecDeque::new(),
        }
    }

    /// The unstabilised recommendation from the metric.
    fn raw(&self, obs: &Observation<'_>) -> Option<u32> {
        let o = obs.observed?;
        let ready = if obs.ready > 0 {
            obs.ready
        } else {
            obs.current.max(1)
        };
        let metric = match self.cfg.metric {
            HpaMetric::Utilization => o.utilization.min(1.0),
            HpaMetric::RequestRate => o.demand_per_step / (ready as f64 * obs.capacity_per_replica),
        };
        if !metric.is_finite() {
            return None;
        }
        let ratio = metric / self.cfg.target;
        if (ratio - 1.0).abs() <= self.cfg.tolerance {
            return Some(obs.current);
        }
        Some((ready as f64 * ratio).ceil().max(0.0) as u32)
    }

    fn changed_within(&self, now: SimTime, period: u64, up: bool) -> i64 {
        self.changes
            .iter()
            .filter(|(t, d)| now - *t < period && (*d > 0) == up)
            .map(|(_, d)| d.abs())
            .sum()
    }
}

impl ScalingPolicy for Hpa {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now;
        let cur = obs.current;
        let Some(raw) = self.raw(obs) else { return cur };
        let raw = self.bounds.clamp(raw);
        let keep = self
            .cfg
            .stabilization_down_ms
            .max(self.cfg.stabilization_up_ms);
        self.recommendations.push_back((now, raw));
        while self
            .recommendations
            .front()
            .is_some_and(|(t, _)| now - *t > keep)
        {
            self.recommendations.pop_front();
        }
        let within = |w: u64| {
            self.recommendations
                .iter()
                .filter(move |(t, _)| now - *t <= w)
                .map(|r| r.1)
        };
        let up_rec = within(self.cfg.stabilization_up_ms).min().unwrap_or(raw);
        let down_rec = within(self.cfg.stabilization_down_ms).max().unwrap_or(raw);
        let mut desired = cur;
        if desired < up_rec {
            desired = up_rec;
        }
        if desired > down_rec {
            desired = down_rec;
        }
        if desired > cur {
            let start = cur as i64 - self.changed_within(now, self.cfg.up_period_ms, true);
            let by_pods = start + self.cfg.up_pods as i64;
            let by_pct = (start as f64 * (1.0 + self.cfg.up_percent / 100.0)).ceil() as i64;
            desired = desired.min(by_pods.max(by_pct).max(0) as u32);
        } else if desired < cur {
            let start = cur as i64 + self.changed_within(now, self.cfg.down_period_ms, false);
            let limit = (start as f64 * (1.0 - self.cfg.down_percent / 100.0)).ceil() as i64;
            desired = desired.max(limit.max(0) as u32);
        }
        let desired = self.bounds.clamp(desired);
        if desired != cur {
            self.changes.push_back((now, desired as i64 - cur as i64));
        }
        let horizon = self.cfg.up_period_ms.max(self.cfg.down_period_ms);
        while self
            .changes
            .front()
            .is_some_and(|(t, _)| now - *t > horizon)
        {
            self.changes.pop_front();
        }
        desired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Observed;

    fn obs(tick: u64, now_s: u64, current: u32, utilization: f64) -> Observation<'static> {
        Observation {
            tick,
            now: SimTime(now_s * 1000),
            current,
            ready: current,
            pending: 0,
            capacity_per_replica: 10.0,
            step_ms: 60_000,
            forecast: None,
            observed: Some(Observed {
                demand_per_step: 0.0,
                utilization,
                latency_p95_ms: 0.0,
                cpu_pct: 0.0,
            }),
        }
    }

    fn hpa() -> Hpa {
        Hpa::new(
            "hpa".into(),
            HpaConfig::default(),
            Bounds { min: 1, max: 100 },
        )
    }

    #[test]
    fn tolerance_band_keeps_the_count() {
        let mut h = hpa();
        assert_eq!(h.decide(&obs(0, 0, 4, 0.75)), 4); // ratio 1.07 within 0.1
        assert_eq!(h.decide(&obs(1, 60, 4, 1.0)), 6); // ceil(4 · 1/0.7)
    }

    #[test]
    fn scale_up_is_rate_limited() {
        let mut h = hpa();
        h.cfg.metric = HpaMetric::RequestRate;
        let mut o = obs(0, 0, 2, 0.0);
        o.observed.as_mut().unwrap().demand_per_step = 2.0 * 10.0 * 10.0; // 10× capacity
                                                                          // raw = ceil(2 · 10 / 0.7) = 29, limited to max(2 + 4, 2 · 2) = 6.
        assert_eq!(h.decide(&o), 6);
    }

    #[test]
    fn scale_down_waits_for_the_stabilisation_window() {
        let mut h = hpa();
        assert_eq!(h.decide(&obs(0, 0, 10, 0.7)), 10);
        // Load drops: the 300 s window still holds the recommendation of 10.
        assert_eq!(h.decide(&obs(1, 60, 10, 0.06)), 10);
        assert_eq!(h.decide(&obs(2, 240, 10, 0.06)), 10);
        // After 300 s the old recommendation has left the window.
        assert_eq!(h.decide(&obs(3, 301, 10, 0.06)), 1);
    }
}
