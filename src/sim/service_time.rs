//! Service-time distributions of request mode, and the one rule for a replica's mean
//! service time. No I/O: the scenario layer reads sample files into [`Empirical`].

use std::sync::Arc;

/// Service-time distributions for request mode.
///
/// `Exponential`, `Deterministic` and `Lognormal` take their mean from
/// [`RequestConfig::mean_ms`](super::RequestConfig), or, when it is not set, from the
/// capacity the policies size with (`concurrency · step / capacity_per_replica`).
/// `Uniform` and `Empirical` carry their own.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ServiceTime {
    #[default]
    Exponential,
    Deterministic,
    /// Log-normal with the given coefficient of variation.
    Lognormal {
        cv: f64,
    },
    /// Each replayed request's own service time, from its sizes (see [`super::Replay`]).
    Sizes,
    /// Uniform between two bounds, ms (the prototype's replica: 50–200).
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
    /// Drawn from observed service times.
    Empirical(Arc<Empirical>),
}

impl ServiceTime {
    /// The distribution's own mean (ms), for the kinds that have one.
    pub fn own_mean_ms(&self) -> Option<f64> {
        match self {
            ServiceTime::Uniform { min_ms, max_ms } => Some((min_ms + max_ms) / 2.0),
            ServiceTime::Empirical(e) => Some(e.mean_ms()),
            _ => None,
        }
    }
    /// Checks the parameters, naming what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ServiceTime::Lognormal { cv } if !(*cv > 0.0 && cv.is_finite()) => {
                Err(format!("lognormal cv must be positive, got {cv}"))
            }
            ServiceTime::Uniform { min_ms, max_ms }
                if !(*min_ms >= 0.0 && min_ms <= max_ms && max_ms.is_finite() && *max_ms > 0.0) =>
            {
                Err(format!(
                    "uniform service time needs 0 <= min_ms <= max_ms and max_ms > 0, got min_ms = {min_ms}, max_ms = {max_ms}"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A discrete distribution over observed service times (ms), each with a weight: a sample
/// file gives every value weight 1 (resampling it exactly), a histogram its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Empirical {
    values: Vec<f64>,
    weights: Vec<f64>,
}

impl Empirical {
    /// From `(value ms, weight)` pairs: values non-negative and finite, weights
    /// non-negative with a positive sum.
    pub fn new(pairs: impl IntoIterator<Item = (f64, f64)>) -> Result<Empirical, String> {
        let (values, weights): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        if let Some(v) = values.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
            return Err(format!(
                "empirical service time {v} is not a non-negative number of ms"
            ));
        }
        if let Some(w) = weights.iter().find(|w| !(**w >= 0.0 && w.is_finite())) {
            return Err(format!(
                "empirical service-time weight {w} is not a non-negative count"
            ));
        }
        if !(weights.iter().sum::<f64>() > 0.0) {
            return Err("empirical service times: no sample (the weights sum to zero)".into());
        }
        Ok(Empirical { values, weights })
    }
    /// Every sample with weight 1.
    pub fn from_samples(samples: &[f64]) -> Result<Empirical, String> {
        Empirical::new(samples.iter().map(|&v| (v, 1.0)))
    }
    pub fn mean_ms(&self) -> f64 {
        let w: f64 = self.weights.iter().sum();
        self.values
            .iter()
            .zip(&self.weights)
            .map(|(v, k)| v * k)
            .sum::<f64>()
            / w
    }
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_and_checks() {
        let e = Empirical::new([(100.0, 3.0), (200.0, 1.0)]).unwrap();
        assert_eq!(e.mean_ms(), 125.0);
        assert_eq!(
            ServiceTime::Empirical(Arc::new(e)).own_mean_ms(),
            Some(125.0)
        );
        let u = ServiceTime::Uniform {
            min_ms: 50.0,
            max_ms: 200.0,
        };
        assert_eq!(u.own_mean_ms(), Some(125.0));
        assert!(u.validate().is_ok());
        assert_eq!(ServiceTime::Exponential.own_mean_ms(), None);
        assert!(ServiceTime::Uniform {
            min_ms: 200.0,
            max_ms: 50.0
        }
        .validate()
        .is_err());
        assert!(Empirical::new([(10.0, 0.0)]).is_err());
        assert!(Empirical::from_samples(&[-1.0]).is_err());
        assert!(Empirical::from_samples(&[]).is_err());
    }
}
