//! Live versus simulated: the simulator run on the trace a live run replayed, with the
//! live run's policy and parameters — its twin — and the two compared: replica timelines
//! decision by decision and, from the per-request logs, latency and errors.
//!
//! The twin runs in request mode with the live replica's service (`[service]`:
//! service time, concurrency, queue) unless a calibration says otherwise, and reads
//! demand through the metrics pipeline the live controller reads it through
//! (`[prometheus].scrape_interval_s`, one decision interval's increase; see
//! [`crate::sim::measure`]). Where `sim load`'s request log is given, the twin replays
//! its arrivals exactly.

use serde::Serialize;

use super::config::LiveConfig;
use crate::service::load::{summarize, LoadSummary, Outcome};
use crate::service::service_time::ServiceTimeDist;
use crate::sim::measure::{measured_series, Meter};
use crate::sim::{
    simulate, Fidelity, Measurement, Replay, RequestConfig, RunInput, SafetyNet, ServiceTime,
    SimConfig, Timeline,
};

/// How the twin is set up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwinSettings {
    pub fidelity: Fidelity,
    pub startup_delay_ms: u64,
    #[serde(serialize_with = "service_label")]
    pub service: ServiceTime,
    pub mean_ms: Option<f64>,
    pub concurrency: u32,
    pub queue_limit: usize,
    #[serde(serialize_with = "measurement_label")]
    pub measurement: Option<Measurement>,
}

fn service_label<S: serde::Serializer>(s: &ServiceTime, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&match s {
        ServiceTime::Empirical(e) => format!(
            "empirical ({} values, mean {:.1} ms)",
            e.values().len(),
            e.mean_ms()
        ),
        other => format!("{other:?}").to_lowercase(),
    })
}

fn measurement_label<S: serde::Serializer>(
    m: &Option<Measurement>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&match m {
        None => "exact".into(),
        Some(m) => format!(
            "scrape every {} s from {} s, window {}, delay {} s",
            m.scrape_ms as f64 / 1000.0,
            m.offset_ms as f64 / 1000.0,
            m.window_ms
                .map_or("the decision interval".into(), |w| format!(
                    "{} s",
                    w as f64 / 1000.0
                )),
            m.delay_ms as f64 / 1000.0
        ),
    })
}

impl TwinSettings {
    /// The live replica and the live controller's metrics pipeline, as configured.
    pub fn from_config(cfg: &LiveConfig, startup_delay_ms: u64) -> TwinSettings {
        let (service, mean_ms) = match cfg.service.service_time {
            ServiceTimeDist::Uniform { min_ms, max_ms } => {
                (ServiceTime::Uniform { min_ms, max_ms }, None)
            }
            ServiceTimeDist::Exponential { mean_ms } => (ServiceTime::Exponential, Some(mean_ms)),
            ServiceTimeDist::Deterministic { ms } => (ServiceTime::Deterministic, Some(ms)),
            ServiceTimeDist::Lognormal { mean_ms, cv } => {
                (ServiceTime::Lognormal { cv }, Some(mean_ms))
            }
        };
        TwinSettings {
            fidelity: Fidelity::Requests,
            startup_delay_ms,
            service,
            mean_ms,
            concurrency: cfg.service.concurrency as u32,
            // Each live replica queues its own; the simulator has one queue in front.
            queue_limit: cfg.service.queue * cfg.policy.bounds().max.max(1) as usize,
            measurement: Some(Measurement {
                scrape_ms: cfg.prometheus.scrape_ms(),
                offset_ms: 0,
                window_ms: None,
                delay_ms: 0,
            }),
        }
    }
}

/// The simulator's configuration for a live configuration: one step per decision, the
/// replica's capacity per step, the twin's service and measurement. The simulator's
/// safety net is off: it models the prototype's latency curve, not this service's.
pub fn sim_config(cfg: &LiveConfig, twin: &TwinSettings) -> SimConfig {
    let step_ms = cfg.interval_ms();
    SimConfig {
        fidelity: twin.fidelity,
        step_ms,
        decision_interval_ms: step_ms,
        startup_delay_ms: twin.startup_delay_ms,
        drain_ms: 0,
        capacity_per_replica: cfg.controller.capacity_per_replica_rps * cfg.controller.interval_s,
        initial_replicas: cfg.initial_replicas(),
        safety: SafetyNet {
            enabled: false,
            ..SafetyNet::default()
        },
        requests: RequestConfig {
            service: twin.service.clone(),
            mean_ms: twin.mean_ms,
            concurrency: twin.concurrency,
            queue_limit: twin.queue_limit,
            slo_ms: f64::INFINITY,
            record: true,
            ..RequestConfig::default()
        },
        measurement: twin.measurement,
        ..SimConfig::default()
    }
}

/// A simulated run of a live configuration.
#[derive(Debug, Clone)]
pub struct Twin {
    pub timeline: Timeline,
    /// What the controller read as demand at each decision.
    pub readings: Vec<f64>,
    /// Every request, as `sim load` logs them (empty in fluid mode).
    pub requests: Vec<Outcome>,
}

