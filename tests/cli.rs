//! End-to-end runs of the `sim` binary.

mod common;

use common::{files, read_parquet, root, sim, sweep, write};
use predicates::prelude::*;

#[test]
fn gen_data_is_byte_identical_for_the_same_seed_and_differs_for_another() {
    let d = tempfile::tempdir().unwrap();
    for (sub, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        sim()
            .args([
                "gen-data", "--preset", "spiky", "--days", "2", "--seed", seed, "--out",
            ])
            .arg(d.path().join(sub))
            .assert()
            .success();
        sim()
            .args([
                "gen-data", "--preset", "spiky", "--days", "2", "--format", "parquet", "--seed",
                seed, "--out",
            ])
            .arg(d.path().join(sub))
            .assert()
            .success();
    }
    for f in ["scenario_spiky.csv", "scenario_spiky.parquet"] {
        let a = std::fs::read(d.path().join("a").join(f)).unwrap();
        assert_eq!(a, std::fs::read(d.path().join("b").join(f)).unwrap(), "{f}");
        assert_ne!(a, std::fs::read(d.path().join("c").join(f)).unwrap(), "{f}");
    }
    let text = std::fs::read_to_string(d.path().join("a/scenario_spiky.csv")).unwrap();
    assert!(text.starts_with("timestamp,req_per_min,hour,dayofweek,is_event\n2025-01-01 00:00:00,"));
    assert_eq!(text.lines().count(), 2 * 1440 + 1);
}

