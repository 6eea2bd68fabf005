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

/// [`empirical_quantile`] at every level of `qs` (written to `out`), from unsorted
/// `values`, which are reordered. Only the order statistics the levels need are put in
/// place (a recursive multi-select), so the answers equal those from a full sort at a
/// fraction of its cost.
pub fn empirical_quantiles(values: &mut [f64], qs: &[f64], out: &mut [f64]) {
    let n = values.len();
    if n == 1 {
        out.iter_mut().for_each(|o| *o = values[0]);
        return;
    }
    let mut ranks: Vec<usize> = qs
        .iter()
        .flat_map(|&q| {
            let lo = (q * (n - 1) as f64).floor() as usize;
            [lo, (lo + 1).min(n - 1)]
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(values, 0, &ranks);
    for (o, &q) in out.iter_mut().zip(qs) {
        *o = empirical_quantile(values, q);
    }
}

/// Puts the order statistic of every rank in `ranks` (sorted, offsets from `base`) at its
/// index in `values`.
fn select_ranks(values: &mut [f64], base: usize, ranks: &[usize]) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let k = ranks[mid] - base;
    let (left, _, right) = values.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    select_ranks(left, base, &ranks[..mid]);
    select_ranks(right, base + k + 1, &ranks[mid + 1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_select_quantiles_equal_the_sorted_ones() {
        let mut state = 12345u64;
        for n in [1usize, 2, 3, 10, 999, 1000] {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    state = crate::rng::mix64(state);
                    (state >> 11) as f64 / (1u64 << 53) as f64 - 0.3
                })
                .collect();
            let qs = [0.0, 0.01, 0.1, 0.25, 0.5, 0.5, 0.8, 0.9, 0.975, 0.99, 1.0];
            let mut sorted = values.clone();
            sorted.sort_unstable_by(|a, b| a.total_cmp(b));
            let want: Vec<f64> = qs.iter().map(|&q| empirical_quantile(&sorted, q)).collect();
            let mut work = values.clone();
            let mut got = vec![0.0; qs.len()];
            empirical_quantiles(&mut work, &qs, &mut got);
            assert_eq!(got, want, "n = {n}");
        }
    }

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
