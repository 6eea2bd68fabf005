//! Request fidelity: Poisson arrivals at the trace's rate inside each step (or, for a
//! request log, its own arrivals replayed exactly, with service times from each
//! request's sizes when asked), a load-balancer FIFO queue with a limit (arrivals beyond it are dropped), replicas
//! with `concurrency` service slots each, and service times from a chosen
//! distribution. With c slots in total this is an M/G/c/K queue; with exponential
//! service and a large limit, M/M/c (validated against Erlang-C).

mod draws;

use hdrhistogram::Histogram;
use std::collections::VecDeque;

use draws::{Arrivals, Service, Source, DRAW};

use super::cluster::{PoolEvent, ReplicaPool, ScaleChange};
use super::engine::EventQueue;
use super::fluid::{control_settings, forecast_point, reading, IntervalStats, Part, Schedule};
use super::{RequestRecord, RequestStats, RunInput, SimConfig, StepRecord, Timeline};
use crate::policy::control::ControlStep;
use crate::policy::{PodTimes, ScalingPolicy};
use crate::rng::{stream_rng, Stream};
use crate::time::SimTime;

#[derive(Debug, Clone, Copy)]
enum Ev {
    Pool(PoolEvent),
    /// `service`: ms it holds the slot (u32 keeps the event as small as before).
    Departure {
        replica: u32,
        service: u32,
        arrived: u64,
    },
}

/// A request waiting for a slot.
#[derive(Debug, Clone, Copy)]
struct Queued {
    arrived: u64,
    svc: u64,
    cold: bool,
}

const READY: u8 = 1;
const DRAINING: u8 = 2;

struct Sim<'a> {
    cfg: &'a SimConfig,
    /// Window steps not observed: their requests are simulated but not scored.
    missing: &'a [bool],
    pool: ReplicaPool,
    q: EventQueue<Ev>,
    pool_q: EventQueue<PoolEvent>,
    state: Vec<u8>,
    busy: Vec<u32>,
    free: Vec<u32>,
    /// Queued requests: arrival time, service time ([`DRAW`]: drawn at the start) and
    /// whether it arrived with no replica ready (buffered in the activator).
    waiting: VecDeque<Queued>,
    /// Activator waits (ms) of the cold requests served.
    cold_hist: Histogram<u64>,
    /// Arrivals so far (all, scored or not): what the controller counts.
    arrivals: u64,
    service: Service,
    busy_total: u64,
    ready_slots: u64,
    last: u64,
    busy_ms: f64,
    slot_ms: f64,
    step_latencies: Vec<u64>,
    step_served: u64,
    step_dropped: u64,
    hist: Histogram<u64>,
    stats: RequestStats,
    latency_sum: f64,
    /// Reused buffer for the observation's replica times.
    pods: Vec<PodTimes>,
}

