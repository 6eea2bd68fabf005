//! `sim serve`, `sim live`, `sim load`, `sim image` and `sim prometheus-config`: the
//! live mode's commands (`sim compare-live` and `sim calibrate` are in `compare`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::live::config::LiveConfig;
use crate::service::service_time::ServiceTimeDist;
use crate::trace::write::atomic_write;

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// uniform:MIN:MAX, exponential:MEAN, deterministic:MS or lognormal:MEAN:CV (ms).
    #[arg(long, default_value = "uniform:50:200")]
    pub service_time: ServiceTimeDist,
    /// Requests served at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// Requests waiting for a slot; more get 503.
    #[arg(long, default_value_t = 32)]
    pub queue: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seconds a client may take to send a request's headers, and again its body (408).
    #[arg(long, default_value_t = 5.0)]
    pub read_timeout_s: f64,
    /// Open connections at most; beyond, new ones are closed at once.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
}

pub fn serve(a: ServeArgs) -> Result<()> {
    if !(a.read_timeout_s > 0.0 && a.read_timeout_s.is_finite()) {
        anyhow::bail!(
            "--read-timeout-s must be a positive number of seconds, got {}",
            a.read_timeout_s
        );
    }
    let cfg = crate::service::serve::ServeConfig {
        addr: std::net::SocketAddr::new(a.host, a.port),
        service_time: a.service_time,
        concurrency: a.concurrency as usize,
        queue: a.queue,
        seed: a.seed,
    };
    let t = std::time::Duration::from_secs_f64(a.read_timeout_s);
    let limits = crate::service::serve::Limits {
        header_timeout: t,
        body_timeout: t,
        max_connections: a.max_connections as usize,
        ..Default::default()
    };
    runtime()?.block_on(crate::service::serve::serve(cfg, limits))
}

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Live configuration (see scenarios/live.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Decision log (overrides controller.decisions).
    #[arg(long)]
    pub decisions: Option<PathBuf>,
    /// What the controller drives: real Docker replicas read through Prometheus, or the
    /// simulator's cluster replaying a trace (no Docker; see the `[simulated]` section).
    #[arg(long, value_enum, default_value_t = Backend::Docker)]
    pub backend: Backend,
    /// The trace the simulated backend replays (overrides simulated.trace).
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Docker,
    Simulated,
}

