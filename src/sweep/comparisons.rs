//! Paired comparisons against a baseline (`compare_to`): `comparisons.csv`, one row per
//! cell that is not the baseline, against the baseline cell of the same simulation
//! variant (the `sim.*` values; of the same forecaster, or policy, when there is one such).
//! Per compared metric: the mean difference (cell − baseline), its 95 % half-width and the
//! two-sided paired t-test's p-value over the replications both ran (common random
//! numbers make them pairs), and the p-value after Holm's correction across every cell
//! compared. A bootstrapped sweep (`[bootstrap]`, one replication) pairs the cells'
//! resamples instead (every cell of a variant is resampled on the same blocks): the
//! difference's interval is the 2.5–97.5 % percentile of the resampled differences, and
//! the p-value the two-sided bootstrap one, 2 · min(share ≤ 0, share ≥ 0), at most 1.
//! Otherwise, with one replication, the difference stands alone (no interval, no test).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::outputs::{num_or_empty, read_rows};
use super::replicate::{REPLICATION, ROWS_CSV};
use crate::error::{Error, Result};
use crate::trace::write::atomic_write;

/// Metrics compared.
pub const COMPARED: [&str; 3] = ["cost_replica_hours", "under_events", "unserved_requests"];

/// The file written.
pub const FILE: &str = "comparisons.csv";

/// Writes `dir/comparisons.csv` against `baseline` (a policy or forecaster label).
pub fn write(dir: &Path, baseline: &str) -> Result<()> {
    let summary = dir.join("metrics_summary.csv");
    let (header, rows) = read_rows(&summary)?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::bad_file(&summary, format!("no `{name}` column")))
    };
    let (cc, fc, pc) = (col("cell")?, col("forecaster")?, col("policy")?);
    let sim_cols: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("sim."))
        .collect();
    let sim_key = |r: &[String]| sim_cols.iter().map(|&i| r[i].clone()).collect::<Vec<_>>();
    let is_base = |r: &[String]| r[pc] == baseline || r[fc] == baseline;
    let identity = |r: &[String], base: &[String]| {
        let mut id = vec![
            r[cc].clone(),
            r[fc].clone(),
            r[pc].clone(),
            base[cc].clone(),
            base[fc].clone(),
            base[pc].clone(),
        ];
        id.extend(sim_cols.iter().map(|&i| r[i].clone()));
        id
    };
    let by_policy = rows.iter().any(|r| r[pc] == baseline);
    // Per replication, per cell: the compared metrics (one replication: the summary).
    let per_rep = replication_values(dir, &summary, &header, &rows)?;
    let none = HashMap::new();
    let values = |cell: &str| per_rep.get(cell).unwrap_or(&none);
    // Per cell, its resamples (fluid cells of a bootstrapped sweep; read once each).
    let samples = resamples(dir, &rows, cc)?;
    let mut out: Vec<(Vec<String>, Vec<crate::stats::Paired>)> = Vec::new();
    for r in rows.iter().filter(|r| !is_base(r)) {
        let candidates: Vec<&Vec<String>> = rows
            .iter()
            .filter(|b| is_base(b) && sim_key(b) == sim_key(r))
            .collect();
        let same = |b: &&&Vec<String>| {
            if by_policy {
                b[fc] == r[fc]
            } else {
                b[pc] == r[pc]
            }
        };
        let Some(base) = candidates.iter().find(same).or(candidates.first()) else {
            continue;
        };
        let (a, b) = (values(&r[cc]), values(&base[cc]));
        let stats = match (samples.get(&r[cc]), samples.get(&base[cc])) {
            (Some(sa), Some(sb)) => (0..COMPARED.len())
                .map(|m| {
                    let point = match (a.get("0"), b.get("0")) {
                        (Some(x), Some(y)) => x[m] - y[m],
                        _ => f64::NAN,
                    };
                    bootstrap_paired(point, sa, sb, m)
                })
                .collect(),
            _ => (0..COMPARED.len())
                .map(|m| {
                    // Pairs: the replications both cells ran.
                    let (xs, ys): (Vec<f64>, Vec<f64>) = a
                        .iter()
                        .filter_map(|(rep, v)| Some((v[m], b.get(rep)?[m])))
                        .unzip();
                    crate::stats::paired(&xs, &ys)
                })
                .collect(),
        };
        out.push((identity(r, base), stats));
    }
    let holm: Vec<Vec<f64>> = (0..COMPARED.len())
        .map(|m| crate::stats::holm(&out.iter().map(|(_, s)| s[m].p_value).collect::<Vec<_>>()))
        .collect();
    atomic_write(&dir.join(FILE), |f| {
        let mut b = std::io::BufWriter::new(f);
        let mut h: Vec<String> = [
            "cell",
            "forecaster",
            "policy",
            "baseline_cell",
            "baseline_forecaster",
            "baseline_policy",
        ]
        .map(String::from)
        .to_vec();
        h.extend(sim_cols.iter().map(|&i| header[i].clone()));
        h.push("pairs".into());
        for m in COMPARED {
            for s in ["diff", "diff_ci95", "diff_lo95", "diff_hi95", "p", "p_holm"] {
                h.push(format!("{m}_{s}"));
            }
        }
        writeln!(b, "{}", h.join(","))?;
        for (k, (id, stats)) in out.iter().enumerate() {
            let mut row = id.clone();
            row.push(stats.first().map_or(0, |s| s.pairs).to_string());
            for (m, s) in stats.iter().enumerate() {
                row.extend([
                    num_or_empty(s.diff),
                    num_or_empty(s.ci95),
                    num_or_empty(s.lo),
                    num_or_empty(s.hi),
                    num_or_empty(s.p_value),
                    num_or_empty(holm[m][k]),
                ]);
            }
            writeln!(b, "{}", row.join(","))?;
        }
        b.flush()
    })
}

