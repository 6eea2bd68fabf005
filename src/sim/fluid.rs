//! Fluid fidelity: per step, the capacity of the ready replicas against demand.
//! With zero start-up delay and a decision every step this is the prototype's
//! simulator exactly (replicas change at the step where the policy decides).

use super::cluster::{PoolEvent, ReplicaPool};
use super::engine::EventQueue;
use super::measure::Meter;
use super::{RunInput, SimConfig, StepRecord, Timeline};
use crate::policy::control::{ControlSettings, ControlStep, Reading};
use crate::policy::{ForecastView, Observed, PodTimes, ScalingPolicy};
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
    pub concurrency: f64,
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
    /// Requests in the system (queued, buffered or in service), time-averaged.
    pub concurrency: f64,
}

impl IntervalStats {
    pub fn add(&mut self, p: Part) {
        self.weight += p.weight;
        self.demand += p.weight * p.demand;
        self.utilization += p.weight * p.utilization;
        self.latency_max = self.latency_max.max(p.latency);
        self.cpu += p.weight * p.cpu;
        self.ready += p.weight * p.ready;
        self.concurrency += p.weight * p.concurrency;
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
                concurrency: self.concurrency / n,
                window_ms: self.window_ms,
            }
        })
    }
}

/// True when a decision in window step `s` has no data at all: nothing observed since
/// the last decision, because of missing steps (the one it falls in or the one before).
/// The controller then holds — the HPA's rule when its metrics cannot be read, and every
/// other policy's too.
pub(crate) fn holds_for_missing_data(missing: &[bool], s: usize, since: &IntervalStats) -> bool {
    let is = |i: usize| missing.get(i).copied().unwrap_or(false);
    since.weight == 0.0 && (is(s) || (s > 0 && is(s - 1)))
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
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    pub interval_ms: u64,
    pub next_ms: u64,
    pub window_steps: usize,
    pub tick: u64,
    /// How the decisions read demand, when it is measured ([`SimConfig::measurement`]).
    pub meter: Option<Meter>,
}

impl Schedule {
    /// The schedule of a run over `input`'s demand.
    pub fn new(cfg: &SimConfig, policy: &dyn ScalingPolicy, input: &RunInput<'_>) -> Schedule {
        let interval_ms = policy
            .decision_interval_ms()
            .unwrap_or(cfg.decision_interval_ms)
            .max(1);
        Schedule {
            interval_ms,
            next_ms: 0,
            window_steps: (interval_ms / cfg.step_ms.max(1)).max(1) as usize,
            tick: 0,
            meter: cfg
                .measurement
                .map(|m| Meter::new(m, input.history, input.demand, cfg.step_ms, interval_ms)),
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

/// The control settings a simulated run decides with.
pub(crate) fn control_settings(cfg: &SimConfig) -> ControlSettings {
    ControlSettings {
        capacity_per_replica: cfg.capacity_per_replica,
        step_ms: cfg.step_ms,
        safety: cfg.safety,
        max_replicas: super::MAX_REPLICAS,
    }
}

/// The reading for a decision at `t` inside window step `s`, from the pool and the
/// interval since the last decision.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reading<'a>(
    cfg: &SimConfig,
    input: &RunInput<'a>,
    pool: &ReplicaPool,
    pods: &'a [PodTimes],
    sched: &Schedule,
    since: &IntervalStats,
    s: usize,
    t: SimTime,
) -> Reading<'a> {
    Reading {
        tick: sched.tick - 1,
        now: t,
        current: pool.target(),
        ready: pool.ready(),
        pending: pool.starting(),
        pods,
        observed: since.observed().map(|mut o| {
            if let Some(m) = &sched.meter {
                o.demand_per_step = m.observe(t.ms());
            }
            o
        }),
        metrics_missing: holds_for_missing_data(input.missing, s, since) || cfg.metrics_out(t.ms()),
        forecast: forecast_view(input, s, sched.window_steps),
    }
}

/// The point forecast for window step `s`, made at it (NaN without one).
pub(crate) fn forecast_point(input: &RunInput<'_>, s: usize) -> f64 {
    forecast_view(input, s, 1).map_or(f64::NAN, |v| v.table.point(v.step, 0))
}

/// The replica pool of a fluid run and what it measured since the last decision: the
/// simulator's cluster, which the simulated live backend runs too.
pub(crate) struct FluidCluster {
    pub cfg: SimConfig,
    pub pool: ReplicaPool,
    q: EventQueue<PoolEvent>,
    /// Measurements since the last decision.
    pub interval: IntervalStats,
    pub pods: Vec<PodTimes>,
    mean_service_ms: f64,
}

impl FluidCluster {
    pub fn new(cfg: &SimConfig) -> FluidCluster {
        FluidCluster {
            mean_service_ms: cfg.mean_service_ms(),
            pool: ReplicaPool::new(
                cfg.initial_replicas,
                cfg.startup_delay_ms,
                Some(cfg.drain_ms),
            ),
            cfg: cfg.clone(),
            q: EventQueue::default(),
            interval: IntervalStats::default(),
            pods: Vec::new(),
        }
    }

    /// Applies the pool events up to and including `t`.
    fn events_until(&mut self, t: SimTime) {
        while let Some((et, ev)) = self.q.pop_until(t) {
            self.pool.apply(et, ev);
        }
    }

