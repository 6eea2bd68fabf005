//! Prophet's uncertainty intervals: simulated future trend paths (new changepoints at
//! the historical rate with Laplace sizes of scale mean|δ|) plus Gaussian noise σ_obs,
//! summarised per step by empirical quantiles, as `Prophet.predict` does.

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;

use super::config::Growth;
use super::model::{components, piecewise_logistic, ProphetModel};
use crate::forecast::residual::empirical_quantiles;
use crate::forecast::QUANTILES;

/// A forecast with Prophet's intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct ProphetForecast {
    pub yhat: Vec<f64>,
    pub trend: Vec<f64>,
    /// The `interval_width` interval.
    pub yhat_lower: Vec<f64>,
    pub yhat_upper: Vec<f64>,
    /// `QUANTILES.len()` values per step.
    pub quantiles: Vec<f64>,
}

impl ProphetModel {
    /// Point forecast plus intervals from `uncertainty_samples` simulated paths.
    pub fn predict(&self, ds_ms: &[i64], regs: &[&[f64]]) -> ProphetForecast {
        let n = ds_ms.len();
        let (yhat, trend) = self.predict_point(ds_ms, regs);
        let d = self.design(ds_ms, regs);
        let samples = self.config.uncertainty_samples.max(1);
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        let t_max = d.t.iter().cloned().fold(f64::MIN, f64::max);
        let s = self.changepoints_t.len() as f64;
        let lambda =
            self.delta.iter().map(|v| v.abs()).sum::<f64>() / self.delta.len().max(1) as f64 + 1e-8;
        // New changepoints per sample: times in (1, T], Laplace(0, λ) sizes.
        let paths: Vec<Vec<(f64, f64)>> = (0..samples)
            .map(|_| {
                let count = if t_max > 1.0 && s > 0.0 {
                    Poisson::new(s * (t_max - 1.0))
                        .map(|p| p.sample(&mut rng) as usize)
                        .unwrap_or(0)
                } else {
                    0
                };
                let mut cps: Vec<(f64, f64)> = (0..count)
                    .map(|_| {
                        let c = 1.0 + rng.random::<f64>() * (t_max - 1.0);
                        let u: f64 = rng.random::<f64>() - 0.5;
                        (c, -lambda * u.signum() * (1.0 - 2.0 * u.abs()).ln())
                    })
                    .collect();
                cps.sort_by(|a, b| a.0.total_cmp(&b.0));
                cps
            })
            .collect();
        let logistic_paths: Option<Vec<Vec<f64>>> =
            (self.config.growth == Growth::Logistic).then(|| {
                let cap = self
                    .config
                    .cap
                    .map_or(1.0, |c| (c - self.y_offset) / self.y_scale);
                paths
                    .iter()
                    .map(|p| {
                        let mut cps = self.changepoints_t.clone();
                        let mut deltas = self.delta.clone();
                        cps.extend(p.iter().map(|c| c.0));
                        deltas.extend(p.iter().map(|c| c.1));
                        piecewise_logistic(&d.t, cap, self.k, self.m, &cps, &deltas)
                    })
                    .collect()
            });
        let sigma = self.sigma_obs * self.y_scale;
        let lo_q = (1.0 - self.config.interval_width) / 2.0;
        let hi_q = (1.0 + self.config.interval_width) / 2.0;
        let base = self.trend_scaled(&d.t, &self.changepoints_t, &self.delta, 1.0);
        let q = QUANTILES.len();
        // Rows are independent given the paths: summarise them in parallel, each chunk with
        // its own noise stream seeded from (seed, chunk), so results do not depend on threads.
        const CHUNK: usize = 64;
        let per_chunk: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut noise_rng = ChaCha8Rng::seed_from_u64(crate::rng::mix64(
                    self.config.seed ^ crate::rng::mix64(c as u64 + 1),
                ));
                let mut buf = vec![0.0; samples];
                let levels: Vec<f64> = [lo_q, hi_q].into_iter().chain(QUANTILES).collect();
                let mut at = vec![0.0; levels.len()];
                let (mut lo, mut hi, mut qs) = (Vec::new(), Vec::new(), Vec::new());
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    let (xa, xm) = components(&d, i, &self.beta);
                    let t = d.t[i];
                    for (k, b) in buf.iter_mut().enumerate() {
                        let tr = match (&logistic_paths, self.config.growth) {
                            (Some(lp), _) => lp[k][i],
                            (None, Growth::Flat) => base[i],
                            (None, _) => {
                                base[i]
                                    + paths[k]
                                        .iter()
                                        .take_while(|c| c.0 <= t)
                                        .map(|c| c.1 * (t - c.0))
                                        .sum::<f64>()
                            }
                        };
                        let noise: f64 = StandardNormal.sample(&mut noise_rng);
                        *b = (tr * self.y_scale + self.y_offset) * (1.0 + xm)
                            + xa * self.y_scale
                            + noise * sigma;
                    }
                    empirical_quantiles(&mut buf, &levels, &mut at);
                    lo.push(at[0]);
                    hi.push(at[1]);
                    qs.extend_from_slice(&at[2..]);
                }
                (lo, hi, qs)
            })
            .collect();
        let mut out = ProphetForecast {
            yhat,
            trend,
            yhat_lower: Vec::with_capacity(n),
            yhat_upper: Vec::with_capacity(n),
            quantiles: Vec::with_capacity(n * q),
        };
        for (lo, hi, qs) in per_chunk {
            out.yhat_lower.extend(lo);
            out.yhat_upper.extend(hi);
            out.quantiles.extend(qs);
        }
        out
    }
}
