//! Prophet's model as its source defines it (prophet 1.5.0, `forecaster.py` and
//! `stan_model/prophet.stan`): scaling, changepoints, Fourier seasonalities, regressors,
//! the MAP objective with its analytic gradient, and point predictions.

// Loops index several parallel arrays (times, rows, trend) at once.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};

use super::config::{Growth, Mode, Optimizer, ProphetConfig, Scaling, Switch};

const DAY_MS: f64 = 86_400_000.0;

/// A resolved Fourier seasonality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seasonality {
    pub name: String,
    pub period_days: f64,
    pub order: usize,
    pub prior_scale: f64,
    pub multiplicative: bool,
}

/// A fitted regressor's standardisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressorFit {
    pub name: String,
    pub mu: f64,
    pub std: f64,
    pub prior_scale: f64,
    pub multiplicative: bool,
}

/// A fitted Prophet model: everything needed to predict, serialisable as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProphetModel {
    pub config: ProphetConfig,
    /// First timestamp of the history (local wall-clock ms) and the history's span.
    pub start_ms: i64,
    pub t_scale_ms: f64,
    pub y_scale: f64,
    /// Offset removed before scaling (minmax minimum, or the logistic floor).
    pub y_offset: f64,
    pub changepoints_t: Vec<f64>,
    pub seasonalities: Vec<Seasonality>,
    pub regressors: Vec<RegressorFit>,
    pub k: f64,
    pub m: f64,
    pub delta: Vec<f64>,
    pub beta: Vec<f64>,
    pub sigma_obs: f64,
    /// Optimiser iterations the fit took.
    pub iterations: usize,
}

/// Design of a set of timestamps: scaled time and features (row-major).
pub(crate) struct Design {
    pub t: Vec<f64>,
    pub x: Vec<f64>,
    pub f: usize,
    pub mult: Vec<bool>,
}

fn fourier(days: f64, period: f64, order: usize, out: &mut Vec<f64>) {
    for i in 0..order {
        let a = 2.0 * (i + 1) as f64 * std::f64::consts::PI * days / period;
        out.push(a.sin());
        out.push(a.cos());
    }
}

/// Prophet's seasonality switches: yearly from 730 days of history, weekly from 14 days
/// (and spacing under a week), daily from 2 days (and spacing under a day).
fn resolve_seasonalities(
    cfg: &ProphetConfig,
    span_days: f64,
    min_dt_days: f64,
) -> Vec<Seasonality> {
    let mode = |m: Option<Mode>| m.unwrap_or(cfg.seasonality_mode) == Mode::Multiplicative;
    let mut out = Vec::new();
    for (name, switch, period, order, min_span, max_dt) in [
        (
            "yearly",
            cfg.yearly_seasonality,
            365.25,
            10,
            730.0,
            f64::INFINITY,
        ),
        ("weekly", cfg.weekly_seasonality, 7.0, 3, 14.0, 7.0),
        ("daily", cfg.daily_seasonality, 1.0, 4, 2.0, 1.0),
    ] {
        let on = match switch {
            Switch::On => true,
            Switch::Off => false,
            Switch::Auto => span_days >= min_span && min_dt_days < max_dt,
        };
        if on {
            out.push(Seasonality {
                name: name.into(),
                period_days: period,
                order,
                prior_scale: cfg.seasonality_prior_scale,
                multiplicative: mode(None),
            });
        }
    }
    for s in &cfg.seasonalities {
        out.push(Seasonality {
            name: s.name.clone(),
            period_days: s.period,
            order: s.order,
            prior_scale: s.prior_scale.unwrap_or(cfg.seasonality_prior_scale),
            multiplicative: mode(s.mode),
        });
    }
    out
}

