//! The activator in process: held requests are forwarded once a replica is healthy, the
//! buffer's bound and time-out answer 503 and 504, and `/metrics` counts it all.

use super::*;
use crate::service::serve::{router as replica, ServeConfig};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A replica's listener, bound now and served from `after` on (until then it accepts
/// connections but answers nothing, so its health probe fails).
async fn replica_later(after: Duration) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let cfg = ServeConfig {
        addr: l.local_addr().unwrap(),
        service_time: "deterministic:10".parse().unwrap(),
        concurrency: 4,
        queue: 32,
        seed: 1,
    };
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        axum::serve(l, replica(cfg)).await.unwrap();
    });
    port
}

/// An activator over `ports`; its address.
async fn activator(ports: Vec<u16>, capacity: usize, timeout_ms: u64) -> (Arc<Activator>, u16) {
    let a = Activator::new(ActivatorConfig {
        targets: Targets::Fixed(ports),
        capacity,
        timeout: Duration::from_millis(timeout_ms),
        probe: Duration::from_millis(50),
    })
    .unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(run(l, a.clone(), std::future::pending()));
    (a, port)
}

async fn post(port: u16) -> (u16, Duration) {
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let t0 = Instant::now();
    let r = c
        .post(format!("http://127.0.0.1:{port}/predict"))
        .header("content-type", "application/json")
        .body(r#"{"inputs":[1,2,3]}"#)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), t0.elapsed())
}

async fn metrics(port: u16) -> String {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn value(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[test]
fn requests_wait_for_a_cold_start_and_are_all_answered() {
    rt().block_on(async {
        // The replica answers from 400 ms on; five requests sent at once before that.
        let backend = replica_later(Duration::from_millis(400)).await;
        let (a, port) = activator(vec![backend], 100, 5_000).await;
        let sent = (0..5).map(|_| post(port));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let out = futures_util::future::join_all(sent).await;
        for (status, took) in &out {
            assert_eq!(*status, 200);
            assert!(
                *took >= Duration::from_millis(250),
                "{took:?}: it waited for the replica"
            );
        }
        assert_eq!(a.depth(), 0);
        // Once warm, no wait.
        let (status, took) = post(port).await;
        assert_eq!(status, 200);
        assert!(took < Duration::from_millis(300), "{took:?}");
        let m = metrics(port).await;
        assert_eq!(value(&m, "activator_requests_total"), 6.0);
        assert_eq!(value(&m, "activator_forwarded_total"), 6.0);
        assert_eq!(value(&m, "activator_wait_seconds_count"), 5.0);
        assert_eq!(value(&m, "activator_queue_depth"), 0.0);
        assert_eq!(value(&m, "activator_timeouts_total"), 0.0);
    });
}

#[test]
fn a_full_buffer_answers_503_and_a_late_replica_504() {
    rt().block_on(async {
        // No replica ever: a buffer of two holds two, the third is refused at once; the two
        // held time out after 300 ms.
        let never = replica_later(Duration::from_secs(3600)).await;
        let (_, port) = activator(vec![never], 2, 300).await;
        let (held, refused) = tokio::join!(
            futures_util::future::join_all((0..2).map(|_| post(port))),
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                post(port).await
            }
        );
        assert_eq!(refused.0, 503);
        assert!(refused.1 < Duration::from_millis(200));
        for (status, took) in held {
            assert_eq!(status, 504);
            assert!(took >= Duration::from_millis(290), "{took:?}");
        }
        let m = metrics(port).await;
        assert_eq!(value(&m, "activator_overflow_total"), 1.0);
        assert_eq!(value(&m, "activator_timeouts_total"), 2.0);
        assert_eq!(value(&m, "activator_forwarded_total"), 0.0);
    });
}

#[test]
fn healthy_replicas_share_the_requests() {
    rt().block_on(async {
        let (r1, r2) = (
            replica_later(Duration::ZERO).await,
            replica_later(Duration::ZERO).await,
        );
        let (a, port) = activator(vec![r1, r2], 10, 1_000).await;
        // Wait for both to be probed healthy.
        for _ in 0..100 {
            if a.ports.read().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for _ in 0..6 {
            assert_eq!(post(port).await.0, 200);
        }
        let seen = |p: u16| async move {
            value(&metrics(p).await, "scalesim_requests_total{status=\"200\"}")
        };
        assert_eq!((seen(r1).await, seen(r2).await), (3.0, 3.0));
    });
}
