//! Golden cases from KEDA's documentation of ScaledObject (activation, cooldown, initial
//! cooldown, idle replicas, fallback) and the behaviours its executor and fallback tests
//! pin down (`scale_scaledobjects_test.go`, `fallback_test.go`), re-expressed.

use super::*;
use crate::policy::spec::{PolicyParams, PolicySpec};
use crate::policy::testing::{observation, observed};

fn keda(extra: &str) -> Keda {
    let spec: PolicySpec = toml::from_str(&format!("kind = \"keda\"\n{extra}")).unwrap();
    spec.validate().unwrap();
    let PolicyParams::Keda(p) = &spec.params else {
        unreachable!()
    };
    let k = p.keda("keda".into(), spec.bounds());
    assert_eq!(k.decision_interval_ms(), Some(15_000));
    k
}

/// One decision at `t_s` with `current` ready replicas and the trigger reading `rps`
/// requests per second (`None`: the metric fails).
fn at(k: &mut Keda, t_s: u64, current: u32, rps: Option<f64>) -> u32 {
    let o = rps.map(|r| observed(r * 60.0, 50.0, current as f64, 0.0, 15_000));
    k.decide(&observation(
        t_s * 1000,
        60_000,
        current,
        current,
        100.0,
        o,
        rps.is_none(),
        &[],
    ))
}

/// Decisions every 15 s over `[from_s, to_s]`, replicas following at once; the count
/// and its changes.
fn run(
    k: &mut Keda,
    mut n: u32,
    from_s: u64,
    to_s: u64,
    rps: impl Fn(u64) -> Option<f64>,
) -> (u32, Vec<(u64, u32)>) {
    let mut changes = Vec::new();
    for t in (from_s..=to_s).step_by(15) {
        let next = at(k, t, n, rps(t));
        if next != n {
            changes.push((t, next));
            n = next;
        }
    }
    (n, changes)
}

#[test]
fn activation_is_strictly_above_the_threshold_and_polled() {
    let mut k = keda("threshold = 10\nactivation_threshold = 5");
    // At zero, 5 rps is not active; 5.5 is, at the next poll (every 30 s).
    let (n, ch) = run(&mut k, 0, 0, 120, |t| Some(if t < 45 { 5.0 } else { 5.5 }));
    assert_eq!(n, 1);
    assert_eq!(
        ch,
        vec![(60, 1)],
        "polls at 0, 30, 60 s: the first active one"
    );
}

#[test]
fn scale_from_zero_goes_to_min_replicas_and_the_hpa_takes_over() {
    // minReplicaCount 0: to 1; then the HPA: 100 rps at 10 per pod asks for 10, at most
    // max(2 · current, 4) per sync without a `behavior` (upstream's legacy limit): 4, 8, 10.
    let mut k = keda("threshold = 10");
    let (n, ch) = run(&mut k, 0, 0, 60, |_| Some(100.0));
    assert_eq!((n, ch), (10, vec![(0, 4), (15, 8), (30, 10)]));
    // maxReplicaCount caps it.
    let mut k = keda("threshold = 10\nmax_replicas = 4");
    assert_eq!(at(&mut k, 0, 0, Some(100.0)), 4);
    // idle 0 under min 3: from idle to 3, held there by the HPA's minReplicas.
    let mut k = keda("threshold = 10\nmin_replicas = 3\nidle_replica_count = 0");
    assert_eq!(at(&mut k, 0, 0, Some(1.0)), 3);
}

#[test]
fn cooldown_runs_from_the_last_active_poll() {
    // Active until 100 s (last active poll at 90 s); zero once 90 + 300 < now: at 420 s.
    let mut k = keda("threshold = 10");
    let (n, ch) = run(&mut k, 1, 0, 600, |t| {
        Some(if t <= 100 { 10.0 } else { 0.0 })
    });
    assert_eq!(n, 0);
    assert_eq!(ch.last(), Some(&(420, 0)), "{ch:?}");
    // The HPA alone never goes below one replica before that.
    assert!(ch[..ch.len() - 1].iter().all(|&(_, r)| r >= 1));
    // A shorter cooldown (60 s): 90 + 60 < 180.
    let mut k = keda("threshold = 10\ncooldown_period_s = 60");
    let (_, ch) = run(&mut k, 1, 0, 600, |t| {
        Some(if t <= 100 { 10.0 } else { 0.0 })
    });
    assert_eq!(ch.last(), Some(&(180, 0)));
}

#[test]
fn initial_cooldown_holds_a_never_active_object() {
    // Never active, created at 0: zero at the first poll after the initial cooldown
    // (0 s by default: the poll at 30 s; 120 s: the poll at 150 s).
    let mut k = keda("threshold = 10");
    let (_, ch) = run(&mut k, 2, 0, 300, |_| Some(0.0));
    assert_eq!(ch.last(), Some(&(30, 0)), "{ch:?}");
    let mut k = keda("threshold = 10\ninitial_cooldown_period_s = 120");
    let (_, ch) = run(&mut k, 2, 0, 300, |_| Some(0.0));
    assert_eq!(ch.last(), Some(&(150, 0)), "{ch:?}");
}

