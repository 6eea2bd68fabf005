//! `sim live`: every decision interval, read the replicas and the service's load, forecast,
//! and take the control step `sim sweep` takes ([`crate::policy::control::ControlStep`]:
//! the same policy object, the same safety net, the same hold on missing data), then
//! reconcile. The loop is generic over a [`ReplicaBackend`] and a [`MetricsSource`]: Docker
//! and Prometheus for real, or the simulated backend.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::backend::docker::DockerBackend;
use super::backend::prometheus::PrometheusSource;
use super::backend::simulated::SimulatedBackend;
use super::backend::{Measured, MetricsSource, ReplicaBackend, Replicas};
use super::config::{LiveConfig, OnExit};
use super::docker::Engine;
use super::forecast::LiveForecaster;
use super::prom::{Prometheus, Queries};
use super::ServiceLock;
use crate::forecast::ForecastTable;
use crate::policy::control::{ControlSettings, ControlStep, Reading};
use crate::policy::ForecastView;
use crate::sim::{StepRecord, Timeline};
/// Prints one controller line on stderr with the local time (always, whatever the log level).
pub fn say(msg: impl AsRef<str>) {
    eprintln!(
        "{} {}",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
        msg.as_ref()
    );
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub decisions: u64,
    /// Decisions that held the count because metrics were missing.
    pub holds: u64,
    pub peak_desired: u32,
    pub log: PathBuf,
}

