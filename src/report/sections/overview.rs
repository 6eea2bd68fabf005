//! The opening: the headline, what was swept, and the findings (cheapest cell per
//! forecaster within the budget, the Pareto front, savings against the baselines,
//! forecast accuracy).

use super::{fmt, Ctx};
use crate::report::accuracy_section::accuracy_finding;
use crate::report::analysis::{cheapest_within, distinct, CellRow, Saving};
use crate::report::document::Block;
use crate::report::what_to_run;

/// The headline, the description and what was swept.
pub(super) fn intro(cx: &Ctx<'_>, b: &mut Vec<Block>) {
    let (d, recs, objective) = (cx.d, &cx.recs, cx.objective);
    let rows = &d.rows;
    let steps = d.test_steps.max(1);
    let hours = steps as f64 * d.step_ms as f64 / 3.6e6;
    b.push(Block::Para(what_to_run::headline(d, recs, objective)));
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
}

/// The findings, with the table of the cheapest cell per forecaster.
pub(super) fn findings(cx: &Ctx<'_>, b: &mut Vec<Block>) {
    let (d, budget) = (cx.d, cx.budget);
    let rows = &d.rows;
    let requests = cx.requests;
    b.push(Block::Heading(2, "Findings".into()));
    let mut findings = Vec::new();
    let mut cheapest_rows = Vec::new();
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
    findings.push(front_finding(cx));
    if !requests {
        baseline_findings(cx, &mut findings);
    }
    if let Some(line) = zero_finding(rows) {
        findings.push(line);
    }
    if let Some(line) = bounds_finding(d) {
        findings.push(line);
    }
    if let Some(line) = super::comparisons::finding(d) {
        findings.push(line);
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
}

/// The bounds (perfect foresight), cheapest first: what no runnable cell can beat.
fn bounds_finding(d: &crate::report::data::SweepData) -> Option<String> {
    if d.bounds.is_empty() {
        return None;
    }
    let mut b: Vec<&CellRow> = d.bounds.iter().collect();
    b.sort_by(|x, y| x.cost.total_cmp(&y.cost).then(x.cell.cmp(&y.cell)));
    let parts: Vec<String> = b
        .iter()
        .take(6)
        .map(|r| {
            format!(
                "{} / {} (cell {}): {} replica-hours, {} under-provisioning events",
                r.forecaster,
                r.label(),
                r.cell,
                fmt(r.cost),
                fmt(r.under_events)
            )
        })
        .collect();
    Some(format!(
        "Bounds with perfect foresight, left out of the recommendations and the front (no controller can run them): {}{}.",
        parts.join("; "),
        if b.len() > 6 { "; …" } else { "" }
    ))
}

/// Scale to zero: the cells that went to zero, most time at zero first (up to six), with
/// their cold starts, the activator's p95 wait and the share of requests over the SLO;
/// `None` when no cell did.
fn zero_finding(rows: &[CellRow]) -> Option<String> {
    let mut zero: Vec<&CellRow> = rows
        .iter()
        .filter(|r| r.metric("time_at_zero_pct") > 0.0 || r.metric("cold_starts") > 0.0)
        .collect();
    if zero.is_empty() {
        return None;
    }
    zero.sort_by(|a, b| {
        b.metric("time_at_zero_pct")
            .total_cmp(&a.metric("time_at_zero_pct"))
            .then(a.cell.cmp(&b.cell))
    });
    let parts: Vec<String> = zero
        .iter()
        .take(6)
        .map(|r| {
            let wait = r.metric("activator_wait_p95_ms");
            let wait = if wait.is_finite() {
                format!(", requests waited up to {} s (p95) for a cold start", fmt(wait / 1000.0))
            } else {
                String::new()
            };
            format!(
                "{} (cell {}) was at zero {} % of the time with {} cold starts{wait}, {} % of requests over the SLO, {} replica-hours",
                r.label(),
                r.cell,
                fmt(r.metric("time_at_zero_pct")),
                fmt(r.metric("cold_starts")),
                fmt(r.metric("slo_violation_pct")),
                fmt(r.cost),
            )
        })
        .collect();
    Some(format!(
        "Scale to zero: {} of {} cells went to zero. {}{}.",
        zero.len(),
        rows.len(),
        parts.join("; "),
        if zero.len() > 6 { "; …" } else { "" }
    ))
}

/// The Pareto front: its size, its two ends and (up to 12) its cells.
fn front_finding(cx: &Ctx<'_>) -> String {
    let rows = &cx.d.rows;
    let front = &cx.front;
    let risk = |r: &CellRow| cx.risk(r);
    let (risk_name, risk_unit) = cx.risk_words();
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
    format!(
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
    )
}

/// The saving of each forecaster's cheapest cell within budget against the cheapest
/// `static` and `hpa` cells.
fn baseline_findings(cx: &Ctx<'_>, findings: &mut Vec<String>) {
    let (d, budget) = (cx.d, cx.budget);
    let rows = &d.rows;
    for base in ["static", "hpa"] {
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
            let how = Saving::of(&rows[i], &rows[bi]).words("");
            format!("{f} with {}: {how}", rows[i].label())
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
}
