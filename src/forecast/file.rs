//! External forecasts (from any other tool) replayed as a forecaster.
//! Values arrive already aligned to the trace's steps; reading the file is `trace`'s job.

use std::sync::Arc;

use statrs::distribution::{ContinuousCDF, Normal};

use super::residual::ResidualQuantiles;
use super::{FittedModel, ForecastBuf, Forecaster, History, QUANTILES};
use crate::error::{Error, Result};

/// External forecasts aligned to trace steps. `NaN` marks a step the file does not cover.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalForecast {
    /// Point forecast for each trace step.
    pub yhat: Vec<f64>,
    /// Quantiles for each trace step (`QUANTILES.len()` per step), when the file has them.
    pub quantiles: Option<Vec<f64>>,
}

impl ExternalForecast {
    /// Quantiles from a central interval `[lower, upper]` of coverage `width`, assuming a
    /// normal shape on each side (Prophet's intervals are of this kind).
    pub fn quantiles_from_interval(
        yhat: &[f64],
        lower: &[f64],
        upper: &[f64],
        width: f64,
    ) -> Vec<f64> {
        let n01 = Normal::new(0.0, 1.0).expect("standard normal");
        let z = n01.inverse_cdf((1.0 + width) / 2.0);
        let zq: Vec<f64> = QUANTILES.iter().map(|&q| n01.inverse_cdf(q)).collect();
        let mut out = Vec::with_capacity(yhat.len() * QUANTILES.len());
        for i in 0..yhat.len() {
            let lo = (yhat[i] - lower[i]).max(0.0) / z;
            let hi = (upper[i] - yhat[i]).max(0.0) / z;
            for &zq in &zq {
                out.push(yhat[i] + zq * if zq > 0.0 { hi } else { lo });
            }
        }
        out
    }

    /// First step in `range` with no forecast, if any.
    pub fn first_missing(&self, range: std::ops::Range<usize>) -> Option<usize> {
        range
            .into_iter()
            .find(|&i| i >= self.yhat.len() || !self.yhat[i].is_finite())
    }
}

/// Replays an [`ExternalForecast`]. Without quantiles in the file, quantiles come from the
/// forecast's own past errors (actual − yhat) up to the fit time, so no future leaks in.
#[derive(Debug, Clone)]
pub struct FileForecaster {
    pub name: String,
    pub data: Arc<ExternalForecast>,
}

struct FileModel {
    data: Arc<ExternalForecast>,
    next: usize,
    rq: Option<ResidualQuantiles>,
}

impl FileModel {
    /// The nearest covered step at or before `i` (files may end before the horizon does).
    fn covered(&self, i: usize) -> usize {
        let mut i = i.min(self.data.yhat.len() - 1);
        while i > 0 && !self.data.yhat[i].is_finite() {
            i -= 1;
        }
        i
    }
}

impl FittedModel for FileModel {
    fn observe(&mut self, _y: f64) {
        self.next += 1;
    }
    fn predict(&self, out: &mut ForecastBuf) {
        for h in 0..out.point.len() {
            let i = self.covered(self.next + h);
            let p = self.data.yhat[i];
            out.point[h] = p;
            let q = out.quantiles_at(h);
            match (&self.data.quantiles, &self.rq) {
                (Some(all), _) => {
                    q.copy_from_slice(&all[i * QUANTILES.len()..(i + 1) * QUANTILES.len()]);
                    super::tidy_quantiles(q);
                }
                (None, Some(rq)) => rq.fill(p, 1.0, q),
                (None, None) => q.fill(p),
            }
        }
    }
}

impl Forecaster for FileForecaster {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        let next = h.next_step();
        if self.data.yhat.is_empty() || self.data.first_missing(next..next + 1).is_some() {
            return Err(Error::forecast(
                &self.name,
                format!("the forecast file has no value for step {next}"),
            ));
        }
        let rq = self.data.quantiles.is_none().then(|| {
            let res: Vec<f64> =
                h.y.iter()
                    .enumerate()
                    .filter_map(|(k, &y)| {
                        let f = *self.data.yhat.get(h.start_step + k)?;
                        f.is_finite().then_some(y - f)
                    })
                    .collect();
            ResidualQuantiles::from_residuals(&res)
        });
        Ok(Box::new(FileModel {
            data: self.data.clone(),
            next,
            rq,
        }))
    }
}
