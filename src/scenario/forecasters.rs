//! `[[forecasters]]` entries: validation and construction (reading forecast files).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::forecast::baselines::{MovingAverage, Naive, SeasonalNaive};
use crate::forecast::file::{ExternalForecast, FileForecaster};
use crate::forecast::holt_winters::HoltWinters;
use crate::forecast::Forecaster;
use crate::workload::Workload;

/// Forecaster kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecasterKind {
    Naive,
    SeasonalNaive,
    MovingAverage,
    HoltWinters,
    File,
    Prophet,
    Ridge,
    RandomForest,
    /// Needs the `lstm` build feature (libtorch).
    Lstm,
}

/// One `[[forecasters]]` entry (scalars only, after axis expansion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecasterSpec {
    pub kind: ForecasterKind,
    pub name: Option<String>,
    /// Seasonal period in steps (`seasonal_naive`: detected when absent; `holt_winters`: a day).
    pub period: Option<usize>,
    /// `moving_average` window in steps (60).
    pub window: Option<usize>,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
    /// Steps between refits (a day of steps).
    pub refit_every_steps: Option<usize>,
    /// Fit on at most this many recent steps (all the past).
    pub fit_window_steps: Option<usize>,
    /// `file`: CSV or Parquet with a timestamp and a point forecast.
    pub path: Option<PathBuf>,
    pub timestamp_column: Option<String>,
    /// `file`: point forecast column (`yhat`).
    pub value_column: Option<String>,
    /// `file`: interval columns (`yhat_lower`, `yhat_upper` when present).
    pub lower_column: Option<String>,
    pub upper_column: Option<String>,
    /// `file`: coverage of [lower, upper] (0.8, Prophet's default).
    pub interval_width: Option<f64>,
    /// `prophet`: model settings (Prophet's names and defaults), e.g.
    /// `prophet = { changepoint_prior_scale = 0.05, daily_seasonality = "on" }`.
    pub prophet: Option<crate::forecast::prophet::ProphetConfig>,
    /// `prophet`, `ridge`, `random_forest`: extra regressors; each must be declared known
    /// in advance in `[trace] regressors`.
    #[serde(default)]
    pub regressors: Vec<String>,
    /// `ridge` / `random_forest`: lags 1..=lags as features (a day of steps, at most 60).
    pub lags: Option<usize>,
    /// `ridge` / `random_forest`: fit on at most this many recent rows (20,000 / 5,000).
    pub max_rows: Option<usize>,
    /// `ridge`: L2 penalty (1.0).
    pub penalty: Option<f64>,
    /// `random_forest`: trees (50), depth (12), minimum leaf size (5), seed (0).
    pub trees: Option<usize>,
    pub max_depth: Option<u16>,
    pub min_samples_leaf: Option<usize>,
    pub seed: Option<u64>,
    /// `lstm`: network and training settings (past, ahead, hidden, head, epochs, batch,
    /// learning_rate, patience, seed), the prototype's by default.
    pub lstm: Option<toml::Table>,
    /// `lstm`: a card written by `sim train` whose weights must be used (an error when it is
    /// missing or was trained on other data or settings). Without it, the sweep uses
    /// `models/<scenario>/<forecaster>.json` (next to `scenarios/`) when its card matches,
    /// and trains otherwise.
    pub model_file: Option<PathBuf>,
}

