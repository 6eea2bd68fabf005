//! Trace loading end to end: sub-minute steps, hostile files (huge spans, years past the
//! calendar, malformed Parquet) and the Parquet column types users' tools write.

mod common;

use common::{read_parquet, root, sweep, write};
use polars::prelude::*;

#[test]
fn decision_interval_on_a_per_second_trace_is_checked_against_its_own_step() {
    // Regression (#12): `decision_interval_s = 15` was checked against a fixed 60 s step
    // before the trace was read, so a per-second trace could not decide every 15 s.
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,requests\n");
    for s in 0..7200u64 {
        // A per-second arrival count with a burst in the second hour.
        let base = 4 + (s % 7) / 3;
        let burst = if (4800..5400).contains(&s) { 12 } else { 0 };
        csv.push_str(&format!("{},{}\n", 1_700_000_000 + s, base + burst));
    }
    write(d.path(), "per_second.csv", &csv);
    let scenario = |interval: &str| {
        format!(
            r#"
name = "per_second"
seed = 5
[trace]
file = "per_second.csv"
[window]
train = "1h"
[simulation]
fidelity = "requests"
capacity_per_replica = 6
initial_replicas = 2
decision_interval_s = {interval}
startup_delay_s = 10
safety_net = {{ enabled = false }}
[[forecasters]]
kind = "moving_average"
window = 30
[[policies]]
kind = "buffered"
lead_steps = 10
[[policies]]
kind = "hpa"
metric = "request_rate"
"#
        )
    };
    let sc = write(d.path(), "ps.toml", &scenario("15"));
    sweep(&sc, d.path().join("out")).success();
    let tl = read_parquet(
        &d.path()
            .join("out/per_second/timelines/cell_000000.parquet"),
    );
    assert_eq!(tl.height(), 3600, "one row per second of the test hour");
    let desired = tl.column("desired").unwrap().u64().unwrap();
    // buffered decides every 15 s: the count changes only at multiples of 15 steps.
    let mut prev = desired.get(0).unwrap();
    for i in 1..tl.height() {
        let v = desired.get(i).unwrap();
        if v != prev {
            assert_eq!(i % 15, 0, "change at second {i}");
        }
        prev = v;
    }
    // The burst needs more than the initial 2 replicas; both policies follow it.
    let summary =
        std::fs::read_to_string(d.path().join("out/per_second/metrics_summary.csv")).unwrap();
    assert!(summary.lines().count() == 3, "{summary}");
    // An interval that is not a multiple of the real step is refused, naming that step.
    let bad = write(d.path(), "bad.toml", &scenario("2.5"));
    let out = sweep(&bad, d.path().join("out2")).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("multiple of the trace step (1 s)"), "{err}");
}

#[test]
fn hostile_span_and_year_files_are_refused_without_allocating_or_panicking() {
    // Regression (#13): five rows far apart made resampling allocate the whole span
    // (24 GB: abort, exit 134) before the gap check; epoch seconds past chrono's range
    // panicked (exit 101). Run under a 2 GB address-space limit.
    let d = tempfile::tempdir().unwrap();
    let hostile = root().join("tests/data/hostile");
    let cases = [
        (
            "span_epoch.csv",
            "error",
            "gap(s) in the trace, the first of 2999999996 step(s) after row 4",
        ),
        ("span_rel.csv", "error", "gap(s) in the trace"),
        ("span_ms.csv", "error", "gap(s) in the trace"),
        ("span_epoch.csv", "zero", "over the limit of 100000000"),
        ("span_ms.csv", "interpolate", "over the limit of 100000000"),
        ("year_overflow.csv", "error", "past the year 262143"),
    ];
    for (file, gaps, needle) in cases {
        std::fs::copy(hostile.join(file), d.path().join("t.csv")).unwrap();
        let sc = write(
            d.path(),
            "t.toml",
            &format!("[trace]\nfile = \"t.csv\"\ngaps = \"{gaps}\"\n[window]\ntrain = 2\n[[policies]]\nkind = \"static\"\n"),
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 2000000; exec \"$0\" sweep \"$1\" -q --out \"$2\"")
            .arg(assert_cmd::cargo::cargo_bin("sim"))
            .arg(&sc)
            .arg(d.path().join("out"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file} ({gaps}): {err}");
        assert!(
            err.contains(needle) && err.contains("t.csv"),
            "{file} ({gaps}): {err}"
        );
    }
}

#[test]
fn malformed_parquet_files_are_an_error_not_a_panic() {
    // Regression (#13): three mutated Parquet files panicked inside polars (exit 101);
    // the fuzzer's `alloc_abort.parquet` (a corrupt page header) made polars ask for 2^61
    // bytes, which aborts (exit 134) rather than panicking.
    let d = tempfile::tempdir().unwrap();
    for file in [
        "panic1.parquet",
        "panic2.parquet",
        "panic3.parquet",
        "alloc_abort.parquet",
    ] {
        std::fs::copy(
            root().join("tests/data/hostile").join(file),
            d.path().join("t.parquet"),
        )
        .unwrap();
        let sc = write(
            d.path(),
            "t.toml",
            "[trace]\nfile = \"t.parquet\"\nvalue_column = \"req_per_min\"\n[window]\ntrain = 2\n[[policies]]\nkind = \"static\"\n",
        );
        let out = sweep(&sc, d.path().join("out")).failure().code(1);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            err.contains("t.parquet") && !err.contains("panicked"),
            "{file}: {err}"
        );
    }
}

