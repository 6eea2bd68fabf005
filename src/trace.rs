//! Trace files at the edge: loading CSV / Parquet demand series through polars
//! (timestamps, resampling, gaps, validation) and writing workloads back out.

mod csv_check;
pub mod forecast_file;
mod parse;
pub mod request_log;
mod resample;
pub mod write;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::workload::Workload;
pub use parse::{parse_timestamp, Instant};
pub use resample::{Gap, GapPolicy};

/// How the value column should be aggregated when steps are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A count of requests in the interval: merged steps are summed.
    #[default]
    Count,
    /// A rate: merged steps are averaged.
    Rate,
}

/// Where a trace comes from and how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// CSV or Parquet file (by extension).
    pub path: PathBuf,
    /// Timestamp column (ISO-8601 with or without offset, epoch seconds, or seconds since the start).
    #[serde(default = "default_ts")]
    pub timestamp_column: String,
    /// Value column; defaults to the first column that is not the timestamp.
    #[serde(default)]
    pub value_column: Option<String>,
    /// How to merge values when resampling.
    #[serde(default)]
    pub value_kind: ValueKind,
    /// Resample to this step (seconds); defaults to the trace's own spacing.
    #[serde(default)]
    pub step_s: Option<u64>,
    /// What to do with steps that have no row.
    #[serde(default)]
    pub gaps: GapPolicy,
    /// Known-in-advance regressor columns to carry along (e.g. `is_event`).
    #[serde(default)]
    pub regressors: Vec<String>,
    /// Keep rows at or after this time (same format as the timestamps).
    #[serde(default)]
    pub start: Option<String>,
    /// Keep rows before this time.
    #[serde(default)]
    pub end: Option<String>,
    /// Refuse traces whose resampled length exceeds this many steps (default
    /// [`resample::DEFAULT_MAX_STEPS`]).
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// Values that mean "not collected" (e.g. `[0]` for a logger that writes 0 when down):
    /// a step with such a row is missing.
    #[serde(default)]
    pub missing_values: Vec<f64>,
    /// A column whose non-zero (or `true`) rows are missing.
    #[serde(default)]
    pub missing_column: Option<String>,
    /// Windows `[start, end)` in the timestamps' format whose steps are missing.
    #[serde(default)]
    pub outages: Vec<Outage>,
    /// One row per request (a request log) instead of one row per interval: rows are
    /// counted per step for the forecasters, and request mode replays them exactly.
    #[serde(default)]
    pub per_request: bool,
    /// Per-request size columns (e.g. input and output tokens) a service-time model reads.
    #[serde(default)]
    pub size_columns: Vec<String>,
    /// Unit of numeric timestamps: `s` (default), `ms`, `us` or `ns`.
    #[serde(default)]
    pub timestamp_unit: TimestampUnit,
    /// Multiplies every value (e.g. one function with a fleet's shape); `None`: 1.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Rescales the series so that its mean per step is this (after `scale`): traces of
    /// different sizes in one study then meet the same replica capacity.
    #[serde(default)]
    pub mean: Option<f64>,
}

/// Unit of numeric timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimestampUnit {
    #[default]
    S,
    Ms,
    Us,
    Ns,
}

impl TimestampUnit {
    /// Units per second.
    pub fn per_second(self) -> f64 {
        match self {
            TimestampUnit::S => 1.0,
            TimestampUnit::Ms => 1e3,
            TimestampUnit::Us => 1e6,
            TimestampUnit::Ns => 1e9,
        }
    }
}

/// A known collection outage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    pub start: String,
    pub end: String,
}

fn default_ts() -> String {
    "timestamp".into()
}

impl TraceSpec {
    /// A spec with defaults for a file.
    pub fn for_path(path: impl Into<PathBuf>) -> TraceSpec {
        TraceSpec {
            path: path.into(),
            timestamp_column: default_ts(),
            value_column: None,
            value_kind: ValueKind::Count,
            step_s: None,
            gaps: GapPolicy::Error,
            regressors: vec![],
            start: None,
            end: None,
            max_steps: None,
            missing_values: vec![],
            missing_column: None,
            outages: vec![],
            per_request: false,
            size_columns: vec![],
            timestamp_unit: TimestampUnit::S,
            scale: None,
            mean: None,
        }
    }
}

/// A loaded trace and what loading had to repair.
#[derive(Debug, Clone)]
pub struct LoadedTrace {
    pub workload: Workload,
    /// Runs of steps that had no row, filled by the gap policy.
    pub gaps: Vec<Gap>,
}

