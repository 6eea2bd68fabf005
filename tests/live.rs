//! Live mode end to end, with real components: the FROM-scratch image in Docker, a real
//! Prometheus discovering the replicas through the Docker API, `sim live` and `sim load`.
//! They need dockerd, prometheus and the image (scripts/test.sh provides all three).

mod live_support;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use live_support::*;

fn read_decisions(path: &std::path::Path) -> Vec<(f64, u32)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (d, r) = (col("demand"), col("desired"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[d].parse().unwrap_or(f64::NAN), f[r].parse().unwrap())
        })
        .collect()
}

/// A ramp up and back down, four times faster than real time: replicas rise and fall,
/// Prometheus scrapes every replica, few requests fail, and the simulator run on the same
/// trace and parameters agrees (peak within ±1, first scale-up within one interval).
#[test]
fn ramp_scales_up_and_down_and_matches_the_simulator() {
    if !tools_ready("ramp end to end") {
        return;
    }
    let service = "e2e-ramp";
    let _cleanup = Cleanup(vec![service.into()]);
    remove_all(service);
    let dir = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let cfg = dir.path().join("live.toml");
    std::fs::write(
        &cfg,
        live_toml(
            service,
            18200,
            prom_port,
            "interval_s = 15\ncapacity_per_replica_rps = 8\nhistory_s = 0\ninitial_replicas = 1\non_exit = \"remove\"\nmax_decisions = 19\ndecisions = \"decisions.parquet\"",
            "kind = \"simple_ceiling\"\nmin_replicas = 1\nmax_replicas = 8",
        ) + "\n[forecaster]\nkind = \"naive\"\n[safety_net]\nlatency_ms = 1000\n",
    )
    .unwrap();
    let mut prom = Prometheus::configure(&cfg, dir.path(), prom_port);
    prom.start();
    let mut live = Command::new(sim())
        .args(["live", "--config"])
        .arg(&cfg)
        .stderr(std::fs::File::create(dir.path().join("live.log")).unwrap())
        .spawn()
        .unwrap();
    let trace = concat!(env!("CARGO_MANIFEST_DIR"), "/data/live/ramp.csv");
    let mut load = Command::new(sim())
        .args([
            "load",
            "--service",
            service,
            "--trace",
            trace,
            "--speedup",
            "4",
            "--seed",
            "1",
        ])
        .arg("--out")
        .arg(dir.path().join("requests.csv"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Watch containers and targets while the load runs.
    let mut lifetimes: HashMap<String, (Instant, Instant)> = HashMap::new();
    let mut seen_up: HashSet<String> = HashSet::new();
    let mut max_running = 0;
    while load.try_wait().unwrap().is_none() {
        let now = Instant::now();
        let names = docker(&[
            "ps",
            "--format",
            "{{.Names}}",
            "--filter",
            &format!("label=scalesim.service={service}"),
        ])
        .1;
        let names: Vec<String> = names.lines().map(str::to_string).collect();
        max_running = max_running.max(names.len());
        for n in names {
            lifetimes.entry(n).or_insert((now, now)).1 = now;
        }
        seen_up.extend(prom.up_targets(service));
        std::thread::sleep(Duration::from_secs(2));
    }
    let out = load.wait_with_output().unwrap();
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |k: &str| -> f64 {
        let f: Vec<&str> = summary.split_whitespace().collect();
        f[f.iter().position(|w| *w == k).unwrap() + 1]
            .parse()
            .unwrap()
    };
    let status = wait_for(&mut live, Duration::from_secs(120), "sim live");
    let log = std::fs::read_to_string(dir.path().join("live.log")).unwrap();
    assert!(status.success(), "sim live failed:\n{log}");
    eprintln!("load: {summary}\nreplicas seen: {max_running}\n{log}");
    for line in [
        "Querying Prometheus for metrics...",
        "Generating forecast with naive...",
        "Policy 'simple_ceiling' chose",
        "Scaling e2e-ramp from 1 to",
    ] {
        assert!(log.contains(line), "the log lacks '{line}'");
    }
    // The trace holds 2,680 requests.
    assert!((2400.0..3000.0).contains(&field("requests")), "{summary}");
    assert!(field("error_rate") < 0.01, "error rate over 1 %: {summary}");

    // Replicas rose during the ramp and fell after it.
    let rows = read_decisions(&dir.path().join("decisions.csv"));
    let desired: Vec<u32> = rows.iter().map(|r| r.1).collect();
    let peak = *desired.iter().max().unwrap();
    let at_peak = desired.iter().position(|&d| d == peak).unwrap();
    assert!(peak >= 3, "replicas never rose: {desired:?}");
    assert!(
        desired[at_peak..].iter().any(|&d| d <= 2),
        "replicas never fell after the peak: {desired:?}"
    );
    assert!(max_running >= 3, "Docker never ran 3 replicas");

    // Prometheus scraped every replica that lived longer than two scrape intervals and
    // a discovery refresh.
    for (name, (first, last)) in &lifetimes {
        if last.duration_since(*first) >= Duration::from_secs(16) {
            assert!(
                seen_up.contains(name),
                "Prometheus never scraped {name}: saw {seen_up:?}"
            );
        }
    }
    // on_exit = "remove": nothing left behind.
    assert!(
        all_names(service).is_empty(),
        "containers left: {:?}",
        all_names(service)
    );

    // The simulator on the same trace and parameters.
    let cmp_dir = dir.path().join("compare");
    succeeds(
        Command::new(sim())
            .args(["compare-live", "--config"])
            .arg(&cfg)
            .arg("--decisions")
            .arg(dir.path().join("decisions.parquet"))
            .args([
                "--trace",
                trace,
                "--speedup",
                "4",
                "--startup-delay-s",
                "1",
                "--out",
            ])
            .arg(&cmp_dir),
    );
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cmp_dir.join("comparison.json")).unwrap())
            .unwrap();
    eprintln!("comparison: {c:#}");
    assert!(c["peak_difference"].as_i64().unwrap().abs() <= 1, "{c}");
    assert!(
        c["scale_up_lag_intervals"].as_i64().unwrap().abs() <= 1,
        "{c}"
    );
    if let Ok(dest) = std::env::var("SCALESIM_RECORD_LIVE") {
        let dest = std::path::Path::new(&dest);
        std::fs::create_dir_all(dest).unwrap();
        for f in ["comparison.json", "comparison.csv"] {
            std::fs::copy(cmp_dir.join(f), dest.join(f)).unwrap();
        }
        std::fs::copy(dir.path().join("decisions.csv"), dest.join("decisions.csv")).unwrap();
        std::fs::write(dest.join("load_summary.txt"), &summary).unwrap();
    }
}

