//! A replicated sweep's files: every replication's rows (`replications.csv` and
//! `.parquet`, a leading `replication` column) and the summary made from them — one row per
//! cell with each metric's mean over the replications, `replications` (N) and each
//! metric's 95 % Student-t half-width `<metric>_ci95` (empty with fewer than two finite
//! values). Identity, parameter and seed columns are replication 0's.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::outputs::{num_or_empty, read_rows, write_line};
use super::summary_row::metric_names;
use crate::error::{Error, Result};
use crate::trace::write::atomic_write;

/// Every replication's rows.
pub const ROWS_CSV: &str = "replications.csv";
pub const ROWS_PARQUET: &str = "replications.parquet";
/// The leading column of those rows.
pub const REPLICATION: &str = "replication";
/// The summary's count of replications.
pub const COUNT: &str = "replications";
/// Suffix of a metric's half-width column.
pub const CI_SUFFIX: &str = "_ci95";

/// Writes the per-cell summary `out` from the replication rows `rows_csv`.
pub fn summarize(rows_csv: &Path, out: &Path) -> Result<()> {
    let (header, rows) = read_rows(rows_csv)?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::bad_file(rows_csv, format!("no `{name}` column")))
    };
    let (rep, cell) = (col(REPLICATION)?, col("cell")?);
    let metrics: Vec<usize> = metric_names()
        .iter()
        .filter_map(|m| header.iter().position(|h| h == m))
        .collect();
    let mut by_cell: BTreeMap<usize, Vec<&Vec<String>>> = BTreeMap::new();
    for r in &rows {
        let c = r[cell]
            .parse()
            .map_err(|_| Error::bad_file(rows_csv, "a row has no cell index"))?;
        by_cell.entry(c).or_default().push(r);
    }
    let value = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    atomic_write(out, |f| {
        let mut b = std::io::BufWriter::new(f);
        let mut h: Vec<String> = header
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != rep)
            .map(|(_, c)| c.clone())
            .collect();
        h.push(COUNT.into());
        h.extend(metrics.iter().map(|&i| format!("{}{CI_SUFFIX}", header[i])));
        write_line(&mut b, &h)?;
        for reps in by_cell.values() {
            let first = reps
                .iter()
                .min_by_key(|r| r[rep].parse::<usize>().unwrap_or(usize::MAX))
                .expect("a cell has rows");
            let stats: BTreeMap<usize, (f64, f64)> = metrics
                .iter()
                .map(|&i| {
                    let xs: Vec<f64> = reps.iter().map(|r| value(&r[i])).collect();
                    (i, crate::stats::mean_ci95(&xs))
                })
                .collect();
            let mut row: Vec<String> = Vec::with_capacity(h.len());
            for (i, v) in first.iter().enumerate() {
                if i == rep {
                    continue;
                }
                row.push(match stats.get(&i) {
                    Some(&(mean, _)) => num_or_empty(mean),
                    None => v.clone(),
                });
            }
            row.push(reps.len().to_string());
            row.extend(metrics.iter().map(|i| num_or_empty(stats[i].1)));
            write_line(&mut b, &row)?;
        }
        b.flush()
    })
}
