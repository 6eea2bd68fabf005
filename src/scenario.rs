//! Scenario files: TOML in, a validated [`Scenario`] out, before any work starts.
//! Relative paths are resolved against the scenario file's folder; an unknown key is
//! rejected with its name; numeric lists become sweep axes.

pub mod axes;
pub mod forecasters;
pub mod hpa_manifest;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Table, Value};

use crate::error::{Error, Result};
use crate::metrics::ScoreConfig;
use crate::policy::PolicySpec;
use crate::sim::{Fidelity, LoadModel, RequestConfig, SafetyNet, ServiceTime, SimConfig};
use crate::time::parse_duration_ms;
use crate::trace::{GapPolicy, TraceSpec, ValueKind};
use crate::workload::generator::GeneratorConfig;
pub use axes::Assignment;
pub use forecasters::ForecasterSpec;

/// Where the workload comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceSource {
    File(TraceSpec),
    Generator(GeneratorConfig),
}

/// One simulation variant of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SimVariant {
    pub params: Assignment,
    /// Step and decision interval are filled in once the trace's step is known.
    pub sim: SimToml,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    pub base_dir: PathBuf,
    pub seed: u64,
    pub description: String,
    pub trace: TraceSource,
    pub train: String,
    pub test: Option<String>,
    pub sims: Vec<SimVariant>,
    pub forecasters: Vec<(Assignment, ForecasterSpec)>,
    pub policies: Vec<(Assignment, PolicySpec)>,
    pub timelines: bool,
    /// The file as parsed, for the manifest.
    pub raw: Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopToml {
    name: Option<String>,
    description: Option<String>,
    seed: Option<u64>,
    trace: Table,
    window: Option<WindowToml>,
    simulation: Option<Table>,
    #[serde(default)]
    forecasters: Vec<Table>,
    #[serde(default)]
    policies: Vec<Table>,
    output: Option<OutputToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowToml {
    /// Training span before the simulated window: a duration ("7d") or steps (10080).
    train: Option<Value>,
    test: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputToml {
    timelines: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceToml {
    file: Option<PathBuf>,
    generator: Option<Table>,
    timestamp_column: Option<String>,
    value_column: Option<String>,
    value_kind: Option<ValueKind>,
    step_s: Option<u64>,
    gaps: Option<GapPolicy>,
    #[serde(default)]
    regressors: Vec<String>,
    start: Option<String>,
    end: Option<String>,
    max_steps: Option<u64>,
    #[serde(default)]
    missing_values: Vec<f64>,
    missing_column: Option<String>,
    #[serde(default)]
    outages: Vec<crate::trace::Outage>,
    #[serde(default)]
    per_request: bool,
    #[serde(default)]
    size_columns: Vec<String>,
    timestamp_unit: Option<crate::trace::TimestampUnit>,
}

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

/// Resolves a window length (duration string or step count) to steps.
pub fn window_steps(v: &str, step_ms: u64) -> std::result::Result<usize, String> {
    if let Ok(n) = v.trim().parse::<usize>() {
        return Ok(n);
    }
    let ms = parse_duration_ms(v)
        .ok_or_else(|| format!("'{v}' is neither a step count nor a duration like \"7d\""))?;
    if ms % step_ms != 0 {
        return Err(format!(
            "'{v}' is not a whole number of {} s steps",
            step_ms as f64 / 1000.0
        ));
    }
    Ok((ms / step_ms) as usize)
}

fn value_text(v: &Value) -> std::result::Result<String, String> {
    match v {
        Value::Integer(i) if *i >= 0 => Ok(i.to_string()),
        Value::String(s) => Ok(s.clone()),
        other => Err(format!(
            "window lengths are step counts or durations like \"7d\", got {other}"
        )),
    }
}

fn no_axes(t: &Table, section: &str) -> std::result::Result<(), String> {
    match axes::expand(t).len() {
        1 => Ok(()),
        _ => Err(format!("[{section}] settings cannot be swept: only [simulation], [[forecasters]] and [[policies]] take lists")),
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let err = |m: String| Error::scenario(path, m);
    let raw: Table = toml::from_str(&text).map_err(|e| err(format!("not valid TOML: {e}")))?;
    let top: TopToml = Value::Table(raw.clone())
        .try_into()
        .map_err(|e: toml::de::Error| err(e.message().to_string()))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = top.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario")
            .to_string()
    });
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(err(format!(
            "name '{name}' must use letters, digits, '_' and '-' only (it names the output folder)"
        )));
    }
    no_axes(&top.trace, "trace").map_err(err)?;
    let tt: TraceToml = Value::Table(top.trace.clone())
        .try_into()
        .map_err(|e: toml::de::Error| err(format!("[trace]: {}", e.message())))?;
    let trace = match (&tt.file, &tt.generator) {
        (Some(f), None) => TraceSource::File(TraceSpec {
            path: base_dir.join(f),
            timestamp_column: tt
                .timestamp_column
                .clone()
                .unwrap_or_else(|| "timestamp".into()),
            value_column: tt.value_column.clone(),
            value_kind: tt.value_kind.unwrap_or_default(),
            step_s: tt.step_s,
            gaps: tt.gaps.unwrap_or_default(),
            regressors: tt.regressors.clone(),
            start: tt.start.clone(),
            end: tt.end.clone(),
            max_steps: tt.max_steps,
            missing_values: tt.missing_values.clone(),
            missing_column: tt.missing_column.clone(),
            outages: tt.outages.clone(),
            per_request: tt.per_request,
            size_columns: tt.size_columns.clone(),
            timestamp_unit: tt.timestamp_unit.unwrap_or_default(),
        }),
        (None, Some(g)) => TraceSource::Generator(
            generator_config(g).map_err(|m| err(format!("[trace.generator]: {m}")))?,
        ),
        _ => {
            return Err(err(
                "[trace] needs exactly one of `file` or a [trace.generator] table".into(),
            ))
        }
    };
    let window = top.window.as_ref();
    let train = match window.and_then(|w| w.train.as_ref()) {
        Some(v) => value_text(v).map_err(err)?,
        None => return Err(err("[window] needs `train` (e.g. train = \"7d\"): forecasters fit on it and the simulation starts after it".into())),
    };
    let test = window
        .and_then(|w| w.test.as_ref())
        .map(value_text)
        .transpose()
        .map_err(err)?;
    let sim_table = top.simulation.clone().unwrap_or_default();
    let mut sims = Vec::new();
    for (params, t) in axes::expand(&sim_table) {
        let lists = axes::string_lists(&t);
        let empty = axes::empty_list_message(&t);
        let sim: SimToml = Value::Table(t).try_into().map_err(|e: toml::de::Error| {
            if let Some(m) = &empty {
                return err(format!("[simulation]: {m}"));
            }
            // [simulation] is one entry, so a list of strings cannot become several.
            err(match lists.first() {
                Some(key) => format!(
                    "[simulation]: `{key}` is a list of strings, but [simulation] takes one value (only lists of numbers are sweep axes): write one scenario file per value and run them together with `sim sweep a.toml b.toml`"
                ),
                None => format!("[simulation]: {}", e.message()),
            })
        })?;
        // The trace's step is known only once it is loaded (prepare checks the settings
        // against it); a 1 ms step checks everything that does not depend on it.
        sim.to_config(1)
            .map_err(|m| err(format!("[simulation]: {m}")))?;
        sims.push(SimVariant {
            params: prefixed("sim", params),
            sim,
        });
    }
    let mut forecasters = Vec::new();
    let mut entry_names: Vec<String> = Vec::new();
    for (i, t) in top.forecasters.iter().enumerate() {
        for (params, t) in axes::expand(t) {
            let hint = axes::sweep_hint(&t);
            let empty = axes::empty_list_message(&t);
            let spec: ForecasterSpec =
                Value::Table(t).try_into().map_err(|e: toml::de::Error| {
                    err(match &empty {
                        Some(m) => format!("forecasters[{i}]: {m}"),
                        None => format!("forecasters[{i}]: {}{hint}", e.message()),
                    })
                })?;
            spec.validate()
                .map_err(|m| err(format!("forecasters[{i}]: {m}")))?;
            if entry_names.len() == i {
                let n = spec.display_name();
                if entry_names.contains(&n) {
                    return Err(err(format!("forecasters[{i}]: another forecaster is already named '{n}': give each a distinct `name`")));
                }
                entry_names.push(n);
            }
            forecasters.push((prefixed("forecaster", params), spec));
        }
    }
    let mut policies = Vec::new();
    let mut policy_names: Vec<String> = Vec::new();
    for (i, t) in top.policies.iter().enumerate() {
        let mut t = t.clone();
        hpa_manifest::merge(&mut t, &base_dir).map_err(|m| err(format!("policies[{i}]: {m}")))?;
        for (params, t) in axes::expand(&t) {
            let hint = axes::sweep_hint(&t);
            let empty = axes::empty_list_message(&t);
            let spec: PolicySpec = Value::Table(t).try_into().map_err(|e: toml::de::Error| {
                err(match &empty {
                    Some(m) => format!("policies[{i}]: {m}"),
                    None => format!("policies[{i}]: {}{hint}", e.message()),
                })
            })?;
            spec.validate()
                .map_err(|m| err(format!("policies[{i}]: {m}")))?;
            if policy_names.len() == i {
                let n = spec.display_name();
                if policy_names.contains(&n) {
                    return Err(err(format!("policies[{i}]: another policy is already named '{n}' (two entries of one kind share its name): give each a distinct `name`, e.g. name = \"{n}_2\"")));
                }
                policy_names.push(n);
            }
            policies.push((prefixed("policy", params), spec));
        }
    }
    if policies.is_empty() {
        return Err(err(
            "no [[policies]]: add at least one (e.g. kind = \"static\")".into(),
        ));
    }
    let needs_forecast = policies
        .iter()
        .any(|(_, p)| p.build().forecast_lead().is_some());
    if needs_forecast && forecasters.is_empty() {
        return Err(err(
            "a policy uses forecasts but the scenario has no [[forecasters]]".into(),
        ));
    }
    Ok(Scenario {
        name,
        path: path.to_path_buf(),
        base_dir,
        seed: top.seed.unwrap_or(0),
        description: top.description.unwrap_or_default(),
        trace,
        train,
        test,
        sims,
        forecasters,
        policies,
        timelines: top.output.and_then(|o| o.timelines).unwrap_or(true),
        raw,
    })
}

fn prefixed(prefix: &str, a: Assignment) -> Assignment {
    a.into_iter()
        .map(|(k, v)| (format!("{prefix}.{k}"), v))
        .collect()
}

/// A generator table: `preset` (mixed, smooth, spiky) plus any field overrides.
pub fn generator_config(t: &Table) -> std::result::Result<GeneratorConfig, String> {
    let preset = t.get("preset").and_then(Value::as_str).unwrap_or("mixed");
    let base = GeneratorConfig::preset(preset).map_err(|e| e.to_string())?;
    let mut merged: Table = Value::try_from(&base)
        .map_err(|e| e.to_string())?
        .as_table()
        .cloned()
        .unwrap_or_default();
    for (k, v) in t {
        if k != "preset" {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
}
