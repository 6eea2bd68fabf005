//! A study: one scenario over several traces (`[trace] file` a list or a glob). Each trace
//! runs as its own sweep into `<out>/<name>/traces/<trace>/` (a normal sweep folder that
//! `sim report` reads); then every configuration (forecaster, policy and parameter values)
//! is compared across traces:
//! - `study_traces.csv`: per trace, each configuration's rank — configurations within the
//!   under-provisioning budget (`[study] under_budget_pct` % of the test steps) first,
//!   cheapest first; then the others, fewest under-provisioning events first — and whether
//!   it met the budget;
//! - `study.csv`: per configuration, the traces it ran on, its mean and median rank, the
//!   share of traces where it met the budget, and the scenario-theory bound on the chance
//!   that a new trace of the same population breaks the budget ([`violation_bound`] at
//!   confidence 1 − `[study] beta`), with mean cost, under-provisioning and regret;
//! - `study.json`: the traces, their budgets and the methods.
//!
//! Bounds (an `oracle` forecaster, the `optimal` policy) are left out of the ranks: they
//! are no configuration one could run.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::outputs::{num, read_rows};
use super::SweepOptions;
use crate::error::{Error, Result};
use crate::scenario::{Scenario, TraceSource};
use crate::stats::violation_bound;
use crate::trace::write::atomic_write;

/// What a finished study wrote.
#[derive(Debug, Clone)]
pub struct StudyResult {
    pub name: String,
    pub traces: usize,
    pub cells: usize,
    pub folder: PathBuf,
}

