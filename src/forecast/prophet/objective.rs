//! Prophet's MAP objective: the negative log posterior of prophet.stan (constants
//! dropped) with its analytic gradient.

// Loops index several parallel arrays (times, rows, trend) at once.
#![allow(clippy::needless_range_loop)]

use super::config::Growth;
use super::model::{components, piecewise_logistic, Design};

/// Negative log posterior of prophet.stan (constants dropped), over
/// [k, m, delta(S), beta(F), log sigma], with its gradient.
#[derive(Clone)]
pub(crate) struct Objective<'a> {
    pub(crate) d: &'a Design,
    pub(crate) y: &'a [f64],
    pub(crate) cps: &'a [f64],
    pub(crate) prior: Vec<f64>,
    pub(crate) tau: f64,
    pub(crate) growth: Growth,
    pub(crate) cap: f64,
    /// |δ| smoothed at the origin (for the exact solver's L-BFGS), or exact with Stan's
    /// derivative sign(0) = 0.
    pub(crate) smooth: bool,
}

/// |x| smoothed at the origin (width 1e-6 in scaled units) so L-BFGS converges on the
/// Laplace prior; the difference in the optimum is far below the validation tolerance.
pub(crate) fn smooth_abs(x: f64) -> (f64, f64) {
    const E: f64 = 1e-4;
    let r = (x * x + E * E).sqrt();
    (r, x / r)
}

/// |x| and Stan's derivative of it (0 at 0).
pub(crate) fn exact_abs(x: f64) -> (f64, f64) {
    let sign = if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    };
    (x.abs(), sign)
}

impl Objective<'_> {
    /// The Laplace prior's |δ| term and its derivative.
    pub(crate) fn abs(&self, x: f64) -> (f64, f64) {
        if self.smooth {
            smooth_abs(x)
        } else {
            exact_abs(x)
        }
    }

    pub(crate) fn eval(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        if self.growth == Growth::Logistic {
            return self.eval_numeric(p, grad);
        }
        let d = self.d;
        let n = self.y.len();
        let s = self.cps.len();
        let f = d.f;
        let (k, m) = (p[0], p[1]);
        let delta = &p[2..2 + s];
        let beta = &p[2 + s..2 + s + f];
        let u = p[2 + s + f];
        let sigma2 = (2.0 * u).exp();
        grad.iter_mut().for_each(|g| *g = 0.0);
        // Trend by walking the (sorted) changepoints along the (sorted) times.
        let mut trend = vec![0.0; n];
        let (mut kk, mut mm, mut next) = (k, m, 0usize);
        for i in 0..n {
            if self.growth == Growth::Flat {
                trend[i] = m;
                continue;
            }
            while next < s && d.t[i] >= self.cps[next] {
                kk += delta[next];
                mm -= delta[next] * self.cps[next];
                next += 1;
            }
            trend[i] = kk * d.t[i] + mm;
        }
        let mut sse = 0.0;
        let mut h = vec![0.0; n];
        let (gbeta_start, gbeta_end) = (2 + s, 2 + s + f);
        for i in 0..n {
            let row = &d.x[i * f..(i + 1) * f];
            let (xa, xm) = components(d, i, beta);
            let r = self.y[i] - (trend[i] * (1.0 + xm) + xa);
            sse += r * r;
            let g = -r / sigma2;
            h[i] = g * (1.0 + xm);
            let gb = &mut grad[gbeta_start..gbeta_end];
            for j in 0..f {
                gb[j] += g * row[j] * if d.mult[j] { trend[i] } else { 1.0 };
            }
        }
        let mut value = n as f64 * u
            + sse / (2.0 * sigma2)
            + 0.5 * (k / 5.0).powi(2)
            + 0.5 * (m / 5.0).powi(2)
            + 2.0 * sigma2;
        grad[2 + s + f] = n as f64 - sse / sigma2 + 4.0 * sigma2;
        if self.growth == Growth::Flat {
            grad[1] = h.iter().sum::<f64>();
        } else {
            // Suffix sums give every changepoint's gradient in one pass.
            let (mut sh, mut sht) = (0.0, 0.0);
            let mut j = s;
            for i in (0..n).rev() {
                while j > 0 && d.t[i] < self.cps[j - 1] {
                    j -= 1;
                    grad[2 + j] = sht - self.cps[j] * sh;
                }
                sh += h[i];
                sht += h[i] * d.t[i];
            }
            while j > 0 {
                j -= 1;
                grad[2 + j] = sht - self.cps[j] * sh;
            }
            grad[0] = sht;
            grad[1] = sh;
        }
        grad[0] += k / 25.0;
        grad[1] += m / 25.0;
        for (j, &dj) in delta.iter().enumerate() {
            let (a, da) = self.abs(dj);
            value += a / self.tau;
            grad[2 + j] += da / self.tau;
        }
        for (j, &bj) in beta.iter().enumerate() {
            value += 0.5 * (bj / self.prior[j]).powi(2);
            grad[2 + s + j] += bj / (self.prior[j] * self.prior[j]);
        }
        value
    }

    fn value(&self, p: &[f64]) -> f64 {
        let d = self.d;
        let s = self.cps.len();
        let f = d.f;
        let beta = &p[2 + s..2 + s + f];
        let u = p[2 + s + f];
        let sigma2 = (2.0 * u).exp();
        let trend = piecewise_logistic(&d.t, self.cap, p[0], p[1], self.cps, &p[2..2 + s]);
        let sse: f64 = (0..self.y.len())
            .map(|i| {
                let (xa, xm) = components(d, i, beta);
                (self.y[i] - (trend[i] * (1.0 + xm) + xa)).powi(2)
            })
            .sum();
        let mut v = self.y.len() as f64 * u
            + sse / (2.0 * sigma2)
            + 0.5 * (p[0] / 5.0).powi(2)
            + 0.5 * (p[1] / 5.0).powi(2)
            + 2.0 * sigma2;
        v += p[2..2 + s].iter().map(|&x| self.abs(x).0).sum::<f64>() / self.tau;
        v += beta
            .iter()
            .zip(&self.prior)
            .map(|(b, ps)| 0.5 * (b / ps).powi(2))
            .sum::<f64>();
        v
    }

    /// Central differences (logistic growth only; its trend gradient is intricate).
    fn eval_numeric(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let mut q = p.to_vec();
        for i in 0..p.len() {
            let h = 1e-6 * p[i].abs().max(1e-3);
            q[i] = p[i] + h;
            let up = self.value(&q);
            q[i] = p[i] - h;
            let down = self.value(&q);
            q[i] = p[i];
            grad[i] = (up - down) / (2.0 * h);
        }
        self.value(p)
    }
}
