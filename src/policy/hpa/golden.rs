//! Golden tests: behaviours of upstream Kubernetes' HPA (1.34), re-expressed. Each test
//! names where upstream pins the behaviour down: `horizontal.go` / `horizontal_test.go`
//! and `replica_calculator.go` / `replica_calculator_test.go` in
//! `pkg/controller/podautoscaler`, or the HPA task page of the Kubernetes docs
//! ("Horizontal Pod Autoscaling", sections "Algorithm details" and "Configurable scaling
//! behavior").

use super::config::{BehaviorSpec, MetricSpec};
use super::Hpa;
use crate::policy::spec::{PolicyKind, PolicySpec};
use crate::policy::{Observation, Observed, PodTimes, ScalingPolicy};
use crate::time::SimTime;

const CAP: f64 = 25.0; // requests per 60 s step one replica serves
const STEP_MS: u64 = 60_000;

fn hpa(toml_extra: &str) -> Hpa {
    let spec: PolicySpec = toml::from_str(&format!("kind = 'hpa'\n{toml_extra}")).unwrap();
    assert_eq!(spec.kind(), PolicyKind::Hpa);
    spec.validate().unwrap();
    Hpa::new("hpa".into(), spec.hpa_config().unwrap(), spec.bounds())
}

/// A reading over the last 15 s sync: busy share `util`, `demand` per step.
fn reading(util: f64, demand: f64, ready_mean: f64) -> Option<Observed> {
    Some(Observed {
        demand_per_step: demand,
        utilization: util,
        latency_p95_ms: 0.0,
        cpu_pct: 100.0 * util,
        ready_mean,
        concurrency: 0.0,
        window_ms: 15_000,
    })
}

fn at<'a>(
    t_s: u64,
    current: u32,
    ready: u32,
    observed: Option<Observed>,
    pods: &'a [PodTimes],
) -> Observation<'a> {
    Observation {
        tick: t_s / 15,
        now: SimTime(t_s * 1000),
        current,
        ready,
        pending: current - ready,
        capacity_per_replica: CAP,
        step_ms: STEP_MS,
        forecast: None,
        observed,
        metrics_failed: false,
        pods,
    }
}

/// Runs syncs every 15 s from `from_s` to `to_s` at a fixed CPU busy share, all pods ready,
/// and returns `(time, replicas)` at every change.
fn run_cpu(h: &mut Hpa, mut cur: u32, from_s: u64, to_s: u64, util: f64) -> (u32, Vec<(u64, u32)>) {
    let mut changes = Vec::new();
    for t in (from_s..=to_s).step_by(15) {
        let next = h.decide(&at(t, cur, cur, reading(util, 0.0, cur as f64), &[]));
        if next != cur {
            changes.push((t, next));
        }
        cur = next;
    }
    (cur, changes)
}

#[test]
fn deviation_1_a_recommendation_exactly_one_window_old_has_left_it() {
    // horizontal.go stabilizeRecommendation*: samples count while After(now − window); the
    // sample from 20 syncs ago is older than 300 s on a real controller.
    let mut h = hpa("");
    let (cur, _) = run_cpu(&mut h, 10, 0, 45, 0.8); // at target: recommendations of 10
    assert_eq!(cur, 10);
    let (_, changes) = run_cpu(&mut h, cur, 60, 600, 0.04);
    // The last recommendation of 10 was made at 45 s: it stops counting at 345 s.
    assert_eq!(changes, vec![(345, 1)]);
}

#[test]
fn deviation_2_the_initial_size_is_a_recommendation() {
    // horizontal_test.go TestScaleDownStabilizeInitialSize: the first reconcile records the
    // current count, so a deployment started at 5 that needs 3 holds for the window.
    let mut h = hpa("");
    // 5 pods at 48 % of an 80 % target: ceil(5 · 0.6) = 3.
    let (_, changes) = run_cpu(&mut h, 5, 0, 400, 0.48);
    assert_eq!(changes, vec![(300, 3)]);
}

