//! Prophet fit and predict on the benchmark shapes.
//! Run: `cargo bench --bench prophet`. Python side: validation/prophet/bench_python.py.

use criterion::{criterion_group, criterion_main, Criterion};
use scalesim::forecast::prophet::config::{Optimizer, Switch};
use scalesim::forecast::prophet::{fit, ProphetConfig};

fn data() -> (Vec<i64>, Vec<f64>) {
    let w = scalesim::workload::generator::generate("b", &Default::default()).unwrap();
    let start = w.start.unwrap().timestamp_millis();
    let ds = (0..10_080).map(|i| start + i as i64 * 60_000).collect();
    (ds, w.demand[..10_080].to_vec())
}

fn prophet(c: &mut Criterion) {
    let (ds, y) = data();
    // 7 days at 1 minute with daily and weekly seasonality (weekly forced on: Prophet's
    // automatic rule would need 14 days).
    let cfg = ProphetConfig {
        weekly_seasonality: Switch::On,
        daily_seasonality: Switch::On,
        ..ProphetConfig::default()
    };
    let mut g = c.benchmark_group("prophet");
    g.sample_size(20);
    g.bench_function("fit_10080_points_daily_weekly", |b| {
        b.iter(|| fit(&cfg, &ds, &y, &[]).unwrap())
    });
    let exact = ProphetConfig {
        optimizer: Optimizer::Exact,
        ..cfg.clone()
    };
    g.bench_function("fit_10080_points_daily_weekly_exact_optimum", |b| {
        b.iter(|| fit(&exact, &ds, &y, &[]).unwrap())
    });
    let model = fit(&cfg, &ds, &y, &[]).unwrap();
    let future: Vec<i64> = (0..1440)
        .map(|i| ds[ds.len() - 1] + (i + 1) * 60_000)
        .collect();
    g.bench_function("predict_1440_steps_1000_samples", |b| {
        b.iter(|| model.predict(&future, &[]))
    });
    g.finish();
}

criterion_group!(benches, prophet);
criterion_main!(benches);
