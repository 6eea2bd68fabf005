//! `sim calibrate`: from a live run's per-request log and decision log, the simulator
//! settings that reproduce it — the replica's service-time distribution and the delay
//! with which the controller read demand.
//!
//! **Service time.** The replies' own `service_ms` (what each request held its slot for;
//! a log without it falls back to latency, which includes queueing, and says so). Four
//! families are fitted — uniform (bounds widened by one sample spacing, the unbiased
//! estimate), exponential (mean), log-normal (mean and coefficient of variation, by
//! moments) and deterministic — and each is scored by its Kolmogorov–Smirnov distance to
//! the samples (times logged in whole milliseconds are compared as rounded: a value v
//! stands for [v − ½, v + ½]). The closest family is kept when the KS test does not reject it at 5 %
//! (D < 1.36 / √n); otherwise the samples themselves are (`empirical`, as a histogram of
//! 1 ms bins, or 1,000 equal-weight quantiles when wider).
//!
//! **Measurement.** The decision log's `demand` is what the controller read. The
//! request log's arrivals give the true demand per interval; every scrape offset (0.25 s
//! grid below the scrape interval) and delay (0.25 s grid up to two intervals) is tried
//! through [`Meter`] and the one with the least squared error kept (ties: the smallest
//! delay, then offset).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, LogNormal};

use crate::service::load::Outcome;
use crate::sim::measure::Meter;
use crate::sim::Measurement;

/// One family's fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyFit {
    pub family: &'static str,
    /// The settings, as `[simulation.requests]` keys.
    pub keys: Vec<(&'static str, f64)>,
    /// Kolmogorov–Smirnov distance to the samples.
    pub ks: f64,
}

/// The service-time fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceFit {
    /// `service_ms`, or `latency_ms` when the log has no service times.
    pub source: &'static str,
    pub samples: usize,
    pub mean_ms: f64,
    pub fits: Vec<FamilyFit>,
    /// The 5 % critical KS distance, 1.36 / √n.
    pub ks_critical: f64,
    /// The family kept, or `empirical`.
    pub chosen: &'static str,
    /// `empirical`: `(ms, weight)` pairs.
    #[serde(skip)]
    pub histogram: Vec<(f64, f64)>,
}

