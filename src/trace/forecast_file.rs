//! Reading external forecast files (`timestamp, yhat[, yhat_lower, yhat_upper][, q0.9 ...]`)
//! and aligning them to a workload's steps.

use std::path::Path;

use super::parse::parse_column;
use super::{column, column_strings, read_table, timestamp_strings};
use crate::error::{Error, Result};
use crate::forecast::file::ExternalForecast;
use crate::forecast::{ForecastBuf, QUANTILES};
use crate::workload::Workload;

fn floats(df: &polars::prelude::DataFrame, path: &Path, name: &str) -> Result<Vec<f64>> {
    let col = column(df, path, name)?;
    column_strings(col, path)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let t =
                v.ok_or_else(|| Error::bad_row(path, i + 1, format!("column '{name}' is empty")))?;
            let x: f64 = t.trim().parse().map_err(|_| {
                Error::bad_row(
                    path,
                    i + 1,
                    format!("column '{name}': '{t}' is not a number"),
                )
            })?;
            if !x.is_finite() {
                return Err(Error::bad_row(
                    path,
                    i + 1,
                    format!("column '{name}' is not finite"),
                ));
            }
            Ok(x)
        })
        .collect()
}

/// Loads a forecast file and places each row at the workload step with the same time.
/// Quantile columns named `q<level>` (e.g. `q0.9`) for every level in `QUANTILES`
/// take precedence over an interval.
pub fn load(
    path: &Path,
    w: &Workload,
    ts_col: &str,
    value_col: &str,
    lower_col: Option<&str>,
    upper_col: Option<&str>,
    width: f64,
) -> Result<ExternalForecast> {
    let df = read_table(path)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let instants = parse_column(&timestamp_strings(column(&df, path, ts_col)?, path)?, path)?;
    let yhat = floats(&df, path, value_col)?;
    let origin = match w.start {
        Some(s) => s.timestamp_millis(),
        None => 0,
    };
    let step = w.step_ms as i64;
    let mut aligned = vec![f64::NAN; w.len()];
    let mut index = Vec::with_capacity(yhat.len());
    for (row, inst) in instants.iter().enumerate() {
        let off = inst.ms() - origin;
        if off % step != 0 {
            return Err(Error::bad_row(
                path,
                row + 1,
                format!("timestamp is not on the trace's {} s grid", step / 1000),
            ));
        }
        let i = off / step;
        let slot = (i >= 0 && (i as usize) < w.len()).then_some(i as usize);
        if let Some(i) = slot {
            aligned[i] = yhat[row];
        }
        index.push(slot);
    }
    let q_cols: Vec<String> = QUANTILES.iter().map(|q| format!("q{q}")).collect();
    let quantiles = if q_cols.iter().all(|c| names.contains(c)) {
        let cols: Vec<Vec<f64>> = q_cols
            .iter()
            .map(|c| floats(&df, path, c))
            .collect::<Result<_>>()?;
        Some(place(&index, w.len(), |row, k| cols[k][row]))
    } else {
        let lower = lower_col.map(str::to_string).or_else(|| {
            names
                .contains(&"yhat_lower".to_string())
                .then(|| "yhat_lower".into())
        });
        let upper = upper_col.map(str::to_string).or_else(|| {
            names
                .contains(&"yhat_upper".to_string())
                .then(|| "yhat_upper".into())
        });
        match (lower, upper) {
            (Some(l), Some(u)) => {
                let lo = floats(&df, path, &l)?;
                let hi = floats(&df, path, &u)?;
                let q = ExternalForecast::quantiles_from_interval(&yhat, &lo, &hi, width);
                Some(place(&index, w.len(), |row, k| {
                    q[row * QUANTILES.len() + k]
                }))
            }
            (None, None) => None,
            _ => {
                return Err(Error::bad_file(
                    path,
                    "give both lower and upper interval columns, or neither",
                ))
            }
        }
    };
    Ok(ExternalForecast {
        yhat: aligned,
        quantiles,
    })
}

fn place(index: &[Option<usize>], n: usize, value: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let q = QUANTILES.len();
    let mut out = vec![f64::NAN; n * q];
    for (row, slot) in index.iter().enumerate() {
        if let Some(i) = slot {
            for k in 0..q {
                out[i * q + k] = value(row, k);
            }
        }
    }
    out
}

/// Writes a forecast as `sim forecast` does, in the format [`load`] reads: `timestamp`,
/// `yhat`, the 80 % interval (`yhat_lower`, `yhat_upper`: the 0.1 and 0.9 quantiles) and
/// every quantile (`q0.025` …), one row per step of `buf`; CSV or Parquet by the
/// extension, written atomically.
pub fn write(path: &Path, timestamps: &[String], buf: &ForecastBuf) -> Result<()> {
    let q = QUANTILES.len();
    let (lo, hi) = (
        crate::forecast::quantile_index(0.1).expect("0.1 is a quantile"),
        crate::forecast::quantile_index(0.9).expect("0.9 is a quantile"),
    );
    let quantile = |k: usize| -> Vec<f64> {
        (0..timestamps.len())
            .map(|h| buf.quantiles[h * q + k])
            .collect()
    };
    let mut columns: Vec<(String, Vec<f64>)> = vec![
        ("yhat".into(), buf.point[..timestamps.len()].to_vec()),
        ("yhat_lower".into(), quantile(lo)),
        ("yhat_upper".into(), quantile(hi)),
    ];
    columns.extend(
        QUANTILES
            .iter()
            .enumerate()
            .map(|(k, v)| (format!("q{v}"), quantile(k))),
    );
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "csv" => super::write::atomic_write(path, |file| {
            use std::io::Write;
            let mut b = std::io::BufWriter::new(file);
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            writeln!(b, "timestamp,{}", names.join(","))?;
            for (h, t) in timestamps.iter().enumerate() {
                let fields: Vec<String> = columns
                    .iter()
                    .map(|(_, v)| crate::sweep::outputs::num(v[h]))
                    .collect();
                writeln!(b, "{t},{}", fields.join(","))?;
            }
            b.flush()
        }),
        "parquet" => {
            use polars::prelude::{Column, DataFrame};
            let mut cols = vec![Column::new("timestamp".into(), timestamps.to_vec())];
            cols.extend(
                columns
                    .into_iter()
                    .map(|(n, v)| Column::new(n.as_str().into(), v)),
            );
            let mut df = DataFrame::new(timestamps.len(), cols)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            super::write::write_parquet(path, &mut df)
        }
        other => Err(Error::Config(format!(
            "--out must end in .csv or .parquet, not '.{other}'"
        ))),
    }
}
