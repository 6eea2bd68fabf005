//! Scenario files: TOML in, a validated [`Scenario`] out, before any work starts.
//! Relative paths are resolved against the scenario file's folder; an unknown key is
//! rejected with its name; numeric lists become sweep axes.

pub mod axes;
pub mod forecasters;
pub mod hpa_manifest;
pub mod replication;
pub mod simulation;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Table, Value};

use crate::error::{Error, Result};
use crate::policy::PolicySpec;
use crate::time::parse_duration_ms;
use crate::trace::{GapPolicy, TraceSpec, ValueKind};
use crate::workload::generator::GeneratorConfig;
pub use axes::Assignment;
pub use forecasters::ForecasterSpec;
pub use simulation::SimToml;

/// Most replications a scenario may ask for.
pub const MAX_REPLICATIONS: usize = 10_000;

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
    /// Runs of every cell with independent random streams (1: one run, no intervals).
    pub replications: usize,
    /// A policy or forecaster label every other cell is compared with (`comparisons.csv`).
    pub compare_to: Option<String>,
    /// Moving-block bootstrap intervals over the test window (`[bootstrap]`).
    pub bootstrap: Option<BootstrapSpec>,
    /// Every trace of a study (`[trace] file` naming several); one entry otherwise.
    pub traces: Vec<PathBuf>,
    /// How a study ranks and bounds configurations (`[study]`).
    pub study: StudySpec,
    /// The file as parsed, for the manifest.
    pub raw: Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopToml {
    name: Option<String>,
    description: Option<String>,
    seed: Option<u64>,
    replications: Option<usize>,
    compare_to: Option<String>,
    bootstrap: Option<BootstrapToml>,
    study: Option<StudySpec>,
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
struct BootstrapToml {
    /// Block length: a duration ("1d") or steps.
    block: Option<Value>,
    resamples: Option<usize>,
}

/// `[study]`: a configuration meets the budget on a trace when its under-provisioning
/// events are at most `under_budget_pct` % of the test steps; the violation bound holds
/// at confidence 1 − `beta`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    #[serde(default = "default_under_budget")]
    pub under_budget_pct: f64,
    #[serde(default = "default_beta")]
    pub beta: f64,
}

impl Default for StudySpec {
    fn default() -> StudySpec {
        StudySpec {
            under_budget_pct: default_under_budget(),
            beta: default_beta(),
        }
    }
}

fn default_under_budget() -> f64 {
    1.0
}
fn default_beta() -> f64 {
    0.05
}

/// `[bootstrap]`: block length (a duration or steps; resolved against the trace's step)
/// and the number of resamples.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapSpec {
    pub block: String,
    pub resamples: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputToml {
    timelines: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceToml {
    /// A file, a glob pattern, or a list of them (several files: a study).
    file: Option<Value>,
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
    scale: Option<f64>,
    mean: Option<f64>,
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
    from_table(read_table(path)?, path)
}

/// The scenario file as a TOML table.
pub fn read_table(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| Error::scenario(path, format!("not valid TOML: {e}")))
}

