//! The settings of the serverless autoscalers: `kind = "kpa"` (Knative's Pod Autoscaler;
//! keys named after `config-autoscaler` and the `autoscaling.knative.dev` annotations)
//! and `kind = "keda"` (a KEDA ScaledObject; keys named after its spec), the fixed
//! `keep_alive`, and AWS Application Auto Scaling's `aws_target_tracking` and `aws_step`.

use serde::{Deserialize, Serialize};

use super::{ms, positive, HpaParams};
use crate::policy::aws::predictive::{AwsPredictive, BreachBehavior, PredictiveConfig};
use crate::policy::aws::step::{StepPolicy, StepScaling};
use crate::policy::aws::{AwsMetric, TargetTracking, TargetTrackingConfig};
use crate::policy::hpa::config::{
    BehaviorSpec, MetricIdentifier, MetricSpec, Quantity, TargetSpec, ValueSource,
};
use crate::policy::hpa::Hpa;
use crate::policy::hybrid::{HybridConfig, HybridHistogram};
use crate::policy::keda::{Fallback, FallbackBehavior, Keda, KedaConfig, TriggerMetric};
use crate::policy::keepalive::KeepAlive;
use crate::policy::kpa::{DeciderSpec, Kpa, KpaConfig, KpaMetric};
use crate::policy::{Bounds, ScalingPolicy};

/// `kind = "kpa"`: Knative Serving 1.16's KPA, with `config-autoscaler`'s defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KpaParams {
    /// `concurrency` (default) or `rps`.
    pub metric: Option<KpaMetric>,
    /// Per-pod target (`autoscaling.knative.dev/target`; default 100 in flight, or
    /// 200 requests per second).
    pub target: Option<f64>,
    /// `containerConcurrency`: the hard limit per pod (0: none); caps the target.
    pub container_concurrency: Option<u32>,
    /// Share of the target to aim for (`container-concurrency-target-percentage`, 70).
    pub target_utilization_percentage: Option<f64>,
    /// `stable-window` (60 s; 6 s – 1 h).
    pub stable_window_s: Option<f64>,
    /// `panic-window-percentage` (10; 1 – 100).
    pub panic_window_percentage: Option<f64>,
    /// `panic-threshold-percentage` (200; 110 – 1000).
    pub panic_threshold_percentage: Option<f64>,
    /// `max-scale-up-rate` (1000).
    pub max_scale_up_rate: Option<f64>,
    /// `max-scale-down-rate` (2).
    pub max_scale_down_rate: Option<f64>,
    /// `target-burst-capacity` (200; -1: activator always in the path).
    pub target_burst_capacity: Option<f64>,
    /// `scale-to-zero-grace-period` (30 s; at least 6 s).
    pub scale_to_zero_grace_period_s: Option<f64>,
    /// `scale-to-zero-pod-retention-period` (0 s).
    pub scale_to_zero_pod_retention_period_s: Option<f64>,
    /// `scale-down-delay` (0 s; at most 1 h).
    pub scale_down_delay_s: Option<f64>,
    /// `initial-scale` (1).
    pub initial_scale: Option<u32>,
    /// `activation-scale` (1): pods a scale from zero asks for at least.
    pub activation_scale: Option<u32>,
    /// The autoscaler's tick (2 s).
    pub tick_interval_s: Option<f64>,
    /// `enable-scale-to-zero` (true).
    pub enable_scale_to_zero: Option<bool>,
}

fn in_range(v: Option<f64>, lo: f64, hi: f64, key: &str) -> Result<(), String> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => {
            Err(format!("{key} must be between {lo} and {hi}, got {x}"))
        }
        _ => Ok(()),
    }
}

