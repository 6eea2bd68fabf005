//! Baseline forecasters: naive, seasonal naive and moving average. Their quantiles
//! come from in-sample one-step residuals, widened with the horizon as for a random
//! walk (naive: √h; seasonal naive: √(k+1) with k whole seasons; mean: 1).

use std::collections::VecDeque;

use super::period::detect_period;
use super::residual::ResidualQuantiles;
use super::{FittedModel, ForecastBuf, Forecaster, History};
use crate::error::{Error, Result};

/// Last value carried forward.
#[derive(Debug, Clone)]
pub struct Naive {
    pub name: String,
}

/// The value one season ago; the period is given or detected at the first fit.
#[derive(Debug, Clone)]
pub struct SeasonalNaive {
    pub name: String,
    /// Period in steps; `None` detects it from the history (up to a week).
    pub period: Option<usize>,
}

/// Mean of the last `window` observations.
#[derive(Debug, Clone)]
pub struct MovingAverage {
    pub name: String,
    pub window: usize,
}

/// A ring of the last `cap` observations.
#[derive(Debug, Clone)]
struct Recent {
    buf: VecDeque<f64>,
    cap: usize,
    sum: f64,
}

impl Recent {
    /// The last `cap` values of `y`, a missing one (NaN) replaced by `fill` of the ring
    /// before it — the model's own forecast, which carries no information. The walk
    /// starts `cap` steps before the kept tail, so that a fill has values to read.
    fn new(cap: usize, y: &[f64], fill: impl Fn(&Recent) -> f64) -> Recent {
        let mut r = Recent {
            buf: VecDeque::with_capacity(cap + 1),
            cap,
            sum: 0.0,
        };
        let from = y.len().saturating_sub(2 * cap);
        for &v in &y[from..] {
            if v.is_finite() {
                r.push(v);
            } else if !r.buf.is_empty() {
                r.push(fill(&r));
            }
        }
        // A tail that starts with missing steps: its first value stands in for them.
        while r.buf.len() < cap.min(y.len()) {
            let Some(&first) = r.buf.front() else { break };
            r.buf.push_front(first);
            r.sum += first;
        }
        r
    }
    fn push(&mut self, v: f64) {
        self.buf.push_back(v);
        self.sum += v;
        if self.buf.len() > self.cap {
            self.sum -= self.buf.pop_front().unwrap();
        }
    }
    /// Value `k` steps back (1 = last).
    fn back(&self, k: usize) -> f64 {
        self.buf[self.buf.len() - k]
    }
}

struct NaiveModel {
    recent: Recent,
    rq: ResidualQuantiles,
}

/// The last finite value (naive's own forecast for a missing step).
fn last_value(r: &Recent) -> f64 {
    r.back(1)
}

impl FittedModel for NaiveModel {
    fn observe(&mut self, y: f64) {
        self.recent.push(y);
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let p = self.recent.back(1);
        for h in 0..out.point.len() {
            out.point[h] = p;
            self.rq
                .fill(p, ((h + 1) as f64).sqrt(), out.quantiles_at(h));
        }
    }
}

/// Checks that the history has `want` steps, at least one of them observed.
fn need(name: &str, y: &[f64], want: usize) -> Result<()> {
    let have = y.len();
    if have > 0 && !y.iter().any(|v| v.is_finite()) {
        return Err(Error::forecast(
            name,
            format!("every one of the {have} past steps is missing: start the test window after observed data"),
        ));
    }
    if have < want {
        return Err(Error::forecast(
            name,
            format!(
                "needs at least {want} past steps to fit, has {have}: start the test window later"
            ),
        ));
    }
    Ok(())
}

impl Forecaster for Naive {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        // One past value is a naive forecast; its intervals need a second (until then
        // they are a point mass).
        need(&self.name, h.y, 1)?;
        // Missing steps (NaN) are skipped: no residual, and the last value carries over.
        let last =
            h.y.iter()
                .rposition(|v| v.is_finite())
                .unwrap_or(h.y.len() - 1);
        let res: Vec<f64> = h.y.windows(2).map(|w| w[1] - w[0]).collect();
        Ok(Box::new(NaiveModel {
            recent: Recent::new(1, &h.y[..=last], last_value),
            rq: ResidualQuantiles::from_residuals(&res),
        }))
    }
}

struct SeasonalModel {
    recent: Recent,
    period: usize,
    rq: ResidualQuantiles,
}

impl FittedModel for SeasonalModel {
    fn observe(&mut self, y: f64) {
        self.recent.push(y);
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let m = self.period;
        for h in 0..out.point.len() {
            let k = h / m; // whole seasons beyond the first
            let p = self.recent.back(m * (k + 1) - h);
            out.point[h] = p;
            self.rq
                .fill(p, ((k + 1) as f64).sqrt(), out.quantiles_at(h));
        }
    }
}

