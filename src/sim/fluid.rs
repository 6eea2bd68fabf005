//! Fluid fidelity: per step, the capacity of the ready replicas against demand.
//! With zero start-up delay and a decision every step this is the prototype's
//! simulator exactly (replicas change at the step where the policy decides).

use super::cluster::{PoolEvent, ReplicaPool};
use super::engine::EventQueue;
use super::{RunInput, SimConfig, Timeline};
use crate::policy::{ForecastView, Observation, Observed, PodTimes, ScalingPolicy};
use crate::time::SimTime;

/// Running sums over one decision interval, for the next observation. Each part of the
/// interval (a step, or the piece of a step between decisions) adds with its weight,
/// its length in steps.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IntervalStats {
    pub weight: f64,
    pub demand: f64,
    pub utilization: f64,
    pub latency_max: f64,
    pub cpu: f64,
    pub ready: f64,
    pub window_ms: u64,
}

/// One part of a decision interval: `len_ms` long, `weight` steps, with its demand per
/// step, busy share, latency, CPU and time-averaged ready replicas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    pub len_ms: u64,
    pub weight: f64,
    pub demand: f64,
    pub utilization: f64,
    pub latency: f64,
    pub cpu: f64,
    pub ready: f64,
}

impl IntervalStats {
    pub fn add(&mut self, p: Part) {
        self.weight += p.weight;
        self.demand += p.weight * p.demand;
        self.utilization += p.weight * p.utilization;
        self.latency_max = self.latency_max.max(p.latency);
        self.cpu += p.weight * p.cpu;
        self.ready += p.weight * p.ready;
        self.window_ms += p.len_ms;
    }
    pub fn observed(&self) -> Option<Observed> {
        (self.weight > 0.0).then(|| {
            let n = self.weight;
            Observed {
                demand_per_step: self.demand / n,
                utilization: self.utilization / n,
                latency_p95_ms: self.latency_max,
                cpu_pct: self.cpu / n,
                ready_mean: self.ready / n,
                window_ms: self.window_ms,
            }
        })
    }
}

/// True when a decision in window step `s` has no data at all: nothing observed since
/// the last decision, because of missing steps (the one it falls in or the one before).
/// The controller then holds — the HPA's rule when its metrics cannot be read, and every
/// other policy's too.
pub(crate) fn holds_for_missing_data(
    input: &RunInput<'_>,
    s: usize,
    since: &IntervalStats,
) -> bool {
    since.weight == 0.0 && (input.is_missing(s) || (s > 0 && input.is_missing(s - 1)))
}

/// The forecast view for a decision at window step `s`, if the table covers it.
pub(crate) fn forecast_view<'a>(
    input: &RunInput<'a>,
    s: usize,
    window: usize,
) -> Option<ForecastView<'a>> {
    let step = input.first_step + s;
    input
        .forecast
        .filter(|f| f.covers(step))
        .map(|table| ForecastView {
            table,
            step,
            window,
        })
}

/// When a policy decides: every `interval_ms` from time 0 (its own interval, such as the
/// HPA's sync period, else the simulation's), and the steps one decision governs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub interval_ms: u64,
    pub next_ms: u64,
    pub window_steps: usize,
    pub tick: u64,
}

impl Schedule {
    pub fn new(cfg: &SimConfig, policy: &dyn ScalingPolicy) -> Schedule {
        let interval_ms = policy
            .decision_interval_ms()
            .unwrap_or(cfg.decision_interval_ms)
            .max(1);
        Schedule {
            interval_ms,
            next_ms: 0,
            window_steps: (interval_ms / cfg.step_ms.max(1)).max(1) as usize,
            tick: 0,
        }
    }
    /// Whether a decision falls at `t_ms`; if so it is counted.
    pub fn due(&mut self, t_ms: u64) -> bool {
        if self.next_ms == t_ms {
            self.next_ms += self.interval_ms;
            self.tick += 1;
            true
        } else {
            false
        }
    }
}

/// The replica pool and the controller's state of one fluid run.
struct Fluid<'a> {
    cfg: &'a SimConfig,
    input: RunInput<'a>,
    pool: ReplicaPool,
    q: EventQueue<PoolEvent>,
    sched: Schedule,
    interval: IntervalStats,
    pods: Vec<PodTimes>,
}

