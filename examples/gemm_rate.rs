//! The fp32 matrix-product rate of the `gemm` crate (what the LSTM's training pass uses,
//! forecast/lstm/fused.rs) on one thread for the LSTM's shapes, as
//! `validation/lstm/gemm_rate.py` measures libtorch's. `validation/lstm/side_by_side.sh`
//! runs both.
//!   cargo run --release --features lstm --example gemm_rate

use std::time::Instant;

/// GFLOP/s of `c = a · b` (row-major [m, k] · [k, n]), median of 5 timed runs.
fn rate(m: usize, k: usize, n: usize) -> f64 {
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 53) % 97) as f32 / 97.0 - 0.5)
        .collect();
    let mut c = vec![0f32; m * n];
    let reps = (2e9 / (2 * m * k * n) as f64).ceil() as usize;
    let run = |c: &mut [f32]| {
        // SAFETY: the strides describe a, b and c's own row-major extents exactly.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            )
        }
    };
    for _ in 0..reps / 10 + 1 {
        run(&mut c);
    }
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..reps {
                run(&mut c);
            }
            (2 * m * k * n * reps) as f64 / t0.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[2]
}

fn main() {
    for (m, k, n, what) in [
        (
            128,
            64,
            256,
            "forward, one shard of a batch of 256 or a whole batch of 128",
        ),
        (64, 64, 256, "forward, one of two shards of a batch of 128"),
        (64, 256, 64, "backward dh, one of two shards"),
        (
            256,
            3776,
            64,
            "backward dW_hh, one shard (59 steps x 64 rows)",
        ),
    ] {
        println!(
            "gemm crate float32 {m:4}x{k}.{k}x{n}: {:6.1} GFLOP/s  ({what})",
            rate(m, k, n)
        );
    }
}
