//! Step scaling (Application Auto Scaling's `StepScalingPolicyConfiguration`): a
//! CloudWatch alarm per direction and, while it is in ALARM, at every evaluation period,
//! the step adjustment whose interval holds the breach (metric − threshold). Above the
//! threshold an interval's lower bound is inclusive and its upper bound exclusive; below
//! it, the other way round. Adjustments change the capacity by a count
//! (`ChangeInCapacity`), a percentage (`PercentChangeInCapacity`: values above 1 rounded
//! down, between 0 and 1 rounded to 1, and the same mirrored below 0, at least
//! `MinAdjustmentMagnitude`), or set it (`ExactCapacity`). A scale-out policy's cooldown
//! counts the capacity its last scale-out added towards the next; a scale-in policy's
//! blocks further scale-ins.

use serde::{Deserialize, Serialize};

use super::{datapoint, Alarm, AwsMetric, Cooldowns};
use crate::policy::{Bounds, Observation, ScalingPolicy};

/// `AdjustmentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdjustmentType {
    ChangeInCapacity,
    PercentChangeInCapacity,
    ExactCapacity,
}

/// One `StepAdjustment`: bounds relative to the alarm threshold (`None`: unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustment {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub adjustment: i64,
}

/// One direction: its alarm and its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepPolicy {
    /// The alarm threshold (scale out: metric ≥ it; scale in: metric ≤ it).
    pub threshold: f64,
    /// `EvaluationPeriods` (1) and `DatapointsToAlarm` (the evaluation periods).
    pub evaluation_periods: Option<usize>,
    pub datapoints_to_alarm: Option<usize>,
    pub steps: Vec<StepAdjustment>,
    /// `AdjustmentType` (`ChangeInCapacity`).
    pub adjustment_type: Option<AdjustmentType>,
    pub min_adjustment_magnitude: Option<u32>,
    /// `Cooldown` (300 s).
    pub cooldown_s: Option<f64>,
}

impl StepPolicy {
    /// Checks the steps: they must not overlap, and one may be unbounded on each side.
    pub fn validate(&self, out: bool) -> Result<(), String> {
        let dir = if out { "scale_out" } else { "scale_in" };
        if !self.threshold.is_finite() {
            return Err(format!("{dir}.threshold must be a number"));
        }
        if self.steps.is_empty() {
            return Err(format!("{dir}.steps needs at least one step adjustment"));
        }
        let n = self.evaluation_periods.unwrap_or(1);
        let m = self.datapoints_to_alarm.unwrap_or(n);
        if n == 0 || m == 0 || m > n {
            return Err(format!(
                "{dir}: datapoints_to_alarm ({m}) must be between 1 and evaluation_periods ({n})"
            ));
        }
        let mut spans: Vec<(f64, f64)> = self
            .steps
            .iter()
            .map(|s| {
                (
                    s.lower.unwrap_or(f64::NEG_INFINITY),
                    s.upper.unwrap_or(f64::INFINITY),
                )
            })
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (i, &(lo, hi)) in spans.iter().enumerate() {
            if !(lo < hi) {
                return Err(format!(
                    "{dir}.steps: a step's lower bound ({lo}) is not below its upper bound ({hi})"
                ));
            }
            if i > 0 && spans[i - 1].1 > lo {
                return Err(format!(
                    "{dir}.steps overlap at {lo}: give each breach size one step"
                ));
            }
        }
        Ok(())
    }

    /// The step holding `breach`.
    fn step(&self, breach: f64, out: bool) -> Option<&StepAdjustment> {
        self.steps.iter().find(|s| {
            let lo = s.lower.unwrap_or(f64::NEG_INFINITY);
            let hi = s.upper.unwrap_or(f64::INFINITY);
            if out {
                lo <= breach && breach < hi
            } else {
                lo < breach && breach <= hi
            }
        })
    }

