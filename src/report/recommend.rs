//! "What should I run?": one recommendation per condition. Service properties — the
//! swept `sim.*` parameters (start-up delay, capacity, …), with the trace and fidelity
//! fixed per sweep — are conditions a user does not choose; forecasters, policies and
//! their parameters are the choices. Pure functions.

use super::analysis::{distinct, CellRow};

/// How cells are ranked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Fluid mode: under-provisioning events within a budget, then cost.
    UnderEvents { budget: f64 },
    /// Request mode: the share of requests over the SLO (or dropped) within a budget (%),
    /// then cost; past the budget, the fewest violations, then the lowest p99.
    Slo { budget_pct: f64 },
}

impl Objective {
    /// The ranked quantity of `r` (lower is better).
    pub fn risk(&self, r: &CellRow) -> f64 {
        match self {
            Objective::UnderEvents { .. } => r.under_events,
            Objective::Slo { .. } => r.metric("slo_violation_pct"),
        }
    }
    fn budget(&self) -> f64 {
        match *self {
            Objective::UnderEvents { budget } => budget,
            Objective::Slo { budget_pct } => budget_pct,
        }
    }
    /// What the budget means, for sentences.
    pub fn describe(&self) -> String {
        match self {
            Objective::UnderEvents { budget } => {
                format!(
                    "at most {} under-provisioning events",
                    super::analysis::short_number(*budget)
                )
            }
            Objective::Slo { budget_pct } => format!(
                "at most {} % of requests over the SLO or dropped",
                super::analysis::short_number(*budget_pct)
            ),
        }
    }
}

/// The recommended cell of one condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// `startup_delay_s=60, capacity_per_replica=25`, or empty when nothing is swept.
    pub condition: String,
    /// Index into the rows.
    pub row: usize,
    /// False when no cell of the condition meets the budget (the least risky is shown).
    pub within_budget: bool,
    /// Rows of the same condition.
    pub members: Vec<usize>,
}

/// The condition of a row: its swept simulation parameters.
pub fn condition(r: &CellRow) -> Vec<(String, Option<u64>)> {
    r.params
        .iter()
        .filter(|(k, _)| k.starts_with("sim."))
        .map(|(k, v)| (k.clone(), v.map(f64::to_bits)))
        .collect()
}

