//! Policy configuration as written in scenario TOML, validated into policy objects.
//!
//! A `[[policies]]` entry is the keys every kind takes ([`PolicySpec`]'s own fields) and
//! its kind's, a [`PolicyParams`] variant: one struct per kind, with its own defaults
//! and checks, in `prototype` or `hpa`. A new policy is one such struct (and the policy
//! it builds), one variant and its arm in [`PolicyParams::keys`].

mod hpa;
mod prototype;
mod serverless;

use serde::{Deserialize, Deserializer, Serialize};

use crate::entry::{self, keys_of, serde_name, EntryKind};

pub use hpa::{HpaMetric, HpaParams, PredictiveOwn, PredictiveParams};
pub use prototype::{CeilingParams, PolicyAwareParams, QuantileCeilingParams, StaticParams};
pub use serverless::{
    AwsPredictiveParams, HybridParams, KedaParams, KeepAliveParams, KpaParams, StepParams,
    TargetTrackingParams,
};

use super::hpa::HpaConfig;
use super::{Bounds, ScalingPolicy};

/// Policy kinds (the `kind` key).
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
    Kpa,
    Keda,
    KeepAlive,
    AwsTargetTracking,
    AwsStep,
    AwsPredictive,
    HybridHistogram,
    Optimal,
}

/// A kind and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyParams {
    Static(StaticParams),
    SimpleCeiling(CeilingParams),
    Buffered(CeilingParams),
    ConfidenceAware(QuantileCeilingParams),
    PolicyAware(PolicyAwareParams),
    Hpa(HpaParams),
    Predictive(PredictiveParams),
    Kpa(KpaParams),
    Keda(KedaParams),
    KeepAlive(KeepAliveParams),
    AwsTargetTracking(TargetTrackingParams),
    AwsStep(StepParams),
    AwsPredictive(AwsPredictiveParams),
    HybridHistogram(HybridParams),
    Optimal(OptimalParams),
}

impl PolicyParams {
    /// `kind`'s settings, every one at its default.
    pub fn new(kind: PolicyKind) -> PolicyParams {
        match kind {
            PolicyKind::Static => PolicyParams::Static(StaticParams::default()),
            PolicyKind::SimpleCeiling => PolicyParams::SimpleCeiling(CeilingParams::default()),
            PolicyKind::Buffered => PolicyParams::Buffered(CeilingParams::default()),
            PolicyKind::ConfidenceAware => {
                PolicyParams::ConfidenceAware(QuantileCeilingParams::default())
            }
            PolicyKind::PolicyAware => PolicyParams::PolicyAware(PolicyAwareParams::default()),
            PolicyKind::Hpa => PolicyParams::Hpa(HpaParams::default()),
            PolicyKind::Predictive => PolicyParams::Predictive(PredictiveParams::default()),
            PolicyKind::Kpa => PolicyParams::Kpa(KpaParams::default()),
            PolicyKind::Keda => PolicyParams::Keda(KedaParams::default()),
            PolicyKind::KeepAlive => PolicyParams::KeepAlive(KeepAliveParams::default()),
            PolicyKind::AwsTargetTracking => {
                PolicyParams::AwsTargetTracking(TargetTrackingParams::default())
            }
            PolicyKind::AwsStep => PolicyParams::AwsStep(StepParams::default()),
            PolicyKind::AwsPredictive => {
                PolicyParams::AwsPredictive(AwsPredictiveParams::default())
            }
            PolicyKind::HybridHistogram => PolicyParams::HybridHistogram(HybridParams::default()),
            PolicyKind::Optimal => PolicyParams::Optimal(OptimalParams::default()),
        }
    }

    pub fn kind(&self) -> PolicyKind {
        match self {
            PolicyParams::Static(_) => PolicyKind::Static,
            PolicyParams::SimpleCeiling(_) => PolicyKind::SimpleCeiling,
            PolicyParams::Buffered(_) => PolicyKind::Buffered,
            PolicyParams::ConfidenceAware(_) => PolicyKind::ConfidenceAware,
            PolicyParams::PolicyAware(_) => PolicyKind::PolicyAware,
            PolicyParams::Hpa(_) => PolicyKind::Hpa,
            PolicyParams::Predictive(_) => PolicyKind::Predictive,
            PolicyParams::Kpa(_) => PolicyKind::Kpa,
            PolicyParams::Keda(_) => PolicyKind::Keda,
            PolicyParams::KeepAlive(_) => PolicyKind::KeepAlive,
            PolicyParams::AwsTargetTracking(_) => PolicyKind::AwsTargetTracking,
            PolicyParams::AwsStep(_) => PolicyKind::AwsStep,
            PolicyParams::AwsPredictive(_) => PolicyKind::AwsPredictive,
            PolicyParams::HybridHistogram(_) => PolicyKind::HybridHistogram,
            PolicyParams::Optimal(_) => PolicyKind::Optimal,
        }
    }

