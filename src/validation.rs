//! Validation runs shared by `sim validate` and the tests: seed parity with the
//! prototype's logs, request mode against Erlang-C, and Little's law. No I/O here.

use serde::Serialize;

use crate::forecast::{ForecastTable, QUANTILES};
use crate::policy::spec::{PolicyKind, PolicyParams, PolicySpec, StaticParams};
use crate::sim::theory::{erlang_c, mmc_mean_wait};
use crate::sim::{
    simulate, Fidelity, RequestConfig, RequestStats, RunInput, SafetyNet, ServiceTime, SimConfig,
};

/// One minute of a prototype log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRow {
    pub demand: f64,
    pub pred: f64,
    pub containers: u32,
    pub over: bool,
    pub under: bool,
    pub latency_ms: f64,
    pub cpu_pct: f64,
}

/// How a replay compares with a prototype log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parity {
    pub policy: String,
    pub rows: usize,
    pub containers_mismatches: usize,
    pub over_mismatches: usize,
    pub under_mismatches: usize,
    /// Largest |latency − logged| and |CPU − logged| (the static2 logs carry another run's values).
    pub latency_max_abs_diff: f64,
    pub cpu_max_abs_diff: f64,
}

/// The policy spec the prototype ran under a log's policy name.
pub fn prototype_policy(name: &str) -> Option<PolicySpec> {
    let kind = match name {
        "static2" => PolicyKind::Static,
        "simple" => PolicyKind::SimpleCeiling,
        "buffered" => PolicyKind::Buffered,
        "policy" => PolicyKind::PolicyAware,
        "conf" => PolicyKind::ConfidenceAware,
        _ => return None,
    };
    Some(PolicySpec {
        name: Some(name.to_string()),
        ..PolicySpec::new(kind)
    })
}

/// Replays `demand` with `pred` as the forecast through the seed-compatible fluid simulator.
pub fn seed_parity(policy_name: &str, rows: &[LogRow]) -> Option<Parity> {
    let spec = prototype_policy(policy_name)?;
    let demand: Vec<f64> = rows.iter().map(|r| r.demand).collect();
    let table = ForecastTable {
        forecaster: "log".into(),
        first_step: 0,
        horizon: 1,
        point: rows.iter().map(|r| r.pred).collect(),
        quantiles: rows
            .iter()
            .flat_map(|r| [r.pred; QUANTILES.len()])
            .collect(),
    };
    let cfg = SimConfig::default();
    let mut policy = spec.build();
    let out = simulate(
        &cfg,
        RunInput {
            history: &[],
            missing: &[],
            replay: None,
            demand: &demand,
            first_step: 0,
            forecast: Some(&table),
            seed: 0,
        },
        policy.as_mut(),
    );
    let tl = &out.timeline;
    let mut p = Parity {
        policy: policy_name.into(),
        rows: rows.len(),
        containers_mismatches: 0,
        over_mismatches: 0,
        under_mismatches: 0,
        latency_max_abs_diff: 0.0,
        cpu_max_abs_diff: 0.0,
    };
    for (i, r) in rows.iter().enumerate() {
        let cap = tl.ready[i] as f64 * cfg.capacity_per_replica;
        p.containers_mismatches += (tl.ready[i] != r.containers) as usize;
        p.over_mismatches += ((cap > 1.15 * r.demand) != r.over) as usize;
        p.under_mismatches += ((r.demand > cap) != r.under) as usize;
        p.latency_max_abs_diff = p
            .latency_max_abs_diff
            .max((tl.latency_ms[i] - r.latency_ms).abs());
        p.cpu_max_abs_diff = p.cpu_max_abs_diff.max((tl.cpu_pct[i] - r.cpu_pct).abs());
    }
    Some(p)
}

