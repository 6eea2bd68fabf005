//! The discrete-event cluster simulator: a replica pool with cold starts and draining,
//! a controller tick every decision interval, and two fidelities — `fluid` (capacity
//! against demand per step, seed-compatible) and `requests` (Poisson arrivals, a FIFO
//! queue with a limit, service-time distributions). No I/O here.

pub mod cluster;
pub mod engine;
pub mod fluid;
pub mod load_model;
pub mod measure;
pub mod optimal;
pub mod requests;
pub mod service_time;
pub mod theory;

use serde::{Deserialize, Serialize};

use crate::forecast::ForecastTable;
pub use crate::policy::control::SafetyNet;
use crate::policy::ScalingPolicy;
pub use load_model::LoadModel;
pub use measure::Measurement;
pub use service_time::{Empirical, ServiceTime};

/// Simulation fidelity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// Capacity against demand per step (the prototype's model, plus cold starts).
    #[default]
    Fluid,
    /// Request-level: Poisson arrivals, queueing, measured latency.
    Requests,
}

/// Request-mode parameters: `service`, `mean_ms` and `concurrency` describe the replica;
/// the policies size with `capacity_per_replica`, which need not be what the replica serves.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestConfig {
    pub service: ServiceTime,
    /// Mean service time (ms) of `exponential`, `deterministic` and `lognormal`; `None`:
    /// the one the policies' capacity implies (see [`SimConfig::mean_service_ms`]).
    pub mean_ms: Option<f64>,
    /// Requests one replica serves at once.
    pub concurrency: u32,
    /// Requests waiting in the load balancer's FIFO queue before arrivals are dropped.
    pub queue_limit: usize,
    /// Latency objective (ms) for the SLO-violation share.
    pub slo_ms: f64,
    /// Warn when `capacity_per_replica` and what the replica serves differ by more than
    /// this factor either way.
    pub mismatch_factor: f64,
    /// Keep every request's record in [`RequestStats::log`] (for `sim compare-live`).
    pub record: bool,
    /// Requests that arrive while no replica is ready wait in the activator's buffer.
    pub activator: Activator,
}

/// The buffer that holds requests while no replica is ready (Knative's activator, a
/// serverless platform's front end): bounded, with a time-out. Overflow and time-outs
/// count as dropped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activator {
    /// Requests it holds at most (Knative's activator breaker: 10 000).
    pub capacity: usize,
    /// Longest a buffered request waits before it is dropped (Knative's revision
    /// timeout: 300 s).
    pub timeout_ms: u64,
}

impl Default for Activator {
    fn default() -> Self {
        Activator {
            capacity: 10_000,
            timeout_ms: 300_000,
        }
    }
}

impl Default for RequestConfig {
    fn default() -> Self {
        RequestConfig {
            service: ServiceTime::Exponential,
            mean_ms: None,
            concurrency: 1,
            queue_limit: 10_000,
            slo_ms: 500.0,
            mismatch_factor: 1.25,
            record: false,
            activator: Activator::default(),
        }
    }
}

/// The most replicas a simulated service may have (each is tracked individually):
/// `initial_replicas` and `max_replicas` above it are refused before anything is allocated.
pub const MAX_REPLICAS: u32 = 1_000_000;

