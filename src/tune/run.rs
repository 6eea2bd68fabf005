//! Loading a tuning scenario and running its search on the sweep's machinery.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use toml::{Table, Value};

use super::pareto;
use super::search::{self, Dim, Eval, Point, Problem};
use super::space::{self, Template};
use crate::error::{Error, Result};
use crate::scenario::{self, Scenario};
use crate::sweep::cells::{self, Cell};
use crate::sweep::summary_row::{metric_names, SummaryRow};
use crate::sweep::{cell_run, manifest, outputs, prepare, swap, SweepOptions};
use crate::trace::write::atomic_write;

/// Evaluations when `[tune]` does not say.
const DEFAULT_EVALUATIONS: usize = 100;
/// Points per batch after the first when `[tune]` does not say: small batches learn
/// more per evaluation; fixed (not the thread count) so that results never depend on it.
const DEFAULT_BATCH: usize = 4;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuneToml {
    evaluations: Option<usize>,
    batch: Option<usize>,
    objectives: Option<Vec<String>>,
    limits: Option<Table>,
    seed: Option<u64>,
}

/// An arm: a template with one forecaster (or none, for a policy without forecasts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arm {
    pub template: usize,
    pub forecaster: Option<usize>,
}

/// A loaded tuning scenario.
#[derive(Debug, Clone)]
pub struct Tune {
    /// The scenario, its policies at the ends of their ranges (for the preparation's
    /// forecast horizon and warnings).
    pub scenario: Scenario,
    pub templates: Vec<Template>,
    pub arms: Vec<Arm>,
    pub evaluations: usize,
    pub batch: usize,
    pub objectives: [String; 2],
    pub limits: Vec<(String, f64)>,
    pub seed: u64,
}

/// What a finished search wrote.
#[derive(Debug, Clone)]
pub struct TuneResult {
    pub name: String,
    pub evaluations: usize,
    pub rounds: usize,
    /// Evaluations taken from checkpoints of an earlier run.
    pub resumed: usize,
    /// Points in the Pareto sets (all simulation variants).
    pub pareto: usize,
    /// The results folder; the search's checkpoints when it stopped early.
    pub folder: PathBuf,
    /// False when `batches` stopped the search before its end.
    pub finished: bool,
}