impl Fluid<'_> {
    /// Applies the pool events up to and including `t`.
    fn events_until(&mut self, t: SimTime) {
        while let Some((et, ev)) = self.q.pop_until(t) {
            self.pool.apply(et, ev);
        }
    }

    /// One decision at `t` inside window step `s`: observe, decide, scale the pool.
    fn decide(&mut self, policy: &mut dyn ScalingPolicy, s: usize, t: SimTime) {
        if holds_for_missing_data(&self.input, s, &self.interval) {
            return;
        }
        self.pool.pod_times(&mut self.pods);
        let obs = Observation {
            tick: self.sched.tick - 1,
            now: t,
            current: self.pool.target(),
            ready: self.pool.ready(),
            pending: self.pool.starting(),
            capacity_per_replica: self.cfg.capacity_per_replica,
            step_ms: self.cfg.step_ms,
            forecast: forecast_view(&self.input, s, self.sched.window_steps),
            observed: self.interval.observed(),
            pods: &self.pods,
        };
        let want = policy.decide(&obs);
        self.pool.scale_to(t, want, &mut self.q);
        self.interval = IntervalStats::default();
    }

    /// The part of a step (demand `d` per step) from `start` to `end`, with ∫ ready up to
    /// `start` at `ready0`: capacity against demand, added to the interval unless the
    /// step was not observed; returns the demand served.
    fn part(&mut self, d: f64, start: u64, end: u64, ready0: f64, observed: bool) -> f64 {
        let cfg = self.cfg;
        let (step, cap) = (cfg.step_ms, cfg.capacity_per_replica);
        self.events_until(SimTime(end - 1));
        self.pool.advance(SimTime(end));
        let len = end - start;
        let weight = len as f64 / step as f64;
        let eff = (self.pool.ready_ms - ready0) / len as f64;
        let (latency, cpu) = cfg.load.evaluate(d, eff, cap);
        let utilization = if eff > 0.0 {
            (d / (eff * cap)).min(1.0)
        } else {
            1.0
        };
        if observed {
            self.interval.add(Part {
                len_ms: len,
                weight,
                demand: d,
                utilization,
                latency,
                cpu,
                ready: eff,
            });
        }
        (d * weight).min(eff * cap * weight)
    }
}

