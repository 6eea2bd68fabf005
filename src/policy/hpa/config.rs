//! HPA settings as a `[[policies]] kind = "hpa"` entry or an `autoscaling/v2` manifest's
//! `spec` writes them (upstream's field names inside `behavior` and `metrics`), and the
//! resolved configuration the controller runs on, with Kubernetes 1.34's defaults.

use serde::{Deserialize, Deserializer, Serialize};

/// `behavior.scaleUp/scaleDown.selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectPolicy {
    /// The policy allowing the largest change (upstream's default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `policies[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleKind {
    Pods,
    Percent,
}

/// One rate policy: at most `value` pods (or percent) per `periodSeconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    #[serde(rename = "type")]
    pub kind: RuleKind,
    pub value: u32,
    pub period_seconds: u32,
}

/// `behavior.scaleUp` / `behavior.scaleDown` (`HPAScalingRules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RulesSpec {
    pub stabilization_window_seconds: Option<u32>,
    pub select_policy: Option<SelectPolicy>,
    pub policies: Option<Vec<RuleSpec>>,
    /// Per-direction tolerance (KEP-4951, Kubernetes 1.33+), as a fraction.
    pub tolerance: Option<Quantity>,
}

/// `spec.behavior`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BehaviorSpec {
    pub scale_up: Option<RulesSpec>,
    pub scale_down: Option<RulesSpec>,
}

/// A Kubernetes quantity (`30`, `0.5`, `500m`, `1k`, `2Mi`) as a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Quantity(pub f64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => Ok(Quantity(i as f64)),
            Raw::Float(f) => Ok(Quantity(f)),
            Raw::Text(s) => parse_quantity(&s)
                .map(Quantity)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Parses a Kubernetes quantity string (decimal SI, binary SI or exponent suffixes).
pub fn parse_quantity(s: &str) -> Result<f64, String> {
    const SUFFIXES: [(&str, f64); 14] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    let t = s.trim();
    let (num, scale) = SUFFIXES
        .iter()
        .find_map(|(suf, f)| t.strip_suffix(suf).map(|n| (n, *f)))
        .unwrap_or((t, 1.0));
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v * scale),
        _ => Err(format!(
            "'{s}' is not a quantity (a number with an optional suffix such as 500m, 1k, 2Mi)"
        )),
    }
}

/// `target` of a metric (`MetricTarget`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields, rename_all_fields = "camelCase")]
pub enum TargetSpec {
    Utilization { average_utilization: u32 },
    AverageValue { average_value: Quantity },
    Value { value: Quantity },
}

/// `metric` of a Pods / Object / External source (`MetricIdentifier`; a selector is
/// accepted and has nothing to select in the simulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricIdentifier {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<toml::Value>,
}

/// `resource` / `containerResource` sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSource {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub target: TargetSpec,
}

/// `pods` / `object` / `external` sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValueSource {
    pub metric: MetricIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described_object: Option<toml::Value>,
    pub target: TargetSpec,
}

/// One entry of `spec.metrics` (`MetricSpec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields, rename_all_fields = "camelCase")]
pub enum MetricSpec {
    Resource { resource: ResourceSource },
    ContainerResource { container_resource: ResourceSource },
    Pods { pods: ValueSource },
    Object { object: ValueSource },
    External { external: ValueSource },
}

/// What the simulator measures for a metric, in the controller's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// CPU usage of the request, whole percent (`Resource` cpu, `Utilization`).
    CpuUtilization { target_pct: u32 },
    /// Arrivals per pod (`Pods`, `AverageValue`); the target per second, or a share of
    /// the replica's capacity (the `metric = "request_rate"` shorthand).
    PodRate { target: Rate },
    /// Total arrivals (`Object` / `External`): `Value` compares the total with the
    /// target, `AverageValue` the total per pod.
    TotalRate { target: Rate, per_pod: bool },
}

/// A request-rate target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    PerSecond(f64),
    ShareOfCapacity(f64),
}

impl Rate {
    /// The target in requests per step for a replica capacity `cap` per step.
    pub fn per_step(self, step_ms: u64, cap: f64) -> f64 {
        match self {
            Rate::PerSecond(r) => r * step_ms as f64 / 1000.0,
            Rate::ShareOfCapacity(s) => s * cap,
        }
    }
}

