use super::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, Normal};

/// Share of `reps` seeded experiments whose 95 % t-interval over `n` draws covers the
/// distribution's mean.
fn coverage(
    reps: usize,
    n: usize,
    mean: f64,
    draw: impl Fn(&mut rand_chacha::ChaCha8Rng) -> f64,
) -> f64 {
    let hits = (0..reps)
        .filter(|&k| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + k as u64);
            let xs: Vec<f64> = (0..n).map(|_| draw(&mut rng)).collect();
            let (m, h) = mean_ci95(&xs);
            (m - mean).abs() <= h
        })
        .count();
    hits as f64 / reps as f64
}

#[test]
fn t_intervals_cover_at_their_nominal_rate() {
    // 400 seeded repetitions: 95 % ± 3 %, for a normal sample of 10 and a skewed one of 30.
    let normal = Normal::new(5.0, 2.0).unwrap();
    let c = coverage(400, 10, 5.0, |r| normal.sample(r));
    assert!((0.92..=0.98).contains(&c), "normal coverage {c}");
    let exp = Exp::new(0.5).unwrap();
    let c = coverage(400, 30, 2.0, |r| exp.sample(r));
    assert!((0.92..=0.98).contains(&c), "exponential coverage {c}");
}

#[test]
fn t_interval_matches_the_textbook() {
    // 1..=5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445.
    let (m, h) = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(m, 3.0);
    assert!(
        (h - 2.776445 * (2.5f64).sqrt() / 5f64.sqrt()).abs() < 1e-5,
        "{h}"
    );
    // NaN values are left out; one value has no interval.
    let (m, h) = mean_ci95(&[f64::NAN, 4.0]);
    assert_eq!(m, 4.0);
    assert!(h.is_nan());
}

#[test]
fn paired_t_test_matches_the_closed_form() {
    // Differences 1, 2, 3: t = 2 / (1 / sqrt 3) with 2 degrees of freedom, whose CDF is
    // 1/2 + t / (2 sqrt(2 + t²)): p = 1 − t / sqrt(2 + t²) = 0.074180.
    let p = paired(&[2.0, 4.0, 6.0], &[1.0, 2.0, 3.0]);
    assert_eq!((p.diff, p.pairs), (2.0, 3));
    let t = 2.0 * 3f64.sqrt();
    assert!(
        (p.p_value - (1.0 - t / (2.0 + t * t).sqrt())).abs() < 1e-9,
        "{p:?}"
    );
    assert!((p.p_value - 0.074180).abs() < 1e-5);
    // Constant differences: certain.
    assert_eq!(paired(&[2.0, 3.0], &[1.0, 2.0]).p_value, 0.0);
    assert_eq!(paired(&[1.0, 2.0], &[1.0, 2.0]).p_value, 1.0);
}

#[test]
fn holm_matches_r_p_adjust() {
    // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
    let a = holm(&[0.01, 0.04, 0.03, 0.005]);
    for (x, want) in a.iter().zip([0.03, 0.06, 0.06, 0.02]) {
        assert!((x - want).abs() < 1e-12, "{a:?}");
    }
    let a = holm(&[0.5, f64::NAN, 0.9]);
    assert_eq!(a[0], 1.0);
    assert!(a[1].is_nan());
    assert_eq!(a[2], 1.0);
}

#[test]
fn block_resamples_are_seeded_and_cover_every_step() {
    let a = block_resample(100, 10, 7);
    assert_eq!(a, block_resample(100, 10, 7));
    assert_ne!(a, block_resample(100, 10, 8));
    assert_eq!(a.len(), 100);
    // Blocks of consecutive (wrapping) steps.
    for w in a.chunks(10) {
        for p in w.windows(2) {
            assert_eq!(p[1], (p[0] + 1) % 100);
        }
    }
}

/// Percentile interval `(lo, hi)` at 95 % of a statistic over `b` block-bootstrap
/// resamples of `n` steps; `stat` maps a resample's step indices to the statistic.
/// Resample `i` is seeded from `(seed, i)`, so the interval is the same whatever runs it.
fn bootstrap_interval(
    n: usize,
    block: usize,
    b: usize,
    seed: u64,
    stat: impl Fn(&[usize]) -> f64,
) -> (f64, f64) {
    if n == 0 || b == 0 {
        return (f64::NAN, f64::NAN);
    }
    let vals: Vec<f64> = (0..b)
        .map(|i| stat(&block_resample(n, block, resample_seed(seed, i))))
        .collect();
    percentile_interval(vals)
}

#[test]
fn block_bootstrap_covers_an_autocorrelated_mean() {
    // AR(1) with φ = 0.5 around 10: the mean of 2,000 steps. 400 seeded series; a
    // percentile interval from 300 resamples of 100-step blocks each.
    let normal = Normal::new(0.0, 1.0).unwrap();
    let hits = (0..400)
        .filter(|&k| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(k);
            let mut x = 0.0;
            let y: Vec<f64> = (0..2000)
                .map(|_| {
                    x = 0.5 * x + normal.sample(&mut rng);
                    10.0 + x
                })
                .collect();
            let (lo, hi) = bootstrap_interval(y.len(), 100, 300, k, |idx| {
                idx.iter().map(|&i| y[i]).sum::<f64>() / idx.len() as f64
            });
            lo <= 10.0 && 10.0 <= hi
        })
        .count();
    let c = hits as f64 / 400.0;
    assert!((0.92..=0.98).contains(&c), "bootstrap coverage {c}");
}

#[test]
fn the_violation_bound_matches_its_closed_form_and_the_binomial_tail() {
    // No violation in n: ε = 1 − β^(1/n) (20 traces, β = 0.05: 13.9 %).
    let e = violation_bound(0, 20, 0.05);
    assert!((e - (1.0 - 0.05f64.powf(1.0 / 20.0))).abs() < 1e-9, "{e}");
    assert!((e - 0.139108).abs() < 1e-5);
    // k violations: at ε the binomial probability of k or fewer is β.
    let (k, n) = (3usize, 40usize);
    let e = violation_bound(k, n, 0.05);
    let tail: f64 = (0..=k)
        .map(|i| {
            let c = (0..i).fold(1.0, |c, j| c * (n - j) as f64 / (j + 1) as f64);
            c * e.powi(i as i32) * (1.0 - e).powi((n - i) as i32)
        })
        .sum();
    assert!((tail - 0.05).abs() < 1e-6, "{tail}");
    assert_eq!(violation_bound(5, 5, 0.05), 1.0);
    // More confidence, a wider bound.
    assert!(violation_bound(1, 30, 0.01) > violation_bound(1, 30, 0.1));
}
