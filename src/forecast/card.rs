//! Model cards: what `sim train` writes beside a trained model (one JSON file) and what
//! sweeps and `sim live` read back: one serde type, tagged by `kind`, with the fields
//! each kind's card has.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::prophet::ProphetModel;

/// A model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelCard {
    Prophet(ProphetCard),
    #[cfg(feature = "lstm")]
    Lstm(LstmCard),
    Ridge(RegressionCard),
    RandomForest(RegressionCard),
}

/// A fitted Prophet model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProphetCard {
    pub forecaster: String,
    /// The swept values this model was fitted with.
    pub parameters: BTreeMap<String, f64>,
    pub scenario: String,
    pub training_steps: usize,
    pub step_ms: u64,
    pub first_timestamp: String,
    pub training_data_sha256: String,
    pub scalesim_version: String,
    pub model: ProphetModel,
}

/// LSTM weights (a `.safetensors` file beside the card) and how they were trained.
#[cfg(feature = "lstm")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstmCard {
    pub forecaster: String,
    pub architecture: String,
    pub config: super::lstm::LstmConfig,
    pub quantiles: Vec<f64>,
    pub normalisation: Normalisation,
    pub training: super::lstm::TrainReport,
    pub scenario: String,
    pub training_steps: usize,
    pub step_ms: u64,
    pub training_data_sha256: String,
    /// The weights file's name, in the card's folder.
    pub weights: Option<String>,
    pub scalesim_version: String,
}

/// The scaling the network's inputs and outputs went through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub mean: f64,
    pub std: f64,
}

/// A fitted ridge or random-forest lag regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionCard {
    pub forecaster: String,
    pub features: Features,
    pub scenario: String,
    pub training_steps: usize,
    pub step_ms: u64,
    pub training_data_sha256: String,
    pub scalesim_version: String,
    /// The fitted learner, as smartcore serialises it.
    pub model: serde_json::Value,
}

/// A regression's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub lags: usize,
    pub calendar: Vec<String>,
    pub regressors: Vec<String>,
}

impl ModelCard {
    /// Reads a card; the error names the file and says to train it with `sim train`.
    pub fn read(path: &Path) -> Result<ModelCard, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the model card {} ({e}): train it with `sim train`",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: not a model card written by `sim train` ({e}); retrain it",
                path.display()
            )
        })
    }

    /// The card as `sim train` writes it: pretty JSON for Prophet and the LSTM, one line
    /// for the regressions (whose trees are long).
    pub fn to_json(&self) -> String {
        match self {
            ModelCard::Ridge(_) | ModelCard::RandomForest(_) => {
                serde_json::to_string(self).expect("a card serialises")
            }
            _ => serde_json::to_string_pretty(self).expect("a card serialises"),
        }
    }

    /// The kind's name (`prophet`, `lstm`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            ModelCard::Prophet(_) => "prophet",
            #[cfg(feature = "lstm")]
            ModelCard::Lstm(_) => "lstm",
            ModelCard::Ridge(_) => "ridge",
            ModelCard::RandomForest(_) => "random_forest",
        }
    }
}
