//! Forecast accuracy over a test window: MAE, RMSE, MAPE, sMAPE, MASE, pinball loss per
//! quantile and interval coverage one step ahead, and MAE/MASE at the horizons the
//! scenario's policies read (their lead, and the mean over a decision interval).
//!
//! Every forecaster of a scenario is scaled by one [`Scale`], so MASE ranks them as MAE does.

use serde::Serialize;

use super::period::detect_period;
use super::{quantile_index, ForecastTable, QUANTILES};

/// Longest series the period detection runs on; longer training windows are summed into
/// blocks first (the ACF costs samples × lags, so a month of seconds would take hours).
const DETECT_POINTS: usize = 20_000;

/// The MASE denominator: the in-sample MAE of the seasonal-naive forecast at a period
/// detected once from the training data, or of the naive forecast when no period is found
/// (or the training window is shorter than two periods).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scale {
    /// Period in steps (1: naive).
    pub period: usize,
    /// In-sample MAE of that forecast; NaN when the training window has under two points.
    pub mae: f64,
}

impl Scale {
    /// The scale for training data `train` (missing steps, NaN, are skipped).
    pub fn from_training(train: &[f64]) -> Scale {
        let period = detect_training_period(train).unwrap_or(1);
        Scale {
            period,
            mae: seasonal_naive_mae(train, period),
        }
    }
    /// How the table names it: `seasonal_naive_1440` or `naive`.
    pub fn label(&self) -> String {
        if self.period > 1 {
            format!("seasonal_naive_{}", self.period)
        } else {
            "naive".into()
        }
    }
}

/// The training data's dominant period in steps, at least two of which fit in it.
fn detect_training_period(train: &[f64]) -> Option<usize> {
    let block = train.len().div_ceil(DETECT_POINTS).max(1);
    let y: Vec<f64> = train
        .chunks(block)
        .map(|c| c.iter().filter(|v| v.is_finite()).sum())
        .collect();
    let p = detect_period(&y, y.len() / 2)? * block;
    (2 * p <= train.len()).then_some(p)
}

/// In-sample MAE of the forecast `y[t] = y[t − m]` over the pairs with both values present.
fn seasonal_naive_mae(y: &[f64], m: usize) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (a, b) in y.iter().skip(m).zip(y) {
        if a.is_finite() && b.is_finite() {
            sum += (a - b).abs();
            n += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Error at one horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtHorizon {
    /// Steps ahead (1: the step right after the last observation).
    pub steps: usize,
    pub n: usize,
    pub mae: f64,
    pub mase: f64,
}

/// Accuracy of one forecaster on one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub forecaster: String,
    pub n: usize,
    pub mae: f64,
    pub rmse: f64,
    /// Mean absolute percentage error over steps with non-zero demand (%).
    pub mape_pct: f64,
    /// Symmetric MAPE (%), 0–200.
    pub smape_pct: f64,
    /// MAE divided by the scenario's [`Scale`].
    pub mase: f64,
    pub scale: Scale,
    /// Pinball loss per level of [`QUANTILES`].
    pub pinball: Vec<(f64, f64)>,
    /// Share of actuals inside the 80 % interval [q0.1, q0.9] (%).
    pub coverage_80_pct: f64,
    /// Share of actuals inside the 95 % interval [q0.025, q0.975] (%).
    pub coverage_95_pct: f64,
    /// The point forecast `lead` steps after the step scored above (what a predictive
    /// policy provisions for).
    pub at_lead: AtHorizon,
    /// The mean of the point forecasts over a decision interval against the mean demand
    /// over it (what a policy sizes an interval for).
    pub over_window: AtHorizon,
    /// Steps between refits.
    pub refit_every: usize,
    /// False when the model ignores observations between refits (Prophet): its "one step
    /// ahead" forecasts then come from data up to `refit_every` steps old.
    pub updates_between_refits: bool,
}

/// The horizons a scenario's policies read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Horizons {
    /// Largest forecast lead of the policies, in steps (0: none).
    pub lead: usize,
    /// Largest decision interval, in steps (at least 1).
    pub window: usize,
}

