//! Live versus simulated: the simulator run on the trace a live run replayed, with the
//! live run's policy and parameters, and the two replica timelines compared.

use serde::Serialize;

use super::config::LiveConfig;
use crate::sim::{simulate, Fidelity, RunInput, SafetyNet, SimConfig, Timeline};

/// The simulator's configuration for a live configuration: one step per decision, the
/// replica's capacity per step, the measured start-up delay. The simulator's safety net is
/// off: it models the prototype's latency curve, not this service's.
pub fn sim_config(cfg: &LiveConfig, startup_delay_ms: u64) -> SimConfig {
    let step_ms = cfg.interval_ms();
    SimConfig {
        fidelity: Fidelity::Fluid,
        step_ms,
        decision_interval_ms: step_ms,
        startup_delay_ms,
        drain_ms: 0,
        capacity_per_replica: cfg.controller.capacity_per_replica_rps * cfg.controller.interval_s,
        initial_replicas: cfg.initial_replicas(),
        safety: SafetyNet {
            enabled: false,
            ..SafetyNet::default()
        },
        ..SimConfig::default()
    }
}

/// Simulates `demand` (requests per decision interval) with the live run's policy and a
/// forecast made the way the live controller makes it (rolled over the past).
pub fn simulate_live(
    cfg: &LiveConfig,
    demand: &[f64],
    startup_delay_ms: u64,
) -> anyhow::Result<Timeline> {
    let sc = sim_config(cfg, startup_delay_ms);
    let mut policy = cfg.policy.build();
    let mut forecaster = super::forecast::LiveForecaster::from_config(cfg)?;
    let table = match policy.forecast_lead() {
        None => None,
        Some(lead) => {
            let horizon = lead + 1;
            let mut point = Vec::new();
            let mut quantiles = Vec::new();
            for s in 0..demand.len() {
                // The decision at step s has seen steps before it; the first sees a
                // zero-demand start (its own forecaster: the rolled one first forecasts step 1).
                let t = if s == 0 {
                    super::forecast::LiveForecaster::from_config(cfg)?.forecast(
                        &[0.0],
                        0,
                        0,
                        horizon,
                        sc.step_ms,
                    )?
                } else {
                    forecaster.forecast(&demand[..s], 0, s, horizon, sc.step_ms)?
                };
                point.extend(t.point);
                quantiles.extend(t.quantiles);
            }
            Some(crate::forecast::ForecastTable {
                forecaster: forecaster.name().to_string(),
                first_step: 0,
                horizon,
                point,
                quantiles,
            })
        }
    };
    let out = simulate(
        &sc,
        RunInput {
            history: &[],
            missing: &[],
            replay: None,
            demand,
            first_step: 0,
            forecast: table.as_ref(),
            seed: 0,
        },
        policy.as_mut(),
    );
    Ok(out.timeline)
}

/// How the live and simulated replica timelines differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub decisions_compared: usize,
    pub interval_s: f64,
    pub live_peak: u32,
    pub sim_peak: u32,
    /// live − simulated peak.
    pub peak_difference: i64,
    /// First decision that asked for more than the starting count.
    pub live_first_scale_up: Option<usize>,
    pub sim_first_scale_up: Option<usize>,
    /// live − simulated, in decision intervals.
    pub scale_up_lag_intervals: Option<i64>,
    /// Largest lag (intervals) in first reaching each replica level up to the smaller peak.
    pub max_level_lag_intervals: i64,
    /// First decision after the peak at which the live run asked for fewer than its peak.
    pub live_first_scale_down_after_peak: Option<usize>,
    pub sim_first_scale_down_after_peak: Option<usize>,
    pub mean_abs_replica_difference: f64,
}

fn first(desired: &[u32], pred: impl Fn(u32) -> bool) -> Option<usize> {
    desired.iter().position(|&d| pred(d))
}

fn first_down_after_peak(desired: &[u32]) -> Option<usize> {
    let peak = desired.iter().copied().max()?;
    let at = desired.iter().position(|&d| d == peak)?;
    desired[at..].iter().position(|&d| d < peak).map(|i| at + i)
}

/// Compares desired-replica timelines, decision by decision (`initial`: the starting count).
pub fn compare(live: &[u32], sim: &[u32], initial: u32, interval_s: f64) -> Comparison {
    let n = live.len().min(sim.len());
    let (live, sim) = (&live[..n], &sim[..n]);
    let lp = live.iter().copied().max().unwrap_or(0);
    let sp = sim.iter().copied().max().unwrap_or(0);
    let lu = first(live, |d| d > initial);
    let su = first(sim, |d| d > initial);
    let max_level_lag = (initial + 1..=lp.min(sp))
        .filter_map(|lvl| {
            Some(first(live, |d| d >= lvl)? as i64 - first(sim, |d| d >= lvl)? as i64)
        })
        .map(i64::abs)
        .max()
        .unwrap_or(0);
    Comparison {
        decisions_compared: n,
        interval_s,
        live_peak: lp,
        sim_peak: sp,
        peak_difference: lp as i64 - sp as i64,
        live_first_scale_up: lu,
        sim_first_scale_up: su,
        scale_up_lag_intervals: lu.zip(su).map(|(a, b)| a as i64 - b as i64),
        max_level_lag_intervals: max_level_lag,
        live_first_scale_down_after_peak: first_down_after_peak(live),
        sim_first_scale_down_after_peak: first_down_after_peak(sim),
        mean_abs_replica_difference: if n == 0 {
            0.0
        } else {
            live.iter()
                .zip(sim)
                .map(|(&a, &b)| (a as f64 - b as f64).abs())
                .sum::<f64>()
                / n as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_timelines_agree() {
        let d = [1, 1, 2, 3, 4, 4, 3, 2, 1];
        let c = compare(&d, &d, 1, 15.0);
        assert_eq!(c.peak_difference, 0);
        assert_eq!(c.scale_up_lag_intervals, Some(0));
        assert_eq!(c.max_level_lag_intervals, 0);
        assert_eq!(c.live_first_scale_down_after_peak, Some(6));
        assert_eq!(c.mean_abs_replica_difference, 0.0);
    }

    #[test]
    fn lag_and_peak_differences_are_measured() {
        let live = [1, 1, 1, 2, 3, 5, 5, 2];
        let sim = [1, 1, 2, 3, 4, 4, 3, 1];
        let c = compare(&live, &sim, 1, 15.0);
        assert_eq!(c.peak_difference, 1);
        assert_eq!(c.scale_up_lag_intervals, Some(1));
        assert_eq!(c.max_level_lag_intervals, 1);
        assert!(c.mean_abs_replica_difference > 0.0);
    }

    #[test]
    fn simulated_ramp_rises_and_falls() {
        let cfg: LiveConfig = toml::from_str(
            r#"
            [service]
            name = "t"
            [controller]
            interval_s = 15
            capacity_per_replica_rps = 2
            [policy]
            kind = "simple_ceiling"
            min_replicas = 1
            max_replicas = 10
            "#,
        )
        .unwrap();
        // Requests per 15 s: 30 per replica.
        let demand: Vec<f64> = [10.0, 40.0, 70.0, 100.0, 130.0, 100.0, 70.0, 40.0, 10.0].to_vec();
        let tl = simulate_live(&cfg, &demand, 1000).unwrap();
        // Naive forecast: the decision at s provisions for demand[s-1].
        assert_eq!(tl.desired, vec![1, 1, 2, 3, 4, 5, 4, 3, 2]);
    }
}
