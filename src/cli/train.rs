//! `sim train`: fit the trainable forecasters of a scenario on its training window and
//! save them under models/<scenario>/ (Prophet: the fitted parameters as JSON with a card).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::forecast::card::{Features, ModelCard, ProphetCard, RegressionCard};
use crate::forecast::prophet::fit;
use crate::scenario::forecasters::ForecasterKind;
use crate::sweep::manifest::series_sha256;
use crate::trace::write::atomic_write;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Folder for the models (one sub-folder per scenario).
    #[arg(long, default_value = "models")]
    pub out: PathBuf,
}

pub fn run(a: TrainArgs) -> Result<()> {
    for path in &a.scenarios {
        let sc = crate::scenario::load(path)
            .with_context(|| format!("cannot use scenario {}", path.display()))?;
        let p = crate::sweep::prepare(&sc)?;
        let w = &p.workload;
        let train = &w.demand[..p.train];
        let data_hash = series_sha256(train);
        let mut saved = 0;
        for (assign, spec) in &sc.forecasters {
            let suffix: String = assign
                .iter()
                .map(|(k, v)| format!("_{}-{v}", k.rsplit('.').next().unwrap_or(k)))
                .collect();
            let stem = a
                .out
                .join(&sc.name)
                .join(format!("{}{suffix}", spec.display_name()));
            if spec.kind() == ForecasterKind::Lstm {
                save_lstm(spec, train, &stem, &data_hash, &sc.name, w.step_ms)?;
                saved += 1;
                continue;
            }
            if matches!(
                spec.kind(),
                ForecasterKind::Ridge | ForecasterKind::RandomForest
            ) {
                save_regression(spec, &p, &sc, &stem, &data_hash)?;
                saved += 1;
                continue;
            }
            if spec.kind() != ForecasterKind::Prophet {
                continue;
            }
            let pf = spec.prophet_forecaster(w, spec.display_name())?;
            let cols: Vec<&[f64]> = pf.regressors.iter().map(|r| &r[..p.train]).collect();
            let ds: Vec<i64> = (0..p.train)
                .map(|s| pf.origin_ms + (s as u64 * w.step_ms) as i64)
                .collect();
            let model = fit(&pf.config, &ds, train, &cols)
                .map_err(|m| anyhow::anyhow!("{}: {m}", spec.display_name()))?;
            let file = with_suffix(&stem, "json");
            let card = ModelCard::Prophet(ProphetCard {
                forecaster: spec.display_name(),
                parameters: assign.iter().cloned().collect(),
                scenario: sc.name.clone(),
                training_steps: p.train,
                step_ms: w.step_ms,
                first_timestamp: w.timestamp_label(0),
                training_data_sha256: data_hash.clone(),
                scalesim_version: VERSION.into(),
                model,
            });
            write_card(&file, &card)?;
            eprintln!("{}: saved {}", sc.name, file.display());
            saved += 1;
        }
        if saved == 0 {
            eprintln!("{}: no trainable forecaster (prophet, lstm, ridge, random_forest) in this scenario; nothing saved", sc.name);
        }
    }
    Ok(())
}

/// Trains the LSTM on the training window and saves `<stem>.safetensors` and `<stem>.json`.
#[cfg(feature = "lstm")]
fn save_lstm(
    spec: &crate::scenario::forecasters::ForecasterSpec,
    y: &[f64],
    stem: &std::path::Path,
    data_hash: &str,
    scenario: &str,
    step_ms: u64,
) -> Result<()> {
    use crate::forecast::lstm::TrainedLstm;
    let config = spec.lstm_config().map_err(|m| anyhow::anyhow!(m))?;
    let model = TrainedLstm::train(y, &config)
        .map_err(|m| anyhow::anyhow!("{}: {m}", spec.display_name()))?;
    let weights = with_suffix(stem, "safetensors");
    if let Some(dir) = weights.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    model.save(&weights).map_err(|m| anyhow::anyhow!(m))?;
    use crate::forecast::card::{LstmCard, Normalisation};
    let card = ModelCard::Lstm(LstmCard {
        forecaster: spec.display_name(),
        architecture: format!(
            "LSTM(1→{h}) → Linear({h}→{k}) → ReLU → Linear({k}→1 + {q} quantiles)",
            h = config.hidden,
            k = config.head,
            q = crate::forecast::QUANTILES.len()
        ),
        normalisation: Normalisation {
            mean: model.report.mean,
            std: model.report.std,
        },
        config,
        quantiles: crate::forecast::QUANTILES.to_vec(),
        training: model.report.clone(),
        scenario: scenario.into(),
        training_steps: y.len(),
        step_ms,
        training_data_sha256: data_hash.into(),
        weights: weights
            .file_name()
            .and_then(|n| n.to_str())
            .map(String::from),
        scalesim_version: VERSION.into(),
    });
    write_card(&with_suffix(stem, "json"), &card)?;
    eprintln!("{scenario}: saved {} and its card", weights.display());
    Ok(())
}

#[cfg(not(feature = "lstm"))]
fn save_lstm(
    spec: &crate::scenario::forecasters::ForecasterSpec,
    _y: &[f64],
    _stem: &std::path::Path,
    _h: &str,
    _s: &str,
    _step: u64,
) -> Result<()> {
    anyhow::bail!(
        "{}: this build has no LSTM: build with `--features lstm` (scripts/run.sh does)",
        spec.display_name()
    )
}

/// Fits a ridge or random-forest forecaster on the training window and saves it as JSON.
fn save_regression(
    spec: &crate::scenario::forecasters::ForecasterSpec,
    p: &crate::sweep::Prepared,
    sc: &crate::scenario::Scenario,
    stem: &std::path::Path,
    data_hash: &str,
) -> Result<()> {
    let w = &p.workload;
    let reg = spec.lag_regression(w, spec.display_name())?;
    let model = reg.fit_to_json(crate::forecast::History {
        y: &w.demand[..p.train],
        start_step: 0,
        step_ms: w.step_ms,
    })?;
    let body = RegressionCard {
        forecaster: spec.display_name(),
        features: Features {
            lags: reg.lags,
            calendar: ["day_sin", "day_cos", "week_sin", "week_cos"]
                .map(String::from)
                .to_vec(),
            regressors: spec.regressors().to_vec(),
        },
        scenario: sc.name.clone(),
        training_steps: p.train,
        step_ms: w.step_ms,
        training_data_sha256: data_hash.into(),
        scalesim_version: VERSION.into(),
        model,
    };
    let card = if spec.kind() == ForecasterKind::Ridge {
        ModelCard::Ridge(body)
    } else {
        ModelCard::RandomForest(body)
    };
    let file = with_suffix(stem, "json");
    write_card(&file, &card)?;
    eprintln!("{}: saved {}", sc.name, file.display());
    Ok(())
}

/// Writes a card atomically.
fn write_card(path: &std::path::Path, card: &ModelCard) -> Result<()> {
    let text = card.to_json();
    atomic_write(path, |f| f.write_all(text.as_bytes()))?;
    Ok(())
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `<stem>.<ext>`. Not `Path::with_extension`: stems carry swept values such as
/// `_changepoint_prior_scale-0.05`, whose dot is not an extension.
fn with_suffix(stem: &std::path::Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}