/// Reads and checks a tuning scenario: a sweep scenario whose policies may give
/// parameters as ranges, with an optional `[tune]` table.
pub fn load(path: &Path) -> Result<Tune> {
    let err = |m: String| Error::scenario(path, m);
    let raw = scenario::read_table(path)?;
    let mut table = raw.clone();
    let spec: TuneToml = match table.remove("tune") {
        None => TuneToml {
            evaluations: None,
            batch: None,
            objectives: None,
            limits: None,
            seed: None,
        },
        Some(v) => v
            .try_into()
            .map_err(|e: toml::de::Error| err(format!("[tune]: {}", e.message())))?,
    };
    let tables = |key: &str| -> Vec<Table> {
        table
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_table().cloned()).collect())
            .unwrap_or_default()
    };
    for (i, f) in tables("forecasters").iter().enumerate() {
        if let Some(k) = space::has_range(f) {
            return Err(err(format!(
                "forecasters[{i}]: `{k}` is a range; sim tune searches policy parameters only (give forecaster settings as values or lists)"
            )));
        }
    }
    if let Some(k) = table
        .get("simulation")
        .and_then(Value::as_table)
        .and_then(space::has_range)
    {
        return Err(err(format!(
            "[simulation] `{k}` is a range: the simulation is the environment a policy is tuned for, not a setting to search; list the values to tune for each"
        )));
    }
    let policies = tables("policies");
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut merged = policies.clone();
    for (i, t) in merged.iter_mut().enumerate() {
        scenario::hpa_manifest::merge(t, &base_dir)
            .map_err(|m| err(format!("policies[{i}]: {m}")))?;
    }
    let templates = Template::all(&merged).map_err(err)?;
    if templates.iter().all(|t| t.ranges.is_empty()) {
        return Err(err(
            "no policy parameter is a range: write one as `key = { min = …, max = … }` (e.g. buffer = { min = 1.0, max = 1.6 }), or run `sim sweep` for a grid".into(),
        ));
    }
    for t in &templates {
        t.check().map_err(err)?;
    }
    let low: Vec<Value> = policies
        .iter()
        .enumerate()
        .map(|(i, t)| {
            space::at_low_ends(t)
                .map(|(filled, _)| Value::Table(filled))
                .map_err(|m| err(format!("policies[{i}]: {m}")))
        })
        .collect::<Result<_>>()?;
    table.insert("policies".into(), Value::Array(low));
    let mut sc = scenario::from_table(table, path)?;
    if sc.replications > 1
        || sc.bootstrap.is_some()
        || sc.traces.len() > 1
        || sc.compare_to.is_some()
    {
        return Err(err(
            "sim tune runs one trace, once, without intervals: remove replications, [bootstrap], compare_to and extra traces here, and sweep the Pareto set it finds with them".into(),
        ));
    }
    // Every template at both ends of its ranges: the horizon covers the longest lead.
    let mut corners = Vec::new();
    for t in &templates {
        let d = t.ranges.len();
        let ends: &[f64] = if d == 0 { &[0.0] } else { &[0.0, 1.0] };
        for &u in ends {
            corners.push(t.policy(&vec![u; d]).map_err(err)?);
        }
    }
    sc.policies = corners;
    sc.raw = raw;
    let nf = sc.forecasters.len();
    let mut arms = Vec::new();
    for (i, t) in templates.iter().enumerate() {
        let reads = t
            .policy(&vec![0.5; t.ranges.len()])
            .map_err(err)?
            .1
            .build()
            .forecast_lead()
            .is_some();
        if reads {
            arms.extend((0..nf).map(|f| Arm {
                template: i,
                forecaster: Some(f),
            }));
        } else {
            arms.push(Arm {
                template: i,
                forecaster: None,
            });
        }
    }
    let names = metric_names();
    let known = |m: &str| -> std::result::Result<(), String> {
        if names.iter().any(|n| n == m) {
            Ok(())
        } else {
            Err(format!(
                "[tune]: `{m}` is not a metric; the summary's metrics are: {}",
                names.join(", ")
            ))
        }
    };
    let objectives = spec
        .objectives
        .unwrap_or_else(|| vec!["cost_replica_hours".into(), "under_events".into()]);
    let [a, b] = <[String; 2]>::try_from(objectives).map_err(|o| {
        err(format!(
            "[tune] objectives: give exactly two metrics to minimise (got {}), e.g. [\"cost_replica_hours\", \"slo_violation_pct\"]; bound others with [tune.limits]",
            o.len()
        ))
    })?;
    known(&a).map_err(err)?;
    known(&b).map_err(err)?;
    if a == b {
        return Err(err("[tune] objectives: give two different metrics".into()));
    }
    let mut limits = Vec::new();
    for (k, v) in spec.limits.unwrap_or_default() {
        known(&k).map_err(err)?;
        let x = v.as_float().or(v.as_integer().map(|i| i as f64));
        match x {
            Some(x) if x.is_finite() => limits.push((k, x)),
            _ => {
                return Err(err(format!(
                    "[tune.limits] {k}: give the largest acceptable value as a number"
                )))
            }
        }
    }
    let evaluations = spec.evaluations.unwrap_or(DEFAULT_EVALUATIONS);
    let need = arms.len().max(sc.sims.len());
    if !(need..=1_000_000).contains(&evaluations) {
        return Err(err(format!(
            "[tune] evaluations = {evaluations}: give {need} to 1000000 (each of the {} arms — policy settings × forecaster — and each of the {} simulation variants needs one)",
            arms.len(),
            sc.sims.len()
        )));
    }
    let batch = spec.batch.unwrap_or(DEFAULT_BATCH);
    if !(1..=1024).contains(&batch) {
        return Err(err(format!("[tune] batch = {batch}: give 1 to 1024")));
    }
    Ok(Tune {
        seed: spec.seed.unwrap_or(sc.seed),
        scenario: sc,
        templates,
        arms,
        evaluations,
        batch,
        objectives: [a, b],
        limits,
    })
}

