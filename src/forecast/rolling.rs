//! Rolling-origin forecasting: at each decision step a model fitted on the past
//! predicts the next `horizon` steps; it refits on a cadence and absorbs each new
//! observation only after predicting from it.

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
        m.observe(y[step]);
    }
    Ok(table)
}
