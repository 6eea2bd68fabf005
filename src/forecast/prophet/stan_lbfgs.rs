//! The L-BFGS that Prophet runs: Stan's `BFGSMinimizer` with `LBFGSUpdate` and its
//! Wolfe line search (stan/optimization/bfgs.hpp, bfgs_linesearch.hpp,
//! lbfgs_update.hpp), with CmdStan's default settings (history 5, initial step 0.001,
//! tol_obj 1e-12, tol_rel_obj 1e4, tol_grad 1e-8, tol_rel_grad 1e7, tol_param 1e-8).
//!
//! Prophet's objective is non-smooth (a Laplace prior on the trend changes) and Stan's
//! L-BFGS stops on its relative-gradient test well before the optimum on some series.
//! Reproducing the algorithm step for step — the cubic step-size guess, the zoom with
//! its bisection every fifth trial, the scaled reset, the stopping tests — reproduces
//! where Prophet stops, not only the model it fits. `tests/prophet.rs` checks the
//! objective after each iteration against CmdStan's own log.

/// Why the minimiser stopped (Stan's `TerminationCondition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    AbsF,
    AbsGrad,
    AbsX,
    RelF,
    RelGrad,
    MaxIter,
    /// Stan's TERM_LSFAIL: no step satisfied the Wolfe conditions, even after a reset.
    LineSearchFailed,
}

/// CmdStan's L-BFGS settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub history: usize,
    pub init_alpha: f64,
    pub tol_obj: f64,
    pub tol_rel_obj: f64,
    pub tol_grad: f64,
    pub tol_rel_grad: f64,
    pub tol_param: f64,
    pub max_iter: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            history: 5,
            init_alpha: 1e-3,
            tol_obj: 1e-12,
            tol_rel_obj: 1e4,
            tol_grad: 1e-8,
            tol_rel_grad: 1e7,
            tol_param: 1e-8,
            // Prophet passes iter = 1e4.
            max_iter: 10_000,
        }
    }
}

/// The result: final point and value, iterations, why it stopped and the objective
/// after every iteration (CmdStan's "log prob" column, negated).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub x: Vec<f64>,
    pub f: f64,
    pub iterations: usize,
    pub termination: Termination,
    pub trace: Vec<f64>,
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const MIN_ALPHA: f64 = 1e-12;
const MAX_LS_ITS: usize = 20;
const MAX_LS_RESTARTS: usize = 10;
const MIN_RANGE: f64 = 1e-16;

/// An accepted point on the line x0 + α p, with its value and gradient.
struct Trial {
    alpha: f64,
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
}

/// Objective adaptor: `f(x, grad)` returns the value; a non-finite value or gradient
/// is a failed evaluation, as in Stan's `ModelAdaptor`.
struct Func<F> {
    f: F,
}