/// Reads a whole table as string columns (CSV) or native columns (Parquet).
pub(crate) fn read_table(path: &Path) -> Result<DataFrame> {
    if !path.exists() {
        return Err(Error::bad_file(
            path,
            "file not found: check the path (it is relative to the current directory)",
        ));
    }
    if path.is_dir() {
        return Err(Error::bad_file(
            path,
            "is a folder, not a file: name a CSV or Parquet file inside it",
        ));
    }
    let pl = |source| Error::Polars {
        path: path.to_path_buf(),
        source,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let df = match ext.as_str() {
        "parquet" | "pq" => {
            probe_parquet(path)?;
            let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            read_parquet_guarded(f, path)?.map_err(pl)?
        }
        "csv" | "txt" => {
            csv_check::check(path)?;
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .map_err(pl)?
                .finish()
                .map_err(pl)?;
            drop_trailing_blank_rows(df)
        }
        "gz" | "zst" | "bz2" | "xz" | "zip" => {
            return Err(Error::bad_file(
                path,
                "compressed traces are not read: decompress it first (e.g. `gunzip -k`) and point the trace at the .csv or .parquet inside",
            ))
        }
        other => {
            return Err(Error::bad_file(
                path,
                format!("unsupported extension '.{other}': use .csv or .parquet"),
            ))
        }
    };
    if df.height() == 0 {
        return Err(Error::bad_file(path, "the file has no data rows"));
    }
    Ok(df)
}

/// The frame without the all-null rows at its end (blank lines an editor left).
fn drop_trailing_blank_rows(df: DataFrame) -> DataFrame {
    let blank = |i: usize| {
        df.columns()
            .iter()
            .all(|c| c.get(i).is_ok_and(|v| v.is_null()))
    };
    let mut n = df.height();
    while n > 0 && blank(n - 1) {
        n -= 1;
    }
    df.slice(0, n)
}

/// `text` for an error message: at most 60 characters, with the full length when cut.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
    }
}

/// The hidden `sim` subcommand that reads a Parquet file and exits: [`probe_parquet`].
pub const PROBE_COMMAND: &str = "__probe-parquet";

/// Reads `path` in a child `sim` first when one can be found (the running `sim`, or
/// `SCALESIM_SIM_BINARY`): some malformed page headers make polars 0.55 ask for an
/// allocation of exabytes, which aborts the process instead of returning an error, and
/// an abort cannot be caught in-process. The child's failure becomes an error naming the
/// file; the child itself reads under an 8 GB address-space cap.
fn probe_parquet(path: &Path) -> Result<()> {
    let exe = match std::env::var_os("SCALESIM_SIM_BINARY") {
        Some(p) => PathBuf::from(p),
        None => match std::env::current_exe() {
            Ok(p) if p.file_stem().is_some_and(|s| s == "sim") => p,
            // Linked into another program: no probe (the in-process guard still catches
            // the panics).
            _ => return Ok(()),
        },
    };
    let out = std::process::Command::new(&exe)
        .arg(PROBE_COMMAND)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| Error::io(&exe, e))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let why = err
        .lines()
        .find(|l| l.contains("memory allocation") || l.starts_with("error"))
        .unwrap_or("the reader aborted");
    Err(Error::bad_file(
        path,
        format!(
            "malformed Parquet file: reading it failed ({}); rewrite it with pandas or polars, or export it as CSV",
            clip(why.trim())
        ),
    ))
}

/// What the probe child runs: reads `path` with polars under an address-space cap.
pub fn probe_main(path: &Path) -> i32 {
    // 8 GB of address space is plenty for a trace (mmap and thread stacks included); a
    // corrupt size then fails at once instead of paging the machine into swap.
    // SAFETY: setrlimit with a valid struct only changes this process's limits.
    unsafe {
        let lim = libc::rlimit {
            rlim_cur: 8 << 30,
            rlim_max: 8 << 30,
        };
        libc::setrlimit(libc::RLIMIT_AS, &lim);
    }
    let Ok(f) = std::fs::File::open(path) else {
        return 2;
    };
    match read_parquet_guarded(f, path) {
        Ok(Ok(_)) => 0,
        _ => 1,
    }
}

/// polars' Parquet reader, with its panics turned into an error naming the file: some
/// malformed files trip assertions inside polars 0.55 (a bitmap offset, a range check,
/// thrift metadata) instead of returning an error, and must not abort `sim`.
fn read_parquet_guarded(
    f: std::fs::File,
    path: &Path,
) -> Result<polars::prelude::PolarsResult<DataFrame>> {
    // The default hook would print the panic as if `sim` itself had failed; the file is
    // read before any other thread of ours runs, so swapping the hook is safe here.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(f).finish()
    }));
    std::panic::set_hook(hook);
    r.map_err(|p| {
        let why = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        let why: String = why.chars().take(200).collect();
        Error::bad_file(
            path,
            format!("malformed Parquet file: the reader gave up ({why}); rewrite it with pandas or polars, or export it as CSV"),
        )
    })
}

