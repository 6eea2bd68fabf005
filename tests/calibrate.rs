//! The calibration round trip (#19): simulate a live configuration with known service
//! time and measurement delay, calibrate from the simulated logs, and get them back.

mod common;

use std::path::Path;

use common::{sim, write};

const LIVE: &str = r#"
[service]
name = "cal"
service_time = "uniform:50:200"
concurrency = 4
queue = 32
[prometheus]
scrape_interval_s = 5
[controller]
interval_s = 15
capacity_per_replica_rps = 8
[forecaster]
kind = "naive"
[policy]
kind = "simple_ceiling"
min_replicas = 1
max_replicas = 8
"#;

fn run(args: &[&str], dir: &Path) -> String {
    let out = sim().args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "sim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A bursty 40-minute trace of one-minute steps: a one-minute spike and a 7-minute burst.
fn bursty() -> String {
    let mut csv = String::from("timestamp,requests\n");
    for i in 0..40 {
        let v = match i {
            8 => 3000.0,
            20..27 => 1500.0 + 100.0 * (i - 20) as f64,
            _ => 300.0 + 40.0 * ((i * 7) % 5) as f64,
        };
        csv.push_str(&format!("{},{v}\n", 60 * i));
    }
    csv
}

const TRACE: [&str; 6] = ["--trace", "trace.csv", "--speedup", "4", "--seed", "7"];

/// `sim compare-live` of the truth's logs with `extra` settings, into `out`: its comparison.
fn against_truth(p: &Path, extra: &[&str], out: &str) -> serde_json::Value {
    let mut a = vec!["compare-live", "--config", "live.toml", "--out", out];
    a.extend([
        "--decisions",
        "truth/sim_decisions.parquet",
        "--requests",
        "truth/sim_requests.csv",
    ]);
    a.extend(extra);
    a.extend(TRACE);
    run(&a, p);
    let text = std::fs::read_to_string(p.join(out).join("comparison.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn calibrating_from_a_simulated_run_recovers_its_settings() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "live.toml", LIVE);
    write(p, "trace.csv", &bursty());
    // The truth: uniform 70–160 ms (not the live file's 50–200), scrapes from 2 s, 3 s late.
    write(
        p,
        "truth.toml",
        "[simulation]\n[simulation.requests]\nservice_time = \"uniform\"\nmin_ms = 70\nmax_ms = 160\nconcurrency = 4\nqueue_limit = 256\n[simulation.measurement]\nscrape_interval_s = 5\nscrape_offset_s = 2\ndelay_s = 3\n",
    );
    let mut a = vec![
        "compare-live",
        "--config",
        "live.toml",
        "--calibration",
        "truth.toml",
        "--out",
        "truth",
    ];
    a.extend(TRACE);
    run(&a, p);
    run(
        &[
            "calibrate",
            "--config",
            "live.toml",
            "--decisions",
            "truth/sim_decisions.parquet",
            "--requests",
            "truth/sim_requests.csv",
            "--out",
            "fitted.toml",
        ],
        p,
    );
    let fitted = std::fs::read_to_string(p.join("fitted.toml")).unwrap();
    let t: toml::Table = toml::from_str(&fitted).unwrap();
    let req = &t["simulation"]["requests"];
    assert_eq!(req["service_time"].as_str(), Some("uniform"), "{fitted}");
    let (lo, hi) = (
        req["min_ms"].as_float().unwrap(),
        req["max_ms"].as_float().unwrap(),
    );
    assert!(
        (lo - 70.0).abs() <= 1.5 && (hi - 160.0).abs() <= 1.5,
        "{fitted}"
    );
    let cal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("calibration.json")).unwrap())
            .unwrap();
    // The readings are reproduced exactly; reading each interval at its end is not.
    let m = &cal["measurement"];
    assert!(m["rmse"].as_f64().unwrap() < 1e-6, "{cal:#}");
    assert!(m["rmse_exact"].as_f64().unwrap() > 10.0, "{cal:#}");
    // The fitted settings make the same decisions on the same requests, with latency
    // within a few per cent ...
    let c = against_truth(p, &["--calibration", "fitted.toml"], "check");
    assert_eq!(c["identical_decisions"], c["decisions_compared"], "{c:#}");
    assert_eq!(c["decisions_compared"], 40);
    for q in ["p50_ratio", "p95_ratio", "p99_ratio"] {
        let r = c["latency"][q].as_f64().unwrap();
        assert!((r - 1.0).abs() < 0.05, "{q} {r}: {c:#}");
    }
    // ... which the live file's own settings, read exactly, do not.
    let c = against_truth(p, &["--exact-readings"], "naive");
    assert!(
        c["identical_decisions"].as_u64() < c["decisions_compared"].as_u64(),
        "{c:#}"
    );
    let r = c["latency"]["p99_ratio"].as_f64().unwrap();
    assert!(r > 1.05, "p99 ratio {r}: uniform 50–200 against 70–160");
    // The per-interval columns are written.
    let csv = std::fs::read_to_string(p.join("check/comparison.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("sim_p99_ms,sim_dropped"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 41);
}
