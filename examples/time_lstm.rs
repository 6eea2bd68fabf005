//! Times LSTM training on the data `validation/lstm/bench_python.py` trains PyTorch on
//! (run.csv's first week, 10,080 one-minute steps; the prototype's configuration, five
//! full epochs) and prints the median of R runs. `validation/lstm/side_by_side.sh` runs
//! it alternately with the Python benchmark.
//!   cargo run --release --features lstm --example time_lstm -- [ROUNDS] [GRADIENT_SHARDS]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let shards: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("data/seed/run.csv")).expect("data/seed/run.csv");
    let y: Vec<f64> = text
        .lines()
        .skip(1)
        .take(10_080)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let cfg = scalesim::forecast::lstm::LstmConfig {
        patience: 10,
        gradient_shards: shards,
        ..Default::default()
    };
    let mut times = Vec::new();
    for _ in 0..rounds {
        let t0 = std::time::Instant::now();
        let m = scalesim::forecast::lstm::TrainedLstm::train(&y, &cfg).expect("trains");
        times.push(t0.elapsed().as_secs_f64());
        assert_eq!(m.report.epochs_run, 5);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "rust train 7 days, 5 epochs, {shards} gradient shard(s): median {:.3} s ({times:?})",
        times[times.len() / 2]
    );
}
