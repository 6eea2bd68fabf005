//! `sim serve` as a process on loopback: statuses, limits and the metrics it exports.

mod live_support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use live_support::{fails, free_port, http_get, sim, succeeds, wait_until};

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Server, u16) {
    let port = free_port();
    let child = Command::new(sim())
        .args(["serve", "--port", &port.to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/health");
    assert!(wait_until(Duration::from_secs(10), || http_get(&url).is_some()));
    (Server(child), port)
}

async fn post(c: &reqwest::Client, port: u16, body: Vec<u8>) -> u16 {
    c.post(format!("http://127.0.0.1:{port}/predict"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
}

#[test]
fn statuses_limits_and_metrics() {
    let (_s, port) = start(&[
        "--service-time",
        "deterministic:300",
        "--concurrency",
        "1",
        "--queue",
        "1",
    ]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let codes = rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        // Bad JSON, a body over 1 MiB.
        let bad = post(&c, port, b"{not json".to_vec()).await;
        let big = post(&c, port, vec![b' '; (1 << 20) + 10]).await;
        // One served, one queued, the third rejected (concurrency 1, queue 1).
        let fut: Vec<_> = (0..3)
            .map(|i| {
                let c = c.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(50 * i)).await;
                    post(&c, port, br#"{"inputs":[1,2,3]}"#.to_vec()).await
                }
            })
            .collect();
        let mut ok = futures_util::future::join_all(fut).await;
        ok.sort_unstable();
        (bad, big, ok)
    });
    assert_eq!(codes.0, 400, "malformed JSON");
    assert_eq!(codes.1, 413, "body over 1 MiB");
    assert_eq!(codes.2, vec![200, 200, 503], "concurrency 1 + queue 1");

    let (code, text) = http_get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    assert_eq!(code, 200);
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"200\"}"),
        2.0
    );
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"503\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"400\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "scalesim_request_duration_seconds_count"),
        2.0
    );
    // The queued request, sent 50 ms after the first, waited ~250 ms before its 300 ms of
    // service: ~0.85 s in all (0.6 s if the wait were not counted).
    let sum = metric(&text, "scalesim_request_duration_seconds_sum");
    assert!((0.8..1.5).contains(&sum), "duration sum {sum}");
    assert_eq!(metric(&text, "scalesim_in_flight_requests"), 0.0);
    assert_eq!(metric(&text, "scalesim_queued_requests"), 0.0);
    assert!(text.contains("process_cpu_seconds_total"));
}

#[test]
fn idle_replica_exports_a_zero_rate_series() {
    let (_s, port) = start(&[]);
    let (_, text) = http_get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"200\"}"),
        0.0
    );
}

#[test]
fn bad_service_time_is_refused() {
    let err = fails(Command::new(sim()).args(["serve", "--service-time", "uniform:200:50"]));
    assert!(err.contains("MIN exceeds MAX"));
}

#[test]
fn load_generator_against_fixed_ports_records_every_request() {
    let (_s, port) = start(&["--service-time", "deterministic:5"]);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    std::fs::write(&trace, "timestamp,requests\n0,100\n60,0\n120,100\n").unwrap();
    let out_csv = dir.path().join("req.csv");
    let out = succeeds(
        Command::new(sim())
            .args(["load", "--trace"])
            .arg(&trace)
            .args(["--speedup", "60", "--ports", &port.to_string(), "--out"])
            .arg(&out_csv),
    );
    let rows: Vec<String> = std::fs::read_to_string(&out_csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert!((140..=260).contains(&rows.len()), "{} requests", rows.len());
    assert!(rows.iter().all(|r| r.split(',').nth(2) == Some("200")));
    // Nothing was sent during the empty middle step (1 s to 2 s).
    assert!(rows.iter().all(|r| {
        let at: f64 = r.split(',').next().unwrap().parse().unwrap();
        !(1000.0..2000.0).contains(&at)
    }));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("error_rate 0.0000"), "{stdout}");
}