pub fn run(cfg: &SimConfig, input: RunInput<'_>, policy: &mut dyn ScalingPolicy) -> Timeline {
    let n = input.demand.len();
    let step = cfg.step_ms;
    let cap = cfg.capacity_per_replica;
    let safety_on = cfg.safety.enabled && policy.uses_safety_net();
    let mut f = Fluid {
        cfg,
        input,
        pool: ReplicaPool::new(
            cfg.initial_replicas,
            cfg.startup_delay_ms,
            Some(cfg.drain_ms),
        ),
        q: EventQueue::default(),
        sched: Schedule::new(cfg, policy),
        interval: IntervalStats::default(),
        pods: Vec::new(),
    };
    let mut tl = Timeline::default();
    for s in 0..n {
        let t = SimTime(s as u64 * step);
        f.events_until(t);
        f.pool.advance(t);
        let d = input.demand[s];
        let observed = !input.is_missing(s);
        if f.sched.due(t.ms()) {
            f.decide(policy, s, t);
        }
        // The safety net reads the same metrics as the policy: none in an outage.
        if safety_on && observed {
            let (lat, cpu) = cfg.load.evaluate(d, f.pool.ready() as f64, cap);
            if cfg.safety.trips(lat, cpu) {
                f.pool.scale_to(t, f.pool.target() + 1, &mut f.q);
                policy.on_external_scale(f.sched.tick - 1);
            }
        }
        let (ready_before, prov_before) = (f.pool.ready_ms, f.pool.provisioned_ms);
        tl.ready.push(f.pool.ready());
        tl.pending.push(f.pool.starting());
        tl.desired.push(f.pool.target());
        // The step in parts, cut at the decisions that fall inside it.
        let end = t.ms() + step;
        let (mut start, mut served) = (t.ms(), 0.0);
        loop {
            let part_end = f.sched.next_ms.min(end);
            let ready0 = f.pool.ready_ms;
            served += f.part(d, start, part_end, ready0, observed);
            if part_end == end {
                break;
            }
            let at = SimTime(part_end);
            f.events_until(at);
            f.sched.due(part_end);
            f.decide(policy, s, at);
            start = part_end;
        }
        let eff = (f.pool.ready_ms - ready_before) / step as f64;
        let (lat, cpu) = cfg.load.evaluate(d, eff, cap);
        tl.demand.push(d);
        tl.forecast.push(
            input
                .forecast
                .filter(|f| f.covers(input.first_step + s))
                .map_or(f64::NAN, |f| f.point(input.first_step + s, 0)),
        );
        tl.planned.push(policy.last_planned());
        tl.ready_effective.push(eff);
        tl.provisioned_ms.push(f.pool.provisioned_ms - prov_before);
        tl.served.push(served);
        tl.dropped.push(d - served);
        tl.latency_ms.push(lat);
        tl.latency_p95_ms.push(lat);
        tl.cpu_pct.push(cpu);
    }
    tl.missing = input.missing.to_vec();
    tl
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{ForecastTable, QUANTILES};
    use crate::policy::PolicySpec;

    /// A perfect forecast of `demand` for `horizon` steps ahead.
    fn oracle(demand: &[f64], horizon: usize) -> ForecastTable {
        let point: Vec<f64> = (0..demand.len())
            .flat_map(|i| (0..horizon).map(move |h| (i, h)))
            .map(|(i, h)| demand[(i + h).min(demand.len() - 1)])
            .collect();
        let quantiles = point.iter().flat_map(|&p| [p; QUANTILES.len()]).collect();
        ForecastTable {
            forecaster: "oracle".into(),
            first_step: 0,
            horizon,
            point,
            quantiles,
        }
    }

    fn run_policy(toml_spec: &str, delay_steps: u64, demand: &[f64]) -> Timeline {
        let cfg = SimConfig {
            startup_delay_ms: delay_steps * 60_000,
            safety: crate::sim::SafetyNet {
                enabled: false,
                ..Default::default()
            },
            ..SimConfig::default()
        };
        let table = oracle(demand, 4);
        let mut p = toml::from_str::<PolicySpec>(toml_spec).unwrap().build();
        run(
            &cfg,
            RunInput {
                missing: &[],
                replay: None,
                demand,
                first_step: 0,
                forecast: Some(&table),
                seed: 0,
            },
            p.as_mut(),
        )
    }

    #[test]
    fn cold_starts_delay_capacity_and_lead_time_hides_them() {
        let mut demand = vec![40.0; 10];
        demand.extend([200.0; 10]);
        // Perfect forecast, no lead: the 8 replicas asked for at step 10 serve from step 12.
        let tl = run_policy("kind = \"simple_ceiling\"", 2, &demand);
        assert_eq!(&tl.ready[9..14], &[2, 2, 2, 8, 8]);
        assert_eq!(tl.desired[10], 8);
        assert!(tl.dropped[10] > 0.0 && tl.dropped[11] > 0.0 && tl.dropped[12] == 0.0);
        // Provisioning for 2 steps ahead covers the start-up delay.
        let tl = run_policy("kind = \"simple_ceiling\"\nlead_steps = 2", 2, &demand);
        assert!(tl.dropped.iter().all(|&d| d == 0.0), "{:?}", tl.dropped);
        // Paid time includes starting replicas: 2 steps × 6 extra replicas more than served.
        let paid: f64 = tl.provisioned_ms.iter().sum::<f64>() / 60_000.0;
        let served: f64 = tl.ready_effective.iter().sum();
        assert!((paid - served - 12.0).abs() < 1e-9, "{paid} vs {served}");
    }

    #[test]
    fn decisions_happen_only_on_the_decision_interval() {
        let demand: Vec<f64> = (0..12).map(|i| 25.0 * (1 + i) as f64).collect();
        let cfg = SimConfig {
            decision_interval_ms: 180_000,
            safety: crate::sim::SafetyNet {
                enabled: false,
                ..Default::default()
            },
            ..SimConfig::default()
        };
        let table = oracle(&demand, 4);
        let mut p = toml::from_str::<PolicySpec>("kind = \"simple_ceiling\"")
            .unwrap()
            .build();
        let tl = run(
            &cfg,
            RunInput {
                missing: &[],
                replay: None,
                demand: &demand,
                first_step: 0,
                forecast: Some(&table),
                seed: 0,
            },
            p.as_mut(),
        );
        // Each decision provisions for the highest forecast over the 3 steps it governs.
        assert_eq!(tl.ready, vec![3, 3, 3, 6, 6, 6, 9, 9, 9, 12, 12, 12]);
    }
}