#[test]
fn parquet_native_timestamps_and_dates_load_like_their_csv_equivalents() {
    // Regression (#13): native timestamp columns (what pandas and polars write by default),
    // zoned ones and Date columns gave "cannot create series from Timestamp(Microsecond, None)".
    use scalesim::trace::{load, TraceSpec};
    let d = tempfile::tempdir().unwrap();
    let start_ms: i64 = 1_743_292_800_000; // 2025-03-30T00:00:00Z: Berlin goes to summer time at 01:00Z
    let n = 180;
    let values: Vec<f64> = (0..n).map(|i| (i % 17) as f64 + 3.0).collect();
    let mut csv = String::from("timestamp,req_per_min\n");
    for (i, v) in values.iter().enumerate() {
        let t = chrono::DateTime::from_timestamp_millis(start_ms + i as i64 * 60_000).unwrap();
        csv.push_str(&format!("{},{v}\n", t.to_rfc3339()));
    }
    std::fs::write(d.path().join("t.csv"), csv).unwrap();
    let from_csv = load(&TraceSpec::for_path(d.path().join("t.csv")), "t")
        .unwrap()
        .workload;
    let write_parquet = |name: &str, ts: Series| {
        let mut df = DataFrame::new(
            n,
            vec![ts.into(), Series::new("req_per_min".into(), &values).into()],
        )
        .unwrap();
        let p = d.path().join(name);
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .finish(&mut df)
            .unwrap();
        p
    };
    let berlin = TimeZone::opt_try_new(Some("Europe/Berlin")).unwrap();
    for (unit, per_ms) in [
        (TimeUnit::Milliseconds, 1),
        (TimeUnit::Microseconds, 1_000),
        (TimeUnit::Nanoseconds, 1_000_000),
    ] {
        for tz in [None, berlin.clone()] {
            let raw: Vec<i64> = (0..n as i64)
                .map(|i| (start_ms + i * 60_000) * per_ms)
                .collect();
            let ts = Series::new("timestamp".into(), raw)
                .cast(&DataType::Datetime(unit, tz.clone()))
                .unwrap();
            let p = write_parquet("t.parquet", ts);
            let w = load(&TraceSpec::for_path(&p), "t").unwrap().workload;
            assert_eq!(w.demand, from_csv.demand, "{unit:?} {tz:?}");
            assert_eq!(w.step_ms, 60_000);
            let start = w.start.unwrap();
            assert_eq!(start.timestamp_millis(), start_ms, "{unit:?} {tz:?}");
            // A zoned column keeps its zone's offset, as a CSV with offsets does.
            let offset = if tz.is_some() { 3600 } else { 0 };
            assert_eq!(start.offset().local_minus_utc(), offset, "{unit:?} {tz:?}");
        }
    }
    // A Date column: one row a day.
    let days = Series::new(
        "timestamp".into(),
        (20_000..20_000 + n as i32).collect::<Vec<_>>(),
    )
    .cast(&DataType::Date)
    .unwrap();
    let p = write_parquet("days.parquet", days);
    let w = load(&TraceSpec::for_path(&p), "t").unwrap().workload;
    assert_eq!((w.step_ms, w.demand.len()), (86_400_000, n));
    // Files as pandas / pyarrow write them (tests/data/hostile, from the project's set).
    let hostile = root().join("tests/data/hostile");
    for f in ["p_datetime_naive.parquet", "p_datetime_tz.parquet"] {
        let mut spec = TraceSpec::for_path(hostile.join(f));
        spec.value_column = Some("req_per_min".into());
        let w = load(&spec, "t").unwrap().workload;
        assert_eq!((w.demand.len(), w.step_ms), (200, 60_000), "{f}");
    }
    let mut spec = TraceSpec::for_path(hostile.join("p_date.parquet"));
    spec.value_column = Some("req_per_min".into());
    // Its 200 rows share one date: refused as its CSV twin is.
    let e = load(&spec, "t").unwrap_err().to_string();
    assert!(
        e.contains("duplicate timestamp '2025-01-01T00:00:00'"),
        "{e}"
    );
}

