//! The trace zoo (#12): whole sweeps over generated traces of the shapes users bring —
//! per-second arrivals, per-request logs with sizes, 12-hour traces shorter than a day,
//! zero-valued collection outages, 10⁵ requests a minute with 20× flash crowds, a single
//! spike — with random parameters, asserting what must hold on any trace: no NaN in the
//! results, MASE ranking as MAE does, no runaway replicas at zero demand, and the
//! warnings a mistaken setting deserves.

mod common;

use std::path::Path;

use common::{read_parquet, sweep, write};
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*), so a case is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A Poisson-like count with mean `m` (normal approximation above 30).
    fn count(&mut self, m: f64) -> u64 {
        if m <= 0.0 {
            return 0;
        }
        if m > 30.0 {
            let z = (-2.0 * self.next().max(1e-12).ln()).sqrt()
                * (std::f64::consts::TAU * self.next()).cos();
            return (m + z * m.sqrt()).round().max(0.0) as u64;
        }
        let (l, mut k, mut p) = ((-m).exp(), 0u64, 1.0);
        loop {
            p *= self.next();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    PerSecond,
    RequestLog,
    HalfDay,
    Outages,
    FlashCrowd,
    SingleSpike,
}

/// The trace file and the scenario keys that read it; the simulation section; the
/// zero-demand steps' policy count check applies where the trace has long zero runs.
struct Case {
    csv: String,
    trace: String,
    window: &'static str,
    simulation: String,
    forecasters: &'static str,
    /// A warning the settings must raise (a substring of it).
    warning: Option<&'static str>,
}

fn interval_csv(step_s: u64, values: impl Iterator<Item = u64>) -> String {
    let mut csv = String::from("timestamp,requests\n");
    for (i, v) in values.enumerate() {
        csv.push_str(&format!("{},{v}\n", 1_700_000_000 + step_s * i as u64));
    }
    csv
}

const BASELINES: &str = r#"
[[forecasters]]
kind = "naive"
[[forecasters]]
kind = "moving_average"
window = 30
"#;

fn case(shape: Shape, seed: u64, scale: f64) -> Case {
    let mut r = Rng(seed | 1);
    match shape {
        Shape::PerSecond => {
            // Two hours of per-second counts, a burst in the second hour.
            let base = 2.0 + 10.0 * scale;
            let v: Vec<u64> = (0..7200)
                .map(|s| {
                    r.count(if (4800..5400).contains(&s) {
                        3.0 * base
                    } else {
                        base
                    })
                })
                .collect();
            Case {
                csv: interval_csv(1, v.into_iter()),
                trace: "file = \"t.csv\"".into(),
                window: "train = \"1h\"",
                simulation: format!(
                    "fidelity = \"requests\"\ncapacity_per_replica = {}\ndecision_interval_s = 15\nstartup_delay_s = 10\nslo_ms = 2000\nsafety_net = {{ latency_ms = 2000 }}",
                    (base / 2.0).ceil()
                ),
                forecasters: BASELINES,
                warning: None,
            }
        }
        Shape::RequestLog => {
            // An hour of requests with token counts: Poisson arrivals, one row each.
            let rate = 1.0 + 4.0 * scale; // per second
            let mut csv = String::from("timestamp_ms,input_tokens,output_tokens\n");
            let mut t = 0.0;
            while t < 3_600_000.0 {
                t += -r.next().max(1e-12).ln() / rate * 1000.0;
                let (i, o) = (
                    (200.0 + 4000.0 * r.next()) as u64,
                    (20.0 + 400.0 * r.next()) as u64,
                );
                csv.push_str(&format!("{},{i},{o}\n", t as u64));
            }
            // Mean service ≈ 50 + 0.05·2200 + 20·220 ≈ 4.56 s; 8 slots a replica.
            let cap = 8.0 / 4.56;
            Case {
                csv,
                trace: "file = \"t.csv\"\ntimestamp_column = \"timestamp_ms\"\ntimestamp_unit = \"ms\"\nper_request = true\nsize_columns = [\"input_tokens\", \"output_tokens\"]".into(),
                window: "train = \"30m\"",
                simulation: format!(
                    "fidelity = \"requests\"\ncapacity_per_replica = {cap}\ndecision_interval_s = 15\nslo_ms = 20000\nsafety_net = {{ enabled = false }}\nrequests.concurrency = 8\nrequests.service_time = \"sizes\"\nrequests.base_ms = 50\nrequests.ms_per = {{ input_tokens = 0.05, output_tokens = 20 }}"
                ),
                forecasters: BASELINES,
                warning: None,
            }
        }
        Shape::HalfDay => {
            let base = 100.0 + 400.0 * scale;
            let v: Vec<u64> = (0..720)
                .map(|m| {
                    let burst = if r.next() < 0.05 { 3.0 } else { 1.0 };
                    r.count(burst * base * (1.0 + 0.4 * (m as f64 / 47.0).sin()))
                })
                .collect();
            Case {
                csv: interval_csv(60, v.into_iter()),
                trace: "file = \"t.csv\"".into(),
                window: "train = \"8h\"",
                simulation: format!("capacity_per_replica = {}", (base / 5.0).ceil()),
                forecasters: BASELINES,
                warning: None,
            }
        }
        Shape::Outages => {
            // Three days; each day from the second on, a 1–3 hour outage logged as zeros.
            let base = 200.0 + 300.0 * scale;
            let len = 60 + (120.0 * r.next()) as usize;
            let v: Vec<u64> = (0..3 * 1440)
                .map(|m| {
                    let day = m % 1440;
                    if m >= 1440 && (600..600 + len).contains(&day) {
                        0
                    } else {
                        r.count(
                            base * (1.0
                                + 0.5 * (std::f64::consts::TAU * day as f64 / 1440.0).sin()),
                        )
                    }
                })
                .collect();
            Case {
                csv: interval_csv(60, v.into_iter()),
                trace: "file = \"t.csv\"\nmissing_values = [0]".into(),
                window: "train = \"1d\"",
                simulation: format!("capacity_per_replica = {}", (base / 4.0).ceil()),
                forecasters: BASELINES,
                warning: None,
            }
        }
        Shape::FlashCrowd => {
            // A day at up to 10⁵ a minute: 5 000 base, a 20× crowd for 30–90 minutes.
            let base = 2000.0 + 3000.0 * scale;
            let at = 900 + (300.0 * r.next()) as usize;
            let len = 30 + (60.0 * r.next()) as usize;
            let v: Vec<u64> = (0..1440)
                .map(|m| {
                    r.count(if (at..at + len).contains(&m) {
                        20.0 * base
                    } else {
                        base
                    })
                })
                .collect();
            Case {
                csv: interval_csv(60, v.into_iter()),
                trace: "file = \"t.csv\"".into(),
                window: "train = \"12h\"",
                // Capped well below the crowd's needs: the sweep must say so.
                simulation: format!("capacity_per_replica = {}", (base / 4.0).ceil()),
                forecasters: BASELINES,
                warning: Some("capped at max_replicas"),
            }
        }
        Shape::SingleSpike => {
            // Flat with one minute 100× in the test window, then zeros for its last hours.
            let base = 50.0 + 100.0 * scale;
            let v: Vec<u64> = (0..1440)
                .map(|m| match m {
                    1000 => (100.0 * base) as u64,
                    m if m >= 1200 => 0,
                    _ => r.count(base),
                })
                .collect();
            Case {
                csv: interval_csv(60, v.into_iter()),
                trace: "file = \"t.csv\"".into(),
                window: "train = \"12h\"",
                // The default 150 ms safety-net threshold under a 4 s service time trips
                // at every step: the sweep must warn.
                // 60 a minute with 4 slots: a mean service time of 4 s.
                simulation: "fidelity = \"requests\"\ncapacity_per_replica = 60\nrequests.concurrency = 4\nslo_ms = 8000".into(),
                forecasters: BASELINES,
                warning: Some("safety_net.latency_ms"),
            }
        }
    }
}

fn scenario(c: &Case) -> String {
    format!(
        r#"
name = "zoo"
seed = 7
[trace]
{trace}
[window]
{window}
[simulation]
initial_replicas = 2
{simulation}
{forecasters}
[[policies]]
kind = "hpa"
metric = "request_rate"
safety_net = true
[[policies]]
kind = "buffered"
max_replicas = 40
[[policies]]
kind = "static"
replicas = 3
[[policies]]
kind = "kpa"
container_concurrency = 1
[[policies]]
kind = "keda"
metric = "concurrency"
threshold = 1
[[policies]]
kind = "keep_alive"
[[policies]]
kind = "hybrid_histogram"
[[policies]]
kind = "aws_target_tracking"
target = 60
[[policies]]
kind = "aws_step"
scale_out = {{ threshold = 80, steps = [{{ lower = 0, adjustment = 1 }}] }}
scale_in = {{ threshold = 30, steps = [{{ upper = 0, adjustment = -1 }}] }}
[[policies]]
kind = "aws_predictive"
target_tracking = {{ target = 60 }}
"#,
        trace = c.trace,
        window = c.window,
        simulation = c.simulation,
        forecasters = c.forecasters,
    )
}

fn csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
    (lines.next().unwrap(), lines.collect())
}

