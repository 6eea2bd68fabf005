//! Regression forecasters on lag and calendar features (smartcore): ridge regression
//! and random forest. One-step models applied recursively over the horizon; quantiles
//! from the residuals on a time-ordered validation split (the last 20 % of the history).

use std::collections::VecDeque;
use std::sync::Arc;

use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::ridge_regression::{RidgeRegression, RidgeRegressionParameters};

use super::residual::ResidualQuantiles;
use super::{FittedModel, ForecastBuf, Forecaster, History};
use crate::error::{Error, Result};

/// Which regressor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Learner {
    Ridge {
        penalty: f64,
    },
    RandomForest {
        trees: usize,
        max_depth: u16,
        min_samples_leaf: usize,
        seed: u64,
    },
}

/// A lag-and-calendar regression forecaster.
#[derive(Debug, Clone)]
pub struct LagRegression {
    pub name: String,
    pub learner: Learner,
    /// Lags 1..=lags of the series.
    pub lags: usize,
    /// Fit on at most this many most recent rows (random forests grow with the data).
    pub max_rows: usize,
    /// Local wall-clock time of trace step 0 (ms), for hour-of-day and day-of-week.
    pub origin_ms: i64,
    /// Known-in-advance regressors over the whole trace.
    pub regressors: Arc<Vec<Vec<f64>>>,
}

type Matrix = DenseMatrix<f64>;

#[derive(serde::Serialize, serde::Deserialize)]
enum Model {
    Ridge(RidgeRegression<f64, f64, Matrix, Vec<f64>>),
    Forest(RandomForestRegressor<f64, f64, Matrix, Vec<f64>>),
}

impl Model {
    fn predict(&self, x: &Matrix) -> std::result::Result<Vec<f64>, String> {
        match self {
            Model::Ridge(m) => m.predict(x).map_err(|e| e.to_string()),
            Model::Forest(m) => m.predict(x).map_err(|e| e.to_string()),
        }
    }
}

impl LagRegression {
    fn features(&self, step: usize, step_ms: u64, lags: &[f64], out: &mut Vec<f64>) {
        out.extend_from_slice(lags);
        let ms = self.origin_ms + (step as u64 * step_ms) as i64;
        let day = ms.rem_euclid(86_400_000) as f64 / 86_400_000.0;
        let week = (ms.div_euclid(86_400_000) + 3).rem_euclid(7) as f64 / 7.0; // 1970-01-01 was a Thursday
        let tau = std::f64::consts::TAU;
        out.extend([
            (tau * day).sin(),
            (tau * day).cos(),
            (tau * week).sin(),
            (tau * week).cos(),
        ]);
        for r in self.regressors.iter() {
            out.push(r.get(step).copied().unwrap_or(0.0));
        }
    }

    fn train(&self, rows: &[f64], target: &[f64], width: usize) -> Result<Model> {
        let x = DenseMatrix::new(target.len(), width, rows.to_vec(), false)
            .map_err(|e| Error::forecast(&self.name, e.to_string()))?;
        let y = target.to_vec();
        let fail = |e: smartcore::error::Failed| Error::forecast(&self.name, e.to_string());
        Ok(match self.learner {
            Learner::Ridge { penalty } => Model::Ridge(
                RidgeRegression::fit(
                    &x,
                    &y,
                    RidgeRegressionParameters::default().with_alpha(penalty),
                )
                .map_err(fail)?,
            ),
            Learner::RandomForest {
                trees,
                max_depth,
                min_samples_leaf,
                seed,
            } => Model::Forest(
                RandomForestRegressor::fit(
                    &x,
                    &y,
                    RandomForestRegressorParameters::default()
                        .with_n_trees(trees)
                        .with_max_depth(max_depth)
                        .with_min_samples_leaf(min_samples_leaf)
                        .with_seed(seed),
                )
                .map_err(fail)?,
            ),
        })
    }
}

/// A fitted regression forecaster as `sim train` saves it.
#[derive(serde::Serialize)]
pub struct SavedRegression<'a> {
    /// The smartcore model (ridge coefficients, or the forest's trees).
    model: &'a Model,
    /// Which feature columns (lags 1.., day sin/cos, week sin/cos, regressors) were kept.
    keep: &'a [bool],
    lags: usize,
    residual_quantiles: &'a ResidualQuantiles,
}

struct Fitted {
    spec: LagRegression,
    model: Model,
    /// Feature columns kept (constant ones are dropped: they carry nothing and break scaling).
    keep: Vec<bool>,
    recent: VecDeque<f64>,
    next: usize,
    step_ms: u64,
    rq: ResidualQuantiles,
}

impl LagRegression {
    /// Fits on `h` and returns the model as JSON, for `sim train`.
    pub fn fit_to_json(&self, h: History<'_>) -> Result<serde_json::Value> {
        let (model, keep, rq) = self.fit_parts(h)?;
        serde_json::to_value(SavedRegression {
            model: &model,
            keep: &keep,
            lags: self.lags,
            residual_quantiles: &rq,
        })
        .map_err(|e| Error::forecast(&self.name, e.to_string()))
    }
}

