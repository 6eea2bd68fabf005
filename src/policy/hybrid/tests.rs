//! The policy's behaviours as the paper describes them (§4.2 and Figure 14's cases): a
//! timer-like function pre-warmed just before its period, the standard keep-alive while
//! data is short or spread out, and the forecast for idle times beyond the range.

use super::*;
use crate::policy::testing::{observation, observed};
use crate::policy::PolicySpec;

fn hybrid(extra: &str) -> Box<dyn ScalingPolicy> {
    let spec: PolicySpec =
        toml::from_str(&format!("kind = \"hybrid_histogram\"\n{extra}")).unwrap();
    spec.validate().unwrap();
    spec.build()
}

/// Minute-long decisions over `minutes`, invoked in the minutes `invoked` says; returns
/// the count decided at the end of each minute.
fn run(p: &mut dyn ScalingPolicy, minutes: u64, invoked: impl Fn(u64) -> bool) -> Vec<u32> {
    (0..minutes)
        .map(|m| {
            let o = observed(if invoked(m) { 1.0 } else { 0.0 }, 0.0, 0.0, 0.0, MIN_MS);
            p.decide(&observation(
                (m + 1) * MIN_MS,
                MIN_MS,
                0,
                0,
                10.0,
                Some(o),
                false,
                &[],
            ))
        })
        .collect()
}

#[test]
fn a_timer_function_is_prewarmed_just_before_its_period() {
    // Invoked in every 30th minute: idle times of 29 min. After ten of them the histogram
    // holds them in bin 29: pre-warm floor(29 · 0.9) = 26 min, loaded until
    // ceil(30 · 1.1) = 33 min after the last invocation ended.
    let mut p = hybrid("");
    let n = run(p.as_mut(), 30 * 14, |m| m % 30 == 0);
    // The first idle times run under the standard 4 h keep-alive: loaded throughout.
    assert!(n[1..30].iter().all(|&r| r == 1));
    // From the 11th invocation (minute 300; ten idle times recorded) the windows hold:
    // unloaded after it, loaded again from 26 to 33 min after minute 300 ended (301).
    let after = &n[300..331];
    for (k, &r) in after.iter().enumerate() {
        let m = 300 + k as u64;
        let idle = (m + 1) - 301;
        let want = if m == 300 || m == 330 {
            1
        } else {
            ((26..33).contains(&idle)) as u32
        };
        assert_eq!(r, want, "minute {m} (idle {idle} min)");
    }
    // The next invocation (minute 330) found it loaded: no cold start.
    assert_eq!(n[329], 1);
}

#[test]
fn spread_out_idle_times_keep_the_standard_keep_alive() {
    // Idle times spread over 1..60 min in turn: the bin counts' CV is below 2.
    let starts: Vec<u64> = (0..80u64)
        .scan(0, |t, k| {
            *t += 1 + (k * 37 % 60);
            Some(*t)
        })
        .collect();
    let mut p = hybrid("");
    let last = *starts.last().unwrap();
    let n = run(p.as_mut(), last + 300, |m| starts.contains(&m));
    // After the last invocation: loaded for 4 h, then unloaded.
    assert!(n[(last + 1) as usize..(last + 240) as usize]
        .iter()
        .all(|&r| r == 1));
    assert_eq!(n[(last + 240) as usize], 0);
}

#[test]
fn idle_times_beyond_the_range_use_the_forecast() {
    // Invoked every 6 h (idle 359 min, beyond the 240 min range): ARIMA(1,1,0) on a
    // constant series predicts 359 → pre-warm 85 % (305 min), keep alive 30 % (108 min).
    let mut p = hybrid("");
    let n = run(p.as_mut(), 360 * 13, |m| m % 360 == 0);
    let start = 360 * 11 + 1; // end of the 12th invocation's minute
    for idle in [1u64, 304, 305, 358] {
        let m = (start + idle) as usize - 1;
        let want = (305..413).contains(&idle) as u32;
        assert_eq!(n[m], want, "idle {idle} min");
    }
    // The windows themselves: the keep-alive runs to 305 + 108 min.
    let mut h = HybridHistogram::new(
        "h".into(),
        Bounds { min: 0, max: 10 },
        HybridConfig::default(),
    );
    for k in 0..12 {
        h.record_idle(359 * MIN_MS + 1000);
        let w = h.windows();
        assert_eq!(
            w.mode,
            if k < 9 {
                Mode::Standard
            } else {
                Mode::Forecast
            },
            "{k}"
        );
    }
    assert_eq!(
        h.windows(),
        Windows {
            prewarm_ms: 305 * MIN_MS,
            keep_alive_ms: 108 * MIN_MS,
            mode: Mode::Forecast
        }
    );
}

#[test]
fn arima_110_forecasts() {
    // A constant series: itself; a linear trend: the next point on it.
    assert_eq!(arima_110_next(&[5.0, 5.0, 5.0, 5.0, 5.0]), 5.0);
    assert!((arima_110_next(&[1.0, 2.0, 3.0, 4.0, 5.0]) - 6.0).abs() < 1e-9);
    // Alternating differences (φ = −1, clamped to −0.99): the next difference flips.
    let x = [0.0, 2.0, 0.0, 2.0, 0.0, 2.0];
    assert!(arima_110_next(&x) < 1.0);
    assert_eq!(arima_110_next(&[3.0, 5.0]), 4.0, "short: the mean");
}

#[test]
fn keys_and_defaults() {
    let spec: PolicySpec = toml::from_str("kind = \"hybrid_histogram\"").unwrap();
    assert_eq!(spec.bounds().min, 0);
    assert_eq!(hybrid("").decision_interval_ms(), Some(60_000));
    for bad in [
        "head_percentile = 99\ntail_percentile = 5",
        "range_minutes = 0",
        "margin = 1.5",
    ] {
        let spec: PolicySpec =
            toml::from_str(&format!("kind = \"hybrid_histogram\"\n{bad}")).unwrap();
        assert!(spec.validate().is_err(), "{bad}");
    }
}