impl KpaParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        positive(self.target, "target")?;
        in_range(
            self.target_utilization_percentage,
            1.0,
            100.0,
            "target_utilization_percentage",
        )?;
        in_range(self.stable_window_s, 6.0, 3600.0, "stable_window_s")?;
        in_range(
            self.panic_window_percentage,
            1.0,
            100.0,
            "panic_window_percentage",
        )?;
        in_range(
            self.panic_threshold_percentage,
            110.0,
            1000.0,
            "panic_threshold_percentage",
        )?;
        for (v, key) in [
            (self.max_scale_up_rate, "max_scale_up_rate"),
            (self.max_scale_down_rate, "max_scale_down_rate"),
        ] {
            if let Some(r) = v {
                if !(r > 1.0 && r.is_finite()) {
                    return Err(format!("{key} must be above 1, got {r}"));
                }
            }
        }
        if let Some(t) = self.target_burst_capacity {
            if !(t >= 0.0 || t == -1.0) || !t.is_finite() {
                return Err(format!(
                    "target_burst_capacity must be at least 0, or -1 (the activator always in \
                     the path), got {t}"
                ));
            }
        }
        in_range(
            self.scale_to_zero_grace_period_s,
            6.0,
            f64::MAX,
            "scale_to_zero_grace_period_s",
        )?;
        in_range(
            self.scale_to_zero_pod_retention_period_s,
            0.0,
            f64::MAX,
            "scale_to_zero_pod_retention_period_s",
        )?;
        in_range(self.scale_down_delay_s, 0.0, 3600.0, "scale_down_delay_s")?;
        positive(self.tick_interval_s, "tick_interval_s")?;
        if self.activation_scale == Some(0) {
            return Err("activation_scale must be at least 1".into());
        }
        let cfg = self.config();
        if cfg.panic_window_ms < 1000 {
            return Err(format!(
                "the panic window ({} ms: panic_window_percentage of stable_window_s) must be \
                 at least 1 s",
                cfg.panic_window_ms
            ));
        }
        Ok(())
    }

    /// The resolved configuration (`ResolveMetricTarget` for the target).
    pub fn config(&self) -> KpaConfig {
        let metric = self.metric.unwrap_or(KpaMetric::Concurrency);
        let cc = self.container_concurrency.unwrap_or(0) as f64;
        let total = match (metric, self.target) {
            (KpaMetric::Rps, t) => t.unwrap_or(200.0),
            (KpaMetric::Concurrency, Some(t)) if cc > 0.0 => t.min(cc),
            (KpaMetric::Concurrency, Some(t)) => t,
            (KpaMetric::Concurrency, None) if cc > 0.0 => cc,
            (KpaMetric::Concurrency, None) => 100.0,
        };
        let tu = self.target_utilization_percentage.unwrap_or(70.0) / 100.0;
        let stable = ms(self.stable_window_s, 60_000);
        let panic_pct = self.panic_window_percentage.unwrap_or(10.0);
        KpaConfig {
            metric,
            decider: DeciderSpec {
                target: (total * tu).max(0.01),
                total,
                target_burst_capacity: self.target_burst_capacity.unwrap_or(200.0),
                panic_threshold: self.panic_threshold_percentage.unwrap_or(200.0) / 100.0,
                max_scale_up_rate: self.max_scale_up_rate.unwrap_or(1000.0),
                max_scale_down_rate: self.max_scale_down_rate.unwrap_or(2.0),
                stable_window_ms: stable,
                scale_down_delay_ms: ms(self.scale_down_delay_s, 0),
                activation_scale: self.activation_scale.unwrap_or(1),
                reachable: true,
            },
            panic_window_ms: (stable as f64 * panic_pct / 100.0).round() as u64,
            tick_ms: ms(self.tick_interval_s, 2_000),
            enable_scale_to_zero: self.enable_scale_to_zero.unwrap_or(true),
            scale_to_zero_grace_ms: ms(self.scale_to_zero_grace_period_s, 30_000),
            pod_retention_ms: ms(self.scale_to_zero_pod_retention_period_s, 0),
            initial_scale: self.initial_scale.unwrap_or(1),
            // Knative's ProgressDeadlineSeconds (600) plus its 10 s buffer.
            activation_timeout_ms: 610_000,
        }
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(Kpa::new(name, self.config(), bounds))
    }
}