/// Returns a column as strings (for timestamps) or an error naming the available columns.
pub(crate) fn column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> Result<&'a Column> {
    df.column(name).map_err(|_| {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        Error::bad_file(
            path,
            format!(
                "missing column '{name}' (columns are: {})",
                names.join(", ")
            ),
        )
    })
}

/// Column values as optional strings, whatever the stored type.
pub(crate) fn column_strings(col: &Column, path: &Path) -> Result<Vec<Option<String>>> {
    let s = col.as_materialized_series();
    let casted = s.cast(&DataType::String).map_err(|source| Error::Polars {
        path: path.to_path_buf(),
        source,
    })?;
    let ca = casted.str().map_err(|source| Error::Polars {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

/// A timestamp column as text: native Parquet timestamps (any unit, naive or zoned) and
/// dates become the text a CSV of the same data would hold — zoned ones RFC 3339 with
/// the zone's offset at that instant, naive ones naive — so both load alike.
pub(crate) fn timestamp_strings(col: &Column, path: &Path) -> Result<Vec<Option<String>>> {
    use chrono::{DateTime, SecondsFormat};
    let s = col.as_materialized_series();
    let pl = |source| Error::Polars {
        path: path.to_path_buf(),
        source,
    };
    let past = |row: usize| Error::bad_row(path, row, "timestamp past the year 262143");
    match s.dtype() {
        DataType::Datetime(unit, tz) => {
            let per_ms = match unit {
                TimeUnit::Nanoseconds => 1_000_000,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1,
            };
            let tz = tz.as_ref().map(|t| t.to_chrono()).transpose().map_err(pl)?;
            let phys = s.to_physical_repr();
            let values = phys.i64().map_err(pl)?;
            values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.map(|v| {
                        let utc = DateTime::from_timestamp_millis(v.div_euclid(per_ms))
                            .ok_or_else(|| past(i + 1))?;
                        Ok(match &tz {
                            Some(tz) => utc
                                .with_timezone(tz)
                                .to_rfc3339_opts(SecondsFormat::Millis, true),
                            None => utc.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                        })
                    })
                    .transpose()
                })
                .collect()
        }
        DataType::Date => {
            let phys = s.to_physical_repr();
            let days = phys.i32().map_err(pl)?;
            days.iter()
                .enumerate()
                .map(|(i, d)| {
                    d.map(|d| {
                        DateTime::from_timestamp(d as i64 * 86_400, 0)
                            .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
                            .ok_or_else(|| past(i + 1))
                    })
                    .transpose()
                })
                .collect()
        }
        _ => column_strings(col, path),
    }
}

/// Parses a numeric column: every value must be a finite, non-negative number.
pub(crate) fn numeric_column(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<f64>> {
    let col = column(df, path, name)?;
    let strings = column_strings(col, path)?;
    strings
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let row = i + 1;
            let text =
                v.ok_or_else(|| Error::bad_row(path, row, format!("column '{name}' is empty")))?;
            let x: f64 = text.trim().parse().map_err(|_| {
                Error::bad_row(
                    path,
                    row,
                    format!("column '{name}': '{}' is not a number", clip(&text)),
                )
            })?;
            if x.is_nan() {
                return Err(Error::bad_row(path, row, format!("column '{name}' is NaN")));
            }
            if !x.is_finite() {
                return Err(Error::bad_row(
                    path,
                    row,
                    format!("column '{name}' is infinite"),
                ));
            }
            if x < 0.0 {
                return Err(Error::bad_row(
                    path,
                    row,
                    format!("column '{name}' is negative ({x}): demand must be >= 0"),
                ));
            }
            Ok(x)
        })
        .collect()
}