impl SeasonalNaive {
    /// The period this forecaster would use on `h`.
    pub fn resolve_period(&self, h: &History<'_>) -> Result<usize> {
        match self.period {
            Some(0) => Err(Error::forecast(&self.name, "period must be at least 1")),
            Some(p) => Ok(p),
            None => {
                let week = (7 * 86_400_000 / h.step_ms.max(1)) as usize;
                detect_period(h.y, week).ok_or_else(|| {
                    Error::forecast(
                        &self.name,
                        "no seasonal period found in the history: set `period` explicitly",
                    )
                })
            }
        }
    }
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        let m = self.resolve_period(&h)?;
        need(&self.name, h.y, m + 1)?;
        // NaN residuals (a missing step on either side) are dropped by the quantiles.
        let res: Vec<f64> = h.y[m..].iter().zip(h.y).map(|(a, b)| a - b).collect();
        Ok(Box::new(SeasonalModel {
            recent: Recent::new(m, h.y, |r| {
                if r.buf.len() >= m {
                    r.back(m)
                } else {
                    r.back(1)
                }
            }),
            period: m,
            rq: ResidualQuantiles::from_residuals(&res),
        }))
    }
}

struct MeanModel {
    recent: Recent,
    rq: ResidualQuantiles,
}

impl FittedModel for MeanModel {
    fn observe(&mut self, y: f64) {
        self.recent.push(y);
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let p = self.recent.sum / self.recent.buf.len() as f64;
        for h in 0..out.point.len() {
            out.point[h] = p;
            self.rq.fill(p, 1.0, out.quantiles_at(h));
        }
    }
}

impl Forecaster for MovingAverage {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        if self.window == 0 {
            return Err(Error::forecast(&self.name, "window must be at least 1"));
        }
        need(&self.name, h.y, self.window + 1)?;
        let w = self.window;
        // Residuals against the mean of the finite values in each window (none: skipped).
        let (mut sum, mut count) = (0.0, 0usize);
        let mut res = Vec::with_capacity(h.y.len() - w);
        for t in 0..h.y.len() {
            if t >= w {
                res.push(if count > 0 {
                    h.y[t] - sum / count as f64
                } else {
                    f64::NAN
                });
                if h.y[t - w].is_finite() {
                    sum -= h.y[t - w];
                    count -= 1;
                }
            }
            if h.y[t].is_finite() {
                sum += h.y[t];
                count += 1;
            }
        }
        Ok(Box::new(MeanModel {
            recent: Recent::new(w, h.y, |r| r.sum / r.buf.len() as f64),
            rq: ResidualQuantiles::from_residuals(&res),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn predict(f: &dyn Forecaster, y: &[f64], horizon: usize) -> ForecastBuf {
        let m = f
            .fit(History {
                y,
                start_step: 0,
                step_ms: 60_000,
            })
            .unwrap();
        let mut out = ForecastBuf::default();
        out.reset(horizon);
        m.predict(&mut out);
        out
    }

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let y: Vec<f64> = (0..12).map(|i| (i % 4) as f64).collect();
        let f = SeasonalNaive {
            name: "s".into(),
            period: Some(4),
        };
        assert_eq!(predict(&f, &y, 6).point, vec![0.0, 1.0, 2.0, 3.0, 0.0, 1.0]);
    }

    #[test]
    fn moving_average_and_naive_points() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let ma = MovingAverage {
            name: "m".into(),
            window: 3,
        };
        assert_eq!(predict(&ma, &y, 2).point, vec![5.0, 5.0]);
        let n = Naive { name: "n".into() };
        let out = predict(&n, &y, 2);
        assert_eq!(out.point, vec![6.0, 6.0]);
        // All residuals are +1, so every quantile of step 1 is 7 and of step 2 is 6 + √2.
        assert!(out.quantiles[..11].iter().all(|&q| (q - 7.0).abs() < 1e-9));
        assert!((out.quantiles[11] - (6.0 + 2f64.sqrt())).abs() < 1e-9);
    }

    #[test]
    fn too_short_history_is_a_clear_error() {
        let f = SeasonalNaive {
            name: "s".into(),
            period: Some(10),
        };
        let err = f
            .fit(History {
                y: &[1.0; 5],
                start_step: 0,
                step_ms: 60_000,
            })
            .err()
            .unwrap();
        assert!(err.to_string().contains("at least 11 past steps"), "{err}");
    }

    #[test]
    fn naive_fits_on_a_single_step() {
        // Regression (#19): naive refused a test window starting after one training step.
        let f = Naive { name: "n".into() };
        let one = History {
            y: &[7.0],
            start_step: 0,
            step_ms: 60_000,
        };
        let m = f.fit(one).unwrap();
        let mut out = ForecastBuf::default();
        out.reset(2);
        m.predict(&mut out);
        assert_eq!(out.point, vec![7.0, 7.0]);
        assert!(out.quantiles_at(1).iter().all(|&q| q == 7.0));
        let none = History { y: &[], ..one };
        assert!(f
            .fit(none)
            .err()
            .unwrap()
            .to_string()
            .contains("at least 1 past step"));
    }
}
