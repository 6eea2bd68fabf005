//! Seasonal period detection from the autocorrelation function.

/// Detects the dominant period of `y` in steps, searching lags up to `max_lag`
/// (capped at half the series). Returns `None` when no lag has autocorrelation
/// above 0.3 after the ACF's first dip.
pub fn detect_period(y: &[f64], max_lag: usize) -> Option<usize> {
    let n = y.len();
    let max_lag = max_lag.min(n / 2);
    if max_lag < 3 {
        return None;
    }
    let mean = y.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let var: f64 = d.iter().map(|v| v * v).sum();
    if var <= 0.0 {
        return None;
    }
    let acf: Vec<f64> = (0..=max_lag)
        .map(|l| {
            d[..n - l]
                .iter()
                .zip(&d[l..])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / var
        })
        .collect();
    // Smooth over 5 lags so that noise does not make false local minima.
    let smooth = |l: usize| {
        let lo = l.saturating_sub(2);
        let hi = (l + 2).min(max_lag);
        acf[lo..=hi].iter().sum::<f64>() / (hi - lo + 1) as f64
    };
    let mut l = 1;
    while l < max_lag && smooth(l + 1) < smooth(l) {
        l += 1;
    }
    let (best, value) = (l..=max_lag)
        .map(|k| (k, acf[k]))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (value > 0.3 && best >= 2).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_daily_period_in_minute_data() {
        let y: Vec<f64> = (0..4 * 288)
            .map(|i| {
                20.0 + 10.0 * (2.0 * std::f64::consts::PI * i as f64 / 288.0).sin()
                    + ((i * 7919) % 13) as f64 * 0.1
            })
            .collect();
        let p = detect_period(&y, 600).unwrap();
        assert!((p as i64 - 288).abs() <= 2, "{p}");
        assert_eq!(detect_period(&vec![1.0; 100], 50), None);
    }
}
