//! `sim compare-live` and `sim calibrate`: a live run against its simulated twin, and
//! the simulator settings fitted to a live run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::live::calibrate::{fit_measurement, fit_service, MeasurementFit, ServiceFit};
use crate::live::compare::{
    compare, compare_latency, counts, interval_of, simulate_live, TwinSettings,
};
use crate::live::config::LiveConfig;
use crate::service::load::LoadSummary;
use crate::sim::{Fidelity, Timeline};
use crate::trace::write::atomic_write;

/// The trace a live run replayed, in requests per decision interval.
#[derive(Debug, clap::Args)]
pub struct ReplayedTrace {
    /// The trace `sim load` replayed, with the same --speedup and --scale.
    #[arg(long)]
    pub trace: PathBuf,
    #[arg(long, default_value_t = 1.0)]
    pub speedup: f64,
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// `sim load`'s --seed: without a request log the twin draws the arrivals `sim load`
    /// drew with it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl ReplayedTrace {
    /// Requests per decision interval, and the arrivals `sim load` sends for them (ms).
    fn demand(&self, cfg: &LiveConfig) -> Result<(Vec<f64>, Vec<f64>)> {
        let w =
            crate::trace::load(&crate::trace::TraceSpec::for_path(&self.trace), "trace")?.workload;
        let step_s = w.step_ms as f64 / 1000.0 / self.speedup;
        if (step_s - cfg.controller.interval_s).abs() > 1e-6 {
            bail!(
                "the trace's step / speedup is {step_s} s but controller.interval_s is {} s: they must match to compare decision by decision",
                cfg.controller.interval_s
            );
        }
        let times = crate::service::load::arrivals(
            &w.demand,
            w.step_ms,
            self.speedup,
            self.scale,
            self.seed,
        );
        Ok((w.demand.iter().map(|d| d * self.scale).collect(), times))
    }
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The live configuration of the run.
    #[arg(long)]
    pub config: PathBuf,
    /// Its decision log (CSV or Parquet); without it only the twin is simulated and written.
    #[arg(long)]
    pub decisions: Option<PathBuf>,
    /// `sim load`'s request log: its arrivals are replayed and its latency compared.
    #[arg(long)]
    pub requests: Option<PathBuf>,
    #[command(flatten)]
    pub trace: ReplayedTrace,
    /// Start-up delay of a replica, seconds (measured: about 1 s here).
    #[arg(long, default_value_t = 1.0)]
    pub startup_delay_s: f64,
    /// `requests` (the live replica's service time, queueing, latency) or `fluid`.
    #[arg(long, default_value = "requests", value_parser = parse_fidelity)]
    pub fidelity: Fidelity,
    /// Settings from `sim calibrate` (its [simulation.requests] and [simulation.measurement]
    /// replace the live configuration's service and Prometheus settings).
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// The twin reads demand exactly, without the metrics pipeline's delay.
    #[arg(long)]
    pub exact_readings: bool,
    /// Folder for comparison.json, comparison.csv, sim_requests.csv and sim_decisions.*.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_fidelity(s: &str) -> std::result::Result<Fidelity, String> {
    match s {
        "requests" => Ok(Fidelity::Requests),
        "fluid" => Ok(Fidelity::Fluid),
        _ => Err(format!("'{s}': write requests or fluid")),
    }
}

/// The twin's settings: the live configuration's, then the calibration's.
fn twin_settings(cfg: &LiveConfig, a: &CompareArgs) -> Result<TwinSettings> {
    let mut twin = TwinSettings::from_config(cfg, (a.startup_delay_s * 1000.0).round() as u64);
    twin.fidelity = a.fidelity;
    if let Some(path) = &a.calibration {
        apply_calibration(&mut twin, path)?;
    }
    if a.exact_readings {
        twin.measurement = None;
    }
    Ok(twin)
}

/// Reads `[simulation.requests]` and `[simulation.measurement]` of a calibration (or any
/// scenario) file into the twin's service and measurement.
fn apply_calibration(twin: &mut TwinSettings, path: &Path) -> Result<()> {
    let bad = |m: String| anyhow::anyhow!("{}: {m}", path.display());
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the calibration {}", path.display()))?;
    let mut top: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    let Some(toml::Value::Table(sim)) = top.remove("simulation") else {
        return Err(bad(
            "no [simulation] section: give the file `sim calibrate --out` wrote".into(),
        ));
    };
    let sim: crate::scenario::simulation::SimToml = toml::Value::Table(sim)
        .try_into()
        .map_err(|e: toml::de::Error| bad(format!("[simulation]: {}", e.message())))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let samples = sim.requests.read_samples(dir).map_err(&bad)?;
    twin.service = sim.requests.service(samples.as_ref()).map_err(&bad)?;
    twin.mean_ms = sim.requests.mean_ms;
    twin.concurrency = sim.requests.concurrency;
    twin.queue_limit = sim.requests.queue_limit;
    twin.measurement = sim
        .measurement
        .as_ref()
        .map(|m| m.to_measurement())
        .transpose()
        .map_err(bad)?;
    Ok(())
}

