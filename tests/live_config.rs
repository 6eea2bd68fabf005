//! Live mode's files: the demo configuration, the generated Prometheus configuration,
//! the Grafana dashboard and the compose file; bad configurations are refused clearly.

mod live_support;

use std::path::Path;
use std::process::Command;

use live_support::{fails, sim};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn demo_configuration_loads_and_its_prometheus_config_is_valid() {
    let cfg =
        scalesim::live::config::LiveConfig::load(&root().join("deploy/live/live.toml")).unwrap();
    assert_eq!(cfg.service.name, "scalesim-demo");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prometheus.yml");
    let st = Command::new(sim())
        .args(["prometheus-config", "--config"])
        .arg(root().join("deploy/live/live.toml"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let y: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let jobs = y["scrape_configs"].as_sequence().unwrap();
    assert_eq!(jobs[0]["job_name"].as_str(), Some("scalesim"));
    assert_eq!(
        jobs[0]["docker_sd_configs"][0]["filters"][0]["values"][0].as_str(),
        Some("scalesim.service=scalesim-demo")
    );
    assert_eq!(y["global"]["scrape_interval"].as_str(), Some("5s"));
    assert_eq!(
        jobs[1]["static_configs"][0]["targets"][0].as_str(),
        Some("127.0.0.1:9184")
    );
    // Prometheus's own checker, where it is installed (CI installs it).
    match Command::new("promtool")
        .args(["check", "config"])
        .arg(&out)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) if std::env::var("SCALESIM_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("promtool missing")
        }
        Err(_) => eprintln!("promtool not installed: syntax check only"),
    }
}

/// With an `[activator]`, scale to zero is accepted, Prometheus scrapes the activator, and
/// a legal but useless activator (the service never reaches zero) is warned about.
#[test]
fn an_activator_allows_scale_to_zero_and_is_scraped() {
    use scalesim::live::config::LiveConfig;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("live.toml");
    let body = |min: u32| {
        format!(
            "[service]\nname = \"z\"\n[controller]\ncapacity_per_replica_rps = 8\n\
             [policy]\nkind = \"keep_alive\"\nmin_replicas = {min}\nmax_replicas = 5\n\
             [activator]\nport = 8079\ntimeout_s = 30\n"
        )
    };
    std::fs::write(&p, body(0)).unwrap();
    let cfg = LiveConfig::load(&p).unwrap();
    assert_eq!((cfg.bounds().min, cfg.initial_replicas()), (0, 0));
    let a = cfg.activator.as_ref().unwrap();
    assert_eq!((a.capacity, a.timeout_s, a.probe_s), (10_000, 30.0, 0.2));
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    let y: serde_norway::Value =
        serde_norway::from_str(&scalesim::live::prom::scrape_config(&cfg, "unix:///x")).unwrap();
    let jobs = y["scrape_configs"].as_sequence().unwrap();
    let job = jobs
        .iter()
        .find(|j| j["job_name"].as_str() == Some("scalesim-activator"))
        .expect("an activator job");
    assert_eq!(
        job["static_configs"][0]["targets"][0].as_str(),
        Some("127.0.0.1:8079")
    );
    assert_eq!(
        job["static_configs"][0]["labels"]["service"].as_str(),
        Some("z")
    );
    std::fs::write(&p, body(1)).unwrap();
    let w = LiveConfig::load(&p).unwrap().warnings();
    assert!(
        w.iter().any(|w| w.contains("never scales to zero")),
        "{w:?}"
    );
}

#[test]
fn grafana_dashboard_and_compose_file_parse() {
    let d: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("deploy/live/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let panels = d["panels"].as_array().unwrap();
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for want in ["Demand", "Replicas", "p95 latency"] {
        assert!(
            titles.iter().any(|t| t.contains(want)),
            "no {want} panel in {titles:?}"
        );
    }
    let exprs: Vec<&str> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    // Every metric the dashboard reads is one `sim serve` or the controller exports.
    for m in [
        "scalesim_requests_total",
        "scalesim_request_duration_seconds_bucket",
        "scalesim_live_forecast_rps",
        "scalesim_live_desired_replicas",
    ] {
        assert!(
            exprs.iter().any(|e| e.contains(m)),
            "dashboard does not use {m}"
        );
    }
    let c: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(root().join("deploy/live/compose.yaml")).unwrap(),
    )
    .unwrap();
    for svc in ["prometheus", "grafana"] {
        assert_eq!(
            c["services"][svc]["network_mode"].as_str(),
            Some("host"),
            "{svc}"
        );
    }
    for f in [
        "deploy/live/grafana/datasources/prometheus.yaml",
        "deploy/live/grafana/dashboards/scalesim.yaml",
    ] {
        let _: serde_norway::Value =
            serde_norway::from_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap();
    }
}

