//! Golden cases from AWS's documentation of Application Auto Scaling: target tracking's
//! alarms (3 datapoints above the target, 15 below 90 % of it) and cooldowns, and the
//! step scaling example of the EC2 Auto Scaling user guide ("Step adjustments for step
//! scaling": 10 instances, threshold 50 %, +10 % and +30 % steps, −10 % and −30 %).

use super::*;
use crate::policy::spec::PolicySpec;
use crate::policy::testing::{observation, observed};
use crate::policy::PodTimes;
use crate::time::SimTime;

fn policy(toml: &str) -> Box<dyn ScalingPolicy> {
    let spec: PolicySpec = toml::from_str(toml).unwrap();
    spec.validate().unwrap();
    spec.build()
}

/// One period ending at minute `min` with `current` ready replicas at `cpu` % and
/// `requests` in the minute.
fn at(
    p: &mut dyn ScalingPolicy,
    min: u64,
    current: u32,
    cpu: f64,
    requests: f64,
    pods: &[PodTimes],
) -> u32 {
    let o = observed(requests, cpu, current as f64, 0.0, 60_000);
    p.decide(&observation(
        min * 60_000,
        60_000,
        current,
        current,
        100.0,
        Some(o),
        false,
        pods,
    ))
}

/// Minutes `from..=to` at a CPU of `cpu(min)`, replicas following at once.
fn run(
    p: &mut dyn ScalingPolicy,
    mut n: u32,
    from: u64,
    to: u64,
    cpu: impl Fn(u64) -> f64,
) -> Vec<(u64, u32)> {
    let mut ch = Vec::new();
    for m in from..=to {
        let next = at(p, m, n, cpu(m), 0.0, &[]);
        if next != n {
            ch.push((m, next));
            n = next;
        }
    }
    ch
}

#[test]
fn target_tracking_scales_out_after_three_datapoints_proportionally() {
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50");
    assert_eq!(p.decision_interval_ms(), Some(60_000));
    // 90 % against 50 %: the third datapoint above the target alarms; 4 · 90 / 50 = 7.2 → 8.
    assert_eq!(run(p.as_mut(), 4, 1, 3, |_| 90.0), vec![(3, 8)]);
    // Two datapoints above, one at the target: no alarm.
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50");
    assert_eq!(
        run(p.as_mut(), 4, 1, 6, |m| if m % 3 == 0 {
            50.0
        } else {
            90.0
        }),
        vec![]
    );
}

#[test]
fn target_tracking_scales_in_after_fifteen_datapoints_below_ninety_percent() {
    // 40 % < 45 %: at the 15th datapoint, 8 · 40 / 50 = 6.4 → 7; at 46 % never.
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50");
    assert_eq!(run(p.as_mut(), 8, 1, 15, |_| 40.0), vec![(15, 7)]);
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50");
    assert_eq!(run(p.as_mut(), 8, 1, 60, |_| 46.0), vec![]);
    // The alarm stays in ALARM, but the scale-in cooldown (300 s) spaces the scale-ins:
    // minutes 15, 20, 25 … (each 20 % → ceil(0.4 n)).
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50");
    assert_eq!(
        run(p.as_mut(), 20, 1, 26, |_| 20.0),
        vec![(15, 8), (20, 4), (25, 2)]
    );
    // DisableScaleIn leaves it alone.
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50\ndisable_scale_in = true");
    assert_eq!(run(p.as_mut(), 8, 1, 30, |_| 10.0), vec![]);
}

#[test]
fn a_scale_out_goes_ahead_through_a_scale_in_cooldown() {
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50");
    // Scale in at minute 15 (8 → 7), then a surge: scale out at its third datapoint (18),
    // inside the scale-in cooldown.
    let ch = run(p.as_mut(), 8, 1, 18, |m| if m <= 15 { 40.0 } else { 100.0 });
    assert_eq!(ch, vec![(15, 7), (18, 14)]);
}