/// Runs one case and checks the invariants.
fn check(shape: Shape, seed: u64, scale: f64) {
    let c = case(shape, seed, scale);
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "t.csv", &c.csv);
    let sc = write(d.path(), "zoo.toml", &scenario(&c));
    sweep(&sc, d.path().join("out")).success();
    let dir = d.path().join("out/zoo");
    let ctx = format!("{shape:?} seed {seed} scale {scale}");
    // No NaN anywhere in the summary (text columns aside).
    let (h, rows) = csv_table(&dir.join("metrics_summary.csv"));
    for r in &rows {
        for (k, v) in h.iter().zip(r) {
            assert!(!v.eq_ignore_ascii_case("nan"), "{ctx}: {k} is NaN in {r:?}");
        }
    }
    // Accuracy: finite MASE on one scale, so it ranks as MAE does.
    let (ha, acc) = csv_table(&dir.join("forecast_accuracy.csv"));
    let at = |r: &Vec<String>, c: &str| {
        r[ha.iter().position(|x| x == c).unwrap()]
            .parse::<f64>()
            .unwrap()
    };
    for r in &acc {
        for c in ["mae", "mase", "mase_lead", "mase_window"] {
            assert!(at(r, c).is_finite(), "{ctx}: {c} of {r:?}");
        }
    }
    for a in &acc {
        for b in &acc {
            if at(a, "mae") < at(b, "mae") {
                assert!(at(a, "mase") < at(b, "mase"), "{ctx}: {a:?} vs {b:?}");
            }
        }
    }
    // No runaway replicas at zero demand: after 30 zero steps in a row (and HPA's 5-minute
    // stabilisation), the HPA wants at most 1 and the moving-average forecast policy at
    // most 1 once its 30-step window holds only zeros; so do the autoscalers that scale
    // to zero (KPA, KEDA and keep-alive idle for 10 minutes at most).
    let pol = h.iter().position(|x| x == "policy").unwrap();
    let fc = h.iter().position(|x| x == "forecaster").unwrap();
    for (i, r) in rows.iter().enumerate() {
        let watched = ["hpa", "kpa", "keda", "keep_alive"].contains(&r[pol].as_str())
            || (r[pol] == "buffered" && r[fc] == "moving_average");
        if !watched {
            continue;
        }
        let tl = read_parquet(&dir.join(format!("timelines/cell_{i:06}.parquet")));
        let demand = common::f64_col(&tl, "demand");
        let desired = common::u64_col(&tl, "desired");
        let t = common::u64_col(&tl, "time_ms");
        let step_s = (t[1] - t[0]) / 1000;
        let quiet = (600 / step_s as usize).max(31);
        let mut zeros = 0;
        for k in 0..demand.len() {
            zeros = if demand[k] == 0.0 { zeros + 1 } else { 0 };
            if zeros > quiet {
                assert!(
                    desired[k] <= 1,
                    "{ctx}: {} wants {} at step {k} after {zeros} zero steps",
                    r[pol],
                    desired[k]
                );
            }
        }
    }
    if let Some(w) = c.warning {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        let ws = m["warnings"].as_array().unwrap();
        assert!(
            ws.iter().any(|x| x.as_str().unwrap().contains(w)),
            "{ctx}: no '{w}' warning in {ws:?}"
        );
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::PerSecond),
        Just(Shape::RequestLog),
        Just(Shape::HalfDay),
        Just(Shape::Outages),
        Just(Shape::FlashCrowd),
        Just(Shape::SingleSpike),
    ]
}

proptest! {
    // Each case is a whole sweep (a second or so): a dozen random draws, plus every shape
    // once below.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn any_trace_of_the_zoo_gives_sound_results(s in shape(), seed in 1u64..1_000_000, scale in 0.0f64..1.0) {
        check(s, seed, scale);
    }
}

#[test]
fn every_shape_of_the_zoo_once() {
    for s in [
        Shape::PerSecond,
        Shape::RequestLog,
        Shape::HalfDay,
        Shape::Outages,
        Shape::FlashCrowd,
        Shape::SingleSpike,
    ] {
        check(s, 42, 0.5);
    }
}
