//! The comparisons against the scenario's baseline (`comparisons.csv`), stated with their
//! intervals and Holm-corrected p-values. A difference whose interval holds zero is not
//! called a saving or a cost.

use super::fmt;
use crate::report::data::SweepData;

/// One sentence per compared cell (the cheapest six), or `None` without comparisons.
pub(super) fn finding(d: &SweepData) -> Option<String> {
    let (h, rows) =
        crate::sweep::outputs::read_rows(&d.dir.join(crate::sweep::comparisons::FILE)).ok()?;
    let col = |n: &str| h.iter().position(|c| c == n);
    let (cell, base) = (col("cell")?, col("baseline_policy")?);
    let bf = col("baseline_forecaster")?;
    let num = |r: &[String], n: &str| {
        col(n)
            .and_then(|i| r[i].parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // Runnable cells only: bounds are no choice.
    let label = |c: &str| {
        d.rows
            .iter()
            .find(|r| r.cell.to_string() == c)
            .map(|r| format!("{} / {}", r.forecaster, r.label()))
    };
    let mut cmp: Vec<(&Vec<String>, String)> = rows
        .iter()
        .filter_map(|r| Some((r, label(&r[cell])?)))
        .collect();
    if cmp.is_empty() {
        return None;
    }
    cmp.sort_by(|a, b| {
        num(a.0, "cost_replica_hours_diff").total_cmp(&num(b.0, "cost_replica_hours_diff"))
    });
    let phrase = |r: &[String], m: &str, unit: &str, less: &str, more: &str| {
        let (x, lo, hi) = (
            num(r, &format!("{m}_diff")),
            num(r, &format!("{m}_diff_lo95")),
            num(r, &format!("{m}_diff_hi95")),
        );
        let p = num(r, &format!("{m}_p_holm"));
        if !(lo.is_finite() && hi.is_finite()) {
            return format!("{} {unit} (one run: no interval)", signed(x));
        }
        let verdict = if hi < 0.0 {
            less
        } else if lo > 0.0 {
            more
        } else {
            "no clear difference"
        };
        format!(
            "{} {unit} [{}, {}], {verdict}{}",
            signed(x),
            fmt(lo),
            fmt(hi),
            if p.is_finite() {
                format!(" ({}, Holm)", pvalue(p))
            } else {
                String::new()
            }
        )
    };
    let parts: Vec<String> = cmp
        .iter()
        .take(6)
        .map(|(r, name)| {
            format!(
                "{name} against {} / {}: cost {}; under-provisioning {}",
                r[bf],
                r[base],
                phrase(
                    r,
                    "cost_replica_hours",
                    "replica-hours",
                    "cheaper",
                    "dearer"
                ),
                phrase(r, "under_events", "events", "fewer", "more"),
            )
        })
        .collect();
    Some(format!(
        "Paired comparisons ({} cells; {}; differences with 95 % intervals): {}{}.",
        cmp.len(),
        d.manifest["statistics"]["intervals"]
            .as_str()
            .map_or("intervals", |s| s.split(',').next().unwrap_or(s)),
        parts.join("; "),
        if cmp.len() > 6 { "; …" } else { "" }
    ))
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", fmt(x))
    } else {
        fmt(x)
    }
}

fn pvalue(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}
