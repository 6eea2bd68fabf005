//! Solvers for Prophet's MAP problem: Stan's L-BFGS (what Prophet runs) and, for the
//! exact optimum, a majorise-minimise scheme for additive models and diagonally
//! preconditioned L-BFGS for the rest.

// Loops index several parallel arrays (times, rows, trend) at once.
#![allow(clippy::needless_range_loop)]

use super::config::Growth;
use super::lbfgs;
use super::model::{piecewise_linear, Objective};
use super::objective::smooth_abs;
use super::stan_lbfgs::{minimize, Settings, Termination};

/// L-BFGS on z = p / scale, with scale_i ≈ H_ii^(−1/2) at the start (σ from a
/// changepoint-free fit): thousands of iterations on this ill-conditioned problem become
/// a few hundred. Returns the parameters and the iterations used.
fn fit_lbfgs(obj: &Objective<'_>, x0: Vec<f64>) -> (Vec<f64>, usize) {
    let scale = preconditioner(obj, &x0);
    let z0: Vec<f64> = x0.iter().zip(&scale).map(|(p, s)| p / s).collect();
    let mut buf = vec![0.0; x0.len()];
    let (z, iters) = lbfgs::minimize(
        |z, gz| {
            for (b, (zi, si)) in buf.iter_mut().zip(z.iter().zip(&scale)) {
                *b = zi * si;
            }
            let v = obj.eval(&buf, gz);
            for (g, s) in gz.iter_mut().zip(&scale) {
                *g *= s;
            }
            v
        },
        z0,
        10_000,
    );
    (
        z.iter().zip(&scale).map(|(zi, si)| zi * si).collect(),
        iters,
    )
}

/// Normal equations of an additive model with linear or flat growth: given σ the mean
/// is linear in θ = (k, m, δ, β) with rows a = [t, 1, (t − c)+, x], so the sum of
/// squared residuals is yᵀy − 2 bᵀθ + θᵀGθ with G = AᵀA and b = Aᵀy, and the objective
/// costs O(p²) per evaluation whatever the number of rows.
struct Gram {
    g: Vec<f64>,
    b: Vec<f64>,
    yy: f64,
    p: usize,
    n: usize,
}

impl Gram {
    fn new(obj: &Objective<'_>) -> Gram {
        let d = obj.d;
        let n = obj.y.len();
        let s = obj.cps.len();
        let f = d.f;
        let p = 2 + s + f;
        let flat = obj.growth == Growth::Flat;
        let mut g = vec![0.0; p * p];
        let mut b = vec![0.0; p];
        let mut yy = 0.0;
        let mut a = vec![0.0; p];
        for i in 0..n {
            let t = d.t[i];
            a[0] = if flat { 0.0 } else { t };
            a[1] = 1.0;
            for (j, &c) in obj.cps.iter().enumerate() {
                a[2 + j] = if !flat && t >= c { t - c } else { 0.0 };
            }
            a[2 + s..].copy_from_slice(&d.x[i * f..(i + 1) * f]);
            let y = obj.y[i];
            yy += y * y;
            for r in 0..p {
                if a[r] == 0.0 {
                    continue;
                }
                b[r] += a[r] * y;
                let ar = a[r];
                let row = &mut g[r * p..(r + 1) * p];
                for c in r..p {
                    row[c] += ar * a[c];
                }
            }
        }
        for r in 0..p {
            for c in 0..r {
                g[r * p + c] = g[c * p + r];
            }
        }
        Gram { g, b, yy, p, n }
    }

    /// Sum of squared residuals at θ; `gθ` receives Gθ − b (half its gradient).
    fn sse(&self, th: &[f64], g_th: &mut [f64]) -> f64 {
        let p = self.p;
        let mut q = 0.0;
        let mut lin = 0.0;
        for r in 0..p {
            let gr = &self.g[r * p..(r + 1) * p];
            let v = gr.iter().zip(th).map(|(x, y)| x * y).sum::<f64>();
            g_th[r] = v - self.b[r];
            q += th[r] * v;
            lin += th[r] * self.b[r];
        }
        (self.yy - 2.0 * lin + q).max(0.0)
    }

