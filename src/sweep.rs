//! Running a scenario's sweep: workload, shared rolling forecasts, every cell in
//! parallel (rayon), results streamed to `reports/<scenario>/` through a temporary
//! folder that replaces the old results only when everything is written.

pub mod cells;
pub mod outputs;
pub mod progress;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::forecast::accuracy::{self, Accuracy};
use crate::forecast::rolling::{rolling_forecast, RollingOrigin};
use crate::forecast::{ForecastTable, Forecaster};
use crate::metrics::{self, ScoreConfig};
use crate::rng::{derive_seed, Stream};
use crate::scenario::{window_steps, Scenario, TraceSource};
use crate::sim::{simulate, RunInput, SimConfig};
use crate::trace::{self, Gap};
use crate::workload::{generator, Workload};
use cells::Cell;
use outputs::{field, num, write_line};

/// How to run sweeps.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Parent of the per-scenario result folders.
    pub out_dir: PathBuf,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// What a finished sweep wrote.
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub name: String,
    pub cells: usize,
    pub folder: PathBuf,
}

/// The scenario bound to its data: workload, window, simulator configurations, forecasts.
pub struct Prepared {
    pub workload: Workload,
    pub gaps: Vec<Gap>,
    pub train: usize,
    pub test: usize,
    pub sims: Vec<(SimConfig, ScoreConfig)>,
    pub forecasts: Vec<ForecastTable>,
    pub accuracy: Vec<Accuracy>,
    pub inputs: Vec<PathBuf>,
}

/// Loads or generates the scenario's workload.
pub fn load_workload(sc: &Scenario) -> Result<(Workload, Vec<Gap>, Vec<PathBuf>)> {
    match &sc.trace {
        TraceSource::File(spec) => {
            let t = trace::load(spec, &sc.name)?;
            Ok((t.workload, t.gaps, vec![spec.path.clone()]))
        }
        TraceSource::Generator(g) => Ok((generator::generate(&sc.name, g)?, vec![], vec![])),
    }
}

/// Resolves the window, builds simulator configurations and computes the forecasts
/// (once per forecaster variant, shared by every policy).
pub fn prepare(sc: &Scenario) -> Result<Prepared> {
    let (workload, gaps, mut inputs) = load_workload(sc)?;
    let err = |m: String| Error::scenario(&sc.path, m);
    let step = workload.step_ms;
    let train = window_steps(&sc.train, step).map_err(|m| err(format!("[window] train: {m}")))?;
    let test = match &sc.test {
        Some(t) => window_steps(t, step).map_err(|m| err(format!("[window] test: {m}")))?,
        None => workload.len().saturating_sub(train),
    };
    if train == 0 || test == 0 || train + test > workload.len() {
        return Err(err(format!(
            "[window] train {train} + test {test} steps must both be positive and fit in the trace's {} steps",
            workload.len()
        )));
    }
    let sims = sc
        .sims
        .iter()
        .map(|v| v.sim.to_config(step).map_err(|m| err(format!("[simulation]: {m}"))))
        .collect::<Result<Vec<_>>>()?;
    let max_window = sims.iter().map(|(c, _)| c.decision_steps()).max().unwrap_or(1);
    let max_lead = sc.policies.iter().filter_map(|(_, p)| p.build().forecast_lead()).max().unwrap_or(0);
    let horizon = max_lead + max_window;
    let mut built: Vec<(Arc<dyn Forecaster>, usize, usize)> = Vec::new();
    for (_, spec) in &sc.forecasters {
        let f = spec.build(&workload, &sc.base_dir, train..train + test)?;
        if let Some(p) = spec.input_path(&sc.base_dir) {
            inputs.push(p);
        }
        let refit = spec.refit_every_steps.unwrap_or(workload.steps_per_day());
        built.push((f, refit, spec.period.unwrap_or(workload.steps_per_day())));
    }
    let fit_windows: Vec<Option<usize>> = sc.forecasters.iter().map(|(_, s)| s.fit_window_steps).collect();
    let results: Vec<Result<(ForecastTable, Accuracy)>> = built
        .par_iter()
        .zip(fit_windows.par_iter())
        .map(|((f, refit, mase_period), fw)| {
            let ro = RollingOrigin { refit_every: *refit, fit_window: *fw, horizon };
            let table = rolling_forecast(f.as_ref(), &workload.demand, step, train, train + test, ro)?;
            let acc = accuracy::score(&table, &workload.demand, &workload.demand[..train], *mase_period);
            Ok((table, acc))
        })
        .collect();
    let mut forecasts = Vec::new();
    let mut acc = Vec::new();
    for r in results {
        let (t, a) = r?;
        forecasts.push(t);
        acc.push(a);
    }
    Ok(Prepared { workload, gaps, train, test, sims, forecasts, accuracy: acc, inputs })
}

