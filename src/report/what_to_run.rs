//! The report's answer: a headline sentence, one recommendation per condition against the
//! baselines of that condition, and (request mode) the SLO and latency of each.

use super::analysis::{saving_pct, short_number as fmt, CellRow, Saving};
use super::data::SweepData;
use super::document::Block;
use super::recommend::{recommend, Objective, Recommendation};

/// Whether the sweep ran in request mode.
pub fn request_mode(d: &SweepData) -> bool {
    d.manifest["parameters"]["simulation"]["fidelity"].as_str() == Some("requests")
}

/// The objective of this report.
pub fn objective(d: &SweepData, under_budget: f64, slo_budget_pct: Option<f64>) -> Objective {
    if request_mode(d) {
        Objective::Slo {
            budget_pct: slo_budget_pct.unwrap_or(1.0),
        }
    } else {
        Objective::UnderEvents {
            budget: under_budget,
        }
    }
}

/// True when `r` runs the baseline policy kind `base` (`static`, `hpa`).
pub fn is_kind(d: &SweepData, r: &CellRow, base: &str) -> bool {
    d.policy_kinds
        .get(&r.policy)
        .map_or(r.policy == base, |k| k == base)
}

/// The baseline of kind `base` in a recommendation's condition, ranked like the rest.
pub fn baseline(
    d: &SweepData,
    rec: &Recommendation,
    objective: Objective,
    base: &str,
) -> Option<usize> {
    let keep: Vec<usize> = rec
        .members
        .iter()
        .copied()
        .filter(|&i| is_kind(d, &d.rows[i], base))
        .collect();
    let sub: Vec<CellRow> = keep.iter().map(|&i| d.rows[i].clone()).collect();
    recommend(&sub, objective).first().map(|r| keep[r.row])
}

/// A cell's choice: forecaster and policy with its own (not the condition's) parameters.
pub fn choice(r: &CellRow) -> String {
    let knobs: Vec<String> = r
        .params
        .iter()
        .filter(|(k, _)| !k.starts_with("sim."))
        .filter_map(|(k, v)| v.map(|v| format!("{}={v}", k.rsplit('.').next().unwrap_or(k))))
        .collect();
    let policy = if knobs.is_empty() {
        r.policy.clone()
    } else {
        format!("{} ({})", r.policy, knobs.join(", "))
    };
    if r.forecaster == "none" {
        policy
    } else {
        format!("{} with {policy}", r.forecaster)
    }
}

fn risk_text(r: &CellRow, objective: Objective) -> String {
    match objective {
        Objective::UnderEvents { .. } => {
            format!("{} under-provisioning events", fmt(r.under_events))
        }
        Objective::Slo { .. } => format!(
            "{} % of requests over the SLO or dropped, p99 {} ms",
            fmt(r.metric("slo_violation_pct")),
            fmt(r.metric("latency_p99_ms"))
        ),
    }
}

/// The first sentence of the report.
pub fn headline(d: &SweepData, recs: &[Recommendation], objective: Objective) -> String {
    let Some(first) = recs.first() else {
        return "The sweep has no cells to recommend from.".into();
    };
    let sentence = |rec: &Recommendation| {
        let r = &d.rows[rec.row];
        let vs = baseline(d, rec, objective, "hpa")
            .filter(|&h| h != rec.row)
            .map(|h| format!(", {}", Saving::of(r, &d.rows[h]).words("the best HPA cell")))
            .unwrap_or_default();
        let within = if rec.within_budget {
            String::new()
        } else {
            format!(
                " (no cell meets {}: this one comes closest)",
                objective.describe()
            )
        };
        format!(
            "{}run {} (cell {}): {} replica-hours, {}{vs}{within}",
            if rec.condition.is_empty() {
                String::new()
            } else {
                format!("at {}, ", rec.condition)
            },
            choice(r),
            r.cell,
            fmt(r.cost),
            risk_text(r, objective),
        )
    };
    let mut text = format!(
        "Recommendation, cheapest with {}: {}",
        objective.describe(),
        sentence(first)
    );
    if recs.len() > 1 {
        let more = recs.len() - 1;
        text.push_str(&format!(
            "; {more} more condition{} in the table below.",
            if more == 1 { "" } else { "s" }
        ));
    } else {
        text.push('.');
    }
    text
}