#[test]
fn during_a_scale_out_cooldown_only_a_larger_count_scales_out() {
    let mut p = policy("kind = \"aws_target_tracking\"\ntarget = 50\nscale_out_cooldown_s = 300");
    // 4 → 8 at minute 3. The next alarm still reads 4 ready (the new ones starting) at
    // 60 %: ceil(4 · 1.2) = 5, below 8: nothing; at 150 %: 12 > 8: out again.
    assert_eq!(at(p.as_mut(), 1, 4, 90.0, 0.0, &[]), 4);
    assert_eq!(at(p.as_mut(), 2, 4, 90.0, 0.0, &[]), 4);
    assert_eq!(at(p.as_mut(), 3, 4, 90.0, 0.0, &[]), 8);
    let starting = |n: usize| -> Vec<PodTimes> {
        (0..n)
            .map(|i| PodTimes {
                created: SimTime(0),
                ready_at: (i < 4).then_some(SimTime(0)),
            })
            .collect()
    };
    let obs = |cpu: f64, pods: &[PodTimes], p: &mut dyn ScalingPolicy| {
        let o = observed(0.0, cpu, 4.0, 0.0, 60_000);
        p.decide(&observation(
            4 * 60_000,
            60_000,
            8,
            4,
            100.0,
            Some(o),
            false,
            pods,
        ))
    };
    let pods = starting(8);
    assert_eq!(obs(60.0, &pods, p.as_mut()), 8);
    assert_eq!(obs(150.0, &pods, p.as_mut()), 12);
}

#[test]
fn request_count_per_target_and_the_warm_up() {
    // 6000 requests a minute over 3 targets: 2000 per target against 1000 → 6.
    let mut p = policy(
        "kind = \"aws_target_tracking\"\nmetric = \"request_count_per_target\"\ntarget = 1000",
    );
    for m in 1..=2 {
        assert_eq!(at(p.as_mut(), m, 3, 0.0, 6000.0, &[]), 3);
    }
    assert_eq!(at(p.as_mut(), 3, 3, 0.0, 6000.0, &[]), 6);
    // With a 10 min warm-up, one of four targets created 2 min ago does not count:
    // 4000 over 3 → 1333 per target.
    let pods: Vec<PodTimes> = (0..4)
        .map(|i| PodTimes {
            created: SimTime(if i == 3 { 960_000 } else { 0 }),
            ready_at: Some(SimTime(990_000)),
        })
        .collect();
    let o = observed(4000.0, 0.0, 4.0, 0.0, 60_000);
    let obs = observation(1_080_000, 60_000, 4, 4, 100.0, Some(o), false, &pods);
    let point = datapoint(AwsMetric::RequestCountPerTarget, &obs, 600_000);
    assert!((point.unwrap() - 4000.0 / 3.0).abs() < 1e-9);
}

fn ec2_example(cooldown: f64) -> Box<dyn ScalingPolicy> {
    policy(&format!(
        r#"kind = "aws_step"
min_replicas = 1
max_replicas = 100
[scale_out]
threshold = 50
adjustment_type = "PercentChangeInCapacity"
cooldown_s = {cooldown}
steps = [{{ lower = 0, upper = 10, adjustment = 0 }}, {{ lower = 10, upper = 20, adjustment = 10 }}, {{ lower = 20, adjustment = 30 }}]
[scale_in]
threshold = 50
adjustment_type = "PercentChangeInCapacity"
cooldown_s = {cooldown}
steps = [{{ lower = -10, upper = 0, adjustment = 0 }}, {{ lower = -20, upper = -10, adjustment = -10 }}, {{ upper = -20, adjustment = -30 }}]
"#
    ))
}

#[test]
fn step_scaling_follows_the_user_guide_example() {
    let mut p = ec2_example(0.0);
    // 10 instances; at 60 % the second step adds 10 % of 10: 11.
    assert_eq!(at(p.as_mut(), 1, 10, 60.0, 0.0, &[]), 11);
    // Still 70 % with 11: the third step (breach 20, lower bound inclusive) adds 30 % of
    // 11 = 3.3, rounded down: 14.
    assert_eq!(at(p.as_mut(), 2, 11, 70.0, 0.0, &[]), 14);
    // Down to 40 %: breach −10, in (−20, −10]: −10 % of 14 = −1.4 → −1: 13.
    assert_eq!(at(p.as_mut(), 3, 14, 40.0, 0.0, &[]), 13);
    // 30 %: breach −20, in (−∞, −20]: −30 % of 13 = −3.9 → −3: 10.
    assert_eq!(at(p.as_mut(), 4, 13, 30.0, 0.0, &[]), 10);
    // Between 40 and 60 % (exclusive): the zero steps.
    assert_eq!(at(p.as_mut(), 5, 10, 55.0, 0.0, &[]), 10);
    assert_eq!(at(p.as_mut(), 6, 10, 45.0, 0.0, &[]), 10);
}

