//! Settings that are legal but almost surely a mistake, found once per sweep from the
//! configuration and the test window's demand: each becomes a WARN line on stderr and an
//! entry of the manifest's `warnings`.

use crate::metrics::ScoreConfig;
use crate::policy::spec::{PolicyKind, PolicySpec};
use crate::sim::{Fidelity, ServiceTime, SimConfig};

/// The service's own latency with no queueing: the mean service time in request mode,
/// the load model's base latency in fluid mode.
fn implied_latency_ms(c: &SimConfig) -> f64 {
    match c.fidelity {
        Fidelity::Requests => c.mean_service_ms(),
        Fidelity::Fluid => c.load.base_latency_ms,
    }
}

fn slo_below_service(out: &mut Vec<String>, slo_ms: f64, mean_ms: f64) {
    if slo_ms < mean_ms {
        push(out, format!(
            "slo_ms ({slo_ms}) is below the mean service time ({mean_ms:.0} ms): most requests will violate it in every cell"
        ));
    }
}

/// Warnings for request-mode variants whose service times come from request sizes
/// (`services`, aligned with `sims`): the SLO against their mean, and the capacity the
/// policies size with against the one those times give.
pub fn check_sizes(
    sims: &[(SimConfig, ScoreConfig)],
    services: &[Option<Vec<u64>>],
) -> Vec<String> {
    let mut out = Vec::new();
    for ((c, score), svc) in sims.iter().zip(services) {
        let Some(svc) = svc.as_ref().filter(|v| !v.is_empty()) else {
            continue;
        };
        let mean = svc.iter().sum::<u64>() as f64 / svc.len() as f64;
        slo_below_service(&mut out, score.slo_ms, mean);
        capacity_mismatch(&mut out, c, mean, "the requests' service times give");
    }
    out
}

/// The capacity the policies size with against what a replica serves at a mean service
/// time of `mean_ms`, beyond the configured factor either way.
fn capacity_mismatch(out: &mut Vec<String>, c: &SimConfig, mean_ms: f64, source: &str) {
    let served = c.served_per_step(mean_ms);
    let ratio = served / c.capacity_per_replica;
    let f = c.requests.mismatch_factor;
    if !(1.0 / f..=f).contains(&ratio) {
        let apart = ratio.max(1.0 / ratio);
        push(out, format!(
            "capacity_per_replica ({}) is not what {source}: a mean of {mean_ms:.0} ms with concurrency {} serves {served:.3} requests per step per replica, {ratio:.2}x the capacity the policies size replicas with; if that is meant (e.g. replicas kept lightly loaded), raise requests.capacity_mismatch_factor (now {f}) above {apart:.2}",
            c.capacity_per_replica, c.requests.concurrency,
        ));
    }
}

fn push(out: &mut Vec<String>, w: String) {
    if !out.contains(&w) {
        out.push(w);
    }
}

