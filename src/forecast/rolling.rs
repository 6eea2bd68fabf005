//! Rolling-origin forecasting: at each decision step a model fitted on the past
//! predicts the next `horizon` steps; it refits on a cadence and absorbs each new
//! observation only after predicting from it. Missing steps are NaN in `y`: fits skip
//! them, and in place of one a model absorbs its own forecast.

use super::{FittedModel, ForecastBuf, ForecastTable, Forecaster, History, QUANTILES};
use crate::error::{Error, Result};

/// How a forecaster is rolled over a test window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollingOrigin {
    /// Steps between refits (at least 1).
    pub refit_every: usize,
    /// Fit on at most this many most recent steps (`None`: all the past).
    pub fit_window: Option<usize>,
    /// Steps ahead predicted at each decision.
    pub horizon: usize,
}

/// Forecasts every step of `first..last` from `y`, using only `y[..step]` at each step.
pub fn rolling_forecast(
    f: &dyn Forecaster,
    y: &[f64],
    step_ms: u64,
    first: usize,
    last: usize,
    ro: RollingOrigin,
) -> Result<ForecastTable> {
    if first == 0 || last > y.len() || first >= last {
        return Err(Error::forecast(
            f.name(),
            format!("test window {first}..{last} must start after step 0 and end within the trace ({} steps)", y.len()),
        ));
    }
    let rows = last - first;
    let q = QUANTILES.len();
    let mut table = ForecastTable {
        forecaster: f.name().to_string(),
        first_step: first,
        horizon: ro.horizon,
        point: Vec::with_capacity(rows * ro.horizon),
        quantiles: Vec::with_capacity(rows * ro.horizon * q),
    };
    let mut rolling = Rolling::new(f.name(), first, ro, step_ms)?;
    let y = &y[..last];
    for step in first..last {
        let (point, quantiles) = rolling.forecast(f, y, step)?;
        table.point.extend_from_slice(point);
        table.quantiles.extend_from_slice(quantiles);
    }
    Ok(table)
}

/// A forecaster rolled over decision steps one at a time: the one rolling-origin rule,
/// used by sweeps (over a whole test window, [`rolling_forecast`]) and by the live
/// controller (one decision at a time, as demand is recorded).
///
/// At step `s` the model is refitted when `s - first` is a multiple of `refit_every`
/// (or when no fit has succeeded yet); otherwise the model fitted last absorbs every
/// observation since and predicts. A missing step (NaN) carries no information: the
/// model absorbs its own forecast in its place.
pub struct Rolling {
    ro: RollingOrigin,
    step_ms: u64,
    first: usize,
    model: Option<Box<dyn FittedModel>>,
    /// The step the model predicted last, step by step (its forecast is in `buf`).
    predicted: Option<usize>,
    /// The step the last call forecast.
    last: Option<usize>,
    buf: ForecastBuf,
    /// A batched model's forecasts for the steps `block_first..block_end`.
    block_first: usize,
    block_end: usize,
    block_point: Vec<f64>,
    block_quantiles: Vec<f64>,
}

impl Rolling {
    /// A roller whose first decision is at `first` (`name` names the forecaster in errors).
    pub fn new(name: &str, first: usize, ro: RollingOrigin, step_ms: u64) -> Result<Rolling> {
        if ro.refit_every == 0 || ro.horizon == 0 {
            return Err(Error::forecast(
                name,
                "refit_every and horizon must be at least 1",
            ));
        }
        let mut buf = ForecastBuf::default();
        buf.reset(ro.horizon);
        Ok(Rolling {
            ro,
            step_ms,
            first,
            model: None,
            predicted: None,
            last: None,
            buf,
            block_first: 0,
            block_end: 0,
            block_point: Vec::new(),
            block_quantiles: Vec::new(),
        })
    }

    /// The forecast made at `step` from `y[..step]`: `horizon` points and
    /// `horizon × QUANTILES.len()` quantiles. Steps come in increasing order (a repeated
    /// step returns the same forecast; a skipped one is rolled over). `y` may run past
    /// `step` (a sweep passes the whole test window): a batched model then forecasts up to
    /// its next refit at once, each decision still reading only the steps before it.
    pub fn forecast(
        &mut self,
        f: &dyn Forecaster,
        y: &[f64],
        step: usize,
    ) -> Result<(&[f64], &[f64])> {
        if step < self.first || step > y.len() || self.last.is_some_and(|l| step < l) {
            return Err(Error::forecast(
                f.name(),
                format!(
                    "cannot forecast step {step}: decisions start at {} and go forward, within the {} steps recorded",
                    self.first,
                    y.len()
                ),
            ));
        }
        let from = self.last.map_or(step, |l| (l + 1).min(step));
        if self.last != Some(step) {
            for s in from..=step {
                self.advance(f, y, s)?;
            }
            self.last = Some(step);
        }
        Ok(self.output(step))
    }

    /// Steps ahead in each forecast.
    pub fn horizon(&self) -> usize {
        self.ro.horizon
    }

    fn output(&self, step: usize) -> (&[f64], &[f64]) {
        if (self.block_first..self.block_end).contains(&step) {
            let (h, q) = (self.ro.horizon, self.ro.horizon * QUANTILES.len());
            let r = step - self.block_first;
            (
                &self.block_point[r * h..(r + 1) * h],
                &self.block_quantiles[r * q..(r + 1) * q],
            )
        } else {
            (&self.buf.point, &self.buf.quantiles)
        }
    }

