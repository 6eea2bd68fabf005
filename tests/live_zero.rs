//! Scale to zero live, end to end with real components: `sim live` with an `[activator]`
//! (keep-alive policy, min 0), the FROM-scratch image in Docker, a real Prometheus
//! scraping the activator and the replicas, and `sim load` sending to the activator.
//! They need dockerd, prometheus and the image (scripts/test.sh provides all three).

mod live_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use live_support::*;

/// Columns of a CSV file by name.
fn columns(path: &std::path::Path, names: &[&str]) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).unwrap())
        .collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    idx.iter()
        .map(|&i| {
            rows.iter()
                .map(|r| r[i].parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect()
}

/// A counter or gauge from a Prometheus text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
}

/// 0 → N → 0: the service starts with no replica; a burst of requests reaches the
/// activator, which holds them; the controller sees the demand at the activator and starts
/// replicas; every request is answered 200 (the first ones after the cold start's wait);
/// after the keep-alive the service is back at zero.
#[test]
fn scales_from_zero_to_n_and_back_without_losing_a_request() {
    if !tools_ready("scale to zero end to end") {
        return;
    }
    let service = "e2e-zero";
    let _cleanup = Cleanup(vec![service.into()]);
    remove_all(service);
    let dir = tempfile::tempdir().unwrap();
    let (prom_port, act_port) = (free_port(), free_port());
    // 2 s idle, then 12 s at 10 requests a second.
    let mut trace = String::from("timestamp,requests\n");
    for s in 0..14 {
        let n = if s < 2 { 0 } else { 10 };
        trace += &format!("2025-01-01 00:00:{s:02},{n}\n");
    }
    std::fs::write(dir.path().join("burst.csv"), trace).unwrap();
    let cfg = dir.path().join("live.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[service]
name = "{service}"
base_port = 18500
port_span = 10
service_time = "uniform:50:150"
concurrency = 4
queue = 200
stop_timeout_s = 5

[prometheus]
url = "http://127.0.0.1:{prom_port}"
scrape_interval_s = 1
rate_window_s = 4
timeout_s = 1

[controller]
capacity_per_replica_rps = 5
history_s = 0
on_exit = "remove"
max_decisions = 30
decisions = "decisions.parquet"

[policy]
kind = "keep_alive"
min_replicas = 0
max_replicas = 4
keep_alive_s = 6
tick_interval_s = 2

[activator]
port = {act_port}
timeout_s = 60
"#
        ),
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
    let act = format!("http://127.0.0.1:{act_port}");
    assert!(
        wait_until(Duration::from_secs(30), || http_get(&format!(
            "{act}/health"
        ))
        .is_some_and(|r| r.0 == 200)),
        "the activator never answered"
    );
    assert!(
        running(service).is_empty(),
        "a replica ran before any request"
    );
    let out = Command::new(sim())
        .args([
            "load",
            "--ports",
            &act_port.to_string(),
            "--timeout-s",
            "60",
        ])
        .arg("--trace")
        .arg(dir.path().join("burst.csv"))
        .arg("--out")
        .arg(dir.path().join("requests.csv"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    // What the activator counted, read before `sim live` stops it.
    let (code, exposition) = http_get(&format!("{act}/metrics")).unwrap();
    assert_eq!(code, 200);
    let status = wait_for(&mut live, Duration::from_secs(120), "sim live");
    let log = std::fs::read_to_string(dir.path().join("live.log")).unwrap();
    assert!(status.success(), "sim live failed:\n{log}");
    eprintln!("load: {summary}\nactivator:\n{exposition}\n{log}");

    // No request lost: every one (Poisson arrivals at the trace's rate: about 120)
    // answered 200, the first ones after waiting for the cold start.
    let req = columns(&dir.path().join("requests.csv"), &["status", "latency_ms"]);
    let sent = req[0].len() as f64;
    assert!((80.0..=160.0).contains(&sent), "{summary}");
    assert!(req[0].iter().all(|&s| s == 200.0), "not all 200: {summary}");
    let longest = req[1].iter().cloned().fold(0.0, f64::max);
    assert!(
        longest > 400.0,
        "no request waited for a cold start ({longest} ms)"
    );
    assert_eq!(metric(&exposition, "activator_requests_total"), sent);
    assert_eq!(metric(&exposition, "activator_forwarded_total"), sent);
    assert_eq!(metric(&exposition, "activator_overflow_total"), 0.0);
    assert_eq!(metric(&exposition, "activator_timeouts_total"), 0.0);
    assert!(metric(&exposition, "activator_wait_seconds_count") >= 1.0);

    // Replicas: 0 at the start, N ≥ 2 for the burst (10 requests a second at 5 each),
    // 0 again after the keep-alive; one cold start at least, and time at zero logged.
    let d = columns(
        &dir.path().join("decisions.csv"),
        &["desired", "ready", "cold_starts", "zero_ms"],
    );
    let (desired, ready) = (&d[0], &d[1]);
    assert_eq!(desired[0], 0.0, "{desired:?}");
    let peak_at = (0..desired.len())
        .max_by(|&a, &b| desired[a].total_cmp(&desired[b]))
        .unwrap();
    assert!(
        desired[peak_at] >= 2.0,
        "never reached 2 replicas: {desired:?}"
    );
    assert!(ready.iter().any(|&r| r >= 2.0), "never 2 ready: {ready:?}");
    let back = desired[peak_at..].iter().position(|&x| x == 0.0);
    assert!(back.is_some(), "never back to zero: {desired:?}");
    assert_eq!(*ready.last().unwrap(), 0.0, "{ready:?}");
    assert!(d[2].iter().sum::<f64>() >= 1.0, "no cold start logged");
    assert!(d[3].iter().sum::<f64>() > 0.0, "no time at zero logged");
    assert!(
        log.contains("Activator for e2e-zero on http://127.0.0.1:"),
        "{log}"
    );
    assert!(
        all_names(service).is_empty(),
        "containers left: {:?}",
        all_names(service)
    );
}
