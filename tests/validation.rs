//! Golden tests against the prototype's published logs and against queueing theory.

mod common;

use common::root;
use scalesim::cli::validate_helpers::{read_log, series_stats};
use scalesim::trace::{self, TraceSpec};
use scalesim::validation::{erlang_check, seed_parity};
use scalesim::workload::generator::{generate, GeneratorConfig, PRESETS};

#[test]
fn seed_parity_on_all_eight_prototype_logs() {
    for model in ["prophet", "lstm"] {
        for policy in ["static2", "simple", "buffered", "policy"] {
            let log = read_log(&root().join(format!(
                "validation/seed_reference/sim_{model}_TEST_{policy}.csv"
            )))
            .unwrap();
            let p = seed_parity(policy, &log).unwrap();
            assert_eq!(p.rows, 10_080);
            assert_eq!(
                (
                    p.containers_mismatches,
                    p.over_mismatches,
                    p.under_mismatches
                ),
                (0, 0, 0),
                "{model}/{policy}: {p:?}"
            );
            if policy != "static2" {
                // Latency and CPU match too, except in static2's logs, which carry policy_aware's values.
                assert!(
                    p.latency_max_abs_diff < 1e-9 && p.cpu_max_abs_diff < 1e-9,
                    "{model}/{policy}: {p:?}"
                );
            } else {
                assert!(
                    p.latency_max_abs_diff > 1.0,
                    "the static2 quirk should show"
                );
            }
        }
    }
}

#[test]
fn request_mode_agrees_with_erlang_c_and_littles_law() {
    for (i, rho) in [0.5, 0.8, 0.95].into_iter().enumerate() {
        let e = erlang_check(10, rho, 10_000.0, 6_000_000, 100 + i as u64);
        assert!(
            e.p_wait_rel_err < 0.02,
            "rho {rho}: P(wait) {} vs {}",
            e.p_wait_sim,
            e.p_wait_theory
        );
        assert!(
            e.mean_wait_rel_err < 0.02,
            "rho {rho}: Wq {} vs {}",
            e.mean_wait_sim_ms,
            e.mean_wait_theory_ms
        );
        assert!(
            e.littles_rel_err < 1e-6,
            "rho {rho}: L {} vs λW {}",
            e.littles_l,
            e.littles_lambda_w
        );
    }
}

#[test]
fn generator_matches_the_prototype_scenarios_statistics() {
    for preset in PRESETS {
        let spec = TraceSpec {
            value_column: Some("req_per_min".into()),
            regressors: vec!["is_event".into()],
            ..TraceSpec::for_path(
                root().join(format!("validation/seed_reference/scenario_{preset}.csv")),
            )
        };
        let reference = trace::load(&spec, preset).unwrap().workload;
        let ours = generate(preset, &GeneratorConfig::preset(preset).unwrap()).unwrap();
        assert_eq!(ours.len(), reference.len());
        let (m0, s0, e0) =
            series_stats(&reference.demand, reference.regressor("is_event").unwrap());
        let (m1, s1, e1) = series_stats(&ours.demand, ours.regressor("is_event").unwrap());
        assert!((m1 - m0).abs() / m0 < 0.02, "{preset} mean {m1} vs {m0}");
        assert!((s1 - s0).abs() / s0 < 0.05, "{preset} sd {s1} vs {s0}");
        // Spike counts are binomial(20160, p): allow four standard deviations.
        let p = GeneratorConfig::preset(preset).unwrap().spike_prob;
        let sd = (p * (1.0 - p) / 20_160.0).sqrt();
        assert!(
            (e1 - p).abs() < 4.0 * sd && (e0 - p).abs() < 4.0 * sd,
            "{preset} spikes {e1} vs {e0}"
        );
    }
}
