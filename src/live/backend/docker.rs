//! The replicas as Docker containers on this host ([`crate::live::docker::Engine`]).

use std::time::{Duration, Instant};

use anyhow::Result;

use super::{ReplicaBackend, Replicas};
use crate::live::config::LiveConfig;
use crate::live::controller::say;
use crate::live::docker::{Engine, Replica};
use crate::live::reconcile;
use crate::time::SimTime;

/// Replicas whose /health answers within a second.
pub async fn healthy(replicas: &[Replica], http: &reqwest::Client) -> Vec<u16> {
    let running = replicas.iter().filter(|r| r.running()).map(|r| r.port);
    healthy_ports(running, http, Duration::from_secs(1)).await
}

/// The 127.0.0.1 ports whose /health answers within `timeout`.
pub async fn healthy_ports(
    ports: impl IntoIterator<Item = u16>,
    http: &reqwest::Client,
    timeout: Duration,
) -> Vec<u16> {
    let probes = ports.into_iter().map(|port| {
        let url = format!("http://127.0.0.1:{port}/health");
        async move {
            match http.get(&url).timeout(timeout).send().await {
                Ok(resp) if resp.status().is_success() => Some(port),
                _ => None,
            }
        }
    });
    futures_util::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The service's containers: running ones counted, healthy ones ready.
pub struct DockerBackend<'a> {
    pub engine: &'a Engine,
    pub cfg: &'a LiveConfig,
    pub http: reqwest::Client,
    /// Seed of the replicas' service-time streams (the port is mixed in).
    pub seed: u64,
    pub started: Instant,
}

impl ReplicaBackend for DockerBackend<'_> {
    fn now(&self) -> SimTime {
        SimTime(self.started.elapsed().as_millis() as u64)
    }

    async fn replicas(&self) -> Result<Replicas> {
        let list = self.engine.replicas(&self.cfg.service.name).await?;
        Ok(Replicas {
            running: list.iter().filter(|r| r.running()).count() as u32,
            ready: healthy(&list, &self.http).await.len() as u32,
            pods: Vec::new(),
        })
    }

    /// Removes dead containers, starts new ones on free ports, stops the newest surplus
    /// ones gracefully.
    async fn reconcile(&self, target: u32) -> Result<()> {
        let svc = &self.cfg.service;
        let engine = self.engine;
        let existing = engine.replicas(&svc.name).await?;
        let plan = reconcile::plan(&existing, target, svc.base_port, svc.port_span);
        for dead in &plan.clean {
            say(format!(
                "Removing replica {} ({}): it is {}",
                dead.name,
                dead.id.get(..12).unwrap_or(&dead.id),
                dead.state
            ));
            engine.remove(dead).await?;
        }
        for &port in &plan.start {
            engine
                .start_replica(svc, port, crate::rng::mix64(self.seed ^ port as u64))
                .await?;
        }
        let stops = plan
            .stop
            .iter()
            .map(|r| engine.stop_replica(r, svc.stop_timeout_s));
        for r in futures_util::future::join_all(stops).await {
            r?;
        }
        Ok(())
    }
}