impl Tune {
    fn problem(&self) -> Problem {
        let sims = &self.scenario.sims;
        // Each simulation setting scaled to [0, 1] over the variants (0 where all agree).
        let keys: Vec<&String> = sims
            .first()
            .map(|s| s.params.iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        let value = |s: &scenario::SimVariant, k: &str| {
            s.params.iter().find(|(kk, _)| kk == k).map(|(_, v)| *v)
        };
        let spans: Vec<(f64, f64)> = keys
            .iter()
            .map(|k| {
                sims.iter()
                    .filter_map(|s| value(s, k))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    })
            })
            .collect();
        let inputs = sims
            .iter()
            .map(|s| {
                keys.iter()
                    .zip(&spans)
                    .map(|(k, &(lo, hi))| {
                        let v = value(s, k).unwrap_or(lo);
                        if hi > lo {
                            (v - lo) / (hi - lo)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let n = sims.len();
        Problem {
            arms: self
                .arms
                .iter()
                .map(|a| {
                    self.templates[a.template]
                        .ranges
                        .iter()
                        .map(|r| Dim {
                            steps: Some(r.steps()),
                        })
                        .collect()
                })
                .collect(),
            sims: inputs,
            quota: (0..n)
                .map(|s| self.evaluations / n + usize::from(s < self.evaluations % n))
                .collect(),
            limits: self.limits.iter().map(|(_, l)| *l).collect(),
            seed: self.seed,
        }
    }

    /// The scenario whose policies are `points`' (one each), and their cells.
    fn cells_of(&self, points: &[Point], first: usize) -> Result<(Scenario, Vec<Cell>)> {
        let mut sc = self.scenario.clone();
        sc.policies = points
            .iter()
            .map(|pt| {
                self.templates[self.arms[pt.arm].template]
                    .policy(&pt.u)
                    .map_err(|m| Error::scenario(&sc.path, m))
            })
            .collect::<Result<_>>()?;
        let cells = points
            .iter()
            .enumerate()
            .map(|(i, pt)| Cell {
                index: first + i,
                sim: pt.sim,
                forecaster: self.arms[pt.arm].forecaster,
                policy: i,
            })
            .collect();
        Ok((sc, cells))
    }
}

/// One evaluated point with its summary row.
struct Done {
    round: usize,
    eval: Eval,
    fields: Vec<String>,
}

/// The evaluation of `point` from its metrics, read by `get` (a summary row's, or a
/// checkpoint line's).
fn evaluation(t: &Tune, point: Point, get: impl Fn(&str) -> Result<f64>) -> Result<Eval> {
    Ok(Eval {
        point,
        objectives: [get(&t.objectives[0])?, get(&t.objectives[1])?],
        limited: t
            .limits
            .iter()
            .map(|(m, _)| get(m))
            .collect::<Result<_>>()?,
    })
}

fn row_metric(row: &SummaryRow, m: &str) -> Result<f64> {
    row.metric(m).ok_or_else(|| {
        Error::Config(format!(
            "sim tune: metric `{m}` is not defined for cell {} ({} / {}): choose metrics every cell has (latency needs requests or a fluid latency model)",
            row.cell, row.forecaster, row.policy
        ))
    })
}

const CHECKPOINT_HEAD: [&str; 4] = ["round", "sim", "arm", "u"];

fn round_path(work: &Path, k: usize) -> PathBuf {
    work.join(format!("round_{k:05}.csv"))
}

/// Reads the evaluations checkpointed in `work`, round after round.
fn read_rounds(t: &Tune, work: &Path, header: &[String]) -> Result<Vec<Done>> {
    let mut out = Vec::new();
    for k in 0.. {
        let path = round_path(work, k);
        if !path.exists() {
            break;
        }
        let (_, rows) = outputs::read_rows(&path)?;
        for r in rows {
            let bad = || {
                Error::Config(format!(
                    "{}: a damaged checkpoint; run without --resume",
                    path.display()
                ))
            };
            let sim: usize = r.get(1).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let arm: usize = r.get(2).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let u: Vec<f64> = r
                .get(3)
                .ok_or_else(bad)?
                .split(';')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|_| bad()))
                .collect::<Result<_>>()?;
            let fields: Vec<String> = r[CHECKPOINT_HEAD.len()..].to_vec();
            let value = |m: &str| -> Result<f64> {
                let i = header.iter().position(|h| h == m).ok_or_else(bad)?;
                fields.get(i).and_then(|v| v.parse().ok()).ok_or_else(bad)
            };
            let eval = evaluation(t, Point { sim, arm, u }, value)?;
            out.push(Done {
                round: k,
                eval,
                fields,
            });
        }
    }
    Ok(out)
}

/// Runs the search, then the Pareto set as a sweep into `<out>/<name>/`. With `batches`,
/// stops once that many batches are checkpointed (in all, counting resumed ones), to be
/// continued with `--resume`.
pub fn run(t: &Tune, opts: &SweepOptions, batches: Option<usize>) -> Result<TuneResult> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))?;
    pool.install(|| run_in_pool(t, opts, batches))
}

