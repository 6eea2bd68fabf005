//! Running a scenario's sweep: shared rolling forecasts, every cell in parallel
//! (rayon), rows checkpointed in chunks so that `--resume` finishes an interrupted run,
//! and the finished folder swapped into `reports/<scenario>/` only when complete.

pub mod attribution;
pub mod bootstrap;
pub mod cell_run;
pub mod cells;
pub mod comparisons;
pub mod manifest;
pub mod merge;
pub mod outputs;
pub mod prepare;
pub mod progress;
pub mod replicate;
pub mod shard;
pub mod study;
pub mod summary_row;
pub mod swap;
pub mod warnings;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::sim::Fidelity;
use crate::trace::write::atomic_write;
use cells::Cell;
pub use prepare::{load_workload, prepare, Prepared};
pub use shard::Shard;

/// How to run sweeps.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Parent of the per-scenario result folders.
    pub out_dir: PathBuf,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Hide the progress bar.
    pub quiet: bool,
    /// Run only this shard's cells into `<scenario>.shard-K-of-N/`.
    pub shard: Option<Shard>,
    /// Continue from the checkpoints of an interrupted run with the same inputs.
    pub resume: bool,
    /// Cells per checkpoint.
    pub checkpoint_cells: usize,
    /// Run even when the estimated output is larger than the free disk space.
    pub allow_large_output: bool,
}

impl SweepOptions {
    pub fn new(out_dir: impl Into<PathBuf>) -> SweepOptions {
        SweepOptions {
            out_dir: out_dir.into(),
            threads: None,
            quiet: true,
            shard: None,
            resume: false,
            checkpoint_cells: 256,
            allow_large_output: false,
        }
    }
}

/// What a finished sweep wrote.
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub name: String,
    pub cells: usize,
    /// Cells taken from checkpoints of an earlier run.
    pub resumed_cells: usize,
    pub folder: PathBuf,
}

/// Shard metadata written next to a shard's results, read by `sim merge`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    pub scenario: String,
    pub shard: usize,
    pub of: usize,
    /// SHA-256 of the sweep's manifest: shards of one sweep share it.
    pub manifest_sha256: String,
    /// Cell indices in this shard.
    pub cells: Vec<usize>,
    /// Forecaster indices whose accuracy rows this shard wrote, in file order.
    pub forecasters: Vec<usize>,
}

/// Runs one scenario's sweep (or one shard of it).
pub fn run(sc: &Scenario, opts: &SweepOptions) -> Result<SweepResult> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Config(format!("cannot start worker threads: {e}")))?;
    pool.install(|| run_in_pool(sc, opts))
}

/// Rough work of one cell, for balancing shards.
fn cell_cost(sc: &Scenario, p: &Prepared, c: &Cell) -> f64 {
    let steps = p.test as f64;
    match p.sims[c.sim].0.fidelity {
        Fidelity::Fluid => steps,
        Fidelity::Requests => {
            let arrivals: f64 = p.workload.demand[p.train..p.train + p.test].iter().sum();
            steps + 2.0 * arrivals
        }
    }
    .max(1.0)
        * if sc.timelines { 2.0 } else { 1.0 }
}

/// Bytes a timeline takes per step in Parquet (measured: 68 kB for 1,440 steps), and a
/// summary row with its CSV and Parquet copies, generously.
const TIMELINE_BYTES_PER_STEP: u64 = 50;
const ROW_BYTES: u64 = 1024;
/// A forecast row per step: point and 11 quantiles over the horizon, in Parquet.
const FORECAST_BYTES_PER_STEP: u64 = 100;

/// The output a sweep of `cells` cells will write, estimated (bytes), with and without
/// timelines.
pub fn estimate_output(
    test_steps: usize,
    cells: usize,
    forecasts: usize,
    timelines: bool,
) -> (u64, u64) {
    let base =
        cells as u64 * ROW_BYTES + forecasts as u64 * test_steps as u64 * FORECAST_BYTES_PER_STEP;
    let tl = cells as u64 * (test_steps as u64 * TIMELINE_BYTES_PER_STEP + 4096);
    (base + if timelines { tl } else { 0 }, base)
}

