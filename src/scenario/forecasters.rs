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

mod params;
pub use params::*;

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
    /// Perfect foresight (a bound; refused live).
    Oracle,
}

/// The keys every forecaster takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Common {
    name: Option<String>,
    refit_every_steps: Option<usize>,
    fit_window_steps: Option<usize>,
}

/// One `[[forecasters]]` entry (scalars only, after axis expansion): the keys every kind
/// takes and the kind's own ([`ForecasterParams`]). A new forecaster is one struct, one
/// variant, and its arms in [`ForecasterParams`]' matches and [`ForecasterSpec::build`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecasterSpec {
    pub name: Option<String>,
    /// Steps between refits (a day of steps; the LSTM: once per test window).
    pub refit_every_steps: Option<usize>,
    /// Fit on at most this many recent steps (all the past).
    pub fit_window_steps: Option<usize>,
    #[serde(flatten)]
    pub params: ForecasterParams,
}

impl<'de> Deserialize<'de> for ForecasterSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let t = toml::Table::deserialize(d)?;
        let kind = crate::entry::EntryKind {
            what: "forecaster",
            keys: ForecasterParams::keys,
        };
        let (common, params) =
            crate::entry::read::<Common, ForecasterKind, ForecasterParams>(t, kind, |c| {
                c.name.clone()
            })
            .map_err(serde::de::Error::custom)?;
        Ok(ForecasterSpec {
            name: common.name,
            refit_every_steps: common.refit_every_steps,
            fit_window_steps: common.fit_window_steps,
            params,
        })
    }
}

impl ForecasterSpec {
    /// A spec of `kind` with every setting at its default.
    pub fn new(kind: ForecasterKind) -> ForecasterSpec {
        ForecasterSpec {
            name: None,
            refit_every_steps: None,
            fit_window_steps: None,
            params: ForecasterParams::new(kind),
        }
    }