/// Scores `table`'s forecasts against `y` (NaN marks a missing step, which is skipped).
pub fn score(table: &ForecastTable, y: &[f64], scale: Scale, at: Horizons) -> Accuracy {
    let rows = table.rows();
    let (mut ae, mut se, mut ape, mut nape, mut sape, mut n) = (0.0, 0.0, 0.0, 0usize, 0.0, 0usize);
    let mut pin = vec![0.0; QUANTILES.len()];
    let (lo80, hi80) = (quantile_index(0.1).unwrap(), quantile_index(0.9).unwrap());
    let (lo95, hi95) = (
        quantile_index(0.025).unwrap(),
        quantile_index(0.975).unwrap(),
    );
    let (mut in80, mut in95) = (0usize, 0usize);
    for r in 0..rows {
        let step = table.first_step + r;
        let a = y[step];
        if !a.is_finite() {
            continue;
        }
        n += 1;
        let f = table.point(step, 0);
        let e = a - f;
        ae += e.abs();
        se += e * e;
        if a != 0.0 {
            ape += (e / a).abs();
            nape += 1;
        }
        let denom = a.abs() + f.abs();
        if denom > 0.0 {
            sape += 2.0 * e.abs() / denom;
        }
        for (k, &q) in QUANTILES.iter().enumerate() {
            let d = a - table.quantile(step, 0, k);
            pin[k] += if d >= 0.0 { q * d } else { (q - 1.0) * d };
        }
        in80 += (table.quantile(step, 0, lo80) <= a && a <= table.quantile(step, 0, hi80)) as usize;
        in95 += (table.quantile(step, 0, lo95) <= a && a <= table.quantile(step, 0, hi95)) as usize;
    }
    let nf = n as f64;
    let div = |x: f64, d: f64| if d > 0.0 { x / d } else { f64::NAN };
    let mae = div(ae, nf);
    Accuracy {
        forecaster: table.forecaster.clone(),
        n,
        mae,
        rmse: div(se, nf).sqrt(),
        mape_pct: 100.0 * div(ape, nape as f64),
        smape_pct: 100.0 * div(sape, nf),
        mase: div(mae, scale.mae),
        scale,
        pinball: QUANTILES
            .iter()
            .zip(pin)
            .map(|(&q, p)| (q, div(p, nf)))
            .collect(),
        coverage_80_pct: 100.0 * div(in80 as f64, nf),
        coverage_95_pct: 100.0 * div(in95 as f64, nf),
        at_lead: horizon_error(table, y, scale, at.lead, 1),
        over_window: horizon_error(table, y, scale, 0, at.window),
        refit_every: 1,
        updates_between_refits: true,
    }
}

