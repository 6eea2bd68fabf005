//! The control step: what the controller does at a decision and at every step, the
//! same in the fluid simulator, the request simulator and `sim live`. A driver hands
//! in its reading (replica counts, what it measured, the forecast); the step builds the
//! policy's [`Observation`], calls the policy, applies the safety net and the driver's
//! replica limit, and returns the count to reconcile to. No I/O and no clock here: the
//! drivers differ only in how they measure and how they apply the count.

use serde::{Deserialize, Serialize};

use super::{ForecastView, Observation, Observed, PodTimes, ScalingPolicy};
use crate::time::SimTime;

/// The prototype's safety net: after the policy, if the latency or CPU the driver
/// measured breaches a threshold, add one replica (not clamped to the policy's bounds,
/// only to the driver's limit). The same keys and defaults in a scenario's
/// `[simulation] safety_net` and in the live configuration's `[safety_net]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetyNet {
    pub enabled: bool,
    /// Latency (ms) above which a replica is added: the modelled latency in fluid mode,
    /// the measured p95 in request mode and live.
    pub latency_ms: f64,
    /// CPU per replica (%) above which a replica is added.
    pub cpu_pct: f64,
}

impl Default for SafetyNet {
    fn default() -> Self {
        SafetyNet {
            enabled: true,
            latency_ms: 150.0,
            cpu_pct: 90.0,
        }
    }
}

impl SafetyNet {
    /// True when the measured latency or CPU breaches the net.
    pub fn trips(&self, latency_ms: f64, cpu_pct: f64) -> bool {
        self.enabled && (latency_ms > self.latency_ms || cpu_pct > self.cpu_pct)
    }
}

/// What a driver knows at a decision, in driver-neutral terms.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// Decision number (0, 1, ...).
    pub tick: u64,
    pub now: SimTime,
    /// Replicas the service is heading for (ready + starting).
    pub current: u32,
    pub ready: u32,
    pub pending: u32,
    /// Creation and readiness times of the replicas in `current` (empty: unknown).
    pub pods: &'a [PodTimes],
    /// What was measured since the last decision (`None`: nothing yet, as at the start).
    pub observed: Option<Observed>,
    /// The metrics could not be read (an outage in the trace, Prometheus down or without
    /// data): the step holds the count and the policy is not asked.
    pub metrics_missing: bool,
    pub forecast: Option<ForecastView<'a>>,
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The count to reconcile to.
    pub desired: u32,
    /// True when the step held the count because metrics were missing.
    pub held: bool,
}

/// The controller's fixed settings: the policy's sizing assumption, the step length,
/// the safety net and the most replicas the driver can run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlSettings {
    /// Requests one replica serves per step (the policy's sizing assumption).
    pub capacity_per_replica: f64,
    pub step_ms: u64,
    pub safety: SafetyNet,
    /// The driver's hard limit (the simulator's replica bound, live: the port span).
    pub max_replicas: u32,
}

/// One policy under control: [`ControlStep::decide`] at each decision and
/// [`ControlStep::guard`] at each step.
#[derive(Debug)]
pub struct ControlStep<'p> {
    policy: &'p mut dyn ScalingPolicy,
    settings: ControlSettings,
    /// The safety net applies (enabled, and the policy takes it).
    safety_on: bool,
}

impl<'p> ControlStep<'p> {
    pub fn new(policy: &'p mut dyn ScalingPolicy, settings: ControlSettings) -> Self {
        let safety_on = settings.safety.enabled && policy.uses_safety_net();
        ControlStep {
            policy,
            settings,
            safety_on,
        }
    }

    /// The policy under control (its name, cadence, forecast lead).
    pub fn policy(&self) -> &dyn ScalingPolicy {
        &*self.policy
    }

    /// One decision: with metrics missing, hold at `current` (never scale down on no
    /// data); else the policy's count, clamped to the driver's limit.
    pub fn decide(&mut self, r: &Reading<'_>) -> Decision {
        if r.metrics_missing && !self.policy.reads_failed_metrics() {
            return Decision {
                desired: r.current,
                held: true,
            };
        }
        let obs = Observation {
            tick: r.tick,
            now: r.now,
            current: r.current,
            ready: r.ready,
            pending: r.pending,
            capacity_per_replica: self.settings.capacity_per_replica,
            step_ms: self.settings.step_ms,
            forecast: r.forecast,
            observed: if r.metrics_missing { None } else { r.observed },
            metrics_failed: r.metrics_missing,
            pods: r.pods,
        };
        let want = self.policy.decide(&obs);
        Decision {
            desired: want.min(self.settings.max_replicas),
            held: false,
        }
    }

