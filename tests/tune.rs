//! `sim tune` (#15): the search reaches the grid's hypervolume on `tradeoff` with a tenth
//! of its evaluations, is deterministic whatever the thread count, resumes to the same
//! result, writes a sweep folder `sim report` reads, and refuses bad settings clearly.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{assert_same_tree, col, csv, root, sim, sweep_one_thread, write};

/// The 2-D hypervolume (minimisation) that `points` dominate up to `reference`, by a
/// sweep over the points sorted by the first objective (written here, independent of
/// the library's).
fn hypervolume(points: &[[f64; 2]], reference: [f64; 2]) -> f64 {
    let mut p: Vec<[f64; 2]> = points
        .iter()
        .copied()
        .filter(|q| q[0] < reference[0] && q[1] < reference[1])
        .collect();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut area = 0.0;
    // Staircase: for each x-interval between successive points, the best y so far.
    let mut best = reference[1];
    for (i, q) in p.iter().enumerate() {
        best = best.min(q[1]);
        let x_next = p.get(i + 1).map_or(reference[0], |r| r[0]);
        area += (x_next - q[0]) * (reference[1] - best);
    }
    area
}

/// (startup_delay_s → objective pairs) from a summary-like CSV.
fn by_delay(path: &Path) -> BTreeMap<String, Vec<[f64; 2]>> {
    let (h, rows) = csv(path);
    let (d, c, u) = (
        col(&h, "sim.startup_delay_s"),
        col(&h, "cost_replica_hours"),
        col(&h, "under_events"),
    );
    let mut out: BTreeMap<String, Vec<[f64; 2]>> = BTreeMap::new();
    for r in rows {
        out.entry(r[d].clone())
            .or_default()
            .push([r[c].parse().unwrap(), r[u].parse().unwrap()]);
    }
    out
}

#[test]
fn the_test_hypervolume_is_a_staircase() {
    // Two points (1, 3) and (2, 1) under (4, 4): 3·1 + 2·3 − 2·1 = 7; a dominated point adds nothing.
    assert_eq!(hypervolume(&[[1.0, 3.0], [2.0, 1.0]], [4.0, 4.0]), 7.0);
    assert_eq!(
        hypervolume(&[[1.0, 3.0], [2.0, 1.0], [3.0, 3.5]], [4.0, 4.0]),
        7.0
    );
}

#[test]
fn tune_reaches_the_grids_hypervolume_with_a_tenth_of_its_evaluations() {
    let d = tempfile::tempdir().unwrap();
    sweep_one_thread(root().join("scenarios/tradeoff.toml"), d.path());
    sim()
        .args(["tune", "-q", "--out"])
        .arg(d.path())
        .arg("scenarios/tune/tradeoff.toml")
        .assert()
        .success();
    let grid = by_delay(&d.path().join("tradeoff/metrics_summary.csv"));
    let tuned_dir = d.path().join("tune_tradeoff");
    let tuned = by_delay(&tuned_dir.join("tune_evaluations.csv"));
    let grid_n: usize = grid.values().map(Vec::len).sum();
    let tuned_n: usize = tuned.values().map(Vec::len).sum();
    assert_eq!(grid_n, 260);
    assert!(tuned_n * 10 <= grid_n, "{tuned_n} evaluations");
    assert_eq!(
        grid.keys().collect::<Vec<_>>(),
        tuned.keys().collect::<Vec<_>>()
    );
    let mut report = Vec::new();
    for (delay, g) in &grid {
        let t = &tuned[delay];
        // One reference for both: 10 % beyond the worst value either saw.
        let reference: [f64; 2] = std::array::from_fn(|j| {
            let all = g.iter().chain(t).map(|q| q[j]);
            let hi = all.clone().fold(f64::NEG_INFINITY, f64::max);
            let lo = all.fold(f64::INFINITY, f64::min);
            hi + 0.1 * (hi - lo).max(1e-9)
        });
        let (hg, ht) = (hypervolume(g, reference), hypervolume(t, reference));
        report.push(format!(
            "delay {delay} s: grid {hg:.4} ({} cells), tune {ht:.4} ({} evaluations), ratio {:.4}",
            g.len(),
            t.len(),
            ht / hg
        ));
        assert!(ht >= 0.95 * hg, "{}", report.join("\n"));
    }
    eprintln!("{}", report.join("\n"));
    // The Pareto set is a sweep folder: a summary, a manifest and the search's record.
    let (h, rows) = csv(&tuned_dir.join("metrics_summary.csv"));
    assert!(!rows.is_empty());
    assert!(rows.len() < tuned_n);
    let (eh, erows) = csv(&tuned_dir.join("tune_evaluations.csv"));
    let pc = col(&eh, "pareto_cell");
    assert_eq!(
        erows.iter().filter(|r| !r[pc].is_empty()).count(),
        rows.len()
    );
    // The folder's cells are the evaluations marked as Pareto, with the same metrics.
    let cost = col(&h, "cost_replica_hours");
    let ecost = col(&eh, "cost_replica_hours");
    for r in &erows {
        if let Ok(k) = r[pc].parse::<usize>() {
            assert_eq!(rows[k][cost], r[ecost], "pareto cell {k}");
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tuned_dir.join("tune.json")).unwrap())
            .unwrap();
    assert_eq!(json["evaluations"].as_u64(), Some(tuned_n as u64));
    assert_eq!(json["simulations"].as_array().unwrap().len(), 4);
    // sim report reads it like any sweep.
    sim().arg("report").arg(&tuned_dir).assert().success();
    let md = std::fs::read_to_string(tuned_dir.join("report.md")).unwrap();
    assert!(md.contains("Pareto"), "{md}");
}

