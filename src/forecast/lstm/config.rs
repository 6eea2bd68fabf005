//! The LSTM's settings, their defaults (the prototype's) and their ranges.

use serde::{Deserialize, Serialize};

/// LSTM settings; defaults are the prototype's (plus early stopping and quantiles).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LstmConfig {
    pub past: usize,
    pub ahead: usize,
    pub hidden: i64,
    pub head: i64,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    pub seed: u64,
    /// Each batch's gradients are computed in this many shards, one thread each (one
    /// libtorch intra-op thread per shard), and summed in a fixed order: the weights depend
    /// on this setting and the seed, never on how many threads the process has.
    pub gradient_shards: usize,
}

impl Default for LstmConfig {
    fn default() -> Self {
        LstmConfig {
            past: 60,
            ahead: 15,
            hidden: 64,
            head: 32,
            epochs: 5,
            batch: 128,
            learning_rate: 1e-3,
            patience: 2,
            seed: 7,
            gradient_shards: 2,
        }
    }
}

/// At most this many bytes of training buffers per gradient shard (forecast/lstm/fused.rs
/// keeps each step's gates and states for the backward pass).
const MAX_SHARD_BYTES: f64 = 4.0 * (1u64 << 30) as f64;

impl LstmConfig {
    /// Checks each setting against its range; the message names the key and what to use.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let ranges: [(&str, i128, i128, i128); 7] = [
            ("past", self.past as i128, 1, 10_000),
            ("ahead", self.ahead as i128, 1, 100_000),
            ("hidden", self.hidden as i128, 1, 1024),
            ("head", self.head as i128, 1, 1024),
            ("epochs", self.epochs as i128, 1, 100_000),
            ("batch", self.batch as i128, 1, 100_000),
            ("gradient_shards", self.gradient_shards as i128, 1, 64),
        ];
        for (key, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err(format!(
                    "lstm setting `{key}` = {value} is out of range: use {lo} to {hi}"
                ));
            }
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(format!(
                "lstm setting `learning_rate` = {} must be a positive number (the prototype's is 0.001)",
                self.learning_rate
            ));
        }
        // Per window and step: the four gates' values and h, c, tanh(c), one f32 each.
        let rows = self.batch.div_ceil(self.gradient_shards) as f64;
        let bytes = rows * self.past as f64 * 7.0 * self.hidden as f64 * 4.0;
        if bytes > MAX_SHARD_BYTES {
            return Err(format!(
                "lstm settings past = {}, batch = {}, hidden = {} need {:.1} GiB of training buffers per gradient shard (at most 4): lower one of them or raise gradient_shards",
                self.past,
                self.batch,
                self.hidden,
                bytes / (1u64 << 30) as f64
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_settings_are_refused_by_name() {
        assert_eq!(LstmConfig::default().validate(), Ok(()));
        let bad = [
            (
                LstmConfig {
                    hidden: 0,
                    ..Default::default()
                },
                "`hidden` = 0",
            ),
            (
                LstmConfig {
                    hidden: -3,
                    ..Default::default()
                },
                "`hidden` = -3",
            ),
            (
                LstmConfig {
                    head: 0,
                    ..Default::default()
                },
                "`head` = 0",
            ),
            (
                LstmConfig {
                    past: 0,
                    ..Default::default()
                },
                "`past` = 0",
            ),
            (
                LstmConfig {
                    ahead: 0,
                    ..Default::default()
                },
                "`ahead` = 0",
            ),
            (
                LstmConfig {
                    batch: 0,
                    ..Default::default()
                },
                "`batch` = 0",
            ),
            (
                LstmConfig {
                    epochs: 0,
                    ..Default::default()
                },
                "`epochs` = 0",
            ),
            (
                LstmConfig {
                    gradient_shards: 100_000,
                    ..Default::default()
                },
                "`gradient_shards` = 100000",
            ),
            (
                LstmConfig {
                    learning_rate: -1.0,
                    ..Default::default()
                },
                "`learning_rate` = -1",
            ),
            (
                LstmConfig {
                    learning_rate: f64::NAN,
                    ..Default::default()
                },
                "`learning_rate` = NaN",
            ),
            (
                LstmConfig {
                    past: 10_000,
                    batch: 4096,
                    hidden: 512,
                    ..Default::default()
                },
                "GiB of training buffers",
            ),
        ];
        for (cfg, message) in bad {
            let e = cfg.validate().unwrap_err();
            assert!(e.contains(message), "{e}");
            assert!(super::super::TrainedLstm::train(&[10.0; 500], &cfg).is_err());
        }
    }
}