/// Everything the simulator needs besides the trace, forecast and policy.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub fidelity: Fidelity,
    pub step_ms: u64,
    /// Time between controller ticks (a multiple of the step).
    pub decision_interval_ms: u64,
    /// Cold start: a new replica serves this long after it is asked for.
    pub startup_delay_ms: u64,
    /// A removed replica keeps costing this long while it drains (fluid), or until its
    /// in-flight requests finish (requests).
    pub drain_ms: u64,
    /// Requests per step one replica serves.
    pub capacity_per_replica: f64,
    /// Ready replicas at the start.
    pub initial_replicas: u32,
    pub load: LoadModel,
    pub safety: SafetyNet,
    pub requests: RequestConfig,
    /// How the controller reads demand; `None`: exactly, the interval's own.
    pub measurement: Option<Measurement>,
    /// Windows `[start, end)` (ms from the start of the run) in which the controller's
    /// metrics cannot be read: decisions inside see `metrics_missing`, the safety net
    /// reads nothing.
    pub metric_outages: Vec<(u64, u64)>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            fidelity: Fidelity::Fluid,
            step_ms: 60_000,
            decision_interval_ms: 60_000,
            startup_delay_ms: 0,
            drain_ms: 0,
            capacity_per_replica: 25.0,
            initial_replicas: 2,
            load: LoadModel::default(),
            safety: SafetyNet::default(),
            requests: RequestConfig::default(),
            measurement: None,
            metric_outages: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Steps per decision (at least 1).
    pub fn decision_steps(&self) -> usize {
        (self.decision_interval_ms / self.step_ms.max(1)).max(1) as usize
    }
    /// The replica's mean service time (ms): the distribution's own, else `mean_ms`, else
    /// the one the policies' capacity implies, `concurrency · step / capacity_per_replica`
    /// (a replica then serves exactly the capacity it is sized with).
    pub fn mean_service_ms(&self) -> f64 {
        let r = &self.requests;
        r.service.own_mean_ms().or(r.mean_ms).unwrap_or_else(|| {
            r.concurrency as f64 * self.step_ms as f64 / self.capacity_per_replica
        })
    }
    /// True when the controller's metrics cannot be read at `t_ms` (a metric outage).
    pub fn metrics_out(&self, t_ms: u64) -> bool {
        self.metric_outages
            .iter()
            .any(|&(a, b)| a <= t_ms && t_ms < b)
    }
    /// Requests per step one replica serves at a service-time mean of `mean_ms`.
    pub fn served_per_step(&self, mean_ms: f64) -> f64 {
        self.requests.concurrency as f64 * self.step_ms as f64 / mean_ms
    }
    /// Checks the configuration, naming the offending key.
    pub fn validate(&self) -> Result<(), String> {
        if self.step_ms == 0 {
            return Err("step must be positive".into());
        }
        if self.decision_interval_ms == 0 || !self.decision_interval_ms.is_multiple_of(self.step_ms)
        {
            return Err(format!(
                "decision_interval_s ({} s) must be a positive multiple of the trace step ({} s)",
                self.decision_interval_ms as f64 / 1000.0,
                self.step_ms as f64 / 1000.0
            ));
        }
        if self.initial_replicas > MAX_REPLICAS {
            return Err(format!(
                "initial_replicas ({}) is over the simulator's limit of {MAX_REPLICAS} replicas",
                self.initial_replicas
            ));
        }
        if !(self.capacity_per_replica > 0.0 && self.capacity_per_replica.is_finite()) {
            return Err(format!(
                "capacity_per_replica must be positive, got {}",
                self.capacity_per_replica
            ));
        }
        if self.requests.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        self.requests.service.validate()?;
        if let Some(m) = &self.measurement {
            m.validate()?;
        }
        if let Some(m) = self.requests.mean_ms {
            if !(m > 0.0 && m.is_finite()) {
                return Err(format!("mean_ms must be a positive number of ms, got {m}"));
            }
        }
        if self.requests.activator.capacity == 0 {
            return Err("activator_capacity must be at least 1".into());
        }
        if !(self.requests.mismatch_factor >= 1.0) {
            return Err(format!(
                "capacity_mismatch_factor must be at least 1, got {}",
                self.requests.mismatch_factor
            ));
        }
        Ok(())
    }
}

