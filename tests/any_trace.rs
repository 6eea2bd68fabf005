//! Right answers on traces of shapes other than the shipped ones (#12): traces shorter than
//! a day, per-second steps, outages, per-request logs.

mod common;

use common::{sim, sweep, write};

/// A CSV header and rows as (column name, index) lookups.
fn table(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
    (lines.next().unwrap(), lines.collect())
}

fn col(h: &[String], name: &str) -> usize {
    h.iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {h:?}"))
}

/// A 12-hour per-minute microservice trace: a slow cycle, noise, and bursts.
fn bursty_12h() -> String {
    let mut x = 88172645463325252u64;
    let mut csv = String::from("timestamp,requests\n");
    for m in 0..720u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut v = 200.0 + 80.0 * (m as f64 / 47.0).sin() + (x % 50) as f64;
        if x.is_multiple_of(20) {
            v *= 3.0;
        }
        csv.push_str(&format!("{},{}\n", 1_700_000_000 + 60 * m, v as u64));
    }
    csv
}

#[test]
fn accuracy_ranking_on_a_trace_shorter_than_a_day_follows_mae() {
    // Regression (#12): MASE was scaled by each forecaster's own period (else one day) and
    // NaN when the training window was not longer than that, so on a 12-hour trace the
    // ranking put the forecaster with the worst MAE first and gave "–" for the others.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "bursty.csv", &bursty_12h());
    let sc = write(
        d.path(),
        "b.toml",
        r#"
name = "b"
seed = 1
[trace]
file = "bursty.csv"
[window]
train = "8h"
[simulation]
capacity_per_replica = 40
[[forecasters]]
kind = "naive"
[[forecasters]]
kind = "moving_average"
window = 120
name = "ma120"
[[forecasters]]
kind = "moving_average"
window = 5
name = "ma5"
[[forecasters]]
kind = "seasonal_naive"
period = 60
[[forecasters]]
kind = "prophet"
[[policies]]
kind = "buffered"
lead_steps = 3
"#,
    );
    sweep(&sc, d.path().join("out")).success();
    let dir = d.path().join("out/b");
    let (h, rows) = table(&dir.join("forecast_accuracy.csv"));
    assert_eq!(rows.len(), 5);
    let num = |r: &Vec<String>, c: &str| r[col(&h, c)].parse::<f64>().unwrap();
    for r in &rows {
        for c in ["mase", "mase_lead", "mase_window", "mae_lead"] {
            assert!(
                num(r, c).is_finite(),
                "{c} of {} is {}",
                r[0],
                r[col(&h, c)]
            );
        }
        assert_eq!(
            r[col(&h, "mase_scale")],
            rows[0][col(&h, "mase_scale")],
            "one scale"
        );
        assert_eq!(
            r[col(&h, "lead_steps")],
            "4",
            "lead 3 is the 4th step ahead"
        );
    }
    let mut by_mae = rows.clone();
    by_mae.sort_by(|a, b| num(a, "mae").total_cmp(&num(b, "mae")));
    let mut by_mase = rows.clone();
    by_mase.sort_by(|a, b| num(a, "mase").total_cmp(&num(b, "mase")));
    let names = |v: &[Vec<String>]| v.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(names(&by_mae), names(&by_mase));
    // Prophet's forecasts come from its last refit, and the table says so.
    let prophet = rows.iter().find(|r| r[0] == "prophet").unwrap();
    assert_eq!(prophet[col(&h, "updates_between_refits")], "false");
    assert_eq!(
        prophet[col(&h, "refit_every_steps")],
        "240",
        "a test window shorter than a day"
    );
    // The report's ranking names the lowest MAE first.
    sim().arg("report").arg(&dir).assert().success();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let line = md.lines().find(|l| l.contains("accuracy ranking")).unwrap();
    let best = &by_mae[0][0];
    assert!(
        line.contains(&format!("MASE (one step ahead, lower is better): {best} ")),
        "{line}"
    );
    assert!(
        md.contains("prophet does not absorb new observations"),
        "{md}"
    );
}

