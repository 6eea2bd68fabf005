use super::*;
use std::sync::atomic::{AtomicU32, Ordering};

#[test]
fn retry_backs_off_then_succeeds_or_gives_up() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);
    let t0 = Instant::now();
    let v = rt.block_on(retry("flaky", || async {
        if calls.fetch_add(1, Ordering::SeqCst) < 2 {
            anyhow::bail!("transient")
        }
        Ok(7)
    }));
    assert_eq!(v.unwrap(), 7);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(
        t0.elapsed() >= Duration::from_millis(750),
        "backoff 0.25 + 0.5 s"
    );
    calls.store(0, Ordering::SeqCst);
    let e = rt.block_on(retry("broken", || async {
        calls.fetch_add(1, Ordering::SeqCst);
        anyhow::bail!("down") as Result<()>
    }));
    assert!(e.unwrap_err().to_string().contains("down"));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn decision_log_has_the_timeline_schema() {
    let dir = tempfile::tempdir().unwrap();
    let tl = Timeline {
        demand: vec![f64::NAN, 120.0],
        forecast: vec![f64::NAN, 120.0],
        planned: vec![f64::NAN, 120.0],
        desired: vec![3, 1],
        ready: vec![3, 3],
        pending: vec![0, 0],
        ready_effective: vec![3.0, 3.0],
        provisioned_ms: vec![45_000.0, 45_000.0],
        served: vec![f64::NAN, 119.0],
        dropped: vec![f64::NAN, 1.0],
        latency_ms: vec![f64::NAN, 125.0],
        latency_p95_ms: vec![f64::NAN, 190.0],
        cpu_pct: vec![f64::NAN, 0.5],
        cold_starts: vec![0, 0],
        no_ready_ms: vec![0.0, 0.0],
        zero_ms: vec![0.0, 0.0],
        missing: vec![],
    };
    let p = dir.path().join("d.parquet");
    write_log(&p, &tl, 15_000).unwrap();
    let csv = std::fs::read_to_string(p.with_extension("csv")).unwrap();
    assert!(csv.starts_with("step,time_ms,demand,forecast,planned,desired,ready,pending,ready_effective,served,dropped,latency_ms,latency_p95_ms,cpu_pct"));
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.lines().nth(2).unwrap().starts_with("1,15000,120.0"));
    assert!(p.exists());
}

// The loop over fake backends: what the controller does when metrics go missing, the
// backend fails, a replica vanishes, the policy asks past its bounds, or a stop comes.

use crate::policy::Observed;
use std::sync::Mutex;

/// What a fake reading at one tick is.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// Demand (requests per interval) measured.
    Demand(f64),
    /// The source answered but has no data.
    NoData,
    /// The source failed.
    Error,
}

