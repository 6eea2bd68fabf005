//! Trade-offs across all cells (the cost / risk Pareto chart and its table), heatmaps
//! over two swept parameters, and the SPEC elasticity metrics of the charted cells.

use super::{chart, fmt, py_cells, Ctx};
use crate::error::{Error, Result};
use crate::report::analysis::{distinct, CellRow};
use crate::report::charts::{BarPanel, FrontPoint, Heatmap, MetricBars, ParetoChart, FRONT_LABELS};
use crate::report::document::Block;
use crate::report::recommend::recommend;

pub(super) fn section(cx: &Ctx<'_>, b: &mut Vec<Block>) -> Result<()> {
    let (d, plots, front, requests) = (cx.d, cx.plots, &cx.front, cx.requests);
    let rows = &d.rows;
    let risk = |r: &CellRow| cx.risk(r);
    let (risk_name, _) = cx.risk_words();
    // Trade-offs across all cells.
    b.push(Block::Heading(2, "Trade-offs across all cells".into()));
    let risk_col = if requests {
        "slo_violation_pct"
    } else {
        "under_events"
    };
    let pc = ParetoChart {
        y_label: if requests {
            "requests over the SLO or dropped (%)".into()
        } else {
            "under-provisioning events (steps)".into()
        },
        points: rows.iter().map(|r| (r.cost, risk(r))).collect(),
        front: front
            .iter()
            .map(|&i| FrontPoint {
                x: rows[i].cost,
                y: risk(&rows[i]),
                label: rows[i].configuration(),
                x_interval: rows[i].interval("cost_replica_hours"),
                y_interval: rows[i].interval(risk_col),
            })
            .collect(),
    };
    let intervals = pc
        .front
        .iter()
        .any(|f| f.x_interval.is_some() || f.y_interval.is_some());
    let params_py = format!("{:?}", d.param_columns);
    b.push(chart(plots, "pareto", &format!(
        "Cost against {risk_name}, Pareto front in red; lettered points' forecaster / policy (parameters) in the key{}",
        if intervals { "; bars are 95 % intervals" } else { "" }
    ), &pc,
        format!("params = {params_py}\nrisk = \"{risk_col}\"\ns = summary.sort([\"cost_replica_hours\", risk, \"cell\"])\nfront, best = [], float(\"inf\")\nfor row in s.iter_rows(named=True):\n    if row[risk] < best:\n        best = row[risk]\n        front.append(row)\n\ndef interval(row, m):\n    if row.get(m + \"_ci95\") is not None:\n        return row[m + \"_ci95\"], row[m + \"_ci95\"]\n    if row.get(m + \"_lo95\") is not None and row.get(m + \"_hi95\") is not None:\n        return row[m] - row[m + \"_lo95\"], row[m + \"_hi95\"] - row[m]\n    return 0.0, 0.0\n\nfig, ax = plt.subplots(figsize=(12, 6))\nax.scatter(summary[\"cost_replica_hours\"], summary[risk], s=8, color=\"grey\", label=\"cell\")\nxs, ys = [r[\"cost_replica_hours\"] for r in front], [r[risk] for r in front]\nxe = list(zip(*[interval(r, \"cost_replica_hours\") for r in front])) if front else None\nye = list(zip(*[interval(r, risk) for r in front])) if front else None\nax.errorbar(xs, ys, xerr=xe, yerr=ye, fmt=\"o-\", color=\"tab:red\", ecolor=\"lightcoral\", label=\"Pareto front\")\nkey = []\nfor k, r in enumerate(front[:: max(1, -(-len(front) // {FRONT_LABELS}))]):\n    p = \", \".join(f\"{{c.split('.')[-1]}}={{r[c]}}\" for c in params if r.get(c) is not None)\n    ax.annotate(f\" {{chr(65 + k)}}\", (r[\"cost_replica_hours\"], r[risk]))\n    key.append(f\"{{chr(65 + k)}}  {{r['forecaster']}} / {{r['policy']}}\" + (f\" ({{p}})\" if p else \"\"))\nax.text(0.45, 0.8, \"\\n\".join(key), transform=ax.transAxes, fontsize=8, va=\"top\", bbox=dict(facecolor=\"white\", alpha=0.85))\nax.set_xlabel(\"cost (replica-hours)\")\nax.set_ylabel({:?})\nax.legend()\nplt.show()", pc.y_label))?);
    b.push(Block::Table {
        header: ["cell", "forecaster", "policy and parameters", "cost (replica-h)", "under events", "SLO violations %", "over %"].map(String::from).to_vec(),
        rows: front.iter().map(|&i| { let r = &rows[i]; vec![r.cell.to_string(), r.forecaster.clone(), r.label(), fmt(r.cost), fmt(r.under_events), fmt(r.metric("slo_violation_pct")), fmt(r.over_pct)] }).collect(),
        python: "pl.DataFrame(front).select([\"cell\", \"forecaster\", \"policy\", \"cost_replica_hours\", \"under_events\", \"slo_violation_pct\", \"over_pct\"])".into(),
    });

    Ok(())
}