/// Request mode against M/M/c theory at one utilisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErlangCheck {
    pub servers: u32,
    pub utilization: f64,
    pub arrivals: u64,
    pub p_wait_sim: f64,
    pub p_wait_theory: f64,
    pub p_wait_rel_err: f64,
    pub mean_wait_sim_ms: f64,
    pub mean_wait_theory_ms: f64,
    pub mean_wait_rel_err: f64,
    /// Time-average number in system, L.
    pub littles_l: f64,
    /// λ · W from the arrival rate and mean time in system.
    pub littles_lambda_w: f64,
    pub littles_rel_err: f64,
    pub events: u64,
}

/// An M/M/c system in request mode: `servers` replicas of one slot each, exponential
/// service with mean `service_ms`, one-minute steps, no queue limit, no safety net.
pub fn mmc_config(servers: u32, service_ms: f64) -> SimConfig {
    let step_ms = 60_000u64;
    SimConfig {
        fidelity: Fidelity::Requests,
        step_ms,
        decision_interval_ms: step_ms,
        capacity_per_replica: step_ms as f64 / service_ms,
        initial_replicas: servers,
        safety: SafetyNet {
            enabled: false,
            ..SafetyNet::default()
        },
        requests: RequestConfig {
            service: ServiceTime::Exponential,
            concurrency: 1,
            queue_limit: usize::MAX,
            slo_ms: f64::INFINITY,
            ..RequestConfig::default()
        },
        ..SimConfig::default()
    }
}

/// Runs M/M/c in request mode: `servers` replicas (one slot each, mean service
/// `service_ms`) at `utilization` for about `arrivals` arrivals; the request figures and
/// the arrival rate λ (per ms).
pub fn run_mmc(
    servers: u32,
    utilization: f64,
    service_ms: f64,
    arrivals: u64,
    seed: u64,
) -> (RequestStats, f64) {
    let cfg = mmc_config(servers, service_ms);
    let capacity = cfg.capacity_per_replica;
    let per_step = utilization * servers as f64 * capacity;
    let steps = (arrivals as f64 / per_step).ceil() as usize;
    let demand = vec![per_step; steps];
    let mut policy = PolicySpec {
        params: PolicyParams::Static(StaticParams {
            replicas: Some(servers),
        }),
        ..prototype_policy("static2").unwrap()
    }
    .build();
    let out = simulate(
        &cfg,
        RunInput {
            history: &[],
            missing: &[],
            replay: None,
            demand: &demand,
            first_step: 0,
            forecast: None,
            seed,
        },
        policy.as_mut(),
    );
    (
        out.requests.expect("request mode"),
        per_step / cfg.step_ms as f64,
    )
}

/// Simulates M/M/c with `servers` replicas (one slot each, mean service `service_ms`)
/// at `utilization` for about `arrivals` arrivals, against Erlang-C and Little's law.
pub fn erlang_check(
    servers: u32,
    utilization: f64,
    service_ms: f64,
    arrivals: u64,
    seed: u64,
) -> ErlangCheck {
    let (r, lambda) = run_mmc(servers, utilization, service_ms, arrivals, seed);
    let mu = 1.0 / service_ms;
    let pw_t = erlang_c(servers, lambda / mu);
    let w_t = mmc_mean_wait(servers, lambda, mu);
    let pw = r.waited as f64 / r.served as f64;
    let w = r.wait_sum_ms / r.served as f64;
    let l = r.in_system_ms / r.duration_ms;
    let lw = (r.arrived as f64 / r.duration_ms) * r.latency_mean_ms;
    ErlangCheck {
        servers,
        utilization,
        arrivals: r.arrived,
        p_wait_sim: pw,
        p_wait_theory: pw_t,
        p_wait_rel_err: (pw - pw_t).abs() / pw_t,
        mean_wait_sim_ms: w,
        mean_wait_theory_ms: w_t,
        mean_wait_rel_err: (w - w_t).abs() / w_t,
        littles_l: l,
        littles_lambda_w: lw,
        littles_rel_err: (l - lw).abs() / lw,
        events: r.events,
    }
}