impl Sim<'_> {
    fn integrate(&mut self, now: u64) {
        let dt = (now - self.last) as f64;
        self.busy_ms += dt * self.busy_total as f64;
        self.slot_ms += dt * self.ready_slots as f64;
        self.stats.in_system_ms += dt * (self.busy_total as f64 + self.waiting.len() as f64);
        self.last = now;
    }

    fn ensure(&mut self, id: u32) {
        let need = id as usize + 1;
        if self.state.len() < need {
            self.state.resize(need, 0);
            self.busy.resize(need, 0);
        }
    }

    fn make_ready(&mut self, now: u64, id: u32) {
        self.ensure(id);
        self.state[id as usize] = READY;
        self.ready_slots += self.cfg.requests.concurrency as u64;
        for _ in 0..self.cfg.requests.concurrency {
            self.free.push(id);
        }
        self.dispatch_waiting(now);
    }

    fn apply_change(&mut self, now: u64, change: ScaleChange) {
        for id in change.ready_now {
            self.make_ready(now, id);
        }
        for id in change.draining {
            self.state[id as usize] = DRAINING;
            self.ready_slots -= self.cfg.requests.concurrency as u64;
            if self.busy[id as usize] == 0 {
                self.pool.remove(SimTime(now), id);
            }
        }
        while let Some((t, ev)) = self.pool_q.pop() {
            self.q.push(t, Ev::Pool(ev));
        }
    }

    /// Takes a free slot of a ready replica (stale entries of drained replicas are skipped).
    fn take_slot(&mut self) -> Option<u32> {
        while let Some(id) = self.free.pop() {
            if self.state[id as usize] == READY {
                return Some(id);
            }
        }
        None
    }

    fn start(&mut self, now: u64, id: u32, q: Queued) {
        let Queued { arrived, svc, cold } = q;
        if now > arrived {
            self.stats.waited += 1;
            self.stats.wait_sum_ms += (now - arrived) as f64;
        }
        if cold && self.scored(arrived) {
            self.cold_hist.saturating_record((now - arrived).max(1));
        }
        self.busy[id as usize] += 1;
        self.busy_total += 1;
        let svc = if svc == DRAW {
            self.service.draw()
        } else {
            svc
        };
        self.q.push(
            SimTime(now + svc),
            Ev::Departure {
                replica: id,
                service: svc.min(u32::MAX as u64) as u32,
                arrived,
            },
        );
    }

    fn dispatch_waiting(&mut self, now: u64) {
        while !self.waiting.is_empty() {
            let Some(id) = self.take_slot() else { break };
            match self.next_waiting(now) {
                Some(q) => self.start(now, id, q),
                None => self.free.push(id),
            }
        }
    }

    /// The first queued request still wanted at `now`: buffered ones that waited past
    /// the activator's time-out are dropped on the way.
    fn next_waiting(&mut self, now: u64) -> Option<Queued> {
        let timeout = self.cfg.requests.activator.timeout_ms;
        while let Some(q) = self.waiting.pop_front() {
            if q.cold && now - q.arrived > timeout {
                self.drop_request(q.arrived);
                self.stats.activator_timeouts += self.scored(q.arrived) as u64;
                continue;
            }
            return Some(q);
        }
        None
    }

    /// Counts a request that arrived at `arrived` as dropped now.
    fn drop_request(&mut self, arrived: u64) {
        self.stats.dropped += self.scored(arrived) as u64;
        self.step_dropped += 1;
        if self.cfg.requests.record {
            self.stats.log.push(RequestRecord {
                at_ms: arrived,
                latency_ms: 0,
                service_ms: 0,
                served: false,
            });
        }
    }

    /// Whether a request that arrived at `t_ms` is scored (its step was observed).
    fn scored(&self, t_ms: u64) -> bool {
        !self
            .missing
            .get((t_ms / self.cfg.step_ms.max(1)) as usize)
            .copied()
            .unwrap_or(false)
    }

    fn arrive(&mut self, now: u64, svc: u64) {
        let scored = self.scored(now);
        self.stats.arrived += scored as u64;
        self.arrivals += 1;
        // No replica ready: the activator buffers it until one is (a cold start).
        let cold = self.ready_slots == 0;
        self.stats.cold_requests += (cold && scored) as u64;
        let limit = if cold {
            self.cfg.requests.activator.capacity
        } else {
            self.cfg.requests.queue_limit
        };
        let q = Queued {
            arrived: now,
            svc,
            cold,
        };
        if let Some(id) = self.take_slot() {
            self.start(now, id, q);
        } else if self.waiting.len() < limit {
            self.waiting.push_back(q);
        } else {
            self.drop_request(now);
        }
    }

    fn handle(&mut self, now: u64, ev: Ev) {
        self.stats.events += 1;
        match ev {
            Ev::Departure {
                replica,
                service,
                arrived,
            } => {
                let lat = now - arrived;
                if self.cfg.requests.record {
                    self.stats.log.push(RequestRecord {
                        at_ms: arrived,
                        latency_ms: lat,
                        service_ms: service as u64,
                        served: true,
                    });
                }
                self.busy[replica as usize] -= 1;
                self.busy_total -= 1;
                self.step_served += 1;
                if self.scored(arrived) {
                    self.stats.served += 1;
                    self.latency_sum += lat as f64;
                    if lat as f64 > self.cfg.requests.slo_ms {
                        self.stats.slo_violations += 1;
                    }
                    self.hist.saturating_record(lat.max(1));
                }
                self.step_latencies.push(lat);
                match self.state[replica as usize] {
                    READY => {
                        if let Some(q) = self.next_waiting(now) {
                            self.start(now, replica, q);
                        } else {
                            self.free.push(replica);
                        }
                    }
                    _ => {
                        if self.busy[replica as usize] == 0 {
                            self.pool.remove(SimTime(now), replica);
                        }
                    }
                }
            }
            Ev::Pool(pe) => {
                if self.pool.apply(SimTime(now), pe) {
                    if let PoolEvent::Ready(id) = pe {
                        self.make_ready(now, id);
                    }
                }
            }
        }
    }
}

