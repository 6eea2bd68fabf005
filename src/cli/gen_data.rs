//! `sim gen-data`: synthetic workloads into data/.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::scenario::generator_config;
use crate::trace::write::{write_workload_csv, write_workload_parquet};
use crate::workload::generator::{generate, PRESETS};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

#[derive(Debug, clap::Args)]
pub struct GenDataArgs {
    /// Prototype scenario to generate (mixed, smooth, spiky); default: all three.
    #[arg(long)]
    pub preset: Option<String>,
    /// A generator TOML (`preset` plus overrides and `[[shapes]]`) instead of a preset.
    #[arg(long, conflicts_with = "preset")]
    pub config: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "data/generated")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Override the seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the length in days.
    #[arg(long)]
    pub days: Option<f64>,
}

pub fn run(a: GenDataArgs) -> Result<()> {
    let mut jobs = Vec::new();
    if let Some(path) = &a.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        let cfg =
            generator_config(&table).map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("workload")
            .to_string();
        jobs.push((name, cfg));
    } else {
        let presets: Vec<&str> = match &a.preset {
            Some(p) => vec![p.as_str()],
            None => PRESETS.to_vec(),
        };
        for p in presets {
            jobs.push((
                format!("scenario_{p}"),
                crate::workload::generator::GeneratorConfig::preset(p)?,
            ));
        }
    }
    for (name, mut cfg) in jobs {
        if let Some(s) = a.seed {
            cfg.seed = s;
        }
        if let Some(d) = a.days {
            cfg.days = d;
        }
        let w = generate(&name, &cfg)?;
        let path = a.out.join(format!(
            "{name}.{}",
            match a.format {
                Format::Csv => "csv",
                Format::Parquet => "parquet",
            }
        ));
        match a.format {
            Format::Csv => write_workload_csv(&path, &w)?,
            Format::Parquet => write_workload_parquet(&path, &w)?,
        }
        eprintln!("wrote {} ({} steps)", path.display(), w.len());
    }
    Ok(())
}