    /// Brings the pool to time `t` (events applied, replica time integrated).
    pub fn at(&mut self, t: SimTime) {
        self.events_until(t);
        self.pool.advance(t);
    }

    /// Scales to `n` replicas at `t`.
    pub fn scale_to(&mut self, t: SimTime, n: u32) {
        self.pool.scale_to(t, n, &mut self.q);
    }

    /// A decision was applied: measurements start afresh.
    pub fn decided(&mut self) {
        self.interval = IntervalStats::default();
    }

    /// The modelled latency and CPU of demand `d` on the replicas ready now: what the
    /// safety net reads in fluid mode.
    pub fn health(&self, d: f64) -> (f64, f64) {
        let cfg = &self.cfg;
        cfg.load
            .evaluate(d, self.pool.ready() as f64, cfg.capacity_per_replica)
    }

    /// The part of a step (demand `d` per step) from `start` to `end`, with ∫ ready up to
    /// `start` at `ready0`: capacity against demand, added to the interval unless the
    /// step was not observed; returns the demand served.
    pub fn part(&mut self, d: f64, start: u64, end: u64, ready0: f64, observed: bool) -> f64 {
        let (step, cap) = (self.cfg.step_ms, self.cfg.capacity_per_replica);
        self.events_until(SimTime(end - 1));
        self.pool.advance(SimTime(end));
        let len = end - start;
        let weight = len as f64 / step as f64;
        let eff = (self.pool.ready_ms - ready0) / len as f64;
        let (latency, cpu) = self.cfg.load.evaluate(d, eff, cap);
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
                // Offered load in requests (Little's law): the arrival rate times the
                // mean service time, what a queue-proxy would count in flight.
                concurrency: d / step as f64 * self.mean_service_ms,
            });
        }
        (d * weight).min(eff * cap * weight)
    }

    /// The effective ready replicas, latency and CPU of a whole step of demand `d` that
    /// started with `ready_before` replica-ms of ready time.
    pub fn step_figures(&self, d: f64, ready_before: f64) -> (f64, f64, f64) {
        let cfg = &self.cfg;
        let eff = (self.pool.ready_ms - ready_before) / cfg.step_ms as f64;
        let (lat, cpu) = cfg.load.evaluate(d, eff, cfg.capacity_per_replica);
        (eff, lat, cpu)
    }
}

/// One decision at `t` inside window step `s`: read, decide, scale the pool.
fn decide(
    c: &mut FluidCluster,
    control: &mut ControlStep<'_>,
    input: &RunInput<'_>,
    sched: &Schedule,
    s: usize,
    t: SimTime,
) {
    c.pool.pod_times(&mut c.pods);
    let r = reading(&c.cfg, input, &c.pool, &c.pods, sched, &c.interval, s, t);
    let d = control.decide(&r);
    if !d.held {
        c.scale_to(t, d.desired);
        c.decided();
    }
}

pub fn run(cfg: &SimConfig, input: RunInput<'_>, policy: &mut dyn ScalingPolicy) -> Timeline {
    let n = input.demand.len();
    let step = cfg.step_ms;
    let mut sched = Schedule::new(cfg, policy, &input);
    policy.prime(input.history, cfg.step_ms);
    let mut control = ControlStep::new(policy, control_settings(cfg));
    let mut c = FluidCluster::new(cfg);
    let mut tl = Timeline::default();
    for s in 0..n {
        let t = SimTime(s as u64 * step);
        c.at(t);
        let d = input.demand[s];
        let observed = !input.is_missing(s);
        // Before the step's first decision, so that a cold start it makes counts in it.
        let zero_before = c.pool.zero_figures();
        if sched.due(t.ms()) {
            decide(&mut c, &mut control, &input, &sched, s, t);
        }
        // The safety net reads the step's modelled latency and CPU: none in an outage.
        let health = (observed && !cfg.metrics_out(t.ms())).then(|| c.health(d));
        if let Some(n) = control.guard(sched.tick - 1, c.pool.target(), health) {
            c.scale_to(t, n);
        }
        let (ready_before, prov_before) = (c.pool.ready_ms, c.pool.provisioned_ms);
        let (ready, pending, desired) = (c.pool.ready(), c.pool.starting(), c.pool.target());
        // The step in parts, cut at the decisions that fall inside it.
        let end = t.ms() + step;
        let (mut start, mut served) = (t.ms(), 0.0);
        loop {
            let part_end = sched.next_ms.min(end);
            let ready0 = c.pool.ready_ms;
            served += c.part(d, start, part_end, ready0, observed);
            if part_end == end {
                break;
            }
            let at = SimTime(part_end);
            c.events_until(at);
            sched.due(part_end);
            decide(&mut c, &mut control, &input, &sched, s, at);
            start = part_end;
        }
        let (eff, lat, cpu) = c.step_figures(d, ready_before);
        let (cold_starts, no_ready_ms, zero_ms) = c.pool.zero_figures().since(zero_before);
        tl.push(StepRecord {
            demand: d,
            forecast: forecast_point(&input, s),
            planned: control.planned(),
            desired,
            ready,
            pending,
            ready_effective: eff,
            provisioned_ms: c.pool.provisioned_ms - prov_before,
            served,
            dropped: d - served,
            latency_ms: lat,
            latency_p95_ms: lat,
            cpu_pct: cpu,
            cold_starts,
            no_ready_ms,
            zero_ms,
            missing: !observed,
        });
    }
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
                history: &[],
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
                history: &[],
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
