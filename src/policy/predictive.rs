//! Predictive scaling in the style of AWS predictive scaling: the forecast for
//! `lead` steps ahead (at least the replica start-up time) sets a floor that only
//! ever scales out; a reactive HPA above the floor does the scaling in.

use super::hpa::Hpa;
use super::{replicas_for, Observation, ScalingPolicy};

#[derive(Debug, Clone)]
pub struct Predictive {
    pub name: String,
    /// Steps ahead of the decision that the capacity must be ready for.
    pub lead: usize,
    /// Quantile index into `QUANTILES`, or `None` for the point forecast.
    pub quantile: Option<usize>,
    /// Multiplier on the forecast.
    pub buffer: f64,
    /// The reactive policy that handles everything above the floor (and scale-in).
    pub reactive: Hpa,
    /// Utilisation the floor provisions for (0.7).
    pub target: f64,
    pub planned: f64,
}

impl ScalingPolicy for Predictive {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let reactive = self.reactive.decide(obs);
        let floor = obs.forecast.map_or(0, |f| {
            self.planned = f.planned(self.lead, self.quantile) * self.buffer;
            replicas_for(self.planned / self.target, obs.capacity_per_replica)
        });
        self.reactive.bounds.clamp(reactive.max(floor))
    }
    fn forecast_lead(&self) -> Option<usize> {
        Some(self.lead)
    }
    fn last_planned(&self) -> f64 {
        self.planned
    }
}
