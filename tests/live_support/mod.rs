//! Helpers for the live tests: tool checks, a Prometheus process, Docker CLI calls.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const IMAGE: &str = "scalesim-serve:latest";

pub fn sim() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sim"))
}

/// Runs `cmd` to completion and fails the test, showing its stderr, unless it succeeds.
pub fn succeeds(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `cmd` to completion, asserts that it fails and returns its stderr.
pub fn fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "{cmd:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// True when Docker, Prometheus and the image are here. Missing tools fail the test when
/// SCALESIM_REQUIRE_TOOLS=1 (CI), and skip it otherwise.
pub fn tools_ready(test: &str) -> bool {
    let mut missing = Vec::new();
    let docker_ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !docker_ok {
        missing.push("a running Docker engine (dockerd)");
    } else if !docker(&["image", "inspect", IMAGE]).0 {
        missing.push("the image scalesim-serve:latest (bash scripts/build-image.sh)");
    }
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        missing.push("prometheus (apt-get install prometheus)");
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("{test}: needs {}", missing.join(", "));
    if std::env::var("SCALESIM_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    false
}

/// Runs the docker CLI: (success, stdout).
pub fn docker(args: &[&str]) -> (bool, String) {
    match Command::new("docker").args(args).output() {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        Err(_) => (false, String::new()),
    }
}

/// IDs of the running containers labelled as replicas of `service`.
pub fn running(service: &str) -> Vec<String> {
    let filter = format!("label=scalesim.service={service}");
    docker(&["ps", "-q", "--no-trunc", "--filter", &filter])
        .1
        .lines()
        .map(str::to_string)
        .collect()
}

/// Names of every container (any state) labelled for `service`.
pub fn all_names(service: &str) -> Vec<String> {
    let filter = format!("label=scalesim.service={service}");
    docker(&["ps", "-a", "--format", "{{.Names}}", "--filter", &filter])
        .1
        .lines()
        .map(str::to_string)
        .collect()
}

/// Removes every container of `service` (test clean-up).
pub fn remove_all(service: &str) {
    let filter = format!("label=scalesim.service={service}");
    let ids = docker(&["ps", "-aq", "--filter", &filter]).1;
    for id in ids.lines() {
        docker(&["rm", "-f", id]);
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` every 250 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    f()
}

/// GET on loopback: (status, body), or None when nothing answers.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(3))
            .build()
            .ok()?;
        let r = c.get(url).send().await.ok()?;
        let code = r.status().as_u16();
        Some((code, r.text().await.ok()?))
    })
}

/// A Prometheus server on a loopback port, killed when dropped.
pub struct Prometheus {
    child: Option<Child>,
    pub port: u16,
    config: PathBuf,
    data: PathBuf,
}

impl Prometheus {
    /// Writes the configuration `sim prometheus-config` generates for `live_toml`.
    pub fn configure(live_toml: &Path, dir: &Path, port: u16) -> Prometheus {
        let config = dir.join("prometheus.yml");
        succeeds(
            Command::new(sim())
                .args(["prometheus-config", "--config"])
                .arg(live_toml)
                .arg("--out")
                .arg(&config),
        );
        Prometheus {
            child: None,
            port,
            config,
            data: dir.join("prom-data"),
        }
    }

    pub fn start(&mut self) {
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", self.config.display()))
            .arg(format!("--storage.tsdb.path={}", self.data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        self.child = Some(child);
        let url = format!("http://127.0.0.1:{}/-/ready", self.port);
        assert!(
            wait_until(Duration::from_secs(30), || http_get(&url)
                .is_some_and(|r| r.0 == 200)),
            "Prometheus did not become ready"
        );
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Container names of the service's targets that Prometheus scrapes successfully.
    pub fn up_targets(&self, service: &str) -> Vec<String> {
        let url = format!("http://127.0.0.1:{}/api/v1/targets?state=active", self.port);
        let Some((200, body)) = http_get(&url) else {
            return Vec::new();
        };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["activeTargets"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .filter(|t| t["labels"]["service"] == service && t["health"] == "up")
                    .filter_map(|t| t["labels"]["container"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes the service's containers when dropped (also when the test panics).
pub struct Cleanup(pub Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for s in &self.0 {
            remove_all(s);
        }
    }
}

/// Sends SIGTERM to a child process.
pub fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// Waits for a child with a timeout; kills it and panics when it overruns.
pub fn wait_for(child: &mut Child, timeout: Duration, what: &str) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if t0.elapsed() > timeout {
            let _ = child.kill();
            panic!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A live configuration for tests.
pub fn live_toml(
    service: &str,
    base_port: u16,
    prom_port: u16,
    controller: &str,
    policy: &str,
) -> String {
    format!(
        r#"
[service]
name = "{service}"
base_port = {base_port}
port_span = 20
service_time = "uniform:50:200"
concurrency = 4
queue = 32
stop_timeout_s = 5

[prometheus]
url = "http://127.0.0.1:{prom_port}"
scrape_interval_s = 5
rate_window_s = 20
timeout_s = 2

[controller]
{controller}

[policy]
{policy}
"#
    )
}
