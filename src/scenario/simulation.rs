//! The `[simulation]` section of a scenario: the cluster, its service, the safety net
//! and the scoring settings, resolved into a [`SimConfig`] and a [`ScoreConfig`].

use serde::Deserialize;

use crate::metrics::ScoreConfig;
use crate::sim::{Fidelity, LoadModel, RequestConfig, SafetyNet, ServiceTime, SimConfig};

/// The `[simulation]` section (scalars, after axis expansion).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimToml {
    pub fidelity: Fidelity,
    /// Seconds between controller decisions (default: the trace step).
    pub decision_interval_s: Option<f64>,
    pub startup_delay_s: f64,
    pub drain_s: f64,
    pub capacity_per_replica: f64,
    pub initial_replicas: u32,
    pub price_per_replica_hour: f64,
    pub over_factor: f64,
    pub slo_ms: f64,
    pub safety_net: SafetyToml,
    pub latency_model: LatencyToml,
    pub requests: RequestsToml,
}

impl Default for SimToml {
    fn default() -> Self {
        SimToml {
            fidelity: Fidelity::Fluid,
            decision_interval_s: None,
            startup_delay_s: 0.0,
            drain_s: 0.0,
            capacity_per_replica: 25.0,
            initial_replicas: 2,
            price_per_replica_hour: 0.0,
            over_factor: 1.15,
            slo_ms: 500.0,
            safety_net: SafetyToml::default(),
            latency_model: LatencyToml::default(),
            requests: RequestsToml::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetyToml {
    pub enabled: bool,
    pub latency_ms: f64,
    pub cpu_pct: f64,
}

impl Default for SafetyToml {
    fn default() -> Self {
        let d = SafetyNet::default();
        SafetyToml {
            enabled: d.enabled,
            latency_ms: d.latency_ms,
            cpu_pct: d.cpu_pct,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyToml {
    pub base_latency_ms: f64,
    pub overload_coeff: f64,
    pub overload_exponent: f64,
    pub cpu_at_capacity_pct: f64,
    pub timeout_ms: f64,
}

impl Default for LatencyToml {
    fn default() -> Self {
        let d = LoadModel::default();
        LatencyToml {
            base_latency_ms: d.base_latency_ms,
            overload_coeff: d.overload_coeff,
            overload_exponent: d.overload_exponent,
            cpu_at_capacity_pct: d.cpu_at_capacity_pct,
            timeout_ms: d.timeout_ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    Exponential,
    Deterministic,
    Lognormal,
    /// Each request's own service time, `base_ms + Σ ms_per[column] × size`, from the size
    /// columns of a request log.
    Sizes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestsToml {
    pub service_time: ServiceKind,
    /// Coefficient of variation for `lognormal`.
    pub cv: f64,
    pub concurrency: u32,
    pub queue_limit: usize,
    /// `sizes`: the service time of a request of size 0 (ms).
    pub base_ms: f64,
    /// `sizes`: ms of service per unit of each size column (e.g. per output token).
    pub ms_per: std::collections::BTreeMap<String, f64>,
}

impl Default for RequestsToml {
    fn default() -> Self {
        RequestsToml {
            service_time: ServiceKind::Exponential,
            cv: 1.0,
            concurrency: 1,
            queue_limit: 10_000,
            base_ms: 0.0,
            ms_per: Default::default(),
        }
    }
}

impl RequestsToml {
    /// Each request's service time (ms) under `service_time = "sizes"`, from `log`'s size
    /// columns; `None` for the other kinds.
    pub fn service_times(
        &self,
        log: Option<&crate::trace::request_log::RequestLog>,
    ) -> std::result::Result<Option<Vec<u64>>, String> {
        if self.service_time != ServiceKind::Sizes {
            return Ok(None);
        }
        let log = log.ok_or(
            "service_time = \"sizes\" needs a request log: set `per_request = true` and `size_columns` in [trace]",
        )?;
        if self.ms_per.is_empty() && self.base_ms <= 0.0 {
            return Err("service_time = \"sizes\" needs `base_ms` and/or `ms_per = { column = ms per unit }`".into());
        }
        let mut cols = Vec::new();
        for (c, &k) in &self.ms_per {
            if !(k >= 0.0 && k.is_finite()) {
                return Err(format!("ms_per.{c} must be a non-negative number, got {k}"));
            }
            let v = log.size(c).ok_or_else(|| {
                format!("ms_per names '{c}', which is not one of the trace's `size_columns`")
            })?;
            cols.push((k, v));
        }
        if !(self.base_ms >= 0.0 && self.base_ms.is_finite()) {
            return Err(format!(
                "base_ms must be a non-negative number, got {}",
                self.base_ms
            ));
        }
        Ok(Some(
            (0..log.t_ms.len())
                .map(|i| {
                    let ms = self.base_ms + cols.iter().map(|(k, v)| k * v[i]).sum::<f64>();
                    // At least 1 ms: a request takes some time.
                    ms.round().max(1.0) as u64
                })
                .collect(),
        ))
    }
}

impl SimToml {
    /// The simulator configuration for a trace of step `step_ms`.
    pub fn to_config(&self, step_ms: u64) -> std::result::Result<(SimConfig, ScoreConfig), String> {
        let ms = crate::time::ms_from_secs;
        let service = match self.requests.service_time {
            ServiceKind::Exponential => ServiceTime::Exponential,
            ServiceKind::Deterministic => ServiceTime::Deterministic,
            ServiceKind::Lognormal => ServiceTime::Lognormal {
                cv: self.requests.cv,
            },
            ServiceKind::Sizes => ServiceTime::Sizes,
        };
        let l = &self.latency_model;
        let cfg = SimConfig {
            fidelity: self.fidelity,
            step_ms,
            decision_interval_ms: match self.decision_interval_s {
                Some(s) => ms(s, "decision_interval_s")?,
                None => step_ms,
            },
            startup_delay_ms: ms(self.startup_delay_s, "startup_delay_s")?,
            drain_ms: ms(self.drain_s, "drain_s")?,
            capacity_per_replica: self.capacity_per_replica,
            initial_replicas: self.initial_replicas,
            load: LoadModel {
                base_latency_ms: l.base_latency_ms,
                overload_coeff: l.overload_coeff,
                overload_exponent: l.overload_exponent,
                cpu_at_capacity_pct: l.cpu_at_capacity_pct,
                timeout_ms: l.timeout_ms,
            },
            safety: SafetyNet {
                enabled: self.safety_net.enabled,
                latency_ms: self.safety_net.latency_ms,
                cpu_pct: self.safety_net.cpu_pct,
            },
            requests: RequestConfig {
                service,
                concurrency: self.requests.concurrency,
                queue_limit: self.requests.queue_limit,
                slo_ms: self.slo_ms,
            },
        };
        cfg.validate()?;
        if !(self.over_factor > 0.0) || self.price_per_replica_hour < 0.0 || !(self.slo_ms > 0.0) {
            return Err(
                "over_factor and slo_ms must be positive and price_per_replica_hour non-negative"
                    .into(),
            );
        }
        let sc = ScoreConfig {
            over_factor: self.over_factor,
            price_per_replica_hour: self.price_per_replica_hour,
            slo_ms: self.slo_ms,
        };
        Ok((cfg, sc))
    }
}