/// Retries an operation with exponential backoff (0.25, 0.5, 1 s), then gives up.
pub async fn retry<T, F, Fut>(what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(250);
    let attempts = 4;
    for attempt in 1..=attempts {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < attempts => {
                tracing::warn!(
                    "{what} failed (attempt {attempt}/{attempts}): {e:#}; retrying in {delay:?}"
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the last attempt returns")
}

/// Writes the decision log (Parquet, the simulator's timeline schema, and a CSV twin).
pub fn write_log(path: &Path, tl: &Timeline, step_ms: u64) -> Result<()> {
    let mut df = crate::sweep::outputs::timeline_frame(path, tl, step_ms, 0)?;
    crate::trace::write::write_parquet(path, &mut df)?;
    crate::trace::write::write_csv(&path.with_extension("csv"), &mut df)?;
    Ok(())
}

/// How the loop runs, whatever the backend.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// Decision interval (ms), rounded once from `controller.interval_s`.
    pub interval_ms: u64,
    pub control: ControlSettings,
    pub max_decisions: Option<u64>,
    /// Real time between decisions; `None`: none (a simulated backend, compressed).
    pub pace: Option<Duration>,
    pub log: PathBuf,
    /// The count the service starts at.
    pub initial: u32,
    /// The service's name, for the log.
    pub service: String,
}

impl LoopSettings {
    pub fn from_config(cfg: &LiveConfig, initial: u32) -> LoopSettings {
        let interval_ms = cfg.interval_ms();
        LoopSettings {
            interval_ms,
            control: ControlSettings {
                capacity_per_replica: cfg.capacity_per_interval(),
                step_ms: interval_ms,
                safety: cfg.safety_net,
                max_replicas: cfg.service.port_span as u32,
            },
            max_decisions: cfg.controller.max_decisions,
            pace: Some(Duration::from_millis(interval_ms)),
            log: cfg.resolve(&cfg.controller.decisions),
            initial,
            service: cfg.service.name.clone(),
        }
    }
}

/// The mutable side of a run.
struct Loop<'p> {
    control: ControlStep<'p>,
    forecaster: LiveForecaster,
    history: Vec<f64>,
    first_tick: usize,
    timeline: Timeline,
    desired: u32,
    holds: u64,
    exported: super::exporter::Exported,
}

/// Runs the controller against Docker and Prometheus until `shutdown` resolves or
/// `max_decisions` are made.
pub async fn run(cfg: LiveConfig, shutdown: impl Future<Output = ()>) -> Result<Summary> {
    let _lock = ServiceLock::acquire(&cfg.service.name)?;
    let engine = Engine::connect().await?;
    if !engine.has_image(&cfg.service.image).await? {
        bail!(
            "image {} not found: build it with `sim image` (or scripts/build-image.sh)",
            cfg.service.image
        );
    }
    let prom = Prometheus::new(
        &cfg.prometheus.url,
        Duration::from_secs_f64(cfg.prometheus.timeout_s),
    )?;
    // Clients send to the activator from the start: it holds their requests until a
    // replica is healthy.
    let activator = match &cfg.activator {
        Some(a) => {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], a.port));
            let running = crate::service::activator::spawn(
                addr,
                crate::service::activator::ActivatorConfig {
                    targets: crate::service::load::Targets::Docker(cfg.service.name.clone()),
                    capacity: a.capacity,
                    timeout: Duration::from_secs_f64(a.timeout_s),
                    probe: Duration::from_secs_f64(a.probe_s),
                },
            )
            .await?;
            say(format!(
                "Activator for {} on http://{addr}",
                cfg.service.name
            ));
            Some(running)
        }
        None => None,
    };
    // The initial count is known once the running replicas are listed.
    let mut settings = LoopSettings::from_config(&cfg, 0);
    let backend = DockerBackend {
        engine: &engine,
        cfg: &cfg,
        http: reqwest::Client::builder().no_proxy().build()?,
        seed: crate::rng::mix64(0x5ca1e ^ settings.interval_ms),
        started: Instant::now(),
    };
    let metrics = PrometheusSource {
        prom: &prom,
        queries: Queries {
            service: cfg.service.name.clone(),
            window_s: cfg
                .prometheus
                .rate_window_s()
                .max(cfg.controller.interval_s),
            activator: cfg.activator.is_some(),
        },
        interval_s: settings.interval_ms as f64 / 1000.0,
        capacity_per_interval: settings.control.capacity_per_replica,
        history_s: cfg.controller.history_s,
    };
    let svc = &cfg.service.name;
    let existing = retry("listing replicas", || backend.replicas()).await?;
    let initial = if existing.running > 0 {
        say(format!(
            "Adopting {} running replica(s) of {svc}",
            existing.running
        ));
        cfg.bounds().clamp(existing.running)
    } else {
        cfg.initial_replicas()
    };
    retry("starting the initial replicas", || {
        backend.reconcile(initial)
    })
    .await?;
    settings.initial = initial;
    let summary = control(&cfg, &backend, &metrics, &settings, shutdown).await?;
    let exit_target = match cfg.controller.on_exit {
        OnExit::Keep => None,
        OnExit::Min => Some(cfg.bounds().min),
        OnExit::Remove => Some(0),
    };
    if let Some(n) = exit_target {
        say(format!("Scaling {svc} to {n} replicas on exit"));
        retry("scaling on exit", || backend.reconcile(n)).await?;
    }
    if let Some(a) = activator {
        // Held requests are answered (or time out) first; a stop never waits forever.
        match tokio::time::timeout(Duration::from_secs(10), a.stop()).await {
            Ok(Err(e)) => say(format!("activator stopped with an error: {e:#}")),
            Err(_) => say("activator still held requests after 10 s: stopped"),
            Ok(Ok(())) => {}
        }
    }
    Ok(summary)
}

/// Runs the controller on the simulated backend (`sim live --backend simulated`): no
/// Docker, no Prometheus, no lock, and no wait between decisions.
pub async fn run_simulated(
    cfg: &LiveConfig,
    backend: &SimulatedBackend,
    shutdown: impl Future<Output = ()>,
) -> Result<Summary> {
    let mut settings = LoopSettings::from_config(cfg, cfg.initial_replicas());
    settings.pace = None;
    control(cfg, backend, backend, &settings, shutdown).await
}

