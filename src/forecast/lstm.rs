//! The prototype's LSTM forecaster on libtorch (tch): a window of `past` steps → the mean
//! of the next `ahead` steps, one LSTM layer and a Linear–ReLU–Linear head, Adam, a
//! time-ordered 80/20 split — plus input normalisation, early stopping on the validation
//! loss, and quantile outputs trained with the pinball loss. CUDA when available. On CPU
//! the LSTM layer trains through its written-out pass (`fused`), the validation loss too;
//! forecasts use libtorch's LSTM everywhere. Built with the `lstm` feature.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::{tidy_quantiles, FittedModel, ForecastBuf, Forecaster, History, QUANTILES};
use crate::error::{Error, Result};

mod config;
mod fused;
mod net;
mod shards;
pub use config::LstmConfig;
use net::{loss, Net};
use shards::{Batch, ShardWorkers};

/// What training reports (written into a model card).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub epochs_run: usize,
    pub train_loss: Vec<f64>,
    pub validation_loss: Vec<f64>,
    pub best_validation_loss: f64,
    pub mean: f64,
    pub std: f64,
}

/// The LSTM as a forecaster.
#[derive(Debug, Clone)]
pub struct LstmForecaster {
    pub name: String,
    pub config: LstmConfig,
    /// Weights saved by `sim train`, used instead of training when the history is the
    /// one they were trained on.
    pub saved: Option<SavedLstm>,
}

/// A saved model's weights and what it was trained on.
#[derive(Debug, Clone)]
pub struct SavedLstm {
    pub weights: std::path::PathBuf,
    pub report: TrainReport,
    pub training_steps: usize,
    pub training_data_sha256: String,
}

pub use crate::sweep::manifest::series_sha256;

/// One intra-op thread for libtorch: rayon already spreads forecasters and cells over the
/// cores, and a fixed thread count keeps results identical whatever `--threads` is.
fn set_threads() {
    tch::set_num_threads(1);
}

/// libtorch's generator is global: seeding and initialising under one lock makes each
/// network's initial weights depend on its seed only, even with trainings in parallel.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A trained network with its normalisation.
pub struct TrainedLstm {
    vs: nn::VarStore,
    net: Net,
    pub config: LstmConfig,
    pub report: TrainReport,
}

impl TrainedLstm {
    /// Trains on `y` (oldest first). Same seed and data give the same weights on CPU.
    pub fn train(y: &[f64], cfg: &LstmConfig) -> std::result::Result<TrainedLstm, String> {
        cfg.validate()?;
        let (past, ahead) = (cfg.past, cfg.ahead);
        if y.len() < past + ahead + 20 {
            return Err(format!(
                "needs at least {} steps to train, has {}",
                past + ahead + 20,
                y.len()
            ));
        }
        set_threads();
        let device = Device::cuda_if_available();
        // Missing steps (NaN): left out of the scaling and of every target; as inputs
        // they read the last observed value (the network needs a full window).
        let obs: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
        let mean = obs.iter().sum::<f64>() / obs.len().max(1) as f64;
        let std = (obs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / obs.len().max(1) as f64)
            .sqrt()
            .max(1e-9);
        let norm: Vec<f32> = carry_forward(y, mean)
            .iter()
            .map(|v| ((v - mean) / std) as f32)
            .collect();
        let windows = y.len() - past - ahead + 1;
        let mut xs = Vec::with_capacity(windows * past);
        let mut ts = Vec::with_capacity(windows);
        for t in past..past + windows {
            if y[t..t + ahead].iter().any(|v| !v.is_finite()) {
                continue;
            }
            xs.extend_from_slice(&norm[t - past..t]);
            ts.push(norm[t..t + ahead].iter().sum::<f32>() / ahead as f32);
        }
        let n = ts.len();
        if n < 20 {
            return Err(format!(
                "needs at least 20 training windows whose {ahead} target step(s) are all observed, has {n}"
            ));
        }
        let x = Tensor::from_slice(&xs)
            .reshape([n as i64, past as i64])
            .to(device);
        let target = Tensor::from_slice(&ts).reshape([n as i64, 1]).to(device);
        let split = (n * 4 / 5) as i64;
        let (x_train, x_val) = (x.narrow(0, 0, split), x.narrow(0, split, n as i64 - split));
        let (t_train, t_val) = (
            target.narrow(0, 0, split),
            target.narrow(0, split, n as i64 - split),
        );
        let levels = Tensor::from_slice(&QUANTILES.map(|q| q as f32))
            .reshape([1, QUANTILES.len() as i64])
            .to(device);
        let vs = nn::VarStore::new(device);
        let (net, replicas) = {
            let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
            tch::manual_seed(cfg.seed as i64);
            let net = Net::new(&vs, cfg);
            // The other shards' networks: their weights are the main one's at every batch.
            let replicas: Vec<(nn::VarStore, Net)> = (1..cfg.gradient_shards)
                .map(|_| {
                    let rvs = nn::VarStore::new(device);
                    let rnet = Net::new(&rvs, cfg);
                    (rvs, rnet)
                })
                .collect();
            (net, replicas)
        };
        let mut opt = nn::Adam::default()
            .build(&vs, cfg.learning_rate)
            .map_err(|e| e.to_string())?;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut order: Vec<i64> = (0..split).collect();
        let mut report = TrainReport {
            epochs_run: 0,
            train_loss: vec![],
            validation_loss: vec![],
            best_validation_loss: f64::INFINITY,
            mean,
            std,
        };
        let mut best: Option<Vec<(String, Tensor)>> = None;
        let mut since_best = 0;
        std::thread::scope(|scope| {
            // Dropped at the end of this closure, which ends the workers before the scope
            // waits for them.
            let workers = ShardWorkers::spawn(scope, &vs, replicas);
            for _ in 0..cfg.epochs {
                order.shuffle(&mut rng);
                let mut total = 0.0;
                for chunk in order.chunks(cfg.batch) {
                    let batch = Batch {
                        x: &x_train,
                        target: &t_train,
                        levels: &levels,
                        device,
                    };
                    opt.zero_grad();
                    let l = workers.backward(&batch, &vs, &net, chunk);
                    opt.step();
                    total += l * chunk.len() as f64;
                }
                // The validation windows through the training pass's layer, in shards.
                let out = workers.outputs(&vs, &net, &x_val, cfg.batch);
                let val = tch::no_grad(|| loss(&out, &t_val, &levels).double_value(&[]));
                report.epochs_run += 1;
                report.train_loss.push(total / split as f64);
                report.validation_loss.push(val);
                if val < report.best_validation_loss {
                    report.best_validation_loss = val;
                    best = Some(
                        vs.variables()
                            .into_iter()
                            .map(|(k, v)| (k, v.detach().copy()))
                            .collect(),
                    );
                    since_best = 0;
                } else {
                    since_best += 1;
                    if since_best >= cfg.patience.max(1) {
                        break;
                    }
                }
            }
        });
        if let Some(best) = best {
            let vars = vs.variables();
            tch::no_grad(|| {
                for (k, v) in best {
                    let mut dst = vars[&k].shallow_clone();
                    dst.copy_(&v);
                }
            });
        }
        Ok(TrainedLstm {
            vs,
            net,
            config: cfg.clone(),
            report,
        })
    }