#[test]
fn per_second_traces_get_finite_mase() {
    // Regression (#12): on per-second traces every MASE was NaN (a day of seconds is longer
    // than the training window).
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,requests\n");
    for s in 0..5400u64 {
        csv.push_str(&format!(
            "{},{}\n",
            1_700_000_000 + s,
            3 + (s * 7919 % 11) / 4 + (s / 600) % 3
        ));
    }
    write(d.path(), "ps.csv", &csv);
    let sc = write(
        d.path(),
        "ps.toml",
        r#"
name = "ps"
[trace]
file = "ps.csv"
[window]
train = "1h"
[simulation]
capacity_per_replica = 5
decision_interval_s = 15
[[forecasters]]
kind = "naive"
[[forecasters]]
kind = "moving_average"
window = 60
[[policies]]
kind = "buffered"
"#,
    );
    sweep(&sc, d.path().join("out")).success();
    let (h, rows) = table(&d.path().join("out/ps/forecast_accuracy.csv"));
    for r in &rows {
        let mase: f64 = r[col(&h, "mase")].parse().unwrap();
        assert!(mase.is_finite() && mase > 0.0, "{r:?}");
        assert_eq!(r[col(&h, "window_steps")], "15");
    }
}

/// Six days per minute with a daily cycle; from day 1 on, 10:00–12:00 reads 0 (the
/// collector was down).
fn outage_trace() -> String {
    let mut csv = String::from("timestamp,requests,collected\n");
    for m in 0..6 * 1440u64 {
        let day = m % 1440;
        let down = (600..720).contains(&day) && m >= 1440;
        let v = if down {
            0.0
        } else {
            300.0
                + 200.0 * (std::f64::consts::TAU * day as f64 / 1440.0).sin()
                + ((m * 7919) % 37) as f64
        };
        csv.push_str(&format!(
            "{},{},{}\n",
            1_700_000_000 + 60 * m,
            v as u64,
            !down
        ));
    }
    csv
}

const OUTAGE_SCENARIO: &str = r#"
name = "outage"
seed = 2
[trace]
file = "outage.csv"
value_column = "requests"
MISSING
[window]
train = "3d"
[simulation]
capacity_per_replica = 50
[[forecasters]]
kind = "seasonal_naive"
period = 1440
[[forecasters]]
kind = "holt_winters"
[[policies]]
kind = "hpa"
metric = "request_rate"
[[policies]]
kind = "buffered"
"#;

#[test]
fn zero_valued_outages_marked_missing_are_skipped_by_forecasters_policies_and_metrics() {
    // Regression (#12): zero-valued minutes that were collection gaps could not be marked
    // as missing; after each, HPA dropped to 1 replica and a forecaster jumped to twice
    // the peak.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "outage.csv", &outage_trace());
    let sc = write(
        d.path(),
        "o.toml",
        &OUTAGE_SCENARIO.replace("MISSING", "missing_values = [0]"),
    );
    sweep(&sc, d.path().join("out")).success();
    let dir = d.path().join("out/outage");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["trace"]["missing_steps"], 5 * 120);
    // Three outages fall in the three test days.
    let (h, rows) = table(&dir.join("metrics_summary.csv"));
    for r in &rows {
        assert_eq!(r[col(&h, "missing_steps")], "360", "{r:?}");
        for c in [
            "over_pct",
            "avg_latency_ms",
            "p95_latency_ms",
            "slo_violation_pct",
        ] {
            assert!(
                r[col(&h, c)].parse::<f64>().unwrap().is_finite(),
                "{c}: {r:?}"
            );
        }
    }
    let (ha, acc) = table(&dir.join("forecast_accuracy.csv"));
    for r in &acc {
        assert_eq!(
            r[col(&ha, "n")],
            (3 * 1440 - 360).to_string(),
            "missing steps are not scored"
        );
    }
    let peak = 537.0; // 300 + 200 + 36, the largest observed value
    for (i, r) in rows.iter().enumerate() {
        let tl = common::read_parquet(&dir.join(format!("timelines/cell_{i:06}.parquet")));
        let missing = tl.column("missing").unwrap().bool().unwrap();
        let desired = tl.column("desired").unwrap().u64().unwrap();
        let forecast = tl.column("forecast").unwrap().f64().unwrap();
        let mut held = None;
        for k in 0..tl.height() {
            let (m, dsr) = (missing.get(k).unwrap(), desired.get(k).unwrap());
            if m {
                // Inside an outage the controller holds what it decided at its start, from
                // the data before it.
                let before = *held.get_or_insert(dsr);
                assert_eq!(
                    dsr,
                    before,
                    "{} moved at step {k} of an outage",
                    r[col(&h, "policy")]
                );
            } else {
                held = None;
            }
            if let Some(f) = forecast.get(k).filter(|f| f.is_finite()) {
                assert!(
                    f < 1.3 * peak && (!m || f > 50.0),
                    "{}: forecast {f} at step {k}",
                    r[2]
                );
            }
        }
    }
}

