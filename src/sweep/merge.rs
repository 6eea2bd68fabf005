//! `sim merge`: combining the shard folders of one sweep into the folder an unsharded
//! run would have written, byte for byte.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::swap::Results;
use super::{outputs, ShardInfo};
use crate::error::{Error, Result};
use crate::trace::write::atomic_write;

fn read_info(dir: &Path) -> Result<ShardInfo> {
    let path = dir.join("shard.json");
    if !dir.exists() {
        return Err(Error::bad_file(
            dir,
            "does not exist: that shard has not run or has not finished (re-run it; on Slurm: deploy/slurm/submit.sh --tasks K …)",
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(|_| {
        Error::bad_file(dir, "not a shard folder (no shard.json): pass the folders written by `sim sweep --shard K/N`")
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::bad_file(&path, format!("unreadable shard metadata: {e}")))
}

/// Merges `dirs` (every shard of one sweep) into `out_dir/<scenario>/`.
pub fn merge(dirs: &[PathBuf], out_dir: &Path) -> Result<PathBuf> {
    if dirs.is_empty() {
        return Err(Error::Config(
            "nothing to merge: pass the shard folders".into(),
        ));
    }
    let infos = dirs
        .iter()
        .map(|d| read_info(d))
        .collect::<Result<Vec<_>>>()?;
    let first = &infos[0];
    for (d, i) in dirs.iter().zip(&infos) {
        if i.scenario != first.scenario
            || i.manifest_sha256 != first.manifest_sha256
            || i.of != first.of
        {
            return Err(Error::Config(format!(
                "mixed sweeps: {} is shard {}/{} of '{}' (manifest {}), but {} is shard {}/{} of '{}' (manifest {}); merge the shards of one sweep only",
                dirs[0].display(), first.shard, first.of, first.scenario, &first.manifest_sha256[..12],
                d.display(), i.shard, i.of, i.scenario, &i.manifest_sha256[..12]
            )));
        }
    }
    let mut by_index: BTreeMap<usize, &Path> = BTreeMap::new();
    for (d, i) in dirs.iter().zip(&infos) {
        if let Some(other) = by_index.insert(i.shard, d) {
            return Err(Error::Config(format!(
                "shard {}/{} given twice: {} and {}",
                i.shard,
                i.of,
                other.display(),
                d.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=first.of)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{}", first.of))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Config(format!(
            "incomplete sweep '{}': missing shard(s) {}",
            first.scenario,
            missing.join(", ")
        )));
    }
    let name = first.scenario.clone();
    let results = Results::new(out_dir, &name);
    let _lock = results.lock()?;
    results.recover()?;
    let tmp = out_dir.join(format!(".{name}.merge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = assemble(dirs, &infos, &tmp);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    results.install(&tmp)?;
    Ok(results.dest())
}

fn lines(path: &Path) -> Result<Vec<String>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    std::io::BufReader::new(f)
        .lines()
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(path, e))
}

fn assemble(dirs: &[PathBuf], infos: &[ShardInfo], tmp: &Path) -> Result<()> {
    let manifest = std::fs::read(dirs[0].join("manifest.json"))
        .map_err(|e| Error::io(dirs[0].join("manifest.json"), e))?;
    let total: usize = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|m| m["cells"].as_u64())
        .ok_or_else(|| Error::bad_file(dirs[0].join("manifest.json"), "no cell count"))?
        as usize;
    let mut header = None;
    let mut rows: BTreeMap<usize, String> = BTreeMap::new();
    let mut acc_header = None;
    let mut acc: BTreeMap<usize, String> = BTreeMap::new();
    // Replicated sweeps: every replication's rows, by (replication, cell).
    let mut rep_header = None;
    let mut reps: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for (d, info) in dirs.iter().zip(infos) {
        let path = d.join(super::replicate::ROWS_CSV);
        if path.exists() {
            let mut ls = lines(&path)?.into_iter();
            rep_header.get_or_insert(ls.next().unwrap_or_default());
            for line in ls {
                let mut f = line.split(',');
                let key = (
                    f.next().and_then(|r| r.parse().ok()),
                    f.nth(1).and_then(|c| c.parse().ok()),
                );
                let (Some(r), Some(c)) = key else {
                    return Err(Error::bad_file(
                        &path,
                        "a row has no replication or cell index",
                    ));
                };
                reps.insert((r, c), line);
            }
        }
        let path = d.join("metrics_summary.csv");
        let mut ls = lines(&path)?.into_iter();
        header.get_or_insert(ls.next().unwrap_or_default());
        for line in ls {
            let cell: usize = line
                .split(',')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| Error::bad_file(&path, "a row has no cell index"))?;
            if rows.insert(cell, line).is_some() {
                return Err(Error::bad_file(
                    &path,
                    format!("cell {cell} appears in two shards"),
                ));
            }
        }
        let acc_lines = lines(&d.join("forecast_accuracy.csv"))?;
        if let Some((h, body)) = acc_lines.split_first() {
            acc_header.get_or_insert(h.clone());
            for (f, line) in info.forecasters.iter().zip(body) {
                acc.insert(*f, line.clone());
            }
        }
        // Timelines are disjoint between shards; a forecast used by several shards is
        // the same file in each, so a later copy replaces an identical one.
        for sub in ["timelines", "forecasts", super::BOOTSTRAP_DIR] {
            copy_folder(&d.join(sub), &tmp.join(sub))?;
        }
    }
    if rows.len() != total {
        return Err(Error::Config(format!(
            "the shards hold {} of the sweep's {total} cells",
            rows.len()
        )));
    }
    let csv = tmp.join("metrics_summary.csv");
    atomic_write(&csv, |f| {
        let mut b = std::io::BufWriter::new(f);
        writeln!(b, "{}", header.unwrap_or_default())?;
        for line in rows.values() {
            writeln!(b, "{line}")?;
        }
        b.flush()
    })?;
    outputs::csv_to_parquet(&csv, &tmp.join("metrics_summary.parquet"))?;
    if let Some(h) = &rep_header {
        let path = tmp.join(super::replicate::ROWS_CSV);
        atomic_write(&path, |f| {
            let mut b = std::io::BufWriter::new(f);
            writeln!(b, "{h}")?;
            for line in reps.values() {
                writeln!(b, "{line}")?;
            }
            b.flush()
        })?;
        outputs::csv_to_parquet(&path, &tmp.join(super::replicate::ROWS_PARQUET))?;
    }
    super::attribution::write(tmp)?;
    let baseline = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|m| m["statistics"]["compare_to"].as_str().map(str::to_string));
    if let Some(b) = baseline {
        super::comparisons::write(tmp, &b)?;
    }
    atomic_write(&tmp.join("forecast_accuracy.csv"), |f| {
        if let Some(h) = &acc_header {
            writeln!(f, "{h}")?;
        }
        for line in acc.values() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    })?;
    atomic_write(&tmp.join("manifest.json"), |f| f.write_all(&manifest))
}

fn copy_folder(from: &Path, to: &Path) -> Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for e in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let e = e.map_err(|e| Error::io(from, e))?;
        let dest = to.join(e.file_name());
        std::fs::copy(e.path(), &dest).map_err(|err| Error::io(&dest, err))?;
    }
    Ok(())
}