    /// Forecasts (point, quantiles) for each window start in `ends`: the window of
    /// decision `e` is `y[e − past .. e]`. One forward pass per 4,096 windows.
    pub fn predict_windows(&self, y: &[f64], ends: Range<usize>) -> (Vec<f64>, Vec<f64>) {
        let past = self.config.past;
        let (mean, std) = (self.report.mean, self.report.std);
        let mut point = Vec::with_capacity(ends.len());
        let mut quant = Vec::with_capacity(ends.len() * QUANTILES.len());
        let ends: Vec<usize> = ends.collect();
        let y = carry_forward(y, mean);
        for chunk in ends.chunks(4096) {
            let mut xs = Vec::with_capacity(chunk.len() * past);
            for &e in chunk {
                xs.extend(y[e - past..e].iter().map(|v| ((v - mean) / std) as f32));
            }
            let x = Tensor::from_slice(&xs)
                .reshape([chunk.len() as i64, past as i64])
                .to(self.vs.device());
            let out = tch::no_grad(|| self.net.forward(&x))
                .to(Device::Cpu)
                .to_kind(Kind::Double);
            let values: Vec<f64> = Vec::<f64>::try_from(out.flatten(0, -1)).unwrap_or_default();
            for row in values.chunks(1 + QUANTILES.len()) {
                point.push((row[0] * std + mean).max(0.0));
                let mut q: Vec<f64> = row[1..].iter().map(|v| v * std + mean).collect();
                tidy_quantiles(&mut q);
                quant.extend(q);
            }
        }
        (point, quant)
    }

    /// Saves the weights (safetensors).
    pub fn save(&self, path: &std::path::Path) -> std::result::Result<(), String> {
        self.vs.save(path).map_err(|e| e.to_string())
    }

    /// Loads weights saved by [`save`](Self::save) into a network of `config`.
    pub fn load(
        path: &std::path::Path,
        config: &LstmConfig,
        report: TrainReport,
    ) -> std::result::Result<TrainedLstm, String> {
        let mut vs = nn::VarStore::new(Device::cuda_if_available());
        let net = Net::new(&vs, config);
        vs.load(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TrainedLstm {
            vs,
            net,
            config: config.clone(),
            report,
        })
    }
}

/// `y` with each missing value (NaN) replaced by the last observed one (`first` before any).
fn carry_forward(y: &[f64], first: f64) -> Vec<f64> {
    let mut last = first;
    y.iter()
        .map(|&v| {
            if v.is_finite() {
                last = v;
            }
            last
        })
        .collect()
}

struct Fitted {
    model: TrainedLstm,
    recent: Vec<f64>,
}