/// Simulates `demand` (requests per decision interval) with the live run's policy and a
/// forecast made the way the live controller makes it (rolled over what it read), on
/// `arrivals` (ms from the start, the live run's own) when given, else Poisson ones.
pub fn simulate_live(
    cfg: &LiveConfig,
    demand: &[f64],
    arrivals: Option<&[u64]>,
    twin: &TwinSettings,
) -> anyhow::Result<Twin> {
    let sc = sim_config(cfg, twin);
    let mut policy = cfg.policy.build();
    let readings = readings(&sc, demand);
    // What the forecaster is given: each interval as read at its end.
    let seen = match sc.measurement {
        Some(m) => measured_series(m, demand, sc.step_ms),
        None => demand.to_vec(),
    };
    let mut forecaster = super::forecast::LiveForecaster::from_config(cfg)?;
    let table = match policy.forecast_lead() {
        None => None,
        Some(lead) => {
            let horizon = lead + 1;
            let mut point = Vec::new();
            let mut quantiles = Vec::new();
            for s in 0..demand.len() {
                // The decision at step s has seen steps before it; the first sees what
                // it read at the start (its own forecaster: the rolled one first
                // forecasts step 1).
                let t = if s == 0 {
                    super::forecast::LiveForecaster::from_config(cfg)?.forecast(
                        &[readings[0]],
                        0,
                        0,
                        horizon,
                        sc.step_ms,
                    )?
                } else {
                    forecaster.forecast(&seen[..s], 0, s, horizon, sc.step_ms)?
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
            replay: arrivals.map(|t_ms| Replay {
                t_ms,
                offset_ms: 0,
                service_ms: None,
            }),
            demand,
            first_step: 0,
            forecast: table.as_ref(),
            seed: 0,
        },
        policy.as_mut(),
    );
    let requests = out
        .requests
        .map(|r| r.log.iter().map(super::request_log::from_sim).collect())
        .unwrap_or_default();
    Ok(Twin {
        timeline: out.timeline,
        readings,
        requests,
    })
}

/// What the controller reads at each decision (every step): the measured demand, or the
/// step before's own (0 at the first) when demand is read exactly.
pub fn readings(sc: &SimConfig, demand: &[f64]) -> Vec<f64> {
    match sc.measurement {
        Some(m) => {
            let meter = Meter::new(m, &[], demand, sc.step_ms, sc.decision_interval_ms);
            (0..demand.len())
                .map(|k| meter.observe(k as u64 * sc.step_ms))
                .collect()
        }
        None => std::iter::once(0.0)
            .chain(demand.iter().copied())
            .take(demand.len())
            .collect(),
    }
}

/// The decision interval (of `interval_ms`, `n` of them from 0) a request arriving at
/// `at_ms` falls in.
pub fn interval_of(at_ms: f64, interval_ms: u64, n: usize) -> Option<usize> {
    let k = (at_ms / interval_ms as f64).floor();
    (k >= 0.0 && (k as usize) < n).then_some(k as usize)
}

/// Requests per interval of `interval_ms` over `n` intervals, counted from arrival times (ms).
pub fn counts(at_ms: impl IntoIterator<Item = f64>, interval_ms: u64, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n];
    for k in at_ms
        .into_iter()
        .filter_map(|at| interval_of(at, interval_ms, n))
    {
        c[k] += 1.0;
    }
    c
}

/// Latency and errors, live against simulated, overall and per decision interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyComparison {
    pub live: LoadSummary,
    pub sim: LoadSummary,
    /// simulated / live.
    pub p50_ratio: f64,
    pub p95_ratio: f64,
    pub p99_ratio: f64,
    /// Per decision interval (by arrival time).
    #[serde(skip)]
    pub per_interval: Vec<(LoadSummary, LoadSummary)>,
}

/// Compares two request logs over `n` intervals of `interval_ms`.
pub fn compare_latency(
    live: &[Outcome],
    sim: &[Outcome],
    interval_ms: u64,
    n: usize,
) -> LatencyComparison {
    let buckets = |log: &[Outcome]| {
        let mut b: Vec<Vec<Outcome>> = vec![Vec::new(); n];
        for o in log {
            if let Some(k) = interval_of(o.at_ms, interval_ms, n) {
                b[k].push(*o);
            }
        }
        b
    };
    let (lb, sb) = (buckets(live), buckets(sim));
    let (l, s) = (summarize(live), summarize(sim));
    LatencyComparison {
        p50_ratio: s.p50_ms / l.p50_ms,
        p95_ratio: s.p95_ms / l.p95_ms,
        p99_ratio: s.p99_ms / l.p99_ms,
        live: l,
        sim: s,
        per_interval: lb
            .iter()
            .zip(&sb)
            .map(|(a, b)| (summarize(a), summarize(b)))
            .collect(),
    }
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
        let mut twin = TwinSettings::from_config(&cfg, 1000);
        twin.measurement = None;
        let t = simulate_live(&cfg, &demand, None, &twin).unwrap();
        // Naive forecast: the decision at s provisions for demand[s-1].
        assert_eq!(t.timeline.desired, vec![1, 1, 2, 3, 4, 5, 4, 3, 2]);
        assert_eq!(t.readings[..3], [0.0, 10.0, 40.0]);
        // Read through 5 s scrapes 10 s late, each reading is 1/3 of the interval before
        // and 2/3 of the one before that: at decision 4, 100/3 + 2·70/3 = 80; the naive
        // forecasts of steps 1–5 are 3.3, 20, 50, 80, 110 → 1, 1, 2, 3, 4 replicas.
        twin.measurement = Some(Measurement {
            scrape_ms: 5000,
            offset_ms: 0,
            window_ms: None,
            delay_ms: 10_000,
        });
        let t = simulate_live(&cfg, &demand, None, &twin).unwrap();
        assert!((t.readings[4] - 80.0).abs() < 1e-9, "{:?}", t.readings);
        assert_eq!(t.timeline.desired[..6], [1, 1, 1, 2, 3, 4]);
        // Request mode with the live replica's uniform 50–200 ms: every request logged,
        // served within its bounds at this light load.
        assert!(!t.requests.is_empty());
        assert!(t
            .requests
            .iter()
            .all(|o| o.status == 200 && (50.0..=200.0).contains(&o.service_ms)));
    }
}