#[test]
fn slow_and_greedy_clients_are_shed_and_counted() {
    // Regressions (#13): slow-header and one-byte-a-second clients stayed open 45 s;
    // `Content-Length: 99999999999` hung instead of an immediate 413; 413s were not
    // counted; connections were unbounded.
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;
    let (_s, port) = start(&["--read-timeout-s", "1", "--max-connections", "3"]);
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    };
    let head = |s: &mut TcpStream| {
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).to_string()
    };
    // Headers that never finish: closed after the 1 s timeout.
    let mut s = connect();
    s.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t = Instant::now();
    assert_eq!(head(&mut s), "");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    // A declared oversize body: 413 at once, nothing read.
    let mut s = connect();
    let t = Instant::now();
    s.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{").unwrap();
    assert!(head(&mut s).starts_with("HTTP/1.1 413"));
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    // A body that trickles: 408 after the timeout.
    let mut s = connect();
    s.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{").unwrap();
    assert!(head(&mut s).starts_with("HTTP/1.1 408"));
    // Oversize headers: 431.
    let mut s = connect();
    let big = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let _ = s.write_all(big.as_bytes());
    assert!(head(&mut s).starts_with("HTTP/1.1 431"));
    // Three idle connections fill the bound of a second server (with a long timeout, so
    // that they stay open however slow the machine); a fourth is closed at once.
    {
        let (_b, bport) = start(&["--read-timeout-s", "60", "--max-connections", "3"]);
        let connect_b = || {
            let s = TcpStream::connect(("127.0.0.1", bport)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        };
        // `start` probed /health on its own connection, closed by now or soon: wait until
        // three idle ones are all the server holds.
        std::thread::sleep(Duration::from_millis(300));
        let idle: Vec<TcpStream> = (0..3).map(|_| connect_b()).collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut extra = connect_b();
        let _ = extra.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(head(&mut extra), "", "over the bound");
        // Closing them frees the bound.
        drop(idle);
        let url = format!("http://127.0.0.1:{bport}/health");
        assert!(wait_until(Duration::from_secs(5), || http_get(&url).is_some()));
    }
    // The first server counted the statuses.
    let url = format!("http://127.0.0.1:{port}/metrics");
    assert!(wait_until(Duration::from_secs(5), || http_get(&url).is_some()));
    let text = http_get(&url).unwrap().1;
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"413\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"408\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "scalesim_requests_total{status=\"431\"}"),
        1.0
    );
}

#[test]
fn the_activator_holds_a_request_until_a_replica_serves_it() {
    // `sim activator` in front of a port where nothing listens yet: a request waits, then
    // `sim serve` starts there and the held request is answered.
    let replica = free_port();
    let port = free_port();
    let child = Command::new(sim())
        .args([
            "activator",
            "--port",
            &port.to_string(),
            "--ports",
            &replica.to_string(),
        ])
        .args(["--timeout-s", "20", "--probe-s", "0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _activator = Server(child);
    let health = format!("http://127.0.0.1:{port}/health");
    assert!(wait_until(Duration::from_secs(10), || http_get(&health).is_some()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, waited) = rt.block_on(async {
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let held = tokio::spawn({
            let c = c.clone();
            async move {
                let t0 = std::time::Instant::now();
                (
                    post(&c, port, br#"{"inputs":[1,2,3]}"#.to_vec()).await,
                    t0.elapsed(),
                )
            }
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
        let serve = Command::new(sim())
            .args([
                "serve",
                "--port",
                &replica.to_string(),
                "--service-time",
                "deterministic:5",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = held.await.unwrap();
        drop(Server(serve));
        out
    });
    assert_eq!(status, 200);
    assert!(waited >= Duration::from_millis(700), "{waited:?}");
    let (code, text) = http_get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    assert_eq!(code, 200);
    assert_eq!(metric(&text, "activator_wait_seconds_count"), 1.0);
    assert_eq!(metric(&text, "activator_forwarded_total"), 1.0);
    // Bad settings are refused by name.
    let e = fails(Command::new(sim()).args(["activator", "--ports", "1", "--timeout-s", "0"]));
    assert!(e.contains("--timeout-s must be a positive number"), "{e}");
    let e = fails(Command::new(sim()).args(["activator"]));
    assert!(e.contains("name the target"), "{e}");
}