/// Cell → its resampled compared metrics, for the cells that have them (none without a
/// bootstrap; request-mode cells have none).
fn resamples(
    dir: &Path,
    rows: &[Vec<String>],
    cell: usize,
) -> Result<HashMap<String, Vec<Vec<f64>>>> {
    let folder = dir.join(super::BOOTSTRAP_DIR);
    let mut out = HashMap::new();
    if !folder.is_dir() {
        return Ok(out);
    }
    for r in rows {
        let Ok(c) = r[cell].parse::<usize>() else {
            continue;
        };
        let path = folder.join(super::bootstrap::samples_name(c));
        if path.exists() {
            out.insert(r[cell].clone(), super::bootstrap::read_samples(&path)?);
        }
    }
    Ok(out)
}

/// Metric `m` of two cells' paired resamples: the run's own difference `point`, the
/// percentile interval of the resampled differences (and as a half-width around it, the
/// wider side, so that it is never understated), and the bootstrap p-value.
fn bootstrap_paired(point: f64, a: &[Vec<f64>], b: &[Vec<f64>], m: usize) -> crate::stats::Paired {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x[m] - y[m])
        .filter(|d| d.is_finite())
        .collect();
    let n = d.len();
    let (lo, hi) = crate::stats::percentile_interval(d.clone());
    let below = d.iter().filter(|&&x| x <= 0.0).count() as f64;
    let above = d.iter().filter(|&&x| x >= 0.0).count() as f64;
    crate::stats::Paired {
        diff: point,
        ci95: (point - lo).max(hi - point),
        lo,
        hi,
        p_value: if n == 0 {
            f64::NAN
        } else {
            (2.0 * below.min(above) / n as f64).min(1.0)
        },
        pairs: n,
    }
}

/// Cell → replication → the compared metrics, from `replications.csv` when the sweep has
/// one, else from the summary (replication 0 only).
fn replication_values(
    dir: &Path,
    summary: &Path,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<HashMap<String, HashMap<String, Vec<f64>>>> {
    let reps = dir.join(ROWS_CSV);
    let (header, rows, rep) = if reps.exists() {
        let (h, r) = read_rows(&reps)?;
        let rep = h.iter().position(|c| c == REPLICATION);
        (h, r, rep)
    } else {
        (header.to_vec(), rows.to_vec(), None)
    };
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::bad_file(summary, format!("no `{name}` column")))
    };
    let cell = find("cell")?;
    let cols = COMPARED
        .iter()
        .map(|m| find(m))
        .collect::<Result<Vec<_>>>()?;
    let mut out: HashMap<String, HashMap<String, Vec<f64>>> = HashMap::new();
    for r in &rows {
        let v = cols
            .iter()
            .map(|&i| r[i].parse().unwrap_or(f64::NAN))
            .collect();
        let key = rep.map_or_else(|| "0".to_string(), |i| r[i].clone());
        out.entry(r[cell].clone()).or_default().insert(key, v);
    }
    Ok(out)
}
