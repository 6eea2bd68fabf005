//! Binding a scenario to its data: workload, window, simulator configurations, and the
//! rolling forecasts (computed once per forecaster variant, shared by every policy).

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::forecast::accuracy::{self, Accuracy, Horizons, Scale};
use crate::forecast::rolling::{rolling_forecast, RollingOrigin};
use crate::forecast::{ForecastTable, Forecaster};
use crate::metrics::ScoreConfig;
use crate::scenario::{window_steps, Scenario, TraceSource};
use crate::sim::SimConfig;
use crate::trace::{self, Gap};
use crate::workload::{generator, Workload};

/// The scenario bound to its data.
pub struct Prepared {
    pub workload: Workload,
    /// What the forecasters fit and forecast when demand is measured
    /// (`[simulation.measurement]`): the measured series; `None`: `workload` itself.
    pub forecast_workload: Option<Workload>,
    pub gaps: Vec<Gap>,
    pub train: usize,
    pub test: usize,
    pub horizon: usize,
    pub sims: Vec<(SimConfig, ScoreConfig)>,
    /// Per simulation variant: the optimal schedule's bound over the test window.
    pub optimal: Vec<crate::sim::optimal::OptimalBound>,
    /// Per simulation variant: each logged request's service time, when its sizes set it.
    pub services: Vec<Option<Vec<u64>>>,
    /// Forecasts per forecaster variant; `None` where this run does not need one.
    pub forecasts: Vec<Option<ForecastTable>>,
    pub accuracy: Vec<Option<Accuracy>>,
    pub inputs: Vec<PathBuf>,
    /// Settings that are legal but almost surely a mistake (also on stderr).
    pub warnings: Vec<String>,
    /// The block bootstrap, resolved against the trace's step.
    pub bootstrap: Option<super::bootstrap::Bootstrap>,
    /// Built forecasters with their rolling set-up.
    models: Vec<(Arc<dyn Forecaster>, RollingOrigin)>,
    /// The one MASE scale of every forecaster, from the training window.
    scale: Scale,
    /// Horizons the policies read, for the accuracy table.
    horizons: Horizons,
}

/// A window length: steps, a duration, or a share of the trace (`"50%"`, for a study over
/// traces of different lengths).
fn window_len(v: &str, step_ms: u64, len: usize) -> std::result::Result<usize, String> {
    match v.trim().strip_suffix('%') {
        Some(p) => {
            let pct: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("'{v}' is not a percentage like \"50%\""))?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err(format!(
                    "'{v}': a share of the trace must be above 0 and at most 100 %"
                ));
            }
            Ok((len as f64 * pct / 100.0).floor() as usize)
        }
        None => window_steps(v, step_ms),
    }
}

/// Loads or generates the scenario's workload.
pub fn load_workload(sc: &Scenario) -> Result<(Workload, Vec<Gap>, Vec<PathBuf>)> {
    match &sc.trace {
        TraceSource::File(spec) => {
            let t = trace::load(spec, &sc.name)?;
            Ok((t.workload, t.gaps, vec![spec.path.clone()]))
        }
        TraceSource::Generator(g) => Ok((generator::generate(&sc.name, g)?, vec![], vec![])),
    }
}

/// Resolves the window and simulator configurations and builds the forecasters (reading
/// forecast files); [`Prepared::forecast`] then computes the forecasts.
pub fn prepare(sc: &Scenario) -> Result<Prepared> {
    prepare_with(sc, true)
}

