//! Golden cases from Knative Serving's own tests of the decider (`autoscaler_test.go`)
//! and of the scaler's scale-to-zero gate (`scaler_test.go`), re-expressed: the same
//! settings, metric values and expected counts.

use super::decider::{Decider, DeciderSpec, ScaleResult};
use super::*;
use crate::policy::testing::{observation, observed};
use crate::policy::PolicySpec;

const SW: u64 = 60_000;

/// Upstream's `newTestAutoscaler(target, tbc)`: 75 % utilisation, panic at 2×, rates 10.
fn spec(target: f64, tbc: f64) -> DeciderSpec {
    DeciderSpec {
        target,
        total: target / 0.75,
        target_burst_capacity: tbc,
        panic_threshold: 2.0,
        max_scale_up_rate: 10.0,
        max_scale_down_rate: 10.0,
        stable_window_ms: SW,
        scale_down_delay_ms: 0,
        activation_scale: 1,
        reachable: true,
    }
}

/// Upstream's `expectedEBC(totCap, targetBC, recordedConcurrency, numPods)`.
fn ebc(target: f64, tbc: f64, panic: f64, pods: f64) -> i64 {
    (target / 0.75 * pods - tbc - panic).floor() as i64
}

fn at(s: u64) -> SimTime {
    SimTime(s * 1000)
}

fn scale(d: &mut Decider, t: SimTime, ready: u32, stable: f64, panic: f64) -> u32 {
    d.scale(t, ready, stable, panic).desired
}

#[test]
fn stable_mode_follows_the_target() {
    let mut d = Decider::new(spec(10.0, 101.0), 1, at(0));
    let r = d.scale(at(0), 1, 50.0, 10.0);
    assert_eq!(
        r,
        ScaleResult {
            desired: 5,
            excess_burst_capacity: ebc(10.0, 101.0, 10.0, 1.0)
        }
    );
    assert_eq!(scale(&mut d, at(0), 1, 100.0, 10.0), 10);
    // Decrease (TestAutoscalerStableModeDecrease).
    let mut d = Decider::new(spec(10.0, 98.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 8, 100.0, 100.0), 10);
    assert_eq!(scale(&mut d, at(0), 8, 50.0, 50.0), 5);
    // No traffic: zero (TestAutoscalerStableModeNoTrafficScaleToZero).
    let mut d = Decider::new(spec(10.0, 75.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 1, 1.0, 0.0), 1);
    assert_eq!(scale(&mut d, at(0), 1, 0.0, 0.0), 0);
}

#[test]
fn excess_burst_capacity_and_its_special_values() {
    let mut d = Decider::new(spec(10.0, 100.0), 1, at(0));
    let r = d.scale(at(0), 1, 50.0, 50.0);
    assert_eq!(
        r,
        ScaleResult {
            desired: 5,
            excess_burst_capacity: ebc(10.0, 100.0, 50.0, 1.0)
        }
    );
    assert_eq!(r.excess_burst_capacity, -137);
    // TBC -1: always -1; TBC 0: always 0 (AutoscalerStableModeUnlimitedTBC, Autoscaler0TBC).
    let mut d = Decider::new(spec(181.0, -1.0), 1, at(0));
    assert_eq!(
        d.scale(at(0), 1, 21.0, 26.0),
        ScaleResult {
            desired: 1,
            excess_burst_capacity: -1
        }
    );
    let mut d = Decider::new(spec(10.0, 0.0), 1, at(0));
    assert_eq!(
        d.scale(at(0), 1, 50.0, 49.0),
        ScaleResult {
            desired: 5,
            excess_burst_capacity: 0
        }
    );
}

#[test]
fn rates_limit_each_decision() {
    // TestAutoscalerRateLimitScaleUp / ScaleDown: ×10 and ÷10 per decision.
    let mut d = Decider::new(spec(10.0, 61.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 1, 1000.0, 1001.0), 10);
    assert_eq!(scale(&mut d, at(0), 10, 1000.0, 1001.0), 100);
    let mut d = Decider::new(spec(10.0, 61.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 100, 1.0, 1.0), 10);
    assert_eq!(scale(&mut d, at(0), 10, 1.0, 1.0), 1);
    // Zero ready pods count as one (TestAutoscalerUseOnePodAsMinimumIfEndpointsNotFound).
    let mut d = Decider::new(spec(10.0, 81.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 0, 1000.0, 888.0), 10);
    // A small scale-up rate still adds a pod: ceil(1.1 · 2) = 3.
    let mut s = spec(1.0, 1982.0);
    s.max_scale_up_rate = 1.1;
    assert_eq!(scale(&mut Decider::new(s, 1, at(0)), at(0), 2, 3.0, 3.1), 3);
    // A small scale-down rate: floor(100 / 1.1) = 90; unreachable: straight down.
    let mut s = spec(10.0, 1982.0);
    s.max_scale_down_rate = 1.1;
    assert_eq!(
        scale(&mut Decider::new(s.clone(), 1, at(0)), at(0), 100, 1.0, 1.0),
        90
    );
    s.reachable = false;
    assert_eq!(
        scale(&mut Decider::new(s, 1, at(0)), at(0), 100, 1.0, 1.0),
        1
    );
}