fn refused(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("live.toml");
    std::fs::write(&p, toml).unwrap();
    fails(
        Command::new(sim())
            .args(["prometheus-config", "--config"])
            .arg(&p),
    )
}

#[test]
fn bad_configurations_name_the_problem() {
    let ok_service = "[service]\nname = \"x\"\n";
    let ok_policy = "[policy]\nkind = \"simple_ceiling\"\nmax_replicas = 5\n";
    let ctl = "[controller]\ninterval_s = 15\ncapacity_per_replica_rps = 8\n";
    let e = refused(&format!(
        "{ok_service}{ok_policy}[controller]\ninterval_s = -1\ncapacity_per_replica_rps = 8\n"
    ));
    assert!(
        e.contains("controller.interval_s must be a positive number"),
        "{e}"
    );
    let e = refused(&format!(
        "{ok_service}{ctl}[policy]\nkind = \"simple_ceiling\"\n"
    ));
    assert!(e.contains("exceeds service.port_span"), "{e}");
    // Scale to zero live needs an activator to hold the requests.
    let zero =
        "[controller]\ncapacity_per_replica_rps = 8\n[policy]\nkind = \"kpa\"\nmax_replicas = 5\n";
    let e = refused(&format!("{ok_service}{zero}"));
    assert!(
        e.contains("min_replicas is 0") && e.contains("add an [activator] section"),
        "{e}"
    );
    let e = refused(&format!("{ok_service}{zero}[activator]\nport = 18085\n"));
    assert!(e.contains("activator.port 18085 is taken"), "{e}");
    let e = refused(&format!(
        "{ok_service}{zero}[activator]\nport = 8079\ntimeout_s = 0\n"
    ));
    assert!(
        e.contains("activator.timeout_s must be a positive number"),
        "{e}"
    );
    let e = refused(&format!("[service]\nname = \"bad name\"\n{ctl}{ok_policy}"));
    assert!(e.contains("service.name"), "{e}");
    let e = refused(&format!(
        "{ok_service}{ctl}{ok_policy}[prometheus]\nscrape_interval_s = 10\nrate_window_s = 15\n"
    ));
    assert!(e.contains("at least two scrapes"), "{e}");
    // Regression (#13): a 5 s query timeout with 2 s decisions stalled each on a hanging
    // Prometheus. Set at or above the interval it is refused; unset it is a quarter of it.
    let e = refused(&format!(
        "{ok_service}{ok_policy}[controller]\ninterval_s = 2\ncapacity_per_replica_rps = 8\n[prometheus]\nscrape_interval_s = 0.5\ntimeout_s = 5\n"
    ));
    assert!(
        e.contains("prometheus.timeout_s (5 s) must be below controller.interval_s (2 s)"),
        "{e}"
    );
    let e = refused(&format!(
        "{ok_service}{ctl}{ok_policy}[forecaster]\nkind = \"file\"\npath = \"f.csv\"\n"
    ));
    assert!(e.contains("cannot run live"), "{e}");
    let e = refused(&format!(
        "{ok_service}{ctl}{ok_policy}[forecaster]\nkind = \"oracle\"\n"
    ));
    assert!(e.contains("kind 'oracle' knows the future"), "{e}");
    let e = refused(&format!(
        "{ok_service}{ctl}[policy]\nkind = \"optimal\"\nmax_replicas = 5\n"
    ));
    assert!(
        e.contains("kind 'optimal' replays the least-cost schedule"),
        "{e}"
    );
    let e = refused(&format!("{ok_service}{ctl}{ok_policy}[typo]\n"));
    assert!(e.contains("malformed live configuration"), "{e}");
    let e = refused(&format!(
        "[service]\nname = \"x\"\nservice_time = \"uniform:9:1\"\n{ctl}{ok_policy}"
    ));
    assert!(e.contains("MIN exceeds MAX"), "{e}");
    let e = fails(Command::new(sim()).args(["live", "--config", "/nonexistent/live.toml"]));
    assert!(e.contains("cannot read live configuration"), "{e}");
}

