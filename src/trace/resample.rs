//! Resampling parsed rows onto a regular step, and the gap policy.

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::parse::Instant;
use super::{LoadedTrace, TraceSpec, ValueKind};
use crate::error::{Error, Result};
use crate::workload::Workload;

/// What to do with steps that have no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GapPolicy {
    /// Refuse the trace, naming the first gap.
    #[default]
    Error,
    /// Missing steps have zero demand (the source logged nothing because nothing came).
    Zero,
    /// Missing steps are linearly interpolated between their neighbours (an outage of the logger).
    Interpolate,
    /// Steps without a row are missing data: forecasters, policies and metrics skip them.
    Missing,
}

/// A run of steps that had no row in the source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// First missing step.
    pub start_step: usize,
    /// Number of missing steps.
    pub steps: usize,
    /// Rows before the gap.
    #[serde(skip)]
    pub row: usize,
}

/// Default bound on a trace's resampled length (`max_steps` in the trace section): about
/// three years at one second, 190 years at one minute.
pub const DEFAULT_MAX_STEPS: u64 = 100_000_000;

/// Median spacing of consecutive rows, in ms.
fn native_spacing(instants: &[Instant]) -> Option<i64> {
    let mut d: Vec<i64> = instants.windows(2).map(|w| w[1].ms() - w[0].ms()).collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[d.len() / 2])
}

pub(super) fn build(
    name: &str,
    path: &Path,
    instants: &[Instant],
    values: &[f64],
    regressors: &[(String, Vec<f64>)],
    outages: &[(i64, i64)],
    spec: &TraceSpec,
) -> Result<LoadedTrace> {
    let native = native_spacing(instants)
        .ok_or_else(|| Error::bad_file(path, "a trace needs at least two rows to know its step"))?;
    let step_ms = match spec.step_s {
        Some(0) => return Err(Error::bad_file(path, "step_s must be at least 1")),
        Some(s) => {
            let s = s as i64 * 1000;
            if s < native {
                return Err(Error::bad_file(
                    path,
                    format!("step_s = {} is finer than the trace's spacing of {} s: upsampling is not supported", s / 1000, native as f64 / 1000.0),
                ));
            }
            s
        }
        None => native,
    };
    let t0 = instants[0].ms() as i128;
    // Timestamps snap to the nearest native step, so jittered logs keep their minute.
    let bucket = |t: i64| ((t as i128 - t0 + native as i128 / 2) / step_ms as i128) as u64;
    // Gaps and the resampled length come from the rows alone: a few rows far apart are
    // refused before anything of the span's size is allocated.
    let gaps = find_gaps(instants, &bucket);
    if let (Some(g), GapPolicy::Error) = (gaps.first(), spec.gaps) {
        return Err(Error::bad_file(
            path,
            format!(
                "{} gap(s) in the trace, the first of {} step(s) after row {}: set `gaps = \"missing\"` (a collection gap), `\"zero\"` (nothing came) or `\"interpolate\"` in the trace section",
                gaps.len(),
                g.steps,
                g.row
            ),
        ));
    }
    let span = bucket(instants[instants.len() - 1].ms()) + 1;
    let max_steps = spec.max_steps.unwrap_or(DEFAULT_MAX_STEPS);
    if span > max_steps {
        let bytes = span as f64 * (20.0 + 8.0 * regressors.len() as f64);
        return Err(Error::bad_file(
            path,
            format!(
                "rows 1 to {} span {span} steps of {} s, over the limit of {max_steps} (resampling alone would need {:.1} GB): check the timestamps' unit and the gaps, or raise `max_steps` in the trace section",
                instants.len(),
                step_ms as f64 / 1000.0,
                bytes / 1e9
            ),
        ));
    }
    let n = span as usize;
    let mut sum = vec![0.0; n];
    let mut count = vec![0u32; n];
    let mut regs: Vec<Vec<f64>> = vec![vec![0.0; n]; regressors.len()];
    let mut missing = vec![false; n];
    for (i, inst) in instants.iter().enumerate() {
        let b = bucket(inst.ms()) as usize;
        // A row marked missing (NaN) makes its whole step missing: the count is partial.
        if values[i].is_nan() {
            missing[b] = true;
            continue;
        }
        sum[b] += values[i];
        count[b] += 1;
        for (k, (_, r)) in regressors.iter().enumerate() {
            regs[k][b] = regs[k][b].max(r[i]);
        }
    }
    let mut demand: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| match spec.value_kind {
            ValueKind::Count => s,
            ValueKind::Rate if c > 0 => s / c as f64,
            ValueKind::Rate => 0.0,
        })
        .collect();
    mark_outages(&mut missing, outages, t0 as i64, step_ms as u64);
    if !gaps.is_empty() {
        match spec.gaps {
            GapPolicy::Error | GapPolicy::Zero => {}
            GapPolicy::Missing => {
                for g in &gaps {
                    missing[g.start_step..g.start_step + g.steps].fill(true);
                }
            }
            GapPolicy::Interpolate => {
                for g in &gaps {
                    let left = demand[g.start_step - 1];
                    let right = demand[g.start_step + g.steps];
                    for k in 0..g.steps {
                        let f = (k + 1) as f64 / (g.steps + 1) as f64;
                        demand[g.start_step + k] = left + (right - left) * f;
                    }
                }
            }
        }
        for g in &gaps {
            tracing::warn!(
                "{}: {} missing step(s) from step {} filled ({:?})",
                path.display(),
                g.steps,
                g.start_step,
                spec.gaps
            );
        }
    }
    let missing = finish_missing(&mut demand, missing, path)?;
    let start = start_time(instants[0], path)?;
    Ok(LoadedTrace {
        workload: Workload {
            name: name.to_string(),
            step_ms: step_ms as u64,
            start,
            demand,
            regressors: regressors
                .iter()
                .map(|(n, _)| n.clone())
                .zip(regs)
                .collect(),
            missing,
            requests: None,
        },
        gaps,
    })
}

