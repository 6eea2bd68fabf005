//! The `[simulation]` section of a scenario: the cluster, its service, the safety net
//! and the scoring settings, resolved into a [`SimConfig`] and a [`ScoreConfig`].

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::metrics::ScoreConfig;
use crate::sim::{
    Empirical, Fidelity, LoadModel, Measurement, RequestConfig, SafetyNet, ServiceTime, SimConfig,
};

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
    /// The metrics pipeline the controller reads demand through; absent: exact readings.
    pub measurement: Option<MeasurementToml>,
    /// Windows `[start_s, end_s)`, seconds from the start of the simulated window, in
    /// which the controller's metrics cannot be read (a Prometheus or scaler outage).
    pub metric_outages: Vec<[f64; 2]>,
}

/// `[simulation.measurement]`: a request counter scraped every `scrape_interval_s` (the
/// first scrape `scrape_offset_s` in), its increase over `window_s` (default: the decision
/// interval) read `delay_s` before each decision. See [`crate::sim::measure`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasurementToml {
    pub scrape_interval_s: f64,
    #[serde(default)]
    pub scrape_offset_s: f64,
    pub window_s: Option<f64>,
    #[serde(default)]
    pub delay_s: f64,
}

impl MeasurementToml {
    pub fn to_measurement(&self) -> std::result::Result<Measurement, String> {
        let ms = crate::time::ms_from_secs;
        let m = Measurement {
            scrape_ms: ms(self.scrape_interval_s, "measurement.scrape_interval_s")?,
            offset_ms: ms(self.scrape_offset_s, "measurement.scrape_offset_s")?,
            window_ms: self
                .window_s
                .map(|w| ms(w, "measurement.window_s"))
                .transpose()?,
            delay_ms: ms(self.delay_s, "measurement.delay_s")?,
        };
        m.validate()?;
        Ok(m)
    }
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
            measurement: None,
            metric_outages: Vec::new(),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    Exponential,
    Deterministic,
    Lognormal,
    /// Each request's own service time, `base_ms + Σ ms_per[column] × size`, from the size
    /// columns of a request log.
    Sizes,
    /// Uniform between `min_ms` and `max_ms`.
    Uniform,
    /// Resampled from `samples` (a file of service times) or `histogram` (`[ms, count]` pairs).
    Empirical,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestsToml {
    pub service_time: ServiceKind,
    /// Coefficient of variation for `lognormal`.
    pub cv: f64,
    /// The replica's mean service time (ms) for `exponential`, `deterministic` and
    /// `lognormal`; absent: `concurrency · step / capacity_per_replica`.
    pub mean_ms: Option<f64>,
    /// `uniform`: its bounds (ms).
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// `empirical`: a CSV of service times in ms (its `service_ms` column, or its only
    /// one), relative to the scenario's folder.
    pub samples: Option<std::path::PathBuf>,
    /// `empirical`: `[[ms, count], …]`.
    pub histogram: Option<Vec<[f64; 2]>>,
    /// Warn when `capacity_per_replica` and what a replica serves (concurrency / mean
    /// service time) differ by more than this factor.
    pub capacity_mismatch_factor: f64,
    pub concurrency: u32,
    pub queue_limit: usize,
    /// `sizes`: the service time of a request of size 0 (ms).
    pub base_ms: f64,
    /// `sizes`: ms of service per unit of each size column (e.g. per output token).
    pub ms_per: std::collections::BTreeMap<String, f64>,
    /// Requests the activator buffers while no replica is ready (10 000).
    pub activator_capacity: usize,
    /// Seconds a buffered request waits before it is dropped (300).
    pub activator_timeout_s: f64,
}

impl Default for RequestsToml {
    fn default() -> Self {
        RequestsToml {
            service_time: ServiceKind::Exponential,
            cv: 1.0,
            mean_ms: None,
            min_ms: None,
            max_ms: None,
            samples: None,
            histogram: None,
            capacity_mismatch_factor: 1.25,
            concurrency: 1,
            queue_limit: 10_000,
            base_ms: 0.0,
            ms_per: Default::default(),
            activator_capacity: 10_000,
            activator_timeout_s: 300.0,
        }
    }
}

impl RequestsToml {
    /// The `empirical` kind's sample file, read against `base_dir` (`None` for the other
    /// kinds and for a histogram). Read once per sweep: strings are not sweep axes, so
    /// every variant names the same file.
    pub fn read_samples(
        &self,
        base_dir: &Path,
    ) -> std::result::Result<Option<Arc<Empirical>>, String> {
        match (&self.samples, self.service_time) {
            (Some(f), ServiceKind::Empirical) => {
                Ok(Some(Arc::new(read_samples(&base_dir.join(f))?)))
            }
            _ => Ok(None),
        }
    }