#[test]
fn deviation_3_percent_scale_down_limits_are_truncated() {
    // Docs, "Scaling policies": 10 % per minute from 80 goes 80, 72, 64, 57, 51 (the
    // limit is an int32 conversion of 80 · 0.9 = 72, 72 · 0.9 = 64.8, …).
    let mut h = hpa(
        "[behavior.scaleDown]\nstabilizationWindowSeconds = 0\npolicies = [{ type = 'Percent', value = 10, periodSeconds = 60 }]",
    );
    let (_, changes) = run_cpu(&mut h, 80, 0, 240, 0.01);
    let counts: Vec<u32> = changes.iter().map(|c| c.1).collect();
    assert_eq!(counts, vec![72, 64, 57, 51, 45]);
    assert_eq!(changes[1].0, 60, "one change per 60 s period");
}

#[test]
fn deviation_4_a_period_counts_changes_in_both_directions() {
    // horizontal.go calculateScaleDownLimitWithBehaviors: the period starts at
    // current − added + removed. 4 → 8 at 0 s, then load vanishes: the 50 % limit of the
    // period applies to its starting 4 pods, so 8 → 2 at once.
    let mut h = hpa(
        "metric = 'request_rate'\n[behavior.scaleDown]\nstabilizationWindowSeconds = 0\npolicies = [{ type = 'Percent', value = 50, periodSeconds = 60 }]",
    );
    // 40 requests per pod per minute against 20 (80 % of 25): 8 pods.
    assert_eq!(h.decide(&at(0, 4, 4, reading(1.0, 160.0, 4.0), &[])), 8);
    assert_eq!(h.decide(&at(15, 8, 8, reading(0.0, 0.0, 8.0), &[])), 2);
}

#[test]
fn deviation_5_out_of_bounds_counts_are_clamped_without_metrics() {
    // horizontal.go reconcileAutoscaler: "Current number of replicas above Spec.MaxReplicas"
    // is acted on before any metric is read.
    let mut h = hpa("max_replicas = 5");
    assert_eq!(h.decide(&at(0, 8, 8, None, &[])), 5);
    let mut h = hpa("min_replicas = 3");
    assert_eq!(h.decide(&at(0, 1, 1, None, &[])), 3);
    // Inside the bounds and without metrics: hold.
    assert_eq!(h.decide(&at(15, 3, 3, None, &[])), 3);
}

fn pods(old: u32, young: u32, pending: u32, now_s: u64, created_s: u64) -> Vec<PodTimes> {
    let ready_long = PodTimes {
        created: SimTime::ZERO,
        ready_at: Some(SimTime::ZERO),
    };
    let ready_now = PodTimes {
        created: SimTime(created_s * 1000),
        ready_at: Some(SimTime((now_s - 5) * 1000)),
    };
    let starting = PodTimes {
        created: SimTime(created_s * 1000),
        ready_at: None,
    };
    let mut v = vec![ready_long; old as usize];
    v.extend(std::iter::repeat_n(ready_now, young as usize));
    v.extend(std::iter::repeat_n(starting, pending as usize));
    v
}

#[test]
fn deviation_6_pods_that_just_turned_ready_do_not_inflate_the_count() {
    // replica_calculator.go groupPods: inside the CPU initialisation period a pod whose
    // sample began before its readiness transition is unready; the usage ratio is over the
    // pods that produced it. 2 measured pods at 120 % of an 80 % target, 2 pods ready for
    // 5 s: counting the new pods at 0 % reverses the direction, so upstream holds 4.
    let mut h = hpa("");
    let p = pods(2, 2, 0, 600, 590);
    assert_eq!(h.decide(&at(600, 4, 4, reading(0.96, 0.0, 2.5), &p)), 4);
    // Had all 4 been measured at that load: ceil(4 · 1.2) = 5.
    let mut h = hpa("");
    let p = pods(4, 0, 0, 600, 0);
    assert_eq!(h.decide(&at(600, 4, 4, reading(0.96, 0.0, 4.0), &p)), 5);
}

