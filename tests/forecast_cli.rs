//! `sim forecast` from the command line: settings that would allocate too much or write a
//! format it cannot are refused before any work.

mod common;

use common::naive_forecast;
use predicates::prelude::*;

#[test]
fn an_oversized_forecast_horizon_is_refused_before_allocating() {
    // Regression (#13): `sim forecast --horizon 100000000000` asked for 800 GB.
    assert_cmd::Command::from_std(naive_forecast(
        "100000000000",
        std::path::Path::new("/tmp/never-written.csv"),
    ))
    .assert()
    .failure()
    .code(1)
    .stderr(predicate::str::contains("over the limit of 10000000"));
}

#[test]
fn a_forecast_output_of_another_format_is_refused_before_fitting() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("f.json");
    assert_cmd::Command::from_std(naive_forecast("10", &out))
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains("must end in .csv or .parquet"));
    assert!(!out.exists());
}
