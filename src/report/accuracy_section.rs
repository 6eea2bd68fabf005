//! The report's forecast-accuracy finding and table, read from `forecast_accuracy.csv`.

use super::analysis::short_number as fmt;
use super::data::SweepData;
use super::document::Block;

/// Column `name` of accuracy row `r` (empty when the table lacks it).
fn acc_cell<'a>(d: &'a SweepData, r: &'a [String], name: &str) -> &'a str {
    d.accuracy[0]
        .iter()
        .position(|c| c == name)
        .and_then(|k| r.get(k))
        .map_or("", String::as_str)
}

/// Label of accuracy row `i` (1-based in `d.accuracy`).
fn acc_label(d: &SweepData, i: usize) -> String {
    d.forecasts
        .get(i - 1)
        .map_or(d.accuracy[i][0].clone(), |f| f.label.clone())
}

/// The ranking sentence: by MASE (one scale for all, so the same order as MAE), else MAE.
pub fn accuracy_finding(d: &SweepData) -> Option<String> {
    if d.accuracy.len() < 2 {
        return None;
    }
    let value = |i: usize, k: &str| {
        acc_cell(d, &d.accuracy[i], k)
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    };
    let rows = 1..d.accuracy.len();
    let key = if rows.clone().all(|i| value(i, "mase").is_finite()) {
        "mase"
    } else {
        "mae"
    };
    let mut acc: Vec<(String, f64)> = rows.map(|i| (acc_label(d, i), value(i, key))).collect();
    acc.sort_by(|a, b| a.1.total_cmp(&b.1));
    Some(format!(
        "Forecast accuracy ranking by {} (one step ahead, lower is better): {}.",
        key.to_uppercase(),
        acc.iter()
            .map(|(n, v)| format!("{n} {}", fmt(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The accuracy table and the notes that say what its columns mean.
pub fn accuracy_blocks(d: &SweepData) -> Vec<Block> {
    const KEEP: [&str; 10] = [
        "forecaster",
        "n",
        "mae",
        "rmse",
        "smape_pct",
        "mase",
        "coverage_80_pct",
        "coverage_95_pct",
        "mase_lead",
        "mase_window",
    ];
    let h = &d.accuracy[0];
    let keep: Vec<&str> = KEEP
        .into_iter()
        .filter(|k| h.iter().any(|c| c == k))
        .collect();
    let rows: Vec<Vec<String>> = (1..d.accuracy.len())
        .map(|i| {
            keep.iter()
                .map(|&k| {
                    let v = acc_cell(d, &d.accuracy[i], k);
                    if k == "forecaster" {
                        acc_label(d, i)
                    } else {
                        v.parse::<f64>().map(fmt).unwrap_or_else(|_| v.to_string())
                    }
                })
                .collect()
        })
        .collect();
    let first = &d.accuracy[1];
    let mut notes = Vec::new();
    let scale = acc_cell(d, first, "mase_scale");
    if !scale.is_empty() {
        let what = match scale.strip_prefix("seasonal_naive_") {
            Some(p) => format!(
                "seasonal-naive forecast at the period detected in the training data ({p} steps)"
            ),
            None => "naive forecast (the training data holds no period twice)".into(),
        };
        notes.push(format!(
            "MASE divides every forecaster's MAE by one scale, the in-sample MAE of the {what}, so it ranks them as MAE does."
        ));
    }
    let (lead, window) = (
        acc_cell(d, first, "lead_steps"),
        acc_cell(d, first, "window_steps"),
    );
    if !lead.is_empty() {
        notes.push(format!(
            "mase_lead scores the point forecast {lead} step(s) ahead, the farthest step a policy provisions for; mase_window scores the mean forecast over a {window}-step decision interval against the mean demand over it."
        ));
    }
    for i in 1..d.accuracy.len() {
        if acc_cell(d, &d.accuracy[i], "updates_between_refits") == "false" {
            notes.push(format!(
                "{} does not absorb new observations between refits (every {} steps): its \"one step ahead\" forecasts come from data up to that many steps old.",
                acc_label(d, i),
                acc_cell(d, &d.accuracy[i], "refit_every_steps")
            ));
        }
    }
    vec![
        Block::Table {
            header: keep.iter().map(|k| k.to_string()).collect(),
            rows,
            python: format!("pl.read_csv(\"forecast_accuracy.csv\").select({keep:?})"),
        },
        Block::Bullets(notes),
    ]
}