#[test]
fn step_cooldowns_count_the_last_scale_out_and_block_scale_ins() {
    let mut p = ec2_example(300.0);
    assert_eq!(at(p.as_mut(), 1, 10, 60.0, 0.0, &[]), 11);
    // Inside the cooldown the base is the 10 before it: 30 % of 10 = 3 → 13 (not 14).
    assert_eq!(at(p.as_mut(), 2, 11, 70.0, 0.0, &[]), 13);
    // A second +10 % from the base (11) is not above 13: nothing.
    assert_eq!(at(p.as_mut(), 3, 13, 60.0, 0.0, &[]), 13);
    // Scale in at 30 %, then blocked for 300 s, then again.
    assert_eq!(at(p.as_mut(), 10, 13, 30.0, 0.0, &[]), 10);
    assert_eq!(at(p.as_mut(), 11, 10, 30.0, 0.0, &[]), 10);
    assert_eq!(at(p.as_mut(), 15, 10, 30.0, 0.0, &[]), 7);
}

#[test]
fn percent_rounding_min_magnitude_and_alarm_datapoints() {
    // +10 % of 3 = 0.3 → 1; with MinAdjustmentMagnitude 2 → 2.
    let mk = |extra: &str| {
        policy(&format!(
            "kind = \"aws_step\"\n[scale_out]\nthreshold = 50\nadjustment_type = \"PercentChangeInCapacity\"\ncooldown_s = 0\nsteps = [{{ lower = 0, adjustment = 10 }}]\n{extra}"
        ))
    };
    assert_eq!(at(mk("").as_mut(), 1, 3, 60.0, 0.0, &[]), 4);
    assert_eq!(
        at(
            mk("min_adjustment_magnitude = 2").as_mut(),
            1,
            3,
            60.0,
            0.0,
            &[]
        ),
        5
    );
    // 2 of 3 datapoints: alarms on the second breach within three periods.
    let mut p = mk("evaluation_periods = 3\ndatapoints_to_alarm = 2");
    assert_eq!(at(p.as_mut(), 1, 3, 60.0, 0.0, &[]), 3);
    assert_eq!(at(p.as_mut(), 2, 3, 40.0, 0.0, &[]), 3);
    assert_eq!(at(p.as_mut(), 3, 3, 60.0, 0.0, &[]), 4);
    // ExactCapacity and ChangeInCapacity.
    let p = |t: &str, adj: i64| {
        policy(&format!("kind = \"aws_step\"\n[scale_out]\nthreshold = 50\nadjustment_type = \"{t}\"\nsteps = [{{ lower = 0, adjustment = {adj} }}]"))
    };
    assert_eq!(at(p("ExactCapacity", 9).as_mut(), 1, 3, 60.0, 0.0, &[]), 9);
    assert_eq!(
        at(p("ChangeInCapacity", 2).as_mut(), 1, 3, 60.0, 0.0, &[]),
        5
    );
    // Overlapping steps and no policy at all are refused.
    for bad in [
        "kind = \"aws_step\"",
        "kind = \"aws_step\"\n[scale_out]\nthreshold = 50\nsteps = [{ lower = 0, upper = 20, adjustment = 1 }, { lower = 10, adjustment = 2 }]",
        "kind = \"aws_target_tracking\"",
    ] {
        let spec: PolicySpec = toml::from_str(bad).unwrap();
        assert!(spec.validate().is_err(), "{bad}");
    }
}

// --- Predictive scaling ------------------------------------------------------------

/// A day of history at `per_min(hour)` requests a minute.
fn history(days: usize, per_min: impl Fn(usize) -> f64) -> Vec<f64> {
    (0..days * 1440).map(|m| per_min((m / 60) % 24)).collect()
}