impl ProphetModel {
    pub(crate) fn design(&self, ds_ms: &[i64], regs: &[&[f64]]) -> Design {
        let n = ds_ms.len();
        let f = self
            .seasonalities
            .iter()
            .map(|s| 2 * s.order)
            .sum::<usize>()
            + self.regressors.len();
        let mut x = Vec::with_capacity(n * f);
        for (i, &ms) in ds_ms.iter().enumerate() {
            let days = ms as f64 / DAY_MS;
            for s in &self.seasonalities {
                fourier(days, s.period_days, s.order, &mut x);
            }
            for (r, fit) in self.regressors.iter().enumerate() {
                x.push((regs[r][i] - fit.mu) / fit.std);
            }
        }
        let mut mult = Vec::with_capacity(f);
        for s in &self.seasonalities {
            mult.extend(std::iter::repeat_n(s.multiplicative, 2 * s.order));
        }
        mult.extend(self.regressors.iter().map(|r| r.multiplicative));
        let t = ds_ms
            .iter()
            .map(|&ms| (ms - self.start_ms) as f64 / self.t_scale_ms)
            .collect();
        Design { t, x, f, mult }
    }

    fn prior_scales(&self) -> Vec<f64> {
        let mut p = Vec::new();
        for s in &self.seasonalities {
            p.extend(std::iter::repeat_n(s.prior_scale, 2 * s.order));
        }
        p.extend(self.regressors.iter().map(|r| r.prior_scale));
        p
    }

    /// Scaled trend at scaled times `t` with changepoints `cps` and their `deltas`.
    pub(crate) fn trend_scaled(
        &self,
        t: &[f64],
        cps: &[f64],
        deltas: &[f64],
        cap: f64,
    ) -> Vec<f64> {
        match self.config.growth {
            Growth::Flat => vec![self.m; t.len()],
            Growth::Linear => piecewise_linear(t, self.k, self.m, cps, deltas),
            Growth::Logistic => piecewise_logistic(t, cap, self.k, self.m, cps, deltas),
        }
    }

    fn cap_scaled(&self) -> f64 {
        self.config
            .cap
            .map_or(1.0, |c| (c - self.y_offset) / self.y_scale)
    }

    /// Point forecast and trend (series units) at `ds_ms` with regressor columns `regs`.
    pub fn predict_point(&self, ds_ms: &[i64], regs: &[&[f64]]) -> (Vec<f64>, Vec<f64>) {
        let d = self.design(ds_ms, regs);
        let trend = self.trend_scaled(&d.t, &self.changepoints_t, &self.delta, self.cap_scaled());
        let mut yhat = Vec::with_capacity(ds_ms.len());
        let mut tr = Vec::with_capacity(ds_ms.len());
        for i in 0..ds_ms.len() {
            let (xa, xm) = components(&d, i, &self.beta);
            let t_unscaled = trend[i] * self.y_scale + self.y_offset;
            yhat.push(t_unscaled * (1.0 + xm) + xa * self.y_scale);
            tr.push(t_unscaled);
        }
        (yhat, tr)
    }
}

impl ProphetModel {
    /// The MAP objective (negative log posterior, constants dropped) of this model's
    /// parameters on a history: lower is a better fit. For diagnostics and validation.
    pub fn neg_log_posterior(&self, ds_ms: &[i64], y: &[f64], regs: &[&[f64]]) -> f64 {
        let design = self.design(ds_ms, regs);
        let ys: Vec<f64> = y
            .iter()
            .map(|v| (v - self.y_offset) / self.y_scale)
            .collect();
        let obj = Objective {
            d: &design,
            y: &ys,
            cps: &self.changepoints_t,
            prior: self.prior_scales(),
            tau: self.config.changepoint_prior_scale,
            growth: self.config.growth,
            cap: self.cap_scaled(),
            smooth: false,
        };
        let mut p = vec![self.k, self.m];
        p.extend(&self.delta);
        p.extend(&self.beta);
        p.push(self.sigma_obs.ln());
        let mut g = vec![0.0; p.len()];
        obj.eval(&p, &mut g)
    }
}

/// (additive, multiplicative) seasonal/regressor terms of row `i` (scaled units).
pub(crate) fn components(d: &Design, i: usize, beta: &[f64]) -> (f64, f64) {
    let row = &d.x[i * d.f..(i + 1) * d.f];
    let (mut a, mut m) = (0.0, 0.0);
    for j in 0..d.f {
        if d.mult[j] {
            m += row[j] * beta[j];
        } else {
            a += row[j] * beta[j];
        }
    }
    (a, m)
}

