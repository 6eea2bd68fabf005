//! Prophet's MAP objective: the negative log posterior of prophet.stan (constants
//! dropped) with its analytic gradient.

// Loops index several parallel arrays (times, rows, trend) at once.
#![allow(clippy::needless_range_loop)]

use super::config::Growth;
use super::model::{components, Design, Logistic};

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
        let logistic =
            (self.growth == Growth::Logistic).then(|| Logistic::new(k, m, delta, self.cps));
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
            trend[i] = match &logistic {
                Some(l) => self.cap * l.sigmoid(next, d.t[i]),
                None => kk * d.t[i] + mm,
            };
        }
        let mut sse = 0.0;
        // h = ∂objective/∂trend per row.
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
        if let Some(l) = &logistic {
            l.backward(&d.t, &trend, &h, self.cap, self.cps, &mut grad[..2 + s]);
        } else if self.growth == Growth::Flat {
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
}

impl Logistic {
    /// Adds ∂objective/∂(k, m, δ) into `grad` (length 2 + S) given h = ∂objective/∂trend,
    /// by reverse accumulation through the segment recursion.
    fn backward(
        &self,
        t: &[f64],
        trend: &[f64],
        h: &[f64],
        cap: f64,
        cps: &[f64],
        grad: &mut [f64],
    ) {
        let s = cps.len();
        let mut kbar = vec![0.0; s + 1];
        let mut mbar = vec![0.0; s + 1];
        let mut seg = 0usize;
        for i in 0..t.len() {
            while seg < s && t[i] >= cps[seg] {
                seg += 1;
            }
            let sig = trend[i] / cap;
            let dz = h[i] * cap * sig * (1.0 - sig);
            kbar[seg] += dz * (t[i] - self.m_s[seg]);
            mbar[seg] -= dz * self.k_s[seg];
        }
        for j in (0..s).rev() {
            // m_s[j+1] = m_s[j] + γ_j, γ_j = (c_j − m_s[j]) (1 − k_s[j] / k_s[j+1]).
            let gbar = mbar[j + 1];
            mbar[j] += gbar;
            let (kj, kj1) = (self.k_s[j], self.k_s[j + 1]);
            let q = 1.0 - kj / kj1;
            let c = cps[j] - self.m_s[j];
            mbar[j] -= gbar * q;
            kbar[j] -= gbar * c / kj1;
            kbar[j + 1] += gbar * c * kj / (kj1 * kj1);
            // k_s[j+1] = k_s[j] + δ_j.
            grad[2 + j] += kbar[j + 1];
            kbar[j] += kbar[j + 1];
        }
        grad[0] += kbar[0];
        grad[1] += mbar[0];
    }
}