    /// The exact objective (Stan's |δ|) over [θ, log σ] and its gradient.
    fn eval(&self, obj: &Objective<'_>, x: &[f64], grad: &mut [f64]) -> f64 {
        let p = self.p;
        let s = obj.cps.len();
        let u = x[p];
        let sigma2 = (2.0 * u).exp();
        let e = self.sse(&x[..p], &mut grad[..p]);
        for v in &mut grad[..p] {
            *v /= sigma2;
        }
        let (k, m) = (x[0], x[1]);
        let mut value = self.n as f64 * u
            + e / (2.0 * sigma2)
            + 0.5 * (k / 5.0).powi(2)
            + 0.5 * (m / 5.0).powi(2)
            + 2.0 * sigma2;
        grad[p] = self.n as f64 - e / sigma2 + 4.0 * sigma2;
        grad[0] += k / 25.0;
        grad[1] += m / 25.0;
        for j in 0..s {
            let (a, da) = obj.abs(x[2 + j]);
            value += a / obj.tau;
            grad[2 + j] += da / obj.tau;
        }
        for (j, &ps) in obj.prior.iter().enumerate() {
            let bj = x[2 + s + j];
            value += 0.5 * (bj / ps).powi(2);
            grad[2 + s + j] += bj / (ps * ps);
        }
        value
    }
}

/// Prophet's own fit: Stan's L-BFGS (CmdStan defaults) from Prophet's initial point, on
/// the exact objective; `linear` models evaluate it through the normal equations.
/// Returns the parameters, the iterations and the objective after each iteration. A
/// failed line search (where CmdStan errors and Prophet retries with Newton) falls back
/// to the exact optimum.
pub(crate) fn fit_stan(
    obj: &Objective<'_>,
    x0: Vec<f64>,
    linear: bool,
) -> Result<(Vec<f64>, usize, Vec<f64>), String> {
    let settings = Settings::default();
    let out = if linear {
        let gram = Gram::new(obj);
        minimize(|x, g| gram.eval(obj, x, g), x0.clone(), &settings)
    } else {
        minimize(|x, g| obj.eval(x, g), x0.clone(), &settings)
    }
    .map_err(|e| format!("Prophet fit: {e}"))?;
    if out.termination != Termination::LineSearchFailed {
        return Ok((out.x, out.iterations, out.trace));
    }
    let (p, iters) = fit_exact(obj, x0, linear);
    Ok((p, out.iterations + iters, out.trace))
}

/// The optimum of the objective: majorise-minimise for `linear` (additive, linear or
/// flat growth) models, preconditioned L-BFGS on the smoothed objective otherwise.
pub(crate) fn fit_exact(obj: &Objective<'_>, x0: Vec<f64>, linear: bool) -> (Vec<f64>, usize) {
    if linear {
        fit_gaussian(obj, &x0)
    } else {
        let smooth = Objective {
            smooth: true,
            ..obj.clone()
        };
        fit_lbfgs(&smooth, x0)
    }
}