impl FittedModel for Fitted {
    fn observe(&mut self, y: f64) {
        self.recent.push(y);
        let keep = self.model.config.past;
        if self.recent.len() > 2 * keep {
            self.recent.drain(..self.recent.len() - keep);
        }
    }
    fn predict(&self, out: &mut ForecastBuf) {
        let n = self.recent.len();
        let (p, q) = self.model.predict_windows(&self.recent, n..n + 1);
        for h in 0..out.point.len() {
            out.point[h] = p[0];
            out.quantiles_at(h).copy_from_slice(&q);
        }
    }
    fn predict_block(
        &mut self,
        y: &[f64],
        steps: Range<usize>,
        horizon: usize,
        point: &mut Vec<f64>,
        quantiles: &mut Vec<f64>,
    ) -> bool {
        let (p, q) = self.model.predict_windows(y, steps);
        let nq = QUANTILES.len();
        for (k, v) in p.iter().enumerate() {
            for _ in 0..horizon {
                point.push(*v);
                quantiles.extend_from_slice(&q[k * nq..(k + 1) * nq]);
            }
        }
        true
    }
}

impl Forecaster for LstmForecaster {
    fn name(&self) -> &str {
        &self.name
    }
    fn fit(&self, h: History<'_>) -> Result<Box<dyn FittedModel>> {
        let reuse = self.saved.as_ref().filter(|s| {
            h.start_step == 0
                && h.y.len() == s.training_steps
                && series_sha256(h.y) == s.training_data_sha256
        });
        let model = match reuse {
            Some(s) => TrainedLstm::load(&s.weights, &self.config, s.report.clone()),
            None => TrainedLstm::train(h.y, &self.config),
        }
        .map_err(|m| Error::forecast(&self.name, m))?;
        let keep = self.config.past.min(h.y.len());
        Ok(Box::new(Fitted {
            model,
            recent: h.y[h.y.len() - keep..].to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                30.0 + 10.0 * (std::f64::consts::TAU * i as f64 / 240.0).sin()
                    + ((i * 7919) % 5) as f64
            })
            .collect()
    }

    #[test]
    fn training_lowers_validation_loss_and_is_reproducible() {
        let y = series(4000);
        let cfg = LstmConfig {
            epochs: 4,
            patience: 4,
            ..LstmConfig::default()
        };
        let a = TrainedLstm::train(&y, &cfg).unwrap();
        let v = &a.report.validation_loss;
        assert!(v.last().unwrap() < &v[0], "{v:?}");
        let b = TrainedLstm::train(&y, &cfg).unwrap();
        assert_eq!(
            a.report.validation_loss, b.report.validation_loss,
            "same seed, same training"
        );
        let (pa, _) = a.predict_windows(&y, 3000..3010);
        let (pb, _) = b.predict_windows(&y, 3000..3010);
        assert_eq!(pa, pb);
        // The forecast follows the daily shape.
        let truth: Vec<f64> = (3000..3010)
            .map(|t| y[t..t + 15].iter().sum::<f64>() / 15.0)
            .collect();
        let mae = pa
            .iter()
            .zip(&truth)
            .map(|(p, t)| (p - t).abs())
            .sum::<f64>()
            / 10.0;
        assert!(mae < 4.0, "{mae}");
    }

    #[test]
    fn gradient_shards_give_the_same_weights_whatever_the_thread_count() {
        let y = series(3000);
        let cfg = LstmConfig {
            epochs: 2,
            patience: 4,
            gradient_shards: 2,
            ..LstmConfig::default()
        };
        // Trained inside rayon pools of 1 and 2 threads (as sweeps run it).
        let train = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| TrainedLstm::train(&y, &cfg).unwrap())
        };
        let (a, b) = (train(1), train(2));
        assert_eq!(a.report.train_loss, b.report.train_loss);
        let (pa, qa) = a.predict_windows(&y, 2500..2510);
        let (pb, qb) = b.predict_windows(&y, 2500..2510);
        assert_eq!((pa.clone(), qa), (pb, qb));
        // One shard is the plain batch: close to two shards (the same sums, in another
        // order), not equal.
        let one = TrainedLstm::train(
            &y,
            &LstmConfig {
                gradient_shards: 1,
                ..cfg.clone()
            },
        )
        .unwrap();
        let (p1, _) = one.predict_windows(&y, 2500..2510);
        let gap = p1
            .iter()
            .zip(&pa)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(gap < 2.0, "{gap}");
        let l1 = one.report.train_loss[0];
        let l2 = a.report.train_loss[0];
        assert!((l1 - l2).abs() / l1 < 0.05, "{l1} vs {l2}");
    }

    #[test]
    fn save_then_load_gives_identical_forecasts() {
        let y = series(1500);
        let cfg = LstmConfig {
            epochs: 1,
            ..LstmConfig::default()
        };
        assert_ne!(series_sha256(&y), series_sha256(&y[1..]));
        let a = TrainedLstm::train(&y, &cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        a.save(&path).unwrap();
        let b = TrainedLstm::load(&path, &cfg, a.report.clone()).unwrap();
        assert_eq!(
            a.predict_windows(&y, 100..200),
            b.predict_windows(&y, 100..200)
        );
    }
}
