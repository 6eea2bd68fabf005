//! The controller's own Prometheus metrics: what it decided and why, for dashboards.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Gauges updated at every decision.
#[derive(Debug, Default, Clone)]
pub struct Exported {
    pub desired: Gauge,
    pub ready: Gauge,
    pub demand_rps: Gauge<f64, AtomicU64>,
    pub forecast_rps: Gauge<f64, AtomicU64>,
    pub holds: Counter,
    pub decisions: Counter,
}

impl Exported {
    fn registry(&self) -> Registry {
        let mut r = Registry::default();
        r.register(
            "scalesim_live_desired_replicas",
            "Replicas the controller asked for",
            self.desired.clone(),
        );
        r.register(
            "scalesim_live_ready_replicas",
            "Replicas answering /health",
            self.ready.clone(),
        );
        r.register(
            "scalesim_live_demand_rps",
            "Request rate the last decision saw",
            self.demand_rps.clone(),
        );
        r.register(
            "scalesim_live_forecast_rps",
            "Point forecast of the request rate for the next interval",
            self.forecast_rps.clone(),
        );
        r.register(
            "scalesim_live_holds",
            "Decisions that held the count for missing data",
            self.holds.clone(),
        );
        r.register(
            "scalesim_live_decisions",
            "Decisions made",
            self.decisions.clone(),
        );
        r
    }
}

/// Serves /metrics on 127.0.0.1:`port` in the background.
pub async fn spawn(port: u16, exported: &Exported) -> anyhow::Result<()> {
    use anyhow::Context;
    let registry = Arc::new(exported.registry());
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let registry = registry.clone();
            async move { crate::service::serve::metrics_response(&registry) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot serve the controller's metrics on 127.0.0.1:{port}: is the port taken? (controller.metrics_port)"))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}
