//! One control step for simulation and live (#14): `sim live --backend simulated` runs
//! the whole live controller (forecaster, policy, safety net, reconcile, decision log)
//! on the simulator's cluster, and must make, decision for decision, the replica choices
//! `sim sweep` makes on the same trace, policy, forecaster and parameters.

mod common;

use std::path::Path;

use common::{read_parquet, sim, sweep, u64_col, write};

/// 600 one-minute steps: a daily-ish wave, noise, two bursts (one past the safety net).
fn trace_csv() -> String {
    let mut s = String::from("timestamp,requests\n");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..600u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let noise = (x % 1000) as f64 / 1000.0 * 20.0;
        let wave = 60.0 + 40.0 * (i as f64 / 90.0).sin();
        let burst = match i {
            300..=309 => 150.0,
            450..=452 => 400.0,
            _ => 0.0,
        };
        let (h, m) = (i / 60, i % 60);
        s.push_str(&format!(
            "2025-01-01 {h:02}:{m:02}:00,{:.3}\n",
            wave + noise + burst
        ));
    }
    s
}

const TRAIN: usize = 200;

/// The pairings compared: a name, the `[[policies]]` / `[policy]` body and the
/// `[[forecasters]]` / `[forecaster]` body.
const PAIRINGS: &[(&str, &str, &str)] = &[
    (
        "hpa",
        "kind = \"hpa\"\nmetric = \"request_rate\"\nsync_period_s = 60\nmax_replicas = 40\n",
        NAIVE,
    ),
    ("policy_aware", "kind = \"policy_aware\"\n", NAIVE),
    ("simple_ceiling", "kind = \"simple_ceiling\"\n", NAIVE),
    // Quantiles from a model that refits every 50 steps and absorbs each step between:
    // the live forecaster must roll it by the sweep's rule.
    (
        "confidence_aware",
        "kind = \"confidence_aware\"\n",
        "kind = \"holt_winters\"\nperiod = 60\nrefit_every_steps = 50\n",
    ),
    (
        "confidence_aware/moving_average",
        "kind = \"confidence_aware\"\n",
        "kind = \"moving_average\"\nwindow = 30\nrefit_every_steps = 7\n",
    ),
];

const NAIVE: &str = "kind = \"naive\"\n";

fn scenario(policy: &str, forecaster: &str, startup_s: u64) -> String {
    format!(
        "name = \"eq\"\nseed = 1\n[trace]\nfile = \"t.csv\"\nvalue_column = \"requests\"\n\
         [window]\ntrain = {TRAIN}\ntest = {}\n\
         [simulation]\ncapacity_per_replica = 30\ninitial_replicas = 2\nstartup_delay_s = {startup_s}\n\
         [[forecasters]]\n{forecaster}[[policies]]\n{policy}",
        600 - TRAIN
    )
}

fn live_config(policy: &str, forecaster: &str, startup_s: u64, log: &Path) -> String {
    format!(
        "[service]\nname = \"eq\"\nport_span = 20000\n\
         [controller]\ninterval_s = 60\ncapacity_per_replica_rps = 0.5\ninitial_replicas = 2\n\
         decisions = \"{}\"\n\
         [simulated]\ntrace = \"t.csv\"\nvalue_column = \"requests\"\nstart_step = {TRAIN}\nstartup_delay_s = {startup_s}\n\
         [forecaster]\n{forecaster}[policy]\n{policy}",
        log.display()
    )
}

/// The sweep's replica choices for one policy.
fn swept(dir: &Path, policy: &str, forecaster: &str, startup_s: u64) -> Vec<u64> {
    let sc = write(dir, "eq.toml", &scenario(policy, forecaster, startup_s));
    let out = dir.join("sweep");
    let _ = std::fs::remove_dir_all(&out);
    sweep(&sc, &out).success();
    u64_col(
        &read_parquet(&out.join("eq/timelines/cell_000000.parquet")),
        "desired",
    )
}

/// The live controller's choices over the simulated backend.
fn lived(dir: &Path, policy: &str, forecaster: &str, startup_s: u64) -> Vec<u64> {
    let log = dir.join("decisions.parquet");
    let cfg = write(
        dir,
        "live.toml",
        &live_config(policy, forecaster, startup_s, &log),
    );
    sim()
        .args(["live", "--backend", "simulated", "--config"])
        .arg(&cfg)
        .assert()
        .success();
    u64_col(&read_parquet(&log), "desired")
}

#[test]
fn live_over_the_simulated_backend_decides_as_the_sweep_does() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "t.csv", &trace_csv());
    for startup_s in [0, 120] {
        for (name, body, forecaster) in PAIRINGS {
            let a = swept(d.path(), body, forecaster, startup_s);
            let b = lived(d.path(), body, forecaster, startup_s);
            assert_eq!(a.len(), 600 - TRAIN, "{name}");
            let first = a.iter().zip(&b).position(|(x, y)| x != y);
            assert!(
                a == b && first.is_none(),
                "{name}, start-up {startup_s} s: first difference at decision {first:?}: sweep {:?} live {:?}",
                first.map(|i| &a[i.saturating_sub(2)..(i + 3).min(a.len())]),
                first.map(|i| &b[i.saturating_sub(2)..(i + 3).min(b.len())]),
            );
            // The run must scale at all, or equality proves nothing.
            let (lo, hi) = (a.iter().min().unwrap(), a.iter().max().unwrap());
            assert!(hi > lo, "{name}: never scaled ({lo}..{hi})");
        }
    }
}

#[test]
fn the_safety_net_acts_the_same_live_and_simulated() {
    // With the net off, the 400-request burst is met later: the net changes choices,
    // so the equality above covers it.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "t.csv", &trace_csv());
    let body = "kind = \"simple_ceiling\"\n";
    let on = swept(d.path(), body, NAIVE, 120);
    let sc = scenario(body, NAIVE, 120).replace(
        "startup_delay_s = 120\n",
        "startup_delay_s = 120\nsafety_net = { enabled = false }\n",
    );
    let p = write(d.path(), "off.toml", &sc);
    let out = d.path().join("off");
    sweep(&p, &out).success();
    let off = u64_col(
        &read_parquet(&out.join("eq/timelines/cell_000000.parquet")),
        "desired",
    );
    assert_ne!(on, off, "the safety net never acted on this trace");
    let log = d.path().join("off.parquet");
    let cfg = live_config(body, NAIVE, 120, &log) + "[safety_net]\nenabled = false\n";
    let cfg = write(d.path(), "off_live.toml", &cfg);
    sim()
        .args(["live", "--backend", "simulated", "--config"])
        .arg(&cfg)
        .assert()
        .success();
    assert_eq!(u64_col(&read_parquet(&log), "desired"), off);
}
