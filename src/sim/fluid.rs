//! Fluid fidelity: per step, the capacity of the ready replicas against demand.
//! With zero start-up delay and a decision every step this is the prototype's
//! simulator exactly (replicas change at the step where the policy decides).

use super::cluster::ReplicaPool;
use super::engine::EventQueue;
use super::{RunInput, SimConfig, Timeline};
use crate::policy::{ForecastView, Observation, Observed, ScalingPolicy};
use crate::time::SimTime;

/// Running sums over one decision interval, for the next observation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IntervalStats {
    pub steps: u32,
    pub demand: f64,
    pub utilization: f64,
    pub latency_max: f64,
    pub cpu: f64,
}

impl IntervalStats {
    pub fn add(&mut self, demand: f64, utilization: f64, latency: f64, cpu: f64) {
        self.steps += 1;
        self.demand += demand;
        self.utilization += utilization;
        self.latency_max = self.latency_max.max(latency);
        self.cpu += cpu;
    }
    pub fn observed(&self) -> Option<Observed> {
        (self.steps > 0).then(|| {
            let n = self.steps as f64;
            Observed {
                demand_per_step: self.demand / n,
                utilization: self.utilization / n,
                latency_p95_ms: self.latency_max,
                cpu_pct: self.cpu / n,
            }
        })
    }
}

/// The forecast view for a decision at window step `s`, if the table covers it.
pub(crate) fn forecast_view<'a>(input: &RunInput<'a>, s: usize, window: usize) -> Option<ForecastView<'a>> {
    let step = input.first_step + s;
    input.forecast.filter(|f| f.covers(step)).map(|table| ForecastView { table, step, window })
}

pub fn run(cfg: &SimConfig, input: RunInput<'_>, policy: &mut dyn ScalingPolicy) -> Timeline {
    let n = input.demand.len();
    let step = cfg.step_ms;
    let dsteps = cfg.decision_steps();
    let cap = cfg.capacity_per_replica;
    let safety_on = cfg.safety.enabled && policy.uses_safety_net();
    let mut pool = ReplicaPool::new(cfg.initial_replicas, cfg.startup_delay_ms, Some(cfg.drain_ms));
    let mut q = EventQueue::default();
    let mut tl = Timeline::default();
    let mut tick = 0u64;
    let mut interval = IntervalStats::default();
    for s in 0..n {
        let t = SimTime(s as u64 * step);
        while let Some((et, ev)) = q.pop_until(t) {
            pool.apply(et, ev);
        }
        pool.advance(t);
        let d = input.demand[s];
        if s % dsteps == 0 {
            let obs = Observation {
                tick,
                now: t,
                current: pool.target(),
                ready: pool.ready(),
                pending: pool.starting(),
                capacity_per_replica: cap,
                step_ms: step,
                forecast: forecast_view(&input, s, dsteps),
                observed: interval.observed(),
            };
            let want = policy.decide(&obs);
            pool.scale_to(t, want, &mut q);
            tick += 1;
            interval = IntervalStats::default();
        }
        if safety_on {
            let (lat, cpu) = cfg.load.evaluate(d, pool.ready() as f64, cap);
            if cfg.safety.trips(lat, cpu) {
                pool.scale_to(t, pool.target() + 1, &mut q);
                policy.on_external_scale(tick - 1);
            }
        }
        let (ready_before, prov_before) = (pool.ready_ms, pool.provisioned_ms);
        tl.ready.push(pool.ready());
        tl.pending.push(pool.starting());
        tl.desired.push(pool.target());
        let end = SimTime(t.ms() + step);
        while let Some((et, ev)) = q.pop_until(SimTime(end.ms() - 1)) {
            pool.apply(et, ev);
        }
        pool.advance(end);
        let eff = (pool.ready_ms - ready_before) / step as f64;
        let served = d.min(eff * cap);
        let (lat, cpu) = cfg.load.evaluate(d, eff, cap);
        let util = if eff > 0.0 { (d / (eff * cap)).min(1.0) } else { 1.0 };
        interval.add(d, util, lat, cpu);
        tl.demand.push(d);
        tl.forecast.push(input.forecast.filter(|f| f.covers(input.first_step + s)).map_or(f64::NAN, |f| f.point(input.first_step + s, 0)));
        tl.planned.push(policy.last_planned());
        tl.ready_effective.push(eff);
        tl.provisioned_ms.push(pool.provisioned_ms - prov_before);
        tl.served.push(served);
        tl.dropped.push(d - served);
        tl.latency_ms.push(lat);
        tl.latency_p95_ms.push(lat);
        tl.cpu_pct.push(cpu);
    }
    tl
}
