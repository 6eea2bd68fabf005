//! `sim activator`: what holds requests while a service has no replica — Knative's
//! activator, a serverless platform's front end. An HTTP proxy on one port: a request that
//! finds a healthy replica is forwarded to one (round robin, the next one on a refused
//! connection); one that finds none waits in a bounded buffer until a replica is healthy
//! (503 when the buffer is full, 504 after the time-out). Replicas are found as the load
//! generator finds them — through their Docker labels, or a fixed port list — and probed
//! on `/health` every `probe_ms`. `/metrics` exports, for Prometheus, the requests
//! received and forwarded, the buffer's depth, its overflows and time-outs, and the
//! waits of the requests it held.
//!
//! `sim live` runs one in process when its configuration has an `[activator]`
//! ([`spawn`]); `sim activator` runs one on its own.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::sync::Notify;

use super::load::Targets;

/// The activator's settings.
#[derive(Debug, Clone)]
pub struct ActivatorConfig {
    pub targets: Targets,
    /// Requests held at most while no replica is healthy.
    pub capacity: usize,
    /// Longest a held request waits (then 504).
    pub timeout: Duration,
    /// How often replicas are probed.
    pub probe: Duration,
}

/// What the activator counts.
#[derive(Debug)]
struct Counts {
    received: Counter,
    forwarded: Counter,
    overflow: Counter,
    timeouts: Counter,
    unreachable: Counter,
    depth: Gauge<i64, AtomicI64>,
    wait_s: Histogram,
}

/// Shared state of one activator.
#[derive(Debug)]
pub struct Activator {
    cfg: ActivatorConfig,
    ports: RwLock<Vec<u16>>,
    next: AtomicUsize,
    waiting: AtomicUsize,
    ready: Notify,
    counts: Counts,
    registry: Registry,
    http: reqwest::Client,
}

impl Activator {
    pub fn new(cfg: ActivatorConfig) -> anyhow::Result<Arc<Activator>> {
        let counts = Counts {
            received: Counter::default(),
            forwarded: Counter::default(),
            overflow: Counter::default(),
            timeouts: Counter::default(),
            unreachable: Counter::default(),
            depth: Gauge::default(),
            wait_s: Histogram::new([0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0]),
        };
        let mut registry = Registry::default();
        registry.register(
            "activator_requests",
            "Requests received",
            counts.received.clone(),
        );
        registry.register(
            "activator_forwarded",
            "Requests forwarded to a replica",
            counts.forwarded.clone(),
        );
        registry.register(
            "activator_overflow",
            "Requests refused: the buffer was full",
            counts.overflow.clone(),
        );
        registry.register(
            "activator_timeouts",
            "Held requests that timed out",
            counts.timeouts.clone(),
        );
        registry.register(
            "activator_unreachable",
            "Requests no replica could be reached for (502)",
            counts.unreachable.clone(),
        );
        registry.register(
            "activator_queue_depth",
            "Requests held now",
            counts.depth.clone(),
        );
        registry.register(
            "activator_wait_seconds",
            "Waits of the requests held",
            counts.wait_s.clone(),
        );
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Arc::new(Activator {
            cfg,
            ports: RwLock::new(Vec::new()),
            next: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            ready: Notify::new(),
            counts,
            registry,
            http,
        }))
    }

    /// Replaces the healthy ports; wakes the held requests when there are some.
    pub fn set_ports(&self, mut ports: Vec<u16>) {
        ports.sort_unstable();
        let any = !ports.is_empty();
        *self.ports.write().unwrap_or_else(|e| e.into_inner()) = ports;
        if any {
            self.ready.notify_waiters();
        }
    }

    /// Requests held now.
    pub fn depth(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    fn port(&self, start: usize, attempt: usize) -> Option<u16> {
        let ports = self.ports.read().unwrap_or_else(|e| e.into_inner());
        (!ports.is_empty()).then(|| ports[(start + attempt) % ports.len()])
    }

    /// Waits for a healthy replica until `deadline`; `None` at the deadline.
    async fn wait_for_replica(&self, deadline: tokio::time::Instant) -> Option<()> {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            // Registered before the check, so that a replica appearing in between wakes it.
            notified.as_mut().enable();
            if self.port(0, 0).is_some() {
                return Some(());
            }
            tokio::time::timeout_at(deadline, notified).await.ok()?;
        }
    }

    /// Probes the replicas every `probe` and keeps the healthy ones.
    pub async fn discover(self: Arc<Self>) {
        use crate::live::backend::docker::{healthy, healthy_ports};
        let engine = match &self.cfg.targets {
            Targets::Docker(_) => {
                Some(crate::live::docker::Engine::connect_retrying("activator").await)
            }
            Targets::Fixed(_) => None,
        };
        loop {
            let ports = match (&self.cfg.targets, &engine) {
                (Targets::Docker(service), Some(engine)) => match engine.replicas(service).await {
                    Ok(rs) => healthy(&rs, &self.http).await,
                    Err(e) => {
                        tracing::warn!("activator: cannot list replicas: {e:#}");
                        Vec::new()
                    }
                },
                (Targets::Fixed(ports), _) => {
                    healthy_ports(
                        ports.iter().copied(),
                        &self.http,
                        Duration::from_millis(500),
                    )
                    .await
                }
                _ => Vec::new(),
            };
            self.set_ports(ports);
            tokio::time::sleep(self.cfg.probe).await;
        }
    }
}

