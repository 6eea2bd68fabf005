//! `sim load`: an open-loop load generator. Poisson arrivals whose rate follows a trace,
//! time-compressed by a speed-up, spread round-robin over the replicas it discovers
//! through their Docker labels (or a fixed endpoint list); every request's latency and
//! status is recorded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};

use crate::live::docker::Engine;

/// The arrival times (ms from the start) of a non-homogeneous Poisson process whose rate is
/// constant within each trace step: step `i` lasts `step_ms / speedup` and carries
/// `demand[i] · scale` requests on average.
pub fn arrivals(demand: &[f64], step_ms: u64, speedup: f64, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dur = step_ms as f64 / speedup;
    let mut out = Vec::new();
    // Unit-rate exponential gaps mapped through the cumulative intensity.
    let mut need: f64 = Exp1.sample(&mut rng);
    for (i, &d) in demand.iter().enumerate() {
        let mass = (d * scale).max(0.0);
        let start = i as f64 * dur;
        let mut used = 0.0;
        while mass > 0.0 && used + need <= mass {
            used += need;
            out.push(start + dur * used / mass);
            need = Exp1.sample(&mut rng);
        }
        need -= mass - used;
    }
    out
}

/// One request's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Scheduled send time, ms from the start.
    pub at_ms: f64,
    pub latency_ms: f64,
    /// HTTP status; 0 when no replica could be reached.
    pub status: u16,
    pub port: u16,
    pub attempts: u8,
    /// The replica's own service time (its reply's `service_ms`); NaN when it gave none.
    pub service_ms: f64,
}

/// Where requests go.
#[derive(Debug, Clone)]
pub enum Targets {
    /// Replicas of this service, discovered through Docker labels every second.
    Docker(String),
    /// Fixed 127.0.0.1 ports.
    Fixed(Vec<u16>),
}

/// The healthy replica ports, refreshed in the background.
#[derive(Debug, Default)]
struct Pool {
    ports: RwLock<Vec<u16>>,
    next: AtomicUsize,
}