pub fn live(a: LiveArgs) -> Result<()> {
    let mut cfg = LiveConfig::load(&a.config)?;
    if let Some(d) = a.decisions {
        cfg.controller.decisions = std::env::current_dir()?.join(d);
    }
    let summary = match a.backend {
        Backend::Docker => {
            if a.trace.is_some() {
                anyhow::bail!("--trace is for --backend simulated; the Docker backend reads the service's real load");
            }
            runtime()?.block_on(crate::live::controller::run(
                cfg,
                crate::service::shutdown_signal(),
            ))?
        }
        Backend::Simulated => {
            let backend = crate::live::backend::simulated::from_config(&cfg, a.trace.as_deref())?;
            runtime()?.block_on(crate::live::controller::run_simulated(
                &cfg,
                &backend,
                crate::service::shutdown_signal(),
            ))?
        }
    };
    eprintln!(
        "{} decisions ({} held for missing data), peak {} replicas -> {}",
        summary.decisions,
        summary.holds,
        summary.peak_desired,
        summary.log.display()
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Trace (CSV or Parquet): requests per step.
    #[arg(long)]
    pub trace: PathBuf,
    #[arg(long, default_value = "timestamp")]
    pub timestamp_column: String,
    #[arg(long)]
    pub value_column: Option<String>,
    /// Time compression: a trace step lasts step / speedup (its request count is kept).
    #[arg(long, default_value_t = 1.0)]
    pub speedup: f64,
    /// Multiplier on every step's request count.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Send to the replicas of this service (found through Docker labels).
    #[arg(long, conflicts_with = "ports")]
    pub service: Option<String>,
    /// ... or to these 127.0.0.1 ports.
    #[arg(long, value_delimiter = ',')]
    pub ports: Vec<u16>,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub timeout_s: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Per-request record (CSV: at_ms, latency_ms, status, port, attempts, service_ms).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn load(a: LoadArgs) -> Result<()> {
    if !(a.speedup > 0.0 && a.speedup.is_finite() && a.scale >= 0.0 && a.scale.is_finite()) {
        bail!("--speedup must be positive and --scale zero or positive");
    }
    let spec = crate::trace::TraceSpec {
        timestamp_column: a.timestamp_column.clone(),
        value_column: a.value_column.clone(),
        ..crate::trace::TraceSpec::for_path(&a.trace)
    };
    let w = crate::trace::load(&spec, "load")?.workload;
    let times = crate::service::load::arrivals(&w.demand, w.step_ms, a.speedup, a.scale, a.seed);
    let targets = targets(&a.service, &a.ports)?;
    eprintln!(
        "sending {} requests over {:.1} s ({} steps of {:.2} s)",
        times.len(),
        w.len() as f64 * w.step_ms as f64 / a.speedup / 1000.0,
        w.len(),
        w.step_ms as f64 / a.speedup / 1000.0
    );
    let outcomes = runtime()?.block_on(crate::service::load::run(
        &times,
        targets,
        Duration::from_secs_f64(a.timeout_s),
    ))?;
    if let Some(path) = &a.out {
        crate::live::request_log::write(path, &outcomes)?;
    }
    let s = crate::service::load::summarize(&outcomes);
    println!(
        "requests {} ok {} rejected {} failed {} error_rate {:.4} p50_ms {:.1} p95_ms {:.1} p99_ms {:.1}",
        s.requests, s.ok, s.rejected, s.failed, s.error_rate, s.p50_ms, s.p95_ms, s.p99_ms
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// A statically linked `sim` (scripts/build-image.sh builds one and calls this).
    #[arg(long)]
    pub binary: PathBuf,
    #[arg(long, default_value = crate::live::IMAGE)]
    pub tag: String,
}

pub fn image(a: ImageArgs) -> Result<()> {
    runtime()?.block_on(async {
        let engine = crate::live::docker::Engine::connect().await?;
        engine.build_image(&a.binary, &a.tag).await
    })?;
    eprintln!(
        "built image {} (FROM scratch, {})",
        a.tag,
        a.binary.display()
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct PromConfigArgs {
    #[arg(long)]
    pub config: PathBuf,
    /// Docker engine address Prometheus discovers replicas through.
    #[arg(long, default_value = "unix:///var/run/docker.sock")]
    pub docker_host: String,
    /// Output file (stdout when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn prometheus_config(a: PromConfigArgs) -> Result<()> {
    let cfg = LiveConfig::load(&a.config)?;
    let text = crate::live::prom::scrape_config(&cfg, &a.docker_host);
    match &a.out {
        Some(p) => atomic_write(p, |f| f.write_all(text.as_bytes()))?,
        None => print!("{text}"),
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ActivatorArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    #[arg(long, default_value_t = 8079)]
    pub port: u16,
    /// Forward to the replicas of this service (found through Docker labels).
    #[arg(long, conflicts_with = "ports")]
    pub service: Option<String>,
    /// ... or to these 127.0.0.1 ports.
    #[arg(long, value_delimiter = ',')]
    pub ports: Vec<u16>,
    /// Requests held at most while no replica is healthy (Knative's breaker: 10 000).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub capacity: u64,
    /// Seconds a held request waits before 504 (Knative's revision timeout: 300).
    #[arg(long, default_value_t = 300.0)]
    pub timeout_s: f64,
    /// Seconds between health probes of the replicas.
    #[arg(long, default_value_t = 0.2)]
    pub probe_s: f64,
}

/// The load generator's and the activator's replica targets.
fn targets(service: &Option<String>, ports: &[u16]) -> Result<crate::service::load::Targets> {
    Ok(match (service, ports.is_empty()) {
        (Some(s), _) => crate::service::load::Targets::Docker(s.clone()),
        (None, false) => crate::service::load::Targets::Fixed(ports.to_vec()),
        (None, true) => {
            bail!("name the target: --service <name> (Docker labels) or --ports 8080,8081")
        }
    })
}

pub fn activator(a: ActivatorArgs) -> Result<()> {
    for (v, key) in [(a.timeout_s, "--timeout-s"), (a.probe_s, "--probe-s")] {
        if !(v > 0.0 && v.is_finite()) {
            bail!("{key} must be a positive number of seconds, got {v}");
        }
    }
    let cfg = crate::service::activator::ActivatorConfig {
        targets: targets(&a.service, &a.ports)?,
        capacity: a.capacity as usize,
        timeout: std::time::Duration::from_secs_f64(a.timeout_s),
        probe: std::time::Duration::from_secs_f64(a.probe_s),
    };
    let addr = std::net::SocketAddr::new(a.host, a.port);
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}: is the port taken? pick another with --port")
        })?;
        eprintln!("activator on http://{addr}");
        let act = crate::service::activator::Activator::new(cfg)?;
        crate::service::activator::run(listener, act, crate::service::shutdown_signal()).await
    })
}
