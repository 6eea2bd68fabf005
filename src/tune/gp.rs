//! Gaussian-process regression (squared-exponential kernel, one length scale) for the
//! tuner's surrogate models. The posterior is a few lines over nalgebra's Cholesky
//! factorisation; the GP crates (friedrich) fit hyper-parameters by gradient and pin
//! another nalgebra, where a choice among a few length scales by marginal likelihood is
//! all a model of tens of points needs.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

/// Length scales tried (inputs live in the unit cube).
const LENGTH_SCALES: [f64; 6] = [0.15, 0.25, 0.4, 0.65, 1.0, 1.6];
/// Used while a model has too few points to choose one.
const DEFAULT_LENGTH_SCALE: f64 = 0.5;
/// Observation noise as a share of the signal variance: the simulations are
/// deterministic, so this only keeps the factorisation well conditioned.
const NOISE: f64 = 1e-6;

/// A fitted model of one objective on one arm.
#[derive(Debug, Clone)]
pub struct Gp {
    x: Vec<Vec<f64>>,
    mean: f64,
    sd: f64,
    length: f64,
    chol: Option<Cholesky<f64, Dyn>>,
    alpha: DVector<f64>,
}

fn kernel(a: &[f64], b: &[f64], length: f64) -> f64 {
    let d2: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
    (-0.5 * d2 / (length * length)).exp()
}

fn gram(x: &[Vec<f64>], length: f64) -> DMatrix<f64> {
    let n = x.len();
    DMatrix::from_fn(n, n, |i, j| {
        kernel(&x[i], &x[j], length) + if i == j { NOISE } else { 0.0 }
    })
}

impl Gp {
    /// Fits `y` at `x`. `mean` is the prior mean (the arm's own mean, or the objective's
    /// over every arm when this one has no point yet) and `sd` the prior standard
    /// deviation (the objective's spread over every arm). With `length` the length scale
    /// is fixed; without, it is chosen by marginal likelihood once there are 2 per input
    /// dimension and one more (at least 3).
    pub fn fit(x: Vec<Vec<f64>>, y: &[f64], mean: f64, sd: f64, length: Option<f64>) -> Gp {
        let sd = if sd.is_finite() && sd > 0.0 { sd } else { 1.0 };
        let z = DVector::from_iterator(y.len(), y.iter().map(|v| (v - mean) / sd));
        let length = length.unwrap_or_else(|| {
            // A few points fit a long, flat model well and make it sure of itself far
            // from them; until there are two per input dimension and one more, the
            // default scale keeps the unexplored uncertain.
            let dims = x.first().map_or(0, Vec::len);
            if x.len() < (2 * dims + 1).max(3) {
                return DEFAULT_LENGTH_SCALE;
            }
            let mut best = (f64::NEG_INFINITY, DEFAULT_LENGTH_SCALE);
            for l in LENGTH_SCALES {
                if let Some(c) = Cholesky::new(gram(&x, l)) {
                    let a = c.solve(&z);
                    let logdet: f64 = c.l().diagonal().iter().map(|d| 2.0 * d.ln()).sum();
                    let ll = -0.5 * z.dot(&a) - 0.5 * logdet;
                    if ll > best.0 {
                        best = (ll, l);
                    }
                }
            }
            best.1
        });
        let chol = (!x.is_empty())
            .then(|| Cholesky::new(gram(&x, length)))
            .flatten();
        let alpha = match &chol {
            Some(c) => c.solve(&z),
            None => DVector::zeros(0),
        };
        Gp {
            x,
            mean,
            sd,
            length,
            chol,
            alpha,
        }
    }

    pub fn length(&self) -> f64 {
        self.length
    }

    /// Posterior mean and standard deviation at `at`.
    pub fn predict(&self, at: &[f64]) -> (f64, f64) {
        let Some(c) = &self.chol else {
            return (self.mean, self.sd);
        };
        let k = DVector::from_iterator(
            self.x.len(),
            self.x.iter().map(|xi| kernel(xi, at, self.length)),
        );
        let mu = k.dot(&self.alpha);
        let v = c.solve(&k);
        let var = (1.0 + NOISE - k.dot(&v)).max(0.0);
        (self.mean + self.sd * mu, self.sd * var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_interpolates_its_points_and_is_unsure_far_from_them() {
        let x: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64 / 5.0]).collect();
        let y: Vec<f64> = x.iter().map(|v| (3.0 * v[0]).sin()).collect();
        let gp = Gp::fit(x.clone(), &y, 0.0, 1.0, None);
        for (xi, yi) in x.iter().zip(&y) {
            let (m, s) = gp.predict(xi);
            assert!((m - yi).abs() < 1e-3 && s < 1e-2, "{m} vs {yi}, sd {s}");
        }
        // Between points: close to the function; far outside: back to the prior.
        let (m, _) = gp.predict(&[0.5]);
        assert!((m - 1.5f64.sin()).abs() < 0.02, "{m}");
        let (m, s) = gp.predict(&[6.0]);
        assert!(m.abs() < 1e-3 && (s - 1.0).abs() < 1e-3, "{m} {s}");
    }

    #[test]
    fn with_no_points_it_is_the_prior() {
        let gp = Gp::fit(Vec::new(), &[], 4.0, 2.0, None);
        assert_eq!(gp.predict(&[0.3]), (4.0, 2.0));
    }

    #[test]
    fn a_smooth_function_gets_a_long_length_scale() {
        let x: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64 / 7.0]).collect();
        let smooth: Vec<f64> = x.iter().map(|v| v[0]).collect();
        let rough: Vec<f64> = x.iter().map(|v| (20.0 * v[0]).sin()).collect();
        let ls = Gp::fit(x.clone(), &smooth, 0.5, 0.3, None).length();
        let lr = Gp::fit(x, &rough, 0.0, 0.7, None).length();
        assert!(ls > lr, "smooth {ls}, rough {lr}");
    }
}