    /// One step: absorb the previous step, refit on the cadence, predict.
    fn advance(&mut self, f: &dyn Forecaster, y: &[f64], step: usize) -> Result<()> {
        if let (Some(m), Some(prev)) = (self.model.as_mut(), self.predicted) {
            if prev + 1 == step {
                m.observe(if y[prev].is_finite() {
                    y[prev]
                } else {
                    self.buf.point[0]
                });
            }
        }
        self.predicted = None;
        let ro = self.ro;
        if self.model.is_none() || (step - self.first).is_multiple_of(ro.refit_every) {
            self.model = None;
            self.block_end = 0;
            let lo = ro.fit_window.map_or(0, |w| step.saturating_sub(w));
            let mut m = f.fit(History {
                y: &y[lo..step],
                start_step: lo,
                step_ms: self.step_ms,
            })?;
            // Batched models forecast the whole refit block at once, as far as `y` goes;
            // the decision at `s` still sees only `y[..s]` (the slice ends before the
            // block's last step).
            let end = (step + ro.refit_every).min(y.len());
            self.block_point.clear();
            self.block_quantiles.clear();
            if end > step
                && m.predict_block(
                    &y[..end - 1],
                    step..end,
                    ro.horizon,
                    &mut self.block_point,
                    &mut self.block_quantiles,
                )
            {
                self.block_first = step;
                self.block_end = end;
            }
            self.model = Some(m);
        }
        if (self.block_first..self.block_end).contains(&step) {
            return Ok(());
        }
        let m = self.model.as_ref().expect("fitted above");
        m.predict(&mut self.buf);
        self.predicted = Some(step);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::baselines::{MovingAverage, Naive, SeasonalNaive};
    use crate::forecast::holt_winters::HoltWinters;
    use crate::forecast::regression::LagRegression;

    #[test]
    fn missing_steps_give_finite_forecasts_that_ignore_them() {
        // Four days of a 24-step cycle with every 5th step missing and a whole missing run
        // right before the test window and inside it.
        let m = 24;
        let y: Vec<f64> = (0..4 * m)
            .map(|i| {
                if i % 5 == 0 || (70..72).contains(&i) || (80..84).contains(&i) {
                    f64::NAN
                } else {
                    50.0 + 20.0 * (std::f64::consts::TAU * i as f64 / m as f64).sin()
                }
            })
            .collect();
        let ro = RollingOrigin {
            refit_every: 6,
            fit_window: None,
            horizon: 3,
        };
        let models: Vec<Box<dyn Forecaster>> = vec![
            Box::new(Naive { name: "n".into() }),
            Box::new(SeasonalNaive {
                name: "s".into(),
                period: Some(m),
            }),
            Box::new(MovingAverage {
                name: "m".into(),
                window: 4,
            }),
            Box::new(HoltWinters {
                name: "h".into(),
                period: m,
                params: None,
            }),
            Box::new(LagRegression {
                name: "r".into(),
                learner: crate::forecast::regression::Learner::Ridge { penalty: 1.0 },
                lags: 2,
                max_rows: 10_000,
                origin_ms: 0,
                regressors: Default::default(),
            }),
        ];
        for f in &models {
            let t = rolling_forecast(f.as_ref(), &y, 3_600_000, 72, 4 * m, ro).unwrap();
            assert!(
                t.point.iter().chain(&t.quantiles).all(|v| v.is_finite()),
                "{}: {:?}",
                f.name(),
                t.point
            );
            // The sine stays within 30..70: no forecast collapses towards 0 (what reading the
            // gaps as zeros gives) or runs away.
            assert!(
                t.point.iter().all(|&p| (10.0..100.0).contains(&p)),
                "{}: {:?}",
                f.name(),
                t.point
            );
        }
        // Naive carries the last observed value (step 69) over the missing 70, 71.
        let t = rolling_forecast(models[0].as_ref(), &y, 3_600_000, 72, 73, ro).unwrap();
        assert_eq!(t.point[0], y[69]);
    }

    #[test]
    fn rolling_one_decision_at_a_time_matches_the_whole_window() {
        // As live: `y` ends at the decision; as a sweep: the whole window at once.
        let y: Vec<f64> = (0..160)
            .map(|i| {
                if i % 11 == 0 {
                    f64::NAN
                } else {
                    40.0 + 15.0 * (i as f64 / 7.0).sin() + (i % 3) as f64
                }
            })
            .collect();
        let ro = RollingOrigin {
            refit_every: 9,
            fit_window: Some(60),
            horizon: 4,
        };
        let models: Vec<Box<dyn Forecaster>> = vec![
            Box::new(MovingAverage {
                name: "m".into(),
                window: 5,
            }),
            Box::new(HoltWinters {
                name: "h".into(),
                period: 24,
                params: None,
            }),
        ];
        for f in &models {
            let whole = rolling_forecast(f.as_ref(), &y, 60_000, 80, 160, ro).unwrap();
            let mut r = Rolling::new(f.name(), 80, ro, 60_000).unwrap();
            let mut point = Vec::new();
            for step in 80..160 {
                let (p, _) = r.forecast(f.as_ref(), &y[..step], step).unwrap();
                point.extend_from_slice(p);
                // Asking again for the same step gives the same forecast.
                let again = r.forecast(f.as_ref(), &y[..step], step).unwrap().0.to_vec();
                assert_eq!(&point[point.len() - 4..], &again[..]);
            }
            assert_eq!(point, whole.point, "{}", f.name());
            // A step skipped (a decision without a forecast) is rolled over, not lost.
            let mut r = Rolling::new(f.name(), 80, ro, 60_000).unwrap();
            r.forecast(f.as_ref(), &y[..80], 80).unwrap();
            let (p, _) = r.forecast(f.as_ref(), &y[..95], 95).unwrap();
            assert_eq!(p, &whole.point[15 * 4..16 * 4], "{}", f.name());
            // Going back is refused.
            assert!(r.forecast(f.as_ref(), &y[..90], 90).is_err());
        }
    }
}