#[test]
fn a_mask_column_outage_windows_and_missing_gaps_mark_the_same_steps() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "outage.csv", &outage_trace());
    // Without the zero rows, the gaps themselves are the outages.
    let no_rows: String = outage_trace()
        .lines()
        .filter(|l| !l.ends_with(",false"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(d.path(), "gappy.csv", &no_rows);
    let windows: Vec<String> = (1..6)
        .map(|day| {
            let t = 1_700_000_000 + 86_400 * day + 600 * 60;
            format!("{{ start = \"{t}\", end = \"{}\" }}", t + 7200)
        })
        .collect();
    let ways = [
        (
            "mask",
            "missing_column = \"collected\"".replace("collected", "down"),
        ),
        ("windows", format!("outages = [{}]", windows.join(", "))),
        ("gaps", "gaps = \"missing\"".to_string()),
    ];
    // The mask marks rows where it is true: add a `down` column (the inverse of collected).
    let masked: String = outage_trace()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let extra = if i == 0 {
                "down".into()
            } else {
                (l.ends_with(",false") as u8).to_string()
            };
            format!("{l},{extra}\n")
        })
        .collect();
    write(d.path(), "masked.csv", &masked);
    for (name, key) in ways {
        let file = match name {
            "mask" => "masked.csv",
            "gaps" => "gappy.csv",
            _ => "outage.csv",
        };
        let text = OUTAGE_SCENARIO
            .replace("MISSING", &key)
            .replace("outage.csv", file)
            .replace("name = \"outage\"", &format!("name = \"{name}\""));
        let sc = write(d.path(), &format!("{name}.toml"), &text);
        sweep(&sc, d.path().join("out")).success();
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.path().join(format!("out/{name}/manifest.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(m["trace"]["missing_steps"], 600, "{name}");
    }
}

#[test]
fn request_logs_are_replayed_exactly_with_service_times_from_their_sizes() {
    // Regression (#12): request mode redrew Poisson arrivals inside each step even when the
    // trace held each request's own timestamp, and could not use per-request sizes.
    // One request every 2 s (ms timestamps, two per row pair at the same instant would
    // tie: the log allows it), alternately 0 and 1 "tokens": 500 or 1500 ms of service on
    // one replica never queue when replayed; Poisson arrivals at the same rate would.
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp_ms,tokens\n");
    for i in 0..3600u64 {
        csv.push_str(&format!("{},{}\n", 2000 * i, i % 2));
    }
    write(d.path(), "log.csv", &csv);
    let scenario = |service: &str| {
        format!(
            r#"
name = "log"
[trace]
file = "log.csv"
timestamp_column = "timestamp_ms"
timestamp_unit = "ms"
per_request = true
size_columns = ["tokens"]
step_s = 10
[window]
train = "1h"
[simulation]
fidelity = "requests"
capacity_per_replica = 10
initial_replicas = 1
safety_net = {{ enabled = false }}
slo_ms = 1400
requests.concurrency = 1
{service}
[[policies]]
kind = "static"
replicas = 1
"#
        )
    };
    let sc = write(
        d.path(),
        "log.toml",
        &scenario("requests.service_time = \"sizes\"\nrequests.base_ms = 500\nrequests.ms_per = { tokens = 1000 }"),
    );
    let out = sweep(&sc, d.path().join("out")).success();
    // The capacity agrees with the sizes' mean (1000 ms, so 10 per 10 s step): no warning.
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!err.contains("capacity_per_replica"), "{err}");
    let dir = d.path().join("out/log");
    let (h, rows) = table(&dir.join("metrics_summary.csv"));
    let r = &rows[0];
    let num = |c: &str| r[col(&h, c)].parse::<f64>().unwrap();
    assert_eq!(num("latency_p50_ms"), 500.0);
    assert_eq!(num("latency_p99_ms"), 1500.0);
    // Half the requests take 1500 ms > the 1400 ms SLO: exactly 50 %.
    assert_eq!(num("slo_violation_pct"), 50.0);
    // Counted once per 10 s step: 5 requests in each, and every one of them served.
    let tl = common::read_parquet(&dir.join("timelines/cell_000000.parquet"));
    assert!(common::f64_col(&tl, "demand").iter().all(|&v| v == 5.0));
    assert_eq!(common::f64_col(&tl, "served").iter().sum::<f64>(), 1800.0);
    // Exponential service at the same mean on the same replayed arrivals does queue.
    let sc = write(
        d.path(),
        "exp.toml",
        &scenario("").replace("name = \"log\"", "name = \"exp\""),
    );
    sweep(&sc, d.path().join("out")).success();
    let (h, rows) = table(&d.path().join("out/exp/metrics_summary.csv"));
    let p99: f64 = rows[0][col(&h, "latency_p99_ms")].parse().unwrap();
    assert!(p99 > 1500.0, "{p99}");
}