impl ServiceFit {
    /// The kept family's fit (`None`: `empirical`).
    pub fn chosen_fit(&self) -> Option<&FamilyFit> {
        self.fits.iter().find(|f| f.family == self.chosen)
    }
    /// The kept family's keys (`empirical`: none; see `histogram`).
    pub fn chosen_keys(&self) -> &[(&'static str, f64)] {
        self.chosen_fit().map_or(&[], |f| &f.keys)
    }
}

/// Fits the service time of the served requests in `log`.
pub fn fit_service(log: &[Outcome]) -> anyhow::Result<ServiceFit> {
    let served = || log.iter().filter(|o| o.status == 200);
    let mut source = "service_ms";
    let mut x: Vec<f64> = served()
        .map(|o| o.service_ms)
        .filter(|v| v.is_finite())
        .collect();
    if x.is_empty() {
        source = "latency_ms";
        x = served()
            .map(|o| o.latency_ms)
            .filter(|v| v.is_finite())
            .collect();
    }
    if x.len() < 20 {
        anyhow::bail!(
            "the request log has {} served requests: at least 20 are needed to fit a service time",
            x.len()
        );
    }
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    // Times logged in whole milliseconds (the simulator's) are the true ones rounded:
    // each value stands for [v − ½, v + ½], and the model is compared so.
    let half = if x.iter().all(|v| v.fract() == 0.0) {
        0.5
    } else {
        0.0
    };
    let (lo, hi) = (x[0], x[x.len() - 1]);
    let spacing = (hi - lo) / (n - 1.0);
    let (a, b) = ((lo - spacing - half).max(0.0), hi + spacing + half);
    let cv = (sd / mean).max(1e-6);
    let s2 = (1.0 + cv * cv).ln();
    let ln = LogNormal::new(mean.ln() - s2 / 2.0, s2.sqrt()).ok();
    let mut fits = vec![
        FamilyFit {
            family: "uniform",
            keys: vec![("min_ms", round3(a)), ("max_ms", round3(b))],
            ks: {
                let f = |v: f64| ((v - a) / (b - a)).clamp(0.0, 1.0);
                ks(&x, |v| f(v - half), |v| f(v + half))
            },
        },
        FamilyFit {
            family: "exponential",
            keys: vec![("mean_ms", round3(mean))],
            ks: {
                let f = |v: f64| 1.0 - (-v.max(0.0) / mean).exp();
                ks(&x, |v| f(v - half), |v| f(v + half))
            },
        },
        FamilyFit {
            family: "deterministic",
            keys: vec![("mean_ms", round3(mean))],
            ks: ks(
                &x,
                |v| f64::from(u8::from(v > mean)),
                |v| f64::from(u8::from(v >= mean)),
            ),
        },
    ];
    if let Some(ln) = ln {
        fits.push(FamilyFit {
            family: "lognormal",
            keys: vec![("mean_ms", round3(mean)), ("cv", round3(cv))],
            ks: ks(&x, |v| ln.cdf((v - half).max(0.0)), |v| ln.cdf(v + half)),
        });
    }
    // All samples equal: only the deterministic family is defined.
    if hi == lo {
        fits.retain(|f| f.family == "deterministic");
    }
    let critical = 1.36 / n.sqrt();
    let best = fits
        .iter()
        .min_by(|p, q| p.ks.total_cmp(&q.ks))
        .filter(|f| f.ks < critical)
        .map(|f| f.family);
    Ok(ServiceFit {
        source,
        samples: x.len(),
        mean_ms: mean,
        ks_critical: critical,
        chosen: best.unwrap_or("empirical"),
        histogram: if best.is_none() {
            histogram(&x)
        } else {
            Vec::new()
        },
        fits,
    })
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Kolmogorov–Smirnov distance between sorted samples and a model whose CDF is
/// `below(v)` just below v and `at(v)` at it (the same for a continuous one). Tied
/// samples are one jump of the empirical CDF.
fn ks(sorted: &[f64], below: impl Fn(f64) -> f64, at: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let v = sorted[i];
        let j = i + sorted[i..].iter().take_while(|&&w| w == v).count();
        d = d
            .max((below(v) - i as f64 / n).abs())
            .max((at(v) - j as f64 / n).abs());
        i = j;
    }
    d
}

/// The samples as `(ms, count)`: 1 ms bins, or 1,000 equal-weight quantiles when the
/// bins would be more.
fn histogram(sorted: &[f64]) -> Vec<(f64, f64)> {
    let mut bins: Vec<(f64, f64)> = Vec::new();
    for &v in sorted {
        let b = v.round();
        match bins.last_mut() {
            Some((x, c)) if *x == b => *c += 1.0,
            _ => bins.push((b, 1.0)),
        }
    }
    if bins.len() <= 1000 {
        return bins;
    }
    let n = sorted.len();
    (0..1000)
        .map(|k| (round3(sorted[((2 * k + 1) * n / 2000).min(n - 1)]), 1.0))
        .collect()
}

/// The measurement fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasurementFit {
    #[serde(skip)]
    pub measurement: Measurement,
    pub scrape_interval_s: f64,
    pub scrape_offset_s: f64,
    pub delay_s: f64,
    /// Decisions with a reading.
    pub decisions: usize,
    /// Root-mean-square error (requests per interval) of the fitted readings, and of
    /// reading each interval exactly at its end.
    pub rmse: f64,
    pub rmse_exact: f64,
}