fn run_in_pool(t: &Tune, opts: &SweepOptions, batches: Option<usize>) -> Result<TuneResult> {
    let sc = &t.scenario;
    let search_dir = swap::Results::new(&opts.out_dir, &format!("{}.tune", sc.name));
    let _lock = search_dir.lock()?;
    let work = search_dir.work();
    let mut p = prepare::prepare(sc)?;
    let needed: Vec<bool> = (0..sc.forecasters.len())
        .map(|f| t.arms.iter().any(|a| a.forecaster == Some(f)))
        .collect();
    p.forecast(&needed)?;
    let settings = format!(
        "{}\n{:?} {} {:?} {:?} {}",
        manifest::manifest_text(sc, &p, 0)?,
        t.objectives,
        t.evaluations,
        t.limits,
        t.batch,
        t.seed
    );
    let fingerprint = manifest::sha256_hex(settings.as_bytes());
    let fp_path = work.join("fingerprint");
    let same = std::fs::read_to_string(&fp_path).is_ok_and(|f| f == fingerprint);
    if work.exists() && !(opts.resume && same) {
        if opts.resume {
            return Err(Error::Config(format!(
                "cannot resume: the search in {} was made from other inputs or settings; run without --resume to start again",
                work.display()
            )));
        }
        std::fs::remove_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    }
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    atomic_write(&fp_path, |f| f.write_all(fingerprint.as_bytes()))?;
    let params = cells::param_columns(sc);
    let header = SummaryRow::header(&params, false);
    let mut done = read_rounds(t, &work, &header)?;
    let resumed = done.len();
    let problem = t.problem();
    let bar = crate::sweep::progress::bar(
        t.evaluations as u64,
        &format!("tune {}", sc.name),
        opts.quiet,
    );
    bar.inc(resumed as u64);
    let mut round = done.last().map_or(0, |d| d.round + 1);
    loop {
        let evals: Vec<Eval> = done.iter().map(|d| d.eval.clone()).collect();
        let points = search::next_batch(&problem, &evals, round, t.batch);
        if points.is_empty() {
            break;
        }
        if batches.is_some_and(|b| round >= b) {
            bar.finish_and_clear();
            return Ok(TuneResult {
                name: sc.name.clone(),
                evaluations: done.len(),
                rounds: round,
                resumed,
                pareto: 0,
                folder: work,
                finished: false,
            });
        }
        let (sc_r, cells) = t.cells_of(&points, done.len())?;
        let rows: Vec<Result<SummaryRow>> = cells
            .par_iter()
            .map(|&c| {
                let r = cell_run::run_cell(&sc_r, &p, c, &params, None, None);
                bar.inc(1);
                r
            })
            .collect();
        let rows = rows.into_iter().collect::<Result<Vec<_>>>()?;
        let mut batch = Vec::new();
        for (pt, row) in points.iter().zip(&rows) {
            batch.push(Done {
                round,
                eval: evaluation(t, pt.clone(), |m| row_metric(row, m))?,
                fields: row.fields(),
            });
        }
        atomic_write(&round_path(&work, round), |f| {
            let mut b = std::io::BufWriter::new(f);
            let mut head: Vec<String> = CHECKPOINT_HEAD.map(String::from).to_vec();
            head.extend(header.iter().cloned());
            outputs::write_line(&mut b, &head)?;
            for d in &batch {
                let u: Vec<String> = d.eval.point.u.iter().map(|v| format!("{v:?}")).collect();
                let mut line = vec![
                    d.round.to_string(),
                    d.eval.point.sim.to_string(),
                    d.eval.point.arm.to_string(),
                    u.join(";"),
                ];
                line.extend(d.fields.iter().cloned());
                outputs::write_line(&mut b, &line)?;
            }
            b.flush()
        })?;
        done.extend(batch);
        round += 1;
    }
    bar.finish_and_clear();
    // The Pareto set of every simulation variant: its feasible non-dominated points.
    let mut chosen: Vec<usize> = Vec::new();
    let mut per_sim = Vec::new();
    for s in 0..sc.sims.len() {
        let here: Vec<usize> = (0..done.len())
            .filter(|&i| done[i].eval.point.sim == s)
            .collect();
        let feasible: Vec<usize> = here
            .iter()
            .copied()
            .filter(|&i| done[i].eval.feasible(&problem.limits))
            .collect();
        let pool = if feasible.is_empty() {
            if !here.is_empty() && !t.limits.is_empty() {
                tracing::warn!(
                    "{}: no evaluation of simulation variant {s} met [tune.limits]; its Pareto set ignores them",
                    sc.path.display()
                );
            }
            here.clone()
        } else {
            feasible
        };
        let pts: Vec<[f64; 2]> = pool.iter().map(|&i| done[i].eval.objectives).collect();
        let front: Vec<usize> = pareto::front(&pts).into_iter().map(|k| pool[k]).collect();
        let all: Vec<[f64; 2]> = here.iter().map(|&i| done[i].eval.objectives).collect();
        let reference: [f64; 2] = std::array::from_fn(|j| {
            let hi = all.iter().map(|q| q[j]).fold(f64::NEG_INFINITY, f64::max);
            let lo = all.iter().map(|q| q[j]).fold(f64::INFINITY, f64::min);
            hi + 0.1 * (hi - lo)
        });
        let fpts: Vec<[f64; 2]> = front.iter().map(|&i| done[i].eval.objectives).collect();
        per_sim.push(serde_json::json!({
            "simulation": sc.sims[s].params.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            "evaluations": here.len(),
            "pareto": front.len(),
            "reference": reference,
            "hypervolume": pareto::hypervolume(&fpts, reference),
        }));
        chosen.extend(front);
    }
    let points: Vec<Point> = chosen.iter().map(|&i| done[i].eval.point.clone()).collect();
    let (sc_final, cells) = t.cells_of(&points, 0)?;
    let summary = serde_json::json!({
        "method": "batch SMS-EGO-style search: a Gaussian process per arm and output over (searched parameters, simulation settings); candidates scored by the hypervolume their mean - 1 sd estimate adds, times the chance of meeting the limits; batches filled by kriging believer",
        "objectives": t.objectives,
        "limits": t.limits.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
        "evaluations": done.len(),
        "budget": t.evaluations,
        "batch": t.batch,
        "rounds": round,
        "seed": t.seed,
        "arms": t.arms.len(),
        "simulations": per_sim,
    });
    let write_extra = |dir: &Path| -> Result<()> {
        let path = dir.join("tune_evaluations.csv");
        atomic_write(&path, |f| {
            let mut b = std::io::BufWriter::new(f);
            let mut head = vec!["round".to_string(), "pareto_cell".to_string()];
            head.extend(header.iter().cloned());
            outputs::write_line(&mut b, &head)?;
            for (i, d) in done.iter().enumerate() {
                let cell = chosen
                    .iter()
                    .position(|&c| c == i)
                    .map(|k| k.to_string())
                    .unwrap_or_default();
                let mut line = vec![d.round.to_string(), cell];
                line.extend(d.fields.iter().cloned());
                outputs::write_line(&mut b, &line)?;
            }
            b.flush()
        })?;
        let text = serde_json::to_string_pretty(&summary).expect("tune summary serialises");
        atomic_write(&dir.join("tune.json"), |f| f.write_all(text.as_bytes()))?;
        Ok(())
    };
    let r = crate::sweep::run_cells(&sc_final, &cells, Some(p), opts, &write_extra)?;
    std::fs::remove_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    Ok(TuneResult {
        name: sc.name.clone(),
        evaluations: done.len(),
        rounds: round,
        resumed,
        pareto: cells.len(),
        folder: r.folder,
        finished: true,
    })
}
