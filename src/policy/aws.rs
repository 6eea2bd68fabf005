//! AWS Application Auto Scaling's dynamic policies, as its user guide (2024) and API
//! reference document them: target tracking and step scaling. Both act on CloudWatch
//! alarms over one-minute datapoints; an alarm in ALARM invokes its policy at every
//! evaluation period, and cooldowns space the scaling activities.
//!
//! Target tracking ([`TargetTracking`]) keeps a metric at a target value with the two
//! alarms Application Auto Scaling creates and manages: scale out when the metric has been
//! above the target for 3 of 3 datapoints, scale in when it has been below 90 % of the
//! target for 15 of 15; the new capacity is proportional, `ceil(capacity · metric /
//! target)`. `ScaleOutCooldown` and `ScaleInCooldown` default to 300 s: a scale-in blocks
//! further scale-ins for its cooldown, a scale-out in that time goes ahead at once;
//! during a scale-out cooldown the capacity the last scale-out added (still starting)
//! counts towards the next, so only a larger count scales out again. `DisableScaleIn`
//! leaves scale-in to something else. An instance warm-up (EC2 Auto Scaling's
//! `DefaultInstanceWarmup`) leaves instances younger than it out of the metric.
//!
//! Step scaling ([`step::StepScaling`]) has an alarm per direction (threshold, evaluation
//! periods, datapoints to alarm) and step adjustments on the breach size; predictive
//! scaling ([`predictive::AwsPredictive`]) schedules a forecast minimum under target
//! tracking.

#[cfg(test)]
mod golden;
pub mod predictive;
pub mod step;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{Bounds, Observation, ScalingPolicy};

/// The CloudWatch metric a policy tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwsMetric {
    /// `ALBRequestCountPerTarget`: requests per target per minute.
    RequestCountPerTarget,
    /// `ECSServiceAverageCPUUtilization`: average CPU of the running tasks, %.
    CpuUtilization,
}

/// One evaluation period's datapoint (`None`: missing data — no target to divide by, or
/// the metric could not be read).
pub fn datapoint(metric: AwsMetric, obs: &Observation<'_>, warmup_ms: u64) -> Option<f64> {
    let o = obs.observed?;
    // Targets that count: ready ones, less those still warming up.
    let warming = obs
        .pods
        .iter()
        .filter(|p| p.ready_at.is_some() && obs.now.ms() < p.created.ms() + warmup_ms)
        .count() as f64;
    let targets = (o.ready_mean - warming).max(0.0);
    if !(targets > 0.0) {
        return None;
    }
    let minutes = o.window_ms.max(1) as f64 / 60_000.0;
    let per_step = o.demand_per_step * o.window_ms as f64 / obs.step_ms as f64;
    Some(match metric {
        AwsMetric::RequestCountPerTarget => per_step / minutes / targets,
        AwsMetric::CpuUtilization => o.cpu_pct,
    })
}

/// A CloudWatch alarm's last datapoints: in ALARM when `m` of the last `n` breach.
/// Missing datapoints are left out (`TreatMissingData = missing`).
#[derive(Debug, Clone)]
pub struct Alarm {
    pub n: usize,
    pub m: usize,
    points: VecDeque<bool>,
}

impl Alarm {
    pub fn new(n: usize, m: usize) -> Alarm {
        Alarm {
            n,
            m,
            points: VecDeque::new(),
        }
    }
    /// Adds a datapoint (whether it breaches) and returns whether the alarm is in ALARM.
    pub fn push(&mut self, breach: Option<bool>) -> bool {
        if let Some(b) = breach {
            self.points.push_back(b);
            if self.points.len() > self.n {
                self.points.pop_front();
            }
        }
        self.points.len() == self.n && self.points.iter().filter(|&&b| b).count() >= self.m
    }
}

/// Application Auto Scaling's cooldown bookkeeping, shared by both policy types.
#[derive(Debug, Clone, Default)]
pub struct Cooldowns {
    /// End of the scale-out cooldown and the capacity before the scale-out that began it.
    pub out_until: Option<(u64, u32)>,
    pub in_until: Option<u64>,
}

impl Cooldowns {
    /// The capacity a scale-out adjusts from: during a scale-out cooldown, the one
    /// before it (what that scale-out added counts as part of the next).
    pub fn out_base(&self, now: u64, current: u32) -> u32 {
        match self.out_until {
            Some((until, base)) if now < until => base,
            _ => current,
        }
    }
    pub fn in_blocked(&self, now: u64) -> bool {
        self.in_until.is_some_and(|u| now < u)
    }
    pub fn scaled_out(&mut self, now: u64, from: u32, cooldown_ms: u64) {
        let base = self.out_base(now, from);
        self.out_until = Some((now + cooldown_ms, base));
        // A scale-out ends a scale-in cooldown.
        self.in_until = None;
    }
    pub fn scaled_in(&mut self, now: u64, cooldown_ms: u64) {
        self.in_until = Some(now + cooldown_ms);
    }
}

/// Target tracking's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTrackingConfig {
    pub metric: AwsMetric,
    pub target: f64,
    pub period_ms: u64,
    pub scale_out_cooldown_ms: u64,
    pub scale_in_cooldown_ms: u64,
    pub disable_scale_in: bool,
    pub warmup_ms: u64,
}

/// A target tracking scaling policy.
#[derive(Debug, Clone)]
pub struct TargetTracking {
    pub name: String,
    pub cfg: TargetTrackingConfig,
    pub bounds: Bounds,
    high: Alarm,
    low: Alarm,
    cooldowns: Cooldowns,
}

impl TargetTracking {
    pub fn new(name: String, cfg: TargetTrackingConfig, bounds: Bounds) -> TargetTracking {
        TargetTracking {
            name,
            cfg,
            bounds,
            // AlarmHigh: 3 of 3 datapoints above the target; AlarmLow: 15 of 15 below 90 %.
            high: Alarm::new(3, 3),
            low: Alarm::new(15, 15),
            cooldowns: Cooldowns::default(),
        }
    }
}

impl ScalingPolicy for TargetTracking {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now.ms();
        let cur = obs.current;
        let c = &self.cfg;
        let point = datapoint(c.metric, obs, c.warmup_ms);
        let high = self.high.push(point.map(|v| v > c.target));
        let low = self.low.push(point.map(|v| v < 0.9 * c.target));
        let Some(v) = point else {
            return self.bounds.clamp(cur);
        };
        let proportional = |capacity: u32| {
            let x = (capacity as f64 * v / c.target).ceil();
            if x.is_finite() && x > 0.0 {
                x.min(u32::MAX as f64) as u32
            } else {
                0
            }
        };
        if high {
            // The metric is per target that carries load: scale the ready capacity.
            let ready = obs.ready.max(1);
            let want = self.bounds.clamp(proportional(ready));
            if want > cur {
                self.cooldowns.scaled_out(now, cur, c.scale_out_cooldown_ms);
                return want;
            }
        } else if low && !c.disable_scale_in && !self.cooldowns.in_blocked(now) {
            let want = self.bounds.clamp(proportional(obs.ready));
            if want < cur {
                self.cooldowns.scaled_in(now, c.scale_in_cooldown_ms);
                return want;
            }
        }
        self.bounds.clamp(cur)
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        Some(self.cfg.period_ms)
    }
}