impl MetricSpec {
    /// The simulator's reading of this metric; an error names what it cannot measure.
    pub fn resolve(&self) -> Result<Metric, String> {
        let rate = |t: &TargetSpec, what: &str| match t {
            TargetSpec::AverageValue { average_value } => Ok((average_value.0, true)),
            TargetSpec::Value { value } => Ok((value.0, false)),
            TargetSpec::Utilization { .. } => Err(format!(
                "{what} metrics take a Value or AverageValue target, not Utilization"
            )),
        };
        let positive = |v: f64, what: &str| {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(format!("{what} target must be positive, got {v}"))
            }
        };
        match self {
            MetricSpec::Resource { resource: r }
            | MetricSpec::ContainerResource {
                container_resource: r,
            } => {
                if r.name != "cpu" {
                    return Err(format!(
                        "resource '{}' is not simulated: only cpu (the busy share of each \
                         replica) is; use a Pods or External metric for the request rate",
                        r.name
                    ));
                }
                match r.target {
                    TargetSpec::Utilization {
                        average_utilization: p,
                    } if p > 0 => Ok(Metric::CpuUtilization { target_pct: p }),
                    TargetSpec::Utilization { .. } => {
                        Err("averageUtilization must be at least 1".into())
                    }
                    _ => Err(
                        "cpu targets in cores (AverageValue / Value) need the pods' CPU request, \
                         which the simulator does not model: use type = \"Utilization\""
                            .into(),
                    ),
                }
            }
            MetricSpec::Pods { pods } => match rate(&pods.target, "Pods")? {
                (v, true) => Ok(Metric::PodRate {
                    target: Rate::PerSecond(positive(v, "Pods")?),
                }),
                (_, false) => Err("Pods metrics take an AverageValue target".into()),
            },
            MetricSpec::Object { object: s } | MetricSpec::External { external: s } => {
                let (v, per_pod) = rate(&s.target, "Object/External")?;
                Ok(Metric::TotalRate {
                    target: Rate::PerSecond(positive(v, "Object/External")?),
                    per_pod,
                })
            }
        }
    }
}

/// One resolved rate policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub kind: RuleKind,
    pub value: u32,
    pub period_ms: u64,
}

/// Resolved `HPAScalingRules` for one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub window_ms: u64,
    pub select: SelectPolicy,
    pub policies: Vec<Rule>,
}

/// A resolved `behavior`: both directions with upstream's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub up: Rules,
    pub down: Rules,
}

/// Scale-up and scale-down tolerances around a usage ratio of 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub up: f64,
    pub down: f64,
}

impl Tolerances {
    /// `(1 - down) <= ratio <= (1 + up)`: too small a change to act on.
    pub fn within(&self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }
}

/// The controller's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaConfig {
    /// Metrics; the highest proposal wins.
    pub metrics: Vec<Metric>,
    pub tolerance: Tolerances,
    /// `None`: no `behavior` in the spec, the controller's legacy normalisation.
    pub behavior: Option<Behavior>,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (300 s).
    pub downscale_stabilization_ms: u64,
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period_ms: u64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (300 s).
    pub cpu_initialization_period_ms: u64,
    /// CPU limit over request: a saturated replica uses this multiple of its request (1).
    pub cpu_limit_ratio: f64,
}

/// Defaults of kube-controller-manager's HPA flags.
pub const DEFAULT_TOLERANCE: f64 = 0.1;
pub const DEFAULT_SYNC_MS: u64 = 15_000;
pub const DEFAULT_DOWNSCALE_STABILIZATION_MS: u64 = 300_000;
pub const DEFAULT_CPU_INIT_MS: u64 = 300_000;
/// The `autoscaling/v2` default metric when `metrics` is empty: CPU at 80 %.
pub const DEFAULT_CPU_TARGET_PCT: u32 = 80;

impl Default for HpaConfig {
    fn default() -> Self {
        HpaConfig {
            metrics: vec![Metric::CpuUtilization {
                target_pct: DEFAULT_CPU_TARGET_PCT,
            }],
            tolerance: Tolerances {
                up: DEFAULT_TOLERANCE,
                down: DEFAULT_TOLERANCE,
            },
            behavior: None,
            downscale_stabilization_ms: DEFAULT_DOWNSCALE_STABILIZATION_MS,
            sync_period_ms: DEFAULT_SYNC_MS,
            cpu_initialization_period_ms: DEFAULT_CPU_INIT_MS,
            cpu_limit_ratio: 1.0,
        }
    }
}