/// A scenario from its parsed file at `path` (relative paths resolve against its folder).
pub fn from_table(raw: Table, path: &Path) -> Result<Scenario> {
    let err = |m: String| Error::scenario(path, m);
    let top: TopToml = Value::Table(raw.clone())
        .try_into()
        .map_err(|e: toml::de::Error| err(e.message().to_string()))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = scenario_name(&top, path).map_err(err)?;
    let (trace, traces) = trace_source(&top.trace, &base_dir).map_err(err)?;
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
    let sims = sim_variants(top.simulation.clone().unwrap_or_default()).map_err(err)?;
    let forecasters: Vec<(Assignment, ForecasterSpec)> = entries(
        &top.forecasters,
        ("forecasters", "forecaster"),
        ForecasterSpec::validate,
        ForecasterSpec::display_name,
    )
    .map_err(err)?;
    let mut policy_tables = top.policies.clone();
    for (i, t) in policy_tables.iter_mut().enumerate() {
        hpa_manifest::merge(t, &base_dir).map_err(|m| err(format!("policies[{i}]: {m}")))?;
    }
    let policies: Vec<(Assignment, PolicySpec)> = entries(
        &policy_tables,
        ("policies", "policy"),
        PolicySpec::validate,
        PolicySpec::display_name,
    )
    .map_err(err)?;
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
    let replications = top.replications.unwrap_or(1);
    if !(1..=MAX_REPLICATIONS).contains(&replications) {
        return Err(err(format!(
            "replications = {replications}: give 1 to {MAX_REPLICATIONS} (each runs every cell again with fresh random streams)"
        )));
    }
    let bootstrap = match &top.bootstrap {
        None => None,
        Some(b) => {
            let resamples = b.resamples.unwrap_or(1000);
            if !(10..=100_000).contains(&resamples) {
                return Err(err(format!(
                    "[bootstrap] resamples = {resamples}: give 10 to 100000 (1000 is the usual)"
                )));
            }
            if replications > 1 {
                return Err(err(
                    "[bootstrap] and replications > 1 both give intervals: the bootstrap is for one deterministic run (uncertainty over time), replications for random ones; keep one".into(),
                ));
            }
            let block = match &b.block {
                Some(v) => value_text(v).map_err(|m| err(format!("[bootstrap] block: {m}")))?,
                None => "1d".into(),
            };
            Some(BootstrapSpec { block, resamples })
        }
    };
    if let Some(b) = &top.compare_to {
        let labels: Vec<String> = policies
            .iter()
            .map(|(_, p)| p.display_name())
            .chain(forecasters.iter().map(|(_, f)| f.display_name()))
            .collect();
        if !labels.contains(b) {
            return Err(err(format!(
                "compare_to = \"{b}\" names no policy or forecaster of this scenario; its labels are: {}",
                labels.join(", ")
            )));
        }
    }
    let study = top.study.unwrap_or_default();
    let budget_ok = (0.0..=100.0).contains(&study.under_budget_pct);
    let beta_ok = study.beta > 0.0 && study.beta < 1.0;
    if !(budget_ok && beta_ok) {
        return Err(err(format!(
            "[study]: under_budget_pct must be 0 to 100 and beta between 0 and 1 (got {} and {})",
            study.under_budget_pct, study.beta
        )));
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
        replications,
        compare_to: top.compare_to,
        bootstrap,
        traces,
        study,
        raw,
    })
}

/// The scenario's name (`name`, else the file's stem), checked: it names a folder.
fn scenario_name(top: &TopToml, path: &Path) -> std::result::Result<String, String> {
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
        return Err(format!(
            "name '{name}' must use letters, digits, '_' and '-' only (it names the output folder)"
        ));
    }
    Ok(name)
}

/// The `[trace]` section: a file or a generator, and every file it names (a study's
/// traces; empty for a generator). The source reads the first.
fn trace_source(
    t: &Table,
    base_dir: &Path,
) -> std::result::Result<(TraceSource, Vec<PathBuf>), String> {
    no_axes(t, "trace")?;
    let tt: TraceToml = Value::Table(t.clone())
        .try_into()
        .map_err(|e: toml::de::Error| format!("[trace]: {}", e.message()))?;
    let files = match &tt.file {
        Some(f) => trace_files(f, base_dir)?,
        None => Vec::new(),
    };
    let source = match (files.first(), &tt.generator) {
        (Some(first), None) => TraceSource::File(TraceSpec {
            path: first.clone(),
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
            scale: tt.scale,
            mean: tt.mean,
        }),
        (None, Some(g)) => TraceSource::Generator(
            generator_config(g).map_err(|m| format!("[trace.generator]: {m}"))?,
        ),
        _ => return Err("[trace] needs exactly one of `file` or a [trace.generator] table".into()),
    };
    Ok((source, files))
}

