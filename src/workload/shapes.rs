//! Workload shapes that researchers need beyond the prototype's series:
//! flash crowds, step changes, multiplicative noise and heavy-tailed bursts.
//! Shapes compose: a generator applies its list in order, which gives mixtures.

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Pareto};
use serde::{Deserialize, Serialize};

use super::Workload;
use crate::error::{Error, Result};

/// One transformation of a demand series. Times are in hours from the trace start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A flash crowd: demand multiplied by up to `peak`, with a linear ramp,
    /// a plateau and an exponential decay (time constant `decay_h`).
    FlashCrowd {
        start_h: f64,
        ramp_h: f64,
        plateau_h: f64,
        decay_h: f64,
        peak: f64,
    },
    /// A regime shift: from `at_h` on, demand is multiplied by `factor`.
    StepChange { at_h: f64, factor: f64 },
    /// Multiplicative log-normal noise with log-scale standard deviation `sigma` (mean 1).
    MultiplicativeNoise { sigma: f64 },
    /// Heavy-tailed bursts: Poisson starts at `rate_per_h`, Pareto(`scale`, `alpha`) extra
    /// requests per step, lasting `duration_steps` steps.
    Bursts {
        rate_per_h: f64,
        scale: f64,
        alpha: f64,
        duration_steps: usize,
    },
    /// Adds a constant level (a mixture with a flat component).
    Offset { level: f64 },
}

impl Shape {
    /// Applies the shape in place, drawing from a generator seeded with `seed`.
    pub fn apply(&self, w: &mut Workload, seed: u64) -> Result<()> {
        let step_h = w.step_ms as f64 / 3_600_000.0;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let bad = |m: &str| Err(Error::Config(format!("shape {self:?}: {m}")));
        match *self {
            Shape::FlashCrowd {
                start_h,
                ramp_h,
                plateau_h,
                decay_h,
                peak,
            } => {
                if peak < 0.0 || ramp_h < 0.0 || plateau_h < 0.0 || decay_h <= 0.0 {
                    return bad("peak, ramp_h and plateau_h must be >= 0 and decay_h > 0");
                }
                for (i, y) in w.demand.iter_mut().enumerate() {
                    let t = i as f64 * step_h - start_h;
                    let level = if t < 0.0 {
                        0.0
                    } else if t < ramp_h {
                        t / ramp_h
                    } else if t < ramp_h + plateau_h {
                        1.0
                    } else {
                        (-(t - ramp_h - plateau_h) / decay_h).exp()
                    };
                    *y *= 1.0 + (peak - 1.0) * level;
                }
            }
            Shape::StepChange { at_h, factor } => {
                if factor < 0.0 {
                    return bad("factor must be non-negative");
                }
                for (i, y) in w.demand.iter_mut().enumerate() {
                    if i as f64 * step_h >= at_h {
                        *y *= factor;
                    }
                }
            }
            Shape::MultiplicativeNoise { sigma } => {
                if !(sigma >= 0.0) {
                    return bad("sigma must be non-negative");
                }
                let d = LogNormal::new(-sigma * sigma / 2.0, sigma)
                    .map_err(|e| Error::Config(e.to_string()))?;
                for y in w.demand.iter_mut() {
                    *y *= d.sample(&mut rng);
                }
            }
            Shape::Bursts {
                rate_per_h,
                scale,
                alpha,
                duration_steps,
            } => {
                if rate_per_h < 0.0 || scale <= 0.0 || alpha <= 0.0 {
                    return bad("rate_per_h must be >= 0, scale and alpha > 0");
                }
                let p = (rate_per_h * step_h).min(1.0);
                let size = Pareto::new(scale, alpha).map_err(|e| Error::Config(e.to_string()))?;
                let n = w.demand.len();
                let mut extra = vec![0.0; n];
                for i in 0..n {
                    if rng.random::<f64>() < p {
                        let s = size.sample(&mut rng);
                        for e in extra.iter_mut().skip(i).take(duration_steps.max(1)) {
                            *e += s;
                        }
                    }
                }
                for (y, e) in w.demand.iter_mut().zip(extra) {
                    *y += e;
                }
            }
            Shape::Offset { level } => {
                for y in w.demand.iter_mut() {
                    *y = (*y + level).max(0.0);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(n: usize) -> Workload {
        Workload {
            name: "f".into(),
            step_ms: 60_000,
            start: None,
            demand: vec![10.0; n],
            regressors: vec![],
            missing: Vec::new(),
            requests: None,
        }
    }

    #[test]
    fn flash_crowd_ramps_plateaus_and_decays() {
        let mut w = flat(600);
        let s = Shape::FlashCrowd {
            start_h: 1.0,
            ramp_h: 1.0,
            plateau_h: 2.0,
            decay_h: 0.5,
            peak: 4.0,
        };
        s.apply(&mut w, 1).unwrap();
        assert_eq!(w.demand[30], 10.0);
        assert!((w.demand[90] - 25.0).abs() < 1e-9); // half-way up the ramp
        assert!((w.demand[180] - 40.0).abs() < 1e-9); // plateau
        assert!(w.demand[400] < 12.0 && w.demand[400] > 10.0); // decayed
    }

    #[test]
    fn step_change_and_bursts() {
        let mut w = flat(120);
        Shape::StepChange {
            at_h: 1.0,
            factor: 2.0,
        }
        .apply(&mut w, 1)
        .unwrap();
        assert_eq!((w.demand[59], w.demand[60]), (10.0, 20.0));
        let mut b = flat(10_000);
        Shape::Bursts {
            rate_per_h: 1.0,
            scale: 50.0,
            alpha: 1.5,
            duration_steps: 3,
        }
        .apply(&mut b, 3)
        .unwrap();
        let bursts = b.demand.iter().filter(|&&y| y >= 60.0).count();
        assert!(bursts > 100 && bursts < 1000, "{bursts}");
    }

    #[test]
    fn multiplicative_noise_keeps_the_mean() {
        let mut w = flat(50_000);
        Shape::MultiplicativeNoise { sigma: 0.3 }
            .apply(&mut w, 9)
            .unwrap();
        let mean = w.demand.iter().sum::<f64>() / w.demand.len() as f64;
        assert!((mean - 10.0).abs() < 0.1, "{mean}");
    }
}
