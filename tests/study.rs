//! Studies (#15): one scenario over several traces (a glob), each trace's own sweep, and
//! every configuration ranked across them with the share that met the budget and the
//! scenario-theory bound on a new trace.

mod common;

use common::{col, csv, sim, sweep, sweep_err, write};

#[test]
fn a_study_ranks_configurations_across_traces_of_any_size() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("traces")).unwrap();
    // Three traces of different lengths and sizes (a mean of 40, 9,000 and 300 a minute):
    // `mean = 100` puts them on one replica scale, `"50%"` windows fit each length.
    for (name, days, level, burst) in [
        ("small", 2, 40.0, 17),
        ("huge", 3, 9000.0, 23),
        ("mid", 2, 300.0, 0),
    ] {
        let mut t = String::from("timestamp,requests\n");
        for i in 0..days * 1440u64 {
            let phase = (i % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
            let spike = if burst > 0 && i % burst == 0 {
                2.0
            } else {
                1.0
            };
            let v = level * (1.0 + 0.5 * phase.sin()) * spike;
            t.push_str(&format!("{},{}\n", 60 * i, v.round()));
        }
        write(&d.path().join("traces"), &format!("{name}.csv"), &t);
    }
    let sc = write(
        d.path(),
        "st.toml",
        r#"
name = "st"
[trace]
file = "traces/*.csv"
mean = 100
[window]
train = "50%"
[study]
under_budget_pct = 1
beta = 0.05
[simulation]
capacity_per_replica = 20
initial_replicas = 5
safety_net = { enabled = false }
[[forecasters]]
kind = "naive"
[[policies]]
kind = "static"
replicas = 12
[[policies]]
kind = "buffered"
buffer = 1.1
max_replicas = 50
[[policies]]
kind = "optimal"
"#,
    );
    let out = d.path().join("out");
    sweep(&sc, &out).success();
    let dir = out.join("st");
    for t in ["small", "huge", "mid"] {
        assert!(
            dir.join("traces")
                .join(t)
                .join("metrics_summary.csv")
                .exists(),
            "{t}"
        );
    }
    // Each trace's folder is a normal sweep that reports.
    sim()
        .arg("report")
        .arg(dir.join("traces/huge"))
        .assert()
        .success();
    // Normalised: the huge trace's mean is 100 a minute, like the small one's.
    let (h, rows) = csv(&dir.join("traces/huge/metrics_summary.csv"));
    let static_row = rows
        .iter()
        .find(|r| r[col(&h, "policy")] == "static")
        .unwrap();
    assert_eq!(static_row[col(&h, "peak_replicas")], "12");
    // Per trace, ranks 1..=2 (the optimal policy is a bound, left out).
    let (th, trows) = csv(&dir.join("study_traces.csv"));
    assert_eq!(trows.len(), 6, "{trows:?}");
    assert!(trows.iter().all(|r| r[col(&th, "policy")] != "optimal"));
    // Across traces: each configuration's mean rank is its ranks' mean; the share that met
    // the budget and the bound follow from the per-trace rows.
    let (sh, srows) = csv(&dir.join("study.csv"));
    assert_eq!(srows.len(), 2, "{srows:?}");
    for r in &srows {
        let mine: Vec<&Vec<String>> = trows
            .iter()
            .filter(|t| t[col(&th, "policy")] == r[col(&sh, "policy")])
            .collect();
        assert_eq!(mine.len(), 3);
        assert_eq!(r[col(&sh, "traces")], "3");
        let ranks: Vec<f64> = mine
            .iter()
            .map(|t| t[col(&th, "rank")].parse().unwrap())
            .collect();
        let mean_rank: f64 = r[col(&sh, "mean_rank")].parse().unwrap();
        assert!((mean_rank - ranks.iter().sum::<f64>() / 3.0).abs() < 1e-9);
        let met = mine
            .iter()
            .filter(|t| t[col(&th, "meets_budget")] == "true")
            .count();
        assert_eq!(r[col(&sh, "met_budget")], met.to_string());
        let bound: f64 = r[col(&sh, "violation_bound_pct")].parse().unwrap();
        if met == 3 {
            // k = 0 of n = 3: 1 − 0.05^(1/3).
            assert!(
                (bound - 100.0 * (1.0 - 0.05f64.powf(1.0 / 3.0))).abs() < 1e-6,
                "{bound}"
            );
        } else {
            assert!(bound > 100.0 * (1.0 - 0.05f64.powf(1.0 / 3.0)), "{bound}");
        }
    }
    // Sorted by mean rank.
    let first: f64 = srows[0][col(&sh, "mean_rank")].parse().unwrap();
    let second: f64 = srows[1][col(&sh, "mean_rank")].parse().unwrap();
    assert!(first <= second);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("study.json")).unwrap()).unwrap();
    assert_eq!(info["traces"].as_array().unwrap().len(), 3);
    // A pattern that matches nothing, and a study split in shards, are refused clearly.
    let bad = write(
        d.path(),
        "bad.toml",
        &std::fs::read_to_string(&sc)
            .unwrap()
            .replace("traces/*.csv", "nothing/*.csv"),
    );
    let e = sweep_err(&bad, &out);
    assert!(e.contains("no file matches 'nothing/*.csv'"), "{e}");
    let e = String::from_utf8(
        sim()
            .args(["sweep", "-q", "--shard", "1/2", "--out"])
            .arg(&out)
            .arg(&sc)
            .assert()
            .failure()
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(e.contains("runs whole"), "{e}");
}