/// [`prepare`], saying its warnings on stderr only when `announce` (a later replication
/// has them already said by the first).
pub fn prepare_with(sc: &Scenario, announce: bool) -> Result<Prepared> {
    let (workload, gaps, mut inputs) = load_workload(sc)?;
    let err = |m: String| Error::scenario(&sc.path, m);
    let step = workload.step_ms;
    let len = workload.len();
    let train =
        window_len(&sc.train, step, len).map_err(|m| err(format!("[window] train: {m}")))?;
    let test = match &sc.test {
        Some(t) => window_len(t, step, len).map_err(|m| err(format!("[window] test: {m}")))?,
        None => workload.len().saturating_sub(train),
    };
    if train == 0 || test == 0 || train + test > workload.len() {
        return Err(err(format!(
            "[window] train {train} + test {test} steps must both be positive and fit in the trace's {} steps",
            workload.len()
        )));
    }
    // Strings are not sweep axes: every variant names the same sample file, read once.
    let samples = match sc.sims.first() {
        Some(v) => v
            .sim
            .requests
            .read_samples(&sc.base_dir)
            .map_err(|m| err(format!("[simulation] requests: {m}")))?,
        None => None,
    };
    if let Some(f) = sc
        .sims
        .first()
        .and_then(|v| v.sim.requests.samples.as_ref())
    {
        inputs.push(sc.base_dir.join(f));
    }
    let sims = sc
        .sims
        .iter()
        .map(|v| {
            v.sim
                .to_config(step, samples.as_ref())
                .map_err(|m| err(format!("[simulation]: {m}")))
        })
        .collect::<Result<Vec<_>>>()?;
    // The forecasters are given what the controller would have recorded: one measured
    // series, so the measurement cannot differ between variants.
    let measurement = sims.first().and_then(|(c, _)| c.measurement);
    if sims.iter().any(|(c, _)| c.measurement != measurement) {
        return Err(err(
            "[simulation.measurement] cannot be a sweep axis (the forecasters are given the one measured series): write one scenario file per setting and run them together".into(),
        ));
    }
    let forecast_workload = measurement.map(|m| Workload {
        demand: crate::sim::measure::measured_series(m, &workload.demand, step),
        ..workload.clone()
    });
    let services = sc
        .sims
        .iter()
        .map(|v| {
            v.sim
                .requests
                .service_times(workload.requests.as_deref())
                .map_err(|m| err(format!("[simulation] requests: {m}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let max_window = sims
        .iter()
        .map(|(c, _)| c.decision_steps())
        .max()
        .unwrap_or(1);
    let max_lead = sc
        .policies
        .iter()
        .filter_map(|(_, p)| p.build().forecast_lead())
        .max()
        .unwrap_or(0);
    let horizon = max_lead + max_window;
    let mut models = Vec::new();
    for (_, spec) in &sc.forecasters {
        let f = spec.build(
            forecast_workload.as_ref().unwrap_or(&workload),
            &sc.base_dir,
            train..train + test,
        )?;
        if let Some(p) = spec.input_path(&sc.base_dir) {
            inputs.push(p);
        }
        let ro = spec.rolling_origin(workload.steps_per_day(), Some(test), horizon);
        models.push((f, ro));
    }
    let n = models.len();
    let specs: Vec<_> = sc.policies.iter().map(|(_, p)| p.clone()).collect();
    let mut warnings =
        super::warnings::check(&sims, &specs, &workload.demand[train..train + test], step);
    warnings.extend(super::warnings::check_sizes(&sims, &services));
    let bootstrap = match &sc.bootstrap {
        None => None,
        Some(b) => {
            let block =
                window_steps(&b.block, step).map_err(|m| err(format!("[bootstrap] block: {m}")))?;
            if block == 0 {
                return Err(err("[bootstrap] block must be at least one step".into()));
            }
            if block * 4 > test {
                warnings.push(format!(
                    "[bootstrap] block of {block} steps is over a quarter of the {test}-step test window: \
                     the resamples hardly vary, so the intervals come out too narrow; use a shorter block or a longer window"
                ));
            }
            Some(super::bootstrap::Bootstrap {
                block: block.min(test),
                resamples: b.resamples,
            })
        }
    };
    for w in warnings.iter().filter(|_| announce) {
        tracing::warn!("{}: {w}", sc.path.display());
    }
    let scale = Scale::from_training(&workload.demand[..train]);
    let optimal = sims
        .iter()
        .map(|(c, _)| crate::sim::optimal::optimal_bound(c, &workload.demand[train..train + test]))
        .collect();
    let horizons = Horizons {
        lead: max_lead,
        window: max_window,
    };
    Ok(Prepared {
        scale,
        horizons,
        workload,
        forecast_workload,
        gaps,
        train,
        test,
        horizon,
        optimal,
        sims,
        services,
        forecasts: vec![None; n],
        accuracy: vec![None; n],
        inputs,
        warnings,
        bootstrap,
        models,
    })
}

impl Prepared {
    /// Computes, in parallel, the forecasts and accuracy of the forecasters marked in
    /// `needed` (those not computed yet).
    pub fn forecast(&mut self, needed: &[bool]) -> Result<()> {
        let observed = self
            .forecast_workload
            .as_ref()
            .unwrap_or(&self.workload)
            .observed();
        let (y, step, train, test, scale, at) = (
            &observed,
            self.workload.step_ms,
            self.train,
            self.test,
            self.scale,
            self.horizons,
        );
        let results: Vec<Option<Result<(ForecastTable, Accuracy)>>> = self
            .models
            .par_iter()
            .zip(needed.par_iter())
            .zip(self.forecasts.par_iter())
            .map(|(((f, ro), &need), done)| {
                (need && done.is_none()).then(|| {
                    let table = rolling_forecast(f.as_ref(), y, step, train, train + test, *ro)?;
                    let mut acc = accuracy::score(&table, &y[..train + test], scale, at);
                    acc.refit_every = ro.refit_every.min(test);
                    acc.updates_between_refits = f.updates_between_refits();
                    Ok((table, acc))
                })
            })
            .collect();
        for (i, r) in results.into_iter().enumerate() {
            if let Some((t, a)) = r.transpose()? {
                self.forecasts[i] = Some(t);
                self.accuracy[i] = Some(a);
            }
        }
        Ok(())
    }
}
