//! `sim report`: a notebook-style report of one sweep — narrative written from the
//! numbers, tables, and charts — as self-contained HTML, Markdown with PNG/SVG charts,
//! and a Jupyter notebook whose code cells rebuild everything from the sweep's files.

mod accuracy_section;
pub mod analysis;
pub mod charts;
pub mod data;
pub mod document;
mod recommend;
mod sections;
mod what_to_run;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::trace::write::atomic_write;
pub use data::SweepData;
pub use document::{Block, Document};

/// Report options.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Under-provisioning events allowed when picking the cheapest policy
    /// (`None`: 1 % of the simulated steps).
    pub under_budget: Option<f64>,
    /// Request mode: the share of requests over the SLO or dropped (%) allowed when
    /// picking the recommendation (`None`: 1 %).
    pub slo_budget_pct: Option<f64>,
    /// The two swept parameters of the heatmaps (`None`: the first two swept ones).
    pub heatmap: Option<(String, String)>,
    /// Metrics shown as heatmaps.
    pub heatmap_metrics: Vec<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            under_budget: None,
            slo_budget_pct: None,
            heatmap: None,
            heatmap_metrics: vec!["cost_replica_hours".into(), "under_events".into()],
        }
    }
}

/// What a report wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub notebook: PathBuf,
    pub charts: usize,
}

/// Builds the report of the sweep in `dir` and writes it next to the sweep's files.
pub fn write_report(dir: &Path, opts: &ReportOptions) -> Result<ReportFiles> {
    let data = data::load(dir)?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| Error::io(&plots, e))?;
    let doc = sections::build(&data, opts, &plots)?;
    let charts = doc
        .blocks
        .iter()
        .filter(|b| matches!(b, Block::Chart { .. }))
        .count();
    let md = dir.join("report.md");
    let html = dir.join("report.html");
    let nb = dir.join("report.ipynb");
    let write =
        |p: &Path, text: String| atomic_write(p, |f| std::io::Write::write_all(f, text.as_bytes()));
    write(&md, doc.markdown())?;
    write(&html, doc.html())?;
    write(
        &nb,
        serde_json::to_string_pretty(&doc.notebook()).expect("notebook serialises") + "\n",
    )?;
    Ok(ReportFiles {
        html,
        markdown: md,
        notebook: nb,
        charts,
    })
}

/// Sweep folders under `reports`: those with a manifest, not shard or temporary folders,
/// and a study's per-trace sweeps (`<study>/traces/*`).
pub fn find_sweeps(reports: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(reports).map_err(|e| Error::io(reports, e))? {
        let p = e.map_err(|e| Error::io(reports, e))?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name.contains(".shard-") {
            continue;
        }
        if p.join("manifest.json").exists() {
            out.push(p);
        } else if p.join("study.json").exists() && p.join("traces").is_dir() {
            out.extend(find_sweeps(&p.join("traces"))?);
        }
    }
    out.sort();
    Ok(out)
}
