//! The `oracle` forecaster (perfect foresight, #15) and what forecast error costs
//! against it (`forecast_error.csv`), in one run and merged from shards.

mod common;

use common::{csv, sweep, sweep_err, write};

const SCENARIO: &str = r#"
name = "o"
[trace]
file = "t.csv"
[window]
train = "2h"
[simulation]
capacity_per_replica = 10
initial_replicas = 1
safety_net = { enabled = false }
[[forecasters]]
kind = "naive"
[[forecasters]]
kind = "oracle"
[[policies]]
kind = "simple_ceiling"
max_replicas = 100
[[policies]]
kind = "buffered"
buffer = [1.0, 1.2]
max_replicas = 100
"#;

#[test]
fn the_oracle_bounds_forecast_error_and_its_cost_is_attributed() {
    let d = tempfile::tempdir().unwrap();
    // Four hours of minutes: a noisy level with bursts a naive forecast cannot foresee.
    let mut t = String::from("timestamp,requests\n");
    for i in 0..240u64 {
        let v = 50 + (i * 37) % 41 + if i % 17 == 0 { 150 } else { 0 };
        t.push_str(&format!("{},{v}\n", 60 * i));
    }
    write(d.path(), "t.csv", &t);
    let sc = write(d.path(), "o.toml", SCENARIO);
    sweep(&sc, d.path().join("out")).success();
    let dir = d.path().join("out/o");
    // The oracle's forecasts are the trace itself.
    let (h, rows) = csv(&dir.join("forecast_accuracy.csv"));
    let mae = h.iter().position(|c| c == "mae").unwrap();
    let oracle = rows.iter().find(|r| r[0] == "oracle").unwrap();
    assert_eq!(oracle[mae].parse::<f64>().unwrap(), 0.0, "{oracle:?}");
    // Provisioning for a perfect forecast never under-provisions (no start-up delay) ...
    let (h, rows) = csv(&dir.join("metrics_summary.csv"));
    let at = |c: &str| h.iter().position(|x| x == c).unwrap();
    let (fc, under) = (at("forecaster"), at("under_events"));
    assert!(rows
        .iter()
        .filter(|r| r[fc] == "oracle")
        .all(|r| r[under] == "0"));
    // With no start-up delay and a decision per step, sizing exactly for a perfect
    // forecast is the optimal schedule: no regret; a 20 % buffer on it pays 10–20 % more.
    let regret = |policy: &str, buffer: &str| -> f64 {
        let r = rows
            .iter()
            .find(|r| {
                r[fc] == "oracle" && r[at("policy")] == policy && r[at("policy.buffer")] == buffer
            })
            .unwrap();
        r[at("regret_cost_pct")].parse().unwrap()
    };
    assert!(regret("simple_ceiling", "").abs() < 1e-9);
    assert!(regret("buffered", "1").abs() < 1e-9);
    let r = regret("buffered", "1.2");
    assert!((5.0..25.0).contains(&r), "{r}");
    // ... and every naive cell is attributed against the oracle cell of its policy.
    let (eh, erows) = csv(&dir.join("forecast_error.csv"));
    assert_eq!(erows.len(), 3, "{erows:?}");
    let col = |c: &str| eh.iter().position(|x| x == c).unwrap();
    for r in &erows {
        assert_eq!(r[col("forecaster")], "naive");
        let cell: usize = r[col("cell")].parse().unwrap();
        let oracle_cell: usize = r[col("oracle_cell")].parse().unwrap();
        let (own, bound) = (&rows[cell], &rows[oracle_cell]);
        assert_eq!(bound[fc], "oracle");
        assert_eq!(own[at("policy")], bound[at("policy")]);
        assert_eq!(own[at("policy.buffer")], bound[at("policy.buffer")]);
        let delta =
            |m: &str| own[at(m)].parse::<f64>().unwrap() - bound[at(m)].parse::<f64>().unwrap();
        assert_eq!(
            r[col("forecast_error_under")].parse::<f64>().unwrap(),
            delta("under_events")
        );
        assert_eq!(
            r[col("forecast_error_cost")].parse::<f64>().unwrap(),
            delta("cost_replica_hours")
        );
        // The naive forecast misses every burst.
        assert!(delta("under_events") >= 10.0, "{r:?}");
    }
    // Shards merged give the same attribution.
    let merged = common::sweep_in_two_shards(&sc, d.path(), "o");
    common::same_files(&merged, &dir, &["forecast_error.csv"]);
    assert!(!d
        .path()
        .join("shards/o.shard-1-of-2/forecast_error.csv")
        .exists());
    // An oracle must say it is one.
    let bad = write(
        d.path(),
        "bad.toml",
        &SCENARIO.replace("kind = \"oracle\"", "kind = \"oracle\"\nname = \"best\""),
    );
    let e = sweep_err(&bad, d.path().join("out"));
    assert!(e.contains("must have a name starting with 'oracle'"), "{e}");
}
