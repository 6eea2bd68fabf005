//! Reading a sweep's folder for a report: summary, accuracy, forecasts, timelines.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::analysis::CellRow;
use crate::error::{Error, Result};

/// One forecaster's one-step-ahead forecasts over the test window.
#[derive(Debug, Clone)]
pub struct ForecastSeries {
    pub label: String,
    /// Time since the test window's start, in [`SweepData::axis`] units.
    pub time: Vec<f64>,
    pub actual: Vec<f64>,
    pub yhat: Vec<f64>,
    pub q025: Vec<f64>,
    pub q10: Vec<f64>,
    pub q90: Vec<f64>,
    pub q975: Vec<f64>,
}

/// A cell's timeline (the columns the charts use).
#[derive(Debug, Clone)]
pub struct TimelineSeries {
    pub label: String,
    /// Time since the test window's start, in [`SweepData::axis`] units.
    pub time: Vec<f64>,
    pub demand: Vec<f64>,
    pub ready: Vec<f64>,
    pub latency_ms: Vec<f64>,
}

/// Everything a report needs from one sweep folder.
#[derive(Debug, Clone)]
pub struct SweepData {
    pub dir: PathBuf,
    pub name: String,
    pub description: String,
    pub manifest: serde_json::Value,
    pub rows: Vec<CellRow>,
    /// Cells with perfect foresight (an `oracle` forecaster, the `optimal` policy): bounds
    /// to measure against, kept out of `rows` (never recommended, never on a front).
    pub bounds: Vec<CellRow>,
    pub param_columns: Vec<String>,
    /// Accuracy table: header and rows, as written by the sweep.
    pub accuracy: Vec<Vec<String>>,
    pub forecasts: Vec<ForecastSeries>,
    pub test_steps: usize,
    pub step_ms: u64,
    /// Capacity per replica (the first value when swept), for demand in replicas.
    pub capacity: f64,
    /// Policy kind by policy name, from the scenario recorded in the manifest.
    pub policy_kinds: std::collections::BTreeMap<String, String>,
    /// The time axis of every chart over time.
    pub axis: TimeAxis,
}

/// A chart's time axis: a unit that suits the test window's length, counted from its
/// first step (named by its timestamp when the trace has absolute time).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeAxis {
    /// Milliseconds per axis unit.
    pub unit_ms: f64,
    /// `hours since 2025-01-08T00:00:00+00:00 (the test window's start)`.
    pub label: String,
}

impl TimeAxis {
    /// The axis for a test window of `span_ms` starting at `first` (the manifest's
    /// `first_test_timestamp`: ISO-8601, or seconds since the trace start).
    pub fn new(span_ms: f64, first: &str) -> TimeAxis {
        let (unit_ms, unit) = if span_ms <= 3.0 * 3_600_000.0 {
            (60_000.0, "minutes")
        } else if span_ms <= 4.0 * 86_400_000.0 {
            (3_600_000.0, "hours")
        } else {
            (86_400_000.0, "days")
        };
        let label = if first.contains('T') {
            format!("{unit} since {first} (the test window's start)")
        } else {
            format!("{unit} since the test window's start ({first} s into the trace)")
        };
        TimeAxis { unit_ms, label }
    }
    /// Times in ms as axis values from the first one.
    pub fn values(&self, ms: &[f64]) -> Vec<f64> {
        let t0 = ms.first().copied().unwrap_or(0.0);
        ms.iter().map(|t| (t - t0) / self.unit_ms).collect()
    }
}

