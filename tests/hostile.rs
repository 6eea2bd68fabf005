//! Peak memory on hostile input (#13): every hostile file and oversized setting is
//! refused (or loaded) by a real `sim` process whose peak resident set, read from the
//! kernel's accounting of the finished child (`wait4`, which includes the probe child
//! `sim` starts for Parquet files), stays under 200 MB. Set `SCALESIM_RSS_TABLE` to a
//! path to write the measured table (validation/results/hostile_rss.csv is one).

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{root, write};

/// Runs `cmd` to the end; (exit code, peak RSS in MB, stderr).
// The child is reaped by `wait4` (which also returns its resource use), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: Command) -> (i32, f64, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; `pid` is our own child, not yet
    // waited for (the `Child` handle is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let err = reader.join().unwrap();
    let code = std::process::ExitStatus::from_raw(status)
        .code()
        .unwrap_or(-1);
    // ru_maxrss is in kilobytes on Linux.
    (code, usage.ru_maxrss as f64 / 1024.0, err)
}

fn sweep_cmd(scenario: &Path, out: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("sim"));
    c.arg("sweep")
        .arg(scenario)
        .arg("-q")
        .arg("--out")
        .arg(out)
        .arg("--threads")
        .arg("1");
    c
}

#[test]
fn hostile_input_stays_under_200_mb_and_fails_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let hostile = root().join("tests/data/hostile");
    // Settings cases run on the seed trace.
    std::fs::copy(root().join("data/seed/run.csv"), d.path().join("seed.csv")).unwrap();
    let seed = "file = \"seed.csv\"\nvalue_column = \"req_per_min\"".to_string();
    let csv = |gaps: &str| format!("file = \"t.csv\"\ngaps = \"{gaps}\"");
    let parquet = "file = \"t.parquet\"\nvalue_column = \"req_per_min\"".to_string();
    // (case, hostile file copied in as the trace ("": none), [trace] lines,
    //  [simulation] lines, policy lines, expected exit)
    let cases: Vec<(&str, &str, String, &str, &str, i32)> = vec![
        (
            "span_epoch (gaps error)",
            "span_epoch.csv",
            csv("error"),
            "",
            "",
            1,
        ),
        (
            "span_epoch (gaps zero)",
            "span_epoch.csv",
            csv("zero"),
            "",
            "",
            1,
        ),
        (
            "span_rel (gaps error)",
            "span_rel.csv",
            csv("error"),
            "",
            "",
            1,
        ),
        (
            "span_ms (gaps interpolate)",
            "span_ms.csv",
            csv("interpolate"),
            "",
            "",
            1,
        ),
        (
            "year_overflow",
            "year_overflow.csv",
            csv("error"),
            "",
            "",
            1,
        ),
        (
            "panic1.parquet",
            "panic1.parquet",
            parquet.clone(),
            "",
            "",
            1,
        ),
        (
            "panic2.parquet",
            "panic2.parquet",
            parquet.clone(),
            "",
            "",
            1,
        ),
        (
            "panic3.parquet",
            "panic3.parquet",
            parquet.clone(),
            "",
            "",
            1,
        ),
        (
            "alloc_abort.parquet",
            "alloc_abort.parquet",
            parquet.clone(),
            "",
            "",
            1,
        ),
        (
            "pandas Date column (one date)",
            "p_date.parquet",
            parquet.clone(),
            "",
            "",
            1,
        ),
        (
            "pandas naive datetime",
            "p_datetime_naive.parquet",
            parquet.clone(),
            "",
            "",
            0,
        ),
        (
            "pandas zoned datetime",
            "p_datetime_tz.parquet",
            parquet,
            "",
            "",
            0,
        ),
        (
            "initial_replicas = 4e9",
            "",
            seed.clone(),
            "[simulation]\ninitial_replicas = 4000000000\n",
            "",
            1,
        ),
        (
            "max_replicas = 1e8",
            "",
            seed,
            "",
            "max_replicas = 100000000\n",
            1,
        ),
    ];
    let mut table = vec!["case,exit,peak_rss_mb".to_string()];
    let mut over = Vec::new();
    let mut record = |case: &str, code: i32, mb: f64| {
        table.push(format!("{case},{code},{mb:.1}"));
        if mb >= 200.0 {
            over.push(format!("{case}: {mb:.1} MB"));
        }
    };
    for (case, file, trace_lines, sim_extra, policy_extra, want) in cases {
        if !file.is_empty() {
            let dest = if file.ends_with(".csv") {
                "t.csv"
            } else {
                "t.parquet"
            };
            std::fs::copy(hostile.join(file), d.path().join(dest)).unwrap();
        }
        let sc = write(
            d.path(),
            "t.toml",
            &format!(
                "[trace]\n{trace_lines}\n[window]\ntrain = 2\ntest = 2\n{sim_extra}[[policies]]\nkind = \"static\"\n{policy_extra}"
            ),
        );
        let out = d.path().join("out");
        let _ = std::fs::remove_dir_all(&out);
        let (code, mb, err) = run_measured(sweep_cmd(&sc, &out));
        assert_eq!(code, want, "{case}: {err}");
        if want != 0 {
            assert!(
                err.contains("error") && !err.contains("panicked"),
                "{case}: {err}"
            );
        }
        record(case, code, mb);
    }
    // An oversized forecast horizon.
    let c = common::naive_forecast("100000000000", &d.path().join("f.csv"));
    let (code, mb, err) = run_measured(c);
    assert_eq!(code, 1, "horizon: {err}");
    record("forecast --horizon 1e11", code, mb);
    eprintln!("{}", table.join("\n"));
    if let Ok(p) = std::env::var("SCALESIM_RSS_TABLE") {
        std::fs::write(p, table.join("\n") + "\n").unwrap();
    }
    assert!(over.is_empty(), "peak RSS at or over 200 MB: {over:?}");
}