/// What one run is fed: the demand of the simulated window and its forecasts.
#[derive(Debug, Clone, Copy)]
pub struct RunInput<'a> {
    /// Requests per step over the simulated window.
    pub demand: &'a [f64],
    /// Trace index of `demand[0]` (forecast rows are indexed by trace step).
    pub first_step: usize,
    /// Forecasts covering the window, when the policy uses them.
    pub forecast: Option<&'a ForecastTable>,
    /// Seed for the run's random streams (request mode).
    pub seed: u64,
    /// Steps of the window that were not observed (empty: none). The cluster still
    /// carries `demand` through them, but no policy observation, safety-net check or
    /// metric includes them.
    pub missing: &'a [bool],
    /// A request log's own arrivals, replayed exactly in request mode (no Poisson draw).
    pub replay: Option<Replay<'a>>,
    /// Demand per step just before the window (the trace's earlier steps), which a
    /// measured reading near the start counts ([`SimConfig::measurement`]); empty: none,
    /// the request counter starts at 0 with the window.
    pub history: &'a [f64],
}

/// Arrivals to replay: `t_ms[i] - offset_ms` ms into the window, all inside it.
#[derive(Debug, Clone, Copy)]
pub struct Replay<'a> {
    pub t_ms: &'a [u64],
    pub offset_ms: u64,
    /// Service time of each request (ms), when its sizes give one.
    pub service_ms: Option<&'a [u64]>,
}

impl RunInput<'_> {
    /// True when window step `s` was not observed.
    pub fn is_missing(&self, s: usize) -> bool {
        self.missing.get(s).copied().unwrap_or(false)
    }
}

/// Per-step record of a run (columnar).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub demand: Vec<f64>,
    /// Point forecast for the step, made at the step (NaN without a forecast).
    pub forecast: Vec<f64>,
    /// What the policy planned for at the last decision (forecast · buffer or quantile; NaN if none).
    pub planned: Vec<f64>,
    /// Replicas the controller asked for (after the safety net).
    pub desired: Vec<u32>,
    /// Replicas serving at the start of the step.
    pub ready: Vec<u32>,
    /// Replicas starting at the start of the step.
    pub pending: Vec<u32>,
    /// Capacity in replica-steps available during the step (fractional with cold starts).
    pub ready_effective: Vec<f64>,
    /// Replica-ms paid for during the step (starting + ready + draining).
    pub provisioned_ms: Vec<f64>,
    pub served: Vec<f64>,
    pub dropped: Vec<f64>,
    pub latency_ms: Vec<f64>,
    pub latency_p95_ms: Vec<f64>,
    pub cpu_pct: Vec<f64>,
    /// Scale-from-zero events during the step.
    pub cold_starts: Vec<u32>,
    /// Time (ms) in the step with no replica ready (arrivals wait for a cold start).
    pub no_ready_ms: Vec<f64>,
    /// Time (ms) in the step with no replica ready or starting (scaled to zero).
    pub zero_ms: Vec<f64>,
    /// Steps that were not observed (empty: none); metrics skip them.
    pub missing: Vec<bool>,
}

/// One step of a run, as every driver records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    pub demand: f64,
    pub forecast: f64,
    pub planned: f64,
    pub desired: u32,
    pub ready: u32,
    pub pending: u32,
    pub ready_effective: f64,
    pub provisioned_ms: f64,
    pub served: f64,
    pub dropped: f64,
    pub latency_ms: f64,
    pub latency_p95_ms: f64,
    pub cpu_pct: f64,
    pub cold_starts: u32,
    pub no_ready_ms: f64,
    pub zero_ms: f64,
    /// Not observed (an outage): metrics skip the step.
    pub missing: bool,
}