/// "What to run": the recommendation per condition with its baselines, then in request
/// mode the SLO and latency of each of them.
pub fn blocks(d: &SweepData, recs: &[Recommendation], objective: Objective) -> Vec<Block> {
    let mut out = vec![
        Block::Heading(2, "What to run".into()),
        Block::Para(format!(
            "Service properties swept in [simulation] (start-up delay, capacity, …) are conditions, not choices: each gets its own recommendation, the cheapest cell with {} (else the one closest to it), next to the best static and HPA cells under the same condition.",
            objective.describe()
        )),
    ];
    let risk_header = match objective {
        Objective::UnderEvents { .. } => "under events",
        Objective::Slo { .. } => "SLO violations %",
    };
    let mut rows = Vec::new();
    let mut slo_rows = Vec::new();
    for rec in recs {
        let mut cells = vec![("recommended", rec.row)];
        for base in ["hpa", "static"] {
            if let Some(b) = baseline(d, rec, objective, base).filter(|&b| b != rec.row) {
                cells.push((base, b));
            }
        }
        let rec_cost = d.rows[rec.row].cost;
        for (role, i) in cells {
            let r = &d.rows[i];
            rows.push(vec![
                if rec.condition.is_empty() {
                    "–".into()
                } else {
                    rec.condition.clone()
                },
                role.to_string(),
                choice(r),
                r.cell.to_string(),
                fmt(r.cost),
                fmt(objective.risk(r)),
                if role == "recommended" {
                    (if rec.within_budget {
                        "within budget"
                    } else {
                        "over budget"
                    })
                    .into()
                } else {
                    format!("{:+.1} %", -saving_pct(rec_cost, r.cost))
                },
            ]);
            if matches!(objective, Objective::Slo { .. }) {
                slo_rows.push(vec![
                    if rec.condition.is_empty() {
                        "–".into()
                    } else {
                        rec.condition.clone()
                    },
                    role.to_string(),
                    r.cell.to_string(),
                    fmt(r.metric("slo_violation_pct")),
                    fmt(r.metric("latency_p50_ms")),
                    fmt(r.metric("latency_p95_ms")),
                    fmt(r.metric("latency_p99_ms")),
                    fmt(r.metric("unserved_requests")),
                ]);
            }
        }
    }
    let cells_py: Vec<String> = recs
        .iter()
        .map(|r| d.rows[r.row].cell.to_string())
        .collect();
    out.push(Block::Table {
        header: ["condition", "role", "forecaster and policy", "cell", "cost (replica-h)", risk_header, "recommended's cost vs this"]
            .map(String::from)
            .to_vec(),
        rows,
        python: format!(
            "summary.filter(pl.col(\"cell\").is_in([{}])).select([\"cell\", \"forecaster\", \"policy\", \"cost_replica_hours\", \"under_events\", \"slo_violation_pct\"])",
            cells_py.join(", ")
        ),
    });
    if !slo_rows.is_empty() {
        out.push(Block::Heading(3, "SLO and latency".into()));
        out.push(Block::Table {
            header: ["condition", "role", "cell", "SLO violations %", "p50 ms", "p95 ms", "p99 ms", "dropped"]
                .map(String::from)
                .to_vec(),
            rows: slo_rows,
            python: "summary.select([\"cell\", \"forecaster\", \"policy\", \"slo_violation_pct\", \"latency_p50_ms\", \"latency_p95_ms\", \"latency_p99_ms\", \"unserved_requests\"]).sort(\"slo_violation_pct\")".into(),
        });
    }
    out
}
