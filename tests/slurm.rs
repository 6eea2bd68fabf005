//! The Slurm recipe (deploy/slurm) on a real one-node Slurm cluster (#17): a job array and
//! its merge give the folder one `sim sweep` gives, byte for byte; a cancelled task cancels
//! the merge instead of leaving it pending forever, and re-running the task with
//! `submit.sh --tasks` completes the same output; a task requeued while it runs resumes
//! and the merge waits for it, with the same output; a missing shard fails the merge
//! naming it. The cluster is started by scripts/slurm-cluster.sh and stopped again. Skipped (with
//! a message) where Slurm is not installed or the test is not root, unless
//! SCALESIM_REQUIRE_SLURM=1 (CI), where that is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{assert_same_tree, root, sweep, write};

const SCENARIO: &str = r#"
name = "slurm_grid"
seed = 5
[trace]
generator = { preset = "spiky", days = 3 }
[window]
train = "1d"
[simulation]
startup_delay_s = [0, 120]
[[forecasters]]
kind = "moving_average"
window = [5, 30]
[[policies]]
kind = "buffered"
buffer = [1.0, 1.2]
[[policies]]
kind = "hpa"
"#;

/// The cluster, stopped on drop when this test started it.
struct Cluster {
    conf: String,
    started: bool,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let available = Command::new("sh")
            .args([
                "-c",
                "command -v sbatch && command -v slurmctld && command -v munged",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        let is_root = unsafe { libc::geteuid() } == 0;
        if !available || !is_root {
            let why = format!(
                "Slurm recipe test skipped: {}",
                if available {
                    "not root"
                } else {
                    "slurm-wlm / munge not installed"
                }
            );
            assert!(
                std::env::var("SCALESIM_REQUIRE_SLURM").as_deref() != Ok("1"),
                "{why}"
            );
            eprintln!("{why}");
            return None;
        }
        let dir = std::env::var("SCALESIM_SLURM_DIR").unwrap_or("/tmp/scalesim-slurm".into());
        let conf = format!("{dir}/slurm.conf");
        // Already up (started by hand): use it and leave it running.
        let up = Command::new("sinfo")
            .env("SLURM_CONF", &conf)
            .args(["-h", "-o", "%T"])
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("idle")
            });
        if !up {
            let out = Command::new("bash")
                .arg(root().join("scripts/slurm-cluster.sh"))
                .arg("start")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "the cluster did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(Cluster { conf, started: !up })
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// `submit.sh [flag...] scenario shards out`, its job ids (array, merge).
    fn submit(&self, flags: &[&str], scenario: &Path, shards: u32, out: &Path) -> Vec<String> {
        let o = self
            .cmd("bash")
            .arg(root().join("deploy/slurm/submit.sh"))
            .args(flags)
            .arg(scenario)
            .arg(shards.to_string())
            .arg(out)
            .env("SIM", assert_cmd::cargo::cargo_bin("sim"))
            .env("SCALESIM_CPUS", "1")
            .env("SCALESIM_MEM", "1G")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "submit: {text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // "submitted sweep array 12 (…) and merge 13 -> …" / "submitted merge 14 of …":
        // the words after "array" and "merge".
        let words: Vec<&str> = text.split_whitespace().collect();
        words
            .windows(2)
            .filter(|w| w[0] == "array" || w[0] == "merge")
            .map(|w| w[1].to_string())
            .collect()
    }

    /// Waits until job `id` (all its tasks) has left the queue; its final state.
    fn wait(&self, id: &str) -> String {
        let t0 = Instant::now();
        loop {
            let q = self.cmd("squeue").args(["-h", "-j", id]).output().unwrap();
            if String::from_utf8_lossy(&q.stdout).trim().is_empty() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(300),
                "job {id} still queued"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        self.state(id)
    }

    fn state(&self, id: &str) -> String {
        let o = self
            .cmd("scontrol")
            .args(["-o", "show", "job", id])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        text.split_whitespace()
            .find_map(|w| w.strip_prefix("JobState="))
            .unwrap_or("?")
            .to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let _ = Command::new("bash")
                .arg(root().join("scripts/slurm-cluster.sh"))
                .arg("stop")
                .status();
        }
    }
}

fn log_text(out: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(out.join("slurm-logs")).unwrap() {
        s += &std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
    }
    s
}

#[test]
fn the_slurm_recipe_shards_merges_recovers_and_refuses_like_one_run() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    // On the shared file system of this one node: a folder outside the test's tempdir
    // parent is not needed, /tmp is local to every "node".
    let d = tempfile::tempdir().unwrap();
    // The file is named apart from the scenario's `name`, as the bug had it.
    let sc = write(d.path(), "grid_file.toml", SCENARIO);
    sweep(&sc, d.path().join("single")).success();
    let single = d.path().join("single/slurm_grid");

