//! A simulated service: the fluid simulator's replica pool (start-up delay, draining) and
//! load model, driven by a trace one decision interval at a time. `sim live --backend
//! simulated` runs the whole controller on it — forecaster, policy, safety net,
//! reconcile, decision log — with no Docker and no Prometheus, in compressed time.

use std::sync::Mutex;

use anyhow::Result;

use super::{Measured, MetricsSource, ReplicaBackend, Replicas};
use crate::sim::fluid::{holds_for_missing_data, FluidCluster};
use crate::sim::SimConfig;
use crate::time::SimTime;

/// The cluster and where it is in the trace.
struct State {
    cluster: FluidCluster,
    /// The step being simulated (0 = the first decision's).
    k: usize,
    /// Served and failed requests of the step just simulated.
    last: Option<(f64, f64)>,
}

/// A trace replayed on the simulator's cluster: the replica backend and the metrics
/// source at once (pass it as both).
pub struct SimulatedBackend {
    /// Demand per step from the first decision on.
    demand: Vec<f64>,
    /// Steps of `demand` that were not observed (empty: none).
    missing: Vec<bool>,
    /// Demand per step before the first decision, the forecaster's warm-up.
    history: Vec<f64>,
    state: Mutex<State>,
}

impl SimulatedBackend {
    /// `cfg.step_ms` is the decision interval: one trace step per decision.
    pub fn new(
        cfg: &SimConfig,
        history: Vec<f64>,
        demand: Vec<f64>,
        missing: Vec<bool>,
    ) -> SimulatedBackend {
        SimulatedBackend {
            demand,
            missing,
            history,
            state: Mutex::new(State {
                cluster: FluidCluster::new(cfg),
                k: 0,
                last: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock means a panic elsewhere already failed the run.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn observed(&self, k: usize) -> bool {
        !self.missing.get(k).copied().unwrap_or(false)
    }
}

impl State {
    fn t(&self) -> SimTime {
        SimTime(self.k as u64 * self.cluster.cfg.step_ms)
    }
}

impl ReplicaBackend for SimulatedBackend {
    fn now(&self) -> SimTime {
        self.state().t()
    }

    async fn replicas(&self) -> Result<Replicas> {
        let mut st = self.state();
        let t = st.t();
        let c = &mut st.cluster;
        c.at(t);
        let mut pods = Vec::new();
        c.pool.pod_times(&mut pods);
        Ok(Replicas {
            running: c.pool.target(),
            ready: c.pool.ready(),
            pods,
        })
    }

    async fn reconcile(&self, target: u32) -> Result<()> {
        let mut st = self.state();
        let t = st.t();
        st.cluster.scale_to(t, target);
        Ok(())
    }

    /// Simulates the step the decision governs, then moves on to the next.
    async fn end_of_interval(&self) {
        let mut st = self.state();
        let k = st.k;
        let Some(&d) = self.demand.get(k) else {
            return;
        };
        let observed = self.observed(k);
        let t = st.t().ms();
        let step = st.cluster.cfg.step_ms;
        let c = &mut st.cluster;
        let ready0 = c.pool.ready_ms;
        let served = c.part(d, t, t + step, ready0, observed);
        st.last = Some((served, d - served));
        st.k += 1;
    }

    fn finished(&self) -> bool {
        self.state().k >= self.demand.len()
    }
}

impl MetricsSource for SimulatedBackend {
    /// The interval since the last reading (a reading consumes it, as a decision does
    /// in the simulator; one in an outage finds it empty).
    async fn reading(&self, _replicas: &Replicas) -> Result<Option<Measured>> {
        let mut st = self.state();
        if holds_for_missing_data(&self.missing, st.k, &st.cluster.interval) {
            return Ok(None);
        }
        let observed = st.cluster.interval.observed();
        st.cluster.decided();
        let (served, dropped) = st.last.unwrap_or((f64::NAN, f64::NAN));
        Ok(Some(Measured {
            observed,
            served,
            dropped,
            latency_mean_ms: observed.map_or(f64::NAN, |o| o.latency_p95_ms),
        }))
    }

    async fn history(&self) -> Vec<f64> {
        self.history.clone()
    }

    /// The modelled latency and CPU of the coming step on the replicas now, as the
    /// fluid simulator's safety net reads them; none in an outage.
    async fn health(&self, _measured: Option<&Measured>) -> Option<(f64, f64)> {
        let st = self.state();
        let d = *self.demand.get(st.k)?;
        self.observed(st.k).then(|| st.cluster.health(d))
    }
}

/// The simulated backend a live configuration describes (`trace`: `--trace`, else
/// `simulated.trace`): the trace loaded, its step checked against the decision interval,
/// and the cluster built from the controller's and the section's settings.
pub fn from_config(
    cfg: &crate::live::config::LiveConfig,
    trace: Option<&std::path::Path>,
) -> Result<SimulatedBackend> {
    use anyhow::{bail, Context};
    let sec = &cfg.simulated;
    let path = match trace {
        Some(p) => p.to_path_buf(),
        None => match &sec.trace {
            Some(p) => cfg.resolve(p),
            None => {
                bail!("--backend simulated needs a trace: pass --trace FILE or set simulated.trace")
            }
        },
    };
    let mut spec = crate::trace::TraceSpec::for_path(&path);
    if let Some(c) = &sec.timestamp_column {
        spec.timestamp_column = c.clone();
    }
    spec.value_column = sec.value_column.clone();
    let w = crate::trace::load(&spec, "simulated")
        .with_context(|| format!("simulated backend: trace {}", path.display()))?
        .workload;
    let interval_ms = cfg.interval_ms();
    if w.step_ms != interval_ms {
        bail!(
            "simulated backend: the trace's step ({} s) must equal controller.interval_s ({} s): one trace step per decision; resample the trace or change the interval",
            w.step_ms as f64 / 1000.0,
            interval_ms as f64 / 1000.0
        );
    }
    let n = w.demand.len();
    let start = sec
        .start_step
        .unwrap_or((cfg.controller.history_s * 1000.0 / interval_ms as f64) as usize);
    if start >= n {
        bail!(
            "simulated.start_step ({start}) leaves no step of the trace's {n} to control: lower it (or controller.history_s)"
        );
    }
    let end = sec.steps.map_or(n, |k| (start + k).min(n));
    let secs = |v: f64, key: &str| {
        crate::time::ms_from_secs(v, key).map_err(|e| anyhow::anyhow!("simulated.{e}"))
    };
    let sim = SimConfig {
        step_ms: interval_ms,
        decision_interval_ms: interval_ms,
        startup_delay_ms: secs(sec.startup_delay_s, "startup_delay_s")?,
        drain_ms: secs(sec.drain_s, "drain_s")?,
        capacity_per_replica: cfg.capacity_per_interval(),
        initial_replicas: cfg.initial_replicas(),
        safety: cfg.safety_net,
        ..SimConfig::default()
    };
    sim.validate()
        .map_err(|e| anyhow::anyhow!("simulated backend: {e}"))?;
    let missing = if w.missing.is_empty() {
        Vec::new()
    } else {
        w.missing[start..end].to_vec()
    };
    Ok(SimulatedBackend::new(
        &sim,
        w.demand[..start].to_vec(),
        w.demand[start..end].to_vec(),
        missing,
    ))
}
