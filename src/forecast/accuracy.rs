//! Forecast accuracy of the one-step-ahead forecasts over a test window:
//! MAE, RMSE, MAPE, sMAPE, MASE, pinball loss per quantile and interval coverage.

use serde::Serialize;

use super::{quantile_index, ForecastTable, QUANTILES};

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
    /// MAE scaled by the in-sample MAE of the seasonal naive forecast (period `mase_period`).
    pub mase: f64,
    pub mase_period: usize,
    /// Pinball loss per level of [`QUANTILES`].
    pub pinball: Vec<(f64, f64)>,
    /// Share of actuals inside the 80 % interval [q0.1, q0.9] (%).
    pub coverage_80_pct: f64,
    /// Share of actuals inside the 95 % interval [q0.025, q0.975] (%).
    pub coverage_95_pct: f64,
}

/// Scores `table`'s forecasts made at each step for that same step against `y`.
/// `train` is the history before the window, used for the MASE scale.
pub fn score(table: &ForecastTable, y: &[f64], train: &[f64], mase_period: usize) -> Accuracy {
    let rows = table.rows();
    let (mut ae, mut se, mut ape, mut nape, mut sape) = (0.0, 0.0, 0.0, 0usize, 0.0);
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
    let n = rows.max(1) as f64;
    let m = mase_period.max(1);
    let scale = if train.len() > m {
        train[m..]
            .iter()
            .zip(train)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / (train.len() - m) as f64
    } else {
        f64::NAN
    };
    Accuracy {
        forecaster: table.forecaster.clone(),
        n: rows,
        mae: ae / n,
        rmse: (se / n).sqrt(),
        mape_pct: if nape > 0 {
            100.0 * ape / nape as f64
        } else {
            f64::NAN
        },
        smape_pct: 100.0 * sape / n,
        mase: ae / n / scale,
        mase_period: m,
        pinball: QUANTILES
            .iter()
            .zip(pin)
            .map(|(&q, p)| (q, p / n))
            .collect(),
        coverage_80_pct: 100.0 * in80 as f64 / n,
        coverage_95_pct: 100.0 * in95 as f64 / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_errors_give_known_scores() {
        // Forecasts 10 everywhere; actuals alternate 8 and 12.
        let y = vec![0.0, 8.0, 12.0, 8.0, 12.0];
        let q = QUANTILES.len();
        let table = ForecastTable {
            forecaster: "c".into(),
            first_step: 1,
            horizon: 1,
            point: vec![10.0; 4],
            quantiles: (0..4)
                .flat_map(|_| {
                    QUANTILES.iter().map(|&l| {
                        if l < 0.5 {
                            5.0
                        } else if l > 0.5 {
                            15.0
                        } else {
                            10.0
                        }
                    })
                })
                .collect(),
        };
        assert_eq!(table.quantiles.len(), 4 * q);
        let a = score(&table, &y, &[1.0, 3.0, 1.0, 3.0], 1);
        assert_eq!(a.mae, 2.0);
        assert_eq!(a.rmse, 2.0);
        assert!((a.mape_pct - 100.0 * (0.25 + 2.0 / 12.0) / 2.0).abs() < 1e-9);
        assert_eq!(a.mase, 1.0);
        assert_eq!(a.coverage_80_pct, 100.0);
        // Median pinball = MAE / 2.
        let med = a.pinball.iter().find(|p| p.0 == 0.5).unwrap().1;
        assert_eq!(med, 1.0);
    }
}
