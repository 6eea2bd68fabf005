//! The report's content: findings, tables and charts, each with the Python that
//! rebuilds it in the notebook.

use std::path::Path;

use super::accuracy_section::{accuracy_blocks, accuracy_finding};
use super::analysis::{cheapest_within, distinct, pareto_front_by, saving_pct, CellRow};
use super::charts::{self, Band, ErrorDensity, Heatmap, Line, MetricBars, ParetoChart, TimeChart};
use super::data::{self, SweepData};
use super::document::{Block, Document};
use super::recommend::{recommend, worst_window};
use super::what_to_run;
use super::ReportOptions;
use crate::error::{Error, Result};

const SETUP: &str = "import json\nimport polars as pl\nimport matplotlib.pyplot as plt\n\nsummary = pl.read_parquet(\"metrics_summary.parquet\")\nmanifest = json.load(open(\"manifest.json\"))\nsummary.shape";

fn fmt(x: f64) -> String {
    super::analysis::short_number(x)
}

fn chart(
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
    recs: &[super::recommend::Recommendation],
    objective: super::recommend::Objective,
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

fn py_cells(reps: &[&CellRow]) -> String {
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

pub fn build(d: &SweepData, opts: &ReportOptions, plots: &Path) -> Result<Document> {
    let mut b: Vec<Block> = Vec::new();
    let rows = &d.rows;
    let steps = d.test_steps.max(1);
    let budget = opts
        .under_budget
        .unwrap_or((steps as f64 * 0.01).floor().max(1.0));
    let hours = steps as f64 * d.step_ms as f64 / 3.6e6;
    let (ax_ms, ax_label) = (d.axis.unit_ms, &d.axis.label);
    let objective = what_to_run::objective(d, budget, opts.slo_budget_pct);
    let recs = recommend(rows, objective);
    b.push(Block::Para(what_to_run::headline(d, &recs, objective)));
    if !d.description.is_empty() {
        b.push(Block::Para(d.description.clone()));
    }
    b.push(Block::Para(format!(
        "{} cells: {} forecaster(s) × {} polic(ies) and their parameters, each simulated over {} steps ({:.1} hours) after a {}-step training window. Trace start: {}.",
        rows.len(),
        distinct(rows.iter().filter(|r| r.forecaster != "none").map(|r| r.forecaster.clone())).len(),
        distinct(rows.iter().map(|r| r.policy.clone())).len(),
        steps,
        hours,
        d.manifest["window"]["train_steps"],
        d.manifest["trace"]["start"].as_str().unwrap_or("?"),
    )));

    // Findings.
    b.push(Block::Heading(2, "Findings".into()));
    let mut findings = Vec::new();
    let mut cheapest_rows = Vec::new();
    let requests = what_to_run::request_mode(d);
    // In request mode the recommendation ranks by SLO violations; under-provisioning
    // budgets do not apply.
    for f in distinct(rows.iter().map(|r| r.forecaster.clone()))
        .into_iter()
        .filter(|_| !requests)
    {
        match cheapest_within(rows, budget, |r| r.forecaster == f) {
            Some(i) => {
                let r = &rows[i];
                findings.push(format!(
                    "With forecaster {f}, the cheapest cell within {} under-provisioning events is {} (cell {}): {} replica-hours, {} under-provisioning events.",
                    fmt(budget), r.label(), r.cell, fmt(r.cost), fmt(r.under_events)
                ));
                cheapest_rows.push(vec![
                    f.clone(),
                    r.label(),
                    r.cell.to_string(),
                    fmt(r.cost),
                    fmt(r.under_events),
                    fmt(r.over_pct),
                ]);
            }
            None => {
                let best = rows
                    .iter()
                    .filter(|r| r.forecaster == f)
                    .min_by(|a, b| a.under_events.total_cmp(&b.under_events));
                if let Some(r) = best {
                    findings.push(format!(
                        "With forecaster {f}, no cell stays within {} under-provisioning events; the fewest is {} with {} ({} replica-hours).",
                        fmt(budget), fmt(r.under_events), r.label(), fmt(r.cost)
                    ));
                }
            }
        }
    }
    let risk = |r: &CellRow| objective.risk(r);
    let (risk_name, risk_unit) = if requests {
        ("SLO-violation", "% over the SLO")
    } else {
        ("under-provisioning", "events")
    };
    let front = pareto_front_by(rows, risk);
    // Listed in full up to 12 cells; a longer front names its first 8 and says so.
    let listed = if front.len() <= 12 { front.len() } else { 8 };
    let front_names: Vec<String> = front
        .iter()
        .take(listed)
        .map(|&i| {
            format!(
                "{} / {} (cell {})",
                rows[i].forecaster,
                rows[i].label(),
                rows[i].cell
            )
        })
        .collect();
    findings.push(format!(
        "The cost / {risk_name} Pareto front holds {} of the {} cells, from the cheapest, {}, to the safest, {}{}.",
        front.len(),
        rows.len(),
        front.first().map_or("–".into(), |&i| format!("{} replica-hours with {} {risk_unit}", fmt(rows[i].cost), fmt(risk(&rows[i])))),
        front.last().map_or("–".into(), |&i| format!("{} {risk_unit} at {} replica-hours", fmt(risk(&rows[i])), fmt(rows[i].cost))),
        if front_names.is_empty() {
            String::new()
        } else if listed < front.len() {
            format!("; the first {listed}: {}", front_names.join("; "))
        } else {
            format!(": {}", front_names.join("; "))
        }
    ));
    for base in ["static", "hpa"].into_iter().filter(|_| !requests) {
        let is_base = |r: &CellRow| {
            d.policy_kinds
                .get(&r.policy)
                .map_or(r.policy == base, |k| k == base)
        };
        let base_cell = cheapest_within(rows, budget, is_base).or_else(|| {
            (0..rows.len())
                .filter(|&i| is_base(&rows[i]))
                .min_by(|&a, &c| rows[a].under_events.total_cmp(&rows[c].under_events))
        });
        let Some(bi) = base_cell else {
            findings.push(format!(
                "No `{base}` policy in this sweep, so no saving against it is computed."
            ));
            continue;
        };
        let parts: Vec<String> = distinct(
            rows.iter()
                .filter(|r| r.forecaster != "none")
                .map(|r| r.forecaster.clone()),
        )
        .into_iter()
        .filter_map(|f| {
            cheapest_within(rows, budget, |r| r.forecaster == f && !is_base(r)).map(|i| (f, i))
        })
        .map(|(f, i)| {
            let s = saving_pct(rows[i].cost, rows[bi].cost);
            let how = if s >= 0.0 {
                format!("saves {s:.1} %")
            } else {
                format!("costs {:.1} % more", -s)
            };
            format!("{f} with {} {how}", rows[i].label())
        })
        .collect();
        findings.push(format!(
            "Against {} ({} replica-hours, {} events): {}.",
            rows[bi].label(),
            fmt(rows[bi].cost),
            fmt(rows[bi].under_events),
            if parts.is_empty() {
                "no forecast-driven cell is within the budget".to_string()
            } else {
                parts.join("; ")
            }
        ));
    }
    if let Some(line) = accuracy_finding(d) {
        findings.push(line);
    }
    b.push(Block::Bullets(findings));
    if !cheapest_rows.is_empty() {
        b.push(Block::Table {
            header: ["forecaster", "cheapest cell within budget", "cell", "cost (replica-h)", "under events", "over %"].map(String::from).to_vec(),
            rows: cheapest_rows,
            python: format!(
                "budget = {budget}\nok = summary.filter(pl.col(\"under_events\") <= budget).sort([\"cost_replica_hours\", \"cell\"])\nok.group_by(\"forecaster\", maintain_order=True).first().select([\"forecaster\", \"policy\", \"cell\", \"cost_replica_hours\", \"under_events\", \"over_pct\"])"
            ),
        });
    }
    b.extend(what_to_run::blocks(d, &recs, objective));

    // Forecasts.
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

    // Policies over time.
    let reps = chart_cells(d, &recs, objective);
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
        let rep_chart = TimeChart {
            title: "Ready replicas per policy".into(),
            x_label: d.axis.label.clone(),
            y_label: "replicas".into(),
            area: Some(Line::new(
                "demand (replicas needed)",
                &tls[0].time,
                &demand_replicas,
            )),
            bands: vec![],
            lines: tls
                .iter()
                .map(|t| Line::new(t.label.clone(), &t.time, &t.ready))
                .collect(),
        };
        let cells_py = py_cells(&reps);
        b.push(chart(plots, "replicas", &rep_chart.title, &rep_chart, format!(
            "{cells_py}\nfig, ax = plt.subplots(figsize=(12, 4))\nfor i, (cell, label) in enumerate(cells):\n    tl = pl.read_parquet(f\"timelines/cell_{{cell:06d}}.parquet\")\n    t = (tl[\"time_ms\"] - tl[\"time_ms\"][0]) / {ax_ms}\n    if i == 0:\n        ax.fill_between(t, 0, tl[\"demand\"] / {}, color=\"lightgrey\", label=\"demand (replicas needed)\")\n    ax.plot(t, tl[\"ready\"], lw=1.2, label=label)\nax.set_title(\"Ready replicas per policy\")\nax.set_xlabel({ax_label:?})\nax.set_ylabel(\"replicas\")\nax.legend(loc=\"upper left\")\nplt.show()",
            d.capacity
        ))?);
        b.push(worst_day_chart(d, &tls, plots)?);
        let lat_chart = TimeChart {
            x_label: d.axis.label.clone(),
            title: "Latency per policy".into(),
            y_label: "latency (ms)".into(),
            area: None,
            bands: vec![],
            lines: tls
                .iter()
                .map(|t| Line::new(t.label.clone(), &t.time, &t.latency_ms))
                .collect(),
        };
        b.push(chart(plots, "latency", &lat_chart.title, &lat_chart, format!(
            "{cells_py}\nfig, ax = plt.subplots(figsize=(12, 4))\nfor cell, label in cells:\n    tl = pl.read_parquet(f\"timelines/cell_{{cell:06d}}.parquet\")\n    ax.plot((tl[\"time_ms\"] - tl[\"time_ms\"][0]) / {ax_ms}, tl[\"latency_ms\"], lw=1, label=label)\nax.set_title(\"Latency per policy\")\nax.set_xlabel({ax_label:?})\nax.set_ylabel(\"latency (ms)\")\nax.legend(loc=\"upper left\")\nplt.show()"
        ))?);
    }
    let bars = MetricBars {
        labels: reps.iter().map(|r| r.policy.clone()).collect(),
        panels: vec![
            (
                "under-provisioning events".into(),
                reps.iter().map(|r| r.under_events).collect(),
            ),
            (
                "over-provisioning (% of steps)".into(),
                reps.iter().map(|r| r.over_pct).collect(),
            ),
            (
                "cost (replica-hours)".into(),
                reps.iter().map(|r| r.cost).collect(),
            ),
            ("switches".into(), reps.iter().map(|r| r.switches).collect()),
        ],
    };
    b.push(chart(plots, "policy_bars", "The recommended cell and the baselines compared", &bars, format!(
        "{}\nrep = summary.filter(pl.col(\"cell\").is_in([c for c, _ in cells])).sort(\"cell\")\nfig, axes = plt.subplots(2, 2, figsize=(12, 8))\nfor ax, col in zip(axes.flat, [\"under_events\", \"over_pct\", \"cost_replica_hours\", \"switches\"]):\n    ax.bar(rep[\"policy\"].to_list(), rep[col].to_list(), color=[f\"C{{i}}\" for i in range(rep.height)])\n    ax.set_title(col)\n    ax.tick_params(axis=\"x\", labelrotation=30)\nfig.tight_layout()\nplt.show()",
        py_cells(&reps)
    ))?);

    // Trade-offs across all cells.
    b.push(Block::Heading(2, "Trade-offs across all cells".into()));
    let pc = ParetoChart {
        y_label: if requests {
            "requests over the SLO or dropped (%)".into()
        } else {
            "under-provisioning events (steps)".into()
        },
        points: rows.iter().map(|r| (r.cost, risk(r))).collect(),
        front: front
            .iter()
            .map(|&i| (rows[i].cost, risk(&rows[i]), format!("#{}", rows[i].cell)))
            .collect(),
    };
    let risk_col = if requests {
        "slo_violation_pct"
    } else {
        "under_events"
    };
    b.push(chart(plots, "pareto", &format!("Cost against {risk_name}, Pareto front in red (labels are cell numbers)"), &pc,
        "s = summary.sort([\"cost_replica_hours\", \"under_events\", \"cell\"])\nfront, best = [], float(\"inf\")\nfor row in s.iter_rows(named=True):\n    if row[\"under_events\"] < best:\n        best = row[\"under_events\"]\n        front.append(row)\nfig, ax = plt.subplots(figsize=(12, 5))\nax.scatter(summary[\"cost_replica_hours\"], summary[\"under_events\"], s=8, color=\"grey\", label=\"cell\")\nax.plot([r[\"cost_replica_hours\"] for r in front], [r[\"under_events\"] for r in front], \"o-\", color=\"tab:red\", label=\"Pareto front\")\nfor r in front[:: max(1, -(-len(front) // 10))]:\n    ax.annotate(f\"#{r['cell']}\", (r[\"cost_replica_hours\"], r[\"under_events\"]))\nax.set_xlabel(\"cost (replica-hours)\")\nax.set_ylabel(\"under-provisioning events (steps)\")\nax.legend()\nplt.show()".replace("under_events", risk_col).replace("under-provisioning events (steps)", &pc.y_label))?);
    b.push(Block::Table {
        header: ["cell", "forecaster", "policy and parameters", "cost (replica-h)", "under events", "SLO violations %", "over %"].map(String::from).to_vec(),
        rows: front.iter().map(|&i| { let r = &rows[i]; vec![r.cell.to_string(), r.forecaster.clone(), r.label(), fmt(r.cost), fmt(r.under_events), fmt(r.metric("slo_violation_pct")), fmt(r.over_pct)] }).collect(),
        python: "pl.DataFrame(front).select([\"cell\", \"forecaster\", \"policy\", \"cost_replica_hours\", \"under_events\", \"slo_violation_pct\", \"over_pct\"])".into(),
    });
    heatmaps(d, opts, plots, &mut b)?;

    // Elasticity.
    b.push(Block::Heading(2, "SPEC elasticity metrics".into()));
    b.push(Block::Para("θ_U / θ_O: average relative under- / over-provisioning; τ_U / τ_O: share of time under / over; instability: share of steps where supply and demand move differently; jitter: supply adaptations minus demand changes per hour (Herbst et al.). Shown for the recommended cell and the baselines.".into()));
    let el = [
        "theta_u_pct",
        "theta_o_pct",
        "tau_u_pct",
        "tau_o_pct",
        "instability_pct",
        "jitter_per_hour",
    ];
    b.push(Block::Table {
        header: ["cell", "forecaster", "policy"].iter().map(|s| s.to_string()).chain(el.iter().map(|s| s.to_string())).collect(),
        rows: reps.iter().map(|r| [r.cell.to_string(), r.forecaster.clone(), r.policy.clone()].into_iter().chain(el.iter().map(|m| fmt(r.metric(m)))).collect()).collect(),
        python: format!("{}\nsummary.filter(pl.col(\"cell\").is_in([c for c, _ in cells])).select([\"cell\", \"forecaster\", \"policy\", {}])", py_cells(&reps), el.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ")),
    });
    Ok(Document {
        title: format!("Sweep report: {}", d.name),
        setup_python: SETUP.into(),
        blocks: b,
    })
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
    let c = TimeChart {
        title: title.clone(),
        x_label: d.axis.label.clone(),
        y_label: "replicas".into(),
        area: Some(Line::new(
            "demand (replicas needed)",
            &cut(&rec.time),
            &demand,
        )),
        bands: vec![],
        lines: tls
            .iter()
            .map(|t| Line::new(t.label.clone(), &cut(&t.time), &cut(&t.ready)))
            .collect(),
    };
    let py = format!(
        "# Rows {} to {} of the timelines: the recommended cell's worst window.\nfig, ax = plt.subplots(figsize=(12, 4))\nfor i, (cell, label) in enumerate(cells):\n    tl = pl.read_parquet(f\"timelines/cell_{{cell:06d}}.parquet\")\n    t = (tl[\"time_ms\"] - tl[\"time_ms\"][0]) / {}\n    tl, t = tl[{}:{}], t[{}:{}]\n    if i == 0:\n        ax.fill_between(t, 0, tl[\"demand\"] / {}, color=\"lightgrey\", label=\"demand (replicas needed)\")\n    ax.plot(t, tl[\"ready\"], lw=1.2, label=label)\nax.set_xlabel({:?})\nax.set_ylabel(\"replicas\")\nax.legend(loc=\"upper left\")\nplt.show()",
        span.start, span.end, d.axis.unit_ms, span.start, span.end, span.start, span.end, d.capacity, d.axis.label
    );
    chart(plots, "replicas_worst_day", &title, &c, py)
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

fn heatmaps(d: &SweepData, opts: &ReportOptions, plots: &Path, b: &mut Vec<Block>) -> Result<()> {
    let rows = &d.rows;
    let swept: Vec<String> = d
        .param_columns
        .iter()
        .filter(|c| {
            distinct(
                rows.iter()
                    .filter_map(|r| r.params.iter().find(|p| &p.0 == *c).and_then(|p| p.1))
                    .map(f64::to_bits),
            )
            .len()
                > 1
        })
        .cloned()
        .collect();
    let (px, py) = match &opts.heatmap {
        Some((x, y)) => {
            for p in [x, y] {
                if !d.param_columns.contains(p) {
                    return Err(Error::Config(format!(
                        "heatmap parameter '{p}' is not a swept parameter of {} (swept: {})",
                        d.name,
                        d.param_columns.join(", ")
                    )));
                }
            }
            (x.clone(), y.clone())
        }
        None if swept.len() >= 2 => (swept[0].clone(), swept[1].clone()),
        None => {
            b.push(Block::Para(
                "Fewer than two parameters were swept, so there is no heatmap.".into(),
            ));
            return Ok(());
        }
    };
    let get = |r: &CellRow, k: &str| r.params.iter().find(|p| p.0 == k).and_then(|p| p.1);
    let mut xs = distinct(rows.iter().filter_map(|r| get(r, &px)).map(f64::to_bits))
        .into_iter()
        .map(f64::from_bits)
        .collect::<Vec<_>>();
    let mut ys = distinct(rows.iter().filter_map(|r| get(r, &py)).map(f64::to_bits))
        .into_iter()
        .map(f64::from_bits)
        .collect::<Vec<_>>();
    xs.sort_by(|a, c| a.total_cmp(c));
    ys.sort_by(|a, c| a.total_cmp(c));
    for metric in &opts.heatmap_metrics {
        let values: Vec<Vec<f64>> = ys
            .iter()
            .map(|&y| {
                xs.iter()
                    .map(|&x| {
                        let v: Vec<f64> = rows
                            .iter()
                            .filter(|r| get(r, &px) == Some(x) && get(r, &py) == Some(y))
                            .map(|r| r.metric(metric))
                            .filter(|v| v.is_finite())
                            .collect();
                        if v.is_empty() {
                            f64::NAN
                        } else {
                            v.iter().sum::<f64>() / v.len() as f64
                        }
                    })
                    .collect()
            })
            .collect();
        let title = format!("{metric}: mean over the other dimensions");
        let h = Heatmap {
            title: title.clone(),
            x_label: px.clone(),
            y_label: py.clone(),
            xs: xs.clone(),
            ys: ys.clone(),
            values,
        };
        let code = format!(
            "px, py, metric = {px:?}, {py:?}, {metric:?}\nxs = sorted(summary[px].drop_nulls().unique().to_list())\nys = sorted(summary[py].drop_nulls().unique().to_list())\ngrid = [[summary.filter((pl.col(px) == x) & (pl.col(py) == y))[metric].mean() for x in xs] for y in ys]\ngrid = [[float(\"nan\") if v is None else v for v in row] for row in grid]\nfig, ax = plt.subplots(figsize=(10, 5))\nim = ax.imshow(grid, origin=\"lower\", aspect=\"auto\", cmap=\"YlGnBu\")\nax.set_xticks(range(len(xs)), [str(x) for x in xs])\nax.set_yticks(range(len(ys)), [str(y) for y in ys])\nax.set_xlabel(px)\nax.set_ylabel(py)\nax.set_title(metric)\nfig.colorbar(im)\nplt.show()"
        );
        b.push(chart(
            plots,
            &format!("heatmap_{metric}"),
            &title,
            &h,
            code,
        )?);
    }
    Ok(())
}