/// Arrival times (ms) inside `n` intervals, sorted.
fn arrivals(at_ms: impl Iterator<Item = f64>, interval_ms: u64, n: usize) -> Vec<u64> {
    let end = interval_ms * n as u64;
    let mut t: Vec<u64> = at_ms
        .filter(|&a| interval_of(a, interval_ms, n).is_some())
        .map(|a| (a.round() as u64).min(end - 1))
        .collect();
    t.sort_unstable();
    t
}

pub fn compare_live(a: CompareArgs) -> Result<()> {
    let cfg = LiveConfig::load(&a.config)?;
    let twin = twin_settings(&cfg, &a)?;
    let (trace_demand, drawn) = a.trace.demand(&cfg)?;
    let interval_ms = cfg.interval_ms();
    let n = trace_demand.len();
    let live_log = a
        .requests
        .as_deref()
        .map(crate::live::request_log::read)
        .transpose()?;
    // The twin serves, and reads, what arrived: the live run's logged arrivals, else the
    // ones `sim load` drew with this seed.
    let at: Vec<f64> = match &live_log {
        Some(log) => log.iter().map(|o| o.at_ms).collect(),
        None => drawn,
    };
    let times = arrivals(at.iter().copied(), interval_ms, n);
    let demand = counts(times.iter().map(|&t| t as f64), interval_ms, n);
    let sim = simulate_live(&cfg, &demand, Some(&times), &twin)?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    crate::live::request_log::write(&a.out.join("sim_requests.csv"), &sim.requests)?;
    let read = Timeline {
        demand: sim.readings.clone(),
        ..sim.timeline.clone()
    };
    crate::live::controller::write_log(&a.out.join("sim_decisions.parquet"), &read, interval_ms)?;
    let Some(decisions) = &a.decisions else {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "twin": twin,
                "decisions": n,
                "requests": sim.requests.len(),
                "latency": crate::service::load::summarize(&sim.requests),
            }))?
        );
        return Ok(());
    };
    let live = read_desired(decisions)?;
    let c = compare(
        &live.0,
        &sim.timeline.desired,
        cfg.initial_replicas(),
        cfg.controller.interval_s,
    );
    let lat = live_log
        .as_ref()
        .map(|l| compare_latency(l, &sim.requests, interval_ms, c.decisions_compared));
    let mut json = serde_json::to_value(&c)?;
    json["identical_decisions"] = live
        .0
        .iter()
        .zip(&sim.timeline.desired)
        .filter(|(a, b)| a == b)
        .count()
        .into();
    json["latency"] = serde_json::to_value(&lat)?;
    json["twin"] = serde_json::to_value(&twin)?;
    let text = serde_json::to_string_pretty(&json)?;
    atomic_write(&a.out.join("comparison.json"), |f| {
        f.write_all(text.as_bytes())
    })?;
    atomic_write(&a.out.join("comparison.csv"), |f| {
        write!(
            f,
            "decision,trace_demand,live_demand,sim_demand,sim_desired,live_desired"
        )?;
        if lat.is_some() {
            write!(f, ",live_requests,live_p50_ms,live_p95_ms,live_p99_ms,live_errors,sim_requests,sim_p50_ms,sim_p95_ms,sim_p99_ms,sim_dropped")?;
        }
        writeln!(f)?;
        for (i, d) in trace_demand.iter().take(c.decisions_compared).enumerate() {
            write!(
                f,
                "{i},{d},{},{},{},{}",
                live.1[i], sim.readings[i], sim.timeline.desired[i], live.0[i]
            )?;
            if let Some(l) = &lat {
                let (lv, sv) = &l.per_interval[i];
                let cell = |s: &LoadSummary| {
                    format!(
                        "{},{},{},{},{}",
                        s.requests,
                        blank_nan(s.p50_ms),
                        blank_nan(s.p95_ms),
                        blank_nan(s.p99_ms),
                        s.requests - s.ok
                    )
                };
                write!(f, ",{},{}", cell(lv), cell(sv))?;
            }
            writeln!(f)?;
        }
        Ok(())
    })?;
    println!("{text}");
    Ok(())
}

fn blank_nan(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        String::new()
    }
}