/// The activator's routes: `/predict` (proxied), `/health`, `/metrics`.
pub fn router(a: Arc<Activator>) -> Router {
    Router::new()
        .route("/predict", post(predict))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(a)
}

async fn metrics(State(a): State<Arc<Activator>>) -> Response {
    super::serve::metrics_response(&a.registry)
}

async fn predict(State(a): State<Arc<Activator>>, body: Bytes) -> Response {
    a.counts.received.inc();
    let t0 = Instant::now();
    if a.port(0, 0).is_none() {
        // Hold it: the buffer is bounded, the wait timed.
        let held = a.waiting.fetch_add(1, Ordering::SeqCst);
        if held >= a.cfg.capacity {
            a.waiting.fetch_sub(1, Ordering::SeqCst);
            a.counts.overflow.inc();
            return (StatusCode::SERVICE_UNAVAILABLE, "activator buffer full").into_response();
        }
        a.counts.depth.set(a.depth() as i64);
        let got = a
            .wait_for_replica(tokio::time::Instant::now() + a.cfg.timeout)
            .await;
        a.waiting.fetch_sub(1, Ordering::SeqCst);
        a.counts.depth.set(a.depth() as i64);
        a.counts.wait_s.observe(t0.elapsed().as_secs_f64());
        if got.is_none() {
            a.counts.timeouts.inc();
            return (
                StatusCode::GATEWAY_TIMEOUT,
                "no replica became ready in time",
            )
                .into_response();
        }
    }
    forward(&a, body).await
}

/// Sends the request to a replica, the next one when a connection is refused.
async fn forward(a: &Activator, body: Bytes) -> Response {
    let start = a.next.fetch_add(1, Ordering::Relaxed);
    for attempt in 0..3 {
        let Some(port) = a.port(start, attempt) else {
            break;
        };
        let resp = a
            .http
            .post(format!("http://127.0.0.1:{port}/predict"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match resp {
            Ok(r) => {
                a.counts.forwarded.inc();
                let status =
                    StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let bytes = r.bytes().await.unwrap_or_default();
                return (status, Body::from(bytes)).into_response();
            }
            Err(e) if e.is_connect() => continue,
            Err(e) => {
                a.counts.unreachable.inc();
                return (StatusCode::BAD_GATEWAY, format!("replica {port}: {e}")).into_response();
            }
        }
    }
    a.counts.unreachable.inc();
    (StatusCode::BAD_GATEWAY, "no replica reachable").into_response()
}

/// Runs an activator on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    a: Arc<Activator>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let probe = tokio::spawn(a.clone().discover());
    axum::serve(listener, router(a))
        .with_graceful_shutdown(shutdown)
        .await?;
    probe.abort();
    Ok(())
}

/// A running activator: stops when dropped (or at [`Running::stop`]).
pub struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// Stops it gracefully: held and in-flight requests are answered first.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// Binds `addr` and runs an activator there on the current runtime.
pub async fn spawn(addr: std::net::SocketAddr, cfg: ActivatorConfig) -> anyhow::Result<Running> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for the activator: is the port taken? pick another activator.port")
    })?;
    let act = Activator::new(cfg)?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, act, async {
        let _ = rx.await;
    }));
    Ok(Running {
        stop: Some(tx),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests;