#[test]
fn deviation_7_a_result_that_reverses_direction_is_refused() {
    // replica_calculator.go GetResourceReplicas: with unready pods on a scale-up, the
    // ratio is recomputed with them at 0 %; 3 ready pods at 1.2 × target and 2 starting
    // give 0.72 < 1, a reversal: keep 5 instead of cancelling a starting pod (5 → 4).
    let mut h = hpa("[behavior.scaleDown]\nstabilizationWindowSeconds = 0");
    let p = pods(3, 0, 2, 600, 590);
    assert_eq!(h.decide(&at(600, 5, 3, reading(0.96, 0.0, 3.0), &p)), 5);
}

#[test]
fn deviation_8_fifteen_second_syncs_inside_minute_steps() {
    // Docs: the controller syncs every 15 s (--horizontal-pod-autoscaler-sync-period).
    // Without behavior the scale-up limit max(2·current, 4) applies per sync, so 1 → 100
    // replicas takes 6 syncs: 90 s, inside the second minute of a one-minute trace.
    use crate::sim::{fluid, RunInput, SafetyNet, SimConfig};
    let cfg = SimConfig {
        initial_replicas: 1,
        safety: SafetyNet {
            enabled: false,
            ..SafetyNet::default()
        },
        ..SimConfig::default()
    };
    let demand = vec![2000.0; 4]; // 100 replicas at 80 % of 25 per minute
    let spec: PolicySpec = toml::from_str("kind = 'hpa'\nmetric = 'request_rate'").unwrap();
    let mut p = spec.build();
    assert_eq!(p.decision_interval_ms(), Some(15_000));
    let tl = fluid::run(
        &cfg,
        RunInput {
            history: &[],
            missing: &[],
            replay: None,
            demand: &demand,
            first_step: 0,
            forecast: None,
            seed: 0,
        },
        p.as_mut(),
    );
    // Syncs at 15, 30, 45 s: 4, 8, 16; at 60 s (step 1 starts): 32; 75, 90 s: 64, 100.
    assert_eq!(tl.desired, vec![1, 32, 100, 100]);
    // Capacity follows inside the step: minute 0 had 1 replica for 15 s, 4, 8, 16.
    assert!((tl.ready_effective[0] - (1.0 + 4.0 + 8.0 + 16.0) / 4.0).abs() < 1e-9);
}

#[test]
fn documented_example_ratio_of_current_to_desired_value() {
    // Docs, "Algorithm details": 200m against a target of 100m doubles the replicas, 50m
    // halves them (Pods metric, AverageValue target; no behavior, window 0 for the check).
    let mut h = hpa(
        "downscale_stabilization_s = 0\nmetrics = [{ type = 'Pods', pods = { metric = { name = 'rps' }, target = { type = 'AverageValue', averageValue = '100m' } } }]",
    );
    // 100m per second is 6 requests per minute per pod; 4 pods at 12 and at 3 per minute.
    assert_eq!(h.decide(&at(0, 4, 4, reading(0.5, 48.0, 4.0), &[])), 8);
    assert_eq!(h.decide(&at(15, 4, 4, reading(0.5, 12.0, 4.0), &[])), 2);
}

#[test]
fn documented_example_tolerance_band() {
    // Docs: no action while the ratio is within 0.1 of 1.0.
    let mut h = hpa("");
    assert_eq!(h.decide(&at(0, 4, 4, reading(0.86, 0.0, 4.0), &[])), 4); // 86/80 = 1.075
    assert_eq!(h.decide(&at(15, 4, 4, reading(0.92, 0.0, 4.0), &[])), 5); // 1.15
}

#[test]
fn utilization_is_whole_percent() {
    // metrics/utilization.go GetResourceUtilizationRatio: int32(total · 100 / requests).
    // A busy share of 0.8899 is 88 %, 88/80 = 1.1 (inside the band); unrounded it is
    // 1.112 and would scale.
    let mut h = hpa("");
    assert_eq!(
        h.decide(&at(0, 10, 10, reading(0.8899, 0.0, 10.0), &[])),
        10
    );
}