/// The SPEC elasticity metrics of the recommended cell and the baselines.
pub(super) fn elasticity(cx: &Ctx<'_>, b: &mut Vec<Block>) {
    let reps = &cx.reps;
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
        python: format!("{}\nsummary.filter(pl.col(\"cell\").is_in([c for c, _ in cells])).select([\"cell\", \"forecaster\", \"policy\", {}])", py_cells(reps), el.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ")),
    });
}

/// Heatmaps of the chosen metrics over two swept parameters (`--heatmap`, else the first
/// two swept).
pub(super) fn heatmaps(cx: &Ctx<'_>, b: &mut Vec<Block>) -> Result<()> {
    let (d, opts, plots) = (cx.d, cx.opts, cx.plots);
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

/// Regret against the optimal schedule (perfect foresight, minimum cost): for each policy,
/// its best cell under the recommended cell's condition (ranked as the recommendation
/// is), as cost above the optimum, with the cost's 95 % interval carried over.
pub(super) fn regret(cx: &Ctx<'_>, b: &mut Vec<Block>) -> Result<()> {
    let d = cx.d;
    let Some(rec) = cx.recs.first() else {
        return Ok(());
    };
    let mut picks: Vec<usize> = Vec::new();
    for policy in distinct(rec.members.iter().map(|&i| d.rows[i].policy.clone())) {
        let keep: Vec<usize> = rec
            .members
            .iter()
            .copied()
            .filter(|&i| {
                d.rows[i].policy == policy && d.rows[i].metric("regret_cost_pct").is_finite()
            })
            .collect();
        let sub: Vec<CellRow> = keep.iter().map(|&i| d.rows[i].clone()).collect();
        if let Some(r) = recommend(&sub, cx.objective).first() {
            picks.push(keep[r.row]);
        }
    }
    if picks.is_empty() {
        return Ok(());
    }
    let rows: Vec<&CellRow> = picks.iter().map(|&i| &d.rows[i]).collect();
    let panel = BarPanel::new(
        "cost above the optimal schedule (%)",
        rows.iter().map(|r| r.metric("regret_cost_pct")).collect(),
        rows.iter()
            .map(|r| {
                // regret = cost / optimum − 1, so the cost's interval maps through it.
                let optimum = r.cost / (1.0 + r.metric("regret_cost_pct") / 100.0);
                r.interval("cost_replica_hours")
                    .map(|(lo, hi)| (100.0 * (lo / optimum - 1.0), 100.0 * (hi / optimum - 1.0)))
            })
            .collect(),
    );
    let bars = MetricBars {
        labels: rows.iter().map(|r| r.policy.clone()).collect(),
        panels: vec![panel],
    };
    b.push(Block::Heading(
        2,
        "Regret against the optimal schedule".into(),
    ));
    b.push(Block::Para(format!(
        "Each policy's best cell{} ({}), as cost above the minimum-cost schedule that serves all demand with perfect foresight (the `optimal` policy's bound). A policy below zero under-provisions: it is cheaper than serving all demand can be.",
        if rec.condition.is_empty() { String::new() } else { format!(" at {}", rec.condition) },
        cx.objective.describe()
    )));
    let cells: Vec<String> = rows
        .iter()
        .map(|r| format!("({}, {:?})", r.cell, r.policy))
        .collect();
    b.push(chart(
        cx.plots,
        "regret",
        "Cost above the optimal schedule per policy",
        &bars,
        format!(
            "cells = [{}]\nrows = [summary.filter(pl.col(\"cell\") == c).row(0, named=True) for c, _ in cells]\nfig, ax = plt.subplots(figsize=(12, 4))\nax.bar([p for _, p in cells], [r[\"regret_cost_pct\"] for r in rows], color=[f\"C{{i}}\" for i in range(len(rows))])\nax.axhline(0, color=\"black\", lw=0.8)\nax.set_ylabel(\"cost above the optimal schedule (%)\")\nax.tick_params(axis=\"x\", labelrotation=30)\nplt.show()",
            cells.join(", ")
        ),
    )?);
    Ok(())
}
