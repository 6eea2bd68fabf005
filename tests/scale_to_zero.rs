//! Scale to zero (#16 item 1): replicas go to zero and come back in fluid and request
//! modes, with the cold-start figures, the activator's buffer, and the autoscalers that
//! do it (KPA, KEDA, keep-alive) driving the simulator.

mod common;

use common::{read_parquet, sweep, write};
use scalesim::metrics::{score, ScoreConfig};
use scalesim::policy::PolicySpec;
use scalesim::sim::{simulate, Fidelity, RunInput, RunOutput, SafetyNet, SimConfig};

/// One-minute steps: 10 busy minutes at 60 requests (1 per second), 20 idle, 10 busy.
fn trace() -> Vec<f64> {
    let mut d = vec![60.0; 10];
    d.extend([0.0; 20]);
    d.extend([60.0; 10]);
    d
}

fn cfg(fidelity: Fidelity) -> SimConfig {
    SimConfig {
        fidelity,
        startup_delay_ms: 5_000,
        // 10 requests per second per replica: 100 ms of service each.
        capacity_per_replica: 600.0,
        initial_replicas: 1,
        safety: SafetyNet {
            enabled: false,
            ..SafetyNet::default()
        },
        ..SimConfig::default()
    }
}

fn run(cfg: &SimConfig, policy: &str, demand: &[f64]) -> RunOutput {
    let spec: PolicySpec = toml::from_str(policy).unwrap();
    spec.validate().unwrap();
    let mut p = spec.build();
    simulate(
        cfg,
        RunInput {
            demand,
            first_step: 0,
            forecast: None,
            seed: 7,
            missing: &[],
            replay: None,
            history: &[],
        },
        p.as_mut(),
    )
}

#[test]
fn kpa_goes_to_zero_and_back_in_fluid_mode_on_its_documented_timing() {
    let c = cfg(Fidelity::Fluid);
    let out = run(&c, "kind = \"kpa\"", &trace());
    let m = score(&out, &c, &ScoreConfig::default());
    // Traffic stops at 600 s; the stable window empties at 660 s, the PA turns inactive
    // and (the activator in the path all along) the next 2 s tick scales to zero: 662 s.
    // Traffic returns at 1800 s; the 1802 s tick sees it and asks for a pod, ready 5 s
    // later. Zero from 662 to 1802 s: 1140 of 2400 s.
    assert_eq!(m.cold_starts, 1);
    assert!(
        (m.time_at_zero_pct - 100.0 * 1140.0 / 2400.0).abs() < 1e-9,
        "{}",
        m.time_at_zero_pct
    );
    // Requests arriving with no replica ready: 1800–1807 s at 1 per second. Fluid mode
    // serves each 2 s part with its average capacity, so the part the replica becomes
    // ready in (1806–1808 s) is served: 6 unserved.
    assert!(
        (m.cold_start_requests - 7.0).abs() < 1e-9,
        "{}",
        m.cold_start_requests
    );
    assert!(
        (m.unserved_requests - 6.0).abs() < 1e-9,
        "{:?}",
        out.timeline.dropped
    );
    assert!(
        m.activator_wait_p95_ms.is_nan(),
        "fluid mode has no activator waits"
    );
    let tl = &out.timeline;
    assert_eq!((tl.ready[11], tl.ready[12]), (1, 0), "zero from 662 s");
    assert_eq!(tl.cold_starts[30], 1, "the cold start falls in minute 30");
    // Paid time: the busy minutes and the tail to 662 s plus the cold start's 5 s.
    let paid_s = m.cost_replica_hours * 3600.0;
    assert!(
        (paid_s - (662.0 + (2400.0 - 1802.0))).abs() < 1e-6,
        "{paid_s}"
    );
}