    /// The keys `kind` takes beside the common ones.
    pub fn keys(kind: PolicyKind) -> Vec<String> {
        match kind {
            PolicyKind::Static => keys_of::<StaticParams>(),
            PolicyKind::SimpleCeiling | PolicyKind::Buffered => keys_of::<CeilingParams>(),
            PolicyKind::ConfidenceAware => keys_of::<QuantileCeilingParams>(),
            PolicyKind::PolicyAware => keys_of::<PolicyAwareParams>(),
            PolicyKind::Hpa => keys_of::<HpaParams>(),
            // Its HPA syncs at every decision.
            PolicyKind::Predictive => keys_of::<PredictiveParams>()
                .into_iter()
                .filter(|k| k != "sync_period_s")
                .collect(),
            PolicyKind::Kpa => keys_of::<KpaParams>(),
            PolicyKind::Keda => keys_of::<KedaParams>(),
            PolicyKind::KeepAlive => keys_of::<KeepAliveParams>(),
            PolicyKind::AwsTargetTracking => keys_of::<TargetTrackingParams>(),
            PolicyKind::AwsStep => keys_of::<StepParams>(),
            PolicyKind::AwsPredictive => keys_of::<AwsPredictiveParams>(),
            PolicyKind::HybridHistogram => keys_of::<HybridParams>(),
            PolicyKind::Optimal => keys_of::<OptimalParams>(),
        }
    }

    fn validate(&self, bounds: Bounds) -> Result<(), String> {
        match self {
            PolicyParams::Static(_) => Ok(()),
            PolicyParams::SimpleCeiling(p) | PolicyParams::Buffered(p) => p.validate(),
            PolicyParams::ConfidenceAware(p) => p.validate(),
            PolicyParams::PolicyAware(p) => p.validate(),
            PolicyParams::Hpa(p) => p.validate(hpa::hpa_default_target()),
            PolicyParams::Predictive(p) => p.validate(),
            PolicyParams::Kpa(p) => p.validate(),
            PolicyParams::Keda(p) => p.validate(bounds),
            PolicyParams::KeepAlive(p) => p.validate(),
            PolicyParams::AwsTargetTracking(p) => p.validate(),
            PolicyParams::AwsStep(p) => p.validate(),
            PolicyParams::AwsPredictive(p) => p.validate(),
            PolicyParams::HybridHistogram(p) => p.validate(),
            PolicyParams::Optimal(_) => Ok(()),
        }
    }

    fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        match self {
            PolicyParams::Static(p) => p.build(name, bounds),
            PolicyParams::SimpleCeiling(p) => p.build(name, bounds, 1.0),
            PolicyParams::Buffered(p) => p.build(name, bounds, 1.15),
            PolicyParams::ConfidenceAware(p) => p.build(name, bounds),
            PolicyParams::PolicyAware(p) => p.build(name, bounds),
            PolicyParams::Hpa(p) => p.build(name, bounds),
            PolicyParams::Predictive(p) => p.build(name, bounds),
            PolicyParams::Kpa(p) => p.build(name, bounds),
            PolicyParams::Keda(p) => p.build(name, bounds),
            PolicyParams::KeepAlive(p) => p.build(name, bounds),
            PolicyParams::AwsTargetTracking(p) => p.build(name, bounds),
            PolicyParams::AwsStep(p) => p.build(name, bounds),
            PolicyParams::AwsPredictive(p) => p.build(name, bounds),
            PolicyParams::HybridHistogram(p) => p.build(name, bounds),
            PolicyParams::Optimal(_) => Box::new(super::optimal::Optimal::new(name, bounds)),
        }
    }
}

/// `kind = "optimal"`: the least-cost schedule, replayed with perfect foresight (no keys
/// of its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OptimalParams {}

/// The keys every kind takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Common {
    name: Option<String>,
    min_replicas: Option<u32>,
    max_replicas: Option<u32>,
    safety_net: Option<bool>,
}

/// One `[[policies]]` entry (after sweep axes are expanded: every value is a scalar).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySpec {
    /// Name in outputs; defaults to the kind.
    pub name: Option<String>,
    pub min_replicas: Option<u32>,
    pub max_replicas: Option<u32>,
    /// Apply the prototype's safety net (default: on, except for `static`).
    pub safety_net: Option<bool>,
    #[serde(flatten)]
    pub params: PolicyParams,
}

impl Default for PolicySpec {
    fn default() -> PolicySpec {
        PolicySpec::new(PolicyKind::default())
    }
}