impl RulesSpec {
    /// Upstream's checks on `HPAScalingRules` (`validateScalingRules`).
    pub fn validate(&self, dir: &str) -> Result<(), String> {
        if let Some(w) = self.stabilization_window_seconds {
            if w > 3600 {
                return Err(format!(
                    "behavior.{dir}.stabilizationWindowSeconds must be at most 3600, got {w}"
                ));
            }
        }
        if let Some(p) = &self.policies {
            if p.is_empty() {
                return Err(format!(
                    "behavior.{dir}.policies must hold at least one policy"
                ));
            }
            for r in p {
                if r.value == 0 {
                    return Err(format!("behavior.{dir}.policies: value must be positive"));
                }
                if !(1..=1800).contains(&r.period_seconds) {
                    return Err(format!(
                        "behavior.{dir}.policies: periodSeconds must be in 1..=1800, got {}",
                        r.period_seconds
                    ));
                }
            }
        }
        if let Some(Quantity(t)) = self.tolerance {
            if !(t >= 0.0 && t.is_finite()) {
                return Err(format!(
                    "behavior.{dir}.tolerance must be a non-negative fraction, got {t}"
                ));
            }
        }
        Ok(())
    }

    /// Fills upstream's defaults (`GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules`;
    /// an unset scale-down window takes the controller's `downscale_ms`).
    pub fn resolve(spec: Option<&RulesSpec>, up: bool, downscale_ms: u64) -> Rules {
        let d = RulesSpec::default();
        let s = spec.unwrap_or(&d);
        let default_policies = if up {
            vec![
                Rule {
                    kind: RuleKind::Pods,
                    value: 4,
                    period_ms: 15_000,
                },
                Rule {
                    kind: RuleKind::Percent,
                    value: 100,
                    period_ms: 15_000,
                },
            ]
        } else {
            vec![Rule {
                kind: RuleKind::Percent,
                value: 100,
                period_ms: 15_000,
            }]
        };
        Rules {
            window_ms: match s.stabilization_window_seconds {
                Some(w) => w as u64 * 1000,
                None if up => 0,
                None => downscale_ms,
            },
            select: s.select_policy.unwrap_or(SelectPolicy::Max),
            policies: s.policies.as_ref().map_or(default_policies, |p| {
                p.iter()
                    .map(|r| Rule {
                        kind: r.kind,
                        value: r.value,
                        period_ms: r.period_seconds as u64 * 1000,
                    })
                    .collect()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_as_kubernetes_writes_them() {
        assert_eq!(parse_quantity("500m").unwrap(), 0.5);
        assert_eq!(parse_quantity("1k").unwrap(), 1000.0);
        assert_eq!(parse_quantity("2Mi").unwrap(), 2097152.0);
        assert_eq!(parse_quantity("30").unwrap(), 30.0);
        assert!(parse_quantity("fast")
            .unwrap_err()
            .contains("not a quantity"));
    }

    #[test]
    fn manifest_metrics_parse_and_resolve() {
        let m: MetricSpec = toml::from_str(
            "type = 'Resource'\n[resource]\nname = 'cpu'\ntarget = { type = 'Utilization', averageUtilization = 60 }",
        )
        .unwrap();
        assert_eq!(
            m.resolve().unwrap(),
            Metric::CpuUtilization { target_pct: 60 }
        );
        let m: MetricSpec = toml::from_str(
            "type = 'External'\n[external]\nmetric = { name = 'queue' }\ntarget = { type = 'AverageValue', averageValue = '500m' }",
        )
        .unwrap();
        assert_eq!(
            m.resolve().unwrap(),
            Metric::TotalRate {
                target: Rate::PerSecond(0.5),
                per_pod: true
            }
        );
        let m: MetricSpec = toml::from_str(
            "type = 'Resource'\n[resource]\nname = 'memory'\ntarget = { type = 'Utilization', averageUtilization = 60 }",
        )
        .unwrap();
        assert!(m.resolve().unwrap_err().contains("only cpu"));
    }

    #[test]
    fn scaling_rules_take_upstream_defaults() {
        let up = RulesSpec::resolve(None, true, 300_000);
        assert_eq!(up.window_ms, 0);
        assert_eq!(up.policies.len(), 2);
        let down = RulesSpec::resolve(
            Some(&RulesSpec {
                select_policy: Some(SelectPolicy::Min),
                ..RulesSpec::default()
            }),
            false,
            120_000,
        );
        assert_eq!(down.window_ms, 120_000);
        assert_eq!(down.select, SelectPolicy::Min);
        assert_eq!(down.policies[0].kind, RuleKind::Percent);
        let bad = RulesSpec {
            policies: Some(vec![]),
            ..RulesSpec::default()
        };
        assert!(bad
            .validate("scaleDown")
            .unwrap_err()
            .contains("at least one"));
    }
}