#[test]
fn activation_scale_lifts_a_scale_from_zero() {
    let mut s = spec(10.0, 75.0);
    s.activation_scale = 2;
    let mut d = Decider::new(s, 1, at(0));
    assert_eq!(scale(&mut d, at(0), 1, 0.0, 0.0), 0);
    assert_eq!(scale(&mut d, at(0), 1, 1.0, 0.0), 2);
}

#[test]
fn panic_mode_ratchets_and_ends_a_stable_window_after_the_last_crossing() {
    // TestAutoscalerPanicModeDoublePodCount: the panic value takes precedence.
    let mut d = Decider::new(spec(10.0, 84.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 1, 50.0, 100.0), 10);
    // TestAutoscalerPanicThenUnPanicScaleDown.
    let mut d = Decider::new(spec(10.0, 93.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 1, 100.0, 100.0), 10);
    assert_eq!(scale(&mut d, at(1), 10, 100.0, 1000.0), 100);
    assert_eq!(
        scale(&mut d, at(31), 10, 1.0, 1.0),
        100,
        "no scale-down in panic"
    );
    assert_eq!(
        scale(&mut d, at(62), 10, 1.0, 1.0),
        1,
        "a stable window later"
    );
    // TestAutoscalerUnpanicAfterSlowIncrease.
    let mut d = Decider::new(spec(1.0, 98.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 10, 11.0, 25.0), 25);
    assert_eq!(d.panic_time, Some(at(0)));
    assert_eq!(scale(&mut d, at(30), 40, 30.0, 41.0), 41);
    assert_eq!(
        d.panic_time,
        Some(at(0)),
        "below the threshold: not extended"
    );
    assert_eq!(scale(&mut d, at(62), 55, 50.0, 56.0), 50);
    assert_eq!(d.panic_time, None);
    // TestAutoscalerExtendPanicWindow: still over the threshold, so extended.
    let mut d = Decider::new(spec(1.0, 98.0), 1, at(0));
    assert_eq!(scale(&mut d, at(0), 10, 11.0, 25.0), 25);
    assert_eq!(scale(&mut d, at(30), 40, 30.0, 80.0), 80);
    assert_eq!(d.panic_time, Some(at(30)));
    // AutoscalerPanicStable{Larger,Less}ThanPanic: the larger of the two in panic.
    for (stable, panic, want) in [(50.0, 30.0, 50), (20.0, 30.0, 30)] {
        let mut d = Decider::new(spec(1.0, 100.0), 1, at(10));
        d.panic_time = Some(at(5));
        d.max_panic_pods = 5;
        assert_eq!(scale(&mut d, at(10), 5, stable, panic), want);
    }
    // TestAutoscalerPanicModeExponentialTrackAndStabilize.
    let mut d = Decider::new(spec(1.0, 101.0), 1, at(0));
    for (ready, c) in [
        (1, 6.0),
        (6, 36.0),
        (36, 216.0),
        (216, 1296.0),
        (1296, 1296.0),
    ] {
        assert_eq!(scale(&mut d, at(0), ready, c, c), c as u32);
    }
}

#[test]
fn a_decider_made_above_one_pod_starts_in_panic() {
    for ready in [0, 1] {
        let d = Decider::new(spec(100.0, 11.0), ready, at(0));
        assert_eq!((d.panic_time, d.max_panic_pods), (None, ready));
    }
    let d = Decider::new(spec(100.0, 11.0), 2, at(0));
    assert_eq!((d.panic_time, d.max_panic_pods), (Some(at(0)), 2));
}

