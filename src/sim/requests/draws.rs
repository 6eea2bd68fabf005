//! What a request-mode run draws: service times from the chosen distribution, and
//! arrivals (piecewise-constant-rate Poisson over the trace's steps, or a request log's
//! own, replayed).

use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::service::service_time::ServiceTimeDist;
use crate::sim::ServiceTime;

/// Draws service times (ms).
pub(super) struct Service {
    kind: ServiceTime,
    mean: f64,
    mu: f64,
    sigma: f64,
    /// `Empirical`: an index drawn by weight.
    weighted: Option<WeightedIndex<f64>>,
    rng: ChaCha8Rng,
}

impl Service {
    pub(super) fn new(kind: ServiceTime, mean: f64, rng: ChaCha8Rng) -> Service {
        let (mu, sigma) = match kind {
            ServiceTime::Lognormal { cv } => {
                let s2 = (1.0 + cv * cv).ln();
                (mean.ln() - s2 / 2.0, s2.sqrt())
            }
            _ => (0.0, 0.0),
        };
        let weighted = match &kind {
            // Weights were checked (non-negative, positive sum) when the table was built.
            ServiceTime::Empirical(e) => WeightedIndex::new(e.weights()).ok(),
            _ => None,
        };
        Service {
            kind,
            mean,
            mu,
            sigma,
            weighted,
            rng,
        }
    }
    pub(super) fn draw(&mut self) -> u64 {
        let x = match &self.kind {
            // Only replayed requests, which carry their own service time, reach a `Sizes`
            // run (the sweep refuses it otherwise); the mean stands in for safety.
            ServiceTime::Sizes => self.mean,
            ServiceTime::Exponential => {
                let e: f64 = Exp1.sample(&mut self.rng);
                e * self.mean
            }
            ServiceTime::Deterministic => self.mean,
            ServiceTime::Lognormal { .. } => {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                (self.mu + self.sigma * z).exp()
            }
            // The live replica's rule (`sim serve`), so both draw alike.
            &ServiceTime::Uniform { min_ms, max_ms } => {
                ServiceTimeDist::Uniform { min_ms, max_ms }.sample_ms(&mut self.rng)
            }
            ServiceTime::Empirical(e) => match &self.weighted {
                Some(w) => e.values()[w.sample(&mut self.rng)],
                None => self.mean,
            },
        };
        x.round() as u64
    }
}

/// Piecewise-constant-rate Poisson arrivals over the trace's steps.
pub(super) struct Arrivals<'a> {
    pub demand: &'a [f64],
    pub step_ms: f64,
    pub clock: f64,
    pub rng: ChaCha8Rng,
}

/// No service time of its own: the request draws one from the distribution.
pub(super) const DRAW: u64 = u64::MAX;

/// Where arrivals come from.
pub(super) enum Source<'a> {
    Poisson(Box<Arrivals<'a>>),
    /// A request log's own arrivals (`t_ms[i] - offset_ms` into the window), with their
    /// service times when the sizes give them.
    Replay {
        t_ms: &'a [u64],
        offset_ms: u64,
        service_ms: Option<&'a [u64]>,
        i: usize,
    },
}

impl Source<'_> {
    /// Time (ms) and service time ([`DRAW`]: draw one) of the next arrival.
    pub(super) fn next(&mut self) -> Option<(f64, u64)> {
        match self {
            Source::Poisson(a) => a.next().map(|t| (t, DRAW)),
            Source::Replay {
                t_ms,
                offset_ms,
                service_ms,
                i,
            } => {
                let t = *t_ms.get(*i)?;
                let svc = service_ms.map_or(DRAW, |s| s[*i]);
                *i += 1;
                Some(((t - *offset_ms) as f64, svc))
            }
        }
    }
}

impl Arrivals<'_> {
    /// Time (ms) of the next arrival, or `None` after the window.
    fn next(&mut self) -> Option<f64> {
        loop {
            let s = (self.clock / self.step_ms) as usize;
            if s >= self.demand.len() {
                return None;
            }
            let rate = self.demand[s] / self.step_ms;
            let boundary = (s + 1) as f64 * self.step_ms;
            if rate > 0.0 {
                let gap: f64 = Exp1.sample(&mut self.rng);
                let t = self.clock + gap / rate;
                if t < boundary {
                    self.clock = t;
                    return Some(t);
                }
            }
            // Memoryless: restarting at the boundary with the next rate is exact.
            self.clock = boundary;
        }
    }
}