impl<'de> Deserialize<'de> for PolicySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PolicySpec, D::Error> {
        let t = toml::Table::deserialize(d)?;
        let kind = EntryKind {
            what: "policy",
            keys: PolicyParams::keys,
        };
        let (common, params) =
            entry::read::<Common, PolicyKind, PolicyParams>(t, kind, |c| c.name.clone())
                .map_err(serde::de::Error::custom)?;
        Ok(PolicySpec {
            name: common.name,
            min_replicas: common.min_replicas,
            max_replicas: common.max_replicas,
            safety_net: common.safety_net,
            params,
        })
    }
}

/// A set value must be a positive, finite number.
fn positive(v: Option<f64>, key: &str) -> Result<(), String> {
    match v {
        Some(x) if !(x > 0.0 && x.is_finite()) => {
            Err(format!("{key} must be a positive number, got {x}"))
        }
        _ => Ok(()),
    }
}

/// Seconds (when set) as milliseconds, else `def`.
fn ms(s: Option<f64>, def: u64) -> u64 {
    s.map_or(def, |v| (v * 1000.0).round() as u64)
}

impl PolicySpec {
    /// A spec of `kind` with every parameter at its default.
    pub fn new(kind: PolicyKind) -> PolicySpec {
        PolicySpec::of(PolicyParams::new(kind))
    }

    /// A spec with these settings and the common keys at their defaults.
    pub fn of(params: PolicyParams) -> PolicySpec {
        PolicySpec {
            name: None,
            min_replicas: None,
            max_replicas: None,
            safety_net: None,
            params,
        }
    }

    pub fn kind(&self) -> PolicyKind {
        self.params.kind()
    }

    /// The name used in outputs.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| serde_name(&self.kind()))
    }

    /// Checks values; the error names the key and the allowed values.
    pub fn validate(&self) -> Result<(), String> {
        let Bounds { min, max } = self.bounds();
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
        if min == 0 {
            self.zero_allowed()?;
        }
        self.params.validate(self.bounds())
    }

    /// `min_replicas = 0` where the policy can come back from zero: an HPA only with an
    /// Object or External metric (upstream's HPAScaleToZero rule), not `predictive`
    /// (its HPA scales on a per-pod rate).
    fn zero_allowed(&self) -> Result<(), String> {
        let why = match &self.params {
            PolicyParams::Hpa(_) => {
                let cfg = self.hpa_config()?;
                if cfg
                    .metrics
                    .iter()
                    .any(|m| matches!(m, super::hpa::Metric::TotalRate { .. }))
                {
                    return Ok(());
                }
                "an HPA scales to zero only with an Object or External metric (Kubernetes' \
                 HPAScaleToZero): add one under `metrics`, or set min_replicas = 1"
            }
            PolicyParams::Predictive(_) => {
                "predictive's HPA scales on a per-pod rate and cannot leave zero: set \
                 min_replicas = 1, or use kpa / keda for scale to zero"
            }
            _ => return Ok(()),
        };
        Err(format!("min_replicas = 0: {why}"))
    }

    fn default_max(&self) -> u32 {
        // The prototype capped policy_aware at 20 replicas and left the others unbounded.
        match self.kind() {
            PolicyKind::PolicyAware => 20,
            // maxReplicaCount's default.
            PolicyKind::Keda => 100,
            _ => 10_000,
        }
    }

    /// The HPA configuration of an `hpa` or `predictive` entry.
    pub fn hpa_config(&self) -> Result<HpaConfig, String> {
        match &self.params {
            PolicyParams::Hpa(p) => p.config(hpa::hpa_default_target()),
            PolicyParams::Predictive(p) => p.hpa.config(hpa::PREDICTIVE_TARGET),
            _ => Err(format!("policy '{}' is not an HPA", self.display_name())),
        }
    }

    /// The fewest replicas by default: zero for the autoscalers that scale to zero
    /// (their upstream's default), one for the rest.
    fn default_min(&self) -> u32 {
        match self.kind() {
            PolicyKind::Kpa
            | PolicyKind::Keda
            | PolicyKind::KeepAlive
            | PolicyKind::HybridHistogram => 0,
            _ => 1,
        }
    }

    /// The replica bounds the policy clamps to.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            min: self.min_replicas.unwrap_or(self.default_min()),
            max: self.max_replicas.unwrap_or(self.default_max()),
        }
    }

    /// Builds a fresh policy object (call [`validate`](Self::validate) first).
    pub fn build(&self) -> Box<dyn ScalingPolicy> {
        let mut p = self.params.build(self.display_name(), self.bounds());
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
    fn decision_interval_ms(&self) -> Option<u64> {
        self.inner.decision_interval_ms()
    }
    fn reads_failed_metrics(&self) -> bool {
        self.inner.reads_failed_metrics()
    }
    fn prime(&mut self, history: &[f64], step_ms: u64) {
        self.inner.prime(history, step_ms)
    }
    fn foresee(&mut self, demand: &[f64], cfg: &crate::sim::SimConfig) {
        self.inner.foresee(demand, cfg)
    }
}
