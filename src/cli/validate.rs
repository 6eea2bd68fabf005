//! `sim validate`: seed parity with the prototype's logs, request mode against
//! Erlang-C and Little's law, and generator statistics against the prototype's data.
//! Results go to `validation/results/` as CSV; the exit code is non-zero on a failure.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::sweep::outputs::num;
use crate::trace::write::atomic_write;
use crate::validation::{erlang_check, seed_parity, LogRow};
use crate::workload::generator::{generate, GeneratorConfig};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Folder with the prototype's published logs (`sim_<model>_TEST_<policy>.csv`, `scenario_*.csv`).
    #[arg(long, default_value = "validation/seed_reference")]
    pub reference: PathBuf,
    /// Folder for the results.
    #[arg(long, default_value = "validation/results")]
    pub out: PathBuf,
    /// Arrivals per Erlang-C run.
    #[arg(long, default_value_t = 10_000_000)]
    pub arrivals: u64,
}

/// Reads a prototype log.
pub fn read_log(path: &Path) -> Result<Vec<LogRow>> {
    let df = crate::trace::read_table(path)?;
    let col = |name: &str| -> Result<Vec<f64>> {
        let c = crate::trace::column(&df, path, name)?;
        crate::trace::column_strings(c, path)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_deref()
                    .and_then(|s| s.parse::<f64>().ok())
                    .with_context(|| format!("{}: row {}: bad '{name}'", path.display(), i + 1))
            })
            .collect()
    };
    let (d, p, c, o, u, l, cpu) = (
        col("demand")?,
        col("pred")?,
        col("containers")?,
        col("over")?,
        col("under")?,
        col("lat_ms")?,
        col("cpu_pct")?,
    );
    Ok((0..d.len())
        .map(|i| LogRow {
            demand: d[i],
            pred: p[i],
            containers: c[i] as u32,
            over: o[i] != 0.0,
            under: u[i] != 0.0,
            latency_ms: l[i],
            cpu_pct: cpu[i],
        })
        .collect())
}

/// Mean, standard deviation and spike share of a demand series.
pub fn series_stats(y: &[f64], events: &[f64]) -> (f64, f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (
        mean,
        sd,
        events.iter().filter(|&&e| e > 0.0).count() as f64 / n,
    )
}

fn write_csv(path: &Path, rows: &[Vec<String>]) -> Result<()> {
    atomic_write(path, |f| {
        for r in rows {
            writeln!(f, "{}", r.join(","))?;
        }
        Ok(())
    })?;
    Ok(())
}