/// The condition as text.
pub fn condition_label(r: &CellRow) -> String {
    r.params
        .iter()
        .filter(|(k, _)| k.starts_with("sim."))
        .filter_map(|(k, v)| v.map(|v| format!("{}={v}", k.trim_start_matches("sim."))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One recommendation per condition, in the order conditions first appear. Within a
/// condition: the cheapest cell within the budget (ties: less risk, then lower cell); if
/// none, the least risky (ties, request mode: lower p99 latency, then cheaper; fluid
/// mode: cheaper, then lower p99).
pub fn recommend(rows: &[CellRow], objective: Objective) -> Vec<Recommendation> {
    let budget = objective.budget();
    distinct(rows.iter().map(condition))
        .into_iter()
        .filter_map(|c| {
            let members: Vec<usize> = (0..rows.len())
                .filter(|&i| condition(&rows[i]) == c)
                .collect();
            let within = members
                .iter()
                .copied()
                .filter(|&i| objective.risk(&rows[i]) <= budget && rows[i].cost.is_finite())
                .min_by(|&a, &b| {
                    rows[a]
                        .cost
                        .total_cmp(&rows[b].cost)
                        .then(
                            objective
                                .risk(&rows[a])
                                .total_cmp(&objective.risk(&rows[b])),
                        )
                        .then(a.cmp(&b))
                });
            let row = within.or_else(|| {
                members.iter().copied().min_by(|&a, &b| {
                    let p99 = rows[a]
                        .metric("latency_p99_ms")
                        .total_cmp(&rows[b].metric("latency_p99_ms"));
                    let cost = rows[a].cost.total_cmp(&rows[b].cost);
                    let ties = match objective {
                        Objective::Slo { .. } => p99.then(cost),
                        Objective::UnderEvents { .. } => cost.then(p99),
                    };
                    objective
                        .risk(&rows[a])
                        .total_cmp(&objective.risk(&rows[b]))
                        .then(ties)
                        .then(a.cmp(&b))
                })
            })?;
            Some(Recommendation {
                condition: condition_label(&rows[row]),
                row,
                within_budget: within.is_some(),
                members,
            })
        })
        .collect()
}

/// Start of the `len`-step window with the largest sum of `bad` (the first such window);
/// 0 when the series is not longer than the window.
pub fn worst_window(bad: &[f64], len: usize) -> usize {
    if bad.len() <= len || len == 0 {
        return 0;
    }
    let mut sum: f64 = bad[..len].iter().sum();
    let (mut best, mut at) = (sum, 0);
    for s in 1..=bad.len() - len {
        sum += bad[s + len - 1] - bad[s - 1];
        if sum > best + 1e-9 {
            best = sum;
            at = s;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: usize, delay: f64, buffer: f64, cost: f64, under: f64, slo: f64) -> CellRow {
        CellRow {
            cell,
            forecaster: "f".into(),
            policy: "buffered".into(),
            params: vec![
                ("sim.startup_delay_s".into(), Some(delay)),
                ("policy.buffer".into(), Some(buffer)),
            ],
            cost,
            under_events: under,
            over_pct: 0.0,
            switches: 0.0,
            metrics: vec![
                ("slo_violation_pct".into(), slo),
                ("latency_p99_ms".into(), 100.0 * under),
            ],
        }
    }

    #[test]
    fn one_recommendation_per_start_up_delay_not_the_best_delay_overall() {
        // Regression (#12): the report treated the start-up delay as a knob, so every
        // "best" cell was at delay 0 and 120 s had no answer.
        let rows = vec![
            row(0, 0.0, 1.0, 10.0, 2.0, 0.5),
            row(1, 0.0, 1.2, 12.0, 0.0, 0.1),
            row(2, 120.0, 1.0, 10.0, 30.0, 9.0),
            row(3, 120.0, 1.2, 12.0, 9.0, 3.0),
            row(4, 120.0, 1.5, 15.0, 1.0, 0.8),
        ];
        let r = recommend(&rows, Objective::UnderEvents { budget: 2.0 });
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].condition.as_str(), r[0].row, r[0].within_budget),
            ("startup_delay_s=0", 0, true)
        );
        assert_eq!(
            (r[1].condition.as_str(), r[1].row),
            ("startup_delay_s=120", 4)
        );
        assert_eq!(r[1].members, vec![2, 3, 4]);
        // Over budget with equal risk, fluid mode takes the cheaper cell.
        let tie = vec![
            row(0, 0.0, 1.0, 72.0, 18.0, 0.0),
            row(1, 0.0, 1.2, 41.0, 18.0, 0.0),
        ];
        assert_eq!(
            recommend(&tie, Objective::UnderEvents { budget: 2.0 })[0].row,
            1
        );
        // Request mode ranks by SLO violations: within 0.2 %, only the dearer cell at 0 s.
        let r = recommend(&rows, Objective::Slo { budget_pct: 0.2 });
        assert_eq!(r[0].row, 1);
        // Nothing at 120 s meets 0.2 %: the fewest violations, flagged.
        assert_eq!((r[1].row, r[1].within_budget), (4, false));
    }

    #[test]
    fn the_worst_window_is_where_the_most_goes_wrong() {
        let bad = [0.0, 1.0, 0.0, 0.0, 3.0, 4.0, 0.0, 1.0];
        assert_eq!(worst_window(&bad, 2), 4);
        assert_eq!(worst_window(&bad, 8), 0);
        assert_eq!(worst_window(&[0.0; 5], 2), 0);
    }
}
