//! Replications (#15): every cell run again with fresh random streams; the summary's
//! means and 95 % intervals; paired comparisons against a baseline with Holm's correction;
//! shards, threads and a single replication all agree.

mod common;

use common::{
    col, csv, same_files, sim, sweep, sweep_err, sweep_in_two_shards, sweep_one_thread, write,
};

/// Request mode on a generated trace (regenerated each replication), with so many
/// replicas that no request waits: a request's latency is its service time, uniform on
/// [50, 150] ms and rounded to whole ms, so the share over a 125 ms SLO is exactly
/// P(x ≥ 125.5) = 24.5 %.
fn scenario(replications: usize, extra: &str) -> String {
    format!(
        r#"
name = "rep"
seed = 11
replications = {replications}
{extra}
[trace]
generator = {{ preset = "smooth", days = 0.1, step_s = 60, base = 10 }}
[window]
train = "1h"
test = "1h"
[simulation]
fidelity = "requests"
capacity_per_replica = 60
initial_replicas = 10
slo_ms = 125
safety_net = {{ enabled = false }}
requests.service_time = "uniform"
requests.min_ms = 50
requests.max_ms = 150
requests.concurrency = 8
[[forecasters]]
kind = "naive"
[[policies]]
kind = "static"
name = "ten"
replicas = 10
[[policies]]
kind = "static"
name = "twelve"
replicas = 12
[[policies]]
kind = "buffered"
buffer = 1.0
min_replicas = 10
max_replicas = 20
"#
    )
}