/// Fits scrape offset and delay: `counts[k]` are the requests that arrived in interval
/// k, `readings[k]` what decision k (at k · interval) read.
pub fn fit_measurement(
    counts: &[f64],
    readings: &[f64],
    interval_ms: u64,
    scrape_ms: u64,
) -> anyhow::Result<MeasurementFit> {
    let n = counts.len().min(readings.len());
    let used: Vec<usize> = (0..n).filter(|&k| readings[k].is_finite()).collect();
    if used.len() < 3 {
        anyhow::bail!(
            "the decision log has {} readings inside the request log's span: at least 3 are needed to fit the measurement delay",
            used.len()
        );
    }
    let sse = |m: Measurement| {
        let meter = Meter::new(m, &[], &counts[..n], interval_ms, interval_ms);
        used.iter()
            .map(|&k| (meter.observe(k as u64 * interval_ms) - readings[k]).powi(2))
            .sum::<f64>()
    };
    let grid = 250;
    let mut best: Option<(f64, Measurement)> = None;
    for delay in (0..=2 * interval_ms).step_by(grid) {
        for offset in (0..scrape_ms).step_by(grid) {
            let m = Measurement {
                scrape_ms,
                offset_ms: offset,
                window_ms: None,
                delay_ms: delay,
            };
            let e = sse(m);
            // Strictly better only: ties keep the smaller delay and offset.
            if best.is_none_or(|(b, _)| e < b * (1.0 - 1e-9) - 1e-9) {
                best = Some((e, m));
            }
        }
    }
    let (e, m) = best.expect("the grid is not empty");
    let exact: f64 = used
        .iter()
        .map(|&k| {
            let want = if k == 0 { 0.0 } else { counts[k - 1] };
            (want - readings[k]).powi(2)
        })
        .sum();
    let k = used.len() as f64;
    Ok(MeasurementFit {
        measurement: m,
        scrape_interval_s: scrape_ms as f64 / 1000.0,
        scrape_offset_s: m.offset_ms as f64 / 1000.0,
        delay_s: m.delay_ms as f64 / 1000.0,
        decisions: used.len(),
        rmse: (e / k).sqrt(),
        rmse_exact: (exact / k).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn log(samples: impl Iterator<Item = f64>) -> Vec<Outcome> {
        samples
            .map(|s| Outcome {
                at_ms: 0.0,
                latency_ms: s + 3.0,
                status: 200,
                port: 0,
                attempts: 1,
                service_ms: s,
            })
            .collect()
    }

    #[test]
    fn each_family_is_recognised_and_a_mixture_kept_as_samples() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let u = fit_service(&log((0..3000).map(|_| rng.random_range(50.0..200.0)))).unwrap();
        assert_eq!(u.chosen, "uniform");
        let k = u.chosen_keys();
        assert!(
            (k[0].1 - 50.0).abs() < 1.0 && (k[1].1 - 200.0).abs() < 1.0,
            "{k:?}"
        );
        let e = fit_service(&log(
            (0..3000).map(|_| -125.0 * (1.0 - rng.random::<f64>()).ln())
        ))
        .unwrap();
        assert_eq!(e.chosen, "exponential");
        assert!((e.chosen_keys()[0].1 / 125.0 - 1.0).abs() < 0.05);
        let d = fit_service(&log(std::iter::repeat_n(100.0, 50))).unwrap();
        assert_eq!(d.chosen, "deterministic");
        // Two modes (a cache hit or miss) fit no family: the samples are kept.
        let m = fit_service(&log((0..3000).map(
            |i| if i % 3 == 0 { 400.0 } else { 20.0 } + rng.random_range(0.0..5.0),
        )))
        .unwrap();
        assert_eq!(m.chosen, "empirical");
        let w: f64 = m.histogram.iter().map(|h| h.1).sum();
        assert_eq!(w, 3000.0);
        assert!(fit_service(&log(std::iter::repeat_n(1.0, 5))).is_err());
    }

    #[test]
    fn the_delay_of_a_reading_is_recovered() {
        // A ramp read through 5 s scrapes from 2 s, 3 s late, every 15 s.
        let counts: Vec<f64> = (0..40).map(|i| (10 * (i % 13)) as f64 + 5.0).collect();
        let truth = Measurement {
            scrape_ms: 5000,
            offset_ms: 2000,
            window_ms: None,
            delay_ms: 3000,
        };
        let meter = Meter::new(truth, &[], &counts, 15_000, 15_000);
        let readings: Vec<f64> = (0..40).map(|k| meter.observe(k * 15_000)).collect();
        let fit = fit_measurement(&counts, &readings, 15_000, 5000).unwrap();
        assert!(fit.rmse < 1e-9, "{fit:?}");
        assert!(fit.rmse_exact > 5.0, "{fit:?}");
        // The same readings as the truth at every decision (offset and delay trade off).
        let m2 = Meter::new(fit.measurement, &[], &counts, 15_000, 15_000);
        assert!((0..40).all(|k| (m2.observe(k * 15_000) - readings[k as usize]).abs() < 1e-9));
        assert!(fit_measurement(&counts, &[f64::NAN; 40], 15_000, 5000).is_err());
    }
}