/// The decision loop over any backend: one [`decide`] per interval, the log written
/// after each.
pub async fn control<B: ReplicaBackend, M: MetricsSource>(
    cfg: &LiveConfig,
    backend: &B,
    metrics: &M,
    s: &LoopSettings,
    shutdown: impl Future<Output = ()>,
) -> Result<Summary> {
    let forecaster = LiveForecaster::from_config(cfg)?;
    let mut policy = cfg.policy.build();
    for w in cfg.warnings() {
        say(format!("warning: {w}"));
    }
    say(format!(
        "Controlling {}: policy '{}', forecaster '{}', every {} s, {}..={} replicas",
        cfg.service.name,
        policy.name(),
        forecaster.name(),
        s.interval_ms as f64 / 1000.0,
        cfg.bounds().min,
        cfg.bounds().max,
    ));
    let history = metrics.history().await;
    let mut st = Loop {
        control: ControlStep::new(policy.as_mut(), s.control),
        forecaster,
        first_tick: history.len(),
        history,
        timeline: Timeline::default(),
        desired: s.initial,
        holds: 0,
        exported: super::exporter::Exported::default(),
    };
    if let Some(port) = cfg.controller.metrics_port {
        super::exporter::spawn(port, &st.exported).await?;
    }
    let mut ticker = s.pace.map(|every| {
        let mut t = tokio::time::interval(every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    tokio::pin!(shutdown);
    let mut tick = 0u64;
    while !backend.finished() {
        // A stop is honoured between decisions, paced or not.
        let stop = match ticker.as_mut() {
            Some(t) => tokio::select! {
                biased;
                _ = &mut shutdown => true,
                _ = t.tick() => false,
            },
            None => futures_util::poll!(&mut shutdown).is_ready(),
        };
        if stop {
            say("Stopping: signal received");
            break;
        }
        decide(backend, metrics, &mut st, tick, s).await;
        backend.end_of_interval().await;
        if s.pace.is_some() {
            if let Err(e) = write_log(&s.log, &st.timeline, s.interval_ms) {
                say(format!("cannot write the decision log: {e:#}"));
            }
        }
        tick += 1;
        if s.max_decisions.is_some_and(|m| tick >= m) {
            break;
        }
    }
    write_log(&s.log, &st.timeline, s.interval_ms)?;
    Ok(Summary {
        decisions: tick,
        holds: st.holds,
        peak_desired: st.timeline.desired.iter().copied().max().unwrap_or(0),
        log: s.log.clone(),
    })
}

/// The forecast for a decision, when the policy uses one; `Err` holds the count.
fn forecast(st: &mut Loop<'_>, step_ms: u64) -> Result<Option<ForecastTable>, String> {
    let Some(lead) = st.control.policy().forecast_lead() else {
        return Ok(None);
    };
    let step = st.history.len();
    say(format!(
        "Generating forecast with {}...",
        st.forecaster.name()
    ));
    st.forecaster
        .forecast(&st.history, st.first_tick, step, lead + 1, step_ms)
        .map(Some)
        .map_err(|e| format!("forecast failed ({e:#})"))
}

/// Reads the metrics; `None` (after saying why) when there are none.
async fn read<M: MetricsSource>(
    metrics: &M,
    replicas: &Replicas,
    desired: u32,
    service: &str,
) -> Option<Measured> {
    say("Querying Prometheus for metrics...");
    match metrics.reading(replicas).await {
        Ok(Some(m)) => Some(m),
        Ok(None) => {
            say(format!(
                "Prometheus has no data for {service} yet: holding at {desired} replicas"
            ));
            None
        }
        Err(e) => {
            say(format!("{e:#}: holding at {desired} replicas"));
            None
        }
    }
}

/// Reconciles to `n`, retrying; a failure waits for the next decision.
async fn apply<B: ReplicaBackend>(backend: &B, n: u32) {
    if let Err(e) = retry("reconciling replicas", || backend.reconcile(n)).await {
        say(format!(
            "Replica backend error ({e:#}); will retry at the next decision"
        ));
    }
}

/// One decision: read, forecast, take the control step, reconcile, record.
async fn decide<B: ReplicaBackend, M: MetricsSource>(
    backend: &B,
    metrics: &M,
    st: &mut Loop<'_>,
    tick: u64,
    s: &LoopSettings,
) {
    let replicas = match retry("listing replicas", || backend.replicas()).await {
        Ok(r) => r,
        Err(e) => {
            say(format!(
                "Replica backend unavailable ({e:#}); skipping this decision"
            ));
            return;
        }
    };
    let measured = read(metrics, &replicas, st.desired, &s.service).await;
    if let Some(o) = measured.and_then(|m| m.observed) {
        st.history.push(o.demand_per_step);
    }
    let table = match measured {
        Some(_) => forecast(st, s.interval_ms),
        None => Ok(None),
    };
    let (table, forecast_failed) = match table {
        Ok(t) => (t, false),
        Err(why) => {
            say(format!("{why}: holding at {} replicas", st.desired));
            (None, true)
        }
    };
    let step = st.history.len();
    let reading = Reading {
        tick,
        now: backend.now(),
        current: st.desired,
        ready: replicas.ready,
        pending: replicas.running.saturating_sub(replicas.ready),
        pods: &replicas.pods,
        observed: measured.and_then(|m| m.observed),
        metrics_missing: measured.is_none() || forecast_failed,
        forecast: table.as_ref().map(|t| ForecastView {
            table: t,
            step,
            window: 1,
        }),
    };
    let d = st.control.decide(&reading);
    let forecast_point = table.as_ref().map_or(f64::NAN, |t| t.point(step, 0));
    if !d.held {
        say(format!(
            "Policy '{}' chose {} replicas (demand {:.1} requests per interval, forecast {forecast_point:.1})",
            st.control.policy().name(),
            d.desired,
            reading.observed.map_or(f64::NAN, |o| o.demand_per_step),
        ));
    }
    if d.desired != replicas.running {
        say(format!(
            "Scaling {} from {} to {} replicas...",
            s.service, replicas.running, d.desired
        ));
    }
    apply(backend, d.desired).await;
    let mut want = d.desired;
    let health = metrics.health(measured.as_ref()).await;
    if let Some(n) = st.control.guard(tick, want, health) {
        let (lat, cpu) = health.unwrap_or_default();
        say(format!(
            "Safety net: latency {lat:.0} ms, CPU {cpu:.0} % -> {n} replicas"
        ));
        want = n;
        apply(backend, want).await;
    }
    st.desired = want;
    if d.held {
        st.holds += 1;
    }
    record(st, s, &replicas, measured, forecast_point, d.held);
}

/// Records a decision (the count now `st.desired`) in the decision log and the
/// controller's own metrics.
fn record(
    st: &mut Loop<'_>,
    s: &LoopSettings,
    replicas: &Replicas,
    measured: Option<Measured>,
    forecast_point: f64,
    held: bool,
) {
    let demand = measured
        .and_then(|m| m.observed)
        .map_or(f64::NAN, |o| o.demand_per_step);
    let interval_s = s.interval_ms as f64 / 1000.0;
    let e = &st.exported;
    e.decisions.inc();
    if held {
        e.holds.inc();
    }
    e.desired.set(st.desired as i64);
    e.ready.set(replicas.ready as i64);
    e.demand_rps.set(demand / interval_s);
    e.forecast_rps.set(forecast_point / interval_s);
    // A measured interval, and what the policy saw of it.
    let m = measured.and_then(|m| m.observed.map(|o| (m, o)));
    let nan = f64::NAN;
    // Scale to zero at the interval's resolution: counted from the replica counts read.
    let tl = &st.timeline;
    let was_zero = tl.ready.last().zip(tl.pending.last()) == Some((&0, &0));
    let interval_ms = s.interval_ms as f64;
    st.timeline.push(StepRecord {
        demand,
        forecast: forecast_point,
        planned: st.control.planned(),
        desired: st.desired,
        ready: replicas.ready,
        pending: replicas.running.saturating_sub(replicas.ready),
        ready_effective: replicas.ready as f64,
        provisioned_ms: replicas.running as f64 * s.interval_ms as f64,
        served: m.map_or(nan, |(m, _)| m.served),
        dropped: m.map_or(nan, |(m, _)| m.dropped),
        latency_ms: m.map_or(nan, |(m, _)| m.latency_mean_ms),
        latency_p95_ms: m.map_or(nan, |(_, o)| o.latency_p95_ms),
        cpu_pct: m.map_or(nan, |(_, o)| o.cpu_pct),
        cold_starts: (was_zero && replicas.running > 0) as u32,
        no_ready_ms: if replicas.ready == 0 {
            interval_ms
        } else {
            0.0
        },
        zero_ms: if replicas.running == 0 {
            interval_ms
        } else {
            0.0
        },
        missing: measured.is_none(),
    });
}

#[cfg(test)]
mod tests;
