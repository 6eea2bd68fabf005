//! `sim live`: every decision interval, read the service's load from Prometheus, forecast,
//! run the same policy object `sim sweep` runs, apply the safety net on observed latency
//! and CPU, and reconcile the Docker replicas. Missing data holds the replica count.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::config::{LiveConfig, OnExit};
use super::docker::{Engine, Replica};
use super::forecast::LiveForecaster;
use super::prom::{Prometheus, Queries};
use super::{reconcile, ServiceLock};
use crate::policy::{ForecastView, Observation, Observed, ScalingPolicy};
use crate::sim::Timeline;
use crate::time::SimTime;

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

/// Metrics read at one decision.
#[derive(Debug, Clone, Copy)]
struct Reading {
    rate_rps: f64,
    error_rps: f64,
    p95_ms: f64,
    mean_ms: f64,
    cpu_pct: f64,
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

/// Replicas whose /health answers within a second.
pub async fn healthy(replicas: &[Replica], http: &reqwest::Client) -> Vec<u16> {
    let probes = replicas.iter().filter(|r| r.running()).map(|r| {
        let url = format!("http://127.0.0.1:{}/health", r.port);
        let port = r.port;
        async move {
            match http.get(&url).timeout(Duration::from_secs(1)).send().await {
                Ok(resp) if resp.status().is_success() => Some(port),
                _ => None,
            }
        }
    });
    futures_util::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Brings the service to `target` running replicas: removes dead containers, starts new
/// ones on free ports, stops the newest surplus ones gracefully.
pub async fn reconcile_to(engine: &Engine, cfg: &LiveConfig, target: u32, seed: u64) -> Result<()> {
    let svc = &cfg.service;
    let existing = engine.replicas(&svc.name).await?;
    let plan = reconcile::plan(&existing, target, svc.base_port, svc.port_span);
    for dead in &plan.clean {
        say(format!(
            "Removing replica {} ({}): it is {}",
            dead.name,
            dead.id.get(..12).unwrap_or(&dead.id),
            dead.state
        ));
        engine.remove(dead).await?;
    }
    for &port in &plan.start {
        engine
            .start_replica(svc, port, crate::rng::mix64(seed ^ port as u64))
            .await?;
    }
    let stops = plan
        .stop
        .iter()
        .map(|r| engine.stop_replica(r, svc.stop_timeout_s));
    for r in futures_util::future::join_all(stops).await {
        r?;
    }
    Ok(())
}

async fn read_metrics(prom: &Prometheus, q: &Queries, interval_s: f64) -> Result<Option<Reading>> {
    if !prom
        .scalar("live_series", &q.live_series(interval_s))
        .await?
        .is_some_and(|n| n > 0.0)
    {
        return Ok(None);
    }
    let Some(requests) = prom
        .scalar("interval_requests", &q.interval_requests(interval_s))
        .await?
    else {
        return Ok(None);
    };
    let rate = requests / interval_s;
    // No requests: no latency quantile (NaN), which is no evidence of overload.
    let or0 = |v: Option<f64>| v.unwrap_or(0.0);
    Ok(Some(Reading {
        rate_rps: rate,
        error_rps: or0(prom.scalar("error_rate", &q.error_rate()).await?),
        p95_ms: or0(prom.scalar("latency_p95_ms", &q.latency_p95_ms()).await?),
        mean_ms: or0(prom.scalar("latency_mean_ms", &q.latency_mean_ms()).await?),
        cpu_pct: or0(prom.scalar("cpu_pct", &q.cpu_pct()).await?),
    }))
}

/// Demand per interval over the last `history_s`, from Prometheus (empty when it has none).
async fn warm_up(prom: &Prometheus, q: &Queries, cfg: &LiveConfig) -> Vec<f64> {
    let c = &cfg.controller;
    if c.history_s <= 0.0 {
        return Vec::new();
    }
    let end = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    match prom
        .range(
            "interval_requests",
            &q.interval_requests(c.interval_s),
            end - c.history_s,
            end,
            c.interval_s,
        )
        .await
    {
        Ok(points) => points.iter().map(|&(_, r)| r).collect(),
        Err(e) => {
            say(format!(
                "No history from Prometheus ({e:#}); the forecaster starts empty"
            ));
            Vec::new()
        }
    }
}

/// Writes the decision log (Parquet, the simulator's timeline schema, and a CSV twin).
pub fn write_log(path: &Path, tl: &Timeline, step_ms: u64) -> Result<()> {
    let mut df = crate::sweep::outputs::timeline_frame(path, tl, step_ms, 0)?;
    crate::trace::write::write_parquet(path, &mut df)?;
    crate::trace::write::write_csv(&path.with_extension("csv"), &mut df)?;
    Ok(())
}

/// The mutable side of a run.
struct Loop {
    policy: Box<dyn ScalingPolicy>,
    forecaster: LiveForecaster,
    history: Vec<f64>,
    first_tick: usize,
    timeline: Timeline,
    desired: u32,
    holds: u64,
    exported: super::exporter::Exported,
}

/// Runs the controller until `shutdown` resolves or `max_decisions` are made.
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
    let http = reqwest::Client::builder().no_proxy().build()?;
    let interval_ms = (cfg.controller.interval_s * 1000.0).round() as u64;
    let queries = Queries {
        service: cfg.service.name.clone(),
        window_s: cfg
            .prometheus
            .rate_window_s()
            .max(cfg.controller.interval_s),
    };
    let log_path = cfg.resolve(&cfg.controller.decisions);
    let seed = crate::rng::mix64(0x5ca1e ^ interval_ms);
    let forecaster = LiveForecaster::from_config(&cfg)?;
    let policy = cfg.policy.build();
    let svc = &cfg.service.name;

    let existing = retry("listing replicas", || engine.replicas(svc)).await?;
    let running = existing.iter().filter(|r| r.running()).count() as u32;
    let initial = if running > 0 {
        say(format!("Adopting {running} running replica(s) of {svc}"));
        cfg.bounds().clamp(running)
    } else {
        cfg.initial_replicas()
    };
    retry("starting the initial replicas", || {
        reconcile_to(&engine, &cfg, initial, seed)
    })
    .await?;
    say(format!(
        "Controlling {svc}: policy '{}', forecaster '{}', every {} s, {}..={} replicas; Prometheus at {}",
        policy.name(),
        forecaster.name(),
        cfg.controller.interval_s,
        cfg.bounds().min,
        cfg.bounds().max,
        cfg.prometheus.url
    ));
    let history = warm_up(&prom, &queries, &cfg).await;
    let mut st = Loop {
        policy,
        forecaster,
        first_tick: history.len(),
        history,
        timeline: Timeline::default(),
        desired: initial,
        holds: 0,
        exported: super::exporter::Exported::default(),
    };
    if let Some(port) = cfg.controller.metrics_port {
        super::exporter::spawn(port, &st.exported).await?;
    }
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(interval_ms));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    let mut tick = 0u64;
    loop {
        tokio::select! {
            _ = &mut shutdown => { say("Stopping: signal received"); break; }
            _ = ticker.tick() => {}
        }
        let now = SimTime(started.elapsed().as_millis() as u64);
        decide(
            &cfg, &engine, &prom, &queries, &http, &mut st, tick, now, seed,
        )
        .await;
        if let Err(e) = write_log(&log_path, &st.timeline, interval_ms) {
            say(format!("cannot write the decision log: {e:#}"));
        }
        tick += 1;
        if cfg.controller.max_decisions.is_some_and(|m| tick >= m) {
            break;
        }
    }
    let exit_target = match cfg.controller.on_exit {
        OnExit::Keep => None,
        OnExit::Min => Some(cfg.bounds().min),
        OnExit::Remove => Some(0),
    };
    if let Some(n) = exit_target {
        say(format!("Scaling {svc} to {n} replicas on exit"));
        retry("scaling on exit", || reconcile_to(&engine, &cfg, n, seed)).await?;
    }
    write_log(&log_path, &st.timeline, interval_ms)?;
    Ok(Summary {
        decisions: tick,
        holds: st.holds,
        peak_desired: st.timeline.desired.iter().copied().max().unwrap_or(0),
        log: log_path,
    })
}

