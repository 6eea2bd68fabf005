//! Command-line interface: argument definitions and the subcommands' glue.

mod compare;
mod forecast;
mod gen_data;
mod live;
mod train;
mod validate;

/// Log reading and series statistics used by `sim validate` (and its tests).
pub mod validate_helpers {
    pub use super::validate::{read_log, series_stats};
}

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// Predictive auto-scaling research toolkit.
#[derive(Debug, Parser)]
#[command(name = "sim", version, about)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate synthetic workloads (the prototype's scenarios, or a generator TOML).
    GenData(gen_data::GenDataArgs),
    /// Fit a forecaster on a trace up to a time and write its forecast (CSV or Parquet).
    Forecast(forecast::ForecastArgs),
    /// Fit a scenario's trainable forecasters (Prophet) on its training window and save them under models/.
    Train(train::TrainArgs),
    /// Run scenario sweeps and write reports/<scenario>/.
    Sweep(SweepArgs),
    /// Search policy parameters given as ranges for the Pareto set of two objectives; writes it as reports/<scenario>/.
    Tune(TuneArgs),
    /// Write report.html, report.md, report.ipynb and plots/ for finished sweeps.
    Report(ReportArgs),
    /// Combine the shard folders of one sweep into reports/<scenario>/.
    Merge(MergeArgs),
    /// Print the name of a scenario (the folder its sweep writes), after checking it.
    ScenarioName(ScenarioNameArgs),
    /// Run the validation suite (seed parity, Erlang-C, Little's law) and write its results.
    Validate(validate::ValidateArgs),
    /// One M/M/c run of the request simulator (one thread): latency figures and wall time as JSON.
    Mmc(validate::MmcArgs),
    /// The inference service live replicas run: POST /predict, GET /health, GET /metrics.
    Serve(live::ServeArgs),
    /// Control real Docker replicas with a policy, reading load from Prometheus.
    Live(live::LiveArgs),
    /// Replay a trace as open-loop Poisson load against the replicas.
    Load(live::LoadArgs),
    /// Hold requests while a service has no replica and forward them once one is healthy.
    Activator(live::ActivatorArgs),
    /// Build the FROM-scratch serving image from a statically linked `sim`.
    Image(live::ImageArgs),
    /// Write the Prometheus configuration that discovers a live configuration's replicas.
    PrometheusConfig(live::PromConfigArgs),
    /// Simulate the trace a live run replayed and compare replicas, latency and errors.
    CompareLive(compare::CompareArgs),
    /// Fit the simulator's service time and measurement delay to a live run's logs.
    Calibrate(compare::CalibrateArgs),
}

/// What `sim sweep` and `sim tune` share: scenarios, where results go, threads, the
/// progress bar and resuming.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files (for `sim tune`, policy parameters may be ranges, with `[tune]`).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Folder for the results (one sub-folder per scenario).
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Worker threads (default: all cores; the results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Finish interrupted work from its checkpoints (same inputs required).
    #[arg(long)]
    pub resume: bool,
}

impl RunArgs {
    /// The sweep options these give (shards and the rest at their defaults).
    fn options(&self) -> Result<crate::sweep::SweepOptions> {
        if self.threads == Some(0) {
            anyhow::bail!("--threads must be at least 1");
        }
        let mut opts = crate::sweep::SweepOptions::new(&self.out);
        opts.threads = self.threads;
        opts.quiet = self.quiet;
        opts.resume = self.resume;
        Ok(opts)
    }
}

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Run only shard K of N (1-based), into <out>/<scenario>.shard-K-of-N/; `sim merge` combines them.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::sweep::Shard>,
    /// Cells per checkpoint.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: u64,
    /// Run even when the estimated output is larger than the free disk space.
    #[arg(long)]
    pub allow_large_output: bool,
}

#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Stop after this many batches in all (continue later with --resume).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub batches: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Sweep folders (default: every sweep under reports/).
    pub sweeps: Vec<PathBuf>,
    /// Under-provisioning events a policy may have to count as "within budget"
    /// (default: 1 % of the simulated steps).
    #[arg(long)]
    pub under_budget: Option<f64>,
    /// Request mode: the share of requests (%) over the SLO or dropped that a cell may have
    /// to be recommended (default 1).
    #[arg(long)]
    pub slo_budget: Option<f64>,
    /// The two swept parameters of the heatmaps, e.g. policy.buffer,policy.quantile.
    #[arg(long, value_delimiter = ',', num_args = 2)]
    pub heatmap: Option<Vec<String>>,
    /// Metrics drawn as heatmaps.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "cost_replica_hours,under_events"
    )]
    pub heatmap_metrics: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard folders (all N of one sweep).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Folder for the merged results.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ScenarioNameArgs {
    /// Scenario file.
    pub scenario: PathBuf,
}

/// Sets up `tracing` output on stderr.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal: a log file or CI output gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::GenData(a) => gen_data::run(a),
        Command::Sweep(a) => sweep(a),
        Command::Tune(a) => tune(a),
        Command::Forecast(a) => forecast::run(a),
        Command::Train(a) => train::run(a),
        Command::Report(a) => report(a),
        Command::Merge(a) => {
            let dest = crate::sweep::merge::merge(&a.shards, &a.out)
                .context("merge failed; nothing was changed")?;
            eprintln!(
                "merged {} shard folder(s) -> {}",
                a.shards.len(),
                dest.display()
            );
            Ok(())
        }
        Command::ScenarioName(a) => {
            let sc = crate::scenario::load(&a.scenario)
                .with_context(|| format!("cannot use scenario {}", a.scenario.display()))?;
            println!("{}", sc.name);
            Ok(())
        }
        Command::Validate(a) => validate::run(a),
        Command::Mmc(a) => validate::mmc(a),
        Command::Serve(a) => live::serve(a),
        Command::Live(a) => live::live(a),
        Command::Load(a) => live::load(a),
        Command::Activator(a) => live::activator(a),
        Command::Image(a) => live::image(a),
        Command::PrometheusConfig(a) => live::prometheus_config(a),
        Command::CompareLive(a) => compare::compare_live(a),
        Command::Calibrate(a) => compare::calibrate(a),
    }
}

