//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `sim` binary, run from the repository root.
pub fn sim() -> Command {
    let mut c = Command::cargo_bin("sim").expect("sim binary");
    c.current_dir(root());
    c
}

/// `sim sweep -q <scenario> --out <out>`, run and ready for assertions.
pub fn sweep(scenario: impl AsRef<Path>, out: impl AsRef<Path>) -> assert_cmd::assert::Assert {
    sim()
        .arg("sweep")
        .arg(scenario.as_ref())
        .args(["-q", "--out"])
        .arg(out.as_ref())
        .assert()
}

/// `sim sweep -q --threads 1 <scenario> --out <out>`, which must succeed.
pub fn sweep_one_thread(scenario: impl AsRef<Path>, out: impl AsRef<Path>) {
    sim()
        .args(["sweep", "-q", "--threads", "1", "--out"])
        .arg(out.as_ref())
        .arg(scenario.as_ref())
        .assert()
        .success();
}

/// `sim sweep -q --resume <scenario> --out <out>`, run and ready for assertions.
pub fn sweep_resume(
    scenario: impl AsRef<Path>,
    out: impl AsRef<Path>,
) -> assert_cmd::assert::Assert {
    sim()
        .arg("sweep")
        .arg(scenario.as_ref())
        .args(["-q", "--resume", "--out"])
        .arg(out.as_ref())
        .assert()
}

/// A Parquet file as a polars frame.
pub fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::SerReader;
    polars::prelude::ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// All files under `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A float column of a frame (no nulls).
pub fn f64_col(df: &polars::prelude::DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// An unsigned column of a frame (no nulls).
pub fn u64_col(df: &polars::prelude::DataFrame, name: &str) -> Vec<u64> {
    df.column(name)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// The stderr of a `sim sweep` that must fail.
pub fn sweep_err(scenario: impl AsRef<Path>, out: impl AsRef<Path>) -> String {
    String::from_utf8_lossy(&sweep(scenario, out).failure().get_output().stderr).to_string()
}

/// Asserts that two folders hold the same files with the same bytes.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let fa = files(a);
    assert_eq!(fa, files(b), "same files");
    assert!(!fa.is_empty());
    for f in fa {
        assert_eq!(
            std::fs::read(a.join(&f)).unwrap(),
            std::fs::read(b.join(&f)).unwrap(),
            "{}",
            f.display()
        );
    }
}

/// `sim forecast` of a naive model on the seed trace (run.csv, trained to 2025-01-08),
/// `horizon` steps into `out`, not yet run.
pub fn naive_forecast(horizon: &str, out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("sim"));
    c.args([
        "forecast",
        "--model",
        "naive",
        "--value-column",
        "req_per_min",
        "--train-until",
        "2025-01-08 00:00:00",
        "--horizon",
        horizon,
        "--out",
    ])
    .arg(out)
    .arg("--input")
    .arg(root().join("data/seed/run.csv"));
    c
}

/// Runs `scenario` (named `name`) as two shards under `dir/shards` and merges them into
/// `dir/merged`; returns the merged sweep's folder.
pub fn sweep_in_two_shards(scenario: &Path, dir: &Path, name: &str) -> PathBuf {
    for k in 1..=2 {
        sim()
            .args(["sweep", "-q", "--shard", &format!("{k}/2"), "--out"])
            .arg(dir.join("shards"))
            .arg(scenario)
            .assert()
            .success();
    }
    sim()
        .arg("merge")
        .arg(dir.join(format!("shards/{name}.shard-1-of-2")))
        .arg(dir.join(format!("shards/{name}.shard-2-of-2")))
        .arg("--out")
        .arg(dir.join("merged"))
        .assert()
        .success();
    dir.join("merged").join(name)
}

/// Asserts that `files` are byte-identical in the folders `a` and `b`.
pub fn same_files(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// A CSV written unquoted by the sweep: header and rows of fields.
pub fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut l = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect::<Vec<_>>());
    (l.next().unwrap(), l.collect())
}

/// The index of column `name` in `header`.
pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no {name} in {header:?}"))
}
