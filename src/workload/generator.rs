//! The prototype's synthetic workload generator and its three named scenarios.
//!
//! demand(t) = (base + daily_amp·sin(2π·hour/24)) · (1 ± weekly_amp) + trend(t)
//!             + N(0, noise_sd) + spikes, clipped at 0,
//! with `hour` the fractional hour of day, `+weekly_amp` on weekdays and `−` on weekends,
//! a linear trend from 0 to `trend_end` over the trace, and spikes that occur with
//! probability `spike_prob` per step with an integer size uniform in `[spike_min, spike_max)`.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::shapes::Shape;
use super::Workload;
use crate::error::{Error, Result};
use crate::rng::{derive_seed, Stream};

/// Parameters of the prototype generator. Defaults are the prototype's `mixed` scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneratorConfig {
    /// Length of the trace in days.
    pub days: f64,
    /// Step length in seconds.
    pub step_s: u64,
    /// Start of the trace (RFC 3339 or YYYY-MM-DD).
    pub start: String,
    pub base: f64,
    pub daily_amp: f64,
    pub weekly_amp: f64,
    pub trend_end: f64,
    pub noise_sd: f64,
    pub spike_prob: f64,
    pub spike_min: i64,
    pub spike_max: i64,
    pub seed: u64,
    /// Extra shapes applied in order after the base series.
    pub shapes: Vec<Shape>,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            days: 14.0,
            step_s: 60,
            start: "2025-01-01T00:00:00+00:00".into(),
            base: 18.0,
            daily_amp: 10.0,
            weekly_amp: 0.25,
            trend_end: 3.0,
            noise_sd: 1.8,
            spike_prob: 0.003,
            spike_min: 40,
            spike_max: 120,
            seed: 7,
            shapes: Vec::new(),
        }
    }
}

/// The prototype's named scenarios.
pub const PRESETS: [&str; 3] = ["mixed", "smooth", "spiky"];

impl GeneratorConfig {
    /// The configuration of a named prototype scenario.
    pub fn preset(name: &str) -> Result<GeneratorConfig> {
        let d = GeneratorConfig::default();
        match name {
            "mixed" => Ok(d),
            "smooth" => Ok(GeneratorConfig {
                daily_amp: 7.0,
                spike_prob: 0.0005,
                ..d
            }),
            "spiky" => Ok(GeneratorConfig {
                daily_amp: 12.0,
                spike_prob: 0.01,
                spike_min: 70,
                spike_max: 180,
                ..d
            }),
            other => Err(Error::Config(format!(
                "unknown generator preset '{other}': use one of {}",
                PRESETS.join(", ")
            ))),
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if !(self.days > 0.0 && self.days.is_finite()) {
            return bad(format!(
                "generator days must be positive, got {}",
                self.days
            ));
        }
        if self.step_s == 0 {
            return bad("generator step_s must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.spike_prob) {
            return bad(format!(
                "spike_prob must be in [0, 1], got {}",
                self.spike_prob
            ));
        }
        if self.spike_max <= self.spike_min {
            return bad(format!(
                "spike_max ({}) must be greater than spike_min ({})",
                self.spike_max, self.spike_min
            ));
        }
        if self.noise_sd < 0.0 || !self.noise_sd.is_finite() {
            return bad(format!(
                "noise_sd must be non-negative, got {}",
                self.noise_sd
            ));
        }
        Ok(())
    }

    fn start_time(&self) -> Result<DateTime<FixedOffset>> {
        if let Ok(t) = DateTime::parse_from_rfc3339(&self.start) {
            return Ok(t);
        }
        NaiveDate::parse_from_str(&self.start, "%Y-%m-%d")
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc().fixed_offset())
            .map_err(|_| Error::Config(format!("generator start '{}' is not ISO-8601", self.start)))
    }
}

/// Generates a workload. The same configuration always gives the same series.
pub fn generate(name: &str, cfg: &GeneratorConfig) -> Result<Workload> {
    cfg.validate()?;
    let start = cfg.start_time()?;
    let step_ms = cfg.step_s * 1000;
    let n = ((cfg.days * 86_400.0) / cfg.step_s as f64).round() as usize;
    let mut rng =
        rand_chacha::ChaCha8Rng::seed_from_u64_compat(derive_seed(cfg.seed, 0, Stream::Workload));
    let noise = Normal::new(0.0, cfg.noise_sd).expect("validated noise_sd");
    let mut demand = Vec::with_capacity(n);
    let mut events = Vec::with_capacity(n);
    for i in 0..n {
        let t = start + Duration::milliseconds((i as u64 * step_ms) as i64);
        let hour = t.hour() as f64 + t.minute() as f64 / 60.0 + t.second() as f64 / 3600.0;
        let weekday = t.weekday().num_days_from_monday() < 5;
        let weekly = if weekday {
            1.0 + cfg.weekly_amp
        } else {
            1.0 - cfg.weekly_amp
        };
        let seasonal =
            (cfg.base + cfg.daily_amp * (2.0 * std::f64::consts::PI * hour / 24.0).sin()) * weekly;
        let trend = if n > 1 {
            cfg.trend_end * i as f64 / (n - 1) as f64
        } else {
            0.0
        };
        let mut y = seasonal + trend + noise.sample(&mut rng);
        let spike = rng.random::<f64>() < cfg.spike_prob;
        if spike {
            y += rng.random_range(cfg.spike_min..cfg.spike_max) as f64;
        }
        demand.push(y.max(0.0));
        events.push(if spike { 1.0 } else { 0.0 });
    }
    let mut w = Workload {
        name: name.to_string(),
        step_ms,
        start: Some(start),
        demand,
        regressors: vec![("is_event".into(), events)],
        missing: Vec::new(),
        requests: None,
    };
    for (k, shape) in cfg.shapes.iter().enumerate() {
        shape.apply(
            &mut w,
            derive_seed(cfg.seed, 1 + k as u64, Stream::Workload),
        )?;
    }
    Ok(w)
}

/// `SeedableRng::seed_from_u64` under a name that reads well at the call site.
trait SeedCompat {
    fn seed_from_u64_compat(seed: u64) -> Self;
}
impl SeedCompat for rand_chacha::ChaCha8Rng {
    fn seed_from_u64_compat(seed: u64) -> Self {
        use rand_chacha::rand_core::SeedableRng;
        rand_chacha::ChaCha8Rng::seed_from_u64(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_series_other_seed_differs() {
        let cfg = GeneratorConfig {
            days: 1.0,
            ..Default::default()
        };
        let a = generate("a", &cfg).unwrap();
        assert_eq!(a.demand, generate("a", &cfg).unwrap().demand);
        let b = generate("a", &GeneratorConfig { seed: 8, ..cfg }).unwrap();
        assert_ne!(a.demand, b.demand);
        assert_eq!(a.len(), 1440);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let cfg = GeneratorConfig {
            spike_min: 50,
            spike_max: 40,
            ..Default::default()
        };
        assert!(generate("x", &cfg)
            .unwrap_err()
            .to_string()
            .contains("spike_max"));
        assert!(GeneratorConfig::preset("bumpy").is_err());
    }
}
