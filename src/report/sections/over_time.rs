//! Policies over time: ready replicas of the recommended cell and its baselines, over
//! the whole window and its worst day, latency, and the four headline metrics compared.

use super::{chart, fmt, py_cells, Ctx};
use crate::error::Result;
use crate::report::analysis::CellRow;
use crate::report::charts::{BarPanel, Line, MetricBars, Panel, SmallMultiples};
use crate::report::data::{self, SweepData};
use crate::report::document::Block;
use crate::report::recommend::worst_window;
use crate::report::what_to_run;
use std::path::Path;

pub(super) fn section(cx: &Ctx<'_>, b: &mut Vec<Block>) -> Result<()> {
    let (d, plots, recs, reps) = (cx.d, cx.plots, &cx.recs, &cx.reps);
    let (ax_ms, ax_label) = (d.axis.unit_ms, &d.axis.label);
    b.push(Block::Heading(2, "Policies over time".into()));
    b.push(Block::Para(format!(
        "The recommended cell{} next to the best HPA and static cells under the same condition. Long timelines are drawn from the minimum and maximum of each pixel column.",
        recs.first().filter(|r| !r.condition.is_empty()).map_or(String::new(), |r| format!(" at {}", r.condition))
    )));
    let mut tls = Vec::new();
    for (k, r) in reps.iter().enumerate() {
        let role = if k == 0 { "recommended: " } else { "" };
        if let Some(t) =
            data::timeline(d, r.cell, format!("{role}{} / {}", r.forecaster, r.policy))?
        {
            tls.push(t);
        }
    }
    if tls.is_empty() {
        b.push(Block::Para("This sweep wrote no timelines (`[output] timelines = false`), so the charts over time are left out.".into()));
    } else {
        let demand_replicas: Vec<f64> = tls[0].demand.iter().map(|x| x / d.capacity).collect();
        let demand = Line::new("demand (replicas needed)", &tls[0].time, &demand_replicas);
        let rep_chart = SmallMultiples {
            title: "Ready replicas per policy (shared axes)".into(),
            x_label: d.axis.label.clone(),
            y_label: "replicas".into(),
            integer_y: true,
            panels: tls
                .iter()
                .map(|t| Panel {
                    label: t.label.clone(),
                    area: Some(demand.clone()),
                    line: Line::new(t.label.clone(), &t.time, &t.ready),
                })
                .collect(),
        };
        let cells_py = py_cells(reps);
        b.push(chart(plots, "replicas", &rep_chart.title, &rep_chart, format!(
            "{cells_py}\nfig, axes = plt.subplots(len(cells), 1, figsize=(12, 2.2 * len(cells)), sharex=True, sharey=True, squeeze=False)\nfor i, ((cell, label), ax) in enumerate(zip(cells, axes[:, 0])):\n    tl = pl.read_parquet(f\"timelines/cell_{{cell:06d}}.parquet\")\n    t = (tl[\"time_ms\"] - tl[\"time_ms\"][0]) / {ax_ms}\n    ax.fill_between(t, 0, tl[\"demand\"] / {}, color=\"lightgrey\", label=\"demand (replicas needed)\")\n    ax.plot(t, tl[\"ready\"], lw=1, color=f\"C{{i}}\", label=label)\n    ax.set_ylabel(\"replicas\")\n    ax.yaxis.get_major_locator().set_params(integer=True)\n    ax.legend(loc=\"upper left\")\naxes[0, 0].set_title(\"Ready replicas per policy (shared axes)\")\naxes[-1, 0].set_xlabel({ax_label:?})\nplt.show()",
            d.capacity
        ))?);
        b.push(worst_day_chart(d, &tls, plots)?);
        let lat_chart = SmallMultiples {
            x_label: d.axis.label.clone(),
            title: "Latency per policy (shared axes)".into(),
            y_label: "latency (ms)".into(),
            integer_y: false,
            panels: tls
                .iter()
                .map(|t| Panel {
                    label: t.label.clone(),
                    area: None,
                    line: Line::new(t.label.clone(), &t.time, &t.latency_ms),
                })
                .collect(),
        };
        b.push(chart(plots, "latency", &lat_chart.title, &lat_chart, format!(
            "{cells_py}\nfig, axes = plt.subplots(len(cells), 1, figsize=(12, 2.2 * len(cells)), sharex=True, sharey=True, squeeze=False)\nfor i, ((cell, label), ax) in enumerate(zip(cells, axes[:, 0])):\n    tl = pl.read_parquet(f\"timelines/cell_{{cell:06d}}.parquet\")\n    ax.plot((tl[\"time_ms\"] - tl[\"time_ms\"][0]) / {ax_ms}, tl[\"latency_ms\"], lw=1, color=f\"C{{i}}\", label=label)\n    ax.set_ylabel(\"latency (ms)\")\n    ax.legend(loc=\"upper left\")\naxes[0, 0].set_title(\"Latency per policy (shared axes)\")\naxes[-1, 0].set_xlabel({ax_label:?})\nplt.show()"
        ))?);
    }
    let panel = |title: &str, m: &str, v: fn(&CellRow) -> f64| {
        BarPanel::new(
            title,
            reps.iter().map(|r| v(r)).collect(),
            reps.iter().map(|r| r.interval(m)).collect(),
        )
    };
    let bars = MetricBars {
        labels: reps.iter().map(|r| r.policy.clone()).collect(),
        panels: vec![
            panel("under-provisioning events", "under_events", |r| {
                r.under_events
            }),
            panel("over-provisioning (% of steps)", "over_pct", |r| r.over_pct),
            panel("cost (replica-hours)", "cost_replica_hours", |r| r.cost),
            panel("switches", "switches", |r| r.switches),
        ],
    };
    b.push(chart(plots, "policy_bars", "The recommended cell and the baselines compared", &bars, format!(
        "{}\nrep = summary.filter(pl.col(\"cell\").is_in([c for c, _ in cells])).sort(\"cell\")\nfig, axes = plt.subplots(2, 2, figsize=(12, 8))\nfor ax, col in zip(axes.flat, [\"under_events\", \"over_pct\", \"cost_replica_hours\", \"switches\"]):\n    err = rep[col + \"_ci95\"].fill_null(0).to_list() if col + \"_ci95\" in rep.columns else ([[0 if lo is None else v - lo for v, lo in zip(rep[col], rep[col + \"_lo95\"])], [0 if hi is None else hi - v for v, hi in zip(rep[col], rep[col + \"_hi95\"])]] if col + \"_lo95\" in rep.columns else None)\n    ax.bar(rep[\"policy\"].to_list(), rep[col].to_list(), yerr=err, capsize=4, color=[f\"C{{i}}\" for i in range(rep.height)])\n    ax.set_title(col)\n    ax.tick_params(axis=\"x\", labelrotation=30)\nfig.tight_layout()\nplt.show()",
        py_cells(reps)
    ))?);

    Ok(())
}

