//! KEDA's ScaledObject, following KEDA 2.17 (`pkg/scaling/executor/scale_scaledobjects.go`,
//! `pkg/fallback/fallback.go`) and its defaults.
//!
//! Two loops, as in a cluster. KEDA's own, every `pollingInterval` (30 s), asks the
//! trigger whether it is active (its value strictly above `activationThreshold`) and
//! moves between zero (or `idleReplicaCount`) and `minReplicaCount`: an active trigger at
//! zero scales to `max(minReplicaCount, 1)`; an inactive one scales down to zero (or the
//! idle count) once `cooldownPeriod` (300 s) has passed since it was last active — or,
//! if it never was, `initialCooldownPeriod` (0 s) after creation. Between one and
//! `maxReplicaCount` (100) the HPA KEDA creates does the scaling, on the trigger's value
//! as an External metric (`AverageValue` per pod by default, or `Value`), at its own sync
//! period and with the `behavior` given. The HPA is idle at zero replicas.
//!
//! When the metric cannot be read (a scenario's `metric_outages`), every HPA query
//! counts a failure; after more than `fallback.failureThreshold` in a row the metric
//! reads as `fallback.replicas` × the target, so the HPA heads for the fallback count
//! (`static`), the current count, or the higher or lower of the two
//! (`currentReplicas`, `currentReplicasIfHigher`, `currentReplicasIfLower`). Without a
//! fallback the HPA holds (its missing-metrics rule). KEDA's own loop never scales to
//! zero on an error.

#[cfg(test)]
mod golden;

use serde::{Deserialize, Serialize};

use super::hpa::Hpa;
use super::{Observation, Observed, ScalingPolicy};
use crate::time::SimTime;

/// What the trigger measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerMetric {
    /// Requests per second arriving (a Prometheus `sum(rate(...))` trigger).
    RequestRate,
    /// Requests in flight or queued (a queue-length trigger).
    Concurrency,
}

/// `fallback.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FallbackBehavior {
    Static,
    CurrentReplicas,
    CurrentReplicasIfHigher,
    CurrentReplicasIfLower,
}

/// `spec.fallback`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fallback {
    pub failure_threshold: u32,
    pub replicas: u32,
    pub behavior: FallbackBehavior,
}

/// The ScaledObject's resolved settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaConfig {
    pub metric: TriggerMetric,
    /// The trigger's target (`threshold`), per pod for `AverageValue`.
    pub threshold: f64,
    pub activation_threshold: f64,
    pub polling_ms: u64,
    pub cooldown_ms: u64,
    pub initial_cooldown_ms: u64,
    pub min: u32,
    pub max: u32,
    pub idle: Option<u32>,
    pub fallback: Option<Fallback>,
}

/// A ScaledObject and the HPA it owns.
#[derive(Debug, Clone)]
pub struct Keda {
    pub name: String,
    pub cfg: KedaConfig,
    pub hpa: Hpa,
    next_poll_ms: u64,
    next_sync_ms: u64,
    last_active: Option<SimTime>,
    /// Failed metric queries in a row (the fallback's health count).
    failures: u32,
}

impl Keda {
    pub fn new(name: String, cfg: KedaConfig, hpa: Hpa) -> Keda {
        Keda {
            name,
            cfg,
            hpa,
            next_poll_ms: 0,
            next_sync_ms: 0,
            last_active: None,
            failures: 0,
        }
    }

    /// The trigger's value per second (rate) or in requests (concurrency).
    fn value(&self, o: &Observed, step_ms: u64) -> f64 {
        match self.cfg.metric {
            TriggerMetric::RequestRate => o.demand_per_step * 1000.0 / step_ms as f64,
            TriggerMetric::Concurrency => o.concurrency,
        }
    }

