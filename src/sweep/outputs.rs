//! Sweep outputs: summary rows (CSV streamed in cell order, Parquet at the end),
//! per-cell timelines, forecast accuracy and the manifest.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::forecast::accuracy::Accuracy;
use crate::scenario::Assignment;
use crate::sim::Timeline;
use crate::trace::write::write_parquet;
use crate::workload::Workload;

/// A CSV field: numbers in shortest round-trip form, text quoted when needed.
pub fn field(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) if s.contains([',', '"', '\n']) => {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A float as CSV text (`NaN` for missing values, as polars and pandas read them).
pub fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else {
        format!("{x}")
    }
}

/// A float as CSV text, empty for a missing (NaN) value, as the summary writes metrics.
pub fn num_or_empty(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        num(x)
    }
}

/// Rows of a summary-like CSV: header and fields (written unquoted, so a split reads them).
pub fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    Ok((header, rows))
}

/// Writes one CSV line.
pub fn write_line(w: &mut impl Write, fields: &[String]) -> std::io::Result<()> {
    writeln!(w, "{}", fields.join(","))
}

/// Converts the summary CSV into Parquet, with the column types of
/// [`SummaryRow::schema`](super::summary_row::SummaryRow::schema) (no inference: a
/// parameter column empty in every row is still a float column).
pub fn csv_to_parquet(csv: &Path, parquet: &Path) -> Result<()> {
    let pl = |source| Error::Polars {
        path: csv.to_path_buf(),
        source,
    };
    let header: Vec<String> = {
        let f = std::fs::File::open(csv).map_err(|e| Error::io(csv, e))?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(f), &mut line)
            .map_err(|e| Error::io(csv, e))?;
        line.trim_end().split(',').map(str::to_string).collect()
    };
    let schema = super::summary_row::SummaryRow::schema(&header);
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(std::sync::Arc::new(schema)))
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .map_err(pl)?
        .finish()
        .map_err(pl)?;
    write_parquet(parquet, &mut df)
}

/// Writes one cell's timeline as Parquet.
pub fn write_timeline(path: &Path, tl: &Timeline, w: &Workload, first_step: usize) -> Result<()> {
    let mut df = timeline_frame(path, tl, w.step_ms, first_step)?;
    write_parquet(path, &mut df)
}

/// A timeline as a table: `step`, `time_ms` (since the trace start) and one column per
/// field. `sim live` writes its decision log with this schema too.
pub fn timeline_frame(
    path: &Path,
    tl: &Timeline,
    step_ms: u64,
    first_step: usize,
) -> Result<DataFrame> {
    let n = tl.len();
    let steps: Vec<u64> = (first_step..first_step + n).map(|s| s as u64).collect();
    // Milliseconds since the trace start (the manifest records the start): compact and exact.
    let time_ms: Vec<u64> = (first_step..first_step + n)
        .map(|s| s as u64 * step_ms)
        .collect();
    let u = |v: &[u32]| v.iter().map(|&x| x as u64).collect::<Vec<u64>>();
    DataFrame::new(
        n,
        vec![
            Column::new("step".into(), steps),
            Column::new("time_ms".into(), time_ms),
            Column::new("demand".into(), tl.demand.clone()),
            Column::new("forecast".into(), tl.forecast.clone()),
            Column::new("planned".into(), tl.planned.clone()),
            Column::new("desired".into(), u(&tl.desired)),
            Column::new("ready".into(), u(&tl.ready)),
            Column::new("pending".into(), u(&tl.pending)),
            Column::new("ready_effective".into(), tl.ready_effective.clone()),
            Column::new("served".into(), tl.served.clone()),
            Column::new("dropped".into(), tl.dropped.clone()),
            Column::new("latency_ms".into(), tl.latency_ms.clone()),
            Column::new("latency_p95_ms".into(), tl.latency_p95_ms.clone()),
            Column::new("cpu_pct".into(), tl.cpu_pct.clone()),
            Column::new("cold_starts".into(), u(&tl.cold_starts)),
            Column::new("no_ready_ms".into(), tl.no_ready_ms.clone()),
            Column::new("zero_ms".into(), tl.zero_ms.clone()),
            Column::new(
                "missing".into(),
                (0..n)
                    .map(|i| tl.missing.get(i).copied().unwrap_or(false))
                    .collect::<Vec<bool>>(),
            ),
        ],
    )
    .map_err(|source| Error::Polars {
        path: path.to_path_buf(),
        source,
    })
}