/// MAE of the mean point forecast over steps `h .. h + len` ahead (clamped to the table's
/// horizon) against the mean demand over them, for every row whose steps all lie in `y`
/// and the window, none missing.
fn horizon_error(
    table: &ForecastTable,
    y: &[f64],
    scale: Scale,
    h: usize,
    len: usize,
) -> AtHorizon {
    let len = len.clamp(1, table.horizon);
    let h = h.min(table.horizon - len);
    let end = table.first_step + table.rows();
    let (mut ae, mut n) = (0.0, 0usize);
    for r in 0..table.rows() {
        let step = table.first_step + r;
        if step + h + len > end.min(y.len()) {
            break;
        }
        let actual = &y[step + h..step + h + len];
        if actual.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let f: f64 = (h..h + len).map(|k| table.point(step, k)).sum::<f64>() / len as f64;
        let a: f64 = actual.iter().sum::<f64>() / len as f64;
        ae += (a - f).abs();
        n += 1;
    }
    let mae = if n > 0 { ae / n as f64 } else { f64::NAN };
    AtHorizon {
        steps: h + len,
        n,
        mae,
        mase: if scale.mae > 0.0 {
            mae / scale.mae
        } else {
            f64::NAN
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(first_step: usize, horizon: usize, point: Vec<f64>) -> ForecastTable {
        let rows = point.len() / horizon;
        let quantiles = (0..rows * horizon)
            .flat_map(|i| {
                let p = point[i];
                QUANTILES.map(|l| {
                    if l < 0.5 {
                        p - 5.0
                    } else if l > 0.5 {
                        p + 5.0
                    } else {
                        p
                    }
                })
            })
            .collect();
        ForecastTable {
            forecaster: "c".into(),
            first_step,
            horizon,
            point,
            quantiles,
        }
    }

    const ONE: Horizons = Horizons { lead: 0, window: 1 };

    #[test]
    fn known_errors_give_known_scores() {
        // Forecasts 10 everywhere; actuals alternate 8 and 12.
        let y = vec![0.0, 8.0, 12.0, 8.0, 12.0];
        let scale = Scale::from_training(&[1.0, 3.0, 1.0, 3.0]);
        assert_eq!(
            scale,
            Scale {
                period: 1,
                mae: 2.0
            }
        );
        let a = score(&table(1, 1, vec![10.0; 4]), &y, scale, ONE);
        assert_eq!(a.mae, 2.0);
        assert_eq!(a.rmse, 2.0);
        assert!((a.mape_pct - 100.0 * (0.25 + 2.0 / 12.0) / 2.0).abs() < 1e-9);
        assert_eq!(a.mase, 1.0);
        assert_eq!(a.coverage_80_pct, 100.0);
        // Median pinball = MAE / 2.
        let med = a.pinball.iter().find(|p| p.0 == 0.5).unwrap().1;
        assert_eq!(med, 1.0);
    }

    #[test]
    fn missing_steps_are_skipped_not_scored_as_zero() {
        let y = vec![0.0, 8.0, f64::NAN, 8.0, f64::NAN];
        let a = score(
            &table(1, 1, vec![10.0; 4]),
            &y,
            Scale {
                period: 1,
                mae: 1.0,
            },
            ONE,
        );
        assert_eq!((a.n, a.mae), (2, 2.0));
    }

    #[test]
    fn the_scale_uses_the_detected_day_and_falls_back_to_naive_under_two_periods() {
        let day = 288;
        let y: Vec<f64> = (0..3 * day)
            .map(|i| 50.0 + 40.0 * (std::f64::consts::TAU * i as f64 / day as f64).sin())
            .collect();
        let s = Scale::from_training(&y);
        assert!((s.period as i64 - day as i64).abs() <= 2, "{s:?}");
        assert!(s.mae < 1.0, "a sine repeats every day: {s:?}");
        // Under two days of the same series: naive, whose MAE is the mean step-to-step
        // change of a sine, 4 × amplitude per period.
        let s = Scale::from_training(&y[..day * 3 / 2]);
        assert_eq!(s.period, 1);
        assert!((s.mae - 160.0 / day as f64).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn a_long_per_second_window_detects_its_period_in_blocks() {
        // Ten hours of seconds with an hourly cycle: 36 000 points, detected on blocks of 2.
        let y: Vec<f64> = (0..36_000)
            .map(|i| 100.0 + 50.0 * (std::f64::consts::TAU * i as f64 / 3600.0).sin())
            .collect();
        let s = Scale::from_training(&y);
        assert!((s.period as i64 - 3600).abs() <= 4, "{s:?}");
    }

    #[test]
    fn horizons_score_the_lead_step_and_the_window_mean() {
        // Actuals 0, 1, 2, ...; each row forecasts 10 for every step ahead.
        let y: Vec<f64> = (0..12).map(f64::from).collect();
        let t = table(2, 4, vec![10.0; 6 * 4]);
        let a = score(
            &t,
            &y,
            Scale {
                period: 1,
                mae: 2.0,
            },
            Horizons { lead: 2, window: 3 },
        );
        // Lead 2: the table covers steps 2..8, so a row's lead step must be before 8:
        // rows 2..=5, forecasting steps 4..=7.
        assert_eq!(a.at_lead.steps, 3);
        assert_eq!(a.at_lead.n, 4);
        let expect = [6.0, 5.0, 4.0, 3.0].iter().sum::<f64>() / 4.0;
        assert_eq!(a.at_lead.mae, expect);
        assert_eq!(a.at_lead.mase, expect / 2.0);
        // Window 3: rows 2..=5, means of (s, s+1, s+2) = s + 1.
        assert_eq!(a.over_window.n, 4);
        assert_eq!(
            a.over_window.mae,
            [7.0, 6.0, 5.0, 4.0].iter().sum::<f64>() / 4.0
        );
    }
}