/// A small tuning scenario on a generated per-minute trace with a flash crowd.
fn small(dir: &Path, extra: &str) -> std::path::PathBuf {
    let mut t = String::from("timestamp,requests\n");
    for i in 0..3 * 1440u64 {
        let phase = (i % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
        let crowd = if (3000..3060).contains(&i) { 4.0 } else { 1.0 };
        t.push_str(&format!(
            "{},{}\n",
            60 * i,
            (300.0 * (1.0 + 0.6 * phase.sin()) * crowd).round()
        ));
    }
    write(dir, "trace.csv", &t);
    write(
        dir,
        "small.toml",
        &format!(
            r#"
name = "small"
seed = 5
[trace]
file = "trace.csv"
[window]
train = "2d"
[simulation]
capacity_per_replica = 25
startup_delay_s = [0, 120]
[[forecasters]]
kind = "seasonal_naive"
period = 1440
[[policies]]
kind = "confidence_aware"
buffer = {{ min = 1.0, max = 1.6 }}
quantile = {{ min = 0.5, max = 0.995 }}
[[policies]]
kind = "hpa"
{extra}
"#
        ),
    )
}

fn tune(scenario: &Path, out: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    sim()
        .args(["tune", "-q", "--out"])
        .arg(out)
        .args(args)
        .arg(scenario)
        .assert()
}

#[test]
fn tune_is_deterministic_across_threads_and_resumes_to_the_same_result() {
    let d = tempfile::tempdir().unwrap();
    let sc = small(d.path(), "[tune]\nevaluations = 14\nbatch = 3");
    let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
    tune(&sc, &a, &["--threads", "1"]).success();
    tune(&sc, &b, &["--threads", "2"]).success();
    assert_same_tree(&a.join("small"), &b.join("small"));
    // Stopped after two batches: checkpoints only, no results folder yet.
    let stopped = tune(&sc, &c, &["--batches", "2"]).success();
    let err = String::from_utf8_lossy(&stopped.get_output().stderr).to_string();
    assert!(err.contains("--resume"), "{err}");
    assert!(!c.join("small").exists());
    let resumed = tune(&sc, &c, &["--resume", "--threads", "2"]).success();
    let err = String::from_utf8_lossy(&resumed.get_output().stderr).to_string();
    assert!(err.contains("from checkpoints"), "{err}");
    assert_same_tree(&a.join("small"), &c.join("small"));
    let (_, rows) = csv(&a.join("small/tune_evaluations.csv"));
    assert_eq!(rows.len(), 14);
    // Resuming from other settings is refused, and nothing is lost.
    let sc2 = small(d.path(), "[tune]\nevaluations = 16\nbatch = 3");
    tune(&sc2, &c, &["--batches", "1"]).success();
    let sc3 = small(d.path(), "[tune]\nevaluations = 18\nbatch = 3");
    let out = tune(&sc3, &c, &["--resume"]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("other inputs or settings"), "{err}");
    assert_same_tree(&a.join("small"), &c.join("small"));
}

#[test]
fn limits_keep_the_pareto_set_within_them() {
    let d = tempfile::tempdir().unwrap();
    // Without limits the set reaches into many under-provisioning events; a limit keeps
    // every member within it.
    let sc = small(
        d.path(),
        "[tune]\nevaluations = 16\nobjectives = [\"cost_replica_hours\", \"over_pct\"]\n[tune.limits]\nunder_events = 30",
    );
    tune(&sc, d.path(), &[]).success();
    let (h, rows) = csv(&d.path().join("small/metrics_summary.csv"));
    let u = col(&h, "under_events");
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r[u].parse::<f64>().unwrap() <= 30.0, "{r:?}");
    }
    let (eh, erows) = csv(&d.path().join("small/tune_evaluations.csv"));
    let eu = col(&eh, "under_events");
    assert!(
        erows.iter().any(|r| r[eu].parse::<f64>().unwrap() > 30.0),
        "the limit was never binding: the test cannot fail"
    );
}

#[test]
fn bad_tuning_settings_are_refused_with_a_fix() {
    let d = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 7] = [
        ("[tune]\nevaluations = 1", "", "evaluations = 1"),
        (
            "[tune]\nobjectives = [\"cost_replica_hours\", \"nonsense\"]",
            "",
            "`nonsense` is not a metric",
        ),
        (
            "[tune]\nobjectives = [\"cost_replica_hours\"]",
            "",
            "exactly two metrics",
        ),
        ("[tune]\nbudget = 3", "", "budget"),
        ("", "buffer = { min = 1.6, max = 1.0 }", "min < max"),
        (
            "",
            "buffer = { min = 1.0, max = 1.2, step = 0.1 }",
            "exactly `min` and `max`",
        ),
        ("", "period = { min = 100, max = 1440 }", "forecasters[0]"),
    ];
    for (tune_part, replace, want) in cases {
        let mut text = std::fs::read_to_string(small(d.path(), tune_part)).unwrap();
        if replace.starts_with("buffer") {
            text = text.replace("buffer = { min = 1.0, max = 1.6 }", replace);
        } else if replace.starts_with("period") {
            text = text.replace("period = 1440", replace);
        }
        let sc = write(d.path(), "bad.toml", &text);
        let out = tune(&sc, &d.path().join("out"), &[]).failure();
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(want), "want {want:?} in: {err}");
        assert!(!d.path().join("out/small").exists());
    }
    // A scenario without ranges belongs to sim sweep.
    let sc = write(
        d.path(),
        "grid.toml",
        &std::fs::read_to_string(root().join("scenarios/tradeoff.toml"))
            .unwrap()
            .replace("../data/", &format!("{}/data/", root().display())),
    );
    let out = tune(&sc, &d.path().join("out"), &[]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("sim sweep"), "{err}");
}