/// Swept-parameter columns of the accuracy table (from every forecaster variant).
pub fn accuracy_params(sc: &crate::scenario::Scenario) -> Vec<String> {
    let mut p: Vec<String> = Vec::new();
    for (a, _) in &sc.forecasters {
        for (k, _) in a {
            if !p.contains(k) {
                p.push(k.clone());
            }
        }
    }
    p
}

/// The accuracy table's score columns, in order (before the per-quantile pinball losses).
pub const ACCURACY_COLUMNS: [&str; 17] = [
    "n",
    "mae",
    "rmse",
    "mape_pct",
    "smape_pct",
    "mase",
    "mase_scale",
    "coverage_80_pct",
    "coverage_95_pct",
    "lead_steps",
    "mae_lead",
    "mase_lead",
    "window_steps",
    "mae_window",
    "mase_window",
    "refit_every_steps",
    "updates_between_refits",
];

/// Header and rows of the accuracy table (no rows: an empty table).
pub fn accuracy_rows(
    params: &[String],
    rows: &[(String, Assignment, Accuracy)],
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let Some((_, _, first)) = rows.first() else {
        return out;
    };
    let mut header = vec!["forecaster".to_string()];
    header.extend(params.iter().cloned());
    header.extend(ACCURACY_COLUMNS.map(String::from));
    header.extend(first.pinball.iter().map(|(q, _)| format!("pinball_q{q}")));
    out.push(header);
    for (name, assign, a) in rows {
        let mut r = vec![name.clone()];
        for p in params {
            r.push(
                assign
                    .iter()
                    .find(|(k, _)| k == p)
                    .map(|(_, v)| num(*v))
                    .unwrap_or_default(),
            );
        }
        r.extend([
            a.n.to_string(),
            num(a.mae),
            num(a.rmse),
            num(a.mape_pct),
            num(a.smape_pct),
            num(a.mase),
            a.scale.label(),
            num(a.coverage_80_pct),
            num(a.coverage_95_pct),
            a.at_lead.steps.to_string(),
            num(a.at_lead.mae),
            num(a.at_lead.mase),
            a.over_window.steps.to_string(),
            num(a.over_window.mae),
            num(a.over_window.mase),
            a.refit_every.to_string(),
            a.updates_between_refits.to_string(),
        ]);
        r.extend(a.pinball.iter().map(|(_, p)| num(*p)));
        out.push(r);
    }
    out
}

/// Writes a forecaster's one-step-ahead forecasts over the test window:
/// `step, time_ms, actual, yhat` and the quantiles of [`QUANTILES`] as `q<level>`.
pub fn write_forecast(
    path: &Path,
    table: &crate::forecast::ForecastTable,
    w: &Workload,
) -> Result<()> {
    use crate::forecast::QUANTILES;
    let rows = table.rows();
    let steps: Vec<usize> = (table.first_step..table.first_step + rows).collect();
    let mut cols = vec![
        Column::new(
            "step".into(),
            steps.iter().map(|&s| s as u64).collect::<Vec<u64>>(),
        ),
        Column::new(
            "time_ms".into(),
            steps
                .iter()
                .map(|&s| s as u64 * w.step_ms)
                .collect::<Vec<u64>>(),
        ),
        Column::new(
            "actual".into(),
            steps.iter().map(|&s| w.demand[s]).collect::<Vec<f64>>(),
        ),
        Column::new(
            "yhat".into(),
            steps
                .iter()
                .map(|&s| table.point(s, 0))
                .collect::<Vec<f64>>(),
        ),
    ];
    for (k, q) in QUANTILES.iter().enumerate() {
        cols.push(Column::new(
            format!("q{q}").into(),
            steps
                .iter()
                .map(|&s| table.quantile(s, 0, k))
                .collect::<Vec<f64>>(),
        ));
    }
    let mut df = DataFrame::new(rows, cols).map_err(|source| Error::Polars {
        path: path.to_path_buf(),
        source,
    })?;
    write_parquet(path, &mut df)
}
