//! `sim forecast`: fit any forecaster on a trace up to a time and write its forecast.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::forecast::{ForecastBuf, History};
use crate::scenario::forecasters::{ForecasterKind, ForecasterSpec};
use crate::scenario::window_steps;
use crate::trace::{self, parse_timestamp, TraceSpec};
use crate::workload::Workload;

#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// Forecaster kind: naive, seasonal_naive, moving_average, holt_winters, prophet, ridge,
    /// random_forest, lstm (a build with the `lstm` feature); file and oracle are for
    /// scenarios only.
    #[arg(long)]
    pub model: String,
    /// Trace file (CSV or Parquet).
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long, default_value = "timestamp")]
    pub timestamp_column: String,
    /// Value column (default: the first column after the timestamp).
    #[arg(long)]
    pub value_column: Option<String>,
    /// Steps with no row: error, zero, interpolate or missing (skipped by the fit).
    #[arg(long, value_enum, default_value = "error")]
    pub gaps: GapArg,
    /// Known-in-advance regressor columns (repeatable); Prophet uses them.
    #[arg(long = "regressor")]
    pub regressors: Vec<String>,
    /// Fit on the steps before this time (same format as the trace's timestamps).
    #[arg(long)]
    pub train_until: String,
    /// Steps (e.g. 1440) or a duration (e.g. 2d) to forecast.
    #[arg(long)]
    pub horizon: String,
    /// Forecaster settings: a TOML table as in a scenario's [[forecasters]] entry
    /// (e.g. `period = 1440`, or `[prophet]` with Prophet's settings).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output file: .csv or .parquet.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GapArg {
    Error,
    Zero,
    Interpolate,
    Missing,
}

pub fn run(a: ForecastArgs) -> Result<()> {
    if !matches!(
        a.out.extension().and_then(|e| e.to_str()),
        Some("csv" | "parquet")
    ) {
        bail!("--out {} must end in .csv or .parquet", a.out.display());
    }
    let spec = TraceSpec {
        timestamp_column: a.timestamp_column.clone(),
        value_column: a.value_column.clone(),
        regressors: a.regressors.clone(),
        gaps: match a.gaps {
            GapArg::Error => trace::GapPolicy::Error,
            GapArg::Zero => trace::GapPolicy::Zero,
            GapArg::Interpolate => trace::GapPolicy::Interpolate,
            GapArg::Missing => trace::GapPolicy::Missing,
        },
        ..TraceSpec::for_path(&a.input)
    };
    let w = trace::load(&spec, "input")?.workload;
    let train = train_steps(&a, &w)?;
    let horizon = horizon_steps(&a, &w)?;
    let fspec = forecaster_spec(&a)?;
    if !a.regressors.is_empty() && train + horizon > w.len() {
        bail!("the forecast reaches past the trace, where the regressors' values are unknown: shorten --horizon to at most {}", w.len() - train);
    }
    let f = fspec.build(&w, std::path::Path::new("."), train..train + 1)?;
    let model = f.fit(History {
        y: &w.demand[..train],
        start_step: 0,
        step_ms: w.step_ms,
    })?;
    let mut buf = ForecastBuf::default();
    buf.reset(horizon);
    model.predict(&mut buf);
    let timestamps: Vec<String> = (train..train + horizon)
        .map(|s| match w.start {
            Some(_) => w.timestamp_label(s),
            None => ((s as u64 * w.step_ms) / 1000).to_string(),
        })
        .collect();
    crate::trace::forecast_file::write(&a.out, &timestamps, &buf)?;
    eprintln!(
        "{}: fitted on {train} steps, {horizon} steps forecast -> {}",
        f.name(),
        a.out.display()
    );
    Ok(())
}

/// The training steps `--train-until` leaves (at least 2, at most the whole trace).
fn train_steps(a: &ForecastArgs, w: &Workload) -> Result<usize> {
    let cut = parse_timestamp(&a.train_until)
        .with_context(|| format!("--train-until '{}' is not a timestamp", a.train_until))?;
    // ms after the trace's first step: an absolute time against an absolute trace, or
    // seconds since the start against either.
    let after_start = match (cut, w.start) {
        (trace::Instant::Absolute { ms, .. }, Some(s)) => ms - s.timestamp_millis(),
        (trace::Instant::Absolute { .. }, None) => bail!(
            "--train-until '{}' is an absolute time, but the trace's timestamps count seconds since its start: give seconds since the start (e.g. --train-until {})",
            a.train_until,
            w.len() as u64 * w.step_ms / 2000
        ),
        (trace::Instant::Relative { ms }, _) => ms,
    };
    let train = (after_start.max(0) as u64).div_ceil(w.step_ms) as usize;
    if train < 2 || train > w.len() {
        let span = match w.start {
            Some(_) => format!(
                "from {} to {}",
                w.timestamp_label(0),
                w.timestamp_label(w.len() - 1)
            ),
            None => format!(
                "counted in seconds since its start, 0 to {}",
                w.timestamp_label(w.len() - 1)
            ),
        };
        bail!(
            "--train-until leaves {train} training steps, but at least 2 and at most all of them are needed; the trace has {} steps of {} s, {span}",
            w.len(),
            w.step_ms as f64 / 1000.0,
        );
    }
    Ok(train)
}

/// The steps `--horizon` asks for (1 to 10^7).
fn horizon_steps(a: &ForecastArgs, w: &Workload) -> Result<usize> {
    let horizon =
        window_steps(&a.horizon, w.step_ms).map_err(|m| anyhow::anyhow!("--horizon: {m}"))?;
    // Quantiles take 11 values a step: 10^7 steps is about 1 GB of forecast.
    const MAX_HORIZON: usize = 10_000_000;
    if horizon > MAX_HORIZON {
        bail!("--horizon of {horizon} steps is over the limit of {MAX_HORIZON} (a forecast that long needs {:.0} GB): forecast a shorter horizon", horizon as f64 * 96.0 / 1e9);
    }
    if horizon == 0 {
        bail!("--horizon must be at least one step");
    }
    Ok(horizon)
}

/// The forecaster `--model` and `--config` describe (`--regressor`s added), checked.
fn forecaster_spec(a: &ForecastArgs) -> Result<ForecasterSpec> {
    let mut table: toml::Table = match &a.config {
        Some(p) => toml::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("{} is not valid TOML", p.display()))?,
        None => toml::Table::new(),
    };
    table.insert("kind".into(), toml::Value::String(a.model.clone()));
    if !a.regressors.is_empty() {
        table.insert(
            "regressors".into(),
            toml::Value::Array(
                a.regressors
                    .iter()
                    .map(|r| toml::Value::String(r.clone()))
                    .collect(),
            ),
        );
    }
    let fspec: ForecasterSpec = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("forecaster settings: {}", e.message()))?;
    fspec
        .validate()
        .map_err(|m| anyhow::anyhow!("forecaster settings: {m}"))?;
    if fspec.kind() == ForecasterKind::File {
        bail!("`file` forecasts are read, not fitted: use them in a scenario");
    }
    if fspec.kind() == ForecasterKind::Oracle {
        bail!("`oracle` knows the future (it is a perfect-foresight bound for sweeps): it cannot forecast beyond the trace; use a model kind");
    }
    Ok(fspec)
}
