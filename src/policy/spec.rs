//! Policy configuration as written in scenario TOML, validated into policy objects.

use serde::{Deserialize, Serialize};

use super::hpa::{Hpa, HpaConfig, HpaMetric};
use super::predictive::Predictive;
use super::prototype::{ForecastCeiling, PolicyAware, Static};
use super::{level_index, Bounds, ScalingPolicy};
use crate::forecast::QUANTILES;

/// The name a unit enum variant has in configuration files (`simple_ceiling`).
pub(crate) fn serde_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Policy kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    #[default]
    Static,
    SimpleCeiling,
    Buffered,
    ConfidenceAware,
    PolicyAware,
    Hpa,
    Predictive,
}

/// One `[[policies]]` entry (after sweep axes are expanded: every value is a scalar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub kind: PolicyKind,
    /// Name in outputs; defaults to the kind.
    pub name: Option<String>,
    pub min_replicas: Option<u32>,
    pub max_replicas: Option<u32>,
    /// Apply the prototype's safety net (default: on, except for `static`).
    pub safety_net: Option<bool>,
    /// `static`: the fixed count (default 2).
    pub replicas: Option<u32>,
    /// Multiplier on the forecast (`buffered` 1.15, others 1).
    pub buffer: Option<f64>,
    /// Forecast quantile to provision for (`confidence_aware` 0.9; `predictive` point forecast).
    pub quantile: Option<f64>,
    /// Steps ahead of the decision to provision for (default 0; `predictive`: 5).
    pub lead_steps: Option<usize>,
    /// `policy_aware`: decisions to wait after a scaling action (10).
    pub cooldown: Option<u64>,
    /// `policy_aware`: scale up when pred / C > up · current (1.0).
    pub up_threshold: Option<f64>,
    /// `policy_aware`: scale down when pred / C < down · current (0.6).
    pub down_threshold: Option<f64>,
    /// `hpa` / `predictive`: target utilisation, 0–1 (0.7).
    pub target: Option<f64>,
    pub metric: Option<HpaMetric>,
    pub tolerance: Option<f64>,
    pub stabilization_up_s: Option<f64>,
    pub stabilization_down_s: Option<f64>,
    pub scale_up_pods: Option<u32>,
    pub scale_up_percent: Option<f64>,
    pub scale_up_period_s: Option<f64>,
    pub scale_down_percent: Option<f64>,
    pub scale_down_period_s: Option<f64>,
}