/// MAP fit of an additive model with linear or flat growth. Given σ the likelihood is
/// Gaussian and linear in θ = (k, m, δ, β), so the optimum of the (smoothed) objective
/// is found by alternating the closed-form σ step with iteratively reweighted ridge
/// steps for the Laplace prior — a majorise-minimise scheme that decreases the same
/// objective as the L-BFGS path at every step, in tens of small dense solves.
fn fit_gaussian(obj: &Objective<'_>, x0: &[f64]) -> (Vec<f64>, usize) {
    let gram = Gram::new(obj);
    let (n, p, s, f) = (gram.n, gram.p, obj.cps.len(), obj.d.f);
    let mut theta = x0[..p].to_vec();
    let mut scratch = vec![0.0; p];
    let mut m = vec![0.0; p * p];
    let mut rhs = vec![0.0; p];
    let mut iters = 0;
    for it in 0..2000 {
        iters = it + 1;
        let e = gram.sse(&theta, &mut scratch);
        // ∂/∂ log σ = N − SSE/σ² + 4σ² = 0  ⇒  σ² = (√(N² + 16·SSE) − N) / 8.
        let sigma2 = (((n * n) as f64 + 16.0 * e).sqrt() - n as f64) / 8.0;
        let sigma2 = sigma2.max(1e-300);
        for r in 0..p {
            for c in 0..p {
                m[r * p + c] = gram.g[r * p + c] / sigma2;
            }
            rhs[r] = gram.b[r] / sigma2;
        }
        m[0] += 1.0 / 25.0;
        m[p + 1] += 1.0 / 25.0;
        for j in 0..s {
            let (r, _) = smooth_abs(theta[2 + j]);
            m[(2 + j) * p + 2 + j] += 1.0 / (obj.tau * r);
        }
        for j in 0..f {
            m[(2 + s + j) * p + 2 + s + j] += 1.0 / (obj.prior[j] * obj.prior[j]);
        }
        let Some(next) = cholesky_solve(&mut m, &rhs, p) else {
            break;
        };
        let change = next
            .iter()
            .zip(&theta)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        theta = next;
        if change < 1e-10 {
            break;
        }
    }
    let e = gram.sse(&theta, &mut scratch);
    let sigma2 = (((n * n) as f64 + 16.0 * e).sqrt() - n as f64) / 8.0;
    theta.push(0.5 * sigma2.max(1e-300).ln());
    (theta, iters)
}

/// Solves `m x = rhs` for symmetric positive definite `m` (overwritten).
fn cholesky_solve(m: &mut [f64], rhs: &[f64], p: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut dj = m[j * p + j];
        for k in 0..j {
            dj -= m[j * p + k] * m[j * p + k];
        }
        if !(dj > 0.0) {
            return None;
        }
        let dj = dj.sqrt();
        m[j * p + j] = dj;
        for i in j + 1..p {
            let mut v = m[i * p + j];
            for k in 0..j {
                v -= m[i * p + k] * m[j * p + k];
            }
            m[i * p + j] = v / dj;
        }
    }
    let mut z = rhs.to_vec();
    for i in 0..p {
        for k in 0..i {
            z[i] -= m[i * p + k] * z[k];
        }
        z[i] /= m[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            z[i] -= m[k * p + i] * z[k];
        }
        z[i] /= m[i * p + i];
    }
    Some(z)
}

/// Inverse square roots of the objective's Hessian diagonal at `x0`, with σ set to the
/// residual scale of the trend-and-seasonality fit at `x0`.
fn preconditioner(obj: &Objective<'_>, x0: &[f64]) -> Vec<f64> {
    let d = obj.d;
    let n = obj.y.len();
    let s = obj.cps.len();
    let f = d.f;
    let trend = piecewise_linear(&d.t, x0[0], x0[1], &[], &[]);
    let var = obj
        .y
        .iter()
        .zip(&trend)
        .map(|(y, t)| (y - t).powi(2))
        .sum::<f64>()
        / n as f64;
    let inv = 1.0 / var.max(1e-12);
    let mut h: Vec<f64> = vec![0.0; x0.len()];
    for i in 0..n {
        let t = d.t[i];
        h[0] += t * t;
        h[1] += 1.0;
        for (j, &c) in obj.cps.iter().enumerate() {
            if t >= c {
                h[2 + j] += (t - c) * (t - c);
            }
        }
        let row = &d.x[i * f..(i + 1) * f];
        for j in 0..f {
            let dx = row[j] * if d.mult[j] { trend[i] } else { 1.0 };
            h[2 + s + j] += dx * dx;
        }
    }
    for v in h.iter_mut() {
        *v *= inv;
    }
    h[0] += 1.0 / 25.0;
    h[1] += 1.0 / 25.0;
    for j in 0..f {
        h[2 + s + j] += 1.0 / (obj.prior[j] * obj.prior[j]);
    }
    h[2 + s + f] = 2.0 * n as f64;
    h.iter().map(|v: &f64| 1.0 / v.max(1e-12).sqrt()).collect()
}