/// `fallback` of a `keda` entry, with KEDA's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FallbackSpec {
    pub failure_threshold: u32,
    pub replicas: u32,
    /// `static` (default), `currentReplicas`, `currentReplicasIfHigher`, `currentReplicasIfLower`.
    pub behavior: Option<FallbackBehavior>,
}

/// The trigger's `metricType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricType {
    AverageValue,
    Value,
}

/// `kind = "keda"`: a KEDA 2.17 ScaledObject with one trigger, over the HPA it creates
/// (`min_replicas` is `minReplicaCount`, default 0; `max_replicas` is
/// `maxReplicaCount`, default 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KedaParams {
    /// `request_rate` (requests per second, default) or `concurrency` (in flight).
    pub metric: Option<TriggerMetric>,
    /// The trigger's target value (required): per replica for `AverageValue`.
    pub threshold: Option<f64>,
    /// The trigger is active above this value (strictly; 0).
    pub activation_threshold: Option<f64>,
    /// `AverageValue` (default) or `Value`.
    pub metric_type: Option<MetricType>,
    /// `pollingInterval` (30 s).
    pub polling_interval_s: Option<f64>,
    /// `cooldownPeriod` (300 s): from the last active poll to the scale to zero.
    pub cooldown_period_s: Option<f64>,
    /// `initialCooldownPeriod` (0 s): from creation, when never active.
    pub initial_cooldown_period_s: Option<f64>,
    /// `idleReplicaCount` (unset; KEDA supports only 0, below `minReplicaCount`).
    pub idle_replica_count: Option<u32>,
    pub fallback: Option<FallbackSpec>,
    /// `advanced.horizontalPodAutoscalerConfig.behavior` of the HPA KEDA creates.
    pub behavior: Option<BehaviorSpec>,
    /// The HPA controller's tolerance (0.1) and sync period (15 s).
    pub tolerance: Option<f64>,
    pub sync_period_s: Option<f64>,
}

impl KedaParams {
    fn hpa_params(&self) -> HpaParams {
        let q = Quantity(self.threshold.unwrap_or(f64::NAN));
        let target = match self.metric_type.unwrap_or(MetricType::AverageValue) {
            MetricType::AverageValue => TargetSpec::AverageValue { average_value: q },
            MetricType::Value => TargetSpec::Value { value: q },
        };
        HpaParams {
            metrics: Some(vec![MetricSpec::External {
                external: ValueSource {
                    metric: MetricIdentifier {
                        name: "keda-trigger".into(),
                        selector: None,
                    },
                    described_object: None,
                    target,
                },
            }]),
            behavior: self.behavior.clone(),
            tolerance: self.tolerance,
            sync_period_s: self.sync_period_s,
            ..HpaParams::default()
        }
    }

    pub(super) fn validate(&self, bounds: Bounds) -> Result<(), String> {
        match self.threshold {
            None => return Err("keda needs `threshold`: the trigger's target value".into()),
            Some(t) if !(t > 0.0 && t.is_finite()) => {
                return Err(format!("threshold must be a positive number, got {t}"))
            }
            _ => {}
        }
        if let Some(a) = self.activation_threshold {
            if !(a >= 0.0 && a.is_finite()) {
                return Err(format!("activation_threshold must be at least 0, got {a}"));
            }
        }
        positive(self.polling_interval_s, "polling_interval_s")?;
        seconds(self.cooldown_period_s, "cooldown_period_s")?;
        seconds(self.initial_cooldown_period_s, "initial_cooldown_period_s")?;
        if let Some(i) = self.idle_replica_count {
            if i != 0 || bounds.min == 0 {
                return Err(format!(
                    "idle_replica_count = {i}: KEDA supports only 0, with min_replicas above it \
                     (min_replicas is {})",
                    bounds.min
                ));
            }
        }
        if self.fallback.is_some() && self.metric_type == Some(MetricType::Value) {
            return Err(
                "fallback needs metric_type = \"AverageValue\" (KEDA ignores it for Value)".into(),
            );
        }
        self.hpa_params().validate(1.0)
    }