/// The policy's choice (plus the safety net) on a reading, and the point forecast it
/// saw; `None` holds the count (the forecast failed).
fn choose(
    cfg: &LiveConfig,
    st: &mut Loop,
    r: &Reading,
    tick: u64,
    now: SimTime,
    running: u32,
    ready: u32,
) -> Option<(u32, f64)> {
    let interval_s = cfg.controller.interval_s;
    let step_ms = (interval_s * 1000.0) as u64;
    let cap = cfg.controller.capacity_per_replica_rps * interval_s;
    let demand = r.rate_rps * interval_s;
    st.history.push(demand);
    let step = st.history.len();
    let table = match st.policy.forecast_lead() {
        None => None,
        Some(lead) => {
            say(format!(
                "Generating forecast with {}...",
                st.forecaster.name()
            ));
            match st
                .forecaster
                .forecast(&st.history, st.first_tick, step, lead + 1, step_ms)
            {
                Ok(t) => Some(t),
                Err(e) => {
                    say(format!(
                        "forecast failed ({e:#}): holding at {} replicas",
                        st.desired
                    ));
                    return None;
                }
            }
        }
    };
    let forecast_point = table.as_ref().map_or(f64::NAN, |t| t.point(step, 0));
    let obs = Observation {
        tick,
        now,
        current: st.desired,
        ready,
        pending: running.saturating_sub(ready),
        capacity_per_replica: cap,
        step_ms,
        forecast: table.as_ref().map(|t| ForecastView {
            table: t,
            step,
            window: 1,
        }),
        observed: Some(Observed {
            demand_per_step: demand,
            utilization: if ready > 0 {
                (demand / (ready as f64 * cap)).min(1.0)
            } else {
                1.0
            },
            latency_p95_ms: r.p95_ms,
            cpu_pct: r.cpu_pct,
            ready_mean: ready as f64,
            window_ms: step_ms,
        }),
        pods: &[],
    };
    let mut want = st.policy.decide(&obs);
    say(format!(
        "Policy '{}' chose {want} replicas (demand {demand:.1} requests per interval, forecast {forecast_point:.1})",
        st.policy.name()
    ));
    let s = &cfg.safety;
    if s.enabled
        && st.policy.uses_safety_net()
        && (r.p95_ms > s.latency_p95_ms || r.cpu_pct > s.cpu_pct)
    {
        want += 1;
        st.policy.on_external_scale(tick);
        say(format!(
            "Safety net: p95 {:.0} ms, CPU {:.0} % -> {want} replicas",
            r.p95_ms, r.cpu_pct
        ));
    }
    Some((want.min(cfg.service.port_span as u32), forecast_point))
}