#[test]
fn gen_data_applies_shapes_from_a_generator_file() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(
        d.path(),
        "flash.toml",
        "preset = \"smooth\"\ndays = 1\n[[shapes]]\nkind = \"flash_crowd\"\nstart_h = 10\nramp_h = 1\nplateau_h = 2\ndecay_h = 1\npeak = 5\n",
    );
    sim()
        .args(["gen-data", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(d.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(d.path().join("flash.csv")).unwrap();
    let y: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let mean = |r: std::ops::Range<usize>| y[r.clone()].iter().sum::<f64>() / r.len() as f64;
    // The plateau (11:00–13:00) is about five times the same hours' base level.
    assert!(
        mean(660..780) > 3.5 * mean(0..120).min(30.0),
        "{} vs {}",
        mean(660..780),
        mean(0..120)
    );
}

#[test]
fn prototype_scenario_reproduces_the_prototype_logs_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    sim()
        .args(["sweep", "scenarios/prototype.toml", "-q", "--out"])
        .arg(d.path())
        .assert()
        .success();
    let out = d.path().join("prototype");
    let summary = std::fs::read_to_string(out.join("metrics_summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = summary.lines().map(|l| l.split(',').collect()).collect();
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for (model, policy) in [
        ("prophet", "simple"),
        ("lstm", "buffered"),
        ("prophet", "policy"),
        ("none", "static2"),
    ] {
        let row = rows
            .iter()
            .find(|r| r[col("forecaster")] == model && r[col("policy")] == policy)
            .unwrap();
        let cell: usize = row[col("cell")].parse().unwrap();
        let tl = read_parquet(&out.join(format!("timelines/cell_{cell:06}.parquet")));
        let ready: Vec<u64> = tl
            .column("ready")
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let log_model = if model == "none" { "prophet" } else { model };
        let log = std::fs::read_to_string(root().join(format!(
            "validation/seed_reference/sim_{log_model}_TEST_{policy}.csv"
        )))
        .unwrap();
        let expected: Vec<u64> = log
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
            .collect();
        assert_eq!(ready, expected, "{model}/{policy}");
        let under: u64 = log
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(7).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(
            row[col("under_events")].parse::<u64>().unwrap(),
            under,
            "{model}/{policy}"
        );
    }
    assert!(out.join("metrics_summary.parquet").exists());
    assert!(std::fs::read_to_string(out.join("forecast_accuracy.csv"))
        .unwrap()
        .contains("coverage_80_pct"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["window"]["train_steps"], 10080);
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 4);
}

const SMALL: &str = r#"
name = "small"
seed = 3
[trace]
generator = { preset = "mixed", days = 3 }
[window]
train = "2d"
[simulation]
startup_delay_s = [0, 120]
[[forecasters]]
kind = "seasonal_naive"
period = 1440
[[forecasters]]
kind = "moving_average"
window = [10, 30]
[[policies]]
kind = "confidence_aware"
quantile = [0.8, 0.95]
[[policies]]
kind = "hpa"
"#;

#[test]
fn sweep_outputs_are_byte_identical_with_one_thread_and_with_all() {
    let d = tempfile::tempdir().unwrap();
    let sc = write(d.path(), "small.toml", SMALL);
    let requests = write(
        d.path(),
        "small_req.toml",
        &SMALL
            .replace("name = \"small\"", "name = \"small_req\"")
            .replace("[simulation]", "[simulation]\nfidelity = \"requests\""),
    );
    for (sub, threads) in [("one", "1"), ("all", "2")] {
        sim()
            .arg("sweep")
            .arg(&sc)
            .arg(&requests)
            .args(["-q", "--threads", threads, "--out"])
            .arg(d.path().join(sub))
            .assert()
            .success();
    }
    for name in ["small", "small_req"] {
        let a = d.path().join("one").join(name);
        let b = d.path().join("all").join(name);
        let fa = files(&a);
        assert_eq!(fa, files(&b));
        // 2 sims × (3 forecasters × 2 quantiles + 1 hpa) = 14 cells.
        assert_eq!(fa.iter().filter(|p| p.starts_with("timelines")).count(), 14);
        for f in fa {
            assert_eq!(
                std::fs::read(a.join(&f)).unwrap(),
                std::fs::read(b.join(&f)).unwrap(),
                "{name}/{}",
                f.display()
            );
        }
    }
    let summary = std::fs::read_to_string(d.path().join("one/small/metrics_summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    assert!(header.starts_with("scenario,cell,forecaster,policy,sim.startup_delay_s,forecaster.window,policy.quantile,over_pct"), "{header}");
}

#[test]
fn a_failed_sweep_leaves_earlier_results_untouched() {
    let d = tempfile::tempdir().unwrap();
    let sc = write(d.path(), "small.toml", SMALL);
    let out = d.path().join("out");
    sweep(&sc, &out).success();
    let before = std::fs::read(out.join("small/metrics_summary.csv")).unwrap();
    // Same name, but the forecast file it needs does not exist: fails after validation.
    let broken = SMALL.replace(
        "[[forecasters]]\nkind = \"seasonal_naive\"\nperiod = 1440",
        "[[forecasters]]\nkind = \"file\"\npath = \"missing.csv\"",
    );
    let sc2 = write(d.path(), "small.toml", &broken);
    sweep(&sc2, &out)
        .failure()
        .stderr(predicate::str::contains("missing.csv"));
    assert_eq!(
        std::fs::read(out.join("small/metrics_summary.csv")).unwrap(),
        before
    );
    // Nothing half-written is left; the folder's lock file (`.small.lock`) stays.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| !n.to_string_lossy().ends_with(".lock"))
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn scenario_errors_name_the_file_and_the_key() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        ("bad_toml.toml", "name = \"x\"\n[trace\n", "not valid TOML"),
        (
            "unknown.toml",
            &SMALL.replace("[window]", "[window]\nwarmup = 3") as &str,
            "unknown field `warmup`",
        ),
        (
            "stray.toml",
            &SMALL.replace("kind = \"hpa\"", "kind = \"hpa\"\ncooldown = 3") as &str,
            "cooldown",
        ),
        (
            "quantile.toml",
            &SMALL.replace("[0.8, 0.95]", "0.42") as &str,
            "quantile 0.42",
        ),
        (
            "no_policy.toml",
            "[trace]\nfile = \"x.csv\"\n[window]\ntrain = 10\n",
            "no [[policies]]",
        ),
        (
            "sweep_trace.toml",
            &SMALL.replace("days = 3", "days = [3, 4]") as &str,
            "cannot be swept",
        ),
        (
            "interval.toml",
            &SMALL.replace("startup_delay_s = [0, 120]", "decision_interval_s = 90") as &str,
            "multiple of the trace step",
        ),
        // Regression (#13): 4·10^9 initial replicas aborted on a 32 GB allocation.
        (
            "huge_pool.toml",
            &SMALL.replace(
                "startup_delay_s = [0, 120]",
                "initial_replicas = 4000000000",
            ) as &str,
            "initial_replicas (4000000000) is over the simulator's limit of 1000000",
        ),
        (
            "huge_max.toml",
            &SMALL.replace("kind = \"hpa\"", "kind = \"hpa\"\nmax_replicas = 100000000") as &str,
            "max_replicas (100000000) is over the simulator's limit",
        ),
        // Regression (#12): two `hpa` entries gave two identical labels and one chart line.
        (
            "duplicate_policies.toml",
            &format!("{SMALL}[[policies]]\nkind = \"hpa\"\nmetric = \"request_rate\"\n") as &str,
            "another policy is already named 'hpa'",
        ),
        // A comma in a label broke every CSV row it named.
        (
            "comma_name.toml",
            &format!("{SMALL}[[policies]]\nkind = \"hpa\"\nname = \"hpa, tuned\"\n") as &str,
            "name 'hpa, tuned' must be non-empty, without commas",
        ),
    ];
    for (name, text, needle) in cases {
        let p = write(d.path(), name, text);
        sweep(&p, d.path().join("o"))
            .failure()
            .code(1)
            .stderr(predicate::str::contains(name).and(predicate::str::contains(needle)));
    }
    sim()
        .args(["sweep", "does/not/exist.toml"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("does/not/exist.toml"));
}

fn trace_scenario(dir: &std::path::Path, csv: &str, extra: &str) -> std::path::PathBuf {
    write(dir, "t.csv", csv);
    write(dir, "t.toml", &format!("[trace]\nfile = \"t.csv\"\n{extra}\n[window]\ntrain = 2\n[[policies]]\nkind = \"static\"\n"))
}

#[test]
fn bad_trace_rows_are_reported_with_file_and_row() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "timestamp,requests\n0,1\n60,abc\n120,3\n",
            "row 2",
            "not a number",
        ),
        ("timestamp,requests\n0,1\n60,NaN\n120,3\n", "row 2", "NaN"),
        (
            "timestamp,requests\n0,1\n60,-4\n120,3\n",
            "row 2",
            "negative",
        ),
        (
            "timestamp,requests\n0,1\n60,2\n60,3\n",
            "row 3",
            "duplicate timestamp",
        ),
        (
            "timestamp,requests\n0,1\n120,2\n60,3\n",
            "row 3",
            "earlier than the row before",
        ),
        (
            "timestamp,requests\n0,1\nlater,2\n",
            "row 2",
            "not a timestamp",
        ),
        ("timestamp,requests\n", "t.csv", "no data rows"),
        (
            "time,requests\n0,1\n60,2\n",
            "t.csv",
            "missing column 'timestamp'",
        ),
        (
            "timestamp,requests\n0,1\n60,2\n300,1\n360,1\n",
            "t.csv",
            "gap",
        ),
    ];
    for (csv, where_, what) in cases {
        let sc = trace_scenario(d.path(), csv, "");
        sweep(&sc, d.path().join("o"))
            .failure()
            .stderr(predicate::str::contains(where_).and(predicate::str::contains(what)));
    }
    assert!(!d.path().join("o").join("t").exists());
}

#[test]
fn gaps_are_filled_by_the_stated_policy_and_recorded() {
    let d = tempfile::tempdir().unwrap();
    let csv = "timestamp,requests\n0,10\n60,20\n240,50\n300,60\n360,70\n";
    let sc = trace_scenario(d.path(), csv, "gaps = \"interpolate\"");
    sweep(&sc, d.path().join("o")).success();
    let tl = read_parquet(&d.path().join("o/t/timelines/cell_000000.parquet"));
    let demand = common::f64_col(&tl, "demand");
    assert_eq!(demand, vec![30.0, 40.0, 50.0, 60.0, 70.0]);
    let manifest = std::fs::read_to_string(d.path().join("o/t/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"start_step\": 2") && manifest.contains("\"steps\": 2"),
        "{manifest}"
    );
}

#[test]
fn parquet_traces_load_like_csv_ones() {
    let d = tempfile::tempdir().unwrap();
    sim()
        .args([
            "gen-data", "--preset", "mixed", "--days", "3", "--format", "parquet", "--out",
        ])
        .arg(d.path())
        .assert()
        .success();
    sim()
        .args(["gen-data", "--preset", "mixed", "--days", "3", "--out"])
        .arg(d.path())
        .assert()
        .success();
    for ext in ["parquet", "csv"] {
        let sc = SMALL
            .replace(
                "generator = { preset = \"mixed\", days = 3 }",
                &format!("file = \"scenario_mixed.{ext}\"\nvalue_column = \"req_per_min\""),
            )
            .replace("name = \"small\"", &format!("name = \"from_{ext}\""));
        let p = write(d.path(), &format!("{ext}.toml"), &sc);
        sweep(&p, d.path().join("o")).success();
    }
    let strip = |name: &str| {
        let t = std::fs::read_to_string(d.path().join(format!("o/{name}/metrics_summary.csv")))
            .unwrap();
        t.lines()
            .skip(1)
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip("from_parquet"), strip("from_csv"));
}

#[test]
fn resampling_sums_counts_and_averages_rates() {
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,requests\n");
    for i in 0..30 {
        csv += &format!("2025-03-01T00:{i:02}:00+01:00,{}\n", i);
    }
    // Six 5-minute buckets; the first two are the training window.
    for (kind, expected) in [
        ("count", vec![60.0, 85.0, 110.0, 135.0]),
        ("rate", vec![12.0, 17.0, 22.0, 27.0]),
    ] {
        let sc = trace_scenario(
            d.path(),
            &csv,
            &format!("step_s = 300\nvalue_kind = \"{kind}\""),
        );
        sweep(&sc, d.path().join(kind)).success();
        let tl = read_parquet(&d.path().join(kind).join("t/timelines/cell_000000.parquet"));
        let demand = common::f64_col(&tl, "demand");
        assert_eq!(demand, expected, "{kind}");
        let m = std::fs::read_to_string(d.path().join(kind).join("t/manifest.json")).unwrap();
        assert!(
            m.contains("2025-03-01T00:00:00+01:00"),
            "start keeps its offset"
        );
    }
}

#[test]
fn file_forecasts_with_intervals_and_quantiles_drive_confidence_aware() {
    let d = tempfile::tempdir().unwrap();
    let mut trace = String::from("timestamp,requests\n");
    let mut fc = String::from("timestamp,yhat,yhat_lower,yhat_upper\n");
    for i in 0..20 {
        trace += &format!("{},{}\n", i * 60, 40);
        // 80 % interval [40, 60] around 50: the 0.9 quantile is the upper bound.
        fc += &format!("{},50,40,60\n", i * 60);
    }
    write(d.path(), "fc.csv", &fc);
    write(d.path(), "t.csv", &trace);
    let sc = write(
        d.path(),
        "f.toml",
        "[trace]\nfile = \"t.csv\"\n[window]\ntrain = 5\n[simulation]\ncapacity_per_replica = 10\n[[forecasters]]\nkind = \"file\"\npath = \"fc.csv\"\n[[policies]]\nkind = \"confidence_aware\"\nquantile = [0.5, 0.9]\n",
    );
    sweep(&sc, d.path().join("o")).success();
    for (cell, replicas, planned) in [(0, 5u64, 50.0), (1, 6, 60.0)] {
        let tl = read_parquet(
            &d.path()
                .join(format!("o/f/timelines/cell_{cell:06}.parquet")),
        );
        let ready: Vec<u64> = tl
            .column("ready")
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert!(
            ready.iter().all(|&r| r == replicas),
            "cell {cell}: {ready:?}"
        );
        let p = tl.column("planned").unwrap().f64().unwrap().get(3).unwrap();
        assert!((p - planned).abs() < 1e-9, "cell {cell}: planned {p}");
    }
    // A forecast file that stops inside the test window is refused, naming the time.
    write(
        d.path(),
        "fc.csv",
        &fc.lines().take(12).collect::<Vec<_>>().join("\n"),
    );
    sweep(&sc, d.path().join("o"))
        .failure()
        .stderr(predicate::str::contains("no value for 660"));
}

#[test]
fn sim_train_saves_smartcore_models_with_a_card() {
    let d = tempfile::tempdir().unwrap();
    let sc = write(
        d.path(),
        "r.toml",
        "name = \"r\"\n[trace]\ngenerator = { preset = \"mixed\", days = 3 }\n[window]\ntrain = \"2d\"\n[[forecasters]]\nkind = \"ridge\"\nlags = 30\n[[forecasters]]\nkind = \"random_forest\"\nlags = 10\ntrees = 5\n[[policies]]\nkind = \"buffered\"\n",
    );
    sim()
        .arg("train")
        .arg(&sc)
        .arg("--out")
        .arg(d.path().join("m"))
        .assert()
        .success();
    for (name, lags) in [("ridge", 30), ("random_forest", 10)] {
        let card: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.path().join(format!("m/r/{name}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(card["kind"], name);
        assert_eq!(card["features"]["lags"], lags);
        assert_eq!(card["training_steps"], 2880);
        assert!(
            card["model"]["model"].is_object(),
            "{name}: the fitted smartcore model is in the card"
        );
    }
}

#[test]
fn an_hpa_manifest_runs_in_a_sweep_and_behavior_values_sweep() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "hpa.yaml",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 12\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target: {type: Utilization, averageUtilization: 60}\n",
    );
    let sc = write(
        d.path(),
        "hpa.toml",
        r#"
name = "hpa_manifest"
seed = 1
[trace]
generator = { preset = "spiky", days = 2 }
[window]
train = "1d"
[[policies]]
kind = "hpa"
manifest = "hpa.yaml"
[[policies]]
kind = "hpa"
name = "hpa_windows"
behavior.scaleDown.stabilizationWindowSeconds = [0, 300]
"#,
    );
    sweep(&sc, d.path().join("out")).success();
    let summary =
        std::fs::read_to_string(d.path().join("out/hpa_manifest/metrics_summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "policy.behavior.scaleDown.stabilizationWindowSeconds")
        .expect("the behavior window is a sweep column");
    let peak = header.iter().position(|h| *h == "peak_replicas").unwrap();
    let rows: Vec<Vec<&str>> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 3);
    // The manifest's bounds hold: at most 12 replicas.
    assert!(rows[0][peak].parse::<f64>().unwrap() <= 12.0, "{summary}");
    assert_eq!(rows[1][col], "0");
    assert_eq!(rows[2][col], "300");
    // A missing manifest names the file.
    let bad = write(
        d.path(),
        "bad.toml",
        &std::fs::read_to_string(&sc)
            .unwrap()
            .replace("hpa.yaml", "nope.yaml"),
    );
    let out = sweep(&bad, d.path().join("out2")).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("policies[0]: manifest") && err.contains("nope.yaml"),
        "{err}"
    );
}

#[test]
fn a_failing_scenario_does_not_stop_the_others() {
    // Regression (#12): `sim sweep scenarios/*.toml` stopped at the first scenario that
    // could not run (lstm.toml on a build without the feature) and skipped the rest.
    let d = tempfile::tempdir().unwrap();
    let bad = write(
        d.path(),
        "a_bad.toml",
        &SMALL
            .replace("name = \"small\"", "name = \"a_bad\"")
            .replace("kind = \"seasonal_naive\"", "kind = \"no_such_model\""),
    );
    let missing = d.path().join("b_missing.toml");
    let good = write(d.path(), "c_good.toml", SMALL);
    let out = sim()
        .arg("sweep")
        .args([&bad, &missing, &good])
        .args(["-q", "--out"])
        .arg(d.path().join("out"))
        .assert()
        .failure()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        d.path().join("out/small/metrics_summary.csv").exists(),
        "{err}"
    );
    assert!(err.contains("2 of 3 scenarios failed"), "{err}");
    assert!(
        err.contains("a_bad.toml") && err.contains("no_such_model"),
        "{err}"
    );
    assert!(err.contains("b_missing.toml"), "{err}");
}

#[test]
fn likely_mistakes_are_warned_in_plain_text_and_recorded_in_the_manifest() {
    // Regression (#12): a 4 s service under the 150 ms safety net ratcheted replicas up
    // silently, and WARN lines kept their colour codes when stderr was a file.
    let d = tempfile::tempdir().unwrap();
    let sc = write(
        d.path(),
        "slow.toml",
        r#"
name = "slow"
seed = 2
[trace]
generator = { preset = "smooth", days = 2, base = 10 }
[window]
train = "1d"
test = "2h"
[simulation]
fidelity = "requests"
capacity_per_replica = 15
slo_ms = 500
[[forecasters]]
kind = "naive"
[[policies]]
kind = "buffered"
max_replicas = 4
"#,
    );
    let out = sweep(&sc, d.path().join("out")).success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("WARN") && !err.contains('\u{1b}'), "{err}");
    assert!(err.contains("adds a replica at every step"), "{err}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("out/slow/manifest.json")).unwrap(),
    )
    .unwrap();
    let w: Vec<&str> = m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        w.iter()
            .any(|m| m.contains("slo_ms (500) is below the mean service time (4000 ms)")),
        "{w:?}"
    );
    assert!(w.iter().any(|m| m.contains("not clamped")), "{w:?}");
}

#[test]
fn scenario_name_prints_the_folder_a_sweep_writes() {
    // The recipes ask for the name instead of parsing the file: it is `name`, not the stem.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("some_file.toml");
    std::fs::write(&p, SMALL).unwrap();
    let out = sim().arg("scenario-name").arg(&p).assert().success();
    let name = String::from_utf8_lossy(&out.get_output().stdout)
        .trim()
        .to_string();
    let want = toml::from_str::<toml::Table>(SMALL).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(name, want);
    std::fs::write(&p, "name = \"x\"\n[trace\n").unwrap();
    sim()
        .arg("scenario-name")
        .arg(&p)
        .assert()
        .failure()
        .stderr(predicate::str::contains("not valid TOML"));
}