#[derive(Debug, Default)]
struct FakeState {
    tick: u64,
    running: u32,
    /// Every reconcile target, in order (failed ones too).
    reconciles: Vec<u32>,
    /// The next this many `replicas()` / `reconcile()` calls fail.
    list_errors: u32,
    reconcile_errors: u32,
    /// `(tick, n)`: at the start of `tick`, `n` more listing failures (`fail_list_at`),
    /// or one replica vanishes (`vanish_at`).
    fail_list_at: Option<(u64, u32)>,
    vanish_at: Option<u64>,
    /// At the end of this tick the stop signal fires.
    stop_at: Option<u64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A replica backend and metrics source scripted tick by tick; every replica is ready.
struct Fake {
    reads: Vec<Read>,
    interval_ms: u64,
    st: Mutex<FakeState>,
}

impl Fake {
    fn new(reads: Vec<Read>, running: u32) -> Fake {
        Fake {
            reads,
            interval_ms: 10_000,
            st: Mutex::new(FakeState {
                running,
                ..FakeState::default()
            }),
        }
    }
    fn st(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.st.lock().unwrap()
    }
}

impl ReplicaBackend for Fake {
    fn now(&self) -> crate::time::SimTime {
        crate::time::SimTime(self.st().tick * self.interval_ms)
    }
    async fn replicas(&self) -> Result<Replicas> {
        let mut st = self.st();
        if st.fail_list_at.is_some_and(|(t, _)| t == st.tick) {
            st.list_errors += st.fail_list_at.take().unwrap().1;
        }
        if st.vanish_at == Some(st.tick) {
            st.vanish_at = None;
            st.running -= 1;
        }
        if st.list_errors > 0 {
            st.list_errors -= 1;
            anyhow::bail!("engine unavailable");
        }
        Ok(Replicas {
            running: st.running,
            ready: st.running,
            pods: Vec::new(),
        })
    }
    async fn reconcile(&self, target: u32) -> Result<()> {
        let mut st = self.st();
        st.reconciles.push(target);
        if st.reconcile_errors > 0 {
            st.reconcile_errors -= 1;
            anyhow::bail!("engine refused");
        }
        st.running = target;
        Ok(())
    }
    async fn end_of_interval(&self) {
        let mut st = self.st();
        if st.stop_at == Some(st.tick) {
            if let Some(tx) = st.stop.take() {
                let _ = tx.send(());
            }
        }
        st.tick += 1;
    }
    fn finished(&self) -> bool {
        self.st().tick as usize >= self.reads.len()
    }
}

impl MetricsSource for Fake {
    async fn reading(&self, replicas: &Replicas) -> Result<Option<Measured>> {
        let tick = self.st().tick as usize;
        match self.reads[tick] {
            Read::Error => anyhow::bail!("query failed"),
            Read::NoData => Ok(None),
            Read::Demand(d) => Ok(Some(Measured {
                observed: Some(Observed {
                    demand_per_step: d,
                    utilization: d / (10.0 * replicas.ready.max(1) as f64),
                    latency_p95_ms: 40.0,
                    cpu_pct: 20.0,
                    ready_mean: replicas.ready as f64,
                    concurrency: d * 0.03,
                    window_ms: self.interval_ms,
                }),
                served: d,
                dropped: 0.0,
                latency_mean_ms: 30.0,
            })),
        }
    }
    async fn history(&self) -> Vec<f64> {
        Vec::new()
    }
}

/// A live configuration: naive + simple_ceiling, 10 requests per interval per replica,
/// 1..=`max` replicas, starting at 2; the log in `dir`.
fn config(dir: &Path, max: u32) -> (LiveConfig, LoopSettings) {
    let p = dir.join("live.toml");
    std::fs::write(
        &p,
        format!(
            "[service]\nname = \"fake\"\nport_span = 50\n\
             [controller]\ninterval_s = 10\ncapacity_per_replica_rps = 1\ninitial_replicas = 2\n\
             [forecaster]\nkind = \"naive\"\n\
             [policy]\nkind = \"simple_ceiling\"\nmax_replicas = {max}\n"
        ),
    )
    .unwrap();
    let cfg = LiveConfig::load(&p).unwrap();
    let mut s = LoopSettings::from_config(&cfg, 2);
    s.log = dir.join("decisions.parquet");
    (cfg, s)
}

/// Runs the loop on `fake` with paused time (retries and pacing take no real time);
/// returns the summary and the decision log.
fn run_fake(fake: &Fake, max: u32) -> (Summary, Timeline) {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, s) = config(dir.path(), max);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    fake.st().stop = Some(tx);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let summary = rt
        .block_on(control(&cfg, fake, fake, &s, async {
            let _ = rx.await;
        }))
        .unwrap();
    let df = crate::report::data::read_parquet(&s.log).unwrap();
    (summary, timeline_of(&df))
}

/// The decision log's `desired` and `missing` columns, read back.
fn timeline_of(df: &polars::prelude::DataFrame) -> Timeline {
    let desired = df
        .column("desired")
        .unwrap()
        .cast(&polars::prelude::DataType::UInt32)
        .unwrap();
    let demand = df.column("demand").unwrap().f64().unwrap();
    Timeline {
        desired: desired.u32().unwrap().into_no_null_iter().collect(),
        demand: demand.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
        ..Timeline::default()
    }
}