fn predictive(extra: &str) -> Box<dyn ScalingPolicy> {
    policy(&format!(
        "kind = \"aws_predictive\"\nmax_replicas = 40\ntarget_tracking = {{ target = 50 }}\n{extra}"
    ))
}

/// A decision at `t_min` minutes into the run (at least 1: the first interval ends then)
/// with 2 replicas at 50 % CPU (the target: target tracking keeps the count) and 1000
/// requests in the minute before.
fn at_min(p: &mut dyn ScalingPolicy, t_min: u64) -> u32 {
    at(p, t_min, 2, 50.0, 1000.0, &[])
}

#[test]
fn predictive_scaling_schedules_the_hourly_forecast_as_a_minimum() {
    // Two days of history: 4200 requests a minute at hour 0 of each day, 700 otherwise.
    // The forecast for the next day's hour 0 is their mean, 4200 a minute: over 70 % of
    // 100 per replica, 60 replicas — capped at max_replicas 40 (HonorMaxCapacity); the
    // other hours 700 / 70 = 10.
    let pattern = |hr: usize| if hr == 0 { 4200.0 } else { 700.0 };
    let h = history(2, pattern);
    let mut p = predictive("");
    p.prime(&h, 60_000);
    // The run starts at hour 0 of day 3 and goes on with the same pattern, every minute
    // observed.
    let n: Vec<u32> = (1..=1440u64)
        .map(|m| {
            at(
                p.as_mut(),
                m,
                2,
                50.0,
                pattern(((m - 1) / 60 % 24) as usize),
                &[],
            )
        })
        .collect();
    let at_minute = |m: u64| n[m as usize - 1];
    assert_eq!(at_minute(1), 40);
    assert_eq!(at_minute(54), 40);
    // From 60 min it is hour 1's 10, and 5 min before hour 24 (SchedulingBufferTime) the
    // next day's hour 0 again.
    assert_eq!(at_minute(61), 10);
    assert_eq!(at_minute(24 * 60 - 6), 10);
    assert_eq!(at_minute(24 * 60 - 5), 40);
    // What it planned for: the forecast load (60 replicas at 70 %), before the cap.
    assert!(
        (p.last_planned() - 60.0 * 70.0).abs() < 1e-9,
        "{}",
        p.last_planned()
    );
}

#[test]
fn predictive_needs_a_day_of_history_and_forecast_only_does_not_act() {
    let mut p = predictive("");
    p.prime(&history(0, |_| 700.0)[..], 60_000);
    let short: Vec<f64> = vec![700.0; 1000];
    let mut q = predictive("");
    q.prime(&short, 60_000);
    assert_eq!(
        at_min(p.as_mut(), 1),
        2,
        "no history: target tracking alone"
    );
    assert_eq!(at_min(q.as_mut(), 1), 2, "under 24 h: no forecast");
    assert!(q.last_planned().is_nan());
    let mut f = predictive("mode = \"ForecastOnly\"");
    f.prime(&history(2, |_| 700.0), 60_000);
    assert_eq!(at_min(f.as_mut(), 1), 2);
    assert!(
        (f.last_planned() - 700.0).abs() < 1e-9,
        "the forecast is still made"
    );
}

#[test]
fn increase_max_capacity_lets_the_forecast_pass_the_maximum() {
    let h = history(2, |hr| if hr == 0 { 4200.0 } else { 700.0 });
    // Forecast 60 against max 40: IncreaseMaxCapacity with a 10 % buffer allows 66.
    let mut p = predictive(
        "max_capacity_breach_behavior = \"IncreaseMaxCapacity\"\nmax_capacity_buffer = 10",
    );
    p.prime(&h, 60_000);
    assert_eq!(at_min(p.as_mut(), 1), 60);
    // Weekly patterns from 14 days on: the same hour of the week over two weeks.
    let mut w = predictive("");
    let weekly: Vec<f64> = (0..14 * 1440)
        .map(|m| if m / 1440 % 7 == 0 { 1400.0 } else { 700.0 })
        .collect();
    w.prime(&weekly, 60_000);
    // Day 15 is the weekday of days 1 and 8 (1400 a minute → 20 replicas), not the
    // daily mean (1400·2/14 + 700·12/14 = 800 → 12).
    assert_eq!(at_min(w.as_mut(), 1), 20);
}
