//! `sim serve`: the inference service the live controller scales. `POST /predict`
//! simulates inference with a service-time distribution behind a per-replica
//! concurrency limit and a bounded queue; `GET /metrics` exports Prometheus metrics.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rand::Rng;
use rand::SeedableRng;
use tokio::sync::Semaphore;

use super::service_time::ServiceTimeDist;

/// Largest request body accepted (larger ones get 413).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How `sim serve` sheds slow or greedy clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must arrive within this (else the connection closes).
    pub header_timeout: Duration,
    /// A request's body must arrive within this (else 408).
    pub body_timeout: Duration,
    /// Open connections at most; beyond, new ones are closed at once.
    pub max_connections: usize,
    /// Request head buffer; larger headers get 431 (hyper's minimum is 8 KiB).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// Latency histogram bounds (s): fine around the prototype's 50–200 ms service times.
pub const LATENCY_BUCKETS_S: [f64; 20] = [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5,
    2.0, 3.0, 5.0, 10.0,
];

/// How one replica serves.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub service_time: ServiceTimeDist,
    /// Requests served at once.
    pub concurrency: usize,
    /// Requests waiting for a slot before new ones get 503.
    pub queue: usize,
    /// Seed of the service-time stream (the port is mixed in so replicas differ).
    pub seed: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

#[derive(Debug)]
struct Metrics {
    requests: Family<StatusLabel, Counter>,
    duration: Histogram,
    in_flight: Gauge,
    queued: Gauge,
}

struct AppState {
    cfg: ServeConfig,
    limits: Limits,
    slots: Semaphore,
    waiting: AtomicUsize,
    metrics: Metrics,
    registry: Registry,
    rng: std::sync::Mutex<rand_chacha::ChaCha8Rng>,
}

/// Process CPU seconds, read from /proc on each scrape.
#[derive(Debug)]
struct ProcessCpu;

impl prometheus_client::collector::Collector for ProcessCpu {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(secs) = process_cpu_seconds() {
            let c = ConstCounter::new(secs);
            let m = encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                c.metric_type(),
            )?;
            c.encode(m)?;
        }
        Ok(())
    }
}

/// User + system CPU seconds of this process (Linux; `None` elsewhere).
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // Clock ticks per second: 100 on every Linux configuration we target.
    Some((utime + stime) / 100.0)
}

/// Leaves the queue count when dropped (also when the client goes away while queued).
struct Queued<'a>(&'a AtomicUsize);
impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The router of one replica (exposed for in-process tests).
pub fn router(cfg: ServeConfig) -> Router {
    app(cfg, Limits::default()).0
}

/// Counts a request that hyper answered itself (431: headers over the limit), which
/// never reaches the router.
#[derive(Clone)]
pub struct Rejections(Family<StatusLabel, Counter>);

impl Rejections {
    fn count(&self, status: u16) {
        self.0.get_or_create(&StatusLabel { status }).inc();
    }
}

/// The router with the given limits, and the counter of requests hyper rejects.
fn app(cfg: ServeConfig, limits: Limits) -> (Router, Rejections) {
    let mut registry = Registry::default();
    let metrics = Metrics {
        requests: Family::default(),
        duration: Histogram::new(LATENCY_BUCKETS_S.iter().copied()),
        in_flight: Gauge::default(),
        queued: Gauge::default(),
    };
    registry.register(
        "scalesim_requests",
        "Requests to /predict by HTTP status",
        metrics.requests.clone(),
    );
    registry.register(
        "scalesim_request_duration_seconds",
        "Time from arrival to response of served /predict requests (queueing + service)",
        metrics.duration.clone(),
    );
    registry.register(
        "scalesim_in_flight_requests",
        "Requests being served",
        metrics.in_flight.clone(),
    );
    registry.register(
        "scalesim_queued_requests",
        "Requests waiting for a slot",
        metrics.queued.clone(),
    );
    registry.register_collector(Box::new(ProcessCpu));
    // Export the 200 series from the start: an idle replica reports a zero rate, not no data.
    let _ = metrics.requests.get_or_create(&StatusLabel { status: 200 });
    let seed = crate::rng::mix64(cfg.seed ^ cfg.addr.port() as u64);
    let state = Arc::new(AppState {
        slots: Semaphore::new(cfg.concurrency.max(1)),
        waiting: AtomicUsize::new(0),
        metrics,
        registry,
        rng: std::sync::Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(seed)),
        cfg,
        limits,
    });
    let rejections = Rejections(state.metrics.requests.clone());
    let router = Router::new()
        .route("/predict", post(predict))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics_text))
        .with_state(state);
    (router, rejections)
}

