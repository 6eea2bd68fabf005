//! Trade-offs across all cells (the cost / risk Pareto chart and its table), heatmaps
//! over two swept parameters, and the SPEC elasticity metrics of the charted cells.

use super::{chart, fmt, py_cells, Ctx};
use crate::error::{Error, Result};
use crate::report::analysis::{distinct, CellRow};
use crate::report::charts::{Heatmap, ParetoChart};
use crate::report::document::Block;

pub(super) fn section(cx: &Ctx<'_>, b: &mut Vec<Block>) -> Result<()> {
    let (d, plots, front, requests) = (cx.d, cx.plots, &cx.front, cx.requests);
    let rows = &d.rows;
    let risk = |r: &CellRow| cx.risk(r);
    let (risk_name, _) = cx.risk_words();
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