    /// KEDA's scale loop (`RequestScale`): the count it sets, if it sets one.
    fn scale_loop(&mut self, now: SimTime, current: u32, value: Option<f64>) -> Option<u32> {
        let c = &self.cfg;
        let is_error = value.is_none();
        let active = value.is_some_and(|v| v > c.activation_threshold);
        if active {
            let from_idle = c.idle.is_some() && current < c.min;
            if from_idle || current == 0 {
                self.last_active = Some(now);
                return Some(c.min.max(1));
            }
            if !is_error {
                self.last_active = Some(now);
            }
            return None;
        }
        if is_error && (c.fallback.is_none() || c.fallback.is_some_and(|f| f.replicas != 0)) {
            return None;
        }
        let above_idle = c.idle.is_some_and(|i| current > i);
        if above_idle || (current > 0 && c.min == 0) {
            let cooled = match self.last_active {
                None => c.initial_cooldown_ms < now.ms(),
                Some(t) => t.ms() + c.cooldown_ms < now.ms(),
            };
            return cooled.then(|| c.idle.unwrap_or(c.min));
        }
        if current < c.min && c.idle.is_none() {
            return Some(c.min);
        }
        None
    }

    /// The metric the HPA reads from the interval and the trigger's value (`None`: the
    /// metric failed): the trigger's, the fallback's after too many failures, or none.
    fn hpa_reading(
        &mut self,
        read: Option<(Observed, f64)>,
        current: u32,
        step_ms: u64,
    ) -> Option<Observed> {
        let per_step = |v: f64| v * step_ms as f64 / 1000.0;
        match read {
            Some((mut o, v)) => {
                self.failures = 0;
                o.demand_per_step = per_step(v);
                Some(o)
            }
            None => {
                self.failures += 1;
                let f = self.cfg.fallback?;
                if self.failures <= f.failure_threshold {
                    return None;
                }
                let replicas = match f.behavior {
                    FallbackBehavior::Static => f.replicas,
                    FallbackBehavior::CurrentReplicas => current,
                    FallbackBehavior::CurrentReplicasIfHigher => current.max(f.replicas),
                    FallbackBehavior::CurrentReplicasIfLower => current.min(f.replicas),
                };
                Some(Observed {
                    demand_per_step: per_step(self.cfg.threshold * replicas as f64),
                    utilization: f64::NAN,
                    latency_p95_ms: f64::NAN,
                    cpu_pct: f64::NAN,
                    ready_mean: current as f64,
                    concurrency: f64::NAN,
                    window_ms: 0,
                })
            }
        }
    }
}

impl ScalingPolicy for Keda {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, obs: &Observation<'_>) -> u32 {
        let now = obs.now.ms();
        // `None`: the trigger failed; before the first interval there is no data, which
        // reads as an inactive trigger and leaves the HPA alone.
        let no_data = obs.observed.is_none() && !obs.metrics_failed;
        let read = obs.observed.map(|o| (o, self.value(&o, obs.step_ms)));
        let value = read.map(|r| r.1);
        let mut current = obs.current;
        if now >= self.next_poll_ms {
            self.next_poll_ms = now + self.cfg.polling_ms;
            let v = if no_data { Some(0.0) } else { value };
            if let Some(n) = self.scale_loop(obs.now, current, v) {
                current = n.min(self.cfg.max);
            }
        }
        if now >= self.next_sync_ms {
            self.next_sync_ms = now + self.hpa.cfg.sync_period_ms;
            if current > 0 && !no_data {
                let reading = self.hpa_reading(read, current, obs.step_ms);
                let o = Observation {
                    current,
                    observed: reading,
                    ..*obs
                };
                current = self.hpa.decide(&o);
            }
        }
        current
    }

    fn uses_safety_net(&self) -> bool {
        false
    }

    /// Both loops' times fall on multiples of this.
    fn decision_interval_ms(&self) -> Option<u64> {
        Some(gcd(self.cfg.polling_ms, self.hpa.cfg.sync_period_ms))
    }

    fn reads_failed_metrics(&self) -> bool {
        true
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}