fn sweep(a: SweepArgs) -> Result<()> {
    let mut opts = a.run.options()?;
    opts.shard = a.shard;
    opts.checkpoint_cells = a.checkpoint_every as usize;
    opts.allow_large_output = a.allow_large_output;
    let scenarios = &a.run.scenarios;
    // A scenario that cannot run (a typo, a trace it cannot read, a forecaster this build
    // lacks) does not stop the others: each failure is reported as it happens and listed
    // at the end, and the exit status is non-zero.
    let mut failed: Vec<(&PathBuf, anyhow::Error)> = Vec::new();
    for path in scenarios {
        if let Err(e) = sweep_one(path, &opts) {
            if scenarios.len() > 1 {
                eprintln!("error: {e:#}");
            }
            failed.push((path, e));
        }
    }
    match failed.len() {
        0 => Ok(()),
        _ if scenarios.len() == 1 => Err(failed.pop().expect("one failure").1),
        n => {
            let list: Vec<String> = failed
                .iter()
                .map(|(p, e)| format!("  {}: {}", p.display(), error_text(e)))
                .collect();
            anyhow::bail!(
                "{n} of {} scenarios failed (the others ran):\n{}",
                scenarios.len(),
                list.join("\n")
            )
        }
    }
}

fn tune(a: TuneArgs) -> Result<()> {
    let opts = a.run.options()?;
    for path in &a.run.scenarios {
        let t = crate::tune::load(path)
            .with_context(|| format!("cannot use scenario {}", path.display()))?;
        let start = std::time::Instant::now();
        let r = crate::tune::run(&t, &opts, a.batches.map(|b| b as usize)).with_context(|| {
            format!(
                "tuning {} failed; earlier results were left as they were (finished batches are kept: rerun with --resume to reuse them)",
                path.display()
            )
        })?;
        if !r.finished {
            eprintln!(
                "{}: stopped after {} batches ({} evaluations) as asked; continue with --resume (checkpoints in {})",
                r.name,
                r.rounds,
                r.evaluations,
                r.folder.display()
            );
            continue;
        }
        let resumed = if r.resumed > 0 {
            format!(" ({} from checkpoints)", r.resumed)
        } else {
            String::new()
        };
        eprintln!(
            "{}: {} evaluations{resumed} in {} batches, {} on the Pareto sets, in {:.2} s -> {}",
            r.name,
            r.evaluations,
            r.rounds,
            r.pareto,
            start.elapsed().as_secs_f64(),
            r.folder.display()
        );
    }
    Ok(())
}

/// An error and its causes on one line, each cause once: our errors already show their
/// source (`path: cause`), so the chain would otherwise repeat it ("X: X").
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for c in e.chain() {
        let s = c.to_string();
        if out.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    out
}

/// Loads and sweeps one scenario, printing its one-line summary.
fn sweep_one(path: &Path, opts: &crate::sweep::SweepOptions) -> Result<()> {
    let sc = crate::scenario::load(path)
        .with_context(|| format!("cannot use scenario {}", path.display()))?;
    let start = std::time::Instant::now();
    if sc.traces.len() > 1 {
        let r = crate::sweep::study::run(&sc, opts)
            .with_context(|| format!("study {} failed", sc.path.display()))?;
        eprintln!(
            "{}: {} traces, {} cells in {:.2} s -> {}",
            r.name,
            r.traces,
            r.cells,
            start.elapsed().as_secs_f64(),
            r.folder.display()
        );
        return Ok(());
    }
    let r = crate::sweep::run(&sc, opts).with_context(|| {
        let kept = if crate::sweep::has_checkpoints(&sc, opts) {
            " (its finished cells are kept: once fixed, rerun with --resume to reuse them)"
        } else {
            ""
        };
        format!(
            "sweep of {} failed; earlier results were left as they were{kept}",
            sc.path.display()
        )
    })?;
    let resumed = if r.resumed_cells > 0 {
        format!(" ({} from checkpoints)", r.resumed_cells)
    } else {
        String::new()
    };
    eprintln!(
        "{}: {} cells{resumed} in {:.2} s -> {}",
        r.name,
        r.cells,
        start.elapsed().as_secs_f64(),
        r.folder.display()
    );
    Ok(())
}

fn report(a: ReportArgs) -> Result<()> {
    let dirs = if a.sweeps.is_empty() {
        let found = crate::report::find_sweeps(std::path::Path::new("reports"))
            .context("cannot list reports/: run `sim sweep` first or name sweep folders")?;
        if found.is_empty() {
            anyhow::bail!("no sweeps under reports/: run `sim sweep scenarios/*.toml` first");
        }
        found
    } else {
        a.sweeps.clone()
    };
    let opts = crate::report::ReportOptions {
        under_budget: a.under_budget,
        slo_budget_pct: a.slo_budget,
        heatmap: a.heatmap.as_ref().map(|h| (h[0].clone(), h[1].clone())),
        heatmap_metrics: a.heatmap_metrics.clone(),
    };
    for d in dirs {
        let start = std::time::Instant::now();
        let files = crate::report::write_report(&d, &opts)
            .with_context(|| format!("report for {} failed", d.display()))?;
        eprintln!(
            "{}: {} charts in {:.2} s -> {}",
            d.display(),
            files.charts,
            start.elapsed().as_secs_f64(),
            files.html.display()
        );
    }
    Ok(())
}
