//! Seasonal period detection from the autocorrelation function.

/// Detects the dominant period of `y` in steps, searching lags up to `max_lag`
/// (capped at half the series). Returns `None` when no lag has autocorrelation
/// above 0.3 after the ACF's first dip, or the peak rises less than 0.1 above that dip
/// (a slowly decaying ACF — a trend, or a cycle longer than the search — is no period).
pub fn detect_period(y: &[f64], max_lag: usize) -> Option<usize> {
    let n = y.len();
    let max_lag = max_lag.min(n / 2);
    if max_lag < 3 {
        return None;
    }
    // Missing steps (NaN) sit at the mean: they add nothing to any lag's product.
    let finite = y.iter().filter(|v| v.is_finite());
    let mean = finite.clone().sum::<f64>() / finite.count().max(1) as f64;
    let d: Vec<f64> = y
        .iter()
        .map(|v| if v.is_finite() { v - mean } else { 0.0 })
        .collect();
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
    // The strongest lag after the ACF's first real dip: one the ACF rises at least 0.1
    // above afterwards. A shallow dip (a short noise cycle riding on a long one) is
    // climbed past and the next one tried.
    let mut best_after = vec![(max_lag, acf[max_lag]); max_lag + 1];
    for k in (0..max_lag).rev() {
        let next = best_after[k + 1];
        best_after[k] = if acf[k] >= next.1 { (k, acf[k]) } else { next };
    }
    let mut l = 1;
    loop {
        while l < max_lag && smooth(l + 1) < smooth(l) {
            l += 1;
        }
        let (best, value) = best_after[l];
        if value - smooth(l) >= 0.1 {
            return (value > 0.3 && best >= 2).then_some(best);
        }
        while l < max_lag && smooth(l + 1) >= smooth(l) {
            l += 1;
        }
        if l >= max_lag {
            return None;
        }
    }
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

    #[test]
    fn a_short_noise_cycle_does_not_hide_the_day() {
        // A 37-step cycle in the noise made the first dip shallow; the biased ACF at lag
        // 37 beat the day's and detection gave up. Three days with two outages (NaN).
        let y: Vec<f64> = (0..3 * 1440)
            .map(|m| {
                let day = m % 1440;
                if (600..720).contains(&day) && m >= 1440 {
                    f64::NAN
                } else {
                    300.0
                        + 200.0 * (std::f64::consts::TAU * day as f64 / 1440.0).sin()
                        + ((m * 7919) % 37) as f64
                }
            })
            .collect();
        let p = detect_period(&y, 3 * 720).unwrap();
        assert!((p as i64 - 1440).abs() <= 3, "{p}");
    }

    #[test]
    fn a_cycle_longer_than_the_search_is_no_period() {
        // A sine of period 295 searched up to lag 240, with spiky noise: the ACF only
        // decays over the search, and a wobble on the way down is not a period.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let y: Vec<f64> = (0..480)
            .map(|i| {
                // xorshift64: aperiodic noise and spikes on about one step in twenty.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let spike = if x.is_multiple_of(20) { 300.0 } else { 0.0 };
                200.0 + 80.0 * (i as f64 / 47.0).sin() + spike + (x >> 40) as f64 / 1e6
            })
            .collect();
        assert_eq!(detect_period(&y, 240), None);
    }
}