/// The files `[trace] file` names: one path, a glob pattern (`traces/*.csv`), or a list
/// of either, relative to the scenario's folder; in the order given, each pattern's
/// matches sorted. None matching is an error.
pub fn trace_files(v: &Value, base_dir: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let items: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .ok_or_else(|| format!("[trace] file: a list of paths, got {x}"))
            })
            .collect::<std::result::Result<_, _>>()?,
        other => {
            return Err(format!(
                "[trace] file: a path or a list of paths, got {other}"
            ))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let path = base_dir.join(item);
        if !item.contains(['*', '?', '[']) {
            out.push(path);
            continue;
        }
        let pattern = path.to_string_lossy().to_string();
        let mut found: Vec<PathBuf> = glob::glob(&pattern)
            .map_err(|e| format!("[trace] file: bad pattern '{item}': {e}"))?
            .filter_map(|p| p.ok())
            .filter(|p| p.is_file())
            .collect();
        if found.is_empty() {
            return Err(format!(
                "[trace] file: no file matches '{item}' (in {})",
                base_dir.display()
            ));
        }
        found.sort();
        out.append(&mut found);
    }
    if out.is_empty() {
        return Err("[trace] file: the list is empty".into());
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(d) = out.iter().find(|p| !seen.insert(*p)) {
        return Err(format!("[trace] file: {} is named twice", d.display()));
    }
    Ok(out)
}

/// `[simulation]`, one variant per combination of its sweep axes.
fn sim_variants(sim_table: Table) -> std::result::Result<Vec<SimVariant>, String> {
    let mut sims = Vec::new();
    for (params, t) in axes::expand(&sim_table) {
        let lists = axes::string_lists(&t);
        let empty = axes::empty_list_message(&t);
        let sim: SimToml = Value::Table(t).try_into().map_err(|e: toml::de::Error| {
            if let Some(m) = &empty {
                return format!("[simulation]: {m}");
            }
            // [simulation] is one entry, so a list of strings cannot become several.
            match lists.first() {
                Some(key) => format!(
                    "[simulation]: `{key}` is a list of strings, but [simulation] takes one value (only lists of numbers are sweep axes): write one scenario file per value and run them together with `sim sweep a.toml b.toml`"
                ),
                None => format!("[simulation]: {}", e.message()),
            }
        })?;
        // The trace's step is known only once it is loaded (prepare checks the settings
        // against it); a 1 ms step checks everything that does not depend on it.
        sim.to_config(1, None)
            .map_err(|m| format!("[simulation]: {m}"))?;
        sims.push(SimVariant {
            params: prefixed("sim", params),
            sim,
        });
    }
    Ok(sims)
}

/// `[[forecasters]]` or `[[policies]]` (`plural`: the section, `what`: one entry): every
/// entry expanded over its sweep axes, read, checked, and its name checked to be distinct.
fn entries<T: serde::de::DeserializeOwned>(
    tables: &[Table],
    (plural, what): (&str, &str),
    validate: fn(&T) -> std::result::Result<(), String>,
    display_name: fn(&T) -> String,
) -> std::result::Result<Vec<(Assignment, T)>, String> {
    let mut out = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        for (params, t) in axes::expand(t) {
            let hint = axes::sweep_hint(&t);
            let empty = axes::empty_list_message(&t);
            let spec: T =
                Value::Table(t)
                    .try_into()
                    .map_err(|e: toml::de::Error| match &empty {
                        Some(m) => format!("{plural}[{i}]: {m}"),
                        None => format!("{plural}[{i}]: {}{hint}", e.message()),
                    })?;
            validate(&spec).map_err(|m| format!("{plural}[{i}]: {m}"))?;
            if names.len() == i {
                let n = display_name(&spec);
                // It labels the rows of every CSV output, unquoted.
                if n.is_empty() || n.contains([',', '"', '\n', '\r']) {
                    return Err(format!("{plural}[{i}]: name '{n}' must be non-empty, without commas, quotes or line breaks (it labels CSV rows)"));
                }
                if names.contains(&n) {
                    return Err(format!("{plural}[{i}]: another {what} is already named '{n}' (two entries of one kind share its name): give each a distinct `name`, e.g. name = \"{n}_2\""));
                }
                names.push(n);
            }
            out.push((prefixed(what, params), spec));
        }
    }
    Ok(out)
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