async fn predict(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let start = Instant::now();
    let reply = |st: &AppState, code: StatusCode, body: serde_json::Value| {
        st.metrics
            .requests
            .get_or_create(&StatusLabel {
                status: code.as_u16(),
            })
            .inc();
        let close = code == StatusCode::REQUEST_TIMEOUT;
        let mut r = (code, Json(body)).into_response();
        if close {
            // The body never came: the connection cannot carry another request. (A 413
            // leaves it to hyper, which drains a small rest so the client reads the answer.)
            r.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        r
    };
    let too_large = || serde_json::json!({ "error": format!("request body over the limit of {MAX_BODY_BYTES} bytes") });
    // A declared oversize body is refused before any of it is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A declared oversize body is refused: at once, unread, past 16 × the limit (the
    // connection then closes); below that, after reading it (within the timeout), so a
    // client that sends its whole body before reading still gets the answer.
    const DRAIN_BYTES: u64 = 16 * MAX_BODY_BYTES as u64;
    match declared {
        Some(n) if n > DRAIN_BYTES => {
            let mut r = reply(&st, StatusCode::PAYLOAD_TOO_LARGE, too_large());
            r.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            return r;
        }
        Some(n) if n > MAX_BODY_BYTES as u64 => {
            let drain = axum::body::to_bytes(body, DRAIN_BYTES as usize);
            let _ = tokio::time::timeout(st.limits.body_timeout, drain).await;
            return reply(&st, StatusCode::PAYLOAD_TOO_LARGE, too_large());
        }
        _ => {}
    }
    let body = match tokio::time::timeout(
        st.limits.body_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return reply(&st, StatusCode::PAYLOAD_TOO_LARGE, too_large()),
        Err(_) => {
            return reply(
                &st,
                StatusCode::REQUEST_TIMEOUT,
                serde_json::json!({ "error": format!("request body not received within {} s", st.limits.body_timeout.as_secs_f64()) }),
            )
        }
    };
    let input: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return reply(
                &st,
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": format!("malformed JSON body: {e}") }),
            )
        }
    };
    let permit = match st.slots.try_acquire() {
        Ok(p) => p,
        Err(_) => {
            if st.waiting.fetch_add(1, Ordering::SeqCst) >= st.cfg.queue {
                st.waiting.fetch_sub(1, Ordering::SeqCst);
                return reply(
                    &st,
                    StatusCode::SERVICE_UNAVAILABLE,
                    serde_json::json!({ "error": "replica saturated: queue full, retry later" }),
                );
            }
            let _queued = Queued(&st.waiting);
            match st.slots.acquire().await {
                Ok(p) => p,
                Err(_) => {
                    return reply(
                        &st,
                        StatusCode::SERVICE_UNAVAILABLE,
                        serde_json::json!({ "error": "shutting down" }),
                    )
                }
            }
        }
    };
    let service = {
        let mut rng = st.rng.lock().unwrap_or_else(|e| e.into_inner());
        st.cfg.service_time.sample_ms(&mut *rng)
    };
    let served_from = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(service / 1000.0)).await;
    // What the request really held its slot for (the timer may overshoot the draw):
    // what `sim calibrate` fits.
    let held_ms = served_from.elapsed().as_secs_f64() * 1000.0;
    drop(permit);
    let elapsed = start.elapsed().as_secs_f64();
    st.metrics.duration.observe(elapsed);
    let n = match &input {
        serde_json::Value::Array(a) => a.len(),
        serde_json::Value::Object(o) => o.len(),
        _ => 1,
    };
    reply(
        &st,
        StatusCode::OK,
        serde_json::json!({
            "prediction": rand::rng().random::<f64>(),
            "inputs": n,
            "service_ms": held_ms,
            "port": st.cfg.addr.port(),
        }),
    )
}

async fn metrics_text(State(st): State<Arc<AppState>>) -> Response {
    let total = st.cfg.concurrency.max(1);
    st.metrics
        .in_flight
        .set((total - st.slots.available_permits().min(total)) as i64);
    st.metrics
        .queued
        .set(st.waiting.load(Ordering::SeqCst) as i64);
    metrics_response(&st.registry)
}

/// A registry in the OpenMetrics text format, as a `/metrics` response.
pub fn metrics_response(registry: &Registry) -> Response {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn serve(cfg: ServeConfig, limits: Limits) -> anyhow::Result<()> {
    use anyhow::Context;
    let addr = cfg.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}: is the port taken? pick another with --port")
    })?;
    tracing::info!("serving on http://{addr}");
    let (router, rejections) = app(cfg, limits);
    run(
        listener,
        router,
        Some(rejections),
        limits,
        super::shutdown_signal(),
    )
    .await;
    Ok(())
}

/// The accept loop: each connection is served by hyper with a header read timeout and a
/// bounded head buffer, at most `max_connections` at once (beyond, a new connection is
/// closed at once); on `shutdown`, new connections stop and open ones finish (30 s at most).
/// A request whose head is over the bound gets hyper's own 431, counted in `rejections`.
/// Our own loop because `axum::serve` sets no read timeout and no connection bound.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    rejections: Option<Rejections>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let Ok(permit) = open.clone().try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .max_buf_size(limits.max_header_bytes.max(8192))
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                let rejections = rejections.clone();
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        if e.is_parse_too_large() {
                            if let Some(r) = &rejections {
                                r.count(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.as_u16());
                            }
                        }
                    }
                    drop(permit);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
}