/// `desired` and `demand` columns of a decision log.
fn read_desired(path: &Path) -> Result<(Vec<u32>, Vec<f64>)> {
    let df = crate::trace::read_table(path)?;
    let col = |name: &str| crate::report::data::f64_column(&df, path, name);
    let desired = col("desired")?.iter().map(|&d| d as u32).collect();
    Ok((desired, col("demand")?))
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The live configuration of the run (its scrape interval, decision interval, replica).
    #[arg(long)]
    pub config: PathBuf,
    /// Its decision log (CSV or Parquet): the `demand` the controller read.
    #[arg(long)]
    pub decisions: PathBuf,
    /// `sim load`'s request log: arrivals, latency and the replies' service times.
    #[arg(long)]
    pub requests: PathBuf,
    /// The settings, as a scenario fragment (`[simulation]`); calibration.json beside it.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn calibrate(a: CalibrateArgs) -> Result<()> {
    let cfg = LiveConfig::load(&a.config)?;
    let log = crate::live::request_log::read(&a.requests)?;
    let (_, readings) = read_desired(&a.decisions)?;
    let interval_ms = cfg.interval_ms();
    let service = fit_service(&log)
        .with_context(|| format!("cannot fit a service time to {}", a.requests.display()))?;
    // The decisions the request log spans.
    let n = log
        .iter()
        .filter_map(|o| interval_of(o.at_ms, interval_ms, readings.len()))
        .max()
        .map_or(0, |k| k + 1);
    let scrape_ms = cfg.prometheus.scrape_ms();
    let meas = fit_measurement(
        &counts(log.iter().map(|o| o.at_ms), interval_ms, n),
        &readings[..n],
        interval_ms,
        scrape_ms,
    )
    .with_context(|| {
        format!(
            "cannot fit the measurement delay to {}",
            a.decisions.display()
        )
    })?;
    let toml = calibration_toml(&cfg, &a, &service, &meas, log.len());
    atomic_write(&a.out, |f| f.write_all(toml.as_bytes()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "requests": log.len(),
        "service_time": service,
        "measurement": meas,
    }))?;
    atomic_write(&a.out.with_file_name("calibration.json"), |f| {
        f.write_all(json.as_bytes())
    })?;
    println!("{json}");
    Ok(())
}

fn calibration_toml(
    cfg: &LiveConfig,
    a: &CalibrateArgs,
    s: &ServiceFit,
    m: &MeasurementFit,
    requests: usize,
) -> String {
    let closest = s.fits.iter().min_by(|p, q| p.ks.total_cmp(&q.ks));
    let verdict = match (s.chosen, closest) {
        ("empirical", Some(c)) => format!(
            "empirical, the samples themselves (the closest family, {}, is {:.4} away; the 5 % critical distance is {:.4})",
            c.family, c.ks, s.ks_critical
        ),
        (family, _) => format!(
            "{family} (KS distance {:.4}; the 5 % critical distance is {:.4})",
            s.chosen_fit().map_or(0.0, |f| f.ks),
            s.ks_critical
        ),
    };
    let mut t = format!(
        "# Written by `sim calibrate` from {} ({requests} requests, {} {} samples) and {}\n\
         # ({} decisions). Service time: {verdict}.\n\
         # Measurement: RMSE {:.2} requests per interval, {:.2} reading each interval exactly.\n\
         # `sim compare-live --calibration` reads it; paste it into a scenario to sweep with it.\n\
         [simulation]\nfidelity = \"requests\"\n\n[simulation.requests]\nservice_time = \"{}\"\n",
        a.requests.display(),
        s.samples,
        s.source,
        a.decisions.display(),
        m.decisions,
        m.rmse,
        m.rmse_exact,
        s.chosen,
    );
    for (k, v) in s.chosen_keys() {
        t.push_str(&format!("{k} = {v}\n"));
    }
    if s.chosen == "empirical" {
        let pairs: Vec<String> = s
            .histogram
            .iter()
            .map(|(v, c)| format!("[{v}, {c}]"))
            .collect();
        t.push_str(&format!("histogram = [{}]\n", pairs.join(", ")));
    }
    // What a replica serves against what the policies size it with.
    let served_rps = cfg.service.concurrency as f64 * 1000.0 / s.mean_ms;
    let apart = (served_rps / cfg.controller.capacity_per_replica_rps)
        .max(cfg.controller.capacity_per_replica_rps / served_rps);
    let twin = TwinSettings::from_config(cfg, 0);
    t.push_str(&format!(
        "concurrency = {}\nqueue_limit = {}\n# A replica serves {served_rps:.1} requests/s; the policies size with {}.\ncapacity_mismatch_factor = {}\n",
        twin.concurrency,
        twin.queue_limit,
        cfg.controller.capacity_per_replica_rps,
        ((apart * 1.05).max(1.25) * 100.0).ceil() / 100.0,
    ));
    t.push_str(&format!(
        "\n[simulation.measurement]\nscrape_interval_s = {}\nscrape_offset_s = {}\ndelay_s = {}\n",
        m.scrape_interval_s, m.scrape_offset_s, m.delay_s
    ));
    t
}