impl<F: FnMut(&[f64], &mut [f64]) -> f64> Func<F> {
    fn eval(&mut self, x: &[f64], g: &mut [f64]) -> Option<f64> {
        let v = (self.f)(x, g);
        (v.is_finite() && g.iter().all(|v| v.is_finite())).then_some(v)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn along(x0: &[f64], alpha: f64, p: &[f64]) -> Vec<f64> {
    x0.iter().zip(p).map(|(x, d)| x + alpha * d).collect()
}

/// Stan's `CubicInterp(df0, x1, f1, df1, loX, hiX)`: the minimiser on [lo, hi] of the
/// cubic through (0, 0) and (x1, f1) with slopes df0 and df1.
fn cubic_interp(df0: f64, x1: f64, f1: f64, df1: f64, lo: f64, hi: f64) -> f64 {
    let c3 = (-12.0 * f1 + 6.0 * x1 * (df0 + df1)) / (x1 * x1 * x1);
    let c2 = -(4.0 * df0 + 2.0 * df1) / x1 + 6.0 * f1 / (x1 * x1);
    let c1 = df0;
    let t_s = (c2 * c2 - 2.0 * c1 * c3).sqrt();
    let s1 = -(c2 + t_s) / c3;
    let s2 = -(c2 - t_s) / c3;
    let value = |x: f64| x * (x * (x * c3 / 3.0 + c2) / 2.0 + c1);
    let (mut min_f, mut min_x) = (value(lo), lo);
    let v = value(hi);
    if v < min_f {
        (min_f, min_x) = (v, hi);
    }
    for s in [s1, s2] {
        // NaN roots fail both comparisons, as in C++.
        if lo < s && s < hi {
            let v = value(s);
            if v < min_f {
                (min_f, min_x) = (v, s);
            }
        }
    }
    min_x
}

/// The end of a bracket in the zoom: step, value, directional derivative.
#[derive(Clone, Copy)]
struct End {
    a: f64,
    f: f64,
    d: f64,
}

/// The line searched: start, value there, direction and the two Wolfe thresholds
/// c1·gᵀp and c2·gᵀp.
struct Line<'a> {
    x0: &'a [f64],
    f0: f64,
    p: &'a [f64],
    c1dfp: f64,
    c2dfp: f64,
}

/// Stan's `WolfLSZoom`.
fn zoom<F: FnMut(&[f64], &mut [f64]) -> f64>(
    func: &mut Func<F>,
    line: &Line<'_>,
    mut lo: End,
    mut hi: End,
) -> Option<Trial> {
    let Line {
        x0,
        f0,
        p,
        c1dfp,
        c2dfp,
    } = *line;
    let mut it = 0usize;
    let mut g = vec![0.0; x0.len()];
    loop {
        it += 1;
        if (lo.a - hi.a).abs() < MIN_RANGE || next_after(lo.a, hi.a) == hi.a {
            return None;
        }
        let mut alpha = if it.is_multiple_of(5) {
            0.5 * (lo.a + hi.a)
        } else {
            let d1 = lo.d + hi.d - 3.0 * (lo.f - hi.f) / (lo.a - hi.a);
            let mut d2 = (d1 * d1 - lo.d * hi.d).sqrt();
            if hi.a < lo.a {
                d2 = -d2;
            }
            let a = hi.a - (hi.a - lo.a) * (hi.d + d2 - d1) / (hi.d - lo.d + 2.0 * d2);
            let (amin, amax) = (lo.a.min(hi.a), lo.a.max(hi.a));
            let w = 0.01 * (lo.a - hi.a).abs();
            if !a.is_finite() || a < amin + w || a > amax - w {
                0.5 * (lo.a + hi.a)
            } else {
                a
            }
        };
        let mut x = along(x0, alpha, p);
        let f = loop {
            match func.eval(&x, &mut g) {
                Some(f) => break f,
                None => {
                    let prev = alpha;
                    let amin = lo.a.min(hi.a);
                    alpha = 0.5 * (alpha + amin);
                    if (amin - alpha).abs() < MIN_RANGE || alpha == prev {
                        return None;
                    }
                    x = along(x0, alpha, p);
                }
            }
        };
        let d = dot(&g, p);
        if f > f0 + alpha * c1dfp || f >= lo.f {
            hi = End { a: alpha, f, d };
        } else {
            if d.abs() <= -c2dfp {
                return Some(Trial { alpha, x, f, g });
            }
            if d * (hi.a - lo.a) >= 0.0 {
                hi = lo;
            }
            lo = End { a: alpha, f, d };
        }
    }
}

/// `std::nextafter(from, to)` for finite doubles.
fn next_after(from: f64, to: f64) -> f64 {
    if from == to || from.is_nan() || to.is_nan() {
        return to;
    }
    if from == 0.0 {
        let tiny = f64::from_bits(1);
        return if to > 0.0 { tiny } else { -tiny };
    }
    let bits = from.to_bits();
    let up = (to > from) == (from > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

/// Stan's `WolfeLineSearch` from x0 along p, first trial step `alpha`.
fn wolfe<F: FnMut(&[f64], &mut [f64]) -> f64>(
    func: &mut Func<F>,
    alpha: f64,
    p: &[f64],
    x0: &[f64],
    f0: f64,
    g0: &[f64],
) -> Option<Trial> {
    let dfp = dot(g0, p);
    let line = Line {
        x0,
        f0,
        p,
        c1dfp: C1 * dfp,
        c2dfp: C2 * dfp,
    };
    let mut prev = End {
        a: MIN_ALPHA,
        f: f0,
        d: dfp,
    };
    let mut alpha1 = alpha;
    let (mut nits, mut restarts) = (0usize, 0usize);
    let mut g = vec![0.0; x0.len()];
    loop {
        if nits >= MAX_LS_ITS {
            return None;
        }
        let x = along(x0, alpha1, p);
        let Some(f) = func.eval(&x, &mut g) else {
            if restarts >= MAX_LS_RESTARTS {
                return None;
            }
            alpha1 = 0.5 * (prev.a + alpha1);
            restarts += 1;
            continue;
        };
        restarts = 0;
        let d = dot(&g, p);
        let here = End { a: alpha1, f, d };
        // Stan tests sufficient decrease with the *initial* step here.
        if f > f0 + alpha * line.c1dfp || (f >= prev.f && nits > 0) {
            return zoom(func, &line, prev, here);
        }
        if d.abs() <= -line.c2dfp {
            return Some(Trial {
                alpha: alpha1,
                x,
                f,
                g,
            });
        }
        if d >= 0.0 {
            return zoom(func, &line, here, prev);
        }
        prev = here;
        alpha1 *= 10.0;
        nits += 1;
    }
}

/// Stan's `LBFGSUpdate`: a ring of (1/sᵀy, y, s) and the scaling γ = sᵀy / yᵀy.
struct History {
    cap: usize,
    buf: std::collections::VecDeque<(f64, Vec<f64>, Vec<f64>)>,
    gamma: f64,
}

impl History {
    /// Adds an update; on a reset forgets the past and returns yᵀy / sᵀy.
    fn update(&mut self, y: Vec<f64>, s: Vec<f64>, reset: bool) -> f64 {
        let sy = dot(&y, &s);
        let yy = dot(&y, &y);
        let b0 = if reset {
            self.buf.clear();
            yy / sy
        } else {
            1.0
        };
        self.gamma = sy / yy;
        if self.buf.len() == self.cap {
            self.buf.pop_front();
        }
        self.buf.push_back((1.0 / sy, y, s));
        b0
    }

    /// p = −H g by the two-loop recursion.
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        let mut p: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut alphas = vec![0.0; self.buf.len()];
        for (i, (rho, y, s)) in self.buf.iter().enumerate().rev() {
            let a = rho * dot(s, &p);
            for (pi, yi) in p.iter_mut().zip(y) {
                *pi -= a * yi;
            }
            alphas[i] = a;
        }
        p.iter_mut().for_each(|v| *v *= self.gamma);
        for ((rho, y, s), a) in self.buf.iter().zip(&alphas) {
            let b = rho * dot(y, &p);
            for (pi, si) in p.iter_mut().zip(s) {
                *pi += (a - b) * si;
            }
        }
        p
    }
}

/// Minimises `f` (value; gradient written into its second argument) from `x0` exactly
/// as CmdStan's `optimize algorithm=lbfgs` does. Errors when the start is not finite.
pub fn minimize(
    f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    settings: &Settings,
) -> Result<Outcome, String> {
    let mut func = Func { f };
    let n = x0.len();
    let mut xk = x0;
    let mut gk = vec![0.0; n];
    let mut fk = func
        .eval(&xk, &mut gk)
        .ok_or("the objective is not finite at the initial point")?;
    let mut pk: Vec<f64> = gk.iter().map(|v| -v).collect();
    let mut qn = History {
        cap: settings.history.max(1),
        buf: Default::default(),
        gamma: 1.0,
    };
    // Previous iterate's value, gradient, direction and step (Stan's _k_1 members).
    let (mut fk1, mut gk1, mut pk1, mut alphak1) = (f64::NAN, vec![0.0; n], vec![0.0; n], 1.0);
    let mut trace = Vec::new();
    let eps = f64::EPSILON;
    for it in 1.. {
        let mut reset = if it == 1 { 1 } else { 0 };
        let trial = loop {
            if reset != 0 {
                pk = gk.iter().map(|v| -v).collect();
            }
            let alpha = if it > 1 && reset != 2 {
                (1.01
                    * cubic_interp(
                        dot(&gk1, &pk1),
                        alphak1,
                        fk - fk1,
                        dot(&gk, &pk1),
                        MIN_ALPHA,
                        1.0,
                    ))
                .min(1.0)
            } else {
                settings.init_alpha
            };
            match wolfe(&mut func, alpha, &pk, &xk, fk, &gk) {
                Some(t) => break t,
                None if reset != 0 => {
                    return Ok(Outcome {
                        x: xk,
                        f: fk,
                        iterations: it - 1,
                        termination: Termination::LineSearchFailed,
                        trace,
                    })
                }
                None => reset = 2,
            }
        };
        let sk: Vec<f64> = trial.x.iter().zip(&xk).map(|(a, b)| a - b).collect();
        let yk: Vec<f64> = trial.g.iter().zip(&gk).map(|(a, b)| a - b).collect();
        fk1 = fk;
        gk1 = std::mem::replace(&mut gk, trial.g);
        xk = trial.x;
        fk = trial.f;
        pk1 = std::mem::take(&mut pk);
        let grad_norm = dot(&gk, &gk).sqrt();
        let step_norm = dot(&sk, &sk).sqrt();
        if reset != 0 {
            let b0 = qn.update(yk, sk, true);
            pk1.iter_mut().for_each(|v| *v /= b0);
            alphak1 = trial.alpha * b0;
        } else {
            qn.update(yk, sk, false);
            alphak1 = trial.alpha;
        }
        pk = qn.direction(&gk);
        trace.push(fk);
        let rel_obj = (fk1 - fk).abs() / fk1.abs().max(fk.abs()).max(1.0);
        let rel_grad = -dot(&pk, &gk) / fk.abs().max(1.0);
        let termination = if (fk1 - fk).abs() < settings.tol_obj {
            Some(Termination::AbsF)
        } else if grad_norm < settings.tol_grad {
            Some(Termination::AbsGrad)
        } else if step_norm < settings.tol_param {
            Some(Termination::AbsX)
        } else if it >= settings.max_iter {
            Some(Termination::MaxIter)
        } else if rel_obj < settings.tol_rel_obj * eps {
            Some(Termination::RelF)
        } else if rel_grad < settings.tol_rel_grad * eps {
            Some(Termination::RelGrad)
        } else {
            None
        };
        if let Some(termination) = termination {
            return Ok(Outcome {
                x: xk,
                f: fk,
                iterations: it,
                termination,
                trace,
            });
        }
    }
    unreachable!("the iteration loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(p: &[f64], g: &mut [f64]) -> f64 {
        let (a, b) = (p[0], p[1]);
        g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[1] = 200.0 * (b - a * a);
        (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
    }

    #[test]
    fn minimises_the_rosenbrock_function() {
        let out = minimize(rosenbrock, vec![-1.2, 1.0], &Settings::default()).unwrap();
        assert!(
            (out.x[0] - 1.0).abs() < 1e-4 && (out.x[1] - 1.0).abs() < 1e-4,
            "{out:?}"
        );
        assert_ne!(out.termination, Termination::LineSearchFailed);
        assert_eq!(out.trace.len(), out.iterations);
        // Every accepted step decreases the objective (sufficient decrease).
        assert!(
            out.trace.windows(2).all(|w| w[1] <= w[0]),
            "{:?}",
            out.trace
        );
    }

    #[test]
    fn cubic_interpolation_finds_the_cubic_minimum() {
        // f(x) = x³ − x through (0, 0) and (1, 0) with slopes −1 and 2: minimum 1/√3.
        let x = cubic_interp(-1.0, 1.0, 0.0, 2.0, 1e-12, 1.0);
        assert!((x - 3f64.sqrt().recip()).abs() < 1e-12, "{x}");
        // The interval bounds the answer.
        assert_eq!(cubic_interp(-1.0, 1.0, 0.0, 2.0, 0.9, 1.0), 0.9);
        // A decreasing function: the upper bound.
        assert_eq!(cubic_interp(-1.0, 1.0, -1.0, -1.0, 0.0, 1.0), 1.0);
    }

    #[test]
    fn next_after_steps_one_ulp() {
        assert_eq!(next_after(1.0, 2.0), 1.0 + f64::EPSILON);
        assert!(next_after(1.0, 0.0) < 1.0);
        assert_eq!(next_after(-1.0, -2.0), -1.0 - f64::EPSILON);
        assert_eq!(next_after(0.0, 1.0), f64::from_bits(1));
    }

    #[test]
    fn a_non_finite_start_is_an_error() {
        let err = minimize(|_, _| f64::NAN, vec![0.0], &Settings::default()).unwrap_err();
        assert!(err.contains("initial point"), "{err}");
    }

    #[test]
    fn a_gradient_that_lies_ends_in_a_failed_line_search() {
        // The gradient claims descent along +x but the value rises: no step satisfies
        // sufficient decrease, the reset does not help, and the start is returned.
        let f = |p: &[f64], g: &mut [f64]| {
            g[0] = -1.0;
            (p[0] - 1.0).powi(2)
        };
        let out = minimize(f, vec![1.0], &Settings::default()).unwrap();
        assert_eq!(out.termination, Termination::LineSearchFailed);
        assert_eq!(out.x, vec![1.0]);
        assert_eq!(out.iterations, 0);
    }

    #[test]
    fn failed_evaluations_shorten_the_step() {
        // log barrier: undefined for x ≤ 0; the minimum of x − log x is at 1.
        let f = |p: &[f64], g: &mut [f64]| {
            if p[0] <= 0.0 {
                return f64::NAN;
            }
            g[0] = 1.0 - 1.0 / p[0];
            p[0] - p[0].ln()
        };
        let out = minimize(f, vec![5.0], &Settings::default()).unwrap();
        assert!((out.x[0] - 1.0).abs() < 1e-4, "{out:?}");
    }
}