#[test]
fn size_based_service_times_on_an_interval_trace_are_refused() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "bursty.csv", &bursty_12h());
    let sc = write(
        d.path(),
        "s.toml",
        r#"
name = "s"
[trace]
file = "bursty.csv"
[window]
train = "8h"
[simulation]
fidelity = "requests"
requests.service_time = "sizes"
requests.ms_per = { tokens = 2 }
[[policies]]
kind = "static"
replicas = 3
"#,
    );
    let out = sweep(&sc, d.path().join("out")).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("needs a request log: set `per_request = true`"),
        "{err}"
    );
}

#[test]
fn the_mooncake_scenario_replays_every_request_of_its_window() {
    let d = tempfile::tempdir().unwrap();
    sweep(common::root().join("scenarios/mooncake.toml"), d.path()).success();
    let dir = d.path().join("mooncake");
    // The log's requests in the test window [28 min, 58 min).
    let text =
        std::fs::read_to_string(common::root().join("data/traces/mooncake_conversation_2025.csv"))
            .unwrap();
    let in_window = text
        .lines()
        .skip(1)
        .filter(|l| {
            let t: u64 = l.split(',').next().unwrap().parse().unwrap();
            (28 * 60_000..58 * 60_000).contains(&t)
        })
        .count() as f64;
    let (h, rows) = table(&dir.join("metrics_summary.csv"));
    for (i, r) in rows.iter().enumerate() {
        let tl = common::read_parquet(&dir.join(format!("timelines/cell_{i:06}.parquet")));
        let demand: f64 = common::f64_col(&tl, "demand").iter().sum();
        let served: f64 = common::f64_col(&tl, "served").iter().sum();
        let dropped: f64 = r[col(&h, "unserved_requests")].parse().unwrap();
        assert_eq!(demand, in_window);
        assert_eq!(served + dropped, in_window, "cell {i}");
        // Token-sized service: the median latency is about the median service time
        // (50 + 0.05 × input + 25 × output tokens), seconds, not the 1 s step.
        let p50: f64 = r[col(&h, "latency_p50_ms")].parse().unwrap();
        assert!((5_000.0..15_000.0).contains(&p50), "{p50}");
    }
}

#[test]
fn messages_a_new_user_hits_name_the_fix() {
    // Regressions (#12): a list of strings under [simulation] gave serde's "invalid type:
    // unit variant" and advised "one entry per value", which [simulation] cannot take.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "bursty.csv", &bursty_12h());
    let sc = write(
        d.path(),
        "f.toml",
        "name = \"f\"\n[trace]\nfile = \"bursty.csv\"\n[window]\ntrain = \"8h\"\n[simulation]\nfidelity = [\"fluid\", \"requests\"]\n[[policies]]\nkind = \"static\"\nreplicas = 3\n",
    );
    let out = sweep(&sc, d.path().join("out")).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("`fidelity` is a list of strings, but [simulation] takes one value"),
        "{err}"
    );
    assert!(
        err.contains("one scenario file per value") && !err.contains("unit variant"),
        "{err}"
    );
    // `sim forecast --train-until <absolute time>` on a relative-seconds trace said only
    // "leaves 27149760 training steps".
    write(
        d.path(),
        "rel.csv",
        "timestamp,requests\n0,5\n60,6\n120,7\n180,5\n240,6\n300,4\n",
    );
    let forecast = |until: &str| {
        let out = sim()
            .args([
                "forecast",
                "--model",
                "naive",
                "--horizon",
                "2",
                "--train-until",
                until,
                "--input",
            ])
            .arg(d.path().join("rel.csv"))
            .arg("--out")
            .arg(d.path().join("f.csv"))
            .assert();
        out
    };
    let out = forecast("2021-08-15T00:00:00Z").failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("count seconds since its start: give seconds since the start"),
        "{err}"
    );
    let out = forecast("9000").failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("6 steps of 60 s, counted in seconds since its start, 0 to 300"),
        "{err}"
    );
    forecast("200").success();
    // `sim forecast --help` listed 5 of the 9 forecaster kinds: it names every kind the
    // scenario parser accepts (taken from the parser's own list of expected values).
    let bad = write(
        d.path(),
        "k.toml",
        "name = \"k\"\n[trace]\nfile = \"bursty.csv\"\n[window]\ntrain = \"8h\"\n[[forecasters]]\nkind = \"bogus\"\n[[policies]]\nkind = \"static\"\nreplicas = 3\n",
    );
    let out = sweep(&bad, d.path().join("out")).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let kinds: Vec<&str> = err
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| *k != "bogus")
        .collect();
    assert!(kinds.len() >= 9, "{err}");
    let help = sim().args(["forecast", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).replace('\n', " ");
    for k in kinds {
        assert!(help.contains(k), "--help lacks {k}: {help}");
    }
}

