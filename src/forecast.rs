//! Forecasting: the `Forecaster` / `FittedModel` split, probabilistic forecasts,
//! the rolling-origin driver and the baselines. No I/O here: the `file` forecaster
//! receives its values already aligned to the trace.

pub mod accuracy;
pub mod baselines;
pub mod card;
pub mod file;
pub mod holt_winters;
#[cfg(feature = "lstm")]
pub mod lstm;
pub mod period;
pub mod prophet;
pub mod regression;
pub mod residual;
pub mod rolling;

use std::fmt::Debug;

use crate::error::Result;

/// Quantile levels every forecast carries, lowest first. The 80 % interval is
/// [0.1, 0.9] and the 95 % interval [0.025, 0.975].
pub const QUANTILES: [f64; 11] = [
    0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 0.975, 0.99,
];

/// Index of a quantile level in [`QUANTILES`], if it is one of them.
pub fn quantile_index(level: f64) -> Option<usize> {
    QUANTILES.iter().position(|&q| (q - level).abs() < 1e-9)
}

/// The past a forecaster may fit on: observations strictly before the decision time.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// Observations, oldest first; `y[y.len() - 1]` is the last complete step.
    pub y: &'a [f64],
    /// Trace index of `y[0]`.
    pub start_step: usize,
    /// Step length in ms.
    pub step_ms: u64,
}

impl History<'_> {
    /// Trace index of the next (not yet observed) step.
    pub fn next_step(&self) -> usize {
        self.start_step + self.y.len()
    }
}

/// A reusable buffer for one forecast of `horizon` steps.
#[derive(Debug, Clone, Default)]
pub struct ForecastBuf {
    /// Point forecast per step ahead.
    pub point: Vec<f64>,
    /// Quantiles per step ahead, `QUANTILES.len()` values per step.
    pub quantiles: Vec<f64>,
}

impl ForecastBuf {
    /// Resizes for `horizon` steps (no allocation when already that size).
    pub fn reset(&mut self, horizon: usize) {
        self.point.resize(horizon, 0.0);
        self.quantiles.resize(horizon * QUANTILES.len(), 0.0);
    }
    /// Quantiles of step `h` ahead.
    pub fn quantiles_at(&mut self, h: usize) -> &mut [f64] {
        let q = QUANTILES.len();
        &mut self.quantiles[h * q..(h + 1) * q]
    }
}

/// A model fitted on a history that can absorb new observations and predict.
pub trait FittedModel: Send {
    /// Absorbs the observation of the next step (the one the last `predict` started at).
    fn observe(&mut self, y: f64);
    /// Predicts the `out.point.len()` steps after everything observed.
    fn predict(&self, out: &mut ForecastBuf);
    /// Forecasts for the decision steps `steps` in one go (batched models), appending
    /// `horizon` points and quantiles per step. `y` ends right before the last of those
    /// steps, so the decision at `s` may read `y[..s]` only. Returns false when the model
    /// has no batched path (the caller then predicts step by step).
    fn predict_block(
        &mut self,
        _y: &[f64],
        _steps: std::ops::Range<usize>,
        _horizon: usize,
        _point: &mut Vec<f64>,
        _quantiles: &mut Vec<f64>,
    ) -> bool {
        false
    }
}

/// Something that can be fitted on a history.
pub trait Forecaster: Send + Sync + Debug {
    /// Name used in outputs.
    fn name(&self) -> &str;
    /// Fits on `history` (which ends right before the decision time).
    fn fit(&self, history: History<'_>) -> Result<Box<dyn FittedModel>>;
    /// False when predictions ignore the observations absorbed after the fit (only a
    /// refit brings new data in), so a "one step ahead" score is really up to a refit
    /// interval ahead.
    fn updates_between_refits(&self) -> bool {
        true
    }
}

/// Forecasts for a range of decision steps: row `r` was made at step `first_step + r`
/// from observations before it, and covers steps `first_step + r .. + horizon`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastTable {
    pub forecaster: String,
    pub first_step: usize,
    pub horizon: usize,
    pub point: Vec<f64>,
    pub quantiles: Vec<f64>,
}

impl ForecastTable {
    /// Number of decision steps covered.
    pub fn rows(&self) -> usize {
        self.point.len() / self.horizon.max(1)
    }
    /// Point forecast made at `step` for `h` steps ahead (0 = the step itself).
    pub fn point(&self, step: usize, h: usize) -> f64 {
        self.point[(step - self.first_step) * self.horizon + h]
    }
    /// Quantile `qi` (index into [`QUANTILES`]) made at `step` for `h` steps ahead.
    pub fn quantile(&self, step: usize, h: usize, qi: usize) -> f64 {
        let q = QUANTILES.len();
        self.quantiles[((step - self.first_step) * self.horizon + h) * q + qi]
    }
    /// True when `step` has a forecast row.
    pub fn covers(&self, step: usize) -> bool {
        step >= self.first_step && step < self.first_step + self.rows()
    }
}

/// Makes quantiles non-decreasing and non-negative (demand is never negative).
pub fn tidy_quantiles(q: &mut [f64]) {
    let mut prev = 0.0f64;
    for v in q.iter_mut() {
        *v = v.max(prev).max(0.0);
        prev = *v;
    }
}
