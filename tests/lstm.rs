//! The LSTM forecaster (built with `--features lstm`): no future leaks through the batched
//! rolling inference, it runs in a sweep, and `sim train` saves weights with a card.
#![cfg(feature = "lstm")]

mod common;

use common::{sim, sweep, write};
use predicates::prelude::*;
use scalesim::forecast::lstm::{LstmConfig, LstmForecaster};
use scalesim::forecast::rolling::{rolling_forecast, RollingOrigin};

#[test]
fn batched_rolling_inference_reads_no_future() {
    let y: Vec<f64> = (0..1600)
        .map(|i| {
            30.0 + 10.0 * (std::f64::consts::TAU * i as f64 / 120.0).sin() + ((i * 7919) % 5) as f64
        })
        .collect();
    let mut changed = y.clone();
    let cut = 1300;
    for v in changed.iter_mut().skip(cut) {
        *v += 500.0;
    }
    let f = LstmForecaster {
        name: "lstm".into(),
        config: LstmConfig {
            epochs: 1,
            ..LstmConfig::default()
        },
        saved: None,
    };
    let ro = RollingOrigin {
        refit_every: 10_000,
        fit_window: None,
        horizon: 2,
    };
    let a = rolling_forecast(&f, &y, 60_000, 1200, 1600, ro).unwrap();
    let b = rolling_forecast(&f, &changed, 60_000, 1200, 1600, ro).unwrap();
    let rows = cut + 1 - 1200;
    assert_eq!(&a.point[..rows * 2], &b.point[..rows * 2]);
    assert_ne!(
        a.point[(rows + 5) * 2],
        b.point[(rows + 5) * 2],
        "later decisions do see the change"
    );
}

#[test]
fn lstm_runs_in_a_sweep_and_sim_train_saves_it() {
    let d = tempfile::tempdir().unwrap();
    sim()
        .args(["gen-data", "--preset", "mixed", "--days", "3", "--out"])
        .arg(d.path())
        .assert()
        .success();
    let sc = write(
        d.path(),
        "l.toml",
        "name = \"l\"\n[trace]\nfile = \"scenario_mixed.csv\"\nvalue_column = \"req_per_min\"\n[window]\ntrain = \"2d\"\n[[forecasters]]\nkind = \"lstm\"\nlstm = { epochs = 1 }\n[[policies]]\nkind = \"confidence_aware\"\n",
    );
    sweep(&sc, d.path().join("o")).success();
    let acc = std::fs::read_to_string(d.path().join("o/l/forecast_accuracy.csv")).unwrap();
    let mase: f64 = acc
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(6)
        .unwrap()
        .parse()
        .unwrap();
    assert!(mase < 2.0, "{acc}");
    sim()
        .arg("train")
        .arg(&sc)
        .arg("--out")
        .arg(d.path().join("m"))
        .assert()
        .success();
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("m/l/lstm.json")).unwrap())
            .unwrap();
    assert_eq!(card["config"]["past"], 60);
    assert_eq!(card["training_steps"], 2880);
    assert!(
        d.path()
            .join("m/l/lstm.safetensors")
            .metadata()
            .unwrap()
            .len()
            > 10_000
    );
}

#[test]
fn sweeps_reuse_matching_saved_models_and_refuse_mismatched_ones() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("scenarios")).unwrap();
    sim()
        .args(["gen-data", "--preset", "smooth", "--days", "3", "--out"])
        .arg(d.path().join("data"))
        .assert()
        .success();
    let text = "name = \"r\"\n[trace]\nfile = \"../data/scenario_smooth.csv\"\nvalue_column = \"req_per_min\"\n[window]\ntrain = \"2d\"\n[[forecasters]]\nkind = \"lstm\"\nlstm = { epochs = 1 }\n[[policies]]\nkind = \"buffered\"\n";
    let sc = write(&d.path().join("scenarios"), "r.toml", text);
    // Without a saved model the sweep trains.
    sim()
        .arg("sweep")
        .arg(&sc)
        .args(["-q", "-v", "--out"])
        .arg(d.path().join("o"))
        .assert()
        .success()
        .stderr(predicates::str::contains("reusing").not());
    sim()
        .arg("train")
        .arg(&sc)
        .arg("--out")
        .arg(d.path().join("models"))
        .assert()
        .success();
    let before = std::fs::read(d.path().join("o/r/metrics_summary.csv")).unwrap();
    sim()
        .arg("sweep")
        .arg(&sc)
        .args(["-q", "-v", "--out"])
        .arg(d.path().join("o"))
        .assert()
        .success()
        .stderr(predicates::str::contains("reusing the weights"));
    assert_eq!(
        std::fs::read(d.path().join("o/r/metrics_summary.csv")).unwrap(),
        before,
        "saved weights forecast like fresh training"
    );
    // Settings out of range are refused before any work, and an explicit model file must
    // exist and match: by name, with no results written.
    for (settings, message) in [
        (
            "lstm = { hidden = 0 }",
            "`hidden` = 0 is out of range: use 1 to 1024",
        ),
        (
            "lstm = { gradient_shards = 100000 }",
            "`gradient_shards` = 100000",
        ),
        (
            "lstm = { learning_rate = -1.0 }",
            "`learning_rate` = -1 must be a positive",
        ),
        (
            "lstm = { epochs = 1 }\nmodel_file = \"../models/r/nothing.json\"",
            "cannot read the model card",
        ),
        (
            "lstm = { epochs = 2 }\nmodel_file = \"../models/r/lstm.json\"",
            "other lstm settings",
        ),
    ] {
        let sc = write(
            &d.path().join("scenarios"),
            "bad.toml",
            &text.replace("lstm = { epochs = 1 }", settings),
        );
        sweep(&sc, d.path().join("bad"))
            .failure()
            .stderr(predicates::str::contains(message));
        // (The output folder may hold the sweep's lock file: a model file is read after
        // the lock is taken.)
        assert!(!d.path().join("bad/r").exists(), "{settings}");
    }
}
