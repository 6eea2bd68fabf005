//! The settings of each forecaster kind: one struct per kind with its defaults, and
//! [`ForecasterParams`], the kind-tagged enum of them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ForecasterKind;

/// A kind and its settings: one struct per kind, with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ForecasterParams {
    Naive(NaiveParams),
    SeasonalNaive(SeasonalNaiveParams),
    MovingAverage(MovingAverageParams),
    HoltWinters(HoltWintersParams),
    File(FileParams),
    Prophet(ProphetParams),
    Ridge(RidgeParams),
    RandomForest(RandomForestParams),
    Lstm(LstmParams),
    Oracle(OracleParams),
}

/// `oracle`: perfect foresight — every forecast is the trace's own future, every quantile
/// equal to it. A bound to measure forecasters against, not a forecaster: `sim live`
/// refuses it. Under `[simulation.measurement]` it foresees the recorded series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OracleParams {}

/// `naive`: the last observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NaiveParams {}

/// `seasonal_naive`: the observation a period ago.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SeasonalNaiveParams {
    /// Seasonal period in steps (detected when absent).
    pub period: Option<usize>,
}

/// `moving_average`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MovingAverageParams {
    /// Window in steps (60).
    pub window: Option<usize>,
}

/// `holt_winters`: additive Holt-Winters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HoltWintersParams {
    /// Seasonal period in steps (a day).
    pub period: Option<usize>,
    /// Smoothing parameters: all three, or none (fitted).
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
}

/// `file`: a forecast read from a CSV or Parquet file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileParams {
    /// CSV or Parquet with a timestamp and a point forecast (required).
    pub path: Option<PathBuf>,
    pub timestamp_column: Option<String>,
    /// Point forecast column (`yhat`).
    pub value_column: Option<String>,
    /// Interval columns (`yhat_lower`, `yhat_upper` when present).
    pub lower_column: Option<String>,
    pub upper_column: Option<String>,
    /// Coverage of [lower, upper] (0.8, Prophet's default).
    pub interval_width: Option<f64>,
}

/// `prophet`: native Prophet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProphetParams {
    /// Model settings (Prophet's names and defaults), e.g.
    /// `prophet = { changepoint_prior_scale = 0.05, daily_seasonality = "on" }`.
    pub prophet: Option<crate::forecast::prophet::ProphetConfig>,
    /// Extra regressors; each must be declared known in advance in `[trace] regressors`.
    #[serde(default)]
    pub regressors: Vec<String>,
    /// `sim live` only: a model saved by `sim train` (sweeps fit Prophet themselves).
    pub model_file: Option<PathBuf>,
}

/// `ridge`: a lag regression with an L2 penalty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RidgeParams {
    /// Extra regressors; each must be declared known in advance in `[trace] regressors`.
    #[serde(default)]
    pub regressors: Vec<String>,
    /// Lags 1..=lags as features (a day of steps, at most 60).
    pub lags: Option<usize>,
    /// Fit on at most this many recent rows (20,000).
    pub max_rows: Option<usize>,
    /// L2 penalty (1.0).
    pub penalty: Option<f64>,
}

/// `random_forest`: a lag regression by a random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RandomForestParams {
    /// Extra regressors; each must be declared known in advance in `[trace] regressors`.
    #[serde(default)]
    pub regressors: Vec<String>,
    /// Lags 1..=lags as features (a day of steps, at most 60).
    pub lags: Option<usize>,
    /// Fit on at most this many recent rows (5,000).
    pub max_rows: Option<usize>,
    /// Trees (50), depth (12), minimum leaf size (5), seed (0).
    pub trees: Option<usize>,
    pub max_depth: Option<u16>,
    pub min_samples_leaf: Option<usize>,
    pub seed: Option<u64>,
}

/// `lstm` (the `lstm` build feature, libtorch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LstmParams {
    /// Network and training settings (past, ahead, hidden, head, epochs, batch,
    /// learning_rate, patience, seed), the prototype's by default.
    pub lstm: Option<toml::Table>,
    /// A card written by `sim train` whose weights must be used (an error when it is
    /// missing or was trained on other data or settings). Without it, the sweep uses
    /// `models/<scenario>/<forecaster>.json` (next to `scenarios/`) when its card matches,
    /// and trains otherwise.
    pub model_file: Option<PathBuf>,
}

impl ForecasterParams {
    /// `kind`'s settings, every one at its default.
    pub fn new(kind: ForecasterKind) -> ForecasterParams {
        use ForecasterParams as P;
        match kind {
            ForecasterKind::Naive => P::Naive(NaiveParams::default()),
            ForecasterKind::SeasonalNaive => P::SeasonalNaive(SeasonalNaiveParams::default()),
            ForecasterKind::MovingAverage => P::MovingAverage(MovingAverageParams::default()),
            ForecasterKind::HoltWinters => P::HoltWinters(HoltWintersParams::default()),
            ForecasterKind::File => P::File(FileParams::default()),
            ForecasterKind::Prophet => P::Prophet(ProphetParams::default()),
            ForecasterKind::Ridge => P::Ridge(RidgeParams::default()),
            ForecasterKind::RandomForest => P::RandomForest(RandomForestParams::default()),
            ForecasterKind::Lstm => P::Lstm(LstmParams::default()),
            ForecasterKind::Oracle => P::Oracle(OracleParams::default()),
        }
    }

    pub fn kind(&self) -> ForecasterKind {
        use ForecasterParams as P;
        match self {
            P::Naive(_) => ForecasterKind::Naive,
            P::SeasonalNaive(_) => ForecasterKind::SeasonalNaive,
            P::MovingAverage(_) => ForecasterKind::MovingAverage,
            P::HoltWinters(_) => ForecasterKind::HoltWinters,
            P::File(_) => ForecasterKind::File,
            P::Prophet(_) => ForecasterKind::Prophet,
            P::Ridge(_) => ForecasterKind::Ridge,
            P::RandomForest(_) => ForecasterKind::RandomForest,
            P::Lstm(_) => ForecasterKind::Lstm,
            P::Oracle(_) => ForecasterKind::Oracle,
        }
    }

    /// The keys `kind` takes beside the common ones.
    pub fn keys(kind: ForecasterKind) -> Vec<String> {
        use crate::entry::keys_of;
        match kind {
            ForecasterKind::Naive => keys_of::<NaiveParams>(),
            ForecasterKind::SeasonalNaive => keys_of::<SeasonalNaiveParams>(),
            ForecasterKind::MovingAverage => keys_of::<MovingAverageParams>(),
            ForecasterKind::HoltWinters => keys_of::<HoltWintersParams>(),
            ForecasterKind::File => keys_of::<FileParams>(),
            ForecasterKind::Prophet => keys_of::<ProphetParams>(),
            ForecasterKind::Ridge => keys_of::<RidgeParams>(),
            ForecasterKind::RandomForest => keys_of::<RandomForestParams>(),
            ForecasterKind::Lstm => keys_of::<LstmParams>(),
            ForecasterKind::Oracle => keys_of::<OracleParams>(),
        }
    }
}
