//! Simulator throughput: request-level events per second on one core, and one fluid
//! run of the prototype's 7-day window.
//!
//! Run: `cargo bench --bench simulator`. Recorded numbers: validation/benchmarks.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scalesim::policy::spec::{PolicyKind, PolicyParams, PolicySpec, StaticParams};
use scalesim::sim::{simulate, RunInput, SimConfig};

fn static_policy(n: u32) -> PolicySpec {
    PolicySpec::of(PolicyParams::Static(StaticParams { replicas: Some(n) }))
}

fn request_mode(c: &mut Criterion) {
    // M/M/10 at 80 % utilisation (10 s mean service, 48 arrivals a minute), ~1M arrivals.
    let cfg = scalesim::validation::mmc_config(10, 10_000.0);
    let demand = vec![48.0; 21_000];
    let go = || {
        simulate(
            &cfg,
            RunInput {
                history: &[],
                missing: &[],
                replay: None,
                demand: &demand,
                first_step: 0,
                forecast: None,
                seed: 1,
            },
            static_policy(10).build().as_mut(),
        )
    };
    let events = go().requests.unwrap().events;
    let mut g = c.benchmark_group("request_mode");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("mm10_rho0.8_1M_arrivals", |b| b.iter(go));
    g.finish();
}

fn fluid_mode(c: &mut Criterion) {
    let w = scalesim::workload::generator::generate("b", &Default::default()).unwrap();
    let cfg = SimConfig::default();
    let demand = &w.demand[10_080..];
    let mut g = c.benchmark_group("fluid_mode");
    g.throughput(Throughput::Elements(demand.len() as u64));
    g.bench_function("hpa_7_days_1_minute", |b| {
        b.iter(|| {
            let mut p = PolicySpec::new(PolicyKind::Hpa).build();
            simulate(
                &cfg,
                RunInput {
                    history: &[],
                    missing: &[],
                    replay: None,
                    demand,
                    first_step: 0,
                    forecast: None,
                    seed: 1,
                },
                p.as_mut(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, request_mode, fluid_mode);
criterion_main!(benches);