#[test]
fn intervals_over_replications_cover_the_true_value_at_their_nominal_rate() {
    let d = tempfile::tempdir().unwrap();
    // 4,000 replications, read as 400 experiments of 10: each experiment's 95 % interval
    // of the SLO violation share should cover 24.5 % about 95 % of the time.
    let sc = write(d.path(), "rep.toml", &scenario(4000, ""));
    sweep(&sc, d.path().join("out")).success();
    let (h, rows) = csv(&d.path().join("out/rep/replications.csv"));
    let (rc, pc, slo) = (
        col(&h, "replication"),
        col(&h, "policy"),
        col(&h, "slo_violation_pct"),
    );
    let mut ten: Vec<(usize, f64)> = rows
        .iter()
        .filter(|r| r[pc] == "ten")
        .map(|r| (r[rc].parse().unwrap(), r[slo].parse().unwrap()))
        .collect();
    ten.sort_by_key(|x| x.0);
    assert_eq!(ten.len(), 4000);
    assert!(
        ten.windows(2).all(|w| w[0].1 != w[1].1),
        "replications repeat"
    );
    let covered = ten
        .chunks(10)
        .filter(|g| {
            let xs: Vec<f64> = g.iter().map(|x| x.1).collect();
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            // t(0.975, 9) = 2.262157
            (mean - 24.5).abs() <= 2.262157 * sd / n.sqrt()
        })
        .count();
    let rate = covered as f64 / 400.0;
    assert!((0.92..=0.98).contains(&rate), "coverage {rate}");
    // The summary: one row per cell, the mean and its half-width over all 4,000.
    let (sh, srows) = csv(&d.path().join("out/rep/metrics_summary.csv"));
    assert_eq!(srows.len(), 3);
    let row = srows
        .iter()
        .find(|r| r[col(&sh, "policy")] == "ten")
        .unwrap();
    assert_eq!(row[col(&sh, "replications")], "4000");
    let mean: f64 = row[col(&sh, "slo_violation_pct")].parse().unwrap();
    let ci: f64 = row[col(&sh, "slo_violation_pct_ci95")].parse().unwrap();
    let all: Vec<f64> = ten.iter().map(|x| x.1).collect();
    let m = all.iter().sum::<f64>() / 4000.0;
    let sd = (all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 3999.0).sqrt();
    assert!((mean - m).abs() < 1e-9);
    assert!(
        (ci - 1.960_6 * sd / 4000f64.sqrt()).abs() < 1e-3 * ci,
        "{ci}"
    );
    assert!((mean - 24.5).abs() <= ci * 1.5, "{mean} ± {ci}");
    // A count metric's mean is a float in Parquet, and the replications file is there.
    let df = common::read_parquet(&d.path().join("out/rep/metrics_summary.parquet"));
    assert!(df.column("under_events").unwrap().f64().is_ok());
    let reps = common::read_parquet(&d.path().join("out/rep/replications.parquet"));
    assert_eq!(reps.height(), 12_000);
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("out/rep/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["statistics"]["replications"], 4000);
    assert!(m["statistics"]["intervals"]
        .as_str()
        .unwrap()
        .contains("Student-t"));
}

#[test]
fn replication_zero_is_the_plain_sweep_and_threads_shards_agree() {
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one.toml", &scenario(1, ""));
    sweep(&one, d.path().join("one")).success();
    let sc = write(d.path(), "rep.toml", &scenario(6, "compare_to = \"ten\""));
    sweep(&sc, d.path().join("a")).success();
    // Replication 0 is the unreplicated sweep, metric for metric.
    let (h1, plain) = csv(&d.path().join("one/rep/metrics_summary.csv"));
    assert!(!h1.contains(&"replications".to_string()));
    let (h, rows) = csv(&d.path().join("a/rep/replications.csv"));
    assert_eq!(&h[1..], &h1[..]);
    for (p, r) in plain.iter().zip(rows.iter().filter(|r| r[0] == "0")) {
        assert_eq!(&r[1..], &p[..]);
    }
    // One thread or two, the same bytes.
    sweep_one_thread(&sc, d.path().join("b"));
    let files = ["metrics_summary.csv", "replications.csv", "comparisons.csv"];
    same_files(&d.path().join("a/rep"), &d.path().join("b/rep"), &files);
    // Shards merged: the same files.
    let merged = sweep_in_two_shards(&sc, d.path(), "rep");
    same_files(&merged, &d.path().join("a/rep"), &files);

    // Comparisons against "ten": two replicas more cost exactly 2 replica-hours in every
    // replication (so the difference is certain), and the buffered policy is paired too.
    let (ch, crows) = csv(&d.path().join("a/rep/comparisons.csv"));
    assert_eq!(crows.len(), 2, "{crows:?}");
    assert!(crows.iter().all(|r| r.len() == ch.len()), "ragged rows");
    let twelve = crows
        .iter()
        .find(|r| r[col(&ch, "policy")] == "twelve")
        .unwrap();
    assert_eq!(twelve[col(&ch, "baseline_policy")], "ten");
    assert_eq!(twelve[col(&ch, "pairs")], "6");
    let diff: f64 = twelve[col(&ch, "cost_replica_hours_diff")].parse().unwrap();
    assert!((diff - 2.0).abs() < 1e-9, "{diff}");
    assert_eq!(twelve[col(&ch, "cost_replica_hours_p")], "0");
    // No under-provisioning either way: no difference, p = 1.
    assert_eq!(twelve[col(&ch, "under_events_diff")], "0");
    assert_eq!(twelve[col(&ch, "under_events_p")], "1");
    // Holm never lowers a p-value.
    for r in &crows {
        for m in ["cost_replica_hours", "under_events", "unserved_requests"] {
            let p: f64 = r[col(&ch, &format!("{m}_p"))].parse().unwrap_or(f64::NAN);
            let q: f64 = r[col(&ch, &format!("{m}_p_holm"))]
                .parse()
                .unwrap_or(f64::NAN);
            assert!(p.is_nan() && q.is_nan() || q >= p, "{m}: {p} -> {q}");
        }
    }
    // The baseline must exist, and replications be sane.
    let bad = write(d.path(), "bad.toml", &scenario(2, "compare_to = \"hpa\""));
    let e = sweep_err(&bad, d.path().join("x"));
    assert!(
        e.contains("compare_to = \"hpa\" names no policy or forecaster"),
        "{e}"
    );
    assert!(e.contains("ten, twelve"), "{e}");
    let bad = write(d.path(), "bad.toml", &scenario(0, ""));
    let e = sweep_err(&bad, d.path().join("x"));
    assert!(e.contains("replications = 0"), "{e}");
}

/// A deterministic run (a file trace in fluid mode) gets block-bootstrap intervals: the
/// same for one thread or two, degenerate where every step is alike (a static policy's
/// cost), around the point value where steps differ, none in request mode.
#[test]
fn a_deterministic_run_gets_block_bootstrap_intervals() {
    let d = tempfile::tempdir().unwrap();
    // Two days of minutes: a daily cycle with noise and bursts.
    let mut t = String::from("timestamp,requests\n");
    for i in 0..2880u64 {
        let phase = (i % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
        let v = 100.0
            + 60.0 * phase.sin()
            + ((i * 7919) % 23) as f64
            + if i % 97 == 0 { 200.0 } else { 0.0 };
        t.push_str(&format!("{},{}\n", 60 * i, v.round()));
    }
    write(d.path(), "t.csv", &t);
    let text = r#"
name = "boot"
compare_to = "static"
[trace]
file = "t.csv"
[window]
train = "1d"
[bootstrap]
block = "2h"
resamples = 300
[simulation]
capacity_per_replica = 20
initial_replicas = 8
startup_delay_s = 120
safety_net = { enabled = false }
[[forecasters]]
kind = "naive"
[[policies]]
kind = "static"
replicas = 8
[[policies]]
kind = "buffered"
buffer = 1.1
max_replicas = 50
[[policies]]
kind = "optimal"
name = "best"
"#;
    let sc = write(d.path(), "boot.toml", text);
    sweep(&sc, d.path().join("a")).success();
    sweep_one_thread(&sc, d.path().join("b"));
    let f = |dir: &str| std::fs::read(d.path().join(dir).join("boot/metrics_summary.csv")).unwrap();
    assert_eq!(f("a"), f("b"), "the intervals depend on the thread count");
    let (h, rows) = csv(&d.path().join("a/boot/metrics_summary.csv"));
    let v = |r: &[String], c: &str| r[col(&h, c)].parse::<f64>().unwrap();
    let fixed = rows
        .iter()
        .find(|r| r[col(&h, "policy")] == "static")
        .unwrap();
    // Eight replicas every step: every resample costs the same.
    let cost = v(fixed, "cost_replica_hours");
    assert_eq!(v(fixed, "cost_replica_hours_lo95"), cost);
    assert_eq!(v(fixed, "cost_replica_hours_hi95"), cost);
    // The static fleet is short at the daily peak: under-provisioning varies with the
    // blocks drawn, and the interval holds the run's own count.
    let under = v(fixed, "under_events");
    let (lo, hi) = (v(fixed, "under_events_lo95"), v(fixed, "under_events_hi95"));
    assert!(
        under > 0.0 && lo < hi && lo <= under && under <= hi,
        "{lo} {under} {hi}"
    );
    let buffered = rows
        .iter()
        .find(|r| r[col(&h, "policy")] == "buffered")
        .unwrap();
    let (lo, hi) = (
        v(buffered, "cost_replica_hours_lo95"),
        v(buffered, "cost_replica_hours_hi95"),
    );
    let c = v(buffered, "cost_replica_hours");
    assert!(lo < c && c < hi, "{lo} {c} {hi}");
    // Paired against the static fleet over the same blocks: the run's own difference,
    // inside its interval, over 300 resample pairs; a difference is significant at 5 %
    // exactly when its interval leaves out zero (the percentile bootstrap's duality).
    let (ch, crows) = csv(&d.path().join("a/boot/comparisons.csv"));
    assert_eq!(crows.len(), 2, "{crows:?}");
    assert!(crows.iter().all(|r| r.len() == ch.len()), "ragged rows");
    let r = crows
        .iter()
        .find(|r| r[col(&ch, "policy")] == "buffered")
        .unwrap();
    let c = |n: &str| r[col(&ch, n)].parse::<f64>().unwrap();
    assert_eq!(r[col(&ch, "pairs")], "300");
    let diff = c("cost_replica_hours_diff");
    assert!((diff - (v(buffered, "cost_replica_hours") - cost)).abs() < 1e-9);
    let mut significant = 0;
    for m in ["cost_replica_hours", "under_events", "unserved_requests"] {
        let (x, lo, hi) = (
            c(&format!("{m}_diff")),
            c(&format!("{m}_diff_lo95")),
            c(&format!("{m}_diff_hi95")),
        );
        let (p, q) = (c(&format!("{m}_p")), c(&format!("{m}_p_holm")));
        assert!(lo <= x && x <= hi, "{m}: {x} outside [{lo}, {hi}]");
        assert!((0.0..=1.0).contains(&p) && q >= p, "{m}: p {p}, Holm {q}");
        let excludes_zero = lo > 0.0 || hi < 0.0;
        assert_eq!(p < 0.05, excludes_zero, "{m}: p {p} with [{lo}, {hi}]");
        significant += excludes_zero as usize;
    }
    // Not vacuous: the buffered policy's lower cost is significant on this trace.
    assert!(
        significant >= 1 && diff < 0.0 && c("cost_replica_hours_diff_hi95") < 0.0,
        "{r:?}"
    );
    // Merged shards: the same comparisons.
    let merged = sweep_in_two_shards(&sc, d.path(), "boot");
    same_files(
        &merged,
        &d.path().join("a/boot"),
        &["metrics_summary.csv", "comparisons.csv"],
    );
    // The optimal policy (renamed) is the bound: no regret, no under-provisioning (no
    // demand comes before a replica could start: 8 run from the start).
    let best = rows
        .iter()
        .find(|r| r[col(&h, "policy")] == "best")
        .unwrap();
    assert_eq!(v(best, "regret_cost_pct"), 0.0);
    assert_eq!(v(best, "under_events"), 0.0);
    assert!(v(best, "cost_replica_hours") < v(buffered, "cost_replica_hours"));
    // The report keeps it out of the recommendations and states the comparisons with
    // their intervals.
    sim()
        .arg("report")
        .arg(d.path().join("a/boot"))
        .assert()
        .success();
    let md = std::fs::read_to_string(d.path().join("a/boot/report.md")).unwrap();
    let headline = md
        .lines()
        .find(|l| l.starts_with("Recommendation"))
        .unwrap();
    assert!(!headline.contains("best"), "{headline}");
    assert!(md.contains("Bounds with perfect foresight"), "{md}");
    assert!(md.contains("against none / static: cost "), "{md}");
    assert!(md.contains("cheaper (p"), "{md}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("a/boot/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["statistics"]["bootstrap"]["block_steps"], 120);
    assert!(m["statistics"]["intervals"]
        .as_str()
        .unwrap()
        .contains("moving-block bootstrap"));
    // Request mode: no intervals. Both kinds of interval at once: refused.
    let req = write(
        d.path(),
        "req.toml",
        &text.replace(
            "capacity_per_replica = 20",
            "fidelity = \"requests\"\ncapacity_per_replica = 20",
        ),
    );
    sweep(&req, d.path().join("r")).success();
    let (h, rows) = csv(&d.path().join("r/boot/metrics_summary.csv"));
    assert!(rows
        .iter()
        .all(|r| r[col(&h, "under_events_lo95")].is_empty()));
    let both = write(d.path(), "both.toml", &format!("replications = 3\n{text}"));
    let e = sweep_err(&both, d.path().join("x"));
    assert!(e.contains("keep one"), "{e}");
}
