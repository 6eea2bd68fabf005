//! Service-time distributions of `sim serve`, written `uniform:50:200` (the prototype's),
//! `exponential:125`, `deterministic:100` or `lognormal:125:0.5` (mean, coefficient of variation), in ms.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::{Deserialize, Serialize};

/// A service-time distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ServiceTimeDist {
    Uniform { min_ms: f64, max_ms: f64 },
    Exponential { mean_ms: f64 },
    Deterministic { ms: f64 },
    Lognormal { mean_ms: f64, cv: f64 },
}

impl ServiceTimeDist {
    /// The prototype's: uniform between 50 and 200 ms.
    pub const PROTOTYPE: ServiceTimeDist = ServiceTimeDist::Uniform {
        min_ms: 50.0,
        max_ms: 200.0,
    };

    pub fn mean_ms(&self) -> f64 {
        match *self {
            ServiceTimeDist::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            ServiceTimeDist::Exponential { mean_ms } => mean_ms,
            ServiceTimeDist::Deterministic { ms } => ms,
            ServiceTimeDist::Lognormal { mean_ms, .. } => mean_ms,
        }
    }

    pub fn sample_ms(&self, rng: &mut impl Rng) -> f64 {
        match *self {
            ServiceTimeDist::Uniform { min_ms, max_ms } => rng.random_range(min_ms..=max_ms),
            ServiceTimeDist::Exponential { mean_ms } => {
                Exp::new(1.0 / mean_ms).map_or(mean_ms, |d| d.sample(rng))
            }
            ServiceTimeDist::Deterministic { ms } => ms,
            ServiceTimeDist::Lognormal { mean_ms, cv } => {
                let s2 = (1.0 + cv * cv).ln();
                LogNormal::new(mean_ms.ln() - s2 / 2.0, s2.sqrt())
                    .map_or(mean_ms, |d| d.sample(rng))
            }
        }
    }
}

impl FromStr for ServiceTimeDist {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "write uniform:MIN:MAX, exponential:MEAN, deterministic:MS or lognormal:MEAN:CV (milliseconds)";
        let mut parts = s.split(':');
        let kind = parts.next().unwrap_or_default().trim();
        let nums = parts
            .map(|p| {
                p.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| {
                        format!("service time '{s}': '{p}' is not a non-negative number; {usage}")
                    })
            })
            .collect::<Result<Vec<f64>, String>>()?;
        let d = match (kind, nums.as_slice()) {
            ("uniform", [a, b]) if a <= b => ServiceTimeDist::Uniform {
                min_ms: *a,
                max_ms: *b,
            },
            ("uniform", [_, _]) => return Err(format!("service time '{s}': MIN exceeds MAX")),
            ("exponential", [m]) if *m > 0.0 => ServiceTimeDist::Exponential { mean_ms: *m },
            ("deterministic", [m]) => ServiceTimeDist::Deterministic { ms: *m },
            ("lognormal", [m, cv]) if *m > 0.0 && *cv > 0.0 => ServiceTimeDist::Lognormal {
                mean_ms: *m,
                cv: *cv,
            },
            _ => return Err(format!("service time '{s}' not understood; {usage}")),
        };
        Ok(d)
    }
}

impl TryFrom<String> for ServiceTimeDist {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ServiceTimeDist> for String {
    fn from(d: ServiceTimeDist) -> String {
        d.to_string()
    }
}

impl fmt::Display for ServiceTimeDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ServiceTimeDist::Uniform { min_ms, max_ms } => write!(f, "uniform:{min_ms}:{max_ms}"),
            ServiceTimeDist::Exponential { mean_ms } => write!(f, "exponential:{mean_ms}"),
            ServiceTimeDist::Deterministic { ms } => write!(f, "deterministic:{ms}"),
            ServiceTimeDist::Lognormal { mean_ms, cv } => write!(f, "lognormal:{mean_ms}:{cv}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_and_round_trips() {
        for s in [
            "uniform:50:200",
            "exponential:125",
            "deterministic:100",
            "lognormal:125:0.5",
        ] {
            let d: ServiceTimeDist = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        for bad in [
            "uniform:200:50",
            "uniform:50",
            "exponential:-1",
            "gamma:1",
            "uniform:a:b",
            "exponential:0",
        ] {
            assert!(bad.parse::<ServiceTimeDist>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sample_means_match() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for s in ["uniform:50:200", "exponential:125", "lognormal:125:0.5"] {
            let d: ServiceTimeDist = s.parse().unwrap();
            let n = 200_000;
            let mean = (0..n).map(|_| d.sample_ms(&mut rng)).sum::<f64>() / n as f64;
            assert!((mean / d.mean_ms() - 1.0).abs() < 0.01, "{s}: {mean}");
        }
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let u = ServiceTimeDist::PROTOTYPE;
        assert!((0..10_000)
            .map(|_| u.sample_ms(&mut r2))
            .all(|x| (50.0..=200.0).contains(&x)));
    }
}