/// Says how much a big sweep will write, and refuses one that will not fit on the disk
/// (twice: the results are written beside the old ones before the swap) unless asked to
/// proceed. `SCALESIM_AVAILABLE_BYTES` stands in for the free space in tests.
fn check_output_size(
    sc: &Scenario,
    p: &Prepared,
    cells: usize,
    needed: &[bool],
    opts: &SweepOptions,
) -> Result<()> {
    let forecasts = needed.iter().filter(|&&n| n).count();
    let (bytes, without) = estimate_output(p.test, cells, forecasts, sc.timelines);
    let gb = |b: u64| b as f64 / 1e9;
    if bytes > 1_000_000_000 {
        eprintln!(
            "{}: {cells} cells will write about {:.1} GB{}",
            sc.name,
            gb(bytes),
            if sc.timelines {
                format!(" ({:.1} GB without timelines)", gb(without))
            } else {
                String::new()
            }
        );
    }
    let free = match std::env::var("SCALESIM_AVAILABLE_BYTES") {
        Ok(v) => v.parse().ok(),
        Err(_) => fs4::available_space(&opts.out_dir).ok(),
    };
    let Some(free) = free else { return Ok(()) };
    if bytes <= free {
        return Ok(());
    }
    let msg = format!(
        "{cells} cells would write about {:.1} GB into {}, but only {:.1} GB are free there{}; write elsewhere with --out, or pass --allow-large-output to run anyway",
        gb(bytes),
        opts.out_dir.display(),
        gb(free),
        if sc.timelines {
            format!(": set `[output] timelines = false` (about {:.1} GB)", gb(without))
        } else {
            String::new()
        }
    );
    if opts.allow_large_output {
        tracing::warn!("{}: {msg}", sc.name);
        Ok(())
    } else {
        Err(Error::Config(msg))
    }
}

/// The results folder's name: the scenario's, with the shard's tag.
fn folder_name(sc: &Scenario, opts: &SweepOptions) -> String {
    match opts.shard {
        None => sc.name.clone(),
        Some(s) => format!("{}.{}", sc.name, s.tag()),
    }
}

/// True when this sweep's work folder holds finished cells that `--resume` would reuse.
pub fn has_checkpoints(sc: &Scenario, opts: &SweepOptions) -> bool {
    let rows = swap::Results::new(&opts.out_dir, &folder_name(sc, opts))
        .work()
        .join("rows");
    std::fs::read_dir(rows).is_ok_and(|mut d| d.next().is_some())
}

fn run_in_pool(sc: &Scenario, opts: &SweepOptions) -> Result<SweepResult> {
    run_cells(sc, &cells::enumerate(sc), None, opts, &|_| Ok(()))
}

/// Runs `all` (cells of `sc`; `sim tune` passes its Pareto set) into the scenario's results
/// folder, on `prepared` when given (its forecasts are reused), else on a fresh
/// preparation. `extra` writes further files into the finished folder before it is put
/// in place. Call inside the sweep's thread pool.
pub fn run_cells(
    sc: &Scenario,
    all: &[Cell],
    prepared: Option<Prepared>,
    opts: &SweepOptions,
    extra: &dyn Fn(&Path) -> Result<()>,
) -> Result<SweepResult> {
    let nf = sc.forecasters.len();
    let used_by_any: Vec<bool> = (0..nf)
        .map(|f| all.iter().any(|c| c.forecaster == Some(f)))
        .collect();
    let folder_name = folder_name(sc, opts);
    // One writer per results folder, from before the (costly) preparation on.
    let results = swap::Results::new(&opts.out_dir, &folder_name);
    let _lock = results.lock()?;
    let installed = results.recover()?;
    let mut p = match prepared {
        Some(p) => p,
        None => prepare(sc)?,
    };
    let mine = match opts.shard {
        None => all.to_vec(),
        Some(s) => s.select(all, |c| cell_cost(sc, &p, c)),
    };
    // A shard forecasts what its cells use; the first shard also scores forecasters no
    // cell uses, so that merged shards hold every accuracy row an unsharded run writes.
    let first_shard = opts.shard.is_none_or(|s| s.index == 1);
    let needed: Vec<bool> = (0..nf)
        .map(|f| mine.iter().any(|c| c.forecaster == Some(f)) || (!used_by_any[f] && first_shard))
        .collect();
    check_output_size(sc, &p, mine.len(), &needed, opts)?;
    p.forecast(&needed)?;
    let manifest = manifest::manifest_text(sc, &p, all.len())?;
    let work = results.work();
    let fingerprint = manifest::sha256_hex(
        format!(
            "{manifest}\n{:?}\n{}\n{}",
            opts.shard, opts.checkpoint_cells, sc.timelines
        )
        .as_bytes(),
    );
    let final_dir = results.dest();
    let done = |resumed_cells| SweepResult {
        name: sc.name.clone(),
        cells: mine.len(),
        resumed_cells,
        folder: final_dir.clone(),
    };
    if opts.resume && installed.as_deref() == Some(fingerprint.as_str()) {
        // Killed while tidying up after the swap: the results are already in place.
        return Ok(done(mine.len()));
    }
    let resumed = if opts.resume && results.complete(&fingerprint) {
        // Killed after the results were finished: only putting them in place is left.
        mine.len()
    } else {
        results.unmark()?;
        let resumed = run_work(sc, &p, &mine, &work, &fingerprint, &manifest, opts, &needed)?;
        extra(&work)?;
        results.mark_complete(&fingerprint)?;
        resumed
    };
    results.install(&work)?;
    Ok(done(resumed))
}