#[test]
fn no_behavior_scale_up_is_capped_at_twice_current_or_four() {
    // horizontal.go calculateScaleUpLimit: max(2 · current, 4) per sync without behavior.
    let mut h = hpa("metric = 'request_rate'");
    let o = |cur: u32| reading(1.0, 1000.0, cur as f64);
    assert_eq!(h.decide(&at(0, 1, 1, o(1), &[])), 4);
    let mut h = hpa("metric = 'request_rate'");
    assert_eq!(h.decide(&at(0, 6, 6, o(6), &[])), 12);
}

#[test]
fn behavior_default_policies_allow_four_pods_or_double_per_15_s() {
    // v2 defaults (GenerateHPAScaleUpRules): Pods 4 and Percent 100 per 15 s, Max.
    let mut h = hpa("metric = 'request_rate'\n[behavior.scaleUp]\nstabilizationWindowSeconds = 0");
    let o = |cur: u32| reading(1.0, 1000.0, cur as f64);
    assert_eq!(h.decide(&at(0, 1, 1, o(1), &[])), 5); // max(1 + 4, 2)
    assert_eq!(h.decide(&at(15, 5, 5, o(5), &[])), 10); // new period: max(9, 10)
}

#[test]
fn select_policy_min_max_and_disabled() {
    // Docs, "Scaling policies" / horizontal_test.go TestScaleUpOneMetricEmpty…: Max takes
    // the policy allowing the most change, Min the least, Disabled none.
    let rules = "policies = [{ type = 'Pods', value = 4, periodSeconds = 60 }, { type = 'Percent', value = 100, periodSeconds = 60 }]";
    let o = reading(1.0, 10_000.0, 10.0);
    let mut max = hpa(&format!(
        "metric = 'request_rate'\n[behavior.scaleUp]\n{rules}"
    ));
    assert_eq!(max.decide(&at(0, 10, 10, o, &[])), 20);
    let mut min = hpa(&format!(
        "metric = 'request_rate'\n[behavior.scaleUp]\nselectPolicy = 'Min'\n{rules}"
    ));
    assert_eq!(min.decide(&at(0, 10, 10, o, &[])), 14);
    let mut off = hpa("metric = 'request_rate'\n[behavior.scaleDown]\nselectPolicy = 'Disabled'\nstabilizationWindowSeconds = 0");
    assert_eq!(off.decide(&at(0, 10, 10, reading(0.0, 1.0, 10.0), &[])), 10);
}

#[test]
fn pods_and_percent_scale_down_policies_with_select_max() {
    // Docs: Pods 4 and Percent 10 per 60 s — at 80 pods the percent policy allows more (8),
    // under 40 the pods policy does (4).
    let b = "[behavior.scaleDown]\nstabilizationWindowSeconds = 0\npolicies = [{ type = 'Pods', value = 4, periodSeconds = 60 }, { type = 'Percent', value = 10, periodSeconds = 60 }]";
    let mut h = hpa(b);
    assert_eq!(h.decide(&at(0, 80, 80, reading(0.01, 0.0, 80.0), &[])), 72);
    let mut h = hpa(b);
    assert_eq!(h.decide(&at(0, 30, 30, reading(0.01, 0.0, 30.0), &[])), 26);
}

#[test]
fn policies_with_different_periods_each_count_their_own_period() {
    // Scale-down by at most 1 pod per 15 s and 2 per 60 s (Min: the tighter one applies).
    let mut h = hpa("[behavior.scaleDown]\nstabilizationWindowSeconds = 0\nselectPolicy = 'Min'\npolicies = [{ type = 'Pods', value = 1, periodSeconds = 15 }, { type = 'Pods', value = 2, periodSeconds = 60 }]");
    let (_, changes) = run_cpu(&mut h, 10, 0, 120, 0.01);
    assert_eq!(changes, vec![(0, 9), (15, 8), (60, 7), (75, 6), (120, 5)]);
}

