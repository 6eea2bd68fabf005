//! Limited-memory BFGS with a backtracking Armijo line search, on a combined
//! value-and-gradient function. Written here because the fit calls it thousands of times
//! per sweep and a combined evaluation halves the work of separate cost/gradient traits.

/// Minimises `f` (which writes the gradient into its second argument) from `x0`.
/// Returns the minimiser and the number of iterations used.
pub fn minimize(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    max_iter: usize,
) -> (Vec<f64>, usize) {
    const MEMORY: usize = 10;
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(MEMORY);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(MEMORY);
    let mut rho: Vec<f64> = Vec::with_capacity(MEMORY);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha = [0.0; MEMORY];
    let mut small_steps = 0;
    for iter in 0..max_iter {
        let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if gmax < 1e-10 * fx.abs().max(1.0) {
            return (x, iter);
        }
        // Two-loop recursion: d = −H g.
        d.copy_from_slice(&g);
        for k in (0..s_hist.len()).rev() {
            alpha[k] = rho[k] * dot(&s_hist[k], &d);
            axpy(-alpha[k], &y_hist[k], &mut d);
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / gmax.max(1e-12) * 1e-3,
        };
        d.iter_mut().for_each(|v| *v *= gamma);
        for k in 0..s_hist.len() {
            let beta = rho[k] * dot(&y_hist[k], &d);
            axpy(alpha[k] - beta, &s_hist[k], &mut d);
        }
        d.iter_mut().for_each(|v| *v = -*v);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            for (di, gi) in d.iter_mut().zip(&g) {
                *di = -gi * 1e-3 / gmax.max(1e-12);
            }
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let mut f_new;
        loop {
            for i in 0..n {
                x_new[i] = x[i] + step * d[i];
            }
            f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                break;
            }
            step *= 0.5;
            if step < 1e-20 {
                return (x, iter);
            }
        }
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &yv);
        if sy > 1e-16 {
            if s_hist.len() == MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            s_hist.push(s);
            y_hist.push(yv);
            rho.push(1.0 / sy);
        }
        let change = (fx - f_new).abs();
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if change < 1e-11 * fx.abs().max(1.0) {
            small_steps += 1;
            if small_steps >= 3 {
                return (x, iter + 1);
            }
        } else {
            small_steps = 0;
        }
    }
    (x, max_iter)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_the_rosenbrock_function() {
        let (x, _) = minimize(
            |p, g| {
                let (a, b) = (p[0], p[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            vec![-1.2, 1.0],
            5000,
        );
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5,
            "{x:?}"
        );
    }
}
