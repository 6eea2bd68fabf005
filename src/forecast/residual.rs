//! Quantiles from empirical residuals, widened with the horizon.

use super::QUANTILES;

/// Empirical quantiles of one-step residuals (actual − forecast).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResidualQuantiles {
    offsets: [f64; QUANTILES.len()],
}

impl ResidualQuantiles {
    /// From residuals; with none, the offsets are zero (a point mass).
    pub fn from_residuals(residuals: &[f64]) -> Self {
        let mut r: Vec<f64> = residuals
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        let mut offsets = [0.0; QUANTILES.len()];
        if !r.is_empty() {
            r.sort_by(|a, b| a.total_cmp(b));
            for (o, &q) in offsets.iter_mut().zip(QUANTILES.iter()) {
                *o = empirical_quantile(&r, q);
            }
        }
        ResidualQuantiles { offsets }
    }

    /// Writes `point + scale · offset` for every level into `out`.
    pub fn fill(&self, point: f64, scale: f64, out: &mut [f64]) {
        for (o, &off) in out.iter_mut().zip(self.offsets.iter()) {
            *o = point + scale * off;
        }
        super::tidy_quantiles(out);
    }
}

/// Linear-interpolation quantile (type 7) of sorted data.
pub fn empirical_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_uniform_residuals() {
        let r: Vec<f64> = (0..=100).map(|i| i as f64 - 50.0).collect();
        let rq = ResidualQuantiles::from_residuals(&r);
        let mut out = [0.0; QUANTILES.len()];
        rq.fill(100.0, 1.0, &mut out);
        let i90 = super::super::quantile_index(0.9).unwrap();
        assert!((out[i90] - 140.0).abs() < 1e-9);
        rq.fill(100.0, 2.0, &mut out);
        assert!((out[i90] - 180.0).abs() < 1e-9);
    }
}