#[test]
fn saved_prophet_model_forecasts_on_its_model_clock() {
    use scalesim::forecast::prophet::{fit, ProphetConfig, ProphetModel};
    use scalesim::live::config::LiveConfig;
    use scalesim::live::forecast::LiveForecaster;
    // A Prophet model on three days of a daily cycle, saved the way `sim train` saves one.
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .naive_local()
        .and_utc()
        .timestamp_millis();
    let ds: Vec<i64> = (0..3 * 1440).map(|i| start + i * 60_000).collect();
    let y: Vec<f64> = (0..3 * 1440)
        .map(|i| 100.0 + 50.0 * (2.0 * std::f64::consts::PI * (i % 1440) as f64 / 1440.0).sin())
        .collect();
    let model = fit(&ProphetConfig::default(), &ds, &y, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("prophet.json");
    use scalesim::forecast::card::{ModelCard, ProphetCard};
    let card = ModelCard::Prophet(ProphetCard {
        forecaster: "prophet".into(),
        parameters: Default::default(),
        scenario: "test".into(),
        training_steps: y.len(),
        step_ms: 60_000,
        first_timestamp: "2025-01-01T00:00:00+00:00".into(),
        training_data_sha256: String::new(),
        scalesim_version: "test".into(),
        model,
    });
    std::fs::write(&model_path, card.to_json()).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&card.to_json()).unwrap();
    let toml = format!(
        r#"
[service]
name = "p"
[controller]
interval_s = 15
capacity_per_replica_rps = 8
model_start = "2025-01-04T06:00:00Z"
[forecaster]
kind = "prophet"
model_file = "{}"
[policy]
kind = "simple_ceiling"
max_replicas = 5
"#,
        model_path.display()
    );
    let p = dir.path().join("live.toml");
    std::fs::write(&p, toml).unwrap();
    let cfg = LiveConfig::load(&p).unwrap();
    let mut f = LiveForecaster::from_config(&cfg).unwrap();
    // The model's own prediction at the model-clock timestamps of decision 3 after the
    // start (one model minute per decision), 3 steps ahead.
    let t0 = chrono::DateTime::parse_from_rfc3339("2025-01-04T06:00:00Z")
        .unwrap()
        .naive_local()
        .and_utc()
        .timestamp_millis();
    let ds: Vec<i64> = (3..6).map(|k| t0 + k * 60_000).collect();
    let model: ProphetModel = serde_json::from_value(saved["model"].clone()).unwrap();
    let (yhat, _) = model.predict_point(&ds, &[]);
    let t = f.forecast(&[1.0; 10], 7, 10, 3, 15_000).unwrap();
    for (k, y) in yhat.iter().enumerate() {
        assert!(
            (t.point(10, k) - y.max(0.0)).abs() < 1e-9,
            "{k}: {} vs {}",
            t.point(10, k),
            y
        );
    }
    // 06:00 on a sine day peaking at 06:00: the forecast is near the daily peak, not the
    // recorded history (1.0).
    assert!(t.point(10, 0) > 140.0, "{}", t.point(10, 0));
    // A model with regressors is refused: live mode cannot supply them.
    let mut with_regs = saved.clone();
    with_regs["model"]["regressors"] = serde_json::json!([
        { "name": "is_event", "mu": 0.0, "std": 1.0, "prior_scale": 10.0, "multiplicative": false }
    ]);
    std::fs::write(&model_path, with_regs.to_string()).unwrap();
    let e = LiveForecaster::from_config(&cfg).unwrap_err().to_string();
    assert!(e.contains("regressors"), "{e}");
}