    pub fn config(&self, bounds: Bounds) -> KedaConfig {
        KedaConfig {
            metric: self.metric.unwrap_or(TriggerMetric::RequestRate),
            threshold: self.threshold.unwrap_or(f64::NAN),
            activation_threshold: self.activation_threshold.unwrap_or(0.0),
            polling_ms: ms(self.polling_interval_s, 30_000),
            cooldown_ms: ms(self.cooldown_period_s, 300_000),
            initial_cooldown_ms: ms(self.initial_cooldown_period_s, 0),
            min: bounds.min,
            max: bounds.max,
            idle: self.idle_replica_count,
            fallback: self.fallback.as_ref().map(|f| Fallback {
                failure_threshold: f.failure_threshold,
                replicas: f.replicas,
                behavior: f.behavior.unwrap_or(FallbackBehavior::Static),
            }),
        }
    }

    /// The ScaledObject and its HPA (call `validate` first).
    pub fn keda(&self, name: String, bounds: Bounds) -> Keda {
        let hpa_cfg = self
            .hpa_params()
            .config(1.0)
            .expect("validated before it is built");
        // The HPA KEDA creates: minReplicas max(minReplicaCount, 1).
        let hpa_bounds = Bounds {
            min: bounds.min.max(1),
            max: bounds.max,
        };
        let hpa = Hpa::new(name.clone(), hpa_cfg, hpa_bounds);
        Keda::new(name, self.config(bounds), hpa)
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(self.keda(name, bounds))
    }
}

/// `kind = "keep_alive"`: fixed keep-alive, the serverless platforms' policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KeepAliveParams {
    /// How long an instance stays warm after its last request (600 s, Lambda-like;
    /// Azure Functions: 1200).
    pub keep_alive_s: Option<f64>,
    /// Time between decisions (1 s).
    pub tick_interval_s: Option<f64>,
    /// Share of a replica's capacity an instance is sized for (1).
    pub target: Option<f64>,
}

impl KeepAliveParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        positive(self.keep_alive_s, "keep_alive_s")?;
        positive(self.tick_interval_s, "tick_interval_s")?;
        positive(self.target, "target")
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(KeepAlive::new(
            name,
            bounds,
            ms(self.keep_alive_s, 600_000),
            ms(self.tick_interval_s, 1_000),
            self.target.unwrap_or(1.0),
        ))
    }
}

/// `kind = "aws_target_tracking"`: an Application Auto Scaling target tracking policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TargetTrackingParams {
    /// `cpu_utilization` (default, `ECSServiceAverageCPUUtilization`) or
    /// `request_count_per_target` (`ALBRequestCountPerTarget`, per minute).
    pub metric: Option<AwsMetric>,
    /// `TargetValue` (required).
    pub target: Option<f64>,
    /// The alarms' evaluation period (60 s, CloudWatch's one-minute datapoints).
    pub period_s: Option<f64>,
    /// `ScaleOutCooldown` and `ScaleInCooldown` (300 s each).
    pub scale_out_cooldown_s: Option<f64>,
    pub scale_in_cooldown_s: Option<f64>,
    /// `DisableScaleIn` (false).
    pub disable_scale_in: Option<bool>,
    /// EC2 Auto Scaling's instance warm-up (0: none, as for ECS tasks).
    pub instance_warmup_s: Option<f64>,
}

fn seconds(v: Option<f64>, key: &str) -> Result<(), String> {
    v.map(|x| crate::time::ms_from_secs(x, key))
        .transpose()
        .map(|_| ())
}