/// Marks the steps whose start lies in an outage `[a, b)` (ms on the trace's clock, step 0
/// starting at `t0`).
pub(super) fn mark_outages(missing: &mut [bool], outages: &[(i64, i64)], t0: i64, step_ms: u64) {
    let n = missing.len() as u128;
    let step_at_or_after = |t: i64| {
        ((t as i128 - t0 as i128).max(0) as u128)
            .div_ceil(step_ms as u128)
            .min(n) as usize
    };
    for &(a, b) in outages {
        missing[step_at_or_after(a)..step_at_or_after(b)].fill(true);
    }
}

/// Refuses a trace with every step missing, fills the missing steps' demand for the
/// simulated load, and returns the mask (empty when no step is missing).
pub(super) fn finish_missing(
    demand: &mut [f64],
    missing: Vec<bool>,
    path: &Path,
) -> Result<Vec<bool>> {
    let count = missing.iter().filter(|&&m| m).count();
    if count == missing.len() {
        return Err(Error::bad_file(
            path,
            "every step is marked missing: check `missing_values`, `missing_column`, `outages` and `gaps`",
        ));
    }
    interpolate_missing(demand, &missing);
    Ok(if count > 0 { missing } else { Vec::new() })
}

/// Fills each run of missing steps linearly between the observed steps around it (the
/// nearest one at either end of the trace): the load a simulated cluster still carries
/// through a collection outage. Nothing is scored on these values.
fn interpolate_missing(demand: &mut [f64], missing: &[bool]) {
    let n = demand.len();
    let mut i = 0;
    while i < n {
        if !missing[i] {
            i += 1;
            continue;
        }
        let j = (i..n).find(|&k| !missing[k]).unwrap_or(n);
        let left = (i > 0).then(|| demand[i - 1]);
        let right = (j < n).then(|| demand[j]);
        let (l, r) = match (left, right) {
            (Some(l), Some(r)) => (l, r),
            (Some(v), None) | (None, Some(v)) => (v, v),
            (None, None) => (0.0, 0.0),
        };
        for (k, d) in demand[i..j].iter_mut().enumerate() {
            *d = l + (r - l) * (k + 1) as f64 / (j - i + 1) as f64;
        }
        i = j;
    }
}

/// The absolute time of a trace's first step, when its timestamps have one.
pub(super) fn start_time(first: Instant, path: &Path) -> Result<Option<DateTime<FixedOffset>>> {
    match first {
        Instant::Absolute { ms, offset } => Ok(Some(
            DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| {
                    Error::bad_file(path, "the first timestamp is past the year 262143")
                })?
                .with_timezone(&offset),
        )),
        Instant::Relative { .. } => Ok(None),
    }
}

/// The runs of steps without a row, from the (sorted) rows and their step index.
fn find_gaps(instants: &[Instant], bucket: &impl Fn(i64) -> u64) -> Vec<Gap> {
    instants
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let (a, b) = (bucket(w[0].ms()), bucket(w[1].ms()));
            (b > a + 1).then(|| Gap {
                start_step: (a + 1) as usize,
                steps: (b - a - 1) as usize,
                row: i + 1,
            })
        })
        .collect()
}