    // 1. The array and its merge: the same folder as one run.
    let out: PathBuf = d.path().join("out");
    let ids = cluster.submit(&[], &sc, 3, &out);
    assert_eq!(cluster.wait(&ids[1]), "COMPLETED", "{}", log_text(&out));
    assert_same_tree(&single, &out.join("slurm_grid"));
    let logs = log_text(&out);
    assert!(!logs.contains('\u{1b}'), "colour codes in the logs: {logs}");

    // 2. A task cancelled: the merge is cancelled with it, not left pending; the task
    //    re-run alone (still shard 2 of 3) and a new merge give the same folder.
    let out2 = d.path().join("out2");
    let ids = cluster.submit(&[], &sc, 3, &out2);
    let task = format!("{}_1", ids[0]);
    let cancel = cluster.cmd("scancel").arg(&task).status().unwrap();
    assert!(cancel.success());
    let merge_state = cluster.wait(&ids[1]);
    assert_ne!(merge_state, "COMPLETED", "the merge ran without shard 2");
    cluster.wait(&ids[0]);
    let again = cluster.submit(&["--tasks", "1"], &sc, 3, &out2);
    assert_eq!(cluster.wait(&again[1]), "COMPLETED", "{}", log_text(&out2));
    assert_same_tree(&single, &out2.join("slurm_grid"));

    // 3. A missing shard: the merge fails and says which.
    std::fs::remove_dir_all(out2.join("slurm_grid.shard-3-of-3")).unwrap();
    let merge = cluster.submit(&["--merge"], &sc, 3, &out2);
    assert_eq!(cluster.wait(&merge[0]), "FAILED");
    let logs = log_text(&out2);
    assert!(
        logs.contains("shard 3 of 3 (array task 2)"),
        "the merge's log does not name the shard: {logs}"
    );

    // 4. A task requeued while it runs (`scontrol requeue`, as a node failure or a
    //    preemption does): it starts again, resumes from its checkpoints, and the merge
    //    waits for it and gives the same folder. A heavier sweep, so that the task is
    //    caught running.
    let heavy = write(
        d.path(),
        "heavy.toml",
        &SCENARIO
            .replace("slurm_grid", "slurm_heavy")
            .replace("days = 3", "days = 20")
            .replace("[simulation]\n", "[simulation]\nfidelity = \"requests\"\n"),
    );
    sweep(&heavy, d.path().join("single")).success();
    let out3 = d.path().join("out3");
    let ids = cluster.submit(&[], &heavy, 3, &out3);
    let task = format!("{}_1", ids[0]);
    let t0 = Instant::now();
    while !cluster.state(&task).starts_with("RUNNING") {
        assert!(t0.elapsed() < Duration::from_secs(120), "task 1 never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let requeued = cluster
        .cmd("scontrol")
        .args(["requeue", &task])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&requeued.stderr).to_string();
    if requeued.status.success() {
        assert_eq!(cluster.wait(&ids[1]), "COMPLETED", "{}", log_text(&out3));
        assert_same_tree(
            &d.path().join("single/slurm_heavy"),
            &out3.join("slurm_heavy"),
        );
        // It really ran twice.
        let o = cluster
            .cmd("scontrol")
            .args(["-o", "show", "job", &task])
            .output()
            .unwrap();
        let show = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(show.contains("Restarts=1"), "{show}");
    } else {
        // It finished in the meantime: nothing was requeued, and the merge is whole.
        assert!(
            text.contains("completed") || text.contains("finished"),
            "{text}"
        );
        eprintln!("slurm: task 1 finished before it could be requeued: {text}");
    }

    // 0 shards and a bad count are refused before anything is submitted.
    let o = cluster
        .cmd("bash")
        .arg(root().join("deploy/slurm/submit.sh"))
        .arg(&sc)
        .arg("0")
        .arg(d.path().join("none"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 1"));
}