impl Pool {
    /// Where a new request starts in the round-robin rotation (one step per request).
    fn start(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
    /// The replica for `attempt` of a request that started at `start`: each retry goes to
    /// the next replica, so with two replicas a refused attempt is retried on the other.
    fn port(&self, start: usize, attempt: usize) -> Option<u16> {
        let ports = self.ports.read().unwrap_or_else(|e| e.into_inner());
        (!ports.is_empty()).then(|| ports[(start + attempt) % ports.len()])
    }
}

async fn discover(pool: Arc<Pool>, service: String, http: reqwest::Client) {
    let engine = Engine::connect_retrying("load").await;
    loop {
        match engine.replicas(&service).await {
            Ok(rs) => {
                let mut ports = crate::live::backend::docker::healthy(&rs, &http).await;
                ports.sort_unstable();
                *pool.ports.write().unwrap_or_else(|e| e.into_inner()) = ports;
            }
            Err(e) => tracing::warn!("load: cannot list replicas: {e:#}"),
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

/// Sends one request per arrival and returns the outcomes in arrival order.
pub async fn run(arrivals: &[f64], targets: Targets, timeout: Duration) -> Result<Vec<Outcome>> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(2))
        .build()?;
    let pool = Arc::new(Pool::default());
    let discovery = match targets {
        Targets::Fixed(ports) => {
            *pool.ports.write().unwrap_or_else(|e| e.into_inner()) = ports;
            None
        }
        Targets::Docker(service) => {
            let h = tokio::spawn(discover(pool.clone(), service.clone(), http.clone()));
            // Wait (up to 30 s) for a first healthy replica.
            let t0 = Instant::now();
            while pool.port(0, 0).is_none() {
                if t0.elapsed() > Duration::from_secs(30) {
                    h.abort();
                    bail!("no healthy replica of service '{service}' found through Docker labels within 30 s: is `sim live` running?");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some(h)
        }
    };
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(arrivals.len());
    for &at in arrivals {
        tokio::time::sleep_until(start + Duration::from_secs_f64(at / 1000.0)).await;
        let (http, pool) = (http.clone(), pool.clone());
        tasks.push(tokio::spawn(async move { send(&http, &pool, at).await }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await?);
    }
    if let Some(h) = discovery {
        h.abort();
    }
    Ok(out)
}

async fn send(http: &reqwest::Client, pool: &Pool, at: f64) -> Outcome {
    let t0 = Instant::now();
    let mut last_port = 0u16;
    // A replica that refuses the connection (stopping, or just killed) is skipped for the
    // next one, as a load balancer would.
    let start = pool.start();
    for attempt in 0..3u8 {
        let Some(port) = pool.port(start, attempt as usize) else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let resp = http
            .post(format!("http://127.0.0.1:{port}/predict"))
            .header("content-type", "application/json")
            .body(r#"{"inputs":[1.0,2.0,3.0]}"#)
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.bytes().await.unwrap_or_default();
                let latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
                return Outcome {
                    at_ms: at,
                    latency_ms,
                    status,
                    port,
                    attempts: attempt + 1,
                    service_ms: service_ms(&body),
                };
            }
            Err(e) if e.is_connect() || e.is_request() => last_port = port,
            Err(_) => {
                last_port = port;
                break;
            }
        }
    }
    Outcome {
        at_ms: at,
        latency_ms: t0.elapsed().as_secs_f64() * 1000.0,
        status: 0,
        port: last_port,
        attempts: 3,
        service_ms: f64::NAN,
    }
}

/// The `service_ms` a `sim serve` reply carries (NaN for any other body).
fn service_ms(body: &[u8]) -> f64 {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("service_ms")?.as_f64())
        .unwrap_or(f64::NAN)
}

/// Counts and latency percentiles of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadSummary {
    pub requests: usize,
    pub ok: usize,
    pub rejected: usize,
    pub failed: usize,
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

pub fn summarize(out: &[Outcome]) -> LoadSummary {
    let mut lat: Vec<f64> = out
        .iter()
        .filter(|o| o.status == 200)
        .map(|o| o.latency_ms)
        .collect();
    let failed = out.iter().filter(|o| o.status == 0).count();
    let n = out.len();
    let ok = lat.len();
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| {
        if lat.is_empty() {
            f64::NAN
        } else {
            lat[((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1]
        }
    };
    LoadSummary {
        requests: n,
        ok,
        rejected: n - ok - failed,
        failed,
        error_rate: if n > 0 {
            (n - ok) as f64 / n as f64
        } else {
            0.0
        },
        p50_ms: q(0.5),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_rotate_over_the_replicas_with_an_even_count() {
        // Regression (#19): the rotation advanced on every attempt as well as by the
        // attempt number, so with 2 replicas all three attempts hit the same one.
        let pool = Pool {
            ports: RwLock::new(vec![9001, 9002]),
            next: AtomicUsize::new(0),
        };
        for _ in 0..4 {
            let start = pool.start();
            let tried: Vec<u16> = (0..3).map(|a| pool.port(start, a).unwrap()).collect();
            assert_ne!(tried[0], tried[1], "{tried:?}");
            assert_ne!(tried[1], tried[2], "{tried:?}");
        }
        // Requests still spread round-robin.
        let firsts: Vec<u16> = (0..4)
            .map(|_| pool.port(pool.start(), 0).unwrap())
            .collect();
        assert_eq!(firsts, vec![9001, 9002, 9001, 9002]);
    }

    #[test]
    fn arrivals_follow_the_trace() {
        // 10 steps of a minute at 600 requests each, 60x faster: 10 s, 6,000 requests.
        let d = vec![600.0; 10];
        let a = arrivals(&d, 60_000, 60.0, 1.0, 3);
        assert!(
            (a.len() as f64 - 6000.0).abs() < 4.0 * 6000f64.sqrt(),
            "{}",
            a.len()
        );
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(*a.last().unwrap() < 10_000.0);
        // A step with no demand gets no arrivals, and scale doubles the count.
        let a = arrivals(&[1000.0, 0.0, 1000.0], 1000, 1.0, 2.0, 5);
        assert!(a.iter().all(|&t| !(1000.0..2000.0).contains(&t)));
        assert!((a.len() as f64 - 4000.0).abs() < 4.0 * 4000f64.sqrt());
        // Same seed, same arrivals.
        assert_eq!(
            arrivals(&d, 60_000, 60.0, 1.0, 3).len(),
            arrivals(&d, 60_000, 60.0, 1.0, 3).len()
        );
    }

    #[test]
    fn gaps_are_exponential() {
        let a = arrivals(&[10_000.0], 10_000, 1.0, 1.0, 9);
        let gaps: Vec<f64> = a.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        // Exponential: sd = mean.
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.05,
            "cv {}",
            var.sqrt() / mean
        );
    }

    #[test]
    fn summary_counts() {
        let o = |status, lat| Outcome {
            at_ms: 0.0,
            latency_ms: lat,
            status,
            port: 1,
            attempts: 1,
            service_ms: f64::NAN,
        };
        let s = summarize(&[o(200, 10.0), o(200, 20.0), o(503, 1.0), o(0, 1.0)]);
        assert_eq!((s.requests, s.ok, s.rejected, s.failed), (4, 2, 1, 1));
        assert_eq!(s.error_rate, 0.5);
        assert_eq!(s.p50_ms, 10.0);
        assert_eq!(s.p99_ms, 20.0);
    }
}