fn pl(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |source| Error::Polars {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn read_parquet(path: &Path) -> Result<DataFrame> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(f).finish().map_err(pl(path))
}

pub(crate) fn f64_column(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<f64>> {
    let c = df
        .column(name)
        .map_err(pl(path))?
        .cast(&DataType::Float64)
        .map_err(pl(path))?;
    Ok(c.f64()
        .map_err(pl(path))?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

fn str_column(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<String>> {
    let c = df
        .column(name)
        .map_err(pl(path))?
        .cast(&DataType::String)
        .map_err(pl(path))?;
    Ok(c.str()
        .map_err(pl(path))?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

fn is_param(col: &str) -> bool {
    col.starts_with("sim.") || col.starts_with("forecaster.") || col.starts_with("policy.")
}

/// Reads a sweep folder written by `sim sweep` (or `sim merge`).
pub fn load(dir: &Path) -> Result<SweepData> {
    let manifest_path = dir.join("manifest.json");
    let manifest: serde_json::Value = std::fs::read_to_string(&manifest_path)
        .map_err(|_| Error::bad_file(dir, "not a sweep folder (no manifest.json): run `sim sweep` first, or pass reports/<scenario>"))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| Error::bad_file(&manifest_path, e.to_string())))?;
    let summary_path = dir.join("metrics_summary.parquet");
    let df = read_parquet(&summary_path)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let param_columns: Vec<String> = names.iter().filter(|c| is_param(c)).cloned().collect();
    let metric_columns: Vec<String> = names
        .iter()
        .filter(|c| {
            !is_param(c)
                && !["scenario", "cell", "forecaster", "policy", "seed"].contains(&c.as_str())
        })
        .cloned()
        .collect();
    let cells = f64_column(&df, &summary_path, "cell")?;
    let forecasters = str_column(&df, &summary_path, "forecaster")?;
    let policies = str_column(&df, &summary_path, "policy")?;
    let params: Vec<Vec<f64>> = param_columns
        .iter()
        .map(|c| f64_column(&df, &summary_path, c))
        .collect::<Result<_>>()?;
    let metrics: Vec<Vec<f64>> = metric_columns
        .iter()
        .map(|c| f64_column(&df, &summary_path, c))
        .collect::<Result<_>>()?;
    let metric = |name: &str, i: usize| {
        metric_columns
            .iter()
            .position(|c| c == name)
            .map_or(f64::NAN, |k| metrics[k][i])
    };
    let rows: Vec<CellRow> = (0..df.height())
        .map(|i| CellRow {
            cell: cells[i] as usize,
            forecaster: forecasters[i].clone(),
            policy: policies[i].clone(),
            params: param_columns
                .iter()
                .zip(&params)
                .map(|(c, v)| (c.clone(), v[i].is_finite().then_some(v[i])))
                .collect(),
            cost: metric("cost_replica_hours", i),
            under_events: metric("under_events", i),
            over_pct: metric("over_pct", i),
            switches: metric("switches", i),
            metrics: metric_columns
                .iter()
                .zip(&metrics)
                .map(|(c, v)| (c.clone(), v[i]))
                .collect(),
        })
        .collect();
    let accuracy: Vec<Vec<String>> = std::fs::read_to_string(dir.join("forecast_accuracy.csv"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let step_ms = manifest["trace"]["step_ms"].as_u64().unwrap_or(60_000);
    let test_steps = manifest["window"]["test_steps"].as_u64().unwrap_or(0) as usize;
    let axis = TimeAxis::new(
        test_steps as f64 * step_ms as f64,
        manifest["window"]["first_test_timestamp"]
            .as_str()
            .unwrap_or("0"),
    );
    let mut forecasts = Vec::new();
    for (i, row) in accuracy.iter().skip(1).enumerate() {
        let path = dir.join("forecasts").join(crate::sweep::forecast_name(i));
        if !path.exists() {
            continue;
        }
        let f = read_parquet(&path)?;
        let col = |n: &str| f64_column(&f, &path, n);
        let header = &accuracy[0];
        let label = forecaster_label(header, row);
        forecasts.push(ForecastSeries {
            label,
            time: axis.values(&col("time_ms")?),
            actual: col("actual")?,
            yhat: col("yhat")?,
            q025: col("q0.025")?,
            q10: col("q0.1")?,
            q90: col("q0.9")?,
            q975: col("q0.975")?,
        });
    }
    let capacity = match &manifest["parameters"]["simulation"]["capacity_per_replica"] {
        serde_json::Value::Number(n) => n.as_f64().unwrap_or(25.0),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_f64()).unwrap_or(25.0),
        _ => 25.0,
    };
    let policy_kinds: std::collections::BTreeMap<String, String> = manifest["parameters"]
        ["policies"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    let kind = p["kind"].as_str()?.to_string();
                    Some((p["name"].as_str().unwrap_or(&kind).to_string(), kind))
                })
                .collect()
        })
        .unwrap_or_default();
    let (bounds, rows): (Vec<CellRow>, Vec<CellRow>) = rows.into_iter().partition(|r: &CellRow| {
        crate::sweep::attribution::is_bound(
            &r.forecaster,
            policy_kinds.get(&r.policy).map(String::as_str),
        )
    });
    Ok(SweepData {
        bounds,
        policy_kinds,
        dir: dir.to_path_buf(),
        name: manifest["scenario"].as_str().unwrap_or("sweep").to_string(),
        description: manifest["description"].as_str().unwrap_or("").to_string(),
        test_steps,
        axis,
        step_ms,
        capacity,
        manifest,
        rows,
        param_columns,
        accuracy,
        forecasts,
    })
}

/// `name (window=15)` from an accuracy row.
fn forecaster_label(header: &[String], row: &[String]) -> String {
    let params: Vec<String> = header
        .iter()
        .zip(row)
        .skip(1)
        .take_while(|(h, _)| h.starts_with("forecaster."))
        .filter(|(_, v)| !v.is_empty())
        .map(|(h, v)| format!("{}={v}", h.trim_start_matches("forecaster.")))
        .collect();
    if params.is_empty() {
        row[0].clone()
    } else {
        format!("{} ({})", row[0], params.join(", "))
    }
}

/// Reads the timeline of `cell`, if the sweep wrote timelines.
pub fn timeline(data: &SweepData, cell: usize, label: String) -> Result<Option<TimelineSeries>> {
    let path = data
        .dir
        .join("timelines")
        .join(crate::sweep::cell_run::timeline_name(cell));
    if !path.exists() {
        return Ok(None);
    }
    let df = read_parquet(&path)?;
    Ok(Some(TimelineSeries {
        label,
        time: data.axis.values(&f64_column(&df, &path, "time_ms")?),
        demand: f64_column(&df, &path, "demand")?,
        ready: f64_column(&df, &path, "ready")?,
        latency_ms: f64_column(&df, &path, "latency_ms")?,
    }))
}