/// Faults: Prometheus unreachable → the controller holds (never scales down on missing
/// data); a replica killed from outside → replaced; a second controller → refused;
/// SIGTERM → clean stop; unlabelled and foreign containers untouched.
#[test]
fn faults_hold_replace_refuse_and_stop_cleanly() {
    if !tools_ready("live faults") {
        return;
    }
    let service = "e2e-faults";
    let other = "e2e-faults-other";
    let unlabelled = "scalesim-test-unlabelled";
    let _cleanup = Cleanup(vec![service.into(), other.into()]);
    remove_all(service);
    remove_all(other);
    docker(&["rm", "-f", unlabelled]);
    assert!(
        docker(&[
            "run",
            "-d",
            "--network",
            "host",
            "--name",
            unlabelled,
            IMAGE,
            "serve",
            "--port",
            "18391"
        ])
        .0
    );
    assert!(
        docker(&[
            "run",
            "-d",
            "--network",
            "host",
            "--label",
            &format!("scalesim.service={other}"),
            "--label",
            "scalesim.port=18392",
            IMAGE,
            "serve",
            "--port",
            "18392"
        ])
        .0
    );
    struct Unlabelled;
    impl Drop for Unlabelled {
        fn drop(&mut self) {
            docker(&["rm", "-f", "scalesim-test-unlabelled"]);
        }
    }
    let _u = Unlabelled;

    let dir = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let cfg = dir.path().join("live.toml");
    std::fs::write(
        &cfg,
        live_toml(
            service,
            18300,
            prom_port,
            "interval_s = 4\ncapacity_per_replica_rps = 8\nhistory_s = 0\ninitial_replicas = 3\non_exit = \"remove\"\ndecisions = \"decisions.parquet\"",
            "kind = \"simple_ceiling\"\nmin_replicas = 1\nmax_replicas = 6",
        ),
    )
    .unwrap();
    let mut prom = Prometheus::configure(&cfg, dir.path(), prom_port);
    let log_path = dir.path().join("live.log");
    let mut live = Command::new(sim())
        .args(["live", "--config"])
        .arg(&cfg)
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(30), || running(service).len() == 3),
        "3 replicas did not start:\n{}",
        log()
    );

    // A second controller for the same service refuses to start.
    let second = Command::new(sim())
        .args(["live", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another `sim live` (pid "),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // Prometheus is not running: the controller holds at 3 over several decisions.
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(running(service).len(), 3, "{}", log());
    assert!(log().contains("holding at 3 replicas"), "{}", log());

    // A replica killed from outside is replaced at the next reconcile.
    let before: HashSet<String> = running(service).into_iter().collect();
    let victim = before.iter().next().unwrap().clone();
    assert!(docker(&["kill", &victim]).0);
    assert!(
        wait_until(Duration::from_secs(20), || {
            let now: HashSet<String> = running(service).into_iter().collect();
            now.len() == 3 && !now.contains(&victim)
        }),
        "the killed replica was not replaced:\n{}",
        log()
    );

    // Prometheus comes up with zero load: the policy now scales down to its minimum.
    prom.start();
    assert!(
        wait_until(Duration::from_secs(60), || running(service).len() == 1),
        "no scale-down once metrics arrived:\n{}",
        log()
    );
    // Prometheus goes away again: hold at 1.
    prom.stop();
    let holds_before = log().matches("holding at 1 replicas").count();
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(running(service).len(), 1);
    assert!(
        log().matches("holding at 1 replicas").count() > holds_before,
        "{}",
        log()
    );

    // SIGTERM: a clean stop that removes the replicas (on_exit = "remove") and keeps the log.
    terminate(&live);
    let status = wait_for(&mut live, Duration::from_secs(30), "sim live after SIGTERM");
    assert!(status.success(), "{}", log());
    assert!(
        all_names(service).is_empty(),
        "left behind: {:?}",
        all_names(service)
    );
    let rows = read_decisions(&dir.path().join("decisions.csv"));
    assert!(
        rows.iter().any(|r| r.0.is_nan() && r.1 == 3),
        "no hold rows at 3: {rows:?}"
    );
    // Never below 3 before metrics arrived: the first decision with data comes first.
    let first_data = rows.iter().position(|r| !r.0.is_nan()).unwrap();
    assert!(rows[..first_data].iter().all(|r| r.1 == 3));

    // Containers that are not ours were never touched.
    let (_, state) = docker(&["inspect", "-f", "{{.State.Running}}", unlabelled]);
    assert_eq!(state.trim(), "true", "the unlabelled container was touched");
    assert_eq!(
        running(other).len(),
        1,
        "another service's container was touched"
    );
}

/// Without a Docker engine `sim live` names the problem and exits non-zero.
#[test]
fn unreachable_docker_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("live.toml");
    std::fs::write(
        &cfg,
        live_toml(
            "nodocker",
            18400,
            1,
            "interval_s = 5\ncapacity_per_replica_rps = 8",
            "kind = \"simple_ceiling\"\nmax_replicas = 5",
        ),
    )
    .unwrap();
    let err = fails(
        Command::new(sim())
            .args(["live", "--config"])
            .arg(&cfg)
            .env(
                "DOCKER_HOST",
                format!("unix://{}/no.sock", dir.path().display()),
            )
            .env("SCALESIM_LOCK_DIR", dir.path()),
    );
    assert!(err.contains("Docker engine"), "{err}");
}
