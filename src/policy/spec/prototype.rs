//! The settings of the prototype's policies: `static`, `simple_ceiling`, `buffered`,
//! `confidence_aware` and `policy_aware`.

use serde::{Deserialize, Serialize};

use super::hpa::quantile_known;
use super::positive;

/// `kind = "static"`: a fixed count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StaticParams {
    /// The count (2).
    pub replicas: Option<u32>,
}

/// `kind = "simple_ceiling"` and `kind = "buffered"`: `ceil(buffer · forecast / C)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CeilingParams {
    /// Multiplier on the forecast (`buffered` 1.15, `simple_ceiling` 1).
    pub buffer: Option<f64>,
    /// Steps ahead of the decision to provision for (0).
    pub lead_steps: Option<usize>,
}

/// `kind = "confidence_aware"`: the ceiling on a forecast quantile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct QuantileCeilingParams {
    /// Multiplier on the quantile (1).
    pub buffer: Option<f64>,
    /// Forecast quantile to provision for (0.9: the 80 % interval's upper bound).
    pub quantile: Option<f64>,
    /// Steps ahead of the decision to provision for (0).
    pub lead_steps: Option<usize>,
}

/// `kind = "policy_aware"`: thresholds with a cooldown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicyAwareParams {
    /// Decisions to wait after a scaling action (10).
    pub cooldown: Option<u64>,
    /// Scale up when pred / C > up · current (1.0).
    pub up_threshold: Option<f64>,
    /// Scale down when pred / C < down · current (0.6).
    pub down_threshold: Option<f64>,
    /// Steps ahead of the decision to provision for (0).
    pub lead_steps: Option<usize>,
}

impl CeilingParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        positive(self.buffer, "buffer")
    }
}

impl QuantileCeilingParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        positive(self.buffer, "buffer")?;
        quantile_known(self.quantile)
    }
}

impl PolicyAwareParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        positive(self.up_threshold, "up_threshold")?;
        positive(self.down_threshold, "down_threshold")
    }
}

use crate::policy::level_index;
use crate::policy::prototype::{ForecastCeiling, PolicyAware, Static};
use crate::policy::{Bounds, ScalingPolicy};

impl StaticParams {
    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(Static {
            name,
            replicas: self.replicas.unwrap_or(2),
            bounds,
        })
    }
}

impl CeilingParams {
    /// `default_buffer`: the kind's (`buffered` 1.15, `simple_ceiling` 1).
    pub(super) fn build(
        &self,
        name: String,
        bounds: Bounds,
        default_buffer: f64,
    ) -> Box<dyn ScalingPolicy> {
        Box::new(ForecastCeiling {
            name,
            buffer: self.buffer.unwrap_or(default_buffer),
            quantile: None,
            lead: self.lead_steps.unwrap_or(0),
            bounds,
            planned: f64::NAN,
        })
    }
}

impl QuantileCeilingParams {
    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(ForecastCeiling {
            name,
            buffer: self.buffer.unwrap_or(1.0),
            quantile: Some(
                self.quantile
                    .and_then(level_index)
                    .unwrap_or_else(|| level_index(0.9).expect("0.9 is a quantile")),
            ),
            lead: self.lead_steps.unwrap_or(0),
            bounds,
            planned: f64::NAN,
        })
    }
}

impl PolicyAwareParams {
    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(PolicyAware {
            name,
            cooldown: self.cooldown.unwrap_or(10),
            up: self.up_threshold.unwrap_or(1.0),
            down: self.down_threshold.unwrap_or(0.6),
            lead: self.lead_steps.unwrap_or(0),
            bounds,
            last_action: None,
            planned: f64::NAN,
        })
    }
}