    /// The service-time distribution, with the sample file [`Self::read_samples`] read
    /// (`None`: not read; only the keys are checked). A key of another kind is refused.
    pub fn service(
        &self,
        samples: Option<&Arc<Empirical>>,
    ) -> std::result::Result<ServiceTime, String> {
        let kind = self.service_time;
        let given = [
            (
                "mean_ms",
                self.mean_ms.is_some(),
                matches!(
                    kind,
                    ServiceKind::Exponential | ServiceKind::Deterministic | ServiceKind::Lognormal
                ),
            ),
            (
                "min_ms",
                self.min_ms.is_some(),
                kind == ServiceKind::Uniform,
            ),
            (
                "max_ms",
                self.max_ms.is_some(),
                kind == ServiceKind::Uniform,
            ),
            (
                "samples",
                self.samples.is_some(),
                kind == ServiceKind::Empirical,
            ),
            (
                "histogram",
                self.histogram.is_some(),
                kind == ServiceKind::Empirical,
            ),
        ];
        if let Some((key, ..)) = given.iter().find(|(_, set, applies)| *set && !applies) {
            return Err(format!(
                "`{key}` does not apply to service_time = \"{}\"",
                crate::entry::serde_name(&kind)
            ));
        }
        Ok(match kind {
            ServiceKind::Exponential => ServiceTime::Exponential,
            ServiceKind::Deterministic => ServiceTime::Deterministic,
            ServiceKind::Lognormal => ServiceTime::Lognormal { cv: self.cv },
            ServiceKind::Sizes => ServiceTime::Sizes,
            ServiceKind::Uniform => match (self.min_ms, self.max_ms) {
                (Some(min_ms), Some(max_ms)) => ServiceTime::Uniform { min_ms, max_ms },
                _ => return Err("service_time = \"uniform\" needs `min_ms` and `max_ms`".into()),
            },
            ServiceKind::Empirical => ServiceTime::Empirical(match (&self.samples, &self.histogram) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err("service_time = \"empirical\" needs one of `samples = \"FILE\"` or `histogram = [[ms, count], …]`".into())
                }
                (None, Some(h)) => Arc::new(Empirical::new(h.iter().map(|p| (p[0], p[1])))?),
                (Some(_), None) => match samples {
                    Some(e) => e.clone(),
                    // Checked for real once the scenario's folder is known.
                    None => Arc::new(Empirical::from_samples(&[1.0])?),
                },
            }),
        })
    }

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
    /// `samples`: the sample file [`RequestsToml::read_samples`] read (`None`: not read).
    pub fn to_config(
        &self,
        step_ms: u64,
        samples: Option<&Arc<Empirical>>,
    ) -> std::result::Result<(SimConfig, ScoreConfig), String> {
        let ms = crate::time::ms_from_secs;
        let service = self.requests.service(samples)?;
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
                mean_ms: self.requests.mean_ms,
                concurrency: self.requests.concurrency,
                queue_limit: self.requests.queue_limit,
                slo_ms: self.slo_ms,
                mismatch_factor: self.requests.capacity_mismatch_factor,
                record: false,
                activator: crate::sim::Activator {
                    capacity: self.requests.activator_capacity,
                    timeout_ms: ms(self.requests.activator_timeout_s, "activator_timeout_s")?,
                },
            },
            metric_outages: self
                .metric_outages
                .iter()
                .map(|&[a, b]| {
                    let (a, b) = (ms(a, "metric_outages")?, ms(b, "metric_outages")?);
                    if b <= a {
                        return Err(format!(
                            "metric_outages: the window [{}, {}] ends before it starts: write                              [start_s, end_s] with end_s > start_s",
                            a as f64 / 1000.0,
                            b as f64 / 1000.0
                        ));
                    }
                    Ok((a, b))
                })
                .collect::<std::result::Result<_, String>>()?,
            measurement: self
                .measurement
                .as_ref()
                .map(MeasurementToml::to_measurement)
                .transpose()?,
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