/// The recommended cell (first of `tls`) and the baselines over the recommended cell's
/// worst day — the day with the most under-provisioned steps (request mode: steps whose
/// mean latency is over the SLO) — or, on a test window of a day or less, its worst
/// quarter.
fn worst_day_chart(d: &SweepData, tls: &[data::TimelineSeries], plots: &Path) -> Result<Block> {
    let rec = &tls[0];
    let day = (86_400_000 / d.step_ms.max(1)) as usize;
    let len = if rec.demand.len() > day {
        day
    } else {
        (rec.demand.len() / 4).max(1)
    };
    let slo = d.manifest["parameters"]["simulation"]["slo_ms"]
        .as_f64()
        .unwrap_or(500.0);
    let bad: Vec<f64> = if what_to_run::request_mode(d) {
        rec.latency_ms
            .iter()
            .map(|&l| (l > slo) as u8 as f64)
            .collect()
    } else {
        rec.demand
            .iter()
            .zip(&rec.ready)
            .map(|(&dm, &r)| (dm > r * d.capacity) as u8 as f64)
            .collect()
    };
    let at = worst_window(&bad, len);
    let span = at..(at + len).min(rec.demand.len());
    let cut = |v: &[f64]| v[span.clone()].to_vec();
    let demand: Vec<f64> = cut(&rec.demand).iter().map(|x| x / d.capacity).collect();
    let from = rec.time.get(at).copied().unwrap_or(0.0);
    let title = format!(
        "Ready replicas over the recommended cell's worst {} ({} of its {} bad steps), from {} to {} on the axis",
        if len == day { "day" } else { "quarter of the window" },
        bad[span.clone()].iter().sum::<f64>(),
        bad.iter().sum::<f64>(),
        fmt(from),
        fmt(rec.time.get(span.end - 1).copied().unwrap_or(from)),
    );
    let cut_demand = Line::new("demand (replicas needed)", &cut(&rec.time), &demand);
    let c = SmallMultiples {
        title: title.clone(),
        x_label: d.axis.label.clone(),
        y_label: "replicas".into(),
        integer_y: true,
        panels: tls
            .iter()
            .map(|t| Panel {
                label: t.label.clone(),
                area: Some(cut_demand.clone()),
                line: Line::new(t.label.clone(), &cut(&t.time), &cut(&t.ready)),
            })
            .collect(),
    };
    let py = format!(
        "# Rows {} to {} of the timelines: the recommended cell's worst window.\nfig, axes = plt.subplots(len(cells), 1, figsize=(12, 2.2 * len(cells)), sharex=True, sharey=True, squeeze=False)\nfor i, ((cell, label), ax) in enumerate(zip(cells, axes[:, 0])):\n    tl = pl.read_parquet(f\"timelines/cell_{{cell:06d}}.parquet\")\n    t = (tl[\"time_ms\"] - tl[\"time_ms\"][0]) / {}\n    tl, t = tl[{}:{}], t[{}:{}]\n    ax.fill_between(t, 0, tl[\"demand\"] / {}, color=\"lightgrey\", label=\"demand (replicas needed)\")\n    ax.plot(t, tl[\"ready\"], lw=1.2, color=f\"C{{i}}\", label=label)\n    ax.set_ylabel(\"replicas\")\n    ax.yaxis.get_major_locator().set_params(integer=True)\n    ax.legend(loc=\"upper left\")\naxes[-1, 0].set_xlabel({:?})\nplt.show()",
        span.start, span.end, d.axis.unit_ms, span.start, span.end, span.start, span.end, d.capacity, d.axis.label
    );
    chart(plots, "replicas_worst_day", &title, &c, py)
}