/// Runs one cell and returns its summary fields (after the fixed leading columns).
fn run_cell(sc: &Scenario, p: &Prepared, cell: Cell, params: &[String], tl_dir: Option<&Path>) -> Result<Vec<String>> {
    let (sim, score_cfg) = &p.sims[cell.sim];
    let (passign, pspec) = &sc.policies[cell.policy];
    let mut policy = pspec.build();
    let forecast = cell.forecaster.map(|f| &p.forecasts[f]);
    let input = RunInput {
        demand: &p.workload.demand[p.train..p.train + p.test],
        first_step: p.train,
        forecast,
        // Common random numbers: every policy of a simulation variant sees the same arrivals.
        seed: derive_seed(sc.seed, cell.sim as u64, Stream::Arrivals),
    };
    let out = simulate(sim, input, policy.as_mut());
    let m = metrics::score(&out, sim, score_cfg);
    if let Some(dir) = tl_dir {
        outputs::write_timeline(&dir.join(format!("cell_{:06}.parquet", cell.index)), &out.timeline, &p.workload, p.train)?;
    }
    let fname = cell.forecaster.map_or("none".to_string(), |f| sc.forecasters[f].1.display_name());
    let fassign = cell.forecaster.map(|f| &sc.forecasters[f].0);
    let mut row = vec![sc.name.clone(), cell.index.to_string(), fname, pspec.display_name()];
    for col in params {
        let v = sc.sims[cell.sim]
            .params
            .iter()
            .chain(fassign.into_iter().flatten())
            .chain(passign.iter())
            .find(|(k, _)| k == col)
            .map(|(_, v)| num(*v));
        row.push(v.unwrap_or_default());
    }
    let mv = serde_json::to_value(&m).expect("metrics serialise");
    for (_, v) in mv.as_object().expect("object") {
        row.push(field(v));
    }
    row.push(input.seed.to_string());
    Ok(row)
}

fn metric_columns() -> Vec<String> {
    let m = serde_json::to_value(metrics::score(&Default::default(), &SimConfig::default(), &ScoreConfig::default())).unwrap();
    m.as_object().unwrap().keys().cloned().collect()
}

fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

/// Runs one scenario's sweep and writes `out_dir/<name>/`.
pub fn run(sc: &Scenario, opts: &SweepOptions) -> Result<SweepResult> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))?;
    pool.install(|| run_in_pool(sc, opts))
}

