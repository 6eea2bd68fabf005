//! Forecast accuracy, each forecaster's demand and forecast over time, and the error
//! distribution.

use super::{chart, Ctx};
use crate::error::Result;
use crate::report::accuracy_section::accuracy_blocks;
use crate::report::charts::{Band, ErrorDensity, Line, TimeChart};
use crate::report::data::SweepData;
use crate::report::document::Block;
use std::path::Path;

pub(super) fn section(cx: &Ctx<'_>, b: &mut Vec<Block>) -> Result<()> {
    let (d, plots) = (cx.d, cx.plots);
    let (ax_ms, ax_label) = (d.axis.unit_ms, &d.axis.label);
    if d.accuracy.len() > 1 {
        b.push(Block::Heading(2, "Forecast accuracy".into()));
        b.extend(accuracy_blocks(d));
    }
    for (i, f) in d.forecasts.iter().enumerate().take(8) {
        let c = TimeChart {
            title: format!("Demand and forecast: {}", f.label),
            x_label: d.axis.label.clone(),
            y_label: "requests per step".into(),
            area: None,
            bands: vec![
                Band::new("95 % interval", &f.time, &f.q025, &f.q975),
                Band::new("80 % interval", &f.time, &f.q10, &f.q90),
            ],
            lines: vec![
                Line::new("demand", &f.time, &f.actual),
                Line::new("forecast", &f.time, &f.yhat),
            ],
        };
        let py = format!(
            "f = pl.read_parquet(\"forecasts/forecaster_{i:03}.parquet\")\nt = (f[\"time_ms\"] - f[\"time_ms\"][0]) / {ax_ms}\nfig, ax = plt.subplots(figsize=(12, 4))\nax.fill_between(t, f[\"q0.025\"], f[\"q0.975\"], alpha=0.2, label=\"95 % interval\")\nax.fill_between(t, f[\"q0.1\"], f[\"q0.9\"], alpha=0.35, label=\"80 % interval\")\nax.plot(t, f[\"actual\"], color=\"black\", lw=0.7, label=\"demand\")\nax.plot(t, f[\"yhat\"], color=\"tab:red\", lw=1.2, label=\"forecast\")\nax.set_title({:?})\nax.set_xlabel({ax_label:?})\nax.set_ylabel(\"requests per step\")\nax.legend(loc=\"upper left\")\nplt.show()",
            c.title
        );
        b.push(chart(plots, &format!("forecast_{i:03}"), &c.title, &c, py)?);
    }
    if !d.forecasts.is_empty() {
        b.push(error_chart(d, plots)?);
    }

    Ok(())
}

fn error_chart(d: &SweepData, plots: &Path) -> Result<Block> {
    let errs: Vec<Vec<f64>> = d
        .forecasts
        .iter()
        .map(|f| {
            f.yhat
                .iter()
                .zip(&f.actual)
                .map(|(p, a)| p - a)
                .filter(|e| e.is_finite())
                .collect()
        })
        .collect();
    let mut all: Vec<f64> = errs.iter().flatten().copied().collect();
    all.sort_by(|a, b| a.total_cmp(b));
    let (lo, hi) = if all.is_empty() {
        (-1.0, 1.0)
    } else {
        (all[all.len() / 100], all[all.len() * 99 / 100])
    };
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let bins = 60;
    let width = (hi - lo) / bins as f64;
    let lines = d
        .forecasts
        .iter()
        .zip(&errs)
        .map(|(f, e)| {
            let mut counts = vec![0.0; bins];
            for &x in e {
                if x >= lo && x <= hi {
                    counts[(((x - lo) / width) as usize).min(bins - 1)] += 1.0;
                }
            }
            let n = e.len().max(1) as f64;
            Line {
                label: f.label.clone(),
                points: counts
                    .iter()
                    .enumerate()
                    .map(|(k, c)| (lo + (k as f64 + 0.5) * width, c / n))
                    .collect(),
            }
        })
        .collect();
    let c = ErrorDensity { lines };
    let py = format!(
        "fig, ax = plt.subplots(figsize=(12, 4))\nfor i in range({}):\n    f = pl.read_parquet(f\"forecasts/forecaster_{{i:03d}}.parquet\")\n    e = (f[\"yhat\"] - f[\"actual\"]).to_numpy()\n    ax.hist(e, bins=60, range=({lo}, {hi}), histtype=\"step\", weights=[1 / len(e)] * len(e), lw=1.5, label=f\"forecaster {{i}}\")\nax.set_title(\"Forecast error distribution (forecast − actual)\")\nax.set_xlabel(\"forecast − actual (requests per step)\")\nax.set_ylabel(\"share of steps\")\nax.legend()\nplt.show()",
        d.forecasts.len()
    );
    chart(
        plots,
        "forecast_errors",
        "Forecast error distribution per forecaster",
        &c,
        py,
    )
}
