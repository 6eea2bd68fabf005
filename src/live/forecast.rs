//! The live forecaster: a scenario forecaster refitted online on the demand Prophet has
//! recorded, or a Prophet model saved by `sim train` that predicts on a model clock.

use anyhow::{bail, Context, Result};

use super::config::LiveConfig;
use crate::forecast::baselines::Naive;
use crate::forecast::card::ModelCard;
use crate::forecast::prophet::ProphetModel;
use crate::forecast::rolling::Rolling;
use crate::forecast::{ForecastBuf, ForecastTable, Forecaster, History, QUANTILES};
use crate::scenario::forecasters::{ForecasterKind, ForecasterSpec};
use crate::workload::Workload;
use std::sync::Arc;

/// A built scenario forecaster and its rolling state.
pub struct Rolled {
    forecaster: Arc<dyn Forecaster>,
    rolling: Rolling,
}

impl std::fmt::Debug for Rolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rolled({})", self.forecaster.name())
    }
}

/// How the decision ticks map onto the time axis a saved model was trained on.
#[derive(Debug, Clone, Copy)]
pub struct ModelClock {
    /// Model time (local wall-clock ms) of the first decision.
    pub start_ms: i64,
    /// Model steps per decision (the live interval is `model step / speedup`).
    pub step_ms: u64,
}

/// What produces each decision's forecast.
#[derive(Debug)]
pub enum LiveForecaster {
    /// A scenario forecaster rolled over the recorded history by the sweeps' own rule
    /// ([`Rolling`]: refit on the spec's cadence, absorb each recorded step between
    /// refits); naive while it cannot fit yet (too short a history).
    Online {
        name: String,
        spec: Box<ForecasterSpec>,
        fallback: Naive,
        rolled: Option<Box<Rolled>>,
    },
    /// A Prophet model from `models/` (`model_file`), evaluated at model-clock timestamps.
    SavedProphet {
        name: String,
        model: Box<ProphetModel>,
        clock: ModelClock,
    },
    /// LSTM weights saved by `sim train` (`model_file`: its card), run on the last `past`
    /// recorded steps (persistence until that many are recorded).
    #[cfg(feature = "lstm")]
    SavedLstm {
        name: String,
        model: Box<crate::forecast::lstm::TrainedLstm>,
    },
}

#[cfg(feature = "lstm")]
impl std::fmt::Debug for crate::forecast::lstm::TrainedLstm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrainedLstm({:?})", self.config)
    }
}

/// Reads the card written by `sim train` at `path` (`name`: the forecaster, for errors).
fn read_card(path: &std::path::Path, name: &str) -> Result<ModelCard> {
    ModelCard::read(path).map_err(|e| anyhow::anyhow!("forecaster '{name}': {e}"))
}

/// Loads the LSTM a `sim train` card describes.
#[cfg(feature = "lstm")]
fn load_lstm(path: &std::path::Path, name: &str) -> Result<crate::forecast::lstm::TrainedLstm> {
    use crate::forecast::lstm::TrainedLstm;
    let ModelCard::Lstm(card) = read_card(path, name)? else {
        bail!("{}: not an LSTM card saved by `sim train`", path.display());
    };
    let weights = path.with_file_name(card.weights.unwrap_or_default());
    TrainedLstm::load(&weights, &card.config, card.training)
        .map_err(|e| anyhow::anyhow!("forecaster '{name}': {e}"))
}

impl LiveForecaster {
    pub fn from_config(cfg: &LiveConfig) -> Result<LiveForecaster> {
        let spec = cfg
            .forecaster
            .clone()
            .unwrap_or_else(|| ForecasterSpec::new(ForecasterKind::Naive));
        let name = spec.display_name();
        if let (ForecasterKind::Prophet, Some(file)) = (spec.kind(), spec.model_file()) {
            let path = cfg.resolve(file);
            let ModelCard::Prophet(card) = read_card(&path, &name)? else {
                bail!(
                    "{}: not a Prophet model saved by `sim train`",
                    path.display()
                );
            };
            let (model, step_ms) = (card.model, card.step_ms);
            if !model.regressors.is_empty() {
                bail!("{}: the model uses regressors, which live mode cannot supply; train one without", path.display());
            }
            let start_ms = match &cfg.controller.model_start {
                Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                    .with_context(|| format!("controller.model_start '{t}' is not an RFC 3339 time (2025-01-08T00:00:00Z)"))?
                    .naive_local()
                    .and_utc()
                    .timestamp_millis(),
                None => chrono::Local::now().naive_local().and_utc().timestamp_millis(),
            };
            return Ok(LiveForecaster::SavedProphet {
                name,
                model: Box::new(model),
                clock: ModelClock { start_ms, step_ms },
            });
        }
        if let (ForecasterKind::Lstm, Some(file)) = (spec.kind(), spec.model_file()) {
            #[cfg(feature = "lstm")]
            return Ok(LiveForecaster::SavedLstm {
                model: Box::new(load_lstm(&cfg.resolve(file), &name)?),
                name,
            });
            #[cfg(not(feature = "lstm"))]
            bail!(
                "forecaster '{name}' ({}): this build has no LSTM: build with `--features lstm` (scripts/run.sh does)",
                file.display()
            );
        }
        Ok(LiveForecaster::Online {
            fallback: Naive { name: name.clone() },
            name,
            spec: Box::new(spec),
            rolled: None,
        })
    }