fn p95(v: &mut [u64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1;
    *v.select_nth_unstable(k).1 as f64
}

/// Where the current part of a step began (a step is cut at the decisions inside it).
#[derive(Debug, Clone, Copy)]
struct Mark {
    t: u64,
    busy_ms: f64,
    slot_ms: f64,
    in_system_ms: f64,
    arrivals: u64,
    latencies: usize,
}

impl Sim<'_> {
    fn mark(&self, t: u64) -> Mark {
        Mark {
            t,
            busy_ms: self.busy_ms,
            slot_ms: self.slot_ms,
            in_system_ms: self.stats.in_system_ms,
            arrivals: self.arrivals,
            latencies: self.step_latencies.len(),
        }
    }

    /// Processes every event and arrival strictly before `until`, then integrates to it.
    fn run_until(&mut self, until: u64, arrivals: &mut Source<'_>, next: &mut Option<(f64, u64)>) {
        loop {
            let heap_t = self.q.peek_time().map(|t| t.ms()).filter(|&h| h < until);
            let arr_t = next.map(|a| a.0.round() as u64).filter(|&a| a < until);
            match (heap_t, arr_t) {
                (Some(h), a) if a.is_none_or(|a| h <= a) => {
                    let (t, ev) = self.q.pop().unwrap();
                    self.integrate(t.ms());
                    self.handle(t.ms(), ev);
                }
                (_, Some(a)) => {
                    self.integrate(a);
                    self.stats.events += 1;
                    self.arrive(a, next.map_or(DRAW, |n| n.1));
                    *next = arrivals.next();
                }
                // (Some, None) took the first arm.
                _ => break,
            }
        }
        self.integrate(until);
        self.pool.advance(SimTime(until));
    }

    /// The part of a step since `m`, ending now at `now`, as interval figures: the
    /// demand is the arrivals counted in it (per step), as a live controller counts them.
    fn part(&mut self, m: Mark, now: u64, step: u64) -> Part {
        let busy = self.busy_ms - m.busy_ms;
        let slots = self.slot_ms - m.slot_ms;
        let util = if slots > 0.0 { busy / slots } else { 1.0 };
        let len = now - m.t;
        let demand = if len > 0 {
            (self.arrivals - m.arrivals) as f64 * step as f64 / len as f64
        } else {
            0.0
        };
        Part {
            len_ms: len,
            weight: len as f64 / step as f64,
            demand,
            utilization: util.min(1.0),
            latency: p95(&mut self.step_latencies[m.latencies..]),
            cpu: 100.0 * util.min(1.0),
            ready: slots / self.cfg.requests.concurrency as f64 / len as f64,
            concurrency: (self.stats.in_system_ms - m.in_system_ms) / len as f64,
        }
    }

    /// One decision at `now` inside window step `s`.
    fn decide(
        &mut self,
        input: &RunInput<'_>,
        control: &mut ControlStep<'_>,
        sched: &Schedule,
        interval: &mut IntervalStats,
        s: usize,
        now: u64,
    ) {
        let mut pods = std::mem::take(&mut self.pods);
        self.pool.pod_times(&mut pods);
        let r = reading(
            self.cfg,
            input,
            &self.pool,
            &pods,
            sched,
            interval,
            s,
            SimTime(now),
        );
        let d = control.decide(&r);
        self.pods = pods;
        if !d.held {
            self.scale_to(now, d.desired);
            *interval = IntervalStats::default();
        }
    }

    /// Scales the pool to `n` at `now` and puts new or cancelled slots into service.
    fn scale_to(&mut self, now: u64, n: u32) {
        let change = self.pool.scale_to(SimTime(now), n, &mut self.pool_q);
        self.apply_change(now, change);
    }
}

/// The figures at the start of the step being simulated.
#[derive(Debug, Clone, Copy, Default)]
struct StepStart {
    busy_ms: f64,
    slot_ms: f64,
    provisioned_ms: f64,
    zero: super::cluster::ZeroFigures,
    /// Ready, starting and target replicas.
    ready: u32,
    starting: u32,
    target: u32,
}

