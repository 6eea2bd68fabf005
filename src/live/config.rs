//! `live.toml`: the service, Prometheus, controller, forecaster and policy of a live run.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::policy::control::SafetyNet;
use crate::policy::PolicySpec;
use crate::scenario::forecasters::ForecasterSpec;
use crate::service::service_time::ServiceTimeDist;

/// A whole live configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    pub service: ServiceSection,
    #[serde(default)]
    pub prometheus: PrometheusSection,
    pub controller: ControllerSection,
    /// The forecaster (any `[[forecasters]]` kind of a scenario except `file`); online
    /// `naive` when absent.
    pub forecaster: Option<ForecasterSpec>,
    pub policy: PolicySpec,
    /// The safety net: the same keys and defaults as a scenario's `safety_net`.
    #[serde(default)]
    pub safety_net: SafetyNet,
    /// The trace and cluster of `sim live --backend simulated`.
    #[serde(default)]
    pub simulated: SimulatedSection,
    /// An activator in front of the replicas (needed for `min_replicas = 0`): `sim live`
    /// runs it, Prometheus scrapes it, and the demand is read at it.
    pub activator: Option<ActivatorSection>,
    /// Where this file was read from (relative paths resolve against its folder).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `sim live --backend simulated`: the fluid simulator's cluster replaying a trace, one
/// trace step per decision interval.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedSection {
    /// CSV or Parquet trace (`--trace` overrides); its step must be the decision interval.
    pub trace: Option<PathBuf>,
    pub timestamp_column: Option<String>,
    pub value_column: Option<String>,
    /// Trace steps before the first decision, given to the forecaster as history
    /// (default: `controller.history_s` worth).
    pub start_step: Option<usize>,
    /// Decisions to run (default: to the end of the trace).
    pub steps: Option<usize>,
    /// A new replica serves this long after it is asked for.
    #[serde(default)]
    pub startup_delay_s: f64,
    /// A removed replica keeps costing this long.
    #[serde(default)]
    pub drain_s: f64,
}

/// `[activator]`: the proxy that holds requests while no replica is healthy (see
/// [`crate::service::activator`]). Clients send to its port, not to the replicas'.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivatorSection {
    /// Loopback port it listens on.
    pub port: u16,
    /// Requests held at most while no replica is healthy (Knative's breaker: 10 000).
    #[serde(default = "default_activator_capacity")]
    pub capacity: usize,
    /// Seconds a held request waits before 504 (Knative's revision timeout: 300).
    #[serde(default = "default_activator_timeout")]
    pub timeout_s: f64,
    /// Seconds between health probes of the replicas.
    #[serde(default = "default_activator_probe")]
    pub probe_s: f64,
}

fn default_activator_capacity() -> usize {
    10_000
}
fn default_activator_timeout() -> f64 {
    300.0
}
fn default_activator_probe() -> f64 {
    0.2
}

/// The replicas: what runs and where.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// Service name: the `scalesim.service` label of its containers and the lock's name.
    pub name: String,
    /// Image with `sim` as its entry point (`sim image` builds `scalesim-serve:latest`).
    #[serde(default = "default_image")]
    pub image: String,
    /// Replicas listen on 127.0.0.1 ports from here up.
    #[serde(default = "default_base_port")]
    pub base_port: u16,
    #[serde(default = "default_port_span")]
    pub port_span: u16,
    #[serde(default = "default_service_time")]
    pub service_time: ServiceTimeDist,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Seconds a stopping replica gets to finish its requests before it is killed.
    #[serde(default = "default_stop_timeout")]
    pub stop_timeout_s: u32,
}

/// Where Prometheus is and how it scrapes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSection {
    #[serde(default = "default_prom_url")]
    pub url: String,
    #[serde(default = "default_scrape")]
    pub scrape_interval_s: f64,
    /// Window of rate() and the latency histogram (at least two scrapes; default 4).
    pub rate_window_s: Option<f64>,
    /// Seconds one query may take.
    #[serde(default = "default_query_timeout")]
    pub timeout_s: f64,
}