/// Prophet's `piecewise_linear` (changepoints sorted).
pub(crate) fn piecewise_linear(t: &[f64], k: f64, m: f64, cps: &[f64], deltas: &[f64]) -> Vec<f64> {
    t.iter()
        .map(|&ti| {
            let (mut kk, mut mm) = (k, m);
            for (c, d) in cps.iter().zip(deltas) {
                if ti >= *c {
                    kk += d;
                    mm -= d * c;
                }
            }
            kk * ti + mm
        })
        .collect()
}

/// prophet.stan's logistic trend: rate k_s[j] and offset m_s[j] in segment j (after j
/// changepoints, which are sorted), with the offsets γ that keep the curve continuous.
pub(crate) struct Logistic {
    pub(crate) k_s: Vec<f64>,
    pub(crate) m_s: Vec<f64>,
}

impl Logistic {
    pub(crate) fn new(k: f64, m: f64, delta: &[f64], cps: &[f64]) -> Logistic {
        let s = delta.len();
        let mut k_s = Vec::with_capacity(s + 1);
        k_s.push(k);
        for d in delta {
            k_s.push(k_s[k_s.len() - 1] + d);
        }
        let mut m_s = Vec::with_capacity(s + 1);
        m_s.push(m);
        for j in 0..s {
            let gamma = (cps[j] - m_s[j]) * (1.0 - k_s[j] / k_s[j + 1]);
            m_s.push(m_s[j] + gamma);
        }
        Logistic { k_s, m_s }
    }

    /// inv_logit(k_s (t − m_s)) in segment `seg`.
    pub(crate) fn sigmoid(&self, seg: usize, t: f64) -> f64 {
        1.0 / (1.0 + (-self.k_s[seg] * (t - self.m_s[seg])).exp())
    }
}

/// Prophet's `piecewise_logistic` (changepoints sorted).
pub(crate) fn piecewise_logistic(
    t: &[f64],
    cap: f64,
    k: f64,
    m: f64,
    cps: &[f64],
    deltas: &[f64],
) -> Vec<f64> {
    let l = Logistic::new(k, m, deltas, cps);
    t.iter()
        .map(|&ti| cap * l.sigmoid(cps.partition_point(|&c| c <= ti), ti))
        .collect()
}

/// Changepoint positions (history timestamps) as Prophet places them.
fn changepoints(ds_ms: &[i64], cfg: &ProphetConfig) -> Vec<i64> {
    let hist = (ds_ms.len() as f64 * cfg.changepoint_range).floor() as usize;
    let mut n = cfg.n_changepoints;
    if n + 1 > hist {
        n = hist.saturating_sub(1);
    }
    if n == 0 {
        return vec![];
    }
    // numpy.linspace(0, hist - 1, n + 1).round() — round half to even, like numpy.
    let stop = (hist - 1) as f64;
    let step = stop / n as f64;
    (1..=n)
        .map(|i| {
            let v = if i == n { stop } else { i as f64 * step };
            ds_ms[v.round_ties_even() as usize]
        })
        .collect()
}

/// Fits Prophet to `y` at local wall-clock times `ds_ms` (sorted), with regressor
/// columns `regs` in the order of `cfg.regressors`.
pub fn fit(
    cfg: &ProphetConfig,
    ds_ms: &[i64],
    y: &[f64],
    regs: &[&[f64]],
) -> Result<ProphetModel, String> {
    fit_traced(cfg, ds_ms, y, regs).map(|(m, _)| m)
}