impl<'a> Sim<'a> {
    /// A cluster at time 0 with the initial replicas ready.
    fn new(cfg: &'a SimConfig, input: &RunInput<'a>) -> Sim<'a> {
        let mean_service = cfg.mean_service_ms();
        let mut sim = Sim {
            cfg,
            missing: input.missing,
            pool: ReplicaPool::new(cfg.initial_replicas, cfg.startup_delay_ms, None),
            q: EventQueue::default(),
            pool_q: EventQueue::default(),
            state: Vec::new(),
            busy: Vec::new(),
            free: Vec::new(),
            waiting: VecDeque::new(),
            cold_hist: Histogram::new_with_bounds(1, 8_640_000_000, 3).expect("histogram bounds"),
            arrivals: 0,
            service: Service::new(
                cfg.requests.service.clone(),
                mean_service,
                stream_rng(input.seed, 0, Stream::Service),
            ),
            busy_total: 0,
            ready_slots: 0,
            last: 0,
            busy_ms: 0.0,
            slot_ms: 0.0,
            step_latencies: Vec::new(),
            step_served: 0,
            step_dropped: 0,
            // 1 ms to 100 days at 3 significant digits.
            hist: Histogram::new_with_bounds(1, 8_640_000_000, 3).expect("histogram bounds"),
            stats: RequestStats::default(),
            latency_sum: 0.0,
            pods: Vec::new(),
        };
        for id in 0..cfg.initial_replicas {
            sim.make_ready(0, id);
        }
        sim
    }

    fn step_start(&self) -> StepStart {
        StepStart {
            busy_ms: self.busy_ms,
            slot_ms: self.slot_ms,
            provisioned_ms: self.pool.provisioned_ms,
            zero: self.pool.zero_figures(),
            ready: self.pool.ready(),
            starting: self.pool.starting(),
            target: self.pool.target(),
        }
    }

    /// Closes window step `s` (which began at `start`, last decided at `mark`) at
    /// `boundary`: its last part goes into the decision interval, and its record is
    /// returned with the (p95, CPU) the safety net reads when the step was observed.
    fn close_step(
        &mut self,
        input: &RunInput<'_>,
        s: usize,
        boundary: u64,
        (mark, start): (Mark, StepStart),
        interval: &mut IntervalStats,
        planned: f64,
    ) -> (StepRecord, Option<(f64, f64)>) {
        let step = self.cfg.step_ms;
        let d = input.demand[s];
        let part = self.part(mark, boundary, step);
        if !input.is_missing(s) {
            interval.add(part);
        }
        let busy = self.busy_ms - start.busy_ms;
        let slots = self.slot_ms - start.slot_ms;
        let util = if slots > 0.0 { busy / slots } else { 1.0 };
        let cpu = 100.0 * util.min(1.0);
        let mean = if self.step_latencies.is_empty() {
            0.0
        } else {
            self.step_latencies.iter().sum::<u64>() as f64 / self.step_latencies.len() as f64
        };
        // A step that is one part already has its p95.
        let p = if mark.t + step == boundary {
            part.latency
        } else {
            p95(&mut self.step_latencies)
        };
        let (cold_starts, no_ready_ms, zero_ms) = self.pool.zero_figures().since(start.zero);
        let record = StepRecord {
            demand: d,
            forecast: forecast_point(input, s),
            planned,
            desired: start.target,
            ready: start.ready,
            pending: start.starting,
            ready_effective: slots / self.cfg.requests.concurrency as f64 / step as f64,
            provisioned_ms: self.pool.provisioned_ms - start.provisioned_ms,
            served: self.step_served as f64,
            dropped: self.step_dropped as f64,
            latency_ms: mean,
            latency_p95_ms: p,
            cpu_pct: cpu,
            cold_starts,
            no_ready_ms,
            zero_ms,
            missing: input.is_missing(s),
        };
        self.step_latencies.clear();
        self.step_served = 0;
        self.step_dropped = 0;
        (record, (!input.is_missing(s)).then_some((p, cpu)))
    }

    /// Completes the requests still queued or in service with the replicas left (their
    /// completions count in the last step) and the run's latency figures.
    fn finish(mut self, mut tl: Timeline) -> (Timeline, RequestStats) {
        while !self.waiting.is_empty() || self.busy_total > 0 {
            let Some((t, ev)) = self.q.pop() else { break };
            self.integrate(t.ms());
            self.handle(t.ms(), ev);
        }
        // Requests still buffered with no replica left to serve them: timed out.
        while let Some(q) = self.waiting.pop_front() {
            self.drop_request(q.arrived);
            self.stats.activator_timeouts += (q.cold && self.scored(q.arrived)) as u64;
        }
        if let Some(last) = tl.served.last_mut() {
            *last += self.step_served as f64;
        }
        if let Some(last) = tl.dropped.last_mut() {
            *last += self.step_dropped as f64;
        }
        self.stats.duration_ms = self.last as f64;
        // Pushed as they left; ties of one millisecond stay in that order.
        self.stats.log.sort_by_key(|r| r.at_ms);
        let st = &mut self.stats;
        if st.served > 0 {
            st.latency_mean_ms = self.latency_sum / st.served as f64;
            st.latency_p50_ms = self.hist.value_at_quantile(0.5) as f64;
            st.latency_p95_ms = self.hist.value_at_quantile(0.95) as f64;
            st.latency_p99_ms = self.hist.value_at_quantile(0.99) as f64;
        }
        let cold = &self.cold_hist;
        let q = |p: f64| {
            if cold.is_empty() {
                f64::NAN
            } else {
                cold.value_at_quantile(p) as f64
            }
        };
        st.activator_wait_p50_ms = q(0.5);
        st.activator_wait_p95_ms = q(0.95);
        st.activator_wait_p99_ms = q(0.99);
        (tl, self.stats)
    }
}

