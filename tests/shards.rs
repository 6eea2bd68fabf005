//! Sharded and resumable sweeps: shards merged equal one run, a killed sweep resumes to
//! the same output, bad shard specs and mixed merges are refused.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_same_tree, files, sim, sweep, sweep_resume, write};
use predicates::prelude::*;

const SWEEP: &str = r#"
name = "grid"
seed = 21
[trace]
generator = { preset = "spiky", days = 4 }
[window]
train = "2d"
[simulation]
startup_delay_s = [0, 60, 300]
[[forecasters]]
kind = "seasonal_naive"
period = 1440
[[forecasters]]
kind = "moving_average"
window = [5, 30]
[[forecasters]]
kind = "holt_winters"
period = 1440
[[policies]]
kind = "buffered"
buffer = [1.0, 1.1, 1.2, 1.3]
[[policies]]
kind = "policy_aware"
cooldown = [3, 10]
[[policies]]
kind = "hpa"
"#;

/// A one-thread sweep of a `grid` scenario with a checkpoint every 2 cells, returned
/// running once it has written `checkpoints` of them.
fn slow_sweep_with_checkpoints(sc: &Path, out: &Path, checkpoints: usize) -> std::process::Child {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sim"))
        .arg("sweep")
        .arg(sc)
        .args(["-q", "--threads", "1", "--checkpoint-every", "2", "--out"])
        .arg(out)
        .spawn()
        .unwrap();
    let rows = out.join(".grid.partial/rows");
    let start = Instant::now();
    while std::fs::read_dir(&rows).map(|r| r.count()).unwrap_or(0) < checkpoints {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoints appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn four_shards_merged_equal_one_run_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    let sc = write(d.path(), "grid.toml", SWEEP);
    sweep(&sc, d.path().join("single")).success();
    let shards = d.path().join("shards");
    // Four separate processes, as on four machines.
    let mut children: Vec<_> = (1..=4)
        .map(|k| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("sim"))
                .arg("sweep")
                .arg(&sc)
                .args([
                    "-q",
                    "--threads",
                    "1",
                    "--shard",
                    &format!("{k}/4"),
                    "--out",
                ])
                .arg(&shards)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children.iter_mut() {
        assert!(c.wait().unwrap().success());
    }
    let sizes: Vec<usize> = (1..=4)
        .map(|k| files(&shards.join(format!("grid.shard-{k}-of-4/timelines"))).len())
        .collect();
    // 3 sims × (4 forecasters × 6 policies + 1 hpa) = 75 cells, balanced.
    assert_eq!(sizes.iter().sum::<usize>(), 75);
    assert!(sizes.iter().all(|&s| (18..=20).contains(&s)), "{sizes:?}");
    let mut merge = sim();
    merge.arg("merge");
    for k in 1..=4 {
        merge.arg(shards.join(format!("grid.shard-{k}-of-4")));
    }
    merge
        .arg("--out")
        .arg(d.path().join("merged"))
        .assert()
        .success();
    assert_same_tree(&d.path().join("single/grid"), &d.path().join("merged/grid"));
    // The summary's Parquet has the record's types, not ones inferred from the CSV text:
    // counts unsigned, every swept parameter a float (empty where a cell has none).
    use polars::prelude::DataType;
    let df = common::read_parquet(&d.path().join("merged/grid/metrics_summary.parquet"));
    for (col, t) in [
        ("cell", DataType::UInt64),
        ("under_events", DataType::UInt64),
        ("seed", DataType::UInt64),
        ("cost_replica_hours", DataType::Float64),
        ("policy", DataType::String),
    ] {
        assert_eq!(df.column(col).unwrap().dtype(), &t, "{col}");
    }
    let params: Vec<_> = df
        .get_column_names()
        .into_iter()
        .filter(|c| c.contains('.'))
        .collect();
    assert!(!params.is_empty());
    for c in params {
        assert_eq!(df.column(c).unwrap().dtype(), &DataType::Float64, "{c}");
    }
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_to_the_same_output() {
    let d = tempfile::tempdir().unwrap();
    // Request-level cells, one checkpoint per 2 cells: slow enough to kill mid-run.
    let text = SWEEP
        .replace(
            "[simulation]",
            "[simulation]\nfidelity = \"requests\"\nrequests.concurrency = 2",
        )
        .replace("days = 4", "days = 6");
    let sc = write(d.path(), "grid.toml", &text);
    let out = d.path().join("out");
    let mut child = slow_sweep_with_checkpoints(&sc, &out, 3);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // A write cut off by the kill, as a killed process leaves it.
    std::fs::write(
        out.join(".grid.partial/timelines/.cell_000074.parquet.tmp-1"),
        b"half",
    )
    .unwrap();
    assert!(
        !out.join("grid").exists(),
        "no results are published by a killed run"
    );
    sim()
        .arg("sweep")
        .arg(&sc)
        .args(["-q", "--resume", "--checkpoint-every", "2", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("from checkpoints"));
    assert!(!out.join(".grid.partial").exists());
    sim()
        .arg("sweep")
        .arg(&sc)
        .args(["-q", "--checkpoint-every", "2", "--out"])
        .arg(d.path().join("clean"))
        .assert()
        .success();
    assert_same_tree(&out.join("grid"), &d.path().join("clean/grid"));
    let summary = std::fs::read_to_string(out.join("grid/metrics_summary.csv")).unwrap();
    let cells: Vec<&str> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(
        cells,
        (0..75).map(|i| i.to_string()).collect::<Vec<_>>(),
        "no lost or duplicated rows"
    );
}

#[test]
fn resume_refuses_checkpoints_from_other_inputs() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    std::fs::create_dir_all(out.join(".grid.partial/rows")).unwrap();
    std::fs::write(out.join(".grid.partial/fingerprint"), "something else").unwrap();
    let sc = write(d.path(), "grid.toml", SWEEP);
    sweep_resume(&sc, &out)
        .failure()
        .stderr(predicate::str::contains("cannot resume"));
    // Without --resume the stale checkpoints are discarded and the sweep runs.
    sweep(&sc, &out).success();
}

#[test]
fn bad_shard_specs_and_mixed_merges_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let sc = write(d.path(), "grid.toml", SWEEP);
    for (spec, msg) in [
        ("0/4", "numbered from 1"),
        ("5/4", "only 4 shards"),
        ("x", "K/N"),
    ] {
        sim()
            .arg("sweep")
            .arg(&sc)
            .args(["--shard", spec])
            .assert()
            .failure()
            .stderr(predicate::str::contains(msg));
    }
    let other = write(
        d.path(),
        "other.toml",
        &SWEEP.replace("seed = 21", "seed = 22"),
    );
    let out = d.path().join("s");
    for k in 1..=2 {
        sim()
            .arg("sweep")
            .arg(&sc)
            .args(["-q", "--shard", &format!("{k}/2"), "--out"])
            .arg(&out)
            .assert()
            .success();
    }
    sim()
        .arg("sweep")
        .arg(&other)
        .args(["-q", "--shard", "2/2", "--out"])
        .arg(d.path().join("o"))
        .assert()
        .success();
    sim()
        .arg("merge")
        .arg(out.join("grid.shard-1-of-2"))
        .arg(d.path().join("o/grid.shard-2-of-2"))
        .arg("--out")
        .arg(d.path().join("m"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("mixed sweeps"));
    sim()
        .arg("merge")
        .arg(out.join("grid.shard-1-of-2"))
        .arg("--out")
        .arg(d.path().join("m"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("missing shard(s) 2/2"));
    sim()
        .arg("merge")
        .arg(d.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a shard folder"));
    assert!(!d.path().join("m/grid").exists());
}

#[test]
fn cluster_recipes_shard_and_merge_like_one_run() {
    let d = tempfile::tempdir().unwrap();
    // Named apart from its `name`: merge.sh must find `grid.shard-*`, not `file.shard-*`.
    let sc = write(d.path(), "grid_scenario_file.toml", SWEEP);
    sweep(&sc, d.path().join("single")).success();
    let out = d.path().join("shared");
    let bin = assert_cmd::cargo::cargo_bin("sim");
    let entry = common::root().join("deploy/shard-entry.sh");
    // Shards 1–2 as Slurm array tasks, 3–4 as Kubernetes Indexed Job pods. Task 1 is
    // re-submitted alone (`sbatch --array=1`: its array starts at 1 and counts 1), and
    // must still run shard 2, not shard 1 again (#17).
    for i in 0..4 {
        let mut c = std::process::Command::new("bash");
        c.arg(&entry)
            .env("SCENARIO", &sc)
            .env("OUT", &out)
            .env("SIM", &bin)
            .env("THREADS", "1");
        if i < 2 {
            c.env("SLURM_ARRAY_TASK_ID", i.to_string())
                .env("SLURM_ARRAY_TASK_COUNT", if i == 1 { "1" } else { "4" })
                .env("SLURM_ARRAY_TASK_MIN", i.to_string())
                .env("SHARDS", "4");
        } else {
            c.env("JOB_COMPLETION_INDEX", i.to_string())
                .env("SHARDS", "4");
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = std::process::Command::new("bash")
        .arg(common::root().join("deploy/merge.sh"))
        .env("SCENARIO", &sc)
        .env("OUT", &out)
        .env("SHARDS", "4")
        .env("SIM", &bin)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_tree(&d.path().join("single/grid"), &out.join("grid"));
    // The Kubernetes manifests keep completions and SHARDS equal.
    let job = std::fs::read_to_string(common::root().join("deploy/k8s/sweep-job.yaml")).unwrap();
    let completions = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions: "))
        .unwrap();
    assert!(job.contains("completionMode: Indexed"));
    assert!(
        job.contains(&format!("value: \"{completions}\"")),
        "SHARDS must equal completions ({completions})"
    );
}

#[test]
fn a_kill_at_each_step_of_the_results_swap_recovers() {
    // Regression (#13): killed at the rename of `.partial` → the results folder, the
    // results path vanished, the old results stayed hidden and --resume refused.
    let d = tempfile::tempdir().unwrap();
    let sc = write(d.path(), "grid.toml", SWEEP);
    sweep(&sc, d.path().join("clean")).success();
    let crash = |step: &str, out: &Path| {
        let st = std::process::Command::new(assert_cmd::cargo::cargo_bin("sim"))
            .arg("sweep")
            .arg(&sc)
            .args(["-q", "--out"])
            .arg(out)
            .env("SCALESIM_CRASH_BEFORE", step)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!st.success(), "{step}: the hook aborts the run");
    };
    for step in ["rename_old", "rename_new", "remove_old"] {
        let out = d.path().join(step);
        sweep(&sc, &out).success();
        std::fs::write(out.join("grid/earlier.txt"), "the previous results").unwrap();
        crash(step, &out);
        let (grid, old) = (out.join("grid"), out.join(".grid.old"));
        match step {
            "rename_old" => assert!(grid.join("earlier.txt").exists() && !old.exists()),
            "rename_new" => assert!(!grid.exists() && old.join("earlier.txt").exists()),
            _ => assert!(grid.exists() && !grid.join("earlier.txt").exists() && old.exists()),
        }
        // --resume finishes the swap without recomputing a cell.
        sweep_resume(&sc, &out)
            .success()
            .stderr(predicate::str::contains("75 cells (75 from checkpoints)"));
        for left in [".grid.old", ".grid.partial", ".grid.complete"] {
            assert!(!out.join(left).exists(), "{step}: {left} left behind");
        }
        assert_same_tree(&grid, &d.path().join("clean/grid"));
    }
    // A plain rerun after a crash restores order too, and recomputes.
    let out = d.path().join("plain");
    sweep(&sc, &out).success();
    crash("rename_new", &out);
    sweep(&sc, &out).success();
    assert!(!out.join(".grid.old").exists() && !out.join(".grid.complete").exists());
    assert_same_tree(&out.join("grid"), &d.path().join("clean/grid"));
}

#[test]
fn a_second_sweep_into_the_same_folder_is_refused_naming_the_first() {
    // Regression (#13): two sweeps into one --out failed obscurely and left a stale
    // `.partial`.
    let d = tempfile::tempdir().unwrap();
    let text = SWEEP
        .replace("[simulation]", "[simulation]\nfidelity = \"requests\"")
        .replace("days = 4", "days = 6");
    let sc = write(d.path(), "grid.toml", &text);
    let out = d.path().join("out");
    let mut first = slow_sweep_with_checkpoints(&sc, &out, 1);
    let rows = out.join(".grid.partial/rows");
    sweep(&sc, &out)
        .failure()
        .stderr(predicate::str::contains(format!(
            "another sim sweep or merge (pid {}) is writing",
            first.id()
        )));
    assert!(rows.exists(), "the first sweep's work is untouched");
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn a_sweep_too_big_for_the_disk_is_refused_before_it_runs_and_big_ones_log_progress() {
    // Regression (#13): a 10⁷-cell sweep started with no warning, needed ~120 GB of
    // timelines on a disk with 64 GB free, and printed nothing when stderr was not a
    // terminal.
    let d = tempfile::tempdir().unwrap();
    let replicas: Vec<String> = (1..=1000).map(|r| r.to_string()).collect();
    let sc = write(
        d.path(),
        "big.toml",
        &format!(
            "name = \"big\"\n[trace]\ngenerator = {{ preset = \"smooth\", days = 2 }}\n[window]\ntrain = \"1d\"\n[[policies]]\nkind = \"static\"\nreplicas = [{}]\n",
            replicas.join(", ")
        ),
    );
    // 1,000 cells of 1,440-step timelines: about 76 MB, against 10 MB "free".
    let out = sim()
        .env("SCALESIM_AVAILABLE_BYTES", "10000000")
        .args(["sweep", "-q", "--out"])
        .arg(d.path().join("out"))
        .arg(&sc)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("1000 cells would write about 0.1 GB"), "{err}");
    assert!(
        err.contains("only 0.0 GB are free") && err.contains("timelines = false"),
        "{err}"
    );
    assert!(
        err.contains("--allow-large-output") && !err.contains("--resume"),
        "{err}"
    );
    assert!(!d.path().join("out/big").exists(), "nothing written");
    // Asked to proceed, it runs; with stderr not a terminal it logs each tenth.
    let out = sim()
        .env("SCALESIM_AVAILABLE_BYTES", "10000000")
        .args([
            "sweep",
            "--allow-large-output",
            "--checkpoint-every",
            "100",
            "--out",
        ])
        .arg(d.path().join("out"))
        .arg(&sc)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("sweep big: 500 of 1000 cells done"), "{err}");
    assert_eq!(files(&d.path().join("out/big/timelines")).len(), 1000);
}
