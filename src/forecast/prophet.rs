//! Prophet (Taylor & Letham, 2018) implemented natively: the same model, priors and
//! MAP objective as prophet 1.5.0, fitted in-process by Stan's L-BFGS (as Prophet runs
//! it, `stan_lbfgs`) with an analytic gradient, with Prophet's simulated-path
//! uncertainty intervals. Validated against
//! Python Prophet in `validation/prophet/` and `tests/prophet.rs`.
//!
//! Timestamps are local wall-clock milliseconds (what Prophet sees in a naive `ds`).

pub mod config;
pub mod lbfgs;
pub mod model;
mod objective;
pub mod sample;
mod solve;
pub mod stan_lbfgs;

use std::sync::Arc;

pub use config::ProphetConfig;
pub use model::{fit, fit_traced, ProphetModel};
pub use sample::ProphetForecast;

use super::{FittedModel, ForecastBuf, Forecaster, History, QUANTILES};
use crate::error::{Error, Result};

/// Prophet as a rolling forecaster over a trace.
#[derive(Debug, Clone)]
pub struct ProphetForecaster {
    pub name: String,
    pub config: ProphetConfig,
    /// Local wall-clock time of trace step 0 (ms), for the seasonal features.
    pub origin_ms: i64,
    /// Known-in-advance regressors over the whole trace, in `config.regressors` order.
    pub regressors: Arc<Vec<Vec<f64>>>,
    /// Steps predicted per block of sampled intervals (a refit period is a good choice).
    pub block: usize,
}

struct ProphetFitted {
    model: ProphetModel,
    origin_ms: i64,
    step_ms: u64,
    regressors: Arc<Vec<Vec<f64>>>,
    block: usize,
    /// Next step to predict.
    next: usize,
    /// Forecast of a block of steps starting at the cached step (sampling 1,000 paths
    /// per decision would be wasteful; a block is sampled once and read per decision).
    cache: std::cell::RefCell<Option<(usize, ProphetForecast)>>,
}

impl ProphetFitted {
    fn fill(&self, from: usize, horizon: usize) {
        let covered = self
            .cache
            .borrow()
            .as_ref()
            .is_some_and(|(start, c)| from >= *start && from + horizon <= start + c.yhat.len());
        if covered {
            return;
        }
        let len = self.block.max(horizon);
        let ds: Vec<i64> = (from..from + len)
            .map(|s| self.origin_ms + (s as u64 * self.step_ms) as i64)
            .collect();
        let regs: Vec<Vec<f64>> = self
            .regressors
            .iter()
            .map(|r| {
                (from..from + len)
                    .map(|s| r.get(s).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = regs.iter().map(|r| r.as_slice()).collect();
        *self.cache.borrow_mut() = Some((from, self.model.predict(&ds, &refs)));
    }
}

impl FittedModel for ProphetFitted {
    fn observe(&mut self, _y: f64) {
        self.next += 1;
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let h = out.point.len();
        self.fill(self.next, h);
        let cache = self.cache.borrow();
        let (start, fc) = cache.as_ref().expect("filled above");
        let off = self.next - start;
        let q = QUANTILES.len();
        for k in 0..h {
            out.point[k] = fc.yhat[off + k].max(0.0);
            let dst = out.quantiles_at(k);
            dst.copy_from_slice(&fc.quantiles[(off + k) * q..(off + k + 1) * q]);
            super::tidy_quantiles(dst);
        }
    }
}

impl Forecaster for ProphetForecaster {
    fn name(&self) -> &str {
        &self.name
    }
    fn updates_between_refits(&self) -> bool {
        false
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        // Prophet is a regression on time: missing steps (NaN) are simply left out, as
        // upstream drops rows whose y is NaN.
        let keep: Vec<usize> = (0..h.y.len()).filter(|&i| h.y[i].is_finite()).collect();
        let ds: Vec<i64> = keep
            .iter()
            .map(|&i| self.origin_ms + ((h.start_step + i) as u64 * h.step_ms) as i64)
            .collect();
        let y: Vec<f64> = keep.iter().map(|&i| h.y[i]).collect();
        let regs: Vec<Vec<f64>> = self
            .regressors
            .iter()
            .map(|r| keep.iter().map(|&i| r[h.start_step + i]).collect())
            .collect();
        let regs: Vec<&[f64]> = regs.iter().map(Vec::as_slice).collect();
        let model =
            fit(&self.config, &ds, &y, &regs).map_err(|m| Error::forecast(&self.name, m))?;
        Ok(Box::new(ProphetFitted {
            model,
            origin_ms: self.origin_ms,
            step_ms: h.step_ms,
            regressors: self.regressors.clone(),
            block: self.block,
            next: h.next_step(),
            cache: std::cell::RefCell::new(None),
        }))
    }
}