impl ForecasterSpec {
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| crate::policy::spec::serde_name(&self.kind))
    }

    /// The `lstm` table as settings (the prototype's without one).
    #[cfg(feature = "lstm")]
    pub fn lstm_config(&self) -> std::result::Result<crate::forecast::lstm::LstmConfig, String> {
        match &self.lstm {
            Some(t) => toml::Value::Table(t.clone())
                .try_into()
                .map_err(|e: toml::de::Error| format!("lstm settings: {}", e.message())),
            None => Ok(Default::default()),
        }
    }

    /// Checks keys against the kind and values against their ranges.
    pub fn validate(&self) -> std::result::Result<(), String> {
        use ForecasterKind::*;
        let k = self.kind;
        let mut stray = Vec::new();
        let mut check = |set: bool, ok: bool, key: &'static str| {
            if set && !ok {
                stray.push(key)
            }
        };
        check(
            self.period.is_some(),
            matches!(k, SeasonalNaive | HoltWinters),
            "period",
        );
        check(self.window.is_some(), k == MovingAverage, "window");
        for (set, key) in [
            (self.alpha.is_some(), "alpha"),
            (self.beta.is_some(), "beta"),
            (self.gamma.is_some(), "gamma"),
        ] {
            check(set, k == HoltWinters, key);
        }
        for (set, key) in [
            (self.path.is_some(), "path"),
            (self.timestamp_column.is_some(), "timestamp_column"),
            (self.value_column.is_some(), "value_column"),
            (self.lower_column.is_some(), "lower_column"),
            (self.upper_column.is_some(), "upper_column"),
            (self.interval_width.is_some(), "interval_width"),
        ] {
            check(set, k == File, key);
        }
        check(self.prophet.is_some(), k == Prophet, "prophet");
        check(
            !self.regressors.is_empty(),
            matches!(k, Prophet | Ridge | RandomForest),
            "regressors",
        );
        check(
            self.lags.is_some(),
            matches!(k, Ridge | RandomForest),
            "lags",
        );
        check(
            self.max_rows.is_some(),
            matches!(k, Ridge | RandomForest),
            "max_rows",
        );
        check(self.penalty.is_some(), k == Ridge, "penalty");
        check(self.lstm.is_some(), k == Lstm, "lstm");
        check(self.model_file.is_some(), k == Lstm, "model_file");
        for (set, key) in [
            (self.trees.is_some(), "trees"),
            (self.max_depth.is_some(), "max_depth"),
            (self.min_samples_leaf.is_some(), "min_samples_leaf"),
            (self.seed.is_some(), "seed"),
        ] {
            check(set, k == RandomForest, key);
        }
        if !stray.is_empty() {
            return Err(format!(
                "key(s) {} do not apply to forecaster kind '{}'",
                stray.join(", "),
                self.display_name()
            ));
        }
        if k == File && self.path.is_none() {
            return Err(format!(
                "forecaster '{}' of kind file needs `path`",
                self.display_name()
            ));
        }
        let hw = [self.alpha, self.beta, self.gamma];
        if hw.iter().any(Option::is_some) && !hw.iter().all(Option::is_some) {
            return Err(
                "holt_winters needs all of alpha, beta, gamma, or none (to fit them)".into(),
            );
        }
        if let Some(w) = self.interval_width {
            if !(w > 0.0 && w < 1.0) {
                return Err(format!("interval_width must be in (0, 1), got {w}"));
            }
        }
        if let Some(p) = &self.prophet {
            p.validate()?;
            if !p.regressors.is_empty() {
                return Err("declare Prophet regressors with the forecaster's `regressors` list, not inside `prophet`".into());
            }
        }
        if self.refit_every_steps == Some(0) {
            return Err("refit_every_steps must be at least 1".into());
        }
        Ok(())
    }

    /// How this forecaster rolls over a test window of `test` steps (`None`: open-ended,
    /// as live): refits once a day of steps unless `refit_every_steps` says otherwise;
    /// the LSTM trains once per test window (as the prototype did).
    pub fn rolling_origin(
        &self,
        steps_per_day: usize,
        test: Option<usize>,
        horizon: usize,
    ) -> crate::forecast::rolling::RollingOrigin {
        let default = match (self.kind, test) {
            (ForecasterKind::Lstm, Some(t)) => t,
            (ForecasterKind::Lstm, None) => usize::MAX,
            _ => steps_per_day,
        };
        crate::forecast::rolling::RollingOrigin {
            refit_every: self.refit_every_steps.unwrap_or(default),
            fit_window: self.fit_window_steps,
            horizon,
        }
    }

    /// Builds the forecaster; `file` forecasts are read and aligned to `w` here.
    /// `window` is the test window: a forecast file must cover all of it.
    pub fn build(
        &self,
        w: &Workload,
        base: &Path,
        window: std::ops::Range<usize>,
    ) -> Result<Arc<dyn Forecaster>> {
        let name = self.display_name();
        let day = w.steps_per_day();
        Ok(match self.kind {
            ForecasterKind::Naive => Arc::new(Naive { name }),
            ForecasterKind::SeasonalNaive => Arc::new(SeasonalNaive {
                name,
                period: self.period,
            }),
            ForecasterKind::MovingAverage => Arc::new(MovingAverage {
                name,
                window: self.window.unwrap_or(60),
            }),
            ForecasterKind::HoltWinters => Arc::new(HoltWinters {
                name,
                period: self.period.unwrap_or(day),
                params: self
                    .alpha
                    .map(|a| [a, self.beta.unwrap(), self.gamma.unwrap()]),
            }),
            ForecasterKind::Ridge | ForecasterKind::RandomForest => {
                Arc::new(self.lag_regression(w, name)?)
            }
            ForecasterKind::Lstm => lstm_forecaster(self, &name, w, base, window.start)?,
            ForecasterKind::Prophet => Arc::new(self.prophet_forecaster(w, name)?),
            ForecasterKind::File => {
                let path = base.join(self.path.as_ref().expect("validated"));
                let data = crate::trace::forecast_file::load(
                    &path,
                    w,
                    self.timestamp_column.as_deref().unwrap_or("timestamp"),
                    self.value_column.as_deref().unwrap_or("yhat"),
                    self.lower_column.as_deref(),
                    self.upper_column.as_deref(),
                    self.interval_width.unwrap_or(0.8),
                )?;
                check_coverage(&data, window, w, &name)?;
                Arc::new(FileForecaster {
                    name,
                    data: Arc::new(data),
                })
            }
        })
    }

    /// The Prophet forecaster this spec describes (settings plus declared regressors).
    pub fn prophet_forecaster(
        &self,
        w: &Workload,
        name: String,
    ) -> Result<crate::forecast::prophet::ProphetForecaster> {
        let mut config = self.prophet.clone().unwrap_or_default();
        let columns = self.regressor_columns(w, &name)?;
        for r in &self.regressors {
            config
                .regressors
                .push(crate::forecast::prophet::config::RegressorConfig {
                    name: r.clone(),
                    prior_scale: None,
                    standardize: None,
                    mode: None,
                });
        }
        Ok(crate::forecast::prophet::ProphetForecaster {
            name,
            config,
            origin_ms: local_origin_ms(w),
            regressors: Arc::new(columns),
            block: self.refit_every_steps.unwrap_or(w.steps_per_day()),
        })
    }

    /// The ridge or random-forest forecaster this spec describes.
    pub fn lag_regression(
        &self,
        w: &Workload,
        name: String,
    ) -> Result<crate::forecast::regression::LagRegression> {
        let day = w.steps_per_day();
        Ok(crate::forecast::regression::LagRegression {
            learner: if self.kind == ForecasterKind::Ridge {
                crate::forecast::regression::Learner::Ridge {
                    penalty: self.penalty.unwrap_or(1.0),
                }
            } else {
                crate::forecast::regression::Learner::RandomForest {
                    trees: self.trees.unwrap_or(50),
                    max_depth: self.max_depth.unwrap_or(12),
                    min_samples_leaf: self.min_samples_leaf.unwrap_or(5),
                    seed: self.seed.unwrap_or(0),
                }
            },
            lags: self.lags.unwrap_or(day.min(60)),
            max_rows: self
                .max_rows
                .unwrap_or(if self.kind == ForecasterKind::Ridge {
                    20_000
                } else {
                    5_000
                }),
            origin_ms: local_origin_ms(w),
            regressors: Arc::new(self.regressor_columns(w, &name)?),
            name,
        })
    }

    /// The declared regressors' columns over the whole trace; a regressor the trace does
    /// not declare known in advance is refused.
    fn regressor_columns(&self, w: &Workload, name: &str) -> Result<Vec<Vec<f64>>> {
        self.regressors
            .iter()
            .map(|r| {
                w.regressor(r).map(<[f64]>::to_vec).ok_or_else(|| {
                    Error::forecast(name, format!("regressor '{r}' is not known in advance: list it in [trace] regressors (a calendar or planned events), or drop it — a forecaster may not use values it could not know"))
                })
            })
            .collect()
    }

    /// Files this forecaster reads (for the manifest).
    pub fn input_path(&self, base: &Path) -> Option<PathBuf> {
        self.path.as_ref().map(|p| base.join(p))
    }
}

