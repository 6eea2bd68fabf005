//! AWS predictive scaling as the EC2 Auto Scaling user guide describes it: from at least
//! 24 h (and at most 14 days) of load history, a forecast of the load for each of the next
//! 48 hours, made again every 6 hours; the capacity each hour needs (its load over the
//! per-instance target) is scheduled as the minimum capacity from `SchedulingBufferTime`
//! (300 s) before the hour starts. `ForecastAndScale` acts on it, `ForecastOnly` only
//! records it. Predictive scaling only raises capacity: a target tracking policy (which
//! AWS recommends with it) scales out above the forecast and in down to it.
//! `MaxCapacityBreachBehavior` `HonorMaxCapacity` (default) caps the forecast capacity at
//! the maximum; `IncreaseMaxCapacity` lets it exceed the maximum up to the forecast plus
//! `MaxCapacityBuffer` %.
//!
//! AWS does not publish its forecasting model ("machine learning", detecting daily and
//! weekly patterns). Ours: the mean load of the same hour of the week over the last two
//! weeks when 14 days of history exist, else of the same hour of the day over the days
//! there are. Hours are counted from the start of the history. The `predictive` policy is
//! our own variant on the scenario's forecaster.

use std::collections::BTreeMap;

use super::TargetTracking;
use crate::policy::{replicas_for, Bounds, Observation, ScalingPolicy};

const HOUR_MS: u64 = 3_600_000;

/// `MaxCapacityBreachBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BreachBehavior {
    HonorMaxCapacity,
    IncreaseMaxCapacity,
}

/// The predictive policy's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveConfig {
    /// `ForecastAndScale` (true) or `ForecastOnly`.
    pub scale: bool,
    /// Share of a replica's capacity an instance is planned at (the metric pair's target).
    pub target: f64,
    pub buffer_ms: u64,
    pub breach: BreachBehavior,
    /// `MaxCapacityBuffer` (%).
    pub max_capacity_buffer_pct: f64,
}

/// Predictive scaling over a target tracking policy.
#[derive(Debug)]
pub struct AwsPredictive {
    pub name: String,
    pub cfg: PredictiveConfig,
    pub bounds: Bounds,
    pub tracking: TargetTracking,
    /// Requests per hour, by hour index (hour 0 starts with the history).
    load: BTreeMap<i64, f64>,
    /// The hour index of the run's time 0 and the step length.
    origin_hour_ms: i64,
    step_ms: u64,
    /// The capacity forecast by hour index, and when it was made.
    forecast: BTreeMap<i64, u32>,
    next_refresh_ms: u64,
    planned: f64,
}

impl AwsPredictive {
    pub fn new(
        name: String,
        cfg: PredictiveConfig,
        bounds: Bounds,
        tracking: TargetTracking,
    ) -> Self {
        AwsPredictive {
            name,
            cfg,
            bounds,
            tracking,
            load: BTreeMap::new(),
            origin_hour_ms: 0,
            step_ms: 60_000,
            forecast: BTreeMap::new(),
            next_refresh_ms: 0,
            planned: f64::NAN,
        }
    }

    /// Adds `requests` at run time `t_ms` (negative: history).
    fn add(&mut self, t_ms: i64, requests: f64) {
        let h = (t_ms + self.origin_hour_ms).div_euclid(HOUR_MS as i64);
        *self.load.entry(h).or_insert(0.0) += requests;
    }

    /// The load forecast (requests) of hour `h` from the whole hours before `now_h`.
    fn hour_forecast(&self, h: i64, now_h: i64) -> Option<f64> {
        let first = *self.load.keys().next()?;
        let days = (now_h - first) / 24;
        if days < 1 {
            return None;
        }
        let (period, count) = if days >= 14 {
            (168, 2)
        } else {
            (24, days.min(14))
        };
        let mut vals = Vec::new();
        let mut k = 1;
        while vals.len() < count as usize {
            let past = h - k * period;
            if past < first {
                break;
            }
            if past < now_h {
                vals.push(self.load.get(&past).copied().unwrap_or(0.0));
            }
            k += 1;
        }
        (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
    }

    /// A new 48 h capacity forecast at run time `now_ms`.
    fn refresh(&mut self, now_ms: u64, capacity_per_replica: f64) {
        let now_h = (now_ms as i64 + self.origin_hour_ms).div_euclid(HOUR_MS as i64);
        self.forecast.clear();
        for h in now_h..now_h + 48 {
            if let Some(load) = self.hour_forecast(h, now_h) {
                // Requests per hour as requests per step, over the planned share of a replica.
                let per_step = load * self.step_ms as f64 / HOUR_MS as f64;
                // Less a rounding error's worth, so that an exact fit is not one more.
                let need = per_step / self.cfg.target * (1.0 - 1e-12);
                let cap = replicas_for(need, capacity_per_replica);
                self.forecast.insert(h, cap);
            }
        }
    }

    /// The forecast capacity scheduled at run time `now_ms` (the hour starting within the
    /// scheduling buffer already counts).
    pub fn scheduled(&self, now_ms: u64) -> Option<u32> {
        let at = now_ms as i64 + self.cfg.buffer_ms as i64 + self.origin_hour_ms;
        let h = at.div_euclid(HOUR_MS as i64);
        let now_h = (now_ms as i64 + self.origin_hour_ms).div_euclid(HOUR_MS as i64);
        [now_h, h]
            .iter()
            .filter_map(|x| self.forecast.get(x).copied())
            .max()
    }
}

impl ScalingPolicy for AwsPredictive {
    fn name(&self) -> &str {
        &self.name
    }

    fn prime(&mut self, history: &[f64], step_ms: u64) {
        self.step_ms = step_ms;
        // The history ends at run time 0: hour 0 starts with its first step.
        let start = history.len() as i64 * step_ms as i64;
        self.origin_hour_ms = start;
        for (i, &d) in history.iter().enumerate() {
            if d.is_finite() {
                self.add(i as i64 * step_ms as i64 - start, d);
            }
        }
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now.ms();
        if let Some(o) = obs.observed {
            let requests = o.demand_per_step * o.window_ms as f64 / obs.step_ms as f64;
            self.add(now as i64 - o.window_ms as i64, requests);
        }
        if now >= self.next_refresh_ms {
            self.next_refresh_ms = now + 6 * HOUR_MS;
            self.refresh(now, obs.capacity_per_replica);
        }
        let dynamic = self.tracking.decide(obs);
        let Some(fc) = self.scheduled(now) else {
            self.planned = f64::NAN;
            return dynamic;
        };
        self.planned = fc as f64 * obs.capacity_per_replica * self.cfg.target;
        if !self.cfg.scale {
            return dynamic;
        }
        let max = match self.cfg.breach {
            BreachBehavior::HonorMaxCapacity => self.bounds.max,
            BreachBehavior::IncreaseMaxCapacity => self
                .bounds
                .max
                .max((fc as f64 * (1.0 + self.cfg.max_capacity_buffer_pct / 100.0)).ceil() as u32),
        };
        dynamic.max(fc.min(max)).max(self.bounds.min)
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        self.tracking.decision_interval_ms()
    }

    fn last_planned(&self) -> f64 {
        self.planned
    }
}
