//! The service's metrics from Prometheus ([`crate::live::prom`]).

use anyhow::Result;

use super::{Measured, MetricsSource, Replicas};
use crate::live::controller::say;
use crate::live::prom::{Prometheus, Queries};
use crate::policy::Observed;

/// Rates over the decision interval, read from Prometheus.
pub struct PrometheusSource<'a> {
    pub prom: &'a Prometheus,
    pub queries: Queries,
    pub interval_s: f64,
    /// Requests per interval one replica is given (the policy's sizing assumption).
    pub capacity_per_interval: f64,
    /// Seconds of history to warm the forecaster up with (0: none).
    pub history_s: f64,
}

impl MetricsSource for PrometheusSource<'_> {
    async fn reading(&self, replicas: &Replicas) -> Result<Option<Measured>> {
        let (prom, q, interval_s) = (self.prom, &self.queries, self.interval_s);
        if !prom
            .scalar("live_series", &q.live_series(interval_s))
            .await?
            .is_some_and(|n| n > 0.0)
        {
            return Ok(None);
        }
        let Some(requests) = prom
            .scalar("interval_requests", &q.interval_requests(interval_s))
            .await?
        else {
            return Ok(None);
        };
        // No requests: no latency quantile (NaN), which is no evidence of overload.
        let or0 = |v: Option<f64>| v.unwrap_or(0.0);
        let error_rps = or0(prom.scalar("error_rate", &q.error_rate()).await?);
        let p95_ms = or0(prom.scalar("latency_p95_ms", &q.latency_p95_ms()).await?);
        let mean_ms = or0(prom.scalar("latency_mean_ms", &q.latency_mean_ms()).await?);
        let cpu_pct = or0(prom.scalar("cpu_pct", &q.cpu_pct()).await?);
        let held = match q.held_mean(interval_s) {
            Some(query) => or0(prom.scalar("held_mean", &query).await?),
            None => 0.0,
        };
        let demand = requests;
        let ready = replicas.ready;
        let cap = self.capacity_per_interval;
        Ok(Some(Measured {
            observed: Some(Observed {
                demand_per_step: demand,
                utilization: if ready > 0 {
                    (demand / (ready as f64 * cap)).min(1.0)
                } else {
                    1.0
                },
                latency_p95_ms: p95_ms,
                cpu_pct,
                ready_mean: ready as f64,
                // Little's law: requests per second times the mean latency in seconds,
                // plus those the activator holds (Knative's activator reports them too).
                concurrency: demand / interval_s * mean_ms / 1000.0 + held,
                window_ms: (interval_s * 1000.0).round() as u64,
            }),
            served: (demand - error_rps * interval_s).max(0.0),
            dropped: error_rps * interval_s,
            latency_mean_ms: mean_ms,
        }))
    }

    async fn history(&self) -> Vec<f64> {
        if self.history_s <= 0.0 {
            return Vec::new();
        }
        let end = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let q = self.queries.interval_requests(self.interval_s);
        match self
            .prom
            .range(
                "interval_requests",
                &q,
                end - self.history_s,
                end,
                self.interval_s,
            )
            .await
        {
            Ok(points) => points.iter().map(|&(_, r)| r).collect(),
            Err(e) => {
                say(format!(
                    "No history from Prometheus ({e:#}); the forecaster starts empty"
                ));
                Vec::new()
            }
        }
    }
}