#[test]
fn malformed_csv_files_are_named_with_their_row_and_fix() {
    // Regressions (#13): a trailing blank line was "row 301: column is empty"; a folder
    // gave "No such device (os error 19)" three times; a gzipped .csv said "compile with
    // feature 'decompress'"; extra fields gave no row and polars' `truncate_ragged_lines`;
    // a duplicate header name and a row with missing fields were taken silently or late;
    // a bad 5 kB field was copied whole; timestamps 0.2 ms apart were "duplicates"; an
    // empty list was "invalid type: sequence, expected u32".
    let d = tempfile::tempdir().unwrap();
    let mut good = String::from("timestamp,requests\n");
    for i in 0..300u64 {
        good.push_str(&format!("{},{}\n", 1_700_000_000 + 60 * i, 50 + i % 7));
    }
    let lines: Vec<&str> = good.lines().collect();
    let with_line = |k: usize, l: &str| {
        let mut v = lines.clone();
        v[k] = l;
        v.join("\n") + "\n"
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("blank.csv", format!("{good}\n\n").into_bytes(), ""),
        (
            "ragged.csv",
            with_line(50, "1700002940,53,9").into_bytes(),
            "row 50: 3 field(s), but the header has 2",
        ),
        (
            "short.csv",
            with_line(50, "1700002940").into_bytes(),
            "row 50: 1 field(s), but the header has 2",
        ),
        (
            "dup.csv",
            good.replacen("timestamp,requests", "timestamp,requests,requests", 1)
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        format!("{l}\n")
                    } else {
                        format!("{l},1\n")
                    }
                })
                .collect::<String>()
                .into_bytes(),
            "names column 'requests' twice",
        ),
        (
            "big.csv",
            with_line(60, &format!("1700003540,{}", "x".repeat(5000))).into_bytes(),
            "… (5000 bytes)' is not a number",
        ),
        (
            "sub_ms.csv",
            b"timestamp,requests\n1700000000.0001,1\n1700000000.0003,2\n1700000000.0005,3\n"
                .to_vec(),
            "under 1 ms after the row before",
        ),
        (
            "gz.csv",
            [&[0x1f, 0x8b, 8, 0][..], b"rest"].concat(),
            "gzip-compressed: decompress it first",
        ),
    ];
    let scenario = |file: &str, replicas: &str| {
        format!("name = \"m\"\n[trace]\nfile = \"{file}\"\n[window]\ntrain = \"3h\"\n[[policies]]\nkind = \"static\"\nreplicas = {replicas}\n")
    };
    for (file, bytes, expect) in &cases {
        std::fs::write(d.path().join(file), bytes).unwrap();
        let sc = write(d.path(), "m.toml", &scenario(file, "2"));
        let out = sweep(&sc, d.path().join("out"));
        if expect.is_empty() {
            out.success();
            continue;
        }
        let err = String::from_utf8_lossy(&out.failure().get_output().stderr).to_string();
        assert!(err.contains(expect), "{file}: {err}");
        assert!(
            !err.contains("truncate_ragged_lines") && err.len() < 600,
            "{file}: {err}"
        );
        // Nothing ran, so there is nothing for --resume to reuse.
        assert!(!err.contains("--resume"), "{file}: {err}");
    }
    std::fs::create_dir(d.path().join("folder.csv")).unwrap();
    let sc = write(d.path(), "m.toml", &scenario("folder.csv", "2"));
    let err = common::sweep_err(&sc, d.path().join("out"));
    assert!(
        err.contains("is a folder, not a file") && err.matches("folder").count() <= 3,
        "{err}"
    );
    let sc = write(d.path(), "m.toml", &scenario("blank.csv", "[]"));
    let err = common::sweep_err(&sc, d.path().join("out"));
    assert!(err.contains("`replicas = []` is an empty list"), "{err}");
    // With finished cells in the work folder, the advice to resume is given.
    let rows = d.path().join("out/.m.partial/rows");
    std::fs::create_dir_all(&rows).unwrap();
    std::fs::write(rows.join("chunk_000000.csv"), "x\n").unwrap();
    let sc = write(d.path(), "m.toml", &scenario("ragged.csv", "2"));
    let err = common::sweep_err(&sc, d.path().join("out"));
    assert!(err.contains("rerun with --resume"), "{err}");
}

#[test]
fn an_error_states_its_cause_once() {
    // Regression (#13): every error repeated its cause ("X: X").
    let d = tempfile::tempdir().unwrap();
    // Results asked for under a regular file: the folder cannot be made.
    let sc = write(d.path(), "s.toml", "name = \"s\"\n[trace.generator]\npreset = \"smooth\"\ndays = 2\n[window]\ntrain = \"1d\"\n[[policies]]\nkind = \"static\"\nreplicas = 2\n");
    std::fs::write(d.path().join("file"), "x").unwrap();
    let out = sweep(&sc, d.path().join("file/out")).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let first = err.lines().next().unwrap();
    let parts: Vec<&str> = first.split(": ").collect();
    for w in parts.windows(2) {
        assert_ne!(w[0], w[1], "{first}");
    }
}
