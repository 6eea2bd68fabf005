//! Interval estimates and tests for sweep results: Student-t confidence intervals over
//! replications, paired comparisons with Holm's correction, and the moving-block
//! bootstrap over the steps of one run. Pure functions; statrs gives the distributions.

use rand::Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and the half-width of its two-sided 95 % Student-t confidence interval, over the
/// finite values of `xs`; the half-width is NaN with fewer than two of them.
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, t_quantile(0.975, n - 1) * (var / n as f64).sqrt())
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(p: f64, df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("positive degrees of freedom")
        .inverse_cdf(p)
}

/// A paired comparison of `a` against `b` (same length; pairs with a non-finite member are
/// left out): the mean difference a − b, its 95 % half-width, and the two-sided p-value of
/// the paired t-test (1 when every difference is equal to the mean and it is zero; 0 when
/// they are all equal and non-zero; NaN with fewer than two pairs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    pub diff: f64,
    pub ci95: f64,
    /// The interval's ends (`diff ∓ ci95` for the t interval).
    pub lo: f64,
    pub hi: f64,
    pub p_value: f64,
    pub pairs: usize,
}

pub fn paired(a: &[f64], b: &[f64]) -> Paired {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x - y)
        .filter(|d| d.is_finite())
        .collect();
    let (diff, ci95) = mean_ci95(&d);
    let n = d.len();
    let p_value = if n < 2 {
        f64::NAN
    } else {
        let sd = (d.iter().map(|x| (x - diff).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        if sd == 0.0 {
            if diff == 0.0 {
                1.0
            } else {
                0.0
            }
        } else {
            let t = diff / (sd / (n as f64).sqrt());
            let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("df > 0");
            2.0 * (1.0 - dist.cdf(t.abs()))
        }
    };
    Paired {
        diff,
        ci95,
        lo: diff - ci95,
        hi: diff + ci95,
        p_value,
        pairs: n,
    }
}

/// Holm's step-down adjustment of p-values (family-wise error control): sorted
/// ascending, the k-th smallest (0-based) is multiplied by m − k, made monotone, capped at
/// 1. NaN p-values are left NaN and do not count in m.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_finite()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let m = idx.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (k, &i) in idx.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The scenario-theory bound on a fixed configuration's violation probability (Campi &
/// Garatti; PEAS, Papadopoulos et al. 2016): having violated on `k` of `n` independent
/// traces, the probability that a new trace of the same population violates is at most
/// the returned ε with confidence 1 − `beta` — the ε at which k or fewer violations in n
/// have probability `beta`, the one-sided Clopper–Pearson limit: the (1 − β) quantile of
/// Beta(k + 1, n − k); 1 when every trace violated.
pub fn violation_bound(k: usize, n: usize, beta: f64) -> f64 {
    use statrs::distribution::Beta;
    if n == 0 || k >= n {
        return 1.0;
    }
    Beta::new((k + 1) as f64, (n - k) as f64)
        .expect("positive shape parameters")
        .inverse_cdf(1.0 - beta)
}

/// Moving-block bootstrap resamples of step indices `0..n`: each resample concatenates
/// blocks of `block` consecutive steps starting at uniform positions (blocks wrap round
/// the end — the circular variant, so every step is equally likely), cut to `n`. The
/// resamples depend on `seed` only.
pub fn block_resample(n: usize, block: usize, seed: u64) -> Vec<usize> {
    let block = block.clamp(1, n.max(1));
    let mut rng = crate::rng::stream_rng(seed, n as u64, crate::rng::Stream::Bootstrap);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let start = rng.random_range(0..n);
        out.extend((0..block).map(|j| (start + j) % n).take(n - out.len()));
    }
    out
}

/// The seed of bootstrap resample `i` of a run seeded `seed`.
pub fn resample_seed(seed: u64, i: usize) -> u64 {
    crate::rng::mix64(seed ^ i as u64)
}

/// The 2.5 % and 97.5 % percentiles of the finite values (NaN when there are none).
pub fn percentile_interval(mut vals: Vec<f64>) -> (f64, f64) {
    vals.retain(|v| v.is_finite());
    if vals.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    vals.sort_by(f64::total_cmp);
    (quantile_sorted(&vals, 0.025), quantile_sorted(&vals, 0.975))
}

/// Linear-interpolated quantile of sorted values.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests;