/// Every warning for these simulation variants and policies on `test_demand` (requests
/// per step of `step_ms`).
pub fn check(
    sims: &[(SimConfig, ScoreConfig)],
    policies: &[PolicySpec],
    test_demand: &[f64],
    step_ms: u64,
) -> Vec<String> {
    let mut out = Vec::new();
    let ahead_ms =
        |p: &dyn crate::policy::ScalingPolicy| p.forecast_lead().unwrap_or(0) as u64 * step_ms;
    let peak = test_demand.iter().copied().fold(0.0, f64::max);
    let s = |ms: f64| ms / 1000.0;
    let built: Vec<_> = policies.iter().map(|p| (p, p.build())).collect();
    for (c, score) in sims {
        let latency = implied_latency_ms(c);
        let need = crate::policy::replicas_for(peak, c.capacity_per_replica);
        if c.fidelity == Fidelity::Requests && c.requests.service != ServiceTime::Sizes {
            slo_below_service(&mut out, score.slo_ms, latency);
            let own = c.requests.service.own_mean_ms().is_some() || c.requests.mean_ms.is_some();
            if own {
                capacity_mismatch(&mut out, c, latency, "the replica's service time gives");
            }
        }
        let runaway = c.safety.enabled && c.safety.latency_ms < latency;
        for (p, policy) in &built {
            let name = p.display_name();
            let safety = c.safety.enabled && policy.uses_safety_net();
            if safety && runaway {
                push(&mut out, format!(
                    "policy '{name}': safety_net.latency_ms ({}) is below the service's own latency ({latency:.0} ms), so the safety net adds a replica at every step: raise it above the latency you expect, or set safety_net = {{ enabled = false }}",
                    c.safety.latency_ms
                ));
            }
            let to_zero = p.bounds().min == 0;
            let timeout = c.requests.activator.timeout_ms;
            if to_zero && c.fidelity == Fidelity::Requests && timeout <= c.startup_delay_ms {
                push(&mut out, format!(
                    "policy '{name}' scales to zero, but the activator drops a buffered request after {} s, no longer than a replica takes to start ({} s): every request of a cold start will time out; raise requests.activator_timeout_s",
                    s(timeout as f64),
                    s(c.startup_delay_ms as f64)
                ));
            }
            let max = p.bounds().max;
            if need > max {
                push(&mut out, format!(
                    "policy '{name}' is capped at max_replicas = {max}, but the test window's peak demand ({peak:.0} per step) needs {need} replicas of capacity {}: it will under-provision there",
                    c.capacity_per_replica
                ));
            }
            // Only a cap someone chose (or policy_aware's prototype cap of 20).
            let capped = p.max_replicas.is_some() || p.kind() == PolicyKind::PolicyAware;
            if safety && capped && (need > max || runaway) {
                push(&mut out, format!(
                    "policy '{name}': the safety net is not clamped and will take it past its max_replicas ({max}); set safety_net = false on the policy to keep the cap"
                ));
            }
            if p.kind() == PolicyKind::Predictive && ahead_ms(policy.as_ref()) < c.startup_delay_ms
            {
                push(&mut out, format!(
                    "policy '{name}' provisions {} s ahead but replicas take {} s to start: set lead_steps to at least {}",
                    ahead_ms(policy.as_ref()) / 1000,
                    c.startup_delay_ms / 1000,
                    c.startup_delay_ms.div_ceil(step_ms)
                ));
            }
            let cancels = matches!(
                p.kind(),
                PolicyKind::SimpleCeiling | PolicyKind::Buffered | PolicyKind::ConfidenceAware
            );
            let interval = policy
                .decision_interval_ms()
                .unwrap_or(c.decision_interval_ms);
            let ahead_ms = ahead_ms(policy.as_ref());
            if cancels && c.startup_delay_ms >= interval && ahead_ms < c.startup_delay_ms {
                push(&mut out, format!(
                    "policy '{name}' decides every {} s for demand {} s ahead, but replicas take {} s to start: a dip in its forecast cancels replicas still starting; set lead_steps to at least {} (or a longer decision_interval_s)",
                    s(interval as f64),
                    s(ahead_ms as f64),
                    s(c.startup_delay_ms as f64),
                    c.startup_delay_ms.div_ceil(step_ms)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RequestConfig, SafetyNet};

    fn spec(toml: &str) -> PolicySpec {
        toml::from_str(toml).unwrap()
    }

    fn requests(cap_per_s: f64, slo_ms: f64) -> (SimConfig, ScoreConfig) {
        (
            SimConfig {
                fidelity: Fidelity::Requests,
                step_ms: 1000,
                decision_interval_ms: 1000,
                capacity_per_replica: cap_per_s,
                requests: RequestConfig {
                    slo_ms,
                    ..RequestConfig::default()
                },
                ..SimConfig::default()
            },
            ScoreConfig {
                slo_ms,
                ..ScoreConfig::default()
            },
        )
    }

    #[test]
    fn an_activator_timeout_shorter_than_a_cold_start_is_warned() {
        let mut c = requests(10.0, 1000.0);
        c.0.startup_delay_ms = 5_000;
        c.0.requests.activator.timeout_ms = 5_000;
        let warned = |c: &(SimConfig, ScoreConfig), p: &str| {
            check(std::slice::from_ref(c), &[spec(p)], &[1.0; 10], 1000)
                .iter()
                .any(|m| m.contains("activator drops"))
        };
        assert!(warned(&c, "kind = 'kpa'"));
        assert!(
            !warned(&c, "kind = 'kpa'\nmin_replicas = 1"),
            "never at zero"
        );
        c.0.requests.activator.timeout_ms = 5_001;
        assert!(!warned(&c, "kind = 'kpa'"));
    }

    #[test]
    fn runaway_safety_net_with_a_slow_service_is_warned() {
        // Regression (#12): a 4 s service with the 150 ms threshold tripped every step.
        let w = check(
            &[requests(0.25, 10_000.0)],
            &[spec("kind = 'buffered'\nlead_steps = 0\nmax_replicas = 50")],
            &[0.5; 10],
            1000,
        );
        assert!(
            w.iter().any(|m| m.contains("adds a replica at every step")),
            "{w:?}"
        );
        assert!(w.iter().any(|m| m.contains("not clamped")), "{w:?}");
        // The HPA has no safety net unless asked: no runaway warning for it.
        let w = check(
            &[requests(0.25, 10_000.0)],
            &[spec("kind = 'hpa'")],
            &[0.5; 10],
            1000,
        );
        assert!(!w.iter().any(|m| m.contains("safety")), "{w:?}");
    }

    #[test]
    fn slo_below_the_mean_service_time_is_warned() {
        let w = check(
            &[requests(0.25, 500.0)],
            &[spec("kind = 'hpa'")],
            &[0.5; 10],
            1000,
        );
        assert!(
            w.iter()
                .any(|m| m.contains("slo_ms (500) is below the mean service time (4000 ms)")),
            "{w:?}"
        );
        let w = check(
            &[requests(100.0, 500.0)],
            &[spec("kind = 'hpa'")],
            &[0.5; 10],
            1000,
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn sizing_capacity_far_from_the_replicas_service_rate_is_warned() {
        // The live demo: 4 slots of uniform 50–200 ms serve 32 requests/s, the policies
        // size with 8.
        let (mut c, score) = requests(8.0, 10_000.0);
        c.requests.concurrency = 4;
        c.requests.service = ServiceTime::Uniform {
            min_ms: 50.0,
            max_ms: 200.0,
        };
        let w = check(
            &[(c.clone(), score)],
            &[spec("kind = 'hpa'")],
            &[0.5; 10],
            1000,
        );
        assert!(
            w.iter().any(
                |m| m.contains("serves 32.000 requests per step per replica, 4.00x")
                    && m.contains("capacity_mismatch_factor (now 1.25)")
            ),
            "{w:?}"
        );
        // A factor above the ratio silences it; so does a capacity that matches.
        c.requests.mismatch_factor = 5.0;
        let w = check(
            &[(c.clone(), score)],
            &[spec("kind = 'hpa'")],
            &[0.5; 10],
            1000,
        );
        assert!(
            !w.iter().any(|m| m.contains("capacity_mismatch_factor")),
            "{w:?}"
        );
        c.requests.mismatch_factor = 1.25;
        c.capacity_per_replica = 30.0;
        let w = check(&[(c, score)], &[spec("kind = 'hpa'")], &[0.5; 10], 1000);
        assert!(
            !w.iter().any(|m| m.contains("capacity_mismatch_factor")),
            "{w:?}"
        );
        // With the mean derived from the capacity there is nothing to disagree with.
        let w = check(
            &[requests(8.0, 10_000.0)],
            &[spec("kind = 'hpa'")],
            &[0.5; 10],
            1000,
        );
        assert!(
            !w.iter().any(|m| m.contains("capacity_mismatch_factor")),
            "{w:?}"
        );
    }

    #[test]
    fn demand_beyond_max_replicas_is_warned() {
        let fluid = (SimConfig::default(), ScoreConfig::default());
        let w = check(
            &[fluid],
            &[spec("kind = 'hpa'\nmax_replicas = 3")],
            &[10.0, 200.0, 10.0],
            60_000,
        );
        assert!(w.iter().any(|m| m.contains("capped at max_replicas = 3") && m.contains("needs 8 replicas")), "{w:?}");
    }

    #[test]
    fn start_up_longer_than_the_decision_interval_is_warned() {
        // Regression (#12): decisions every second with a 30 s start-up cancelled every
        // starting replica of `buffered`.
        let c = SimConfig {
            step_ms: 1000,
            decision_interval_ms: 1000,
            startup_delay_ms: 30_000,
            safety: SafetyNet {
                enabled: false,
                ..SafetyNet::default()
            },
            ..SimConfig::default()
        };
        let sims = [(c, ScoreConfig::default())];
        let w = check(&sims, &[spec("kind = 'buffered'")], &[1.0; 5], 1000);
        assert!(
            w.iter()
                .any(|m| m.contains("set lead_steps to at least 30")),
            "{w:?}"
        );
        let w = check(
            &sims,
            &[spec("kind = 'buffered'\nlead_steps = 30")],
            &[1.0; 5],
            1000,
        );
        assert!(w.is_empty(), "{w:?}");
    }
}