impl TargetTrackingParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        match self.target {
            None => return Err("aws_target_tracking needs `target` (the TargetValue)".into()),
            Some(t) if !(t > 0.0 && t.is_finite()) => {
                return Err(format!("target must be a positive number, got {t}"))
            }
            _ => {}
        }
        positive(self.period_s, "period_s")?;
        seconds(self.scale_out_cooldown_s, "scale_out_cooldown_s")?;
        seconds(self.scale_in_cooldown_s, "scale_in_cooldown_s")?;
        seconds(self.instance_warmup_s, "instance_warmup_s")
    }

    pub fn config(&self) -> TargetTrackingConfig {
        TargetTrackingConfig {
            metric: self.metric.unwrap_or(AwsMetric::CpuUtilization),
            target: self.target.unwrap_or(f64::NAN),
            period_ms: ms(self.period_s, 60_000),
            scale_out_cooldown_ms: ms(self.scale_out_cooldown_s, 300_000),
            scale_in_cooldown_ms: ms(self.scale_in_cooldown_s, 300_000),
            disable_scale_in: self.disable_scale_in.unwrap_or(false),
            warmup_ms: ms(self.instance_warmup_s, 0),
        }
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(TargetTracking::new(name, self.config(), bounds))
    }
}

/// `kind = "aws_step"`: an Application Auto Scaling step scaling policy per direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StepParams {
    /// As for `aws_target_tracking`.
    pub metric: Option<AwsMetric>,
    pub period_s: Option<f64>,
    pub instance_warmup_s: Option<f64>,
    pub scale_out: Option<StepPolicy>,
    pub scale_in: Option<StepPolicy>,
}

impl StepParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.scale_out.is_none() && self.scale_in.is_none() {
            return Err("aws_step needs `scale_out` or `scale_in` (or both)".into());
        }
        positive(self.period_s, "period_s")?;
        seconds(self.instance_warmup_s, "instance_warmup_s")?;
        for (p, out) in [(&self.scale_out, true), (&self.scale_in, false)] {
            if let Some(p) = p {
                p.validate(out)?;
                seconds(p.cooldown_s, "cooldown_s")?;
            }
        }
        Ok(())
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(StepScaling::new(
            name,
            self.metric.unwrap_or(AwsMetric::CpuUtilization),
            ms(self.period_s, 60_000),
            ms(self.instance_warmup_s, 0),
            bounds,
            self.scale_out.clone(),
            self.scale_in.clone(),
        ))
    }
}

/// `kind = "hybrid_histogram"`: Shahrad et al.'s hybrid histogram keep-alive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HybridParams {
    /// Histogram range (240 min), one-minute bins.
    pub range_minutes: Option<usize>,
    /// The head and tail percentiles (5, 99).
    pub head_percentile: Option<f64>,
    pub tail_percentile: Option<f64>,
    /// Margin on the windows (0.1).
    pub margin: Option<f64>,
    /// Coefficient of variation of the bin counts below which the histogram is not used (2).
    pub cv_threshold: Option<f64>,
    /// Idle times needed before the histogram is used (10).
    pub min_samples: Option<usize>,
    /// Share of idle times beyond the range that switches to the forecast (0.5).
    pub oob_share: Option<f64>,
    /// Time between decisions (60 s).
    pub tick_interval_s: Option<f64>,
    /// Share of a replica's capacity an instance is sized for (1).
    pub target: Option<f64>,
}