impl Default for PrometheusSection {
    fn default() -> Self {
        PrometheusSection {
            url: default_prom_url(),
            scrape_interval_s: default_scrape(),
            rate_window_s: None,
            timeout_s: default_query_timeout(),
        }
    }
}

impl PrometheusSection {
    /// The scrape interval in whole ms (at least 1).
    pub fn scrape_ms(&self) -> u64 {
        (self.scrape_interval_s * 1000.0).round().max(1.0) as u64
    }
    pub fn rate_window_s(&self) -> f64 {
        self.rate_window_s.unwrap_or(4.0 * self.scrape_interval_s)
    }
}

/// What to do with the replicas when the controller stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnExit {
    /// Leave them running as they are.
    #[default]
    Keep,
    /// Scale to the policy's minimum.
    Min,
    /// Stop and remove all of them.
    Remove,
}

/// The control loop.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerSection {
    /// Seconds between decisions (the simulator's step). Default: the policy's own
    /// cadence where it has one (the HPA's `sync_period_s`, 15 s), else 60.
    #[serde(default = "default_interval")]
    pub interval_s: f64,
    /// Requests per second one replica serves within its latency objective.
    pub capacity_per_replica_rps: f64,
    /// History to warm the forecaster up with (query_range), seconds.
    #[serde(default = "default_history")]
    pub history_s: f64,
    /// Replicas to start with (the policy's minimum when absent).
    pub initial_replicas: Option<u32>,
    #[serde(default)]
    pub on_exit: OnExit,
    /// Decision log (Parquet, the simulator's timeline schema) and its CSV twin.
    #[serde(default = "default_decisions")]
    pub decisions: PathBuf,
    /// Stop after this many decisions (runs until SIGINT / SIGTERM when absent).
    pub max_decisions: Option<u64>,
    /// Loopback port of the controller's own /metrics (desired and ready replicas, demand,
    /// forecast) for Prometheus and the Grafana dashboard; none when absent.
    pub metrics_port: Option<u16>,
    /// With a saved Prophet model (`forecaster.model_file`): the model time (RFC 3339) of
    /// the first decision; each decision then advances the model clock by one model step,
    /// so a time-compressed replay (`sim load --speedup`) meets the model's calendar. The
    /// wall clock when absent.
    pub model_start: Option<String>,
}