#[test]
fn the_report_recommends_per_start_up_delay_and_ranks_request_mode_by_slo() {
    // Regressions (#12): the report treated start-up delay — a property of the service —
    // as a knob (every "best" cell at delay 0), ranked request mode by under-provisioning
    // events (the cheapest front cell had 98.7 % SLO violations), drew each policy's first
    // cell, labelled every x axis "hours into the test window", and said "the front holds
    // 12" before listing 8.
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("timestamp,requests\n");
    for s in 0..7200u64 {
        let burst = if (5000..5600).contains(&s) { 8 } else { 0 };
        csv.push_str(&format!(
            "{},{}\n",
            1_700_000_000 + s,
            3 + (s * 7919 % 5) + burst
        ));
    }
    write(d.path(), "ps.csv", &csv);
    let sc = write(
        d.path(),
        "r.toml",
        r#"
name = "r"
[trace]
file = "ps.csv"
[window]
train = "1h"
[simulation]
fidelity = "requests"
capacity_per_replica = 4
decision_interval_s = 15
startup_delay_s = [0, 120]
slo_ms = 1500
safety_net = { enabled = false }
[[forecasters]]
kind = "moving_average"
window = 60
[[policies]]
kind = "buffered"
buffer = [0.6, 1.0, 1.4, 2.0]
lead_steps = 120
[[policies]]
kind = "hpa"
metric = "request_rate"
[[policies]]
kind = "static"
replicas = 3
"#,
    );
    sweep(&sc, d.path().join("out")).success();
    let dir = d.path().join("out/r");
    sim().arg("report").arg(&dir).assert().success();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let first = md.lines().skip(1).find(|l| !l.trim().is_empty()).unwrap();
    assert!(
        first.starts_with("Recommendation, cheapest with at most 1 % of requests over the SLO"),
        "{first}"
    );
    // One recommendation per start-up delay, each from its own condition's cells.
    let (h, rows) = table(&dir.join("metrics_summary.csv"));
    let num = |r: &Vec<String>, c: &str| r[col(&h, c)].parse::<f64>().unwrap();
    for delay in ["0", "120"] {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| startup_delay_s={delay} | recommended |")))
            .unwrap_or_else(|| panic!("no recommendation at {delay} s:\n{md}"));
        let cell: usize = line.split('|').nth(4).unwrap().trim().parse().unwrap();
        let r = &rows[cell];
        assert_eq!(r[col(&h, "sim.startup_delay_s")], delay);
        // The cheapest of that condition among cells within 1 % SLO violations.
        let best = rows
            .iter()
            .filter(|o| {
                o[col(&h, "sim.startup_delay_s")] == delay && num(o, "slo_violation_pct") <= 1.0
            })
            .map(|o| num(o, "cost_replica_hours"))
            .fold(f64::INFINITY, f64::min);
        if best.is_finite() {
            assert_eq!(num(r, "cost_replica_hours"), best, "{line}");
        }
    }
    assert!(md.contains("### SLO and latency"), "{md}");
    assert!(
        !md.contains("no cell stays within"),
        "request mode has no under-event budget findings"
    );
    // The timelines draw the recommended cell first.
    let rec_line = md
        .lines()
        .find(|l| l.starts_with("| startup_delay_s=0 | recommended |"))
        .unwrap();
    let rec: usize = rec_line.split('|').nth(4).unwrap().trim().parse().unwrap();
    let nb = std::fs::read_to_string(dir.join("report.ipynb")).unwrap();
    assert!(
        nb.contains(&format!("cells = [({rec}, ")),
        "recommended cell {rec} is not drawn first"
    );
    assert!(
        nb.contains("minutes since 2023-11-14T23:13:20+00:00"),
        "a one-hour window in minutes from its start"
    );
    assert!(md.contains("worst quarter of the window"), "{md}");
    // The front's count matches its list.
    let front = md
        .lines()
        .find(|l| l.contains("Pareto front holds"))
        .unwrap();
    let n: usize = front
        .split("holds ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let listed = front.matches("(cell ").count();
    assert!(
        listed == n || front.contains(&format!("the first {listed}:")),
        "{front}"
    );
}