    pub fn kind(&self) -> ForecasterKind {
        self.params.kind()
    }

    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| crate::entry::serde_name(&self.kind()))
    }

    /// The extra regressors (Prophet and the regressions; none for the others).
    pub fn regressors(&self) -> &[String] {
        match &self.params {
            ForecasterParams::Prophet(p) => &p.regressors,
            ForecasterParams::Ridge(p) => &p.regressors,
            ForecasterParams::RandomForest(p) => &p.regressors,
            _ => &[],
        }
    }

    /// A model saved by `sim train` this entry names (Prophet live, the LSTM).
    pub fn model_file(&self) -> Option<&Path> {
        match &self.params {
            ForecasterParams::Prophet(p) => p.model_file.as_deref(),
            ForecasterParams::Lstm(p) => p.model_file.as_deref(),
            _ => None,
        }
    }

    /// The `lstm` table as settings (the prototype's without one).
    #[cfg(feature = "lstm")]
    pub fn lstm_config(&self) -> std::result::Result<crate::forecast::lstm::LstmConfig, String> {
        match &self.params {
            ForecasterParams::Lstm(LstmParams { lstm: Some(t), .. }) => {
                toml::Value::Table(t.clone())
                    .try_into()
                    .map_err(|e: toml::de::Error| format!("lstm settings: {}", e.message()))
            }
            _ => Ok(Default::default()),
        }
    }

    /// Checks values against their ranges (keys were checked against the kind when read).
    /// A Prophet `model_file` is refused here: sweeps fit Prophet; `sim live` reads it.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let label = self.display_name();
        if self.kind() == ForecasterKind::Oracle
            && !label.starts_with(crate::sweep::attribution::ORACLE)
        {
            return Err(format!(
                "forecaster '{label}' of kind oracle must have a name starting with 'oracle', so that its rows read as the perfect-foresight bound they are"
            ));
        }
        match &self.params {
            ForecasterParams::File(f) => {
                if f.path.is_none() {
                    return Err(format!(
                        "forecaster '{}' of kind file needs `path`",
                        self.display_name()
                    ));
                }
                if let Some(w) = f.interval_width {
                    if !(w > 0.0 && w < 1.0) {
                        return Err(format!("interval_width must be in (0, 1), got {w}"));
                    }
                }
            }
            ForecasterParams::HoltWinters(h) => {
                let hw = [h.alpha, h.beta, h.gamma];
                if hw.iter().any(Option::is_some) && !hw.iter().all(Option::is_some) {
                    return Err(
                        "holt_winters needs all of alpha, beta, gamma, or none (to fit them)"
                            .into(),
                    );
                }
            }
            ForecasterParams::Prophet(p) => {
                if p.model_file.is_some() {
                    return Err(format!(
                        "key(s) model_file do not apply to forecaster kind '{}' in a sweep, which fits Prophet on the training window (`sim live` reads a saved model)",
                        self.display_name()
                    ));
                }
                if let Some(c) = &p.prophet {
                    c.validate()?;
                    if !c.regressors.is_empty() {
                        return Err("declare Prophet regressors with the forecaster's `regressors` list, not inside `prophet`".into());
                    }
                }
            }
            #[cfg(feature = "lstm")]
            ForecasterParams::Lstm(_) => self.lstm_config()?.validate()?,
            _ => {}
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
        let default = match (self.kind(), test) {
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
        Ok(match &self.params {
            ForecasterParams::Naive(_) => Arc::new(Naive { name }),
            ForecasterParams::SeasonalNaive(p) => Arc::new(SeasonalNaive {
                name,
                period: p.period,
            }),
            ForecasterParams::MovingAverage(p) => Arc::new(MovingAverage {
                name,
                window: p.window.unwrap_or(60),
            }),
            ForecasterParams::HoltWinters(p) => Arc::new(HoltWinters {
                name,
                period: p.period.unwrap_or(day),
                params: p.alpha.map(|a| [a, p.beta.unwrap(), p.gamma.unwrap()]),
            }),
            ForecasterParams::Ridge(_) | ForecasterParams::RandomForest(_) => {
                Arc::new(self.lag_regression(w, name)?)
            }
            ForecasterParams::Lstm(_) => lstm_forecaster(self, &name, w, base, window.start)?,
            ForecasterParams::Prophet(_) => Arc::new(self.prophet_forecaster(w, name)?),
            // The trace's future as a forecast file, with no spread.
            ForecasterParams::Oracle(_) => Arc::new(FileForecaster {
                name,
                data: Arc::new(crate::forecast::file::ExternalForecast {
                    yhat: w.demand.clone(),
                    quantiles: Some(
                        w.demand
                            .iter()
                            .flat_map(|&d| [d; crate::forecast::QUANTILES.len()])
                            .collect(),
                    ),
                }),
            }),
            ForecasterParams::File(f) => {
                let path = base.join(f.path.as_ref().expect("validated"));
                let data = crate::trace::forecast_file::load(
                    &path,
                    w,
                    f.timestamp_column.as_deref().unwrap_or("timestamp"),
                    f.value_column.as_deref().unwrap_or("yhat"),
                    f.lower_column.as_deref(),
                    f.upper_column.as_deref(),
                    f.interval_width.unwrap_or(0.8),
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
        let mut config = match &self.params {
            ForecasterParams::Prophet(p) => p.prophet.clone().unwrap_or_default(),
            _ => Default::default(),
        };
        let columns = self.regressor_columns(w, &name)?;
        for r in self.regressors() {
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
        use crate::forecast::regression::{LagRegression, Learner};
        let day = w.steps_per_day();
        let (learner, lags, max_rows) = match &self.params {
            ForecasterParams::Ridge(p) => (
                Learner::Ridge {
                    penalty: p.penalty.unwrap_or(1.0),
                },
                p.lags,
                p.max_rows.unwrap_or(20_000),
            ),
            ForecasterParams::RandomForest(p) => (
                Learner::RandomForest {
                    trees: p.trees.unwrap_or(50),
                    max_depth: p.max_depth.unwrap_or(12),
                    min_samples_leaf: p.min_samples_leaf.unwrap_or(5),
                    seed: p.seed.unwrap_or(0),
                },
                p.lags,
                p.max_rows.unwrap_or(5_000),
            ),
            _ => {
                return Err(Error::forecast(
                    &name,
                    "not a ridge or random_forest forecaster",
                ))
            }
        };
        Ok(LagRegression {
            learner,
            lags: lags.unwrap_or(day.min(60)),
            max_rows,
            origin_ms: local_origin_ms(w),
            regressors: Arc::new(self.regressor_columns(w, &name)?),
            name,
        })
    }

    /// The declared regressors' columns over the whole trace; a regressor the trace does
    /// not declare known in advance is refused.
    fn regressor_columns(&self, w: &Workload, name: &str) -> Result<Vec<Vec<f64>>> {
        self.regressors()
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
        match &self.params {
            ForecasterParams::File(f) => f.path.as_ref().map(|p| base.join(p)),
            _ => None,
        }
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
    let explicit = spec.model_file().map(|p| base.join(p));
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
