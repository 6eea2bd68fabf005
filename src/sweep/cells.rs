//! The cells of a sweep: simulation variant × forecaster variant × policy variant.
//! Policies that use no forecast run once per simulation variant (forecaster `none`).

use crate::scenario::Scenario;

/// One cell: indices into the scenario's variant lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub index: usize,
    pub sim: usize,
    pub forecaster: Option<usize>,
    pub policy: usize,
}

/// Enumerates cells in a fixed order: simulation variant, then forecaster, then policy.
pub fn enumerate(sc: &Scenario) -> Vec<Cell> {
    let uses: Vec<bool> = sc
        .policies
        .iter()
        .map(|(_, p)| p.build().forecast_lead().is_some())
        .collect();
    let mut cells = Vec::new();
    for sim in 0..sc.sims.len() {
        for f in 0..sc.forecasters.len() {
            for (policy, _) in uses.iter().enumerate().filter(|(_, &u)| u) {
                cells.push(Cell {
                    index: cells.len(),
                    sim,
                    forecaster: Some(f),
                    policy,
                });
            }
        }
        for (policy, _) in uses.iter().enumerate().filter(|(_, &u)| !u) {
            cells.push(Cell {
                index: cells.len(),
                sim,
                forecaster: None,
                policy,
            });
        }
    }
    cells
}

/// Swept-parameter column names, in order of first appearance.
pub fn param_columns(sc: &Scenario) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    let all = sc
        .sims
        .iter()
        .flat_map(|s| s.params.iter())
        .chain(sc.forecasters.iter().flat_map(|f| f.0.iter()))
        .chain(sc.policies.iter().flat_map(|p| p.0.iter()));
    for (k, _) in all {
        if !cols.contains(k) {
            cols.push(k.clone());
        }
    }
    cols
}