#[test]
fn per_direction_tolerance_kep_4951() {
    // KEP-4951 (1.33+): behavior.scaleUp.tolerance / scaleDown.tolerance replace the
    // controller's 0.1 in their direction.
    let mut h = hpa("[behavior.scaleUp]\ntolerance = 0.01\n[behavior.scaleDown]\ntolerance = 0.5\nstabilizationWindowSeconds = 0");
    assert_eq!(h.decide(&at(0, 10, 10, reading(0.84, 0.0, 10.0), &[])), 11); // 1.05 > 1.01
    assert_eq!(h.decide(&at(15, 10, 10, reading(0.48, 0.0, 10.0), &[])), 10); // 0.6 ≥ 0.5
}

#[test]
fn several_metrics_the_highest_proposal_wins() {
    // horizontal.go computeReplicasForMetrics: the maximum over metrics.
    let mut h = hpa("metrics = [{ type = 'Resource', resource = { name = 'cpu', target = { type = 'Utilization', averageUtilization = 80 } } }, { type = 'External', external = { metric = { name = 'rps' }, target = { type = 'AverageValue', averageValue = 1 } } }]");
    // CPU at 40 % proposes 3 of 6; 420 requests per minute is 7 pods at 1 per second.
    assert_eq!(h.decide(&at(0, 6, 6, reading(0.4, 420.0, 6.0), &[])), 7);
}

#[test]
fn missing_pods_count_at_target_on_a_scale_down() {
    // replica_calculator.go calcPlainMetricReplicas: pods without a measurement (here: ready
    // 5 s ago, no rate over the window yet) count at the target on a scale-down. 3 measured
    // pods at half the target and 1 missing: ceil((3 · 0.5 + 1) / 4 · 4) = 3, not 2.
    let metric = "downscale_stabilization_s = 0\nmetrics = [{ type = 'Pods', pods = { metric = { name = 'rps' }, target = { type = 'AverageValue', averageValue = 1 } } }]";
    let mut h = hpa(metric);
    let p = pods(3, 1, 0, 600, 590);
    assert_eq!(h.decide(&at(600, 4, 4, reading(0.2, 90.0, 3.0), &p)), 3);
    let mut h = hpa(metric);
    let p = pods(4, 0, 0, 600, 0);
    assert_eq!(h.decide(&at(600, 4, 4, reading(0.2, 120.0, 4.0), &p)), 2);
}

#[test]
fn cpu_initialization_period_decides_whether_a_young_sample_counts() {
    // groupPods: past --horizontal-pod-autoscaler-cpu-initialization-period (300 s) a ready
    // pod's sample counts even if it became ready inside the window.
    let mut h = hpa("");
    let p = pods(2, 2, 0, 600, 200); // created 400 s ago, ready 5 s ago
    assert_eq!(h.decide(&at(600, 4, 4, reading(0.96, 0.0, 2.5), &p)), 5);
    let mut h = hpa("cpu_initialization_period_s = 600");
    assert_eq!(h.decide(&at(600, 4, 4, reading(0.96, 0.0, 2.5), &p)), 4);
}

#[test]
fn cpu_limits_above_requests_let_utilization_pass_100_percent() {
    // Utilisation is of the request: with limits at 2 × requests a saturated pod is at
    // 200 %, 2.5 × an 80 % target.
    let mut h = hpa("cpu_limit_ratio = 2.0");
    assert_eq!(h.decide(&at(0, 4, 4, reading(1.0, 0.0, 4.0), &[])), 8); // max(2·4, 4)
    let mut h = hpa("");
    assert_eq!(h.decide(&at(0, 4, 4, reading(1.0, 0.0, 4.0), &[])), 5); // 100/80
}

#[test]
fn manifest_shaped_tables_parse_with_upstream_names() {
    let b: BehaviorSpec = toml::from_str(
        "[scaleDown]\nstabilizationWindowSeconds = 60\nselectPolicy = 'Min'\npolicies = [{ type = 'Pods', value = 1, periodSeconds = 30 }]",
    )
    .unwrap();
    assert_eq!(b.scale_down.unwrap().stabilization_window_seconds, Some(60));
    let bad = toml::from_str::<MetricSpec>("type = 'Pods'\n[pods]\nmetric = { name = 'x' }\ntarget = { type = 'AverageValue', averageValu = 1 }");
    assert!(bad.unwrap_err().to_string().contains("averageValu"));
}
