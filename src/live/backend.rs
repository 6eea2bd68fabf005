//! What the live controller controls and reads, behind two traits: a [`ReplicaBackend`]
//! (the replicas and their state; reconcile to a count) and a [`MetricsSource`] (the
//! interval's measurements; history to warm the forecaster up). `docker` + `prometheus`
//! are the real ones; `simulated` runs the simulator's replica pool and load model on a
//! trace, so the whole controller runs without Docker. A new backend is one file here.

pub mod docker;
pub mod prometheus;
pub mod simulated;

use anyhow::Result;

use crate::policy::{Observed, PodTimes};
use crate::time::SimTime;

/// The replicas as the backend sees them now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replicas {
    /// Replicas that exist and run (ready or starting).
    pub running: u32,
    /// Replicas that serve (healthy).
    pub ready: u32,
    /// Creation and readiness times, when the backend knows them (empty: unknown).
    pub pods: Vec<PodTimes>,
}

/// What a metrics source measured over the last decision interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// What the policy sees (`None`: nothing measured yet, as at a simulation's start).
    pub observed: Option<Observed>,
    /// Requests served and failed in the interval.
    pub served: f64,
    pub dropped: f64,
    pub latency_mean_ms: f64,
}

/// The replicas of one service.
#[allow(async_fn_in_trait)]
pub trait ReplicaBackend {
    /// Time since the controller started (wall clock, or the simulation's).
    fn now(&self) -> SimTime;
    /// The replicas now.
    async fn replicas(&self) -> Result<Replicas>;
    /// Brings the service to `target` replicas: replaces vanished ones, starts new ones,
    /// stops the surplus.
    async fn reconcile(&self, target: u32) -> Result<()>;
    /// Called once a decision is recorded: a simulated backend moves on one interval.
    async fn end_of_interval(&self) {}
    /// True when there is nothing left to control (a simulated backend's trace ended).
    fn finished(&self) -> bool {
        false
    }
}

/// The service's metrics.
#[allow(async_fn_in_trait)]
pub trait MetricsSource {
    /// The last interval's measurements, given the replicas now; `Ok(None)` when there
    /// is no data (the controller then holds).
    async fn reading(&self, replicas: &Replicas) -> Result<Option<Measured>>;
    /// Demand per interval before the start (empty when there is none).
    async fn history(&self) -> Vec<f64>;
    /// Latency (ms) and CPU (%) the safety net checks after the decision was applied:
    /// by default what was measured; `None` when nothing was.
    async fn health(&self, measured: Option<&Measured>) -> Option<(f64, f64)> {
        let o = measured?.observed?;
        Some((o.latency_p95_ms, o.cpu_pct))
    }
}