fn default_image() -> String {
    super::IMAGE.to_string()
}
fn default_base_port() -> u16 {
    18080
}
fn default_port_span() -> u16 {
    100
}
fn default_service_time() -> ServiceTimeDist {
    ServiceTimeDist::PROTOTYPE
}
fn default_concurrency() -> usize {
    4
}
fn default_queue() -> usize {
    32
}
fn default_stop_timeout() -> u32 {
    10
}
fn default_prom_url() -> String {
    "http://127.0.0.1:9090".into()
}
fn default_scrape() -> f64 {
    5.0
}
/// Unset until [`LiveConfig::load`] resolves it: 5 s, or a quarter of the decision
/// interval when that is shorter (a decision makes several queries).
fn default_query_timeout() -> f64 {
    f64::NAN
}
/// Unset until [`LiveConfig::load`] picks the policy's cadence or 60 s.
fn default_interval() -> f64 {
    f64::NAN
}
fn default_history() -> f64 {
    3600.0
}
fn default_decisions() -> PathBuf {
    PathBuf::from("reports/live/decisions.parquet")
}
impl LiveConfig {
    /// Reads and checks a live configuration.
    pub fn load(path: &Path) -> Result<LiveConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read live configuration {}", path.display()))?;
        let malformed = || format!("{}: malformed live configuration", path.display());
        let mut table: toml::Table = toml::from_str(&text).with_context(malformed)?;
        if table.contains_key("safety") {
            bail!(
                "{}: [safety] is now [safety_net], with a scenario's keys and defaults: latency_ms \
                 (was latency_p95_ms; default 150 ms), cpu_pct (90 %), enabled",
                path.display()
            );
        }
        let mut cfg: LiveConfig = match table.get_mut("policy") {
            Some(toml::Value::Table(p)) if p.contains_key("manifest") => {
                let dir = path.parent().unwrap_or_else(|| Path::new("."));
                crate::scenario::hpa_manifest::merge(p, dir)
                    .map_err(|e| anyhow::anyhow!("policy: {e}"))
                    .with_context(malformed)?;
                toml::Value::Table(table)
                    .try_into()
                    .with_context(malformed)?
            }
            // Parsed from the text, so that errors keep their line and column.
            _ => toml::from_str(&text).with_context(malformed)?,
        };
        cfg.path = path.to_path_buf();
        cfg.default_interval();
        cfg.validate()
            .with_context(|| format!("{}: invalid live configuration", path.display()))?;
        Ok(cfg)
    }

    /// A path from the file, relative to its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or_else(|| Path::new(".")).join(p)
        }
    }

    /// An unset `controller.interval_s`: the policy's own decision interval (the HPA's sync
    /// period), else one minute.
    pub fn default_interval(&mut self) {
        if self.controller.interval_s.is_nan() {
            let own = self.policy_interval_ms();
            self.controller.interval_s = own.map_or(60.0, |ms| ms as f64 / 1000.0);
        }
        if self.prometheus.timeout_s.is_nan() {
            self.prometheus.timeout_s = (self.controller.interval_s / 4.0).min(5.0);
        }
    }

    fn policy_interval_ms(&self) -> Option<u64> {
        self.policy.validate().ok()?;
        self.policy.build().decision_interval_ms()
    }

    pub fn validate(&self) -> Result<()> {
        let s = &self.service;
        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "service.name '{}' must be letters, digits, '-' or '_'",
                s.name
            );
        }
        if s.concurrency == 0 {
            bail!("service.concurrency must be at least 1");
        }
        if s.port_span == 0 || s.base_port.checked_add(s.port_span).is_none() {
            bail!("service.base_port + port_span must stay below 65536");
        }
        let c = &self.controller;
        let pos = |v: f64, key: &str| -> Result<()> {
            if !(v > 0.0 && v.is_finite()) {
                bail!("{key} must be a positive number, got {v}");
            }
            Ok(())
        };
        pos(c.interval_s, "controller.interval_s")?;
        pos(
            c.capacity_per_replica_rps,
            "controller.capacity_per_replica_rps",
        )?;
        pos(
            self.prometheus.scrape_interval_s,
            "prometheus.scrape_interval_s",
        )?;
        pos(self.prometheus.rate_window_s(), "prometheus.rate_window_s")?;
        pos(self.prometheus.timeout_s, "prometheus.timeout_s")?;
        if self.prometheus.timeout_s >= c.interval_s {
            bail!(
                "prometheus.timeout_s ({} s) must be below controller.interval_s ({} s): a hanging Prometheus would stall every decision; leave it out (a quarter of the interval, at most 5 s) or lower it",
                self.prometheus.timeout_s,
                c.interval_s
            );
        }
        if !(c.history_s >= 0.0) {
            bail!("controller.history_s must be zero or positive");
        }
        if self.prometheus.rate_window_s() < 2.0 * self.prometheus.scrape_interval_s {
            bail!(
                "prometheus.rate_window_s ({}) must cover at least two scrapes ({} s each)",
                self.prometheus.rate_window_s(),
                self.prometheus.scrape_interval_s
            );
        }
        if !self.prometheus.url.starts_with("http://")
            && !self.prometheus.url.starts_with("https://")
        {
            bail!(
                "prometheus.url '{}' must start with http:// or https://",
                self.prometheus.url
            );
        }
        self.policy
            .validate()
            .map_err(|e| anyhow::anyhow!("policy: {e}"))?;
        if self.policy.kind() == crate::policy::spec::PolicyKind::Optimal {
            bail!("policy: kind 'optimal' replays the least-cost schedule of a known future, which a live run does not have; it is a bound for sweeps: use a real policy");
        }
        if let Some(ms) = self.policy_interval_ms() {
            if self.interval_ms() != ms {
                bail!(
                    "controller.interval_s ({} s) differs from the policy's own decision interval \
                     ({} s, its sync_period_s): leave controller.interval_s out, or set \
                     policy.sync_period_s to the same value",
                    c.interval_s,
                    ms as f64 / 1000.0
                );
            }
        }
        let bounds = self.bounds();
        if bounds.min == 0 && self.activator.is_none() {
            bail!(
                "policy min_replicas is 0 but there is no [activator] to hold requests while no \
                 replica runs, so a scale to zero would drop them: add an [activator] section \
                 (port = 8079; clients then send to that port) or set policy.min_replicas = 1"
            );
        }
        if let Some(a) = &self.activator {
            pos(a.timeout_s, "activator.timeout_s")?;
            pos(a.probe_s, "activator.probe_s")?;
            if a.capacity == 0 {
                bail!("activator.capacity must be at least 1 (requests held while no replica is ready)");
            }
            let ports = s.base_port..s.base_port + s.port_span;
            if ports.contains(&a.port) || self.controller.metrics_port == Some(a.port) {
                bail!(
                    "activator.port {} is taken: it lies in the replicas' ports ({}..{}) or is \
                     controller.metrics_port; pick a port outside them",
                    a.port,
                    ports.start,
                    ports.end
                );
            }
        }
        if bounds.max as usize > s.port_span as usize {
            bail!(
                "policy max_replicas ({}) exceeds service.port_span ({}): every replica needs its own port",
                bounds.max,
                s.port_span
            );
        }
        if let Some(f) = &self.forecaster {
            use crate::scenario::forecasters::{ForecasterKind, ForecasterParams};
            if f.kind() == ForecasterKind::Lstm && f.model_file().is_none() {
                bail!("forecaster: kind 'lstm' runs live from saved weights only: set model_file to a card written by `sim train` (models/<scenario>/<name>.json)");
            }
            let mut check = f.clone();
            if let ForecasterParams::Prophet(p) = &mut check.params {
                // A saved Prophet model is allowed live (model_file); the rest as in scenarios.
                p.model_file = None;
            }
            check
                .validate()
                .map_err(|e| anyhow::anyhow!("forecaster: {e}"))?;
            if f.kind() == ForecasterKind::File {
                bail!("forecaster: kind 'file' reads a fixed forecast and cannot run live; use a model kind");
            }
            if f.kind() == ForecasterKind::Oracle {
                bail!("forecaster: kind 'oracle' knows the future, which a live run does not; it is a bound for sweeps: use a model kind");
            }
        }
        Ok(())
    }

    /// Settings that are legal but almost surely a mistake.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(a) = &self.activator {
            if self.bounds().min > 0 {
                w.push(format!(
                    "[activator] is set but policy min_replicas is {}: the service never scales \
                     to zero, so the activator only adds a hop; set min_replicas = 0 or drop it",
                    self.bounds().min
                ));
            }
            if a.timeout_s <= self.controller.interval_s {
                w.push(format!(
                    "activator.timeout_s ({} s) is at most controller.interval_s ({} s): a request \
                     held at zero replicas times out before a decision can start one",
                    a.timeout_s, self.controller.interval_s
                ));
            }
        }
        let net = &self.safety_net;
        let service = self.service.service_time.mean_ms();
        if net.enabled && net.latency_ms < service {
            w.push(format!(
                "safety_net.latency_ms ({} ms) is below the service's mean service time ({service} ms): \
                 the safety net will add a replica at almost every decision; raise it or set enabled = false",
                net.latency_ms
            ));
        }
        w
    }

    /// The decision interval in whole milliseconds: the live step everywhere.
    pub fn interval_ms(&self) -> u64 {
        (self.controller.interval_s * 1000.0).round() as u64
    }

    /// Requests one replica is given per decision interval (the policies' capacity).
    pub fn capacity_per_interval(&self) -> f64 {
        self.controller.capacity_per_replica_rps * (self.interval_ms() as f64 / 1000.0)
    }

    /// The policy's replica bounds.
    pub fn bounds(&self) -> crate::policy::Bounds {
        self.policy.bounds()
    }

    pub fn initial_replicas(&self) -> u32 {
        self.bounds().clamp(
            self.controller
                .initial_replicas
                .unwrap_or(self.bounds().min),
        )
    }
}
