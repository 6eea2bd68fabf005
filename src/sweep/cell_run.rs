//! Running one cell: simulate, score, write its timeline, return its summary row.

use std::path::Path;

use super::cells::Cell;
use super::outputs;
use super::prepare::Prepared;
use super::summary_row::SummaryRow;
use crate::error::Result;
use crate::metrics;
use crate::rng::{derive_seed, Stream};
use crate::scenario::Scenario;
use crate::sim::{simulate, Fidelity, Replay, RunInput, SimConfig};

/// Runs `cell` and returns its summary row.
pub fn run_cell(
    sc: &Scenario,
    p: &Prepared,
    cell: Cell,
    params: &[String],
    tl_dir: Option<&Path>,
    samples_dir: Option<&Path>,
) -> Result<SummaryRow> {
    let (sim, score_cfg) = &p.sims[cell.sim];
    let (passign, pspec) = &sc.policies[cell.policy];
    let mut policy = pspec.build();
    let forecast = cell.forecaster.map(|f| {
        p.forecasts[f]
            .as_ref()
            .expect("forecast computed for this cell")
    });
    let input = RunInput {
        history: &p.workload.demand[..p.train],
        demand: &p.workload.demand[p.train..p.train + p.test],
        first_step: p.train,
        forecast,
        // Common random numbers: every policy of a simulation variant sees the same arrivals.
        seed: derive_seed(sc.seed, cell.sim as u64, Stream::Arrivals),
        missing: p
            .workload
            .missing
            .get(p.train..p.train + p.test)
            .unwrap_or(&[]),
        replay: replay(p, cell.sim, sim),
    };
    let out = simulate(sim, input, policy.as_mut());
    let mut m = metrics::score(&out, sim, score_cfg);
    let mut intervals = Vec::new();
    if let Some(b) = p.bootstrap {
        // Paired: every cell of a simulation variant is resampled on the same blocks.
        let seed = derive_seed(sc.seed, cell.sim as u64, Stream::Bootstrap);
        let r = super::bootstrap::resample(&out, sim, score_cfg, b, seed);
        if let Some(dir) = samples_dir.filter(|_| !r.compared.is_empty()) {
            super::bootstrap::write_samples(
                &dir.join(super::bootstrap::samples_name(cell.index)),
                &r.compared,
            )?;
        }
        intervals = r.intervals;
    }
    let best = p.optimal[cell.sim].replica_hours();
    m.regret_cost_pct = 100.0 * (m.cost_replica_hours / best - 1.0);
    if let Some(dir) = tl_dir {
        outputs::write_timeline(
            &dir.join(timeline_name(cell.index)),
            &out.timeline,
            &p.workload,
            p.train,
        )?;
    }
    let fname = cell
        .forecaster
        .map_or("none".to_string(), |f| sc.forecasters[f].1.display_name());
    let fassign = cell.forecaster.map(|f| &sc.forecasters[f].0);
    let values = params
        .iter()
        .map(|col| {
            sc.sims[cell.sim]
                .params
                .iter()
                .chain(fassign.into_iter().flatten())
                .chain(passign.iter())
                .find(|(k, _)| k == col)
                .map(|(_, v)| *v)
        })
        .collect();
    Ok(SummaryRow {
        scenario: sc.name.clone(),
        cell: cell.index,
        forecaster: fname,
        policy: pspec.display_name(),
        params: values,
        metrics: m,
        seed: input.seed,
        intervals,
    })
}

/// File name of a cell's timeline.
pub fn timeline_name(index: usize) -> String {
    format!("cell_{index:06}.parquet")
}

/// A request log's arrivals in the test window, replayed in request mode.
fn replay<'a>(p: &'a Prepared, sim_index: usize, sim: &SimConfig) -> Option<Replay<'a>> {
    let log = p.workload.requests.as_deref()?;
    if sim.fidelity != Fidelity::Requests {
        return None;
    }
    let step = p.workload.step_ms;
    let (lo, hi) = (p.train as u64 * step, (p.train + p.test) as u64 * step);
    let idx = log.between(lo, hi);
    Some(Replay {
        t_ms: &log.t_ms[idx.clone()],
        offset_ms: lo,
        service_ms: p.services[sim_index].as_ref().map(|s| &s[idx]),
    })
}