    pub fn name(&self) -> &str {
        match self {
            LiveForecaster::Online { name, .. } | LiveForecaster::SavedProphet { name, .. } => name,
            #[cfg(feature = "lstm")]
            LiveForecaster::SavedLstm { name, .. } => name,
        }
    }

    /// A one-row forecast table made at decision `tick` (= `history.len()` steps recorded
    /// since the start of the history) for `horizon` steps.
    pub fn forecast(
        &mut self,
        history: &[f64],
        first_tick: usize,
        tick: usize,
        horizon: usize,
        step_ms: u64,
    ) -> Result<ForecastTable> {
        let horizon = horizon.max(1);
        let mut buf = ForecastBuf::default();
        buf.reset(horizon);
        match self {
            LiveForecaster::Online {
                name,
                spec,
                fallback,
                rolled,
            } => {
                if history.is_empty() {
                    bail!("no demand recorded yet");
                }
                match roll(spec, rolled, history, first_tick, horizon, step_ms) {
                    Ok((point, quantiles)) => {
                        buf.point.copy_from_slice(point);
                        buf.quantiles.copy_from_slice(quantiles);
                    }
                    Err(e) => {
                        tracing::info!(
                            "forecaster '{name}' cannot fit yet ({e}); naive forecast this time"
                        );
                        let h = History {
                            y: history,
                            start_step: 0,
                            step_ms,
                        };
                        match fallback.fit(h) {
                            Ok(m) => m.predict(&mut buf),
                            // One step recorded: persistence, without an interval.
                            Err(_) => {
                                let last = history[history.len() - 1].max(0.0);
                                buf.point.fill(last);
                                buf.quantiles.fill(last);
                            }
                        }
                    }
                }
            }
            #[cfg(feature = "lstm")]
            LiveForecaster::SavedLstm { model, .. } => {
                let n = history.len();
                if n < model.config.past {
                    // Not enough recorded steps for one window yet: persistence.
                    let last = history.last().copied().unwrap_or(0.0).max(0.0);
                    buf.point.fill(last);
                    buf.quantiles.fill(last);
                } else {
                    // The network predicts the mean of the next `ahead` steps: every step
                    // of the horizon gets it, as in sweeps.
                    let (point, quantiles) = model.predict_windows(history, n..n + 1);
                    let q = QUANTILES.len();
                    for k in 0..horizon {
                        buf.point[k] = point[0];
                        buf.quantiles[k * q..(k + 1) * q].copy_from_slice(&quantiles[..q]);
                    }
                }
            }
            LiveForecaster::SavedProphet { model, clock, .. } => {
                let ds: Vec<i64> = (0..horizon)
                    .map(|k| {
                        clock.start_ms + ((tick - first_tick + k) as u64 * clock.step_ms) as i64
                    })
                    .collect();
                let fc = model.predict(&ds, &[]);
                let q = QUANTILES.len();
                for k in 0..horizon {
                    buf.point[k] = fc.yhat[k].max(0.0);
                    let dst = buf.quantiles_at(k);
                    dst.copy_from_slice(&fc.quantiles[k * q..(k + 1) * q]);
                    crate::forecast::tidy_quantiles(dst);
                }
            }
        }
        Ok(ForecastTable {
            forecaster: self.name().to_string(),
            first_step: tick,
            horizon,
            point: buf.point,
            quantiles: buf.quantiles,
        })
    }
}

/// The forecast of a scenario forecaster rolled to the end of `history` (built, on the
/// first call, from the history recorded so far; a failed build is tried again next time).
fn roll<'r>(
    spec: &ForecasterSpec,
    rolled: &'r mut Option<Box<Rolled>>,
    history: &[f64],
    first_tick: usize,
    horizon: usize,
    step_ms: u64,
) -> crate::error::Result<(&'r [f64], &'r [f64])> {
    if rolled
        .as_ref()
        .is_none_or(|r| r.rolling.horizon() != horizon)
    {
        let w = Workload {
            name: "live".into(),
            step_ms,
            start: None,
            demand: history.to_vec(),
            regressors: Vec::new(),
            missing: Vec::new(),
            requests: None,
        };
        let n = history.len();
        let forecaster = spec.build(&w, std::path::Path::new("."), n..n)?;
        let ro = spec.rolling_origin(w.steps_per_day(), None, horizon);
        let rolling = Rolling::new(forecaster.name(), first_tick.min(n), ro, step_ms)?;
        *rolled = Some(Box::new(Rolled {
            forecaster,
            rolling,
        }));
    }
    let r = rolled.as_mut().expect("built above");
    r.rolling
        .forecast(r.forecaster.as_ref(), history, history.len())
}