#[cfg(feature = "lstm")]
fn lstm_forecaster(
    spec: &ForecasterSpec,
    name: &str,
    w: &Workload,
    base: &Path,
    train: usize,
) -> Result<Arc<dyn Forecaster>> {
    use crate::forecast::card::ModelCard;
    use crate::forecast::lstm::{series_sha256, LstmForecaster, SavedLstm};
    let config = spec.lstm_config().map_err(|m| Error::forecast(name, m))?;
    let explicit = spec.model_file.as_ref().map(|p| base.join(p));
    let card_path = explicit.clone().unwrap_or_else(|| {
        base.join("..")
            .join("models")
            .join(&w.name)
            .join(format!("{name}.json"))
    });
    let fail = |m: String| {
        Error::forecast(
            name,
            format!("{}: {m}; retrain it with `sim train`", card_path.display()),
        )
    };
    let saved = match std::fs::read_to_string(&card_path) {
        Err(_) if explicit.is_none() => None,
        Err(e) => return Err(fail(format!("cannot read the model card ({e})"))),
        Ok(text) => {
            let card: ModelCard =
                serde_json::from_str(&text).map_err(|e| fail(format!("not a model card ({e})")))?;
            let hash = series_sha256(&w.demand[..train]);
            let reuse = match card {
                ModelCard::Lstm(c) if c.config != config => {
                    Err("it was trained with other lstm settings")
                }
                ModelCard::Lstm(c)
                    if c.training_steps != train || c.training_data_sha256 != hash =>
                {
                    Err("it was trained on other data")
                }
                ModelCard::Lstm(c) => Ok(c),
                _ => Err("it is not an LSTM card"),
            };
            match (reuse, &explicit) {
                (Err(m), Some(_)) => return Err(fail(m.into())),
                (Err(m), None) => {
                    tracing::info!("{}: not reused ({m}); training", card_path.display());
                    None
                }
                (Ok(card), _) => {
                    let weights = card_path.with_file_name(card.weights.unwrap_or_default());
                    tracing::info!("{name}: reusing the weights saved in {}", weights.display());
                    Some(SavedLstm {
                        weights,
                        report: card.training,
                        training_steps: train,
                        training_data_sha256: hash,
                    })
                }
            }
        }
    };
    Ok(Arc::new(LstmForecaster {
        name: name.to_string(),
        config,
        saved,
    }))
}

#[cfg(not(feature = "lstm"))]
fn lstm_forecaster(
    _spec: &ForecasterSpec,
    name: &str,
    _w: &Workload,
    _base: &Path,
    _train: usize,
) -> Result<Arc<dyn Forecaster>> {
    Err(Error::forecast(name, "this build has no LSTM: build with `--features lstm` (scripts/run.sh does, after installing PyTorch)"))
}

/// Local wall-clock time of the trace's step 0 (ms), for calendar features.
pub fn local_origin_ms(w: &Workload) -> i64 {
    w.start
        .map_or(0, |s| s.naive_local().and_utc().timestamp_millis())
}

/// Checks that an external forecast covers the test window.
pub fn check_coverage(
    f: &ExternalForecast,
    range: std::ops::Range<usize>,
    w: &Workload,
    name: &str,
) -> Result<()> {
    if let Some(i) = f.first_missing(range) {
        return Err(Error::forecast(
            name,
            format!(
                "the forecast file has no value for {} (step {i}) inside the test window",
                w.timestamp_label(i)
            ),
        ));
    }
    Ok(())
}