/// [`fit`], also returning the objective after every optimiser iteration (the
/// negative of CmdStan's "log prob" column; empty for the exact additive solver).
pub fn fit_traced(
    cfg: &ProphetConfig,
    ds_ms: &[i64],
    y: &[f64],
    regs: &[&[f64]],
) -> Result<(ProphetModel, Vec<f64>), String> {
    cfg.validate()?;
    let n = y.len();
    if n < 2 || ds_ms.len() != n {
        return Err(format!("needs at least 2 observations, has {n}"));
    }
    if regs.len() != cfg.regressors.len() || regs.iter().any(|r| r.len() < n) {
        return Err("regressor columns do not match the configured regressors".into());
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err("y has non-finite values".into());
    }
    let start_ms = ds_ms[0];
    let span = (ds_ms[n - 1] - start_ms) as f64;
    if span <= 0.0 {
        return Err("timestamps must increase".into());
    }
    let min_dt = ds_ms
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .min()
        .unwrap_or(1) as f64;
    let (y_offset, y_scale) = match (cfg.growth, cfg.scaling) {
        (Growth::Logistic, _) => {
            let floor = cfg.floor.unwrap_or(0.0);
            (
                floor,
                y.iter().map(|v| (v - floor).abs()).fold(0.0, f64::max),
            )
        }
        (_, Scaling::Absmax) => (0.0, y.iter().map(|v| v.abs()).fold(0.0, f64::max)),
        (_, Scaling::Minmax) => {
            let lo = y.iter().cloned().fold(f64::INFINITY, f64::min);
            (lo, y.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - lo)
        }
    };
    let y_scale = if y_scale > 0.0 { y_scale } else { 1.0 };
    let regressors = cfg
        .regressors
        .iter()
        .zip(regs)
        .map(|(r, col)| {
            let col = &col[..n];
            let binary = col.iter().all(|&v| v == 0.0 || v == 1.0)
                && col.contains(&0.0)
                && col.contains(&1.0);
            let standardize = r.standardize.unwrap_or(!binary);
            let (mu, std) = if standardize {
                let mu = col.iter().sum::<f64>() / n as f64;
                let sd =
                    (col.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
                (mu, if sd > 0.0 { sd } else { 1.0 })
            } else {
                (0.0, 1.0)
            };
            RegressorFit {
                name: r.name.clone(),
                mu,
                std,
                prior_scale: r.prior_scale.unwrap_or(cfg.holidays_prior_scale),
                multiplicative: r.mode.unwrap_or(cfg.seasonality_mode) == Mode::Multiplicative,
            }
        })
        .collect();
    let mut model = ProphetModel {
        config: cfg.clone(),
        start_ms,
        t_scale_ms: span,
        y_scale,
        y_offset,
        changepoints_t: vec![],
        seasonalities: resolve_seasonalities(cfg, span / DAY_MS, min_dt / DAY_MS),
        regressors,
        k: 0.0,
        m: 0.0,
        delta: vec![],
        beta: vec![],
        sigma_obs: 1.0,
        iterations: 0,
    };
    let cps = changepoints(ds_ms, cfg);
    model.changepoints_t = if cps.is_empty() {
        vec![0.0]
    } else {
        cps.iter().map(|&c| (c - start_ms) as f64 / span).collect()
    };
    let design = model.design(ds_ms, regs);
    let ys: Vec<f64> = y.iter().map(|v| (v - y_offset) / y_scale).collect();
    let (k0, m0) = init_trend(&model, &design.t, &ys);
    let s = model.changepoints_t.len();
    let f = design.f;
    let mut x0 = vec![0.0; 2 + s + f + 1];
    x0[0] = k0;
    x0[1] = m0;
    let obj = Objective {
        d: &design,
        y: &ys,
        cps: &model.changepoints_t,
        prior: model.prior_scales(),
        tau: cfg.changepoint_prior_scale,
        growth: cfg.growth,
        cap: model.cap_scaled(),
        smooth: false,
    };
    let linear = !design.mult.iter().any(|&m| m) && cfg.growth != Growth::Logistic;
    // Prophet optimises with Newton below 100 rows; Newton converges to the optimum.
    let (p, iters, trace) = if cfg.optimizer == Optimizer::StanLbfgs && n >= 100 {
        super::solve::fit_stan(&obj, x0, linear)?
    } else {
        let (p, iters) = super::solve::fit_exact(&obj, x0, linear);
        (p, iters, vec![])
    };
    model.k = p[0];
    model.m = p[1];
    model.delta = p[2..2 + s].to_vec();
    model.beta = p[2 + s..2 + s + f].to_vec();
    model.sigma_obs = p[2 + s + f].exp();
    model.iterations = iters;
    Ok((model, trace))
}

/// Prophet's initial k and m: the line through the first and last points (linear), the
/// logistic curve through them (logistic), or the mean (flat).
fn init_trend(model: &ProphetModel, t: &[f64], ys: &[f64]) -> (f64, f64) {
    let (i0, i1) = (0, t.len() - 1);
    let tt = t[i1] - t[i0];
    match model.config.growth {
        Growth::Flat => (0.0, ys.iter().sum::<f64>() / ys.len() as f64),
        Growth::Linear => {
            let k = (ys[i1] - ys[i0]) / tt;
            (k, ys[i0] - k * t[i0])
        }
        Growth::Logistic => {
            let c = model.cap_scaled();
            let y0 = ys[i0].clamp(0.01 * c, 0.99 * c);
            let y1 = ys[i1].clamp(0.01 * c, 0.99 * c);
            let mut r0 = c / y0;
            let r1 = c / y1;
            if (r0 - r1).abs() <= 0.01 {
                r0 *= 1.05;
            }
            let (l0, l1) = ((r0 - 1.0).ln(), (r1 - 1.0).ln());
            let m = l0 * tt / (l0 - l1);
            ((l0 - l1) / tt, m)
        }
    }
}

pub(crate) use super::objective::Objective;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let n = 300;
        let ds: Vec<i64> = (0..n as i64)
            .map(|i| 1_700_000_000_000 + i * 3_600_000)
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 50.0 + 0.1 * i as f64 + 10.0 * (i as f64 / 24.0 * std::f64::consts::TAU).sin())
            .collect();
        let reg: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64).collect();
        for (mode, growth) in [
            (Mode::Additive, Growth::Linear),
            (Mode::Multiplicative, Growth::Linear),
            (Mode::Additive, Growth::Logistic),
            (Mode::Multiplicative, Growth::Logistic),
        ] {
            let cfg = ProphetConfig {
                seasonality_mode: mode,
                regressors: vec![super::super::config::RegressorConfig {
                    name: "r".into(),
                    prior_scale: None,
                    standardize: None,
                    mode: None,
                }],
                ..ProphetConfig::default()
            };
            let model = fit(&cfg, &ds, &y, &[&reg]).unwrap();
            let design = model.design(&ds, &[&reg]);
            let ys: Vec<f64> = y.iter().map(|v| v / model.y_scale).collect();
            let obj = Objective {
                d: &design,
                y: &ys,
                cps: &model.changepoints_t,
                prior: model.prior_scales(),
                tau: 0.05,
                growth,
                cap: 1.5,
                smooth: false,
            };
            let mut p: Vec<f64> = (0..2 + model.changepoints_t.len() + design.f + 1)
                .map(|i| 0.01 * ((i * 37 % 11) as f64 - 5.0))
                .collect();
            if growth == Growth::Logistic {
                // A growing curve well inside the cap: rate 2, midpoint 0.3.
                (p[0], p[1]) = (2.0, 0.3);
            }
            let mut g = vec![0.0; p.len()];
            obj.eval(&p, &mut g);
            let mut gn = vec![0.0; p.len()];
            let mut dummy = vec![0.0; p.len()];
            for i in 0..p.len() {
                let h = 1e-6;
                let mut q = p.clone();
                q[i] += h;
                let up = obj.eval(&q, &mut dummy);
                q[i] -= 2.0 * h;
                let down = obj.eval(&q, &mut dummy);
                gn[i] = (up - down) / (2.0 * h);
            }
            for i in 0..p.len() {
                assert!(
                    (g[i] - gn[i]).abs() < 1e-3 * gn[i].abs().max(1.0),
                    "{mode:?} {growth:?} param {i}: {} vs {}",
                    g[i],
                    gn[i]
                );
            }
        }
    }

    /// Stan's L-BFGS stops at or above the optimum the exact solvers find; on this
    /// well-conditioned series both forecasts agree closely. Multiplicative models go
    /// through the other exact solver (preconditioned L-BFGS).
    #[test]
    fn stan_lbfgs_stops_near_the_exact_optimum() {
        let n = 24 * 20;
        let ds: Vec<i64> = (0..n as i64)
            .map(|i| 1_700_000_000_000 + i * 3_600_000)
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                100.0
                    + if i > 300 { 0.8 * (i - 300) as f64 } else { 0.0 }
                    + 20.0 * (i as f64 / 24.0 * std::f64::consts::TAU).sin()
                    + ((i * 7919) % 17) as f64
            })
            .collect();
        for mode in [Mode::Additive, Mode::Multiplicative] {
            let cfg = ProphetConfig {
                seasonality_mode: mode,
                ..ProphetConfig::default()
            };
            let (stan, trace) = fit_traced(&cfg, &ds, &y, &[]).unwrap();
            let exact = fit(
                &ProphetConfig {
                    optimizer: Optimizer::Exact,
                    ..cfg.clone()
                },
                &ds,
                &y,
                &[],
            )
            .unwrap();
            let (fs, fe) = (
                stan.neg_log_posterior(&ds, &y, &[]),
                exact.neg_log_posterior(&ds, &y, &[]),
            );
            assert_eq!(trace.len(), stan.iterations);
            assert!(
                (trace[trace.len() - 1] - fs).abs() < 1e-6 * fs.abs(),
                "{mode:?}"
            );
            assert!(
                fe <= fs + 1e-6 * fs.abs(),
                "{mode:?}: exact {fe} > L-BFGS {fs}"
            );
            assert!(fs - fe < 1e-2 * fs.abs(), "{mode:?}: {fs} vs {fe}");
            eprintln!(
                "{mode:?}: L-BFGS {fs:.3} ({} iterations), exact {fe:.3}",
                stan.iterations
            );
            let (pa, _) = stan.predict_point(&ds[n - 48..], &[]);
            let (pb, _) = exact.predict_point(&ds[n - 48..], &[]);
            for (x, z) in pa.iter().zip(&pb) {
                assert!((x - z).abs() < 2e-2 * x.abs(), "{mode:?}: {x} vs {z}");
            }
        }
    }

    #[test]
    fn logistic_growth_saturates_at_the_cap() {
        let n = 24 * 30;
        let ds: Vec<i64> = (0..n as i64)
            .map(|i| 1_700_000_000_000 + i * 3_600_000)
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 1000.0 / (1.0 + (-(i as f64 - 300.0) / 60.0).exp()))
            .collect();
        let cfg = ProphetConfig {
            growth: Growth::Logistic,
            cap: Some(1000.0),
            daily_seasonality: Switch::Off,
            weekly_seasonality: Switch::Off,
            n_changepoints: 5,
            ..ProphetConfig::default()
        };
        let m = fit(&cfg, &ds, &y, &[]).unwrap();
        let future: Vec<i64> = (n as i64..n as i64 + 200)
            .map(|i| 1_700_000_000_000 + i * 3_600_000)
            .collect();
        let (p, _) = m.predict_point(&future, &[]);
        assert!(
            p.iter().all(|&v| v <= 1000.0 + 1e-6 && v > 950.0),
            "{:?}",
            &p[..3]
        );
    }

    #[test]
    fn changepoints_follow_numpy_linspace_rounding() {
        let ds: Vec<i64> = (0..100).collect();
        let cfg = ProphetConfig::default();
        // hist = 80, 25 changepoints at round(i · 79 / 25).
        let cps = changepoints(&ds, &cfg);
        assert_eq!(cps.len(), 25);
        assert_eq!(cps[0], 3);
        assert_eq!(cps[24], 79);
        // 7.5 → 8 (half to even), as numpy does.
        let cps = changepoints(
            &(0..21).collect::<Vec<i64>>(),
            &ProphetConfig {
                n_changepoints: 2,
                changepoint_range: 1.0,
                ..ProphetConfig::default()
            },
        );
        assert_eq!(cps, vec![10, 20]);
    }
}