pub fn run(a: ValidateArgs) -> Result<()> {
    let mut failures = Vec::new();
    // 1. Seed parity.
    let mut rows = vec![[
        "forecaster",
        "policy",
        "rows",
        "containers_mismatches",
        "over_mismatches",
        "under_mismatches",
        "latency_max_abs_diff",
        "cpu_max_abs_diff",
    ]
    .map(String::from)
    .to_vec()];
    for model in ["prophet", "lstm"] {
        for pol in ["static2", "simple", "buffered", "policy"] {
            let path = a.reference.join(format!("sim_{model}_TEST_{pol}.csv"));
            let log = read_log(&path)?;
            let p = seed_parity(pol, &log).expect("known policy");
            if p.containers_mismatches + p.over_mismatches + p.under_mismatches > 0 {
                failures.push(format!("seed parity {model}/{pol}: {p:?}"));
            }
            rows.push(vec![
                model.into(),
                pol.into(),
                p.rows.to_string(),
                p.containers_mismatches.to_string(),
                p.over_mismatches.to_string(),
                p.under_mismatches.to_string(),
                num(p.latency_max_abs_diff),
                num(p.cpu_max_abs_diff),
            ]);
        }
    }
    write_csv(&a.out.join("seed_parity.csv"), &rows)?;
    eprintln!("seed parity: {} logs compared", rows.len() - 1);
    // 2. Erlang-C and Little's law.
    let mut rows = vec![[
        "servers",
        "utilization",
        "arrivals",
        "p_wait_sim",
        "p_wait_theory",
        "p_wait_rel_err",
        "mean_wait_sim_ms",
        "mean_wait_theory_ms",
        "mean_wait_rel_err",
        "littles_l",
        "littles_lambda_w",
        "littles_rel_err",
    ]
    .map(String::from)
    .to_vec()];
    for (i, rho) in [0.5, 0.8, 0.95].into_iter().enumerate() {
        let e = erlang_check(10, rho, 10_000.0, a.arrivals, 100 + i as u64);
        if e.p_wait_rel_err > 0.02 || e.mean_wait_rel_err > 0.02 || e.littles_rel_err > 0.01 {
            failures.push(format!("Erlang-C at rho {rho}: {e:?}"));
        }
        eprintln!(
            "M/M/10 rho {rho}: P(wait) {:.4} vs {:.4}, Wq {:.1} vs {:.1} ms",
            e.p_wait_sim, e.p_wait_theory, e.mean_wait_sim_ms, e.mean_wait_theory_ms
        );
        rows.push(vec![
            e.servers.to_string(),
            num(rho),
            e.arrivals.to_string(),
            num(e.p_wait_sim),
            num(e.p_wait_theory),
            num(e.p_wait_rel_err),
            num(e.mean_wait_sim_ms),
            num(e.mean_wait_theory_ms),
            num(e.mean_wait_rel_err),
            num(e.littles_l),
            num(e.littles_lambda_w),
            num(e.littles_rel_err),
        ]);
    }
    write_csv(&a.out.join("erlang_c.csv"), &rows)?;
    // 3. Generator statistics.
    let mut rows = vec![[
        "preset",
        "mean_ref",
        "mean_ours",
        "sd_ref",
        "sd_ours",
        "spike_rate_ref",
        "spike_rate_ours",
    ]
    .map(String::from)
    .to_vec()];
    for preset in crate::workload::generator::PRESETS {
        let path = a.reference.join(format!("scenario_{preset}.csv"));
        let spec = crate::trace::TraceSpec {
            regressors: vec!["is_event".into()],
            value_column: Some("req_per_min".into()),
            ..crate::trace::TraceSpec::for_path(&path)
        };
        let r = crate::trace::load(&spec, preset)?.workload;
        let ours = generate(preset, &GeneratorConfig::preset(preset)?)?;
        let (m0, s0, e0) = series_stats(&r.demand, r.regressor("is_event").unwrap());
        let (m1, s1, e1) = series_stats(&ours.demand, ours.regressor("is_event").unwrap());
        rows.push(vec![
            preset.into(),
            num(m0),
            num(m1),
            num(s0),
            num(s1),
            num(e0),
            num(e1),
        ]);
    }
    write_csv(&a.out.join("generator_stats.csv"), &rows)?;
    if failures.is_empty() {
        eprintln!("validation passed; results in {}", a.out.display());
        Ok(())
    } else {
        anyhow::bail!("validation failed:\n{}", failures.join("\n"))
    }
}

#[derive(Debug, clap::Args)]
pub struct MmcArgs {
    /// Servers (replicas of one slot each).
    #[arg(long, default_value_t = 10)]
    pub servers: u32,
    /// Utilisation ρ = λ / (c μ), below 1.
    #[arg(long, default_value_t = 0.8)]
    pub utilization: f64,
    /// Mean service time (ms), exponential.
    #[arg(long, default_value_t = 100.0)]
    pub service_ms: f64,
    /// Arrivals (about).
    #[arg(long, default_value_t = 1_000_000)]
    pub arrivals: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `sim mmc`: one M/M/c run of the request simulator on one thread, its figures and its
/// wall time as JSON on stdout (the peer benchmark, validation/bench/simpy_mmc.py, runs it).
pub fn mmc(a: MmcArgs) -> Result<()> {
    if !(a.utilization > 0.0 && a.utilization < 1.0) || a.servers == 0 || !(a.service_ms > 0.0) {
        anyhow::bail!("--utilization must be in (0, 1), --servers and --service-ms positive");
    }
    let t0 = std::time::Instant::now();
    let (r, _) =
        crate::validation::run_mmc(a.servers, a.utilization, a.service_ms, a.arrivals, a.seed);
    let wall_s = t0.elapsed().as_secs_f64();
    let theory_ms = crate::sim::theory::mmc_mean_wait(
        a.servers,
        a.utilization * a.servers as f64 / a.service_ms,
        1.0 / a.service_ms,
    ) + a.service_ms;
    println!(
        "{}",
        serde_json::json!({
            "arrivals": r.arrived,
            "events": r.events,
            "latency_mean_ms": r.latency_mean_ms,
            "latency_p95_ms": r.latency_p95_ms,
            "theory_latency_mean_ms": theory_ms,
            "wall_s": wall_s,
            "events_per_s": r.events as f64 / wall_s,
        })
    );
    Ok(())
}