/// Where a run's arrivals come from: the request log's own, or Poisson at the trace's rate.
fn arrivals<'a>(input: &RunInput<'a>, step_ms: u64) -> Source<'a> {
    match input.replay {
        Some(r) => Source::Replay {
            t_ms: r.t_ms,
            offset_ms: r.offset_ms,
            service_ms: r.service_ms,
            i: 0,
        },
        None => Source::Poisson(Box::new(Arrivals {
            demand: input.demand,
            step_ms: step_ms as f64,
            clock: 0.0,
            rng: stream_rng(input.seed, 0, Stream::Arrivals),
        })),
    }
}

pub fn run(
    cfg: &SimConfig,
    input: RunInput<'_>,
    policy: &mut dyn ScalingPolicy,
) -> (Timeline, RequestStats) {
    let n = input.demand.len();
    let step = cfg.step_ms;
    let mut sim = Sim::new(cfg, &input);
    let mut arrivals = arrivals(&input, step);
    let mut next_arrival = arrivals.next();
    let mut tl = Timeline::default();
    let mut sched = Schedule::new(cfg, policy, &input);
    policy.prime(input.history, cfg.step_ms);
    let mut control = ControlStep::new(policy, control_settings(cfg));
    let mut interval = IntervalStats::default();
    let mut start = StepStart::default();
    let mut mark = sim.mark(0);
    // (p95, CPU) of the previous step, when it was observed.
    let mut last_step: Option<(f64, f64)> = None;
    for s in 0..=n {
        let boundary = s as u64 * step;
        // Decisions inside the step that ends at this boundary.
        while s > 0 && sched.next_ms < boundary {
            let at = sched.next_ms;
            sim.run_until(at, &mut arrivals, &mut next_arrival);
            let part = sim.part(mark, at, step);
            if !input.is_missing(s - 1) {
                interval.add(part);
            }
            sched.due(at);
            sim.decide(&input, &mut control, &sched, &mut interval, s - 1, at);
            mark = sim.mark(at);
        }
        sim.run_until(boundary, &mut arrivals, &mut next_arrival);
        sim.stats.events += 1;
        if s > 0 {
            let planned = control.planned();
            let (record, measured) = sim.close_step(
                &input,
                s - 1,
                boundary,
                (mark, start),
                &mut interval,
                planned,
            );
            last_step = measured;
            tl.push(record);
        }
        if s == n {
            break;
        }
        // Before the boundary's decision, so that a cold start it makes counts in the step.
        let zero0 = sim.pool.zero_figures();
        if sched.due(boundary) {
            sim.decide(&input, &mut control, &sched, &mut interval, s, boundary);
        }
        // The safety net reads the last step's measured p95 and CPU: none when it was
        // not observed.
        let health = last_step.filter(|_| !cfg.metrics_out(boundary));
        if let Some(n) = control.guard(sched.tick - 1, sim.pool.target(), health) {
            sim.scale_to(boundary, n);
        }
        start = StepStart {
            zero: zero0,
            ..sim.step_start()
        };
        mark = sim.mark(boundary);
    }
    sim.finish(tl)
}

#[cfg(test)]
mod tests;
