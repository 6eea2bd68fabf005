//! Prophet fit and predict on the benchmark shapes.
//! Run: `cargo bench --bench prophet`. Python side: validation/prophet/bench_python.py.

use criterion::{criterion_group, criterion_main, Criterion};
use scalesim::forecast::prophet::config::{Optimizer, Switch};
use scalesim::forecast::prophet::{fit, ProphetConfig};

/// The prototype's run.csv, first 7 days at 1 minute — the data bench_python.py uses.
fn data() -> (Vec<i64>, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed/run.csv");
    let text = std::fs::read_to_string(path).expect("data/seed/run.csv");
    text.lines()
        .skip(1)
        .take(10_080)
        .map(|line| {
            let mut cols = line.split(',');
            let ts = scalesim::trace::parse_timestamp(cols.next().unwrap()).unwrap();
            (ts.ms(), cols.next().unwrap().parse::<f64>().unwrap())
        })
        .unzip()
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
