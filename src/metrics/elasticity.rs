//! SPEC Research Group elasticity metrics (Herbst et al.), with demand
//! d_t = ceil(demand_t / C) replicas needed and supply s_t = ready replicas, over N
//! equal steps of length Δt:
//!
//! - accuracy θ_U = 100/N · Σ max(d_t − s_t, 0) / max(d_t, 1), θ_O likewise with s_t − d_t;
//! - timeshare τ_U = 100/N · #{t : s_t < d_t}, τ_O = 100/N · #{t : s_t > d_t};
//! - instability υ = 100/(N−1) · Σ_{t≥1} min(1, |sgn Δs_t − sgn Δd_t|): the share of time
//!   supply and demand do not move in the same direction;
//! - jitter j = (#supply adaptations − #demand changes) / (N·Δt), per hour: negative when
//!   the autoscaler adapts less often than demand changes, positive when it oscillates.
//!
//! References: N. Herbst, S. Kounev, R. Reussner, "Elasticity in Cloud Computing: What It
//! Is, and What It Is Not", ICAC 2013; N. Herbst et al., "Ready for Rain? A View from SPEC
//! Research on the Future of Cloud Metrics", SPEC RG technical report SPEC-RG-2016-01;
//! A. Bauer, N. Herbst, S. Spinner, A. Ali-Eldin, S. Kounev, "Chameleon: A Hybrid,
//! Proactive Auto-Scaling Mechanism on a Level-Playing Field", IEEE TPDS 30(4), 2019.

use serde::Serialize;

/// The SPEC RG elasticity metrics of one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Elasticity {
    pub theta_u_pct: f64,
    pub theta_o_pct: f64,
    pub tau_u_pct: f64,
    pub tau_o_pct: f64,
    pub instability_pct: f64,
    pub jitter_per_hour: f64,
}

fn sgn(x: i64) -> i64 {
    x.signum()
}

/// Computes the metrics from demand (requests per step) and ready replicas.
pub fn compute(demand: &[f64], ready: &[u32], capacity: f64, step_ms: u64) -> Elasticity {
    let n = demand.len().min(ready.len());
    if n == 0 {
        return Elasticity::default();
    }
    let d: Vec<i64> = demand[..n]
        .iter()
        .map(|&x| crate::policy::replicas_for(x, capacity) as i64)
        .collect();
    let s: Vec<i64> = ready[..n].iter().map(|&x| x as i64).collect();
    let (mut tu, mut to, mut nu, mut no) = (0.0, 0.0, 0usize, 0usize);
    for t in 0..n {
        let denom = d[t].max(1) as f64;
        if s[t] < d[t] {
            tu += (d[t] - s[t]) as f64 / denom;
            nu += 1;
        } else if s[t] > d[t] {
            to += (s[t] - d[t]) as f64 / denom;
            no += 1;
        }
    }
    let mut unstable = 0usize;
    let (mut s_changes, mut d_changes) = (0i64, 0i64);
    for t in 1..n {
        let ds = sgn(s[t] - s[t - 1]);
        let dd = sgn(d[t] - d[t - 1]);
        unstable += ((ds - dd).abs().min(1)) as usize;
        s_changes += (ds != 0) as i64;
        d_changes += (dd != 0) as i64;
    }
    let nf = n as f64;
    let hours = nf * step_ms as f64 / 3_600_000.0;
    Elasticity {
        theta_u_pct: 100.0 * tu / nf,
        theta_o_pct: 100.0 * to / nf,
        tau_u_pct: 100.0 * nu as f64 / nf,
        tau_o_pct: 100.0 * no as f64 / nf,
        instability_pct: if n > 1 {
            100.0 * unstable as f64 / (nf - 1.0)
        } else {
            0.0
        },
        jitter_per_hour: (s_changes - d_changes) as f64 / hours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_example() {
        // C = 10. Demand needs 1, 2, 3, 3 replicas; supply is 1, 1, 4, 3.
        let e = compute(&[10.0, 15.0, 25.0, 30.0], &[1, 1, 4, 3], 10.0, 3_600_000);
        assert!((e.theta_u_pct - 100.0 * (1.0 / 2.0) / 4.0).abs() < 1e-12);
        assert!((e.theta_o_pct - 100.0 * (1.0 / 3.0) / 4.0).abs() < 1e-12);
        assert_eq!((e.tau_u_pct, e.tau_o_pct), (25.0, 25.0));
        // Δd = +,+,0 ; Δs = 0,+,− → mismatches at t=1 and t=3.
        assert!((e.instability_pct - 200.0 / 3.0).abs() < 1e-12);
        // 2 supply changes, 2 demand changes over 4 hours.
        assert_eq!(e.jitter_per_hour, 0.0);
    }

    #[test]
    fn perfect_supply_scores_zero() {
        let e = compute(&[5.0, 15.0, 25.0], &[1, 2, 3], 10.0, 60_000);
        assert_eq!(e, Elasticity::default());
    }
}
