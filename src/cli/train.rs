//! `sim train`: fit the trainable forecasters of a scenario on its training window and
//! save them under models/<scenario>/ (Prophet: the fitted parameters as JSON with a card).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::forecast::prophet::{fit, config::RegressorConfig};
use crate::scenario::forecasters::ForecasterKind;
use crate::sweep::manifest::sha256_hex;
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
        let sc = crate::scenario::load(path).with_context(|| format!("cannot use scenario {}", path.display()))?;
        let p = crate::sweep::prepare(&sc)?;
        let w = &p.workload;
        let train = &w.demand[..p.train];
        let data_hash = sha256_hex(train.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>().as_slice());
        let mut saved = 0;
        for (assign, spec) in &sc.forecasters {
            if spec.kind != ForecasterKind::Prophet {
                continue;
            }
            let mut cfg = spec.prophet.clone().unwrap_or_default();
            let mut cols = Vec::new();
            for r in &spec.regressors {
                let col = w.regressor(r).with_context(|| format!("regressor '{r}' is not declared in [trace] regressors"))?;
                cols.push(&col[..p.train]);
                cfg.regressors.push(RegressorConfig { name: r.clone(), prior_scale: None, standardize: None, mode: None });
            }
            let origin = crate::scenario::forecasters::local_origin_ms(w);
            let ds: Vec<i64> = (0..p.train).map(|s| origin + (s as u64 * w.step_ms) as i64).collect();
            let model = fit(&cfg, &ds, train, &cols).map_err(|m| anyhow::anyhow!("{}: {m}", spec.display_name()))?;
            let suffix: String = assign.iter().map(|(k, v)| format!("_{}-{v}", k.rsplit('.').next().unwrap_or(k))).collect();
            let file = a.out.join(&sc.name).join(format!("{}{suffix}.json", spec.display_name()));
            let card = serde_json::json!({
                "kind": "prophet",
                "forecaster": spec.display_name(),
                "parameters": assign.iter().map(|(k, v)| (k.clone(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
                "scenario": sc.name,
                "training_steps": p.train,
                "step_ms": w.step_ms,
                "first_timestamp": w.timestamp_label(0),
                "training_data_sha256": data_hash,
                "scalesim_version": env!("CARGO_PKG_VERSION"),
                "model": model,
            });
            let text = serde_json::to_string_pretty(&card).expect("model serialises");
            atomic_write(&file, |f| f.write_all(text.as_bytes()))?;
            eprintln!("{}: saved {}", sc.name, file.display());
            saved += 1;
        }
        if saved == 0 {
            eprintln!("{}: no trainable forecaster (prophet) in this scenario; nothing saved", sc.name);
        }
    }
    Ok(())
}
