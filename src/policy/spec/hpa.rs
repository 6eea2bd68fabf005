//! The settings of `kind = "hpa"` and `kind = "predictive"` entries, resolved into the
//! HPA controller's configuration ([`HpaConfig`], Kubernetes 1.34's defaults).

use serde::{Deserialize, Serialize};

use super::{ms, positive};
use crate::forecast::QUANTILES;
use crate::policy::hpa::config::{
    Behavior, BehaviorSpec, Metric, MetricSpec, Quantity, Rate, Rule, RuleKind, Rules, RulesSpec,
    SelectPolicy, Tolerances,
};
use crate::policy::hpa::HpaConfig;
use crate::policy::level_index;

/// What the `metric` shorthand of `hpa` / `predictive` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HpaMetric {
    /// CPU utilisation of the request (the busy share; `Resource` cpu, `Utilization`).
    Utilization,
    /// Arrivals per pod over the replica's capacity (`Pods`, `AverageValue`).
    RequestRate,
}

/// `kind = "hpa"`: a Kubernetes HorizontalPodAutoscaler (`autoscaling/v2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HpaParams {
    /// Target of the `metric` shorthand, a share of the request (CPU) or of the
    /// replica's capacity (request rate); `hpa` 0.8 (autoscaling/v2's default),
    /// `predictive` 0.7.
    pub target: Option<f64>,
    /// One metric, the short way (`metrics` is the long one).
    pub metric: Option<HpaMetric>,
    /// `spec.metrics` as an `autoscaling/v2` manifest writes it.
    pub metrics: Option<Vec<MetricSpec>>,
    /// `spec.behavior` as an `autoscaling/v2` manifest writes it.
    pub behavior: Option<BehaviorSpec>,
    /// The controller's tolerance (`--horizontal-pod-autoscaler-tolerance`, 0.1).
    pub tolerance: Option<f64>,
    /// Seconds between syncs (`--horizontal-pod-autoscaler-sync-period`, 15); `hpa` only.
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

/// `kind = "predictive"`: an AWS-style predictive floor under a reactive HPA, which takes
/// the HPA's keys but `sync_period_s` (it syncs at every decision).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PredictiveParams {
    #[serde(flatten)]
    pub own: PredictiveOwn,
    #[serde(flatten)]
    pub hpa: HpaParams,
}

/// The keys `predictive` has beside the HPA's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PredictiveOwn {
    /// Multiplier on the forecast (1).
    pub buffer: Option<f64>,
    /// Forecast quantile to provision for (the point forecast).
    pub quantile: Option<f64>,
    /// Steps ahead of the decision to provision for (5).
    pub lead_steps: Option<usize>,
}

// By hand: serde cannot flatten into a struct that denies unknown fields, so the two
// parts are read one after the other, each denying the keys it does not declare.
impl<'de> Deserialize<'de> for PredictiveParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut t = toml::Table::deserialize(d)?;
        let own = crate::entry::take::<PredictiveOwn>(&mut t).map_err(D::Error::custom)?;
        let hpa = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| D::Error::custom(e.message()))?;
        Ok(PredictiveParams { own, hpa })
    }
}

/// `predictive`'s utilisation target: the floor's sizing and its HPA's shorthand target.
pub(super) const PREDICTIVE_TARGET: f64 = 0.7;

impl PredictiveParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        positive(self.own.buffer, "buffer")?;
        quantile_known(self.own.quantile)?;
        self.hpa.validate(PREDICTIVE_TARGET)
    }
}

/// A quantile the forecasts carry, when one is set.
pub(super) fn quantile_known(q: Option<f64>) -> Result<(), String> {
    match q {
        Some(q) if level_index(q).is_none() => Err(format!(
            "quantile {q} is not one the forecasts carry: use one of {QUANTILES:?}"
        )),
        _ => Ok(()),
    }
}

impl HpaParams {
    /// Checks values; `default_target` is the kind's target of the `metric` shorthand.
    pub(super) fn validate(&self, default_target: f64) -> Result<(), String> {
        positive(self.target, "target")?;
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
        self.config(default_target).map(|_| ())
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

    /// The `metrics` list, or the one metric of the `metric` / `target` shorthand.
    fn metrics(&self, default_target: f64) -> Result<Vec<Metric>, String> {
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
    fn behavior(&self, downscale_ms: u64) -> Result<Option<Behavior>, String> {
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

    /// The HPA configuration these settings give (`default_target`: the kind's target of
    /// the `metric` shorthand).
    pub fn config(&self, default_target: f64) -> Result<HpaConfig, String> {
        let d = HpaConfig::default();
        let downscale_ms = ms(self.downscale_stabilization_s, d.downscale_stabilization_ms);
        let base = self.tolerance.unwrap_or(d.tolerance.up);
        let dir_tol =
            |r: Option<&RulesSpec>| r.and_then(|r| r.tolerance).map_or(base, |Quantity(t)| t);
        let b = self.behavior.as_ref();
        Ok(HpaConfig {
            metrics: self.metrics(default_target)?,
            tolerance: Tolerances {
                up: dir_tol(b.and_then(|b| b.scale_up.as_ref())),
                down: dir_tol(b.and_then(|b| b.scale_down.as_ref())),
            },
            behavior: self.behavior(downscale_ms)?,
            downscale_stabilization_ms: downscale_ms,
            sync_period_ms: ms(self.sync_period_s, d.sync_period_ms).max(1),
            cpu_initialization_period_ms: ms(
                self.cpu_initialization_period_s,
                d.cpu_initialization_period_ms,
            ),
            cpu_limit_ratio: self.cpu_limit_ratio.unwrap_or(d.cpu_limit_ratio),
        })
    }
}

/// `hpa`'s default target of the `metric` shorthand (autoscaling/v2's 80 % CPU).
pub(super) fn hpa_default_target() -> f64 {
    crate::policy::hpa::config::DEFAULT_CPU_TARGET_PCT as f64 / 100.0
}

use crate::policy::hpa::Hpa;
use crate::policy::predictive::Predictive;
use crate::policy::{Bounds, ScalingPolicy};

/// `build` runs on specs that passed `validate` (scenario and live configuration do so).
const VALIDATED: &str = "PolicySpec::validate runs before build";

impl HpaParams {
    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(Hpa::new(
            name,
            self.config(hpa_default_target()).expect(VALIDATED),
            bounds,
        ))
    }
}

impl PredictiveParams {
    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(Predictive {
            reactive: Hpa::new(
                format!("{name}/reactive"),
                self.hpa.config(PREDICTIVE_TARGET).expect(VALIDATED),
                bounds,
            ),
            target: self.hpa.target.unwrap_or(PREDICTIVE_TARGET),
            name,
            lead: self.own.lead_steps.unwrap_or(5),
            quantile: self.own.quantile.and_then(level_index),
            buffer: self.own.buffer.unwrap_or(1.0),
            planned: f64::NAN,
        })
    }
}