/// A file of service times (ms): the `service_ms` column of a CSV or Parquet table, or
/// its only column.
fn read_samples(path: &Path) -> std::result::Result<Empirical, String> {
    let df = crate::trace::read_table(path).map_err(|e| format!("samples: {e}"))?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = if names.iter().any(|c| c == "service_ms") {
        "service_ms".to_string()
    } else if names.len() == 1 {
        names[0].clone()
    } else {
        return Err(format!(
            "samples {}: no `service_ms` column (columns: {}); name the column of service times in ms `service_ms`",
            path.display(),
            names.join(", ")
        ));
    };
    let v = crate::report::data::f64_column(&df, path, &col).map_err(|e| e.to_string())?;
    if let Some(i) = v.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
        return Err(format!(
            "samples {}: row {} of `{col}` is not a non-negative number of ms",
            path.display(),
            i + 1
        ));
    }
    Empirical::from_samples(&v).map_err(|e| format!("samples {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(text: &str) -> RequestsToml {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn service_time_kinds_and_their_keys() {
        let u = requests("service_time = 'uniform'\nmin_ms = 50\nmax_ms = 200");
        assert_eq!(
            u.service(None).unwrap(),
            ServiceTime::Uniform {
                min_ms: 50.0,
                max_ms: 200.0
            }
        );
        let e = requests("service_time = 'uniform'\nmin_ms = 50").service(None);
        assert!(e.unwrap_err().contains("needs `min_ms` and `max_ms`"));
        let e = requests("service_time = 'exponential'\nmin_ms = 50").service(None);
        assert_eq!(
            e.unwrap_err(),
            "`min_ms` does not apply to service_time = \"exponential\""
        );
        let e =
            requests("service_time = 'uniform'\nmin_ms = 1\nmax_ms = 2\nmean_ms = 3").service(None);
        assert!(e.unwrap_err().contains("`mean_ms` does not apply"));
        let h = requests("service_time = 'empirical'\nhistogram = [[100, 3], [400, 1]]")
            .service(None)
            .unwrap();
        assert_eq!(h.own_mean_ms(), Some(175.0));
        let e = requests("service_time = 'empirical'").service(None);
        assert!(e.unwrap_err().contains("needs one of `samples"));
    }

    #[test]
    fn samples_file_is_read_by_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.csv"), "ms\n100\n200\n300\n").unwrap();
        std::fs::write(dir.path().join("log.csv"), "at_ms,service_ms\n0,10\n5,30\n").unwrap();
        std::fs::write(dir.path().join("two.csv"), "a,b\n1,2\n").unwrap();
        std::fs::write(dir.path().join("bad.csv"), "ms\n100\n-3\n").unwrap();
        let read = |f: &str| {
            let r = requests(&format!("service_time = 'empirical'\nsamples = '{f}'"));
            r.read_samples(dir.path())
                .and_then(|e| r.service(e.as_ref()))
        };
        assert_eq!(read("one.csv").unwrap().own_mean_ms(), Some(200.0));
        assert_eq!(read("log.csv").unwrap().own_mean_ms(), Some(20.0));
        assert!(read("two.csv")
            .unwrap_err()
            .contains("no `service_ms` column (columns: a, b)"));
        assert!(read("bad.csv").unwrap_err().contains("row 2 of `ms`"));
        assert!(read("none.csv").unwrap_err().contains("file not found"));
    }
}