#[test]
fn scale_down_delay_holds_the_highest_count_of_the_delay() {
    // TestAutoscalerScaleDownDelay: target 10, panic threshold 100×, delay 5 min.
    let mut s = spec(10.0, 0.0);
    s.panic_threshold = 100.0;
    s.scale_down_delay_ms = 300_000;
    let mut d = Decider::new(s, 0, at(0));
    assert_eq!(scale(&mut d, at(2), 0, 40.0, 40.0), 4);
    assert_eq!(scale(&mut d, at(300), 0, 0.0, 0.0), 4);
    assert_eq!(scale(&mut d, at(302), 0, 0.0, 0.0), 0);
    // "gradual"
    assert_eq!(scale(&mut d, at(540), 0, 40.0, 40.0), 4);
    assert_eq!(scale(&mut d, at(600), 0, 30.0, 30.0), 4);
    assert_eq!(scale(&mut d, at(660), 0, 0.0, 0.0), 4);
    assert_eq!(scale(&mut d, at(840), 0, 0.0, 0.0), 3);
    assert_eq!(scale(&mut d, at(900), 0, 0.0, 0.0), 0);
    // No delay: down at once (TestAutoscalerScaleDownDelayZero).
    let mut s = spec(10.0, 0.0);
    s.panic_threshold = 100.0;
    let mut d = Decider::new(s, 0, at(0));
    assert_eq!(scale(&mut d, at(0), 0, 40.0, 40.0), 4);
    assert_eq!(scale(&mut d, SimTime(500), 0, 20.0, 20.0), 2);
}

// --- The policy: windows, bounds and the scale-to-zero gate -------------------------

fn kpa(extra: &str) -> Kpa {
    let spec: PolicySpec = toml::from_str(&format!("kind = \"kpa\"\n{extra}")).unwrap();
    spec.validate().unwrap();
    let PolicyParams::Kpa(p) = &spec.params else {
        unreachable!()
    };
    Kpa::new("kpa".into(), p.config(), spec.bounds())
}
use crate::policy::spec::PolicyParams;

/// One 2 s tick at `t_ms` with `concurrency` in flight over the last 2 s.
fn tick(k: &mut Kpa, t_ms: u64, current: u32, ready: u32, concurrency: f64) -> u32 {
    let o = observed(0.0, 0.0, ready as f64, concurrency, 2000);
    k.decide(&observation(
        t_ms,
        60_000,
        current,
        ready,
        10.0,
        Some(o),
        false,
        &[],
    ))
}

/// Runs ticks from `from_ms` to `to_ms` with pods ready at once, the concurrency given
/// by `c(t_ms)`; returns the count and the times it changed.
fn run(
    k: &mut Kpa,
    mut n: u32,
    from_ms: u64,
    to_ms: u64,
    c: impl Fn(u64) -> f64,
) -> (u32, Vec<(u64, u32)>) {
    let mut changes = Vec::new();
    let mut t = from_ms;
    while t <= to_ms {
        let next = tick(k, t, n, n, c(t));
        if next != n {
            changes.push((t, next));
            n = next;
        }
        t += 2000;
    }
    (n, changes)
}

#[test]
fn the_stable_window_averages_concurrency_over_the_time_collected() {
    // Target 10 at 100 %: 50 in flight asks for 5 pods at the first tick (the window is
    // as long as the data), and a burst that lasts one tick moves the 60 s average by 1/30.
    let mut k = kpa("target = 10\ntarget_utilization_percentage = 100\ntarget_burst_capacity = 0");
    assert_eq!(tick(&mut k, 2000, 1, 1, 50.0), 5);
    let (n, _) = run(&mut k, 5, 4000, 120_000, |_| 50.0);
    assert_eq!(n, 5);
    // 80 in flight for 2 s: panic average (6 s) 60 → 6 pods, 6/5 below the threshold,
    // stable (60 s) 51 → 6: one more pod.
    assert_eq!(tick(&mut k, 122_000, 5, 5, 80.0), 6);
}

#[test]
fn scale_to_zero_waits_a_stable_window_then_the_grace_period() {
    // Default settings (target 70 in flight, burst capacity 200): one pod serves
    // 1 in flight until 120 s, then nothing. The stable average reaches 0 a window
    // later (180 s); the PA has been active longer than that, so it turns inactive, and —
    // the activator having been in the path all along (100 − 200 − panic < 0) — the
    // next tick (182 s) scales to zero.
    let mut k = kpa("");
    let (n, ch) = run(&mut k, 1, 2000, 400_000, |t| {
        if t <= 120_000 {
            1.0
        } else {
            0.0
        }
    });
    assert_eq!(n, 0);
    assert_eq!(ch, vec![(182_000, 0)]);
    // With no burst capacity asked for, the activator joins the path only when the PA
    // turns inactive (180 s): zero a grace period later.
    let mut k = kpa("target_burst_capacity = 0");
    let (_, ch) = run(&mut k, 1, 2000, 400_000, |t| {
        if t <= 120_000 {
            1.0
        } else {
            0.0
        }
    });
    assert_eq!(ch, vec![(210_000, 0)]);
    // A pod-retention period of 90 s keeps the last pod that long after it turned inactive.
    let mut k = kpa("scale_to_zero_pod_retention_period_s = 90");
    let (_, ch) = run(&mut k, 1, 2000, 400_000, |t| {
        if t <= 120_000 {
            1.0
        } else {
            0.0
        }
    });
    assert_eq!(ch, vec![(270_000, 0)]);
    // enable_scale_to_zero = false: one pod stays.
    let mut k = kpa("enable_scale_to_zero = false");
    let (n, _) = run(&mut k, 1, 2000, 400_000, |t| {
        if t <= 120_000 {
            1.0
        } else {
            0.0
        }
    });
    assert_eq!(n, 1);
}

