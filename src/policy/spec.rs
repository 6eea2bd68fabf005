//! Policy configuration as written in scenario TOML, validated into policy objects.

use serde::{Deserialize, Serialize};

use super::hpa::config::{
    Behavior, BehaviorSpec, Metric, MetricSpec, Quantity, Rate, Rule, RuleKind, Rules, RulesSpec,
    SelectPolicy, Tolerances,
};
use super::hpa::{Hpa, HpaConfig};
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

/// What the `metric` shorthand of `hpa` / `predictive` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HpaMetric {
    /// CPU utilisation of the request (the busy share; `Resource` cpu, `Utilization`).
    Utilization,
    /// Arrivals per pod over the replica's capacity (`Pods`, `AverageValue`).
    RequestRate,
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
    /// `hpa` / `predictive`: target of the `metric` shorthand, a share of the request
    /// (CPU) or of the replica's capacity (request rate); `hpa` 0.8 (autoscaling/v2's
    /// default), `predictive` 0.7.
    pub target: Option<f64>,
    /// `hpa` / `predictive`: one metric, the short way (`metrics` is the long one).
    pub metric: Option<HpaMetric>,
    /// `hpa`: `spec.metrics` as an `autoscaling/v2` manifest writes it.
    pub metrics: Option<Vec<MetricSpec>>,
    /// `hpa`: `spec.behavior` as an `autoscaling/v2` manifest writes it.
    pub behavior: Option<BehaviorSpec>,
    /// The controller's tolerance (`--horizontal-pod-autoscaler-tolerance`, 0.1).
    pub tolerance: Option<f64>,
    /// `hpa`: seconds between syncs (`--horizontal-pod-autoscaler-sync-period`, 15).
    pub sync_period_s: Option<f64>,
    /// Scale-down window without `behavior` (`--horizontal-pod-autoscaler-downscale-stabilization`, 300).
    pub downscale_stabilization_s: Option<f64>,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (300).
    pub cpu_initialization_period_s: Option<f64>,
    /// CPU limit over request (1): a saturated replica's utilisation is 100 × this %.
    pub cpu_limit_ratio: Option<f64>,
    // A `behavior` written flat (seconds may be fractional); one scale-up period serves
    // both default scale-up policies.
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
        check(self.sync_period_s.is_some(), k == Hpa, "sync_period_s");
        for (set, key) in [
            (self.target.is_some(), "target"),
            (self.metric.is_some(), "metric"),
            (self.metrics.is_some(), "metrics"),
            (self.behavior.is_some(), "behavior"),
            (
                self.downscale_stabilization_s.is_some(),
                "downscale_stabilization_s",
            ),
            (
                self.cpu_initialization_period_s.is_some(),
                "cpu_initialization_period_s",
            ),
            (self.cpu_limit_ratio.is_some(), "cpu_limit_ratio"),
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
        if max > crate::sim::MAX_REPLICAS {
            return Err(format!(
                "max_replicas ({max}) is over the simulator's limit of {} replicas",
                crate::sim::MAX_REPLICAS
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
        positive(self.sync_period_s, "sync_period_s")?;
        if let Some(r) = self.cpu_limit_ratio {
            if !(r >= 1.0 && r.is_finite()) {
                return Err(format!(
                    "cpu_limit_ratio is the CPU limit over the request and must be at least 1, got {r}"
                ));
            }
        }
        for (v, key) in [
            (self.downscale_stabilization_s, "downscale_stabilization_s"),
            (
                self.cpu_initialization_period_s,
                "cpu_initialization_period_s",
            ),
            (self.stabilization_up_s, "stabilization_up_s"),
            (self.stabilization_down_s, "stabilization_down_s"),
        ] {
            if let Some(x) = v {
                crate::time::ms_from_secs(x, key)?;
            }
        }
        positive(self.scale_up_period_s, "scale_up_period_s")?;
        positive(self.scale_down_period_s, "scale_down_period_s")?;
        if let Some(b) = &self.behavior {
            for (r, dir) in [(&b.scale_up, "scaleUp"), (&b.scale_down, "scaleDown")] {
                if let Some(r) = r {
                    r.validate(dir)?;
                }
            }
        }
        if matches!(self.kind, PolicyKind::Hpa | PolicyKind::Predictive) {
            self.hpa_config()?;
        }
        Ok(())
    }

    /// Whether a flat `behavior` key (`scale_up_pods`, `stabilization_down_s`, …) is set.
    fn flat_behavior(&self) -> bool {
        self.stabilization_up_s.is_some()
            || self.stabilization_down_s.is_some()
            || self.scale_up_pods.is_some()
            || self.scale_up_percent.is_some()
            || self.scale_up_period_s.is_some()
            || self.scale_down_percent.is_some()
            || self.scale_down_period_s.is_some()
    }

    fn default_max(&self) -> u32 {
        // The prototype capped policy_aware at 20 replicas and left the others unbounded.
        if self.kind == PolicyKind::PolicyAware {
            20
        } else {
            10_000
        }
    }

    /// The `metrics` list, or the one metric of the `metric` / `target` shorthand.
    fn hpa_metrics(&self) -> Result<Vec<Metric>, String> {
        let default_target = if self.kind == PolicyKind::Predictive {
            PREDICTIVE_TARGET
        } else {
            super::hpa::config::DEFAULT_CPU_TARGET_PCT as f64 / 100.0
        };
        match &self.metrics {
            Some(_) if self.metric.is_some() || self.target.is_some() => Err(
                "`metrics` and the `metric` / `target` shorthand cannot both be set: \
                 give the target inside `metrics`"
                    .into(),
            ),
            // An empty list takes the API default, as upstream's defaulting does.
            Some(list) if list.is_empty() => Ok(HpaConfig::default().metrics),
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, m)| m.resolve().map_err(|e| format!("metrics[{i}]: {e}")))
                .collect(),
            None => {
                let t = self.target.unwrap_or(default_target);
                Ok(vec![match self.metric.unwrap_or(HpaMetric::Utilization) {
                    HpaMetric::Utilization => Metric::CpuUtilization {
                        target_pct: ((t * 100.0).round() as u32).max(1),
                    },
                    HpaMetric::RequestRate => Metric::PodRate {
                        target: Rate::ShareOfCapacity(t),
                    },
                }])
            }
        }
    }

    /// `behavior` from the manifest-shaped table or the flat keys; `None` without either.
    fn hpa_behavior(&self, downscale_ms: u64) -> Result<Option<Behavior>, String> {
        match (&self.behavior, self.flat_behavior()) {
            (Some(_), true) => Err(
                "`behavior` and the flat keys (stabilization_*_s, scale_up_*, scale_down_*) \
                 cannot both be set: write the whole behavior in one of them"
                    .into(),
            ),
            (Some(b), false) => Ok(Some(Behavior {
                up: RulesSpec::resolve(b.scale_up.as_ref(), true, downscale_ms),
                down: RulesSpec::resolve(b.scale_down.as_ref(), false, downscale_ms),
            })),
            (None, true) => {
                let up_period = ms(self.scale_up_period_s, 15_000);
                let rule = |kind, value, period_ms| Rule {
                    kind,
                    value,
                    period_ms,
                };
                Ok(Some(Behavior {
                    up: Rules {
                        window_ms: ms(self.stabilization_up_s, 0),
                        select: SelectPolicy::Max,
                        policies: vec![
                            rule(RuleKind::Pods, self.scale_up_pods.unwrap_or(4), up_period),
                            rule(
                                RuleKind::Percent,
                                self.scale_up_percent.unwrap_or(100.0).round() as u32,
                                up_period,
                            ),
                        ],
                    },
                    down: Rules {
                        window_ms: ms(self.stabilization_down_s, downscale_ms),
                        select: SelectPolicy::Max,
                        policies: vec![rule(
                            RuleKind::Percent,
                            self.scale_down_percent.unwrap_or(100.0).round() as u32,
                            ms(self.scale_down_period_s, 15_000),
                        )],
                    },
                }))
            }
            (None, false) => Ok(None),
        }
    }

    /// The HPA configuration of an `hpa` or `predictive` entry.
    pub fn hpa_config(&self) -> Result<HpaConfig, String> {
        let d = HpaConfig::default();
        let downscale_ms = ms(self.downscale_stabilization_s, d.downscale_stabilization_ms);
        let base = self.tolerance.unwrap_or(d.tolerance.up);
        let dir_tol =
            |r: Option<&RulesSpec>| r.and_then(|r| r.tolerance).map_or(base, |Quantity(t)| t);
        let b = self.behavior.as_ref();
        Ok(HpaConfig {
            metrics: self.hpa_metrics()?,
            tolerance: Tolerances {
                up: dir_tol(b.and_then(|b| b.scale_up.as_ref())),
                down: dir_tol(b.and_then(|b| b.scale_down.as_ref())),
            },
            behavior: self.hpa_behavior(downscale_ms)?,
            downscale_stabilization_ms: downscale_ms,
            sync_period_ms: ms(self.sync_period_s, d.sync_period_ms).max(1),
            cpu_initialization_period_ms: ms(
                self.cpu_initialization_period_s,
                d.cpu_initialization_period_ms,
            ),
            cpu_limit_ratio: self.cpu_limit_ratio.unwrap_or(d.cpu_limit_ratio),
        })
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
            PolicyKind::Hpa => {
                Box::new(Hpa::new(name, self.hpa_config().expect(VALIDATED), bounds))
            }
            PolicyKind::Predictive => Box::new(Predictive {
                reactive: Hpa::new(
                    format!("{name}/reactive"),
                    self.hpa_config().expect(VALIDATED),
                    bounds,
                ),
                target: self.target.unwrap_or(PREDICTIVE_TARGET),
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

/// Seconds (when set) as milliseconds, else `def`.
fn ms(s: Option<f64>, def: u64) -> u64 {
    s.map_or(def, |v| (v * 1000.0).round() as u64)
}

/// `predictive`'s utilisation target: the floor's sizing and its HPA's shorthand target.
const PREDICTIVE_TARGET: f64 = 0.7;

/// `build` runs on specs that passed `validate` (scenario and live configuration do so).
const VALIDATED: &str = "PolicySpec::validate runs before build";

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
    fn decision_interval_ms(&self) -> Option<u64> {
        self.inner.decision_interval_ms()
    }
}
