use super::*;
use crate::policy::PolicySpec;
use crate::sim::{Fidelity, RequestConfig, SafetyNet, ServiceTime};

fn cfg(queue_limit: usize, service: ServiceTime) -> SimConfig {
    SimConfig {
        fidelity: Fidelity::Requests,
        capacity_per_replica: 60.0,
        initial_replicas: 1,
        safety: SafetyNet {
            enabled: false,
            ..SafetyNet::default()
        },
        requests: RequestConfig {
            service,
            concurrency: 1,
            queue_limit,
            slo_ms: 5_000.0,
            ..RequestConfig::default()
        },
        ..SimConfig::default()
    }
}

/// Runs `demand` with one static replica.
fn on_one_replica(c: &SimConfig, demand: &[f64], seed: u64) -> (Timeline, RequestStats) {
    run(
        c,
        RunInput {
            history: &[],
            missing: &[],
            replay: None,
            demand,
            first_step: 0,
            forecast: None,
            seed,
        },
        static1().as_mut(),
    )
}

fn static1() -> Box<dyn ScalingPolicy> {
    PolicySpec::of(crate::policy::spec::PolicyParams::Static(
        crate::policy::spec::StaticParams { replicas: Some(1) },
    ))
    .build()
}

#[test]
fn overload_fills_the_queue_and_drops_the_rest() {
    // Twice the capacity for 30 minutes with room for 10 waiting requests.
    let demand = vec![120.0; 30];
    let (tl, r) = on_one_replica(&cfg(10, ServiceTime::Deterministic), &demand, 4);
    assert_eq!(r.served + r.dropped, r.arrived);
    let drop_share = r.dropped as f64 / r.arrived as f64;
    assert!((drop_share - 0.5).abs() < 0.05, "{drop_share}");
    // A deterministic 1 s service with a queue of 10 bounds latency near 11 s.
    assert!(
        r.latency_p99_ms <= 11_100.0 && r.latency_p99_ms >= 9_000.0,
        "{}",
        r.latency_p99_ms
    );
    assert!(tl.cpu_pct[5] > 99.0);
    assert!(r.slo_violations > 0);
}

#[test]
fn light_load_has_no_queueing_with_deterministic_service() {
    // One request per minute on a 1 s service: queueing is rare.
    let demand = vec![1.0; 600];
    let (_, r) = on_one_replica(&cfg(100, ServiceTime::Deterministic), &demand, 5);
    assert!(r.arrived > 500);
    // With Poisson arrivals a request waits with probability ρ = 1/60 (M/D/1).
    assert!(r.waited < r.arrived / 25, "{} of {}", r.waited, r.arrived);
    assert_eq!(r.latency_p50_ms, 1000.0);
}

#[test]
fn same_seed_same_run_other_seed_differs() {
    let demand = vec![50.0; 60];
    let c = cfg(100, ServiceTime::Lognormal { cv: 1.0 });
    let go = |seed| on_one_replica(&c, &demand, seed);
    let (a, b, other) = (go(1), go(1), go(2));
    // Debug text compares NaN forecasts as equal, unlike `==`.
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_ne!(a.1.arrived, other.1.arrived);
}

fn light(c: &SimConfig, seed: u64) -> RequestStats {
    // One request a minute: no queueing, so latency is the service time.
    let demand = vec![1.0; 3000];
    on_one_replica(c, &demand, seed).1
}

#[test]
fn uniform_service_is_the_replicas_own_whatever_the_sizing_capacity() {
    // The policies size with 60 requests a minute (1 s each); the replica takes 50–200 ms.
    let mut c = cfg(
        100,
        ServiceTime::Uniform {
            min_ms: 50.0,
            max_ms: 200.0,
        },
    );
    let r = light(&c, 6);
    assert!(r.arrived > 2500);
    // Uniform(50, 200): p50 125, p99 198.5 (histogram resolution 1 ms).
    assert!(
        (r.latency_p50_ms - 125.0).abs() <= 4.0,
        "{}",
        r.latency_p50_ms
    );
    assert!(
        (r.latency_p99_ms - 198.5).abs() <= 2.0,
        "{}",
        r.latency_p99_ms
    );
    assert!(
        (r.latency_mean_ms - 125.0).abs() < 3.0,
        "{}",
        r.latency_mean_ms
    );
    // A mean_ms set for exponential service is the replica's too, not 1 s.
    c.requests.service = ServiceTime::Exponential;
    c.requests.mean_ms = Some(100.0);
    let r = light(&c, 6);
    assert!(
        (r.latency_mean_ms / 100.0 - 1.0).abs() < 0.06,
        "{}",
        r.latency_mean_ms
    );
    // Without it, the sizing capacity sets the mean: 60 per minute, 1 s.
    c.requests.mean_ms = None;
    let r = light(&c, 6);
    assert!(
        (r.latency_mean_ms / 1000.0 - 1.0).abs() < 0.06,
        "{}",
        r.latency_mean_ms
    );
}

#[test]
fn empirical_service_resamples_its_table() {
    // 3 : 1 of 100 ms and 400 ms.
    let e = crate::sim::Empirical::new([(100.0, 3.0), (400.0, 1.0)]).unwrap();
    let c = cfg(100, ServiceTime::Empirical(std::sync::Arc::new(e)));
    let r = light(&c, 7);
    assert_eq!(r.latency_p50_ms, 100.0);
    assert_eq!(r.latency_p99_ms, 400.0);
    // Mean 175: 3/4 · 100 + 1/4 · 400, within sampling error of ~3,000 draws.
    assert!(
        (r.latency_mean_ms - 175.0).abs() < 10.0,
        "{}",
        r.latency_mean_ms
    );
    assert_eq!(c.mean_service_ms(), 175.0);
}
