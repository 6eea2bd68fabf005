//! Request logs: one row per request — a timestamp (several requests may share one) and
//! optional size columns such as input and output tokens. They are counted per step once,
//! for the forecasters and fluid mode; request mode replays the arrivals themselves.

use std::path::Path;
use std::sync::Arc;

use polars::prelude::DataFrame;

use super::parse::{parse_sorted, Instant};
use super::resample::{finish_missing, mark_outages, start_time, DEFAULT_MAX_STEPS};
use super::{numeric_column, outage_windows, LoadedTrace, TraceSpec};
use crate::error::{Error, Result};
use crate::workload::Workload;

/// Step of a request log's counts when `step_s` is not set.
pub const DEFAULT_STEP_MS: u64 = 1000;

/// The requests of a trace, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    /// Arrival times, ms after the start of step 0, non-decreasing.
    pub t_ms: Vec<u64>,
    /// Size columns, one value per request.
    pub sizes: Vec<(String, Vec<f64>)>,
}

impl RequestLog {
    /// Indices of the requests arriving in `[lo_ms, hi_ms)`.
    pub fn between(&self, lo_ms: u64, hi_ms: u64) -> std::ops::Range<usize> {
        self.t_ms.partition_point(|&t| t < lo_ms)..self.t_ms.partition_point(|&t| t < hi_ms)
    }
    /// A size column by name.
    pub fn size(&self, name: &str) -> Option<&[f64]> {
        self.sizes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Loads a request log (`per_request = true`) and counts it per step.
pub(super) fn load(
    df: &DataFrame,
    path: &Path,
    ts: &[Option<String>],
    spec: &TraceSpec,
    name: &str,
) -> Result<LoadedTrace> {
    let refuse = |what: &str| {
        Err(Error::bad_file(
            path,
            format!("{what} does not apply to a request log (per_request = true): mark collection outages with `outages`"),
        ))
    };
    if !spec.missing_values.is_empty() {
        return refuse("missing_values");
    }
    if spec.missing_column.is_some() {
        return refuse("missing_column");
    }
    if !spec.regressors.is_empty() {
        return Err(Error::bad_file(
            path,
            "regressors need an interval trace: a request log (per_request = true) has none",
        ));
    }
    let instants = parse_sorted(ts, path, true)?;
    let (Some(&first), Some(last)) = (instants.first(), instants.last()) else {
        return Err(Error::bad_file(
            path,
            "a request log needs at least one request",
        ));
    };
    let step_ms = match spec.step_s {
        Some(0) => return Err(Error::bad_file(path, "step_s must be at least 1")),
        Some(s) => s * 1000,
        None => DEFAULT_STEP_MS,
    } as i64;
    // Step 0 starts at the first request's step on the clock (whole steps since the epoch,
    // or since the trace start).
    let t0 = first.ms().div_euclid(step_ms) * step_ms;
    let span = ((last.ms() - t0) / step_ms + 1) as u64;
    let max_steps = spec.max_steps.unwrap_or(DEFAULT_MAX_STEPS);
    if span > max_steps {
        return Err(Error::bad_file(
            path,
            format!(
                "the {} requests span {span} steps of {} s, over the limit of {max_steps}: check the timestamps' unit (`timestamp_unit`), set a longer `step_s`, or raise `max_steps`",
                instants.len(),
                step_ms as f64 / 1000.0
            ),
        ));
    }
    let n = span as usize;
    let t_ms: Vec<u64> = instants.iter().map(|i| (i.ms() - t0) as u64).collect();
    let mut demand = vec![0.0; n];
    for &t in &t_ms {
        demand[(t / step_ms as u64) as usize] += 1.0;
    }
    let mut missing = vec![false; n];
    mark_outages(
        &mut missing,
        &outage_windows(spec, path)?,
        t0,
        step_ms as u64,
    );
    let missing = finish_missing(&mut demand, missing, path)?;
    let sizes = spec
        .size_columns
        .iter()
        .map(|c| Ok((c.clone(), numeric_column(df, path, c)?)))
        .collect::<Result<Vec<_>>>()?;
    let start = start_time(
        match first {
            Instant::Absolute { offset, .. } => Instant::Absolute { ms: t0, offset },
            Instant::Relative { .. } => Instant::Relative { ms: t0 },
        },
        path,
    )?;
    Ok(LoadedTrace {
        workload: Workload {
            name: name.to_string(),
            step_ms: step_ms as u64,
            start,
            demand,
            regressors: Vec::new(),
            missing,
            requests: Some(Arc::new(RequestLog { t_ms, sizes })),
        },
        gaps: Vec::new(),
    })
}
