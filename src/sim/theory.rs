//! Queueing theory used to validate request mode: Erlang-C for M/M/c.

/// Erlang-B blocking probability for `c` servers and offered load `a = λ/μ`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang-C: probability that an arrival waits, for `c` servers and offered load `a` (< c).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let c = c as f64;
    c * b / (c - a * (1.0 - b))
}

/// M/M/c mean waiting time in queue (same unit as `1/mu`).
pub fn mmc_mean_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // M/M/1: P(wait) = ρ, Wq = ρ / (μ − λ).
        assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
        assert!((mmc_mean_wait(1, 0.8, 1.0) - 4.0).abs() < 1e-12);
        // c = 2, a = 1: C = 1/3 (Kleinrock).
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    }
}