impl Timeline {
    /// Appends one step. `missing` is only kept once a step is missing (empty: none).
    pub fn push(&mut self, r: StepRecord) {
        if r.missing && self.missing.is_empty() {
            self.missing = vec![false; self.len()];
        }
        if !self.missing.is_empty() {
            self.missing.push(r.missing);
        }
        self.demand.push(r.demand);
        self.forecast.push(r.forecast);
        self.planned.push(r.planned);
        self.desired.push(r.desired);
        self.ready.push(r.ready);
        self.pending.push(r.pending);
        self.ready_effective.push(r.ready_effective);
        self.provisioned_ms.push(r.provisioned_ms);
        self.served.push(r.served);
        self.dropped.push(r.dropped);
        self.latency_ms.push(r.latency_ms);
        self.latency_p95_ms.push(r.latency_p95_ms);
        self.cpu_pct.push(r.cpu_pct);
        self.cold_starts.push(r.cold_starts);
        self.no_ready_ms.push(r.no_ready_ms);
        self.zero_ms.push(r.zero_ms);
    }
    pub fn len(&self) -> usize {
        self.demand.len()
    }
    pub fn is_empty(&self) -> bool {
        self.demand.is_empty()
    }

    /// Step `i` as it was pushed.
    pub fn step(&self, i: usize) -> StepRecord {
        StepRecord {
            demand: self.demand[i],
            forecast: self.forecast[i],
            planned: self.planned[i],
            desired: self.desired[i],
            ready: self.ready[i],
            pending: self.pending[i],
            ready_effective: self.ready_effective[i],
            provisioned_ms: self.provisioned_ms[i],
            served: self.served[i],
            dropped: self.dropped[i],
            latency_ms: self.latency_ms[i],
            latency_p95_ms: self.latency_p95_ms[i],
            cpu_pct: self.cpu_pct[i],
            cold_starts: self.cold_starts[i],
            no_ready_ms: self.no_ready_ms[i],
            zero_ms: self.zero_ms[i],
            missing: self.missing.get(i).copied().unwrap_or(false),
        }
    }

    /// The steps at `idx`, in that order (a bootstrap resample).
    pub fn select(&self, idx: &[usize]) -> Timeline {
        let mut t = Timeline::default();
        for &i in idx {
            t.push(self.step(i));
        }
        t
    }
}

/// Request-level results beyond the timeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestStats {
    pub arrived: u64,
    pub served: u64,
    pub dropped: u64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_mean_ms: f64,
    pub slo_violations: u64,
    /// Events processed (for throughput figures).
    pub events: u64,
    /// Requests that waited in the queue before service.
    pub waited: u64,
    /// Total queueing delay (ms).
    pub wait_sum_ms: f64,
    /// ∫ requests in the system (queued + in service) dt, in request-ms (Little's law L·T).
    pub in_system_ms: f64,
    /// Simulated time until the last request left (ms).
    pub duration_ms: f64,
    /// Every request in arrival order, when [`RequestConfig::record`] is set.
    pub log: Vec<RequestRecord>,
    /// Requests (scored) that arrived while no replica was ready: they waited for a
    /// cold start in the activator's buffer, or were dropped there.
    pub cold_requests: u64,
    /// Buffered requests dropped at the activator's time-out (or left at the end).
    pub activator_timeouts: u64,
    /// Wait in the activator of the cold requests that were served (ms; NaN: none).
    pub activator_wait_p50_ms: f64,
    pub activator_wait_p95_ms: f64,
    pub activator_wait_p99_ms: f64,
}

/// One simulated request, as a live load generator would log it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestRecord {
    pub at_ms: u64,
    /// Arrival to departure; 0 when dropped.
    pub latency_ms: u64,
    /// Time it held a slot; 0 when dropped.
    pub service_ms: u64,
    /// False: dropped at a full queue (a live replica's 503).
    pub served: bool,
}

/// The outcome of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOutput {
    pub timeline: Timeline,
    pub requests: Option<RequestStats>,
}

/// Runs one policy over one window.
pub fn simulate(cfg: &SimConfig, input: RunInput<'_>, policy: &mut dyn ScalingPolicy) -> RunOutput {
    policy.foresee(input.demand, cfg);
    match cfg.fidelity {
        Fidelity::Fluid => RunOutput {
            timeline: fluid::run(cfg, input, policy),
            requests: None,
        },
        Fidelity::Requests => {
            let (timeline, stats) = requests::run(cfg, input, policy);
            RunOutput {
                timeline,
                requests: Some(stats),
            }
        }
    }
}