/// One decision: observe, forecast, decide, reconcile, record.
#[allow(clippy::too_many_arguments)]
async fn decide(
    cfg: &LiveConfig,
    engine: &Engine,
    prom: &Prometheus,
    queries: &Queries,
    http: &reqwest::Client,
    st: &mut Loop,
    tick: u64,
    now: SimTime,
    seed: u64,
) {
    let svc = &cfg.service.name;
    let interval_s = cfg.controller.interval_s;
    let replicas = match retry("listing replicas", || engine.replicas(svc)).await {
        Ok(r) => r,
        Err(e) => {
            say(format!(
                "Docker API unavailable ({e:#}); skipping this decision"
            ));
            return;
        }
    };
    let running = replicas.iter().filter(|r| r.running()).count() as u32;
    let ready = healthy(&replicas, http).await.len() as u32;
    say("Querying Prometheus for metrics...");
    let reading = match read_metrics(prom, queries, interval_s).await {
        Ok(Some(r)) => Some(r),
        Ok(None) => {
            say(format!(
                "Prometheus has no data for {svc} yet: holding at {} replicas",
                st.desired
            ));
            None
        }
        Err(e) => {
            say(format!("{e:#}: holding at {} replicas", st.desired));
            None
        }
    };
    let decided = match &reading {
        Some(r) => choose(cfg, st, r, tick, now, running, ready),
        None => None,
    };
    let held = decided.is_none();
    let (want, forecast_point) = decided.unwrap_or((st.desired, f64::NAN));
    if want != running {
        say(format!(
            "Scaling {svc} from {running} to {want} replicas..."
        ));
    }
    if let Err(e) = retry("reconciling replicas", || {
        reconcile_to(engine, cfg, want, seed)
    })
    .await
    {
        say(format!(
            "Docker API error ({e:#}); will retry at the next decision"
        ));
    }
    st.desired = want;
    let e = &st.exported;
    e.decisions.inc();
    if held {
        st.holds += 1;
        e.holds.inc();
    }
    e.desired.set(want as i64);
    e.ready.set(ready as i64);
    e.demand_rps.set(reading.map_or(f64::NAN, |r| r.rate_rps));
    e.forecast_rps.set(forecast_point / interval_s);
    let tl = &mut st.timeline;
    let r = reading;
    let per = |f: fn(&Reading) -> f64| r.as_ref().map_or(f64::NAN, f);
    tl.demand.push(per(|r| r.rate_rps) * interval_s);
    tl.forecast.push(forecast_point);
    tl.planned.push(st.policy.last_planned());
    tl.desired.push(want);
    tl.ready.push(ready);
    tl.pending.push(running.saturating_sub(ready));
    tl.ready_effective.push(ready as f64);
    tl.provisioned_ms.push(running as f64 * interval_s * 1000.0);
    tl.served
        .push(per(|r| (r.rate_rps - r.error_rps).max(0.0)) * interval_s);
    tl.dropped.push(per(|r| r.error_rps) * interval_s);
    tl.latency_ms.push(per(|r| r.mean_ms));
    tl.latency_p95_ms.push(per(|r| r.p95_ms));
    tl.cpu_pct.push(per(|r| r.cpu_pct));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn retry_backs_off_then_succeeds_or_gives_up() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let calls = AtomicU32::new(0);
        let t0 = Instant::now();
        let v = rt.block_on(retry("flaky", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                anyhow::bail!("transient")
            }
            Ok(7)
        }));
        assert_eq!(v.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(
            t0.elapsed() >= Duration::from_millis(750),
            "backoff 0.25 + 0.5 s"
        );
        calls.store(0, Ordering::SeqCst);
        let e = rt.block_on(retry("broken", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            anyhow::bail!("down") as Result<()>
        }));
        assert!(e.unwrap_err().to_string().contains("down"));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn decision_log_has_the_timeline_schema() {
        let dir = tempfile::tempdir().unwrap();
        let tl = Timeline {
            demand: vec![f64::NAN, 120.0],
            forecast: vec![f64::NAN, 120.0],
            planned: vec![f64::NAN, 120.0],
            desired: vec![3, 1],
            ready: vec![3, 3],
            pending: vec![0, 0],
            ready_effective: vec![3.0, 3.0],
            provisioned_ms: vec![45_000.0, 45_000.0],
            served: vec![f64::NAN, 119.0],
            dropped: vec![f64::NAN, 1.0],
            latency_ms: vec![f64::NAN, 125.0],
            latency_p95_ms: vec![f64::NAN, 190.0],
            cpu_pct: vec![f64::NAN, 0.5],
            missing: vec![],
        };
        let p = dir.path().join("d.parquet");
        write_log(&p, &tl, 15_000).unwrap();
        let csv = std::fs::read_to_string(p.with_extension("csv")).unwrap();
        assert!(csv.starts_with("step,time_ms,demand,forecast,planned,desired,ready,pending,ready_effective,served,dropped,latency_ms,latency_p95_ms,cpu_pct"));
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.lines().nth(2).unwrap().starts_with("1,15000,120.0"));
        assert!(p.exists());
    }
}