fn run_in_pool(sc: &Scenario, opts: &SweepOptions) -> Result<SweepResult> {
    let prepared = prepare(sc)?;
    let cells = cells::enumerate(sc);
    let params = cells::param_columns(sc);
    let final_dir = opts.out_dir.join(&sc.name);
    let tmp = opts.out_dir.join(format!(".{}.tmp-{}", sc.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = write_all(sc, &prepared, &cells, &params, &tmp, opts);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // Swap the finished folder in; the old results survive until this point.
    let old = opts.out_dir.join(format!(".{}.old-{}", sc.name, std::process::id()));
    if final_dir.exists() {
        std::fs::rename(&final_dir, &old).map_err(|e| Error::io(&final_dir, e))?;
    }
    std::fs::rename(&tmp, &final_dir).map_err(|e| Error::io(&final_dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(SweepResult { name: sc.name.clone(), cells: cells.len(), folder: final_dir })
}

fn write_all(sc: &Scenario, p: &Prepared, cells: &[Cell], params: &[String], dir: &Path, opts: &SweepOptions) -> Result<()> {
    let tl_dir = dir.join("timelines");
    if sc.timelines {
        std::fs::create_dir_all(&tl_dir).map_err(|e| Error::io(&tl_dir, e))?;
    }
    let csv_path = dir.join("metrics_summary.csv");
    let file = std::fs::File::create(&csv_path).map_err(|e| Error::io(&csv_path, e))?;
    let mut csv = std::io::BufWriter::new(file);
    let mut header: Vec<String> = ["scenario", "cell", "forecaster", "policy"].map(String::from).to_vec();
    header.extend(params.iter().cloned());
    header.extend(metric_columns());
    header.push("seed".into());
    let io = |e| Error::io(&csv_path, e);
    write_line(&mut csv, &header).map_err(io)?;
    let bar = progress::bar(cells.len() as u64, &format!("sweep {}", sc.name), opts.quiet);
    // Cells run in parallel chunks; rows are written in cell order, so memory stays
    // bounded by one chunk and the output does not depend on the thread count.
    for chunk in cells.chunks(256) {
        let rows: Vec<Result<Vec<String>>> = chunk
            .par_iter()
            .map(|&c| {
                let r = run_cell(sc, p, c, params, sc.timelines.then_some(tl_dir.as_path()));
                bar.inc(1);
                r
            })
            .collect();
        for r in rows {
            write_line(&mut csv, &r?).map_err(io)?;
        }
    }
    csv.flush().map_err(io)?;
    drop(csv);
    bar.finish_and_clear();
    outputs::csv_to_parquet(&csv_path, &dir.join("metrics_summary.parquet"))?;
    let acc_rows: Vec<_> = sc
        .forecasters
        .iter()
        .zip(&p.accuracy)
        .map(|((a, s), acc)| (s.display_name(), a.clone(), acc.clone()))
        .collect();
    let acc_path = dir.join("forecast_accuracy.csv");
    trace::write::atomic_write(&acc_path, |f| {
        let mut b = std::io::BufWriter::new(f);
        for r in outputs::accuracy_rows(&acc_rows) {
            write_line(&mut b, &r)?;
        }
        b.flush()
    })?;
    write_manifest(sc, p, cells.len(), &dir.join("manifest.json"))
}

fn write_manifest(sc: &Scenario, p: &Prepared, cells: usize, path: &Path) -> Result<()> {
    let mut inputs = vec![serde_json::json!({"path": sc.path.display().to_string(), "sha256": sha256_file(&sc.path)?})];
    for i in &p.inputs {
        inputs.push(serde_json::json!({"path": i.display().to_string(), "sha256": sha256_file(i)?}));
    }
    let manifest = serde_json::json!({
        "scalesim_version": env!("CARGO_PKG_VERSION"),
        "scenario": sc.name,
        "description": sc.description,
        "seed": sc.seed,
        "cells": cells,
        "inputs": inputs,
        "trace": {
            "steps": p.workload.len(),
            "step_ms": p.workload.step_ms,
            "start": p.workload.timestamp_label(0),
            "gaps_filled": p.gaps,
        },
        "window": {"train_steps": p.train, "test_steps": p.test, "first_test_timestamp": p.workload.timestamp_label(p.train)},
        "forecast_horizon_steps": p.forecasts.first().map(|f| f.horizon),
        "parameters": sc.raw,
    });
    let text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    trace::write::atomic_write(path, |f| f.write_all(text.as_bytes()))
}
