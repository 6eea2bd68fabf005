//! Replications: the scenario run again with independent random streams. Replication 0
//! is the scenario as written (so one replication is today's sweep, bit for bit); each
//! later one re-seeds every stream a run draws from — the request arrivals and service
//! times (the scenario seed), a generated trace (the generator's seed), and the
//! forecasters' model initialisation and sampling (random forest, LSTM, Prophet seeds).
//! Within a replication every policy of a simulation variant still sees the same
//! arrivals (common random numbers), so differences between policies are paired.

use super::forecasters::ForecasterParams;
use super::{Scenario, TraceSource};
use crate::rng::{derive_seed, Stream};

/// `LstmConfig::default().seed` (the `lstm` module exists only with its build feature).
const LSTM_DEFAULT_SEED: u64 = 7;

/// A seed for replication `r` (`r > 0`) of a stream whose seed is `seed`.
pub fn reseed(seed: u64, r: usize) -> u64 {
    if r == 0 {
        seed
    } else {
        derive_seed(seed, r as u64, Stream::Replication)
    }
}

/// The scenario of replication `r`.
pub fn replica(sc: &Scenario, r: usize) -> Scenario {
    let mut s = sc.clone();
    if r == 0 {
        return s;
    }
    s.seed = reseed(sc.seed, r);
    if let TraceSource::Generator(g) = &mut s.trace {
        g.seed = reseed(g.seed, r);
    }
    for (_, f) in &mut s.forecasters {
        match &mut f.params {
            ForecasterParams::RandomForest(p) => p.seed = Some(reseed(p.seed.unwrap_or(0), r)),
            ForecasterParams::Prophet(p) => {
                let cfg = p.prophet.get_or_insert_with(Default::default);
                cfg.seed = reseed(cfg.seed, r);
            }
            ForecasterParams::Lstm(p) => {
                let t = p.lstm.get_or_insert_with(Default::default);
                let old = t
                    .get("seed")
                    .and_then(|v| v.as_integer())
                    .map_or(LSTM_DEFAULT_SEED, |v| v as u64);
                // TOML integers are signed: keep 63 bits.
                t.insert(
                    "seed".into(),
                    toml::Value::Integer((reseed(old, r) >> 1) as i64),
                );
            }
            _ => {}
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_zero_is_the_scenario_and_later_ones_differ() {
        assert_eq!(reseed(42, 0), 42);
        assert_ne!(reseed(42, 1), 42);
        assert_ne!(reseed(42, 1), reseed(42, 2));
        assert_eq!(reseed(42, 3), reseed(42, 3));
    }
}
