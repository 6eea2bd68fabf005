//! The report's content: findings, tables and charts, each with the Python that
//! rebuilds it in the notebook. One file per section: `overview` (the headline and the
//! findings), `forecasts`, `over_time` (policies over time), `tradeoffs` (all cells,
//! heatmaps and the SPEC elasticity metrics); [`build`] puts them in order.

mod comparisons;
mod forecasts;
mod over_time;
mod overview;
mod tradeoffs;

use std::path::Path;

use super::analysis::{pareto_front_by, CellRow};
use super::charts;
use super::data::SweepData;
use super::document::{Block, Document};
use super::recommend::{recommend, Objective, Recommendation};
use super::what_to_run;
use super::ReportOptions;
use crate::error::{Error, Result};

const SETUP: &str = "import json\nimport polars as pl\nimport matplotlib.pyplot as plt\n\nsummary = pl.read_parquet(\"metrics_summary.parquet\")\nmanifest = json.load(open(\"manifest.json\"))\n# Bounds (perfect foresight: an oracle forecaster, the optimal policy) are reference points, not choices.\nkinds = {p.get(\"name\", p[\"kind\"]): p[\"kind\"] for p in manifest[\"parameters\"].get(\"policies\", [])}\noptimal = pl.lit([n for n, k in kinds.items() if k == \"optimal\"], dtype=pl.List(pl.String))\nbound = pl.col(\"forecaster\").str.starts_with(\"oracle\") | pl.col(\"policy\").is_in(optimal)\nbounds = summary.filter(bound)\nsummary = summary.filter(~bound)\nsummary.shape";

pub(super) fn fmt(x: f64) -> String {
    super::analysis::short_number(x)
}

pub(super) fn chart(
    plots: &Path,
    name: &str,
    title: &str,
    c: &impl charts::Chart,
    python: String,
) -> Result<Block> {
    let svg = charts::render(c, plots, name)?;
    let png_path = plots.join(format!("{name}.png"));
    let png = std::fs::read(&png_path).map_err(|e| Error::io(&png_path, e))?;
    Ok(Block::Chart {
        name: name.into(),
        title: title.into(),
        svg,
        png,
        python,
    })
}

/// The cells the charts over time draw: the recommended cell of the first condition and
/// the best HPA and static cells under that condition.
fn chart_cells<'a>(
    d: &'a SweepData,
    recs: &[Recommendation],
    objective: Objective,
) -> Vec<&'a CellRow> {
    let Some(rec) = recs.first() else {
        return Vec::new();
    };
    let mut out = vec![&d.rows[rec.row]];
    for base in ["hpa", "static"] {
        if let Some(b) = what_to_run::baseline(d, rec, objective, base) {
            if b != rec.row {
                out.push(&d.rows[b]);
            }
        }
    }
    out
}

pub(super) fn py_cells(reps: &[&CellRow]) -> String {
    let items: Vec<String> = reps
        .iter()
        .map(|r| {
            format!(
                "({}, {:?})",
                r.cell,
                format!("{} / {}", r.forecaster, r.policy)
            )
        })
        .collect();
    format!("cells = [{}]", items.join(", "))
}

/// What every section reads: the sweep, the options, where plots go, the
/// under-provisioning budget, the objective and its recommendations, the cost / risk
/// Pareto front and the cells drawn over time.
pub(super) struct Ctx<'a> {
    pub d: &'a SweepData,
    pub opts: &'a ReportOptions,
    pub plots: &'a Path,
    pub budget: f64,
    pub objective: Objective,
    pub recs: Vec<Recommendation>,
    /// Request mode: cells are ranked by SLO violations, not under-provisioning.
    pub requests: bool,
    /// Row indices on the cost / risk Pareto front, cheapest first.
    pub front: Vec<usize>,
    /// The cells drawn over time: the recommended one and its baselines.
    pub reps: Vec<&'a CellRow>,
}

impl Ctx<'_> {
    /// The risk a cell is ranked by (under-provisioning events, or SLO violations).
    pub fn risk(&self, r: &CellRow) -> f64 {
        self.objective.risk(r)
    }
    /// The risk's name and unit in sentences.
    pub fn risk_words(&self) -> (&'static str, &'static str) {
        if self.requests {
            ("SLO-violation", "% over the SLO")
        } else {
            ("under-provisioning", "events")
        }
    }
}

pub fn build(d: &SweepData, opts: &ReportOptions, plots: &Path) -> Result<Document> {
    let steps = d.test_steps.max(1);
    let budget = opts
        .under_budget
        .unwrap_or((steps as f64 * 0.01).floor().max(1.0));
    let objective = what_to_run::objective(d, budget, opts.slo_budget_pct);
    let recs = recommend(&d.rows, objective);
    let front = pareto_front_by(&d.rows, |r| objective.risk(r));
    let reps = chart_cells(d, &recs, objective);
    let cx = Ctx {
        d,
        opts,
        plots,
        budget,
        objective,
        requests: what_to_run::request_mode(d),
        recs,
        front,
        reps,
    };
    let mut b: Vec<Block> = Vec::new();
    overview::intro(&cx, &mut b);
    overview::findings(&cx, &mut b);
    b.extend(what_to_run::blocks(d, &cx.recs, objective));
    forecasts::section(&cx, &mut b)?;
    over_time::section(&cx, &mut b)?;
    tradeoffs::section(&cx, &mut b)?;
    tradeoffs::regret(&cx, &mut b)?;
    tradeoffs::heatmaps(&cx, &mut b)?;
    tradeoffs::elasticity(&cx, &mut b);
    Ok(Document {
        title: format!("Sweep report: {}", d.name),
        setup_python: SETUP.into(),
        blocks: b,
    })
}