impl FittedModel for Fitted {
    fn observe(&mut self, y: f64) {
        self.recent.push_front(y);
        self.recent.truncate(self.spec.lags);
        self.next += 1;
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let mut lags: Vec<f64> = self.recent.iter().copied().collect();
        let mut row = Vec::new();
        for h in 0..out.point.len() {
            row.clear();
            self.spec
                .features(self.next + h, self.step_ms, &lags, &mut row);
            let kept: Vec<f64> = row
                .iter()
                .zip(&self.keep)
                .filter(|(_, &k)| k)
                .map(|(v, _)| *v)
                .collect();
            let p = DenseMatrix::new(1, kept.len(), kept, false)
                .ok()
                .and_then(|x| self.model.predict(&x).ok())
                .and_then(|v| v.first().copied())
                .unwrap_or(lags[0])
                .max(0.0);
            out.point[h] = p;
            self.rq
                .fill(p, ((h + 1) as f64).sqrt(), out.quantiles_at(h));
            // Recursive strategy: the forecast becomes the newest lag.
            lags.insert(0, p);
            lags.truncate(self.spec.lags);
        }
    }
}

impl Forecaster for LagRegression {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        let (model, keep, rq) = self.fit_parts(h)?;
        // The newest lags; a missing one takes the next older observed value.
        let mut recent: VecDeque<f64> = VecDeque::with_capacity(self.lags);
        let mut carry = f64::NAN;
        for &v in h.y[h.y.len() - self.lags..].iter() {
            carry = if v.is_finite() { v } else { carry };
            recent.push_front(carry);
        }
        let oldest = recent
            .iter()
            .rev()
            .copied()
            .find(|v| v.is_finite())
            .unwrap_or(0.0);
        recent
            .iter_mut()
            .filter(|v| !v.is_finite())
            .for_each(|v| *v = oldest);
        Ok(Box::new(Fitted {
            spec: self.clone(),
            model,
            keep,
            recent,
            next: h.next_step(),
            step_ms: h.step_ms,
            rq,
        }))
    }
}

impl LagRegression {
    fn fit_parts(&self, h: History<'_>) -> Result<(Model, Vec<bool>, ResidualQuantiles)> {
        let k = self.lags;
        if k == 0 {
            return Err(Error::forecast(&self.name, "lags must be at least 1"));
        }
        let n = h.y.len();
        let first = k.max(n.saturating_sub(self.max_rows));
        if n < first + 20 {
            return Err(Error::forecast(
                &self.name,
                format!("needs at least {} past steps to fit, has {n}", k + 20),
            ));
        }
        let mut rows = Vec::new();
        let mut target = Vec::new();
        let mut width = 0;
        for t in first..n {
            let lags: Vec<f64> = (1..=k).map(|l| h.y[t - l]).collect();
            // A missing step (NaN) as target or lag: no training row.
            if !h.y[t].is_finite() || lags.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let before = rows.len();
            self.features(h.start_step + t, h.step_ms, &lags, &mut rows);
            width = rows.len() - before;
            target.push(h.y[t]);
        }
        if target.len() < 20 {
            return Err(Error::forecast(
                &self.name,
                format!(
                    "needs at least 20 training rows without a missing step among the target and its {k} lags, has {}",
                    target.len()
                ),
            ));
        }
        // Drop constant columns (e.g. day of week in a history shorter than a day).
        let keep: Vec<bool> = (0..width)
            .map(|c| {
                let first = rows[c];
                (0..target.len()).any(|r| rows[r * width + c] != first)
            })
            .collect();
        let rows: Vec<f64> = rows
            .chunks(width)
            .flat_map(|r| r.iter().zip(&keep).filter(|(_, &k)| k).map(|(v, _)| *v))
            .collect();
        let width = keep.iter().filter(|&&k| k).count();
        if width == 0 {
            return Err(Error::forecast(
                &self.name,
                "every feature is constant over the history",
            ));
        }
        // Residual quantiles from a time-ordered validation split, then a fit on everything.
        let split = target.len() * 4 / 5;
        let probe = self.train(&rows[..split * width], &target[..split], width)?;
        let xv = DenseMatrix::new(
            target.len() - split,
            width,
            rows[split * width..].to_vec(),
            false,
        )
        .map_err(|e| Error::forecast(&self.name, e.to_string()))?;
        let pv = probe
            .predict(&xv)
            .map_err(|e| Error::forecast(&self.name, e))?;
        let residuals: Vec<f64> = target[split..]
            .iter()
            .zip(&pv)
            .map(|(a, p)| a - p)
            .collect();
        let model = self.train(&rows, &target, width)?;
        Ok((model, keep, ResidualQuantiles::from_residuals(&residuals)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                50.0 + 20.0 * (std::f64::consts::TAU * i as f64 / 24.0).sin()
                    + ((i * 7919) % 7) as f64
            })
            .collect()
    }

    fn check(learner: Learner) {
        let y = series(24 * 30);
        let f = LagRegression {
            name: "r".into(),
            learner,
            lags: 24,
            max_rows: 5000,
            origin_ms: 0,
            regressors: Arc::new(vec![]),
        };
        let model = f
            .fit(History {
                y: &y[..24 * 29],
                start_step: 0,
                step_ms: 3_600_000,
            })
            .unwrap();
        let mut out = ForecastBuf::default();
        out.reset(3);
        model.predict(&mut out);
        for h in 0..3 {
            let truth = y[24 * 29 + h];
            assert!(
                (out.point[h] - truth).abs() < 8.0,
                "{learner:?} h={h}: {} vs {truth}",
                out.point[h]
            );
            assert!(
                out.quantiles[h * 11] <= out.point[h] && out.point[h] <= out.quantiles[h * 11 + 10]
            );
        }
    }

    #[test]
    fn ridge_learns_a_daily_pattern() {
        check(Learner::Ridge { penalty: 1.0 });
    }

    #[test]
    fn random_forest_learns_a_daily_pattern() {
        check(Learner::RandomForest {
            trees: 30,
            max_depth: 10,
            min_samples_leaf: 3,
            seed: 1,
        });
    }
}