    /// The capacity the step asks for from `base`.
    fn apply(&self, base: u32, adj: i64) -> i64 {
        let b = base as i64;
        match self
            .adjustment_type
            .unwrap_or(AdjustmentType::ChangeInCapacity)
        {
            AdjustmentType::ChangeInCapacity => b + adj,
            AdjustmentType::ExactCapacity => adj,
            AdjustmentType::PercentChangeInCapacity => {
                let x = base as f64 * adj as f64 / 100.0;
                let mut d = if x >= 1.0 {
                    x.floor()
                } else if x > 0.0 {
                    1.0
                } else if x > -1.0 && x < 0.0 {
                    -1.0
                } else {
                    x.ceil()
                } as i64;
                if let Some(m) = self.min_adjustment_magnitude {
                    if d != 0 && d.abs() < m as i64 {
                        d = d.signum() * m as i64;
                    }
                }
                b + d
            }
        }
    }
}

/// A step scaling policy pair.
#[derive(Debug, Clone)]
pub struct StepScaling {
    pub name: String,
    pub metric: AwsMetric,
    pub period_ms: u64,
    pub warmup_ms: u64,
    pub bounds: Bounds,
    pub out: Option<StepPolicy>,
    pub scale_in: Option<StepPolicy>,
    out_alarm: Alarm,
    in_alarm: Alarm,
    out_cd: Cooldowns,
    in_cd: Cooldowns,
}

fn alarm(p: &Option<StepPolicy>) -> Alarm {
    let n = p.as_ref().and_then(|p| p.evaluation_periods).unwrap_or(1);
    let m = p.as_ref().and_then(|p| p.datapoints_to_alarm).unwrap_or(n);
    Alarm::new(n, m)
}

fn cooldown_ms(p: &StepPolicy) -> u64 {
    (p.cooldown_s.unwrap_or(300.0) * 1000.0).round() as u64
}

impl StepScaling {
    pub fn new(
        name: String,
        metric: AwsMetric,
        period_ms: u64,
        warmup_ms: u64,
        bounds: Bounds,
        out: Option<StepPolicy>,
        scale_in: Option<StepPolicy>,
    ) -> StepScaling {
        StepScaling {
            out_alarm: alarm(&out),
            in_alarm: alarm(&scale_in),
            name,
            metric,
            period_ms,
            warmup_ms,
            bounds,
            out,
            scale_in,
            out_cd: Cooldowns::default(),
            in_cd: Cooldowns::default(),
        }
    }
}

impl ScalingPolicy for StepScaling {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now.ms();
        let cur = obs.current;
        let point = datapoint(self.metric, obs, self.warmup_ms);
        let clamp = |b: &Bounds, x: i64| b.clamp(x.clamp(0, u32::MAX as i64) as u32);
        // Both alarms see every datapoint.
        let out_alarmed = match &self.out {
            Some(p) => self.out_alarm.push(point.map(|v| v >= p.threshold)),
            None => false,
        };
        let in_alarmed = match &self.scale_in {
            Some(p) => self.in_alarm.push(point.map(|v| v <= p.threshold)),
            None => false,
        };
        let Some(v) = point else {
            return self.bounds.clamp(cur);
        };
        if let (true, Some(p)) = (out_alarmed, &self.out) {
            if let Some(s) = p.step(v - p.threshold, true) {
                let base = self.out_cd.out_base(now, cur);
                let want = clamp(&self.bounds, p.apply(base, s.adjustment));
                if want > cur {
                    self.out_cd.scaled_out(now, cur, cooldown_ms(p));
                    // A scale-out goes ahead through a scale-in cooldown, and ends it.
                    self.in_cd.in_until = None;
                    return want;
                }
            }
        }
        if let (true, Some(p)) = (in_alarmed, &self.scale_in) {
            if let Some(s) = p.step(v - p.threshold, false) {
                if !self.in_cd.in_blocked(now) {
                    let want = clamp(&self.bounds, p.apply(cur, s.adjustment));
                    if want < cur {
                        self.in_cd.scaled_in(now, cooldown_ms(p));
                        return want;
                    }
                }
            }
        }
        self.bounds.clamp(cur)
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    fn decision_interval_ms(&self) -> Option<u64> {
        Some(self.period_ms)
    }
}