impl HybridParams {
    pub fn config(&self) -> HybridConfig {
        let d = HybridConfig::default();
        HybridConfig {
            range_min: self.range_minutes.unwrap_or(d.range_min),
            head_pct: self.head_percentile.unwrap_or(d.head_pct),
            tail_pct: self.tail_percentile.unwrap_or(d.tail_pct),
            margin: self.margin.unwrap_or(d.margin),
            cv_threshold: self.cv_threshold.unwrap_or(d.cv_threshold),
            min_samples: self.min_samples.unwrap_or(d.min_samples),
            oob_share: self.oob_share.unwrap_or(d.oob_share),
            tick_ms: ms(self.tick_interval_s, d.tick_ms),
            target: self.target.unwrap_or(d.target),
        }
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        let c = self.config();
        if c.range_min == 0 {
            return Err("range_minutes must be at least 1".into());
        }
        if !(0.0 <= c.head_pct && c.head_pct < c.tail_pct && c.tail_pct <= 100.0) {
            return Err(format!(
                "head_percentile ({}) must be below tail_percentile ({}), both in [0, 100]",
                c.head_pct, c.tail_pct
            ));
        }
        if !(0.0..1.0).contains(&c.margin) {
            return Err(format!("margin must be in [0, 1), got {}", c.margin));
        }
        if !(0.0..=1.0).contains(&c.oob_share) {
            return Err(format!("oob_share must be in [0, 1], got {}", c.oob_share));
        }
        positive(self.cv_threshold, "cv_threshold")?;
        positive(self.tick_interval_s, "tick_interval_s")?;
        positive(self.target, "target")
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        Box::new(HybridHistogram::new(name, bounds, self.config()))
    }
}

/// `kind = "aws_predictive"`: AWS predictive scaling over a target tracking policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AwsPredictiveParams {
    /// `ForecastAndScale` (default) or `ForecastOnly`.
    pub mode: Option<PredictiveMode>,
    /// Share of a replica's capacity the forecast capacity plans for (0.7).
    pub target: Option<f64>,
    /// `SchedulingBufferTime` (300 s).
    pub scheduling_buffer_time_s: Option<f64>,
    /// `HonorMaxCapacity` (default) or `IncreaseMaxCapacity`.
    pub max_capacity_breach_behavior: Option<BreachBehavior>,
    /// `MaxCapacityBuffer`, % (0–100; 0).
    pub max_capacity_buffer: Option<f64>,
    /// The target tracking policy that works with it (required), as `aws_target_tracking`.
    pub target_tracking: Option<TargetTrackingParams>,
}

/// Predictive scaling's `Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PredictiveMode {
    ForecastAndScale,
    ForecastOnly,
}

impl AwsPredictiveParams {
    pub(super) fn validate(&self) -> Result<(), String> {
        let Some(tt) = &self.target_tracking else {
            return Err(
                "aws_predictive needs `target_tracking = { metric = …, target = … }`: the dynamic \
                 policy AWS runs with predictive scaling"
                    .into(),
            );
        };
        tt.validate().map_err(|e| format!("target_tracking: {e}"))?;
        positive(self.target, "target")?;
        seconds(self.scheduling_buffer_time_s, "scheduling_buffer_time_s")?;
        if let Some(b) = self.max_capacity_buffer {
            if !(0.0..=100.0).contains(&b) {
                return Err(format!(
                    "max_capacity_buffer must be in [0, 100] %, got {b}"
                ));
            }
        }
        Ok(())
    }

    pub(super) fn build(&self, name: String, bounds: Bounds) -> Box<dyn ScalingPolicy> {
        let tt = self.target_tracking.clone().unwrap_or_default();
        let tracking = TargetTracking::new(name.clone(), tt.config(), bounds);
        Box::new(AwsPredictive::new(
            name,
            PredictiveConfig {
                scale: self.mode != Some(PredictiveMode::ForecastOnly),
                target: self.target.unwrap_or(0.7),
                buffer_ms: ms(self.scheduling_buffer_time_s, 300_000),
                breach: self
                    .max_capacity_breach_behavior
                    .unwrap_or(BreachBehavior::HonorMaxCapacity),
                max_capacity_buffer_pct: self.max_capacity_buffer.unwrap_or(0.0),
            },
            bounds,
            tracking,
        ))
    }
}
