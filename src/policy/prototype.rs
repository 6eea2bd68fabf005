//! The prototype's five policies, with its exact semantics.

use super::{replicas_for, Bounds, Observation, ScalingPolicy};

/// A fixed number of replicas. The prototype ran it without the safety net.
#[derive(Debug, Clone)]
pub struct Static {
    pub name: String,
    pub replicas: u32,
    pub bounds: Bounds,
}

impl ScalingPolicy for Static {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, _obs: &Observation<'_>) -> u32 {
        self.bounds.clamp(self.replicas)
    }
    fn uses_safety_net(&self) -> bool {
        false
    }
}

/// `max(1, ceil(buffer · planned / C))` where `planned` is the point forecast or a
/// forecast quantile. `simple_ceiling` is buffer 1 on the point forecast, `buffered`
/// buffer 1.15, `confidence_aware` buffer 1 on a quantile (the prototype used the
/// 80 % interval's upper bound, i.e. the 0.9 quantile).
#[derive(Debug, Clone)]
pub struct ForecastCeiling {
    pub name: String,
    pub buffer: f64,
    /// Index into `QUANTILES`, or `None` for the point forecast.
    pub quantile: Option<usize>,
    pub lead: usize,
    pub bounds: Bounds,
    pub planned: f64,
}

impl ScalingPolicy for ForecastCeiling {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let Some(f) = obs.forecast else { return self.bounds.clamp(obs.current) };
        self.planned = f.planned(self.lead, self.quantile) * self.buffer;
        self.bounds.clamp(replicas_for(self.planned, obs.capacity_per_replica).max(1))
    }
    fn forecast_lead(&self) -> Option<usize> {
        Some(self.lead)
    }
    fn last_planned(&self) -> f64 {
        self.planned
    }
}

/// The prototype's `policy_aware`: one replica at a time, with a cooldown.
///
/// If fewer than `cooldown` decisions have passed since the last scaling action, keep;
/// else if pred / C > up · current, add one; else if pred / C < down · current, remove one;
/// else keep. As in the prototype, taking the scale-up or scale-down branch restarts the
/// cooldown even when the bounds stop the count from changing (at 1 replica a low
/// forecast keeps the policy in cooldown), and a safety-net action restarts it too.
#[derive(Debug, Clone)]
pub struct PolicyAware {
    pub name: String,
    pub cooldown: u64,
    pub up: f64,
    pub down: f64,
    pub lead: usize,
    pub bounds: Bounds,
    pub last_action: Option<u64>,
    pub planned: f64,
}

impl ScalingPolicy for PolicyAware {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let cur = obs.current;
        if let Some(last) = self.last_action {
            if obs.tick.saturating_sub(last) < self.cooldown {
                return cur;
            }
        }
        let Some(f) = obs.forecast else { return cur };
        self.planned = f.point(self.lead);
        let need = self.planned / obs.capacity_per_replica;
        if need > self.up * cur as f64 {
            self.last_action = Some(obs.tick);
            (cur + 1).min(self.bounds.max).max(self.bounds.min)
        } else if need < self.down * cur as f64 {
            self.last_action = Some(obs.tick);
            cur.saturating_sub(1).max(self.bounds.min).min(self.bounds.max)
        } else {
            cur
        }
    }
    fn on_external_scale(&mut self, tick: u64) {
        self.last_action = Some(tick);
    }
    fn forecast_lead(&self) -> Option<usize> {
        Some(self.lead)
    }
    fn last_planned(&self) -> f64 {
        self.planned
    }
}
