//! Holt-Winters (ETS(A,A,A)): additive level, trend and seasonality, smoothing
//! parameters fitted by minimising the one-step squared error with Nelder-Mead.

use super::residual::ResidualQuantiles;
use super::{FittedModel, ForecastBuf, Forecaster, History};
use crate::error::{Error, Result};

/// Additive Holt-Winters with a given seasonal period.
#[derive(Debug, Clone)]
pub struct HoltWinters {
    pub name: String,
    pub period: usize,
    /// Fixed (alpha, beta, gamma); `None` fits them.
    pub params: Option<[f64; 3]>,
}

#[derive(Debug, Clone)]
struct State {
    level: f64,
    trend: f64,
    season: Vec<f64>,
    /// Index into `season` of the next step.
    pos: usize,
}

impl State {
    fn init(y: &[f64], m: usize) -> State {
        // Means over the observed steps; a missing step's seasonal start is 0.
        let mean = |s: &[f64]| {
            let f = s.iter().filter(|v| v.is_finite());
            f.clone().sum::<f64>() / f.count().max(1) as f64
        };
        let l0 = mean(&y[..m]);
        let l1 = mean(&y[m..2 * m]);
        let trend = (l1 - l0) / m as f64;
        let mid = (m as f64 - 1.0) / 2.0;
        // Detrended first season; the level sits at the last step of that season.
        let season = y[..m]
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let s = v - (l0 + trend * (i as f64 - mid));
                if s.is_finite() {
                    s
                } else {
                    0.0
                }
            })
            .collect();
        State {
            level: l0 + trend * mid,
            trend,
            season,
            pos: 0,
        }
    }

    /// One-step forecast, then update with `y`; returns the forecast. A missing `y`
    /// (NaN) updates with the forecast itself: zero innovation, as the state-space form
    /// treats a missing observation.
    fn step(&mut self, y: f64, [a, b, g]: [f64; 3]) -> f64 {
        let s = self.season[self.pos];
        let f = self.level + self.trend + s;
        let y = if y.is_finite() { y } else { f };
        let level = a * (y - s) + (1.0 - a) * (self.level + self.trend);
        self.trend = b * (level - self.level) + (1.0 - b) * self.trend;
        self.season[self.pos] = g * (y - level) + (1.0 - g) * s;
        self.level = level;
        self.pos = (self.pos + 1) % self.season.len();
        f
    }
}

fn sse(y: &[f64], m: usize, p: [f64; 3]) -> f64 {
    let mut st = State::init(y, m);
    // Missing steps add no error.
    y[m..]
        .iter()
        .map(|&v| (v - st.step(v, p)).powi(2))
        .filter(|e| e.is_finite())
        .sum()
}

/// Nelder-Mead on the unit cube (parameters clamped into [0.001, 0.999]).
fn nelder_mead(f: impl Fn([f64; 3]) -> f64, start: [f64; 3], iters: usize) -> [f64; 3] {
    let clamp = |p: [f64; 3]| p.map(|v| v.clamp(0.001, 0.999));
    let mut simplex: Vec<([f64; 3], f64)> = (0..4)
        .map(|i| {
            let mut p = start;
            if i > 0 {
                p[i - 1] = (p[i - 1] + 0.2).min(0.999);
            }
            (p, f(p))
        })
        .collect();
    for _ in 0..iters {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (simplex[3].1 - simplex[0].1).abs() <= 1e-10 * simplex[0].1.abs().max(1e-12) {
            break;
        }
        let c: [f64; 3] =
            std::array::from_fn(|k| simplex[..3].iter().map(|s| s.0[k]).sum::<f64>() / 3.0);
        let at = |t: f64| clamp(std::array::from_fn(|k| c[k] + t * (simplex[3].0[k] - c[k])));
        let r = at(-1.0);
        let fr = f(r);
        if fr < simplex[0].1 {
            let e = at(-2.0);
            let fe = f(e);
            simplex[3] = if fe < fr { (e, fe) } else { (r, fr) };
        } else if fr < simplex[2].1 {
            simplex[3] = (r, fr);
        } else {
            let k = at(0.5);
            let fk = f(k);
            if fk < simplex[3].1 {
                simplex[3] = (k, fk);
            } else {
                let best = simplex[0].0;
                for s in simplex.iter_mut().skip(1) {
                    s.0 = clamp(std::array::from_fn(|k| best[k] + 0.5 * (s.0[k] - best[k])));
                    s.1 = f(s.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0].0
}

struct HwModel {
    state: State,
    params: [f64; 3],
    rq: ResidualQuantiles,
}

impl FittedModel for HwModel {
    fn observe(&mut self, y: f64) {
        self.state.step(y, self.params);
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let m = self.state.season.len();
        let [a, b, g] = self.params;
        // Variance factor of ETS(A,A,A) h steps ahead: 1 + Σ_{j<h} (α + βj + γ·[m | j])²
        // (Hyndman et al., Forecasting with Exponential Smoothing, 2008, ch. 6).
        let mut var = 1.0;
        for h in 0..out.point.len() {
            if h > 0 {
                let j = h as f64;
                let c = a + b * j + if h % m == 0 { g } else { 0.0 };
                var += c * c;
            }
            let s = self.state.season[(self.state.pos + h) % m];
            let p = (self.state.level + (h + 1) as f64 * self.state.trend + s).max(0.0);
            out.point[h] = p;
            self.rq.fill(p, var.sqrt(), out.quantiles_at(h));
        }
    }
}

impl Forecaster for HoltWinters {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        let m = self.period;
        if m < 2 {
            return Err(Error::forecast(&self.name, "period must be at least 2"));
        }
        if h.y.len() < 2 * m {
            return Err(Error::forecast(
                &self.name,
                format!(
                    "needs two full seasons ({} steps) to initialise, has {}",
                    2 * m,
                    h.y.len()
                ),
            ));
        }
        let params = match self.params {
            Some(p) if p.iter().all(|v| (0.0..=1.0).contains(v)) => p,
            Some(p) => {
                return Err(Error::forecast(
                    &self.name,
                    format!("alpha, beta, gamma must be in [0, 1], got {p:?}"),
                ))
            }
            None => nelder_mead(|p| sse(h.y, m, p), [0.3, 0.01, 0.1], 200),
        };
        let mut state = State::init(h.y, m);
        let res: Vec<f64> = h.y[m..]
            .iter()
            .map(|&v| v - state.step(v, params))
            .collect();
        Ok(Box::new(HwModel {
            state,
            params,
            rq: ResidualQuantiles::from_residuals(&res),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_seasonal_series_with_trend() {
        let m = 24;
        let y: Vec<f64> = (0..m * 10)
            .map(|i| {
                50.0 + 0.1 * i as f64
                    + 10.0 * (2.0 * std::f64::consts::PI * i as f64 / m as f64).sin()
            })
            .collect();
        let f = HoltWinters {
            name: "hw".into(),
            period: m,
            params: None,
        };
        let model = f
            .fit(History {
                y: &y[..m * 8],
                start_step: 0,
                step_ms: 3_600_000,
            })
            .unwrap();
        let mut out = ForecastBuf::default();
        out.reset(2 * m);
        model.predict(&mut out);
        for h in 0..2 * m {
            assert!(
                (out.point[h] - y[m * 8 + h]).abs() < 0.5,
                "h={h}: {} vs {}",
                out.point[h],
                y[m * 8 + h]
            );
        }
    }
}