    /// The safety net at one step, on the latency and CPU the driver measured (`None`:
    /// not measured, as in an outage: no action). Returns the new count when it trips,
    /// and tells the policy that something else scaled at `tick`.
    pub fn guard(&mut self, tick: u64, current: u32, health: Option<(f64, f64)>) -> Option<u32> {
        let (latency, cpu) = health?;
        if !(self.safety_on && self.settings.safety.trips(latency, cpu)) {
            return None;
        }
        self.policy.on_external_scale(tick);
        Some(current.saturating_add(1).min(self.settings.max_replicas))
    }

    /// What the policy planned for at its last decision (NaN if none).
    pub fn planned(&self) -> f64 {
        self.policy.last_planned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::spec::{PolicyKind, PolicySpec};

    fn settings(max: u32) -> ControlSettings {
        ControlSettings {
            capacity_per_replica: 10.0,
            step_ms: 60_000,
            safety: SafetyNet::default(),
            max_replicas: max,
        }
    }

    fn reading(current: u32, demand: f64, missing: bool) -> Reading<'static> {
        Reading {
            tick: 0,
            now: SimTime(0),
            current,
            ready: current,
            pending: 0,
            pods: &[],
            observed: Some(Observed {
                demand_per_step: demand,
                utilization: 0.5,
                latency_p95_ms: 40.0,
                cpu_pct: 50.0,
                ready_mean: current as f64,
                concurrency: demand / 10.0,
                window_ms: 60_000,
            }),
            metrics_missing: missing,
            forecast: None,
        }
    }

    fn hpa() -> Box<dyn ScalingPolicy> {
        toml::from_str::<PolicySpec>("kind = \"hpa\"\nmetric = \"request_rate\"")
            .unwrap()
            .build()
    }

    #[test]
    fn missing_metrics_hold_and_never_scale_down() {
        let mut p = hpa();
        let mut c = ControlStep::new(p.as_mut(), settings(1000));
        // Demand for one replica at five: with data the HPA scales in (after its
        // stabilisation window, so not at once); without, it holds at five.
        let d = c.decide(&reading(5, 1.0, true));
        assert_eq!((d.desired, d.held), (5, true));
    }

    #[test]
    fn the_policy_count_is_clamped_to_the_driver_limit() {
        let mut p = hpa();
        let mut c = ControlStep::new(p.as_mut(), settings(3));
        // 100 requests per step at 10 per replica and the HPA's target: far above 3.
        let d = c.decide(&reading(2, 100.0, false));
        assert_eq!(d.desired, 3);
        assert!(!d.held);
    }

    #[test]
    fn the_safety_net_adds_one_up_to_the_limit_and_only_when_measured() {
        let mut p = PolicySpec::new(PolicyKind::SimpleCeiling).build();
        let mut c = ControlStep::new(p.as_mut(), settings(4));
        assert_eq!(c.guard(0, 2, Some((151.0, 10.0))), Some(3));
        assert_eq!(c.guard(0, 2, Some((100.0, 91.0))), Some(3));
        assert_eq!(
            c.guard(0, 2, Some((150.0, 90.0))),
            None,
            "at the thresholds"
        );
        assert_eq!(c.guard(0, 4, Some((500.0, 99.0))), Some(4), "at the limit");
        assert_eq!(c.guard(0, 2, None), None, "not measured");
        // Off, or a policy that does not take it (`static`).
        let mut off = settings(4);
        off.safety.enabled = false;
        let mut c = ControlStep::new(p.as_mut(), off);
        assert_eq!(c.guard(0, 2, Some((500.0, 99.0))), None);
        let mut s = PolicySpec::of(crate::policy::spec::PolicyParams::Static(
            crate::policy::spec::StaticParams { replicas: Some(2) },
        ))
        .build();
        let mut c = ControlStep::new(s.as_mut(), settings(4));
        assert_eq!(c.guard(0, 2, Some((500.0, 99.0))), None);
    }
}
