//! What forecast error costs: each forecasting cell against the same policy and
//! simulation settings run on the `oracle` forecaster (perfect foresight). Written as
//! `forecast_error.csv` beside the summary when the scenario has an oracle.
//!
//! `forecast_error_cost` is the cell's replica-hours above the oracle cell's;
//! `forecast_error_under` its under-provisioning events above it, and
//! `forecast_error_unserved` its unserved requests above it: what the forecaster's errors
//! cost, with the policy's own rule held fixed. (Negative values happen: a forecaster
//! that over-forecasts buys head-room a perfect forecast does not, and can under-provision
//! less than the oracle at a higher cost.)

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::error::Result;
use crate::trace::write::atomic_write;

/// Forecasters whose label starts with this are oracles (their names are required to).
pub const ORACLE: &str = "oracle";

/// A cell with perfect foresight — an oracle forecaster, or the optimal policy (`kind`
/// as written in the scenario) — is a bound to measure against, not a configuration one
/// could run: studies do not rank it, reports do not recommend it.
pub fn is_bound(forecaster: &str, policy_kind: Option<&str>) -> bool {
    forecaster.starts_with(ORACLE) || policy_kind == Some("optimal")
}

/// Metrics compared: the summary's column and the attribution's.
const COMPARED: [(&str, &str); 3] = [
    ("cost_replica_hours", "forecast_error_cost"),
    ("under_events", "forecast_error_under"),
    ("unserved_requests", "forecast_error_unserved"),
];

/// Writes `dir/forecast_error.csv` from `dir/metrics_summary.csv`; nothing when no
/// cell used an oracle.
pub fn write(dir: &Path) -> Result<()> {
    let path = dir.join("metrics_summary.csv");
    // The summary is written unquoted (`SummaryRow::fields`): a split reads it back.
    let (header, rows) = super::outputs::read_rows(&path)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(fc), Some(pc), Some(cc)) = (col("forecaster"), col("policy"), col("cell")) else {
        return Ok(());
    };
    let key_cols: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("sim.") || h.starts_with("policy."))
        .map(|(i, _)| i)
        .collect();
    let key = |r: &[String]| {
        let mut k = vec![r[pc].clone()];
        k.extend(key_cols.iter().map(|&i| r[i].clone()));
        k
    };
    let oracle: HashMap<Vec<String>, &Vec<String>> = rows
        .iter()
        .filter(|r| r[fc].starts_with(ORACLE))
        .map(|r| (key(r), r))
        .collect();
    if oracle.is_empty() {
        return Ok(());
    }
    let metric_cols: Vec<(usize, &str)> = COMPARED
        .iter()
        .filter_map(|(m, out)| Some((col(m)?, *out)))
        .collect();
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    atomic_write(&dir.join("forecast_error.csv"), |f| {
        let mut b = std::io::BufWriter::new(f);
        write!(b, "cell,forecaster,policy,oracle_cell")?;
        for &i in &key_cols {
            write!(b, ",{}", header[i])?;
        }
        for (_, out) in &metric_cols {
            write!(b, ",{out}")?;
        }
        writeln!(b)?;
        for r in rows
            .iter()
            .filter(|r| !r[fc].is_empty() && !r[fc].starts_with(ORACLE))
        {
            let Some(o) = oracle.get(&key(r)) else {
                continue;
            };
            write!(b, "{},{},{},{}", r[cc], r[fc], r[pc], o[cc])?;
            for &i in &key_cols {
                write!(b, ",{}", r[i])?;
            }
            for &(i, _) in &metric_cols {
                let d = num(&r[i]) - num(&o[i]);
                if d.is_finite() {
                    write!(b, ",{}", crate::sweep::outputs::num(d))?;
                } else {
                    write!(b, ",")?;
                }
            }
            writeln!(b)?;
        }
        b.flush()
    })?;
    Ok(())
}