/// Computes the sweep into the work folder, from its checkpoints with `--resume`; returns
/// how many cells came from checkpoints.
#[allow(clippy::too_many_arguments)]
fn run_work(
    sc: &Scenario,
    p: &Prepared,
    mine: &[Cell],
    work: &Path,
    fingerprint: &str,
    manifest: &str,
    opts: &SweepOptions,
    needed: &[bool],
) -> Result<usize> {
    let fp_path = work.join("fingerprint");
    if work.exists() {
        let same = std::fs::read_to_string(&fp_path).is_ok_and(|f| f == fingerprint);
        if opts.resume && !same {
            return Err(Error::Config(format!(
                "cannot resume: the partial results in {} were made from other inputs or settings; run without --resume to start again",
                work.display()
            )));
        }
        if opts.resume {
            remove_partial_writes(work)?;
        } else {
            std::fs::remove_dir_all(work).map_err(|e| Error::io(work, e))?;
        }
    }
    for d in [work.join("rows"), work.join("timelines")] {
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    if let Some(d) = samples_dir(sc, p, work) {
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    atomic_write(&fp_path, |f| f.write_all(fingerprint.as_bytes()))?;
    let params = cells::param_columns(sc);
    let resumed = run_chunks(sc, p, mine, &params, work, opts, needed)?;
    finish(sc, p, mine, &params, work, manifest, opts)?;
    Ok(resumed)
}

/// Where the cells' resampled compared metrics go: a bootstrapped sweep with a baseline.
fn samples_dir(sc: &Scenario, p: &Prepared, work: &Path) -> Option<PathBuf> {
    (p.bootstrap.is_some() && sc.compare_to.is_some()).then(|| work.join(BOOTSTRAP_DIR))
}

/// The folder of [`samples_dir`].
pub const BOOTSTRAP_DIR: &str = "bootstrap";

/// A checkpoint's file: chunk `k` of replication `r` (of `n`).
fn chunk_path(work: &Path, n: usize, r: usize, k: usize) -> PathBuf {
    let name = if n > 1 {
        format!("chunk_{r:05}_{k:06}.csv")
    } else {
        format!("chunk_{k:06}.csv")
    };
    work.join("rows").join(name)
}

/// Runs every chunk of every replication that has no checkpoint yet; returns how many
/// cells were already done. Replication 0 runs on `p`; each later one is prepared afresh
/// from its re-seeded scenario (only when it has chunks left) and writes no timelines.
fn run_chunks(
    sc: &Scenario,
    p: &Prepared,
    mine: &[Cell],
    params: &[String],
    work: &Path,
    opts: &SweepOptions,
    needed: &[bool],
) -> Result<usize> {
    let tl_dir = work.join("timelines");
    let n = sc.replications;
    let size = opts.checkpoint_cells.max(1);
    let total = (mine.len() * n) as u64;
    let bar = progress::bar(total, &format!("sweep {}", sc.name), opts.quiet);
    let mut log = progress::LogLines::new(total, &format!("sweep {}", sc.name), opts.quiet);
    let mut resumed = 0;
    let chunks = mine.len().div_ceil(size);
    for r in 0..n {
        let done = (0..chunks).all(|k| chunk_path(work, n, r, k).exists());
        if done {
            resumed += mine.len();
            bar.inc(mine.len() as u64);
            continue;
        }
        let sc_r = crate::scenario::replication::replica(sc, r);
        let later;
        let p_r = if r == 0 {
            p
        } else {
            let mut q = prepare::prepare_with(&sc_r, false)?;
            q.forecast(needed)?;
            later = q;
            &later
        };
        let timelines = (sc.timelines && r == 0).then_some(tl_dir.as_path());
        let samples = samples_dir(sc, p_r, work);
        for (k, chunk) in mine.chunks(size).enumerate() {
            log.at((r * mine.len() + k * size) as u64);
            let path = chunk_path(work, n, r, k);
            if path.exists() {
                resumed += chunk.len();
                bar.inc(chunk.len() as u64);
                continue;
            }
            let rows: Vec<Result<summary_row::SummaryRow>> = chunk
                .par_iter()
                .map(|&c| {
                    let row =
                        cell_run::run_cell(&sc_r, p_r, c, params, timelines, samples.as_deref());
                    bar.inc(1);
                    row
                })
                .collect();
            let rows = rows.into_iter().collect::<Result<Vec<_>>>()?;
            // The checkpoint appears whole or not at all.
            atomic_write(&path, |f| {
                let mut b = std::io::BufWriter::new(f);
                for row in &rows {
                    let mut fields = row.fields();
                    if n > 1 {
                        fields.insert(0, r.to_string());
                    }
                    outputs::write_line(&mut b, &fields)?;
                }
                b.flush()
            })?;
        }
    }
    bar.finish_and_clear();
    Ok(resumed)
}

/// Assembles the final files in the work folder from the checkpoints.
fn finish(
    sc: &Scenario,
    p: &Prepared,
    mine: &[Cell],
    params: &[String],
    work: &Path,
    manifest: &str,
    opts: &SweepOptions,
) -> Result<()> {
    let csv_path = work.join("metrics_summary.csv");
    let rows_dir = work.join("rows");
    let n = sc.replications;
    // Every replication's rows (one replication: the summary itself).
    let rows_path = if n > 1 {
        work.join(replicate::ROWS_CSV)
    } else {
        csv_path.clone()
    };
    atomic_write(&rows_path, |f| {
        let mut b = std::io::BufWriter::new(f);
        let mut header = summary_row::SummaryRow::header(params, p.bootstrap.is_some());
        if n > 1 {
            header.insert(0, replicate::REPLICATION.into());
        }
        outputs::write_line(&mut b, &header)?;
        for r in 0..n {
            for k in 0..mine.len().div_ceil(opts.checkpoint_cells.max(1)) {
                let chunk = std::fs::File::open(chunk_path(work, n, r, k))?;
                for line in std::io::BufReader::new(chunk).lines() {
                    writeln!(b, "{}", line?)?;
                }
            }
        }
        b.flush()
    })?;
    if n > 1 {
        outputs::csv_to_parquet(&rows_path, &work.join(replicate::ROWS_PARQUET))?;
        replicate::summarize(&rows_path, &csv_path)?;
    }
    std::fs::remove_dir_all(&rows_dir).map_err(|e| Error::io(&rows_dir, e))?;
    std::fs::remove_file(work.join("fingerprint")).map_err(|e| Error::io(work, e))?;
    if !sc.timelines {
        let _ = std::fs::remove_dir(work.join("timelines"));
    }
    outputs::csv_to_parquet(&csv_path, &work.join("metrics_summary.parquet"))?;
    // A shard holds only some cells: the merge attributes the whole sweep.
    if opts.shard.is_none() {
        attribution::write(work)?;
        if let Some(b) = &sc.compare_to {
            comparisons::write(work, b)?;
        }
    }
    let acc_params = outputs::accuracy_params(sc);
    let acc_rows: Vec<_> = sc
        .forecasters
        .iter()
        .zip(&p.accuracy)
        .filter_map(|((a, s), acc)| {
            acc.as_ref()
                .map(|acc| (s.display_name(), a.clone(), acc.clone()))
        })
        .collect();
    let acc_path = work.join("forecast_accuracy.csv");
    atomic_write(&acc_path, |f| {
        let mut b = std::io::BufWriter::new(f);
        for r in outputs::accuracy_rows(&acc_params, &acc_rows) {
            outputs::write_line(&mut b, &r)?;
        }
        b.flush()
    })?;
    for (i, table) in p.forecasts.iter().enumerate() {
        if let Some(t) = table {
            outputs::write_forecast(
                &work.join("forecasts").join(forecast_name(i)),
                t,
                &p.workload,
            )?;
        }
    }
    atomic_write(&work.join("manifest.json"), |f| {
        f.write_all(manifest.as_bytes())
    })?;
    if let Some(s) = opts.shard {
        let info = ShardInfo {
            scenario: sc.name.clone(),
            shard: s.index,
            of: s.count,
            manifest_sha256: manifest::sha256_hex(manifest.as_bytes()),
            cells: mine.iter().map(|c| c.index).collect(),
            forecasters: p
                .accuracy
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_some())
                .map(|(i, _)| i)
                .collect(),
        };
        let text = serde_json::to_string_pretty(&info).expect("shard info serialises");
        atomic_write(&work.join("shard.json"), |f| f.write_all(text.as_bytes()))?;
    }
    Ok(())
}

/// Deletes the temporary files a killed run left half-written (`.<name>.tmp-<pid>`), so
/// that only complete checkpoints and timelines are resumed from.
fn remove_partial_writes(work: &Path) -> Result<()> {
    for sub in [
        work.to_path_buf(),
        work.join("rows"),
        work.join("timelines"),
        work.join(BOOTSTRAP_DIR),
    ] {
        let Ok(entries) = std::fs::read_dir(&sub) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(".tmp-") {
                std::fs::remove_file(e.path()).map_err(|err| Error::io(e.path(), err))?;
            }
        }
    }
    Ok(())
}

/// File name of a forecaster variant's forecasts under `forecasts/`.
pub fn forecast_name(index: usize) -> String {
    format!("forecaster_{index:03}.parquet")
}
