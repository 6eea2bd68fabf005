//! Rolling-origin forecasting: at each decision step a model fitted on the past
//! predicts the next `horizon` steps; it refits on a cadence and absorbs each new
//! observation only after predicting from it. Missing steps are NaN in `y`: fits skip
//! them, and in place of one a model absorbs its own forecast.

use super::{ForecastBuf, ForecastTable, Forecaster, History, QUANTILES};
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
    if ro.refit_every == 0 || ro.horizon == 0 {
        return Err(Error::forecast(
            f.name(),
            "refit_every and horizon must be at least 1",
        ));
    }
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
    let mut buf = ForecastBuf::default();
    buf.reset(ro.horizon);
    let mut model = None;
    let mut batched_until = first;
    for step in first..last {
        if (step - first).is_multiple_of(ro.refit_every) {
            let lo = ro.fit_window.map_or(0, |w| step.saturating_sub(w));
            let mut m = f.fit(History {
                y: &y[lo..step],
                start_step: lo,
                step_ms,
            })?;
            // Batched models forecast the whole refit block at once; the decision at `s`
            // still sees only `y[..s]` (the slice ends before the block's last step).
            let end = (step + ro.refit_every).min(last);
            if m.predict_block(
                &y[..end - 1],
                step..end,
                ro.horizon,
                &mut table.point,
                &mut table.quantiles,
            ) {
                batched_until = end;
            }
            model = Some(m);
        }
        if step < batched_until {
            continue;
        }
        let m = model.as_mut().expect("fitted at the first step");
        m.predict(&mut buf);
        table.point.extend_from_slice(&buf.point);
        table.quantiles.extend_from_slice(&buf.quantiles);
        // A missing step (NaN) carries no information: the model absorbs its own forecast.
        m.observe(if y[step].is_finite() {
            y[step]
        } else {
            buf.point[0]
        });
    }
    Ok(table)
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
}
