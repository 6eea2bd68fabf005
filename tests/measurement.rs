//! The metrics pipeline in sweeps (`[simulation.measurement]`, #19): the controller and
//! the forecasters read demand through scrapes and a delay, not the interval's own.

mod common;

use common::{f64_col, read_parquet, sweep, sweep_err, u64_col, write};

fn scenario(measurement: &str) -> String {
    format!(
        r#"
name = "m"
[trace]
file = "t.csv"
[window]
train = "10m"
[simulation]
capacity_per_replica = 10
initial_replicas = 1
safety_net = {{ enabled = false }}
{measurement}
[[forecasters]]
kind = "naive"
[[policies]]
kind = "simple_ceiling"
max_replicas = 100
"#
    )
}

#[test]
fn a_measured_reading_lags_the_trace_and_a_sweep_axis_of_it_is_refused() {
    let d = tempfile::tempdir().unwrap();
    // One-minute steps: 10 quiet, then a step to 100, 300, 100, 100 ...
    let mut csv = String::from("timestamp,requests\n");
    let demand: Vec<f64> = (0..30)
        .map(|i| {
            if i < 10 {
                10.0
            } else if i == 11 {
                300.0
            } else {
                100.0
            }
        })
        .collect();
    for (i, v) in demand.iter().enumerate() {
        csv.push_str(&format!("{},{v}\n", 60 * i));
    }
    write(d.path(), "t.csv", &csv);
    let run = |name: &str, m: &str| {
        let sc = write(
            d.path(),
            &format!("{name}.toml"),
            &scenario(m).replace("\"m\"", &format!("\"{name}\"")),
        );
        sweep(&sc, d.path().join("out")).success();
        read_parquet(
            &d.path()
                .join(format!("out/{name}/timelines/cell_000000.parquet")),
        )
    };
    let exact = run("exact", "");
    // Scraped every 15 s, read 10 s late: the newest sample at the end of step j is the
    // one 45 s into it, so the forecasters' series is 1/4 of step j−1 and 3/4 of step j.
    let lagged = run(
        "lagged",
        "measurement = { scrape_interval_s = 15, delay_s = 10 }",
    );
    let desired = |tl| u64_col(tl, "desired");
    // Exact: the naive forecast of step k is d[k−1]: 300 at step 12 → 30 replicas.
    assert_eq!(desired(&exact)[2], 30, "{:?}", desired(&exact));
    // Measured: step 10 reads 10/4 + 3·100/4 = 77.5 (8 replicas at step 11), step 11
    // 100/4 + 3·300/4 = 250 (25 at step 12), step 12 300/4 + 3·100/4 = 150 (15 at 13).
    assert_eq!(
        &desired(&lagged)[1..4],
        &[8, 25, 15],
        "{:?}",
        desired(&lagged)
    );
    // The cluster still serves the true demand.
    assert_eq!(f64_col(&lagged, "demand"), f64_col(&exact, "demand"));
    // A measurement that differs between sweep variants is refused.
    let sc = write(
        d.path(),
        "axis.toml",
        &scenario("measurement = { scrape_interval_s = 15, delay_s = [0, 20] }"),
    );
    let err = sweep_err(&sc, d.path().join("out"));
    assert!(err.contains("cannot be a sweep axis"), "{err}");
}