#[test]
fn the_activator_holds_requests_through_a_cold_start_in_request_mode() {
    let c = cfg(Fidelity::Requests);
    let out = run(&c, "kind = \"kpa\"", &trace());
    let m = score(&out, &c, &ScoreConfig::default());
    let r = out.requests.as_ref().unwrap();
    assert_eq!(m.cold_starts, 1);
    assert_eq!(r.dropped, 0, "no request lost during the cold start");
    assert_eq!(r.served, r.arrived);
    // About 7 requests (Poisson at 1/s over the 7 s without a replica) waited; each for
    // at most the tick (2 s) plus the start-up (5 s), plus its own service.
    assert!((2..=20).contains(&r.cold_requests), "{}", r.cold_requests);
    assert!(
        m.activator_wait_p50_ms > 0.0 && m.activator_wait_p99_ms <= 7_000.0,
        "{m:?}"
    );
    assert!(m.latency_p99_ms < 1_000.0 || r.cold_requests * 100 >= r.arrived);
    assert!(
        m.time_at_zero_pct > 40.0 && m.time_at_zero_pct < 50.0,
        "{}",
        m.time_at_zero_pct
    );
}

#[test]
fn activator_timeouts_and_overflow_count_as_dropped() {
    // Requests buffered longer than the time-out (3 s, under the 5 s start-up) are dropped.
    let mut c = cfg(Fidelity::Requests);
    c.requests.activator.timeout_ms = 3_000;
    let out = run(&c, "kind = \"kpa\"", &trace());
    let r = out.requests.as_ref().unwrap();
    assert!(
        r.activator_timeouts > 0 && r.dropped == r.activator_timeouts,
        "{r:?}"
    );
    assert_eq!(r.served + r.dropped, r.arrived);
    // A buffer of one: the rest of the cold burst overflows.
    let mut c = cfg(Fidelity::Requests);
    c.requests.activator.capacity = 1;
    let out = run(&c, "kind = \"kpa\"", &trace());
    let r = out.requests.as_ref().unwrap();
    assert!(r.dropped > 0 && r.activator_timeouts == 0, "{r:?}");
    assert_eq!(r.served + r.dropped, r.arrived);
}

#[test]
fn with_no_replica_left_buffered_requests_time_out_at_the_end() {
    // min = max = 0: nothing ever serves; every request is dropped, none lost.
    let c = cfg(Fidelity::Requests);
    let out = run(&c, "kind = \"keep_alive\"\nmax_replicas = 0", &[30.0, 30.0]);
    let r = out.requests.as_ref().unwrap();
    assert!(r.arrived > 0);
    assert_eq!(
        (r.served, r.dropped, r.activator_timeouts),
        (0, r.arrived, r.arrived)
    );
}

#[test]
fn keep_alive_and_keda_scale_to_zero_after_their_idle_times() {
    let c = cfg(Fidelity::Fluid);
    // Keep-alive 10 min: zero 600 s after the last request (600 s) → 1200 s; back at
    // the 1 s tick after traffic returns (1801 s).
    let out = run(&c, "kind = \"keep_alive\"", &trace());
    let m = score(&out, &c, &ScoreConfig::default());
    assert_eq!(m.cold_starts, 1);
    assert!(
        (m.time_at_zero_pct - 100.0 * 601.0 / 2400.0).abs() < 0.1,
        "{}",
        m.time_at_zero_pct
    );
    // KEDA (threshold 5 rps, cooldown 300 s, polls every 30 s reading the last 15 s):
    // the last active poll is at 600 s, so zero at the first poll after 900 s (930 s);
    // the poll at 1800 s still reads the idle 15 s before it, the one at 1830 s sees
    // traffic: zero for 900 s.
    let out = run(&c, "kind = \"keda\"\nthreshold = 5", &trace());
    let m = score(&out, &c, &ScoreConfig::default());
    assert_eq!(m.cold_starts, 1);
    assert!(
        (m.time_at_zero_pct - 100.0 * 900.0 / 2400.0).abs() < 1e-9,
        "{}",
        m.time_at_zero_pct
    );
}

#[test]
fn a_cold_start_decided_on_a_step_boundary_counts_in_that_step() {
    // Keep-alive deciding once a minute: back from zero at the 1860 s boundary (it sees
    // the traffic of minute 30 at the end of it).
    for fidelity in [Fidelity::Fluid, Fidelity::Requests] {
        let c = cfg(fidelity);
        let out = run(&c, "kind = \"keep_alive\"\ntick_interval_s = 60", &trace());
        let m = score(&out, &c, &ScoreConfig::default());
        assert_eq!(m.cold_starts, 1, "{fidelity:?}");
        assert_eq!(
            out.timeline.cold_starts[31], 1,
            "{fidelity:?}: {:?}",
            out.timeline.cold_starts
        );
    }
}