impl PolicySpec {
    /// The name used in outputs.
    /// A spec of `kind` with every parameter at its default.
    pub fn new(kind: PolicyKind) -> PolicySpec {
        PolicySpec {
            kind,
            ..PolicySpec::default()
        }
    }

    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| serde_name(&self.kind))
    }

    /// Keys that are set but mean nothing for this kind.
    fn stray_keys(&self) -> Vec<&'static str> {
        use PolicyKind::*;
        let k = self.kind;
        let hpa_like = matches!(k, Hpa | Predictive);
        let mut stray = Vec::new();
        let mut check = |set: bool, ok: bool, key: &'static str| {
            if set && !ok {
                stray.push(key)
            }
        };
        check(self.replicas.is_some(), k == Static, "replicas");
        check(
            self.buffer.is_some(),
            matches!(k, Buffered | ConfidenceAware | SimpleCeiling | Predictive),
            "buffer",
        );
        check(
            self.quantile.is_some(),
            matches!(k, ConfidenceAware | Predictive),
            "quantile",
        );
        check(
            self.lead_steps.is_some(),
            !matches!(k, Static | Hpa),
            "lead_steps",
        );
        check(self.cooldown.is_some(), k == PolicyAware, "cooldown");
        check(
            self.up_threshold.is_some(),
            k == PolicyAware,
            "up_threshold",
        );
        check(
            self.down_threshold.is_some(),
            k == PolicyAware,
            "down_threshold",
        );
        for (set, key) in [
            (self.target.is_some(), "target"),
            (self.metric.is_some(), "metric"),
            (self.tolerance.is_some(), "tolerance"),
            (self.stabilization_up_s.is_some(), "stabilization_up_s"),
            (self.stabilization_down_s.is_some(), "stabilization_down_s"),
            (self.scale_up_pods.is_some(), "scale_up_pods"),
            (self.scale_up_percent.is_some(), "scale_up_percent"),
            (self.scale_up_period_s.is_some(), "scale_up_period_s"),
            (self.scale_down_percent.is_some(), "scale_down_percent"),
            (self.scale_down_period_s.is_some(), "scale_down_period_s"),
        ] {
            check(set, hpa_like, key);
        }
        stray
    }

    /// Checks values; the error names the key and the allowed values.
    pub fn validate(&self) -> Result<(), String> {
        let stray = self.stray_keys();
        if !stray.is_empty() {
            return Err(format!(
                "key(s) {} do not apply to policy kind '{}'",
                stray.join(", "),
                self.display_name()
            ));
        }
        let (min, max) = (
            self.min_replicas.unwrap_or(1),
            self.max_replicas.unwrap_or(self.default_max()),
        );
        if min > max {
            return Err(format!(
                "min_replicas ({min}) is above max_replicas ({max})"
            ));
        }
        let positive = |v: Option<f64>, key: &str| match v {
            Some(x) if !(x > 0.0 && x.is_finite()) => {
                Err(format!("{key} must be a positive number, got {x}"))
            }
            _ => Ok(()),
        };
        positive(self.buffer, "buffer")?;
        positive(self.target, "target")?;
        positive(self.up_threshold, "up_threshold")?;
        positive(self.down_threshold, "down_threshold")?;
        if let Some(q) = self.quantile {
            if level_index(q).is_none() {
                return Err(format!(
                    "quantile {q} is not one the forecasts carry: use one of {QUANTILES:?}"
                ));
            }
        }
        if let Some(t) = self.tolerance {
            if !(0.0..1.0).contains(&t) {
                return Err(format!("tolerance must be in [0, 1), got {t}"));
            }
        }
        Ok(())
    }

    fn default_max(&self) -> u32 {
        // The prototype capped policy_aware at 20 replicas and left the others unbounded.
        if self.kind == PolicyKind::PolicyAware {
            20
        } else {
            10_000
        }
    }

    fn hpa_config(&self) -> HpaConfig {
        let d = HpaConfig::default();
        let ms = |s: Option<f64>, def: u64| s.map_or(def, |v| (v * 1000.0).round() as u64);
        HpaConfig {
            target: self.target.unwrap_or(d.target),
            metric: self.metric.unwrap_or(d.metric),
            tolerance: self.tolerance.unwrap_or(d.tolerance),
            stabilization_up_ms: ms(self.stabilization_up_s, d.stabilization_up_ms),
            stabilization_down_ms: ms(self.stabilization_down_s, d.stabilization_down_ms),
            up_pods: self.scale_up_pods.unwrap_or(d.up_pods),
            up_percent: self.scale_up_percent.unwrap_or(d.up_percent),
            up_period_ms: ms(self.scale_up_period_s, d.up_period_ms),
            down_percent: self.scale_down_percent.unwrap_or(d.down_percent),
            down_period_ms: ms(self.scale_down_period_s, d.down_period_ms),
        }
    }

    /// The replica bounds the policy clamps to.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            min: self.min_replicas.unwrap_or(1),
            max: self.max_replicas.unwrap_or(self.default_max()),
        }
    }

    /// Builds a fresh policy object (call [`validate`](Self::validate) first).
    pub fn build(&self) -> Box<dyn ScalingPolicy> {
        let name = self.display_name();
        let bounds = self.bounds();
        let lead = self.lead_steps.unwrap_or(0);
        let qi = self.quantile.and_then(level_index);
        let mut p: Box<dyn ScalingPolicy> = match self.kind {
            PolicyKind::Static => Box::new(Static {
                name,
                replicas: self.replicas.unwrap_or(2),
                bounds,
            }),
            PolicyKind::SimpleCeiling => Box::new(ForecastCeiling {
                name,
                buffer: self.buffer.unwrap_or(1.0),
                quantile: None,
                lead,
                bounds,
                planned: f64::NAN,
            }),
            PolicyKind::Buffered => Box::new(ForecastCeiling {
                name,
                buffer: self.buffer.unwrap_or(1.15),
                quantile: None,
                lead,
                bounds,
                planned: f64::NAN,
            }),
            PolicyKind::ConfidenceAware => Box::new(ForecastCeiling {
                name,
                buffer: self.buffer.unwrap_or(1.0),
                quantile: Some(qi.unwrap_or_else(|| level_index(0.9).unwrap())),
                lead,
                bounds,
                planned: f64::NAN,
            }),
            PolicyKind::PolicyAware => Box::new(PolicyAware {
                name,
                cooldown: self.cooldown.unwrap_or(10),
                up: self.up_threshold.unwrap_or(1.0),
                down: self.down_threshold.unwrap_or(0.6),
                lead,
                bounds,
                last_action: None,
                planned: f64::NAN,
            }),
            PolicyKind::Hpa => Box::new(Hpa::new(name, self.hpa_config(), bounds)),
            PolicyKind::Predictive => Box::new(Predictive {
                reactive: Hpa::new(format!("{name}/reactive"), self.hpa_config(), bounds),
                name,
                lead: self.lead_steps.unwrap_or(5),
                quantile: qi,
                buffer: self.buffer.unwrap_or(1.0),
                planned: f64::NAN,
            }),
        };
        if let Some(on) = self.safety_net {
            p = Box::new(SafetyOverride { inner: p, on });
        }
        p
    }
}

/// A policy whose safety-net setting was overridden in the scenario.
#[derive(Debug)]
struct SafetyOverride {
    inner: Box<dyn ScalingPolicy>,
    on: bool,
}

impl ScalingPolicy for SafetyOverride {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn decide(&mut self, obs: &super::Observation<'_>) -> u32 {
        self.inner.decide(obs)
    }
    fn on_external_scale(&mut self, tick: u64) {
        self.inner.on_external_scale(tick)
    }
    fn uses_safety_net(&self) -> bool {
        self.on
    }
    fn forecast_lead(&self) -> Option<usize> {
        self.inner.forecast_lead()
    }
    fn last_planned(&self) -> f64 {
        self.inner.last_planned()
    }
}