fn demand(v: &[f64]) -> Vec<Read> {
    v.iter().map(|&d| Read::Demand(d)).collect()
}

#[test]
fn missing_metrics_hold_the_count_and_never_scale_down() {
    // 45 → 5 replicas; then the metrics fail or have no data while demand would call for 1.
    let mut reads = demand(&[45.0, 45.0]);
    reads.extend([Read::NoData, Read::Error, Read::NoData]);
    reads.extend(demand(&[5.0, 5.0]));
    let fake = Fake::new(reads, 2);
    let (summary, tl) = run_fake(&fake, 10);
    assert_eq!(tl.desired, vec![5, 5, 5, 5, 5, 1, 1]);
    assert_eq!(summary.holds, 3);
    assert_eq!(summary.decisions, 7);
    assert!(tl.demand[2..5].iter().all(|d| d.is_nan()));
    assert_eq!(fake.st().running, 1);
}

#[test]
fn backend_errors_are_retried_then_the_decision_is_skipped() {
    let fake = Fake::new(demand(&[25.0, 45.0, 45.0, 15.0, 15.0]), 2);
    {
        let mut st = fake.st();
        // Tick 1: listing fails 4 times (every attempt): that decision is skipped.
        st.fail_list_at = Some((1, 4));
    }
    let (summary, tl) = run_fake(&fake, 10);
    // Five intervals, four decisions logged: the second was skipped, not guessed.
    assert_eq!(summary.decisions, 5);
    assert_eq!(tl.desired, vec![3, 5, 2, 2]);

    let fake = Fake::new(demand(&[25.0, 45.0, 45.0]), 2);
    {
        let mut st = fake.st();
        // Tick 1: listing fails twice, and the third attempt succeeds.
        st.fail_list_at = Some((1, 2));
        // The first decision's reconcile fails every attempt; the next decision applies.
        st.reconcile_errors = 4;
    }
    let (_, tl) = run_fake(&fake, 10);
    assert_eq!(tl.desired, vec![3, 5, 5]);
    let st = fake.st();
    assert_eq!(&st.reconciles[..4], &[3, 3, 3, 3], "four attempts");
    assert_eq!(st.reconciles[4], 5);
    assert_eq!(st.running, 5);
}

#[test]
fn a_vanished_replica_is_replaced_at_the_next_reconcile() {
    let fake = Fake::new(demand(&[35.0; 5]), 2);
    fake.st().vanish_at = Some(2);
    let (_, tl) = run_fake(&fake, 10);
    assert_eq!(tl.desired, vec![4; 5]);
    let st = fake.st();
    assert_eq!(st.running, 4);
    // Every decision reconciles to 4, including the one that found 3.
    assert_eq!(st.reconciles, vec![4; 5]);
}

#[test]
fn decisions_are_clamped_to_the_policy_bounds() {
    let fake = Fake::new(demand(&[500.0, 500.0, 0.0]), 2);
    let (summary, tl) = run_fake(&fake, 3);
    assert_eq!(tl.desired, vec![3, 3, 1]);
    assert_eq!(summary.peak_desired, 3);
}

#[test]
fn a_stop_signal_ends_the_loop_after_the_current_decision_with_the_log_written() {
    let fake = Fake::new(demand(&[25.0; 20]), 2);
    fake.st().stop_at = Some(2);
    let (summary, tl) = run_fake(&fake, 10);
    assert_eq!(summary.decisions, 3);
    assert_eq!(tl.desired.len(), 3);
}

#[test]
fn sigterm_resolves_the_shutdown_signal() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let waiter = tokio::spawn(async move {
            let signal = crate::service::shutdown_signal();
            tokio::pin!(signal);
            // Poll once so the handlers are installed before the signal is sent.
            assert!(futures_util::poll!(&mut signal).is_pending());
            let _ = ready_tx.send(());
            signal.await;
        });
        ready_rx.await.unwrap();
        // SAFETY: kill(2) on our own pid, with a handler installed above.
        assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGTERM) }, 0);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("SIGTERM did not resolve shutdown_signal")
            .unwrap();
    });
}
