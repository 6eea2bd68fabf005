//! The summary's rows: one typed record per cell, written as a CSV line (streamed in
//! cell order) and read back into Parquet with the column types the record declares.

use polars::prelude::{DataType, Schema};

use super::outputs::{field, num, num_or_empty};
use crate::metrics::RunMetrics;

/// One row of `metrics_summary`: the cell, its swept values and its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub scenario: String,
    pub cell: usize,
    pub forecaster: String,
    pub policy: String,
    /// The swept parameters' values, in the header's order (`None`: not this cell's).
    pub params: Vec<Option<f64>>,
    pub metrics: RunMetrics,
    /// The seed of the cell's random streams.
    pub seed: u64,
    /// Block-bootstrap intervals of [`super::bootstrap::METRICS`] (empty: none asked for).
    pub intervals: Vec<(f64, f64)>,
}

/// The columns before the swept parameters.
const IDENTITY: [&str; 4] = ["scenario", "cell", "forecaster", "policy"];

impl SummaryRow {
    /// The header: identity, the swept parameters, the metrics, the seed, and with a
    /// bootstrap its interval columns.
    pub fn header(params: &[String], bootstrap: bool) -> Vec<String> {
        let mut h: Vec<String> = IDENTITY.map(String::from).to_vec();
        h.extend(params.iter().cloned());
        h.extend(metric_columns().into_iter().map(|(name, _)| name));
        h.push("seed".into());
        if bootstrap {
            h.extend(super::bootstrap::columns());
        }
        h
    }

    /// The row as CSV fields (numbers in shortest round-trip form, NaN metrics empty).
    pub fn fields(&self) -> Vec<String> {
        let mut row = vec![
            self.scenario.clone(),
            self.cell.to_string(),
            self.forecaster.clone(),
            self.policy.clone(),
        ];
        row.extend(self.params.iter().map(|v| v.map(num).unwrap_or_default()));
        let m = serde_json::to_value(&self.metrics).expect("metrics serialise");
        for (_, v) in m.as_object().expect("metrics are a record") {
            row.push(field(v));
        }
        row.push(self.seed.to_string());
        for &(lo, hi) in &self.intervals {
            row.extend([lo, hi].map(num_or_empty));
        }
        row
    }

    /// The value of the metric column `name` (`None`: no such metric, or NaN).
    pub fn metric(&self, name: &str) -> Option<f64> {
        serde_json::to_value(&self.metrics)
            .ok()?
            .get(name)?
            .as_f64()
            .filter(|v| v.is_finite())
    }

    /// The column types of a summary with this header: text for the names, unsigned
    /// integers for the cell, the seed and the count metrics, floats for the rest (the
    /// swept parameters too, empty where a cell has none).
    /// A replicated summary (a `replications` column) holds means: every metric is a
    /// float there.
    pub fn schema(header: &[String]) -> Schema {
        use super::replicate::{COUNT, REPLICATION};
        let metrics = metric_columns();
        let means = header.iter().any(|h| h == COUNT);
        header
            .iter()
            .map(|c| {
                let t = match c.as_str() {
                    "scenario" | "forecaster" | "policy" => DataType::String,
                    "cell" | "seed" => DataType::UInt64,
                    h if h == COUNT || h == REPLICATION => DataType::UInt64,
                    _ if means => DataType::Float64,
                    _ => metrics
                        .iter()
                        .find(|(m, _)| m == c)
                        .map_or(DataType::Float64, |(_, t)| t.clone()),
                };
                (c.as_str().into(), t)
            })
            .collect()
    }
}

/// The metric columns' names, in the summary's order.
pub fn metric_names() -> Vec<String> {
    metric_columns().into_iter().map(|(n, _)| n).collect()
}

/// The metric columns and their types, from [`RunMetrics`] itself: its integer fields
/// serialise as integers, its float fields as floats (or null when NaN).
fn metric_columns() -> Vec<(String, DataType)> {
    let m = serde_json::to_value(RunMetrics::default()).expect("metrics serialise");
    m.as_object()
        .expect("metrics are a record")
        .iter()
        .map(|(k, v)| {
            let t = if v.is_u64() {
                DataType::UInt64
            } else {
                DataType::Float64
            };
            (k.clone(), t)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_integers_and_the_rest_floats() {
        let h = SummaryRow::header(&["policy.buffer".to_string()], true);
        let s = SummaryRow::schema(&h);
        assert_eq!(s.get("under_events"), Some(&DataType::UInt64));
        assert_eq!(s.get("peak_replicas"), Some(&DataType::UInt64));
        assert_eq!(s.get("cost_replica_hours"), Some(&DataType::Float64));
        assert_eq!(s.get("theta_u_pct"), Some(&DataType::Float64));
        assert_eq!(s.get("policy.buffer"), Some(&DataType::Float64));
        assert_eq!(s.get("cell"), Some(&DataType::UInt64));
        assert_eq!(s.get("under_events_lo95"), Some(&DataType::Float64));
        assert_eq!(s.get("policy"), Some(&DataType::String));
        assert_eq!(h.len(), s.len());
    }
}
