//! Fuzzing (#13): byte-level mutation of a committed seed corpus (`tests/data/fuzz/`) fed
//! to the CSV and Parquet trace loaders, the request-log loader, the scenario parser and
//! the forecast-file parser, in-process, for a bounded time per target
//! (`SCALESIM_FUZZ_SECONDS`, default 5; CI runs 45). Every input must give `Ok` or an
//! error: a panic is a crasher, saved under `target/fuzz-crashers/` and failing the test.
//!
//! This harness is not coverage-guided (the mutations follow AFL's havoc stage: bit
//! flips, interesting values, deletions, duplications, splices of format tokens, from a
//! fixed seed, so a run is reproducible) and needs no nightly toolchain, so CI runs it.
//! The coverage-guided targets for the same entry points are cargo-fuzz/libFuzzer ones in
//! `fuzz/`, run by `scripts/fuzz.sh` (nightly; an 18-minute first build of polars).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use scalesim::trace::{self, TraceSpec};

#[path = "common/fuzz_specs.rs"]
mod fuzz_specs;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz")
            .join(name),
    )
    .unwrap()
}

/// xorshift64*, seeded per target.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens that matter to the parsers, spliced in whole.
const TOKENS: &[&[u8]] = &[
    b",",
    b"\n",
    b"\r\n",
    b"\"",
    b"\"\"",
    b"-",
    b"e308",
    b"1e400",
    b"NaN",
    b"inf",
    b"-0",
    b"9999999999999",
    b"2025-13-01T25:61:61Z",
    b"T",
    b"Z",
    b"+14:00",
    b"=",
    b"[",
    b"]",
    b"{",
    b"}",
    b"[[policies]]",
    b"kind = \"hpa\"",
    b"\"\"\"",
    b"0x",
    b"\xff\xfe",
    b"\0",
    b"18446744073709551616",
    b"[0, 1e9]",
    b"[]",
    b"PAR1",
];

/// One havoc round: 1–8 stacked mutations of `seed`.
fn mutate(seed: &[u8], r: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + r.below(8) {
        let n = b.len();
        match r.below(7) {
            0 if n > 0 => {
                let i = r.below(n);
                b[i] ^= 1 << r.below(8);
            }
            1 if n > 0 => {
                let i = r.below(n);
                b[i] = [0u8, 0x7f, 0x80, 0xff, b'9', b'-', b','][r.below(7)];
            }
            2 if n > 1 => {
                let i = r.below(n);
                let len = 1 + r.below((n - i).min(64));
                b.drain(i..i + len);
            }
            3 if n > 1 => {
                let i = r.below(n);
                let len = 1 + r.below((n - i).min(256));
                let chunk = b[i..i + len].to_vec();
                let at = r.below(b.len());
                b.splice(at..at, chunk);
            }
            4 => {
                let t = TOKENS[r.below(TOKENS.len())];
                let at = r.below(n + 1);
                b.splice(at..at, t.iter().copied());
            }
            5 if n > 0 => {
                // Overwrite a span with one repeated byte (long fields, runs of digits).
                let i = r.below(n);
                let len = 1 + r.below((n - i).min(32));
                let v = [b'9', b'a', b' ', b'0'][r.below(4)];
                b[i..i + len].fill(v);
            }
            _ if n > 4 => b.truncate(r.below(n)),
            _ => {}
        }
    }
    b
}

/// Mutates `seed` into `file` under a temporary folder and calls `target` for `secs`
/// seconds; a panic saves the input and fails.
fn fuzz(name: &str, seed_file: &str, file: &str, target: impl Fn(&Path)) {
    let secs: f64 = std::env::var("SCALESIM_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0);
    let seed = corpus(seed_file);
    let d = tempfile::tempdir().unwrap();
    // The scenario's trace sits next to it.
    std::fs::write(d.path().join("trace.csv"), corpus("trace.csv")).unwrap();
    let path = d.path().join(file);
    let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (start, mut runs) = (Instant::now(), 0u64);
    let mut crashers = Vec::new();
    while start.elapsed() < Duration::from_secs_f64(secs) {
        let input = mutate(&seed, &mut r);
        std::fs::write(&path, &input).unwrap();
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| target(&path))) {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashers");
            std::fs::create_dir_all(&dir).unwrap();
            let saved = dir.join(format!("{name}-{runs}-{file}"));
            std::fs::write(&saved, &input).unwrap();
            crashers.push(format!("{}: {why}", saved.display()));
        }
        runs += 1;
    }
    std::panic::set_hook(hook);
    eprintln!(
        "fuzz {name}: {runs} inputs in {secs} s, {} crashers",
        crashers.len()
    );
    assert!(runs > 0);
    assert!(crashers.is_empty(), "crashers:\n{}", crashers.join("\n"));
}

fn load_trace(spec: TraceSpec) {
    // Parquet is read in a child `sim` first (an abort there is an error here).
    std::env::set_var("SCALESIM_SIM_BINARY", env!("CARGO_BIN_EXE_sim"));
    // Ok or an error; either way, a usable result or a message.
    if let Err(e) = trace::load(&spec, "fuzz") {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn fuzz_csv_trace_loader() {
    fuzz("csv", "trace.csv", "t.csv", |p| {
        load_trace(fuzz_specs::csv_trace(p))
    });
}

#[test]
fn fuzz_parquet_trace_loader() {
    fuzz("parquet", "trace.parquet", "t.parquet", |p| {
        load_trace(fuzz_specs::parquet_trace(p))
    });
}

#[test]
fn fuzz_request_log_loader() {
    fuzz("requests", "requests.csv", "r.csv", |p| {
        load_trace(fuzz_specs::request_log(p))
    });
}

#[test]
fn fuzz_scenario_parser() {
    fuzz("scenario", "scenario.toml", "s.toml", |p| {
        if let Ok(sc) = scalesim::scenario::load(p) {
            // A parsed scenario must also prepare (trace, window, simulation) or say why.
            let _ = scalesim::sweep::prepare(&sc);
        }
    });
}

#[test]
fn fuzz_forecast_file_parser() {
    let w = trace::load(
        &TraceSpec::for_path(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/trace.csv"),
        ),
        "w",
    )
    .unwrap()
    .workload;
    fuzz("forecast", "forecast.csv", "f.csv", |p| {
        fuzz_specs::load_forecast(p, &w)
    });
}