#[test]
fn a_young_revision_keeps_one_pod_for_a_stable_window() {
    // Three pods and no traffic: the decider starts in panic and holds 3 for a stable
    // window (to 62 s), then may halve (max-scale-down-rate 2: 3 → 1); at one pod the
    // burst capacity runs short (100 − 200 < 0), the activator joins the path, and a
    // grace period later (96 s) the revision, active for over a stable window, goes to 0.
    let mut k = kpa("");
    let (_, ch) = run(&mut k, 3, 2000, 200_000, |_| 0.0);
    assert_eq!(ch, vec![(64_000, 1), (96_000, 0)]);
    // A revision active for less than a stable window asked for 0 keeps one pod.
    let mut k = kpa("");
    assert_eq!(tick(&mut k, 2000, 1, 1, 0.0), 1);
    assert_eq!(tick(&mut k, 60_000, 1, 1, 0.0), 1);
}

#[test]
fn scale_from_zero_asks_for_the_metric_and_the_activation_scale() {
    let mut k = kpa("activation_scale = 3");
    // At zero with nothing in flight: stays at zero.
    assert_eq!(tick(&mut k, 2000, 0, 0, 0.0), 0);
    // Requests buffered in the activator (concurrency 1): three pods.
    assert_eq!(tick(&mut k, 4000, 0, 0, 1.0), 3);
    // Activating: while no pod is ready the count is held even if the metric falls to 0.
    let mut k = kpa("");
    assert_eq!(tick(&mut k, 2000, 0, 0, 0.0), 0);
    assert_eq!(tick(&mut k, 4000, 0, 0, 5.0), 1);
    for t in (6000..70_000).step_by(2000) {
        assert_eq!(tick(&mut k, t, 1, 0, 0.0), 1, "at {t} ms");
    }
}

#[test]
fn min_scale_and_initial_scale_bound_the_count() {
    let mut k = kpa("min_replicas = 2");
    let (n, _) = run(&mut k, 2, 2000, 400_000, |_| 0.0);
    assert_eq!(n, 2);
    // Initial scale 3: held until three pods have been ready once.
    let mut k = kpa("initial_scale = 3");
    assert_eq!(tick(&mut k, 2000, 1, 1, 0.0), 3);
    assert_eq!(tick(&mut k, 4000, 3, 1, 0.0), 3);
    // Reached at 6 s (marked after that decision): from the next one the metric decides.
    assert_eq!(tick(&mut k, 6000, 3, 3, 0.0), 3);
    assert_eq!(tick(&mut k, 8000, 3, 3, 0.0), 1);
    // max_replicas caps it.
    let mut k = kpa("max_replicas = 4\ntarget = 1");
    assert_eq!(tick(&mut k, 2000, 1, 1, 100.0), 4);
}

#[test]
fn defaults_resolve_as_upstream_does() {
    let c = kpa("").cfg;
    assert_eq!((c.decider.target, c.decider.total), (70.0, 100.0));
    assert_eq!(
        (c.decider.stable_window_ms, c.panic_window_ms, c.tick_ms),
        (60_000, 6_000, 2_000)
    );
    assert_eq!(
        (
            c.decider.panic_threshold,
            c.decider.max_scale_up_rate,
            c.decider.max_scale_down_rate
        ),
        (2.0, 1000.0, 2.0)
    );
    assert_eq!(
        (c.scale_to_zero_grace_ms, c.decider.target_burst_capacity),
        (30_000, 200.0)
    );
    // containerConcurrency caps the target; RPS targets 200 × 0.7.
    let c = kpa("container_concurrency = 10\ntarget = 50").cfg;
    assert_eq!(c.decider.total, 10.0);
    let c = kpa("metric = \"rps\"").cfg;
    assert!((c.decider.target - 140.0).abs() < 1e-9);
    assert_eq!(kpa("").bounds.min, 0, "min-scale defaults to 0");
    for bad in [
        "stable_window_s = 5",
        "panic_threshold_percentage = 100",
        "max_scale_down_rate = 1",
        "target_burst_capacity = -2",
        "scale_to_zero_grace_period_s = 1",
    ] {
        let spec: PolicySpec = toml::from_str(&format!("kind = \"kpa\"\n{bad}")).unwrap();
        assert!(spec.validate().is_err(), "{bad}");
    }
}
