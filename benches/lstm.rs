//! LSTM training (the prototype's configuration: 7 days at 1 minute, 5 epochs) and
//! rolling inference over 7 days (10,080 decisions). Run: `cargo bench --features lstm
//! --bench lstm`. Python side: validation/lstm/bench_python.py.

use criterion::{criterion_group, criterion_main, Criterion};
use scalesim::forecast::lstm::{LstmConfig, TrainedLstm};

fn lstm(c: &mut Criterion) {
    let w = scalesim::workload::generator::generate("b", &Default::default()).unwrap();
    let y = &w.demand;
    // Five full epochs, as the prototype trained (no early stop).
    let cfg = LstmConfig {
        patience: 10,
        ..LstmConfig::default()
    };
    let mut g = c.benchmark_group("lstm");
    g.sample_size(10);
    g.bench_function("train_7_days_5_epochs", |b| {
        b.iter(|| TrainedLstm::train(&y[..10_080], &cfg).unwrap())
    });
    let model = TrainedLstm::train(&y[..10_080], &cfg).unwrap();
    g.bench_function("rolling_inference_10080_decisions", |b| {
        b.iter(|| model.predict_windows(y, 10_080..20_160))
    });
    g.finish();
}

criterion_group!(benches, lstm);
criterion_main!(benches);