#[cfg(feature = "lstm")]
#[test]
fn saved_lstm_forecasts_from_the_recorded_window() {
    use scalesim::forecast::lstm::{LstmConfig, TrainedLstm};
    use scalesim::live::config::LiveConfig;
    use scalesim::live::forecast::LiveForecaster;
    let y: Vec<f64> = (0..600)
        .map(|i| 100.0 + 40.0 * (i as f64 / 30.0).sin())
        .collect();
    let config = LstmConfig {
        epochs: 1,
        ..LstmConfig::default()
    };
    let model = TrainedLstm::train(&y, &config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(&dir.path().join("w.safetensors")).unwrap();
    use scalesim::forecast::card::{LstmCard, ModelCard, Normalisation};
    let card = ModelCard::Lstm(LstmCard {
        forecaster: "lstm".into(),
        architecture: "test".into(),
        config: config.clone(),
        quantiles: scalesim::forecast::QUANTILES.to_vec(),
        normalisation: Normalisation {
            mean: model.report.mean,
            std: model.report.std,
        },
        training: model.report.clone(),
        scenario: "test".into(),
        training_steps: y.len(),
        step_ms: 15_000,
        training_data_sha256: String::new(),
        weights: Some("w.safetensors".into()),
        scalesim_version: "test".into(),
    });
    std::fs::write(dir.path().join("card.json"), card.to_json()).unwrap();
    // A card missing what `sim train` writes is refused, naming the file.
    std::fs::write(
        dir.path().join("partial.json"),
        r#"{"kind": "lstm", "weights": "w.safetensors"}"#,
    )
    .unwrap();
    let p = dir.path().join("live.toml");
    std::fs::write(
        &p,
        "[service]\nname = \"l\"\n[controller]\ninterval_s = 15\ncapacity_per_replica_rps = 8\n[forecaster]\nkind = \"lstm\"\nmodel_file = \"card.json\"\n[policy]\nkind = \"simple_ceiling\"\nmax_replicas = 5\n",
    )
    .unwrap();
    let cfg = LiveConfig::load(&p).unwrap();
    let mut f = LiveForecaster::from_config(&cfg).unwrap();
    let mut partial = cfg.clone();
    if let Some(scalesim::scenario::forecasters::ForecasterParams::Lstm(p)) =
        partial.forecaster.as_mut().map(|f| &mut f.params)
    {
        p.model_file = Some("partial.json".into());
    }
    let e = format!("{:#}", LiveForecaster::from_config(&partial).unwrap_err());
    assert!(
        e.contains("partial.json") && e.contains("not a model card"),
        "{e}"
    );
    let hist = &y[..200];
    let t = f.forecast(hist, 0, 200, 2, 15_000).unwrap();
    let (point, _) = model.predict_windows(hist, 200..201);
    assert!((t.point(200, 0) - point[0]).abs() < 1e-9);
    assert_eq!(t.point(200, 1), t.point(200, 0));
    // Fewer recorded steps than the window: persistence.
    let t = f.forecast(&y[..10], 0, 10, 1, 15_000).unwrap();
    assert_eq!(t.point(10, 0), y[9]);
    // Without model_file the configuration is refused.
    std::fs::write(
        &p,
        "[service]\nname = \"l\"\n[controller]\ninterval_s = 15\ncapacity_per_replica_rps = 8\n[forecaster]\nkind = \"lstm\"\n[policy]\nkind = \"simple_ceiling\"\nmax_replicas = 5\n",
    )
    .unwrap();
    assert!(format!("{:#}", LiveConfig::load(&p).unwrap_err()).contains("saved weights only"));
}

#[test]
fn an_hpa_policy_syncs_live_on_its_own_period_and_reads_a_manifest() {
    use scalesim::live::config::LiveConfig;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let base = "[service]\nname = \"h\"\n[controller]\ncapacity_per_replica_rps = 8\n";
    // No interval given: the HPA's 15 s sync (another policy: one minute).
    let cfg = LiveConfig::load(&write(
        "a.toml",
        &format!("{base}[policy]\nkind = \"hpa\"\nmax_replicas = 5\n"),
    ))
    .unwrap();
    assert_eq!(cfg.controller.interval_s, 15.0);
    let cfg = LiveConfig::load(&write(
        "b.toml",
        &format!("{base}[policy]\nkind = \"simple_ceiling\"\nmax_replicas = 5\n"),
    ))
    .unwrap();
    assert_eq!(cfg.controller.interval_s, 60.0);
    // A controller interval that contradicts the HPA's sync period is refused.
    let e = refused(
        "[service]\nname = \"h\"\n[controller]\ninterval_s = 60\ncapacity_per_replica_rps = 8\n[policy]\nkind = \"hpa\"\nmax_replicas = 5\n",
    );
    assert!(e.contains("sync_period_s"), "{e}");
    // An autoscaling/v2 manifest supplies bounds, metrics and behavior.
    write(
        "hpa.yaml",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  minReplicas: 2\n  maxReplicas: 6\n  metrics:\n  - type: Pods\n    pods:\n      metric: {name: rps}\n      target: {type: AverageValue, averageValue: '6'}\n",
    );
    let cfg = LiveConfig::load(&write(
        "c.toml",
        &format!("{base}[policy]\nkind = \"hpa\"\nmanifest = \"hpa.yaml\"\n"),
    ))
    .unwrap();
    assert_eq!((cfg.bounds().min, cfg.bounds().max), (2, 6));
    assert_eq!(cfg.policy.hpa_config().unwrap().metrics.len(), 1);
}