#[test]
fn idle_replicas_replace_zero_under_a_minimum() {
    let mut k =
        keda("threshold = 10\nmin_replicas = 2\nidle_replica_count = 0\ncooldown_period_s = 30");
    let (n, ch) = run(&mut k, 2, 0, 300, |t| Some(if t <= 60 { 5.0 } else { 0.0 }));
    assert_eq!(n, 0);
    assert_eq!(ch, vec![(120, 0)], "last active poll 60 s, 60 + 30 < 120");
    for bad in [
        "idle_replica_count = 1\nmin_replicas = 2",
        "idle_replica_count = 0",
    ] {
        let spec: PolicySpec =
            toml::from_str(&format!("kind = \"keda\"\nthreshold = 10\n{bad}")).unwrap();
        assert!(spec.validate().is_err(), "{bad}");
    }
}

/// Eight replicas at 80 rps (threshold 10), then the metric fails from 60 s on.
fn outage(fallback: &str) -> Vec<(u64, u32)> {
    let mut k = keda(&format!("threshold = 10\n{fallback}"));
    let (_, ch) = run(
        &mut k,
        8,
        0,
        1200,
        |t| if t < 60 { Some(80.0) } else { None },
    );
    ch
}

#[test]
fn fallback_after_more_failures_than_the_threshold() {
    // No fallback: the HPA holds (missing metrics) and KEDA does not scale to zero on an
    // error, however long it lasts.
    assert_eq!(outage(""), vec![]);
    // Failures at 60, 75, 90 s (three: not more than the threshold), the fourth at 105 s
    // falls back: static → 6 replicas, a scale-down the HPA stabilises over 300 s from
    // its last recommendation of 8 (45 s): at 345 s.
    let f = |b: &str| format!("fallback = {{ failureThreshold = 3, replicas = 6{b} }}");
    assert_eq!(outage(&f("")), vec![(345, 6)]);
    assert_eq!(outage(&f(", behavior = \"static\"")), vec![(345, 6)]);
    // currentReplicas: keep 8; IfHigher: max(8, 6) = 8; IfLower: min(8, 6) = 6.
    assert_eq!(outage(&f(", behavior = \"currentReplicas\"")), vec![]);
    assert_eq!(
        outage(&f(", behavior = \"currentReplicasIfHigher\"")),
        vec![]
    );
    assert_eq!(
        outage(&f(", behavior = \"currentReplicasIfLower\"")),
        vec![(345, 6)]
    );
    // IfHigher above the current count: 12, a scale-up, at once.
    let f12 = "fallback = { failureThreshold = 3, replicas = 12, behavior = \"currentReplicasIfHigher\" }";
    assert_eq!(outage(f12), vec![(105, 12)]);
    // failureThreshold 0: the first failure (60 s) falls back; 8 → 2 after stabilisation.
    assert_eq!(
        outage("fallback = { failureThreshold = 0, replicas = 2 }"),
        vec![(345, 2)]
    );
    // With a behavior that does not stabilise scale-down, the fallback shows at once.
    let fast = "behavior = { scaleDown = { stabilizationWindowSeconds = 0 } }\n";
    assert_eq!(outage(&format!("{fast}{}", f(""))), vec![(105, 6)]);
    assert_eq!(
        outage(&format!(
            "{fast}fallback = {{ failureThreshold = 0, replicas = 2 }}"
        )),
        vec![(60, 2)]
    );
}

#[test]
fn recovery_resets_the_failure_count() {
    let mut k = keda("threshold = 10\nfallback = { failureThreshold = 2, replicas = 3 }");
    // Two failures, one good reading, two failures: never more than 2 in a row.
    let bad = |t: u64| matches!(t, 15 | 30 | 60 | 75);
    let (n, ch) = run(&mut k, 4, 0, 90, |t| if bad(t) { None } else { Some(40.0) });
    assert_eq!((n, ch), (4, vec![]));
}

#[test]
fn keys_are_checked() {
    for bad in [
        "",
        "threshold = 0",
        "threshold = 10\nactivation_threshold = -1",
        "threshold = 10\nmetric_type = \"Value\"\nfallback = { failureThreshold = 1, replicas = 2 }",
    ] {
        let spec: PolicySpec = toml::from_str(&format!("kind = \"keda\"\n{bad}")).unwrap();
        assert!(spec.validate().is_err(), "{bad:?}");
    }
    let spec: PolicySpec = toml::from_str("kind = \"keda\"\nthreshold = 5").unwrap();
    assert_eq!((spec.bounds().min, spec.bounds().max), (0, 100));
}