/// A trace's label: its file's stem, as a folder name.
fn label(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "trace".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs the study: each trace's sweep, then the comparison across them.
pub fn run(sc: &Scenario, opts: &SweepOptions) -> Result<StudyResult> {
    if opts.shard.is_some() {
        return Err(Error::Config(format!(
            "{}: a study over {} traces runs whole (--shard splits one sweep's cells): run it without --shard, or one scenario per trace",
            sc.name,
            sc.traces.len()
        )));
    }
    let folder = opts.out_dir.join(&sc.name);
    let sub = SweepOptions {
        out_dir: folder.join("traces"),
        ..opts.clone()
    };
    std::fs::create_dir_all(&sub.out_dir).map_err(|e| Error::io(&sub.out_dir, e))?;
    let mut seen = std::collections::HashSet::new();
    let mut done = Vec::new();
    let mut cells = 0;
    for path in &sc.traces {
        let name = label(path);
        if !seen.insert(name.clone()) {
            return Err(Error::Config(format!(
                "{}: two traces are named '{name}' (by their file names): rename one",
                sc.name
            )));
        }
        let mut one = sc.clone();
        one.name = name.clone();
        one.traces = vec![path.clone()];
        if let TraceSource::File(spec) = &mut one.trace {
            spec.path = path.clone();
        }
        let r = super::run(&one, &sub)
            .map_err(|e| Error::Config(format!("{}: trace {}: {e}", sc.name, path.display())))?;
        cells += r.cells;
        done.push((name, path.clone(), r.folder));
    }
    aggregate(sc, &done, &folder)?;
    Ok(StudyResult {
        name: sc.name.clone(),
        traces: done.len(),
        cells,
        folder,
    })
}

/// One configuration's result on one trace.
struct OnTrace {
    trace: usize,
    cell: String,
    rank: usize,
    meets: bool,
    cost: f64,
    under: f64,
    regret: f64,
}

/// Writes `study.csv`, `study_traces.csv` and `study.json` into `folder`.
fn aggregate(sc: &Scenario, traces: &[(String, PathBuf, PathBuf)], folder: &Path) -> Result<()> {
    let kinds: std::collections::HashMap<String, String> = sc
        .policies
        .iter()
        .map(|(_, p)| (p.display_name(), crate::entry::serde_name(&p.kind())))
        .collect();
    let mut key_header: Vec<String> = Vec::new();
    let mut by_key: BTreeMap<Vec<String>, Vec<OnTrace>> = BTreeMap::new();
    let mut meta = Vec::new();
    for (t, (name, path, dir)) in traces.iter().enumerate() {
        let summary = dir.join("metrics_summary.csv");
        let (h, rows) = read_rows(&summary)?;
        let col = |n: &str| {
            h.iter()
                .position(|c| c == n)
                .ok_or_else(|| Error::bad_file(&summary, format!("no `{n}` column")))
        };
        let (cc, fc, pc) = (col("cell")?, col("forecaster")?, col("policy")?);
        let (cost, under, regret) = (
            col("cost_replica_hours")?,
            col("under_events")?,
            col("regret_cost_pct")?,
        );
        let keys: Vec<usize> = std::iter::once(fc)
            .chain(std::iter::once(pc))
            .chain((0..h.len()).filter(|&i| {
                ["sim.", "forecaster.", "policy."]
                    .iter()
                    .any(|p| h[i].starts_with(p))
            }))
            .collect();
        if key_header.is_empty() {
            key_header = keys.iter().map(|&i| h[i].clone()).collect();
        }
        let manifest: serde_json::Value = std::fs::read_to_string(dir.join("manifest.json"))
            .ok()
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        let steps = manifest["window"]["test_steps"].as_u64().unwrap_or(0) as f64;
        let budget = sc.study.under_budget_pct / 100.0 * steps;
        meta.push(serde_json::json!({
            "trace": name, "path": path.display().to_string(),
            "test_steps": steps, "budget_events": budget,
        }));
        let value = |r: &[String], i: usize| r[i].parse::<f64>().unwrap_or(f64::NAN);
        let mut runnable: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| {
                !super::attribution::is_bound(&r[fc], kinds.get(&r[pc]).map(String::as_str))
            })
            .collect();
        // Within the budget first, cheapest first; then the fewest events.
        runnable.sort_by(|a, b| {
            let (ma, mb) = (value(a, under) <= budget, value(b, under) <= budget);
            mb.cmp(&ma)
                .then_with(|| {
                    if ma {
                        value(a, cost).total_cmp(&value(b, cost))
                    } else {
                        value(a, under).total_cmp(&value(b, under))
                    }
                })
                .then_with(|| value(a, cost).total_cmp(&value(b, cost)))
                .then_with(|| value(a, cc).total_cmp(&value(b, cc)))
        });
        for (rank, r) in runnable.iter().enumerate() {
            let key: Vec<String> = keys.iter().map(|&i| r[i].clone()).collect();
            by_key.entry(key).or_default().push(OnTrace {
                trace: t,
                cell: r[cc].clone(),
                rank: rank + 1,
                meets: value(r, under) <= budget,
                cost: value(r, cost),
                under: value(r, under),
                regret: value(r, regret),
            });
        }
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    let mut summary: Vec<(f64, Vec<String>)> = by_key
        .iter()
        .map(|(key, on)| {
            let n = on.len();
            let mut ranks: Vec<f64> = on.iter().map(|o| o.rank as f64).collect();
            ranks.sort_by(f64::total_cmp);
            let median = if n % 2 == 1 {
                ranks[n / 2]
            } else {
                (ranks[n / 2 - 1] + ranks[n / 2]) / 2.0
            };
            let met = on.iter().filter(|o| o.meets).count();
            let mut row = key.clone();
            row.extend([
                n.to_string(),
                num(mean(&ranks)),
                num(median),
                met.to_string(),
                num(100.0 * met as f64 / n as f64),
                num(100.0 * violation_bound(n - met, n, sc.study.beta)),
                num(mean(&on.iter().map(|o| o.cost).collect::<Vec<_>>())),
                num(mean(&on.iter().map(|o| o.under).collect::<Vec<_>>())),
                num(mean(&on.iter().map(|o| o.regret).collect::<Vec<_>>())),
            ]);
            (mean(&ranks), row)
        })
        .collect();
    summary.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    atomic_write(&folder.join("study.csv"), |f| {
        let mut b = std::io::BufWriter::new(f);
        let mut h = key_header.clone();
        h.extend(
            [
                "traces",
                "mean_rank",
                "median_rank",
                "met_budget",
                "share_met_pct",
                "violation_bound_pct",
                "mean_cost_replica_hours",
                "mean_under_events",
                "mean_regret_cost_pct",
            ]
            .map(String::from),
        );
        writeln!(b, "{}", h.join(","))?;
        for (_, r) in &summary {
            writeln!(b, "{}", r.join(","))?;
        }
        b.flush()
    })?;
    atomic_write(&folder.join("study_traces.csv"), |f| {
        let mut b = std::io::BufWriter::new(f);
        let mut h = vec!["trace".to_string(), "cell".to_string()];
        h.extend(key_header.iter().cloned());
        h.extend(["rank", "meets_budget", "cost_replica_hours", "under_events"].map(String::from));
        writeln!(b, "{}", h.join(","))?;
        let mut lines: Vec<(usize, usize, String)> = Vec::new();
        for (key, on) in &by_key {
            for o in on {
                let mut row = vec![traces[o.trace].0.clone(), o.cell.clone()];
                row.extend(key.iter().cloned());
                row.extend([
                    o.rank.to_string(),
                    o.meets.to_string(),
                    num(o.cost),
                    num(o.under),
                ]);
                lines.push((o.trace, o.rank, row.join(",")));
            }
        }
        lines.sort();
        for (_, _, l) in lines {
            writeln!(b, "{l}")?;
        }
        b.flush()
    })?;
    let info = serde_json::json!({
        "scenario": sc.name,
        "traces": meta,
        "under_budget_pct": sc.study.under_budget_pct,
        "beta": sc.study.beta,
        "ranking": "per trace: configurations within the budget first, cheapest first, then the others by fewest under-provisioning events; bounds (oracle, optimal) left out",
        "violation_bound": "scenario theory for a fixed configuration: with k of n traces over the budget, P(a new trace is over it) <= the (1 - beta) quantile of Beta(k + 1, n - k), at confidence 1 - beta",
    });
    let json = serde_json::to_string_pretty(&info).expect("study info serialises");
    atomic_write(&folder.join("study.json"), |f| f.write_all(json.as_bytes()))
}