#[test]
fn a_metric_outage_holds_the_hpa_and_keda_falls_back() {
    // 20 busy minutes at 3000 per minute (5 replicas), an outage from 300 to 900 s while
    // demand drops to 600 (1 replica).
    let mut d = vec![3000.0; 5];
    d.extend([600.0; 15]);
    let mut c = cfg(Fidelity::Fluid);
    c.initial_replicas = 5;
    c.metric_outages = vec![(300_000, 900_000)];
    let hpa = "kind = \"hpa\"\nmetric = \"request_rate\"\nbehavior = { scaleDown = { stabilizationWindowSeconds = 0 } }";
    let out = run(&c, hpa, &d);
    // 3000 per minute at 80 % of 600 per replica: 7; held at 7 through the outage
    // (steps 5–14), down to 2 (600 / 480) after it.
    let tl = &out.timeline;
    assert!(tl.ready[1..15].iter().all(|&r| r == 7), "{:?}", tl.ready);
    assert_eq!(tl.ready[16], 2, "{:?}", tl.ready);
    let keda = "kind = \"keda\"\nthreshold = 10\nmin_replicas = 1\nbehavior = { scaleDown = { stabilizationWindowSeconds = 0 } }\nfallback = { failureThreshold = 3, replicas = 2 }";
    let out = run(&c, keda, &d);
    // 3000 per minute is 50 rps: 5 replicas at a threshold of 10. After four
    // failed HPA queries (300, 315, 330, 345 s) the fallback's 2 replicas, held through
    // the outage; after it the metric (10 rps: 1 replica).
    let tl = &out.timeline;
    assert_eq!(tl.ready[4], 5);
    assert!(tl.ready[6..15].iter().all(|&r| r == 2), "{:?}", tl.ready);
    assert_eq!(tl.ready[16], 1);
}

#[test]
fn a_sweep_reports_the_cold_start_columns() {
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,requests\n");
    for (i, v) in std::iter::repeat_n(60.0, 60).chain(trace()).enumerate() {
        csv.push_str(&format!("{},{v}\n", 60 * i));
    }
    write(d.path(), "t.csv", &csv);
    let sc = write(
        d.path(),
        "s.toml",
        r#"
name = "z"
[trace]
file = "t.csv"
[window]
train = "60m"
[simulation]
fidelity = "requests"
startup_delay_s = 5
capacity_per_replica = 600
initial_replicas = 1
safety_net = { enabled = false }
[[policies]]
kind = "kpa"
[[policies]]
kind = "keep_alive"
[[policies]]
kind = "hpa"
metric = "request_rate"
"#,
    );
    sweep(&sc, d.path().join("out")).success();
    let df = read_parquet(&d.path().join("out/z/metrics_summary.parquet"));
    let cold = common::u64_col(&df, "cold_starts");
    let zero = common::f64_col(&df, "time_at_zero_pct");
    assert_eq!(cold[0], 1, "kpa");
    assert!(zero[0] > 40.0);
    assert_eq!((cold[2], zero[2]), (0, 0.0), "hpa keeps a replica");
    let tl = read_parquet(&d.path().join("out/z/timelines/cell_000000.parquet"));
    assert!(common::f64_col(&tl, "zero_ms").iter().sum::<f64>() > 0.0);
    // The report's findings name the cells that went to zero, most time at zero first.
    let dir = d.path().join("out/z");
    common::sim().arg("report").arg(&dir).assert().success();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.contains("Scale to zero:"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(line.contains("2 of 3 cells went to zero"), "{line}");
    let (kpa, keep) = (line.find("kpa (cell 0)"), line.find("keep_alive (cell 1)"));
    assert!(kpa.is_some() && keep.is_some(), "{line}");
    let first = if zero[0] >= zero[1] { kpa } else { keep };
    assert!(first.unwrap() == kpa.unwrap().min(keep.unwrap()), "{line}");
    assert!(
        line.contains("for a cold start") && !line.contains("hpa"),
        "{line}"
    );
}