/// Loads a trace: parses timestamps, checks values, resamples and fills gaps.
pub fn load(spec: &TraceSpec, name: &str) -> Result<LoadedTrace> {
    let path = spec.path.as_path();
    let df = read_table(path)?;
    let mut ts_strings = timestamp_strings(column(&df, path, &spec.timestamp_column)?, path)?;
    if spec.timestamp_unit != TimestampUnit::S {
        let per = spec.timestamp_unit.per_second();
        for t in ts_strings.iter_mut().flatten() {
            if let Ok(x) = t.trim().parse::<f64>() {
                *t = format!("{}", x / per);
            }
        }
    }
    if let Some(k) = spec.scale {
        if !(k > 0.0 && k.is_finite()) || spec.per_request {
            return Err(Error::bad_file(
                path,
                format!(
                    "trace scale must be a positive number and is for counts, not request logs \
                     (per_request), got {k}"
                ),
            ));
        }
    }
    if spec.per_request {
        return request_log::load(&df, path, &ts_strings, spec, name);
    }
    let value_name = match &spec.value_column {
        Some(v) => v.clone(),
        None => df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .find(|c| *c != spec.timestamp_column)
            .ok_or_else(|| Error::bad_file(path, "no value column besides the timestamp"))?,
    };
    let mut values = numeric_column(&df, path, &value_name)?;
    if let Some(k) = spec.scale {
        values.iter_mut().for_each(|v| *v *= k);
    }
    if let Some(m) = spec.mean {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let mu = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
        let usable = m > 0.0 && m.is_finite() && mu > 0.0;
        if !usable || spec.per_request {
            return Err(Error::bad_file(
                path,
                format!(
                    "trace mean = {m}: give a positive number, for a count trace whose own mean \
                     is positive (this one's is {mu})"
                ),
            ));
        }
        values.iter_mut().for_each(|v| *v *= m / mu);
    }
    // Rows marked missing (by value or by the mask column) become NaN here.
    let mask = match &spec.missing_column {
        Some(c) => Some(mask_column(&df, path, c)?),
        None => None,
    };
    for (i, v) in values.iter_mut().enumerate() {
        if spec.missing_values.contains(v) || mask.as_ref().is_some_and(|m| m[i]) {
            *v = f64::NAN;
        }
    }
    let mut regressors = Vec::new();
    for r in &spec.regressors {
        regressors.push((r.clone(), numeric_column(&df, path, r)?));
    }
    let mut instants = parse::parse_column(&ts_strings, path)?;
    let bound = |b: &Option<String>, key: &str| -> Result<Option<i64>> {
        b.as_deref()
            .map(|t| {
                parse_timestamp(t).map(|i| i.ms()).ok_or_else(|| {
                    Error::bad_file(path, format!("trace {key} '{t}' is not a timestamp"))
                })
            })
            .transpose()
    };
    let (lo, hi) = (bound(&spec.start, "start")?, bound(&spec.end, "end")?);
    if lo.is_some() || hi.is_some() {
        let keep: Vec<bool> = instants
            .iter()
            .map(|i| lo.is_none_or(|l| i.ms() >= l) && hi.is_none_or(|h| i.ms() < h))
            .collect();
        let filter = |v: &[f64]| {
            v.iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(x, _)| *x)
                .collect::<Vec<f64>>()
        };
        values = filter(&values);
        for (_, r) in regressors.iter_mut() {
            *r = filter(r);
        }
        instants = instants
            .into_iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(i, _)| i)
            .collect();
        if instants.is_empty() {
            return Err(Error::bad_file(
                path,
                "no rows between the trace's start and end",
            ));
        }
    }
    let outages = outage_windows(spec, path)?;
    resample::build(name, path, &instants, &values, &regressors, &outages, spec)
}

/// The `outages` windows as `[start, end)` in ms (the timestamps' clock).
fn outage_windows(spec: &TraceSpec, path: &Path) -> Result<Vec<(i64, i64)>> {
    spec.outages
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let at = |t: &str, key: &str| {
                parse_timestamp(t).map(|i| i.ms()).ok_or_else(|| {
                    Error::bad_file(path, format!("outages[{k}].{key} '{t}' is not a timestamp"))
                })
            };
            let (a, b) = (at(&o.start, "start")?, at(&o.end, "end")?);
            if b <= a {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "outages[{k}] ends ({}) before it starts ({})",
                        o.end, o.start
                    ),
                ));
            }
            Ok((a, b))
        })
        .collect()
}

/// A missing-row mask column: true where the value is non-zero or `true`.
fn mask_column(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<bool>> {
    column_strings(column(df, path, name)?, path)?
        .into_iter()
        .enumerate()
        .map(
            |(i, v)| match v.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                None | Some("") | Some("0") | Some("false") | Some("0.0") => Ok(false),
                Some("1") | Some("true") | Some("1.0") => Ok(true),
                Some(other) => Err(Error::bad_file(
                    path,
                    format!(
                        "missing_column '{name}' row {}: '{other}' is not 0/1 or true/false",
                        i + 1
                    ),
                )),
            },
        )
        .collect()
}
