//! Writing workloads and tables: CSV (the prototype's columns) and Parquet,
//! always through a temporary file that is renamed into place.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, Duration, Timelike};
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::workload::Workload;

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Writes a polars frame as Parquet, atomically.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<()> {
    let mut err = None;
    atomic_write(path, |f| {
        ParquetWriter::new(f).finish(df).map(|_| ()).map_err(|e| {
            err = Some(e);
            std::io::Error::other("parquet writer failed")
        })
    })
    .map_err(|e| match err.take() {
        Some(source) => Error::Polars {
            path: path.to_path_buf(),
            source,
        },
        None => e,
    })
}

/// Writes a polars frame as CSV, atomically.
pub fn write_csv(path: &Path, df: &mut DataFrame) -> Result<()> {
    let mut err = None;
    atomic_write(path, |f| {
        CsvWriter::new(f).finish(df).map_err(|e| {
            err = Some(e);
            std::io::Error::other("CSV writer failed")
        })
    })
    .map_err(|e| match err.take() {
        Some(source) => Error::Polars {
            path: path.to_path_buf(),
            source,
        },
        None => e,
    })
}

/// The prototype's columns for a generated workload:
/// `timestamp,req_per_min,hour,dayofweek,is_event`.
pub fn workload_frame(w: &Workload) -> Result<DataFrame> {
    let start = w
        .start
        .ok_or_else(|| Error::Config("a generated workload needs a start time".into()))?;
    let n = w.len();
    let mut ts = Vec::with_capacity(n);
    let mut hour = Vec::with_capacity(n);
    let mut dow = Vec::with_capacity(n);
    for i in 0..n {
        let t = start + Duration::milliseconds((i as u64 * w.step_ms) as i64);
        ts.push(t.format("%Y-%m-%d %H:%M:%S").to_string());
        hour.push(t.hour() as i64);
        dow.push(t.weekday().num_days_from_monday() as i64);
    }
    let events: Vec<i64> = w
        .regressor("is_event")
        .map(|r| r.iter().map(|&x| x as i64).collect())
        .unwrap_or_else(|| vec![0; n]);
    DataFrame::new(
        n,
        vec![
            Column::new("timestamp".into(), ts),
            Column::new("req_per_min".into(), w.demand.clone()),
            Column::new("hour".into(), hour),
            Column::new("dayofweek".into(), dow),
            Column::new("is_event".into(), events),
        ],
    )
    .map_err(|source| Error::Polars {
        path: w.name.clone().into(),
        source,
    })
}

/// Writes a workload as CSV with full float precision (shortest round-trip form).
pub fn write_workload_csv(path: &Path, w: &Workload) -> Result<()> {
    let df = workload_frame(w)?;
    let ts = df.column("timestamp").unwrap().str().unwrap().clone();
    let hour = df.column("hour").unwrap().i64().unwrap().clone();
    let dow = df.column("dayofweek").unwrap().i64().unwrap().clone();
    let ev = df.column("is_event").unwrap().i64().unwrap().clone();
    atomic_write(path, |f| {
        let mut b = std::io::BufWriter::new(f);
        writeln!(b, "timestamp,req_per_min,hour,dayofweek,is_event")?;
        for i in 0..w.len() {
            writeln!(
                b,
                "{},{},{},{},{}",
                ts.get(i).unwrap(),
                w.demand[i],
                hour.get(i).unwrap(),
                dow.get(i).unwrap(),
                ev.get(i).unwrap()
            )?;
        }
        b.flush()
    })
}

/// Writes a workload as Parquet with the same columns as the CSV.
pub fn write_workload_parquet(path: &Path, w: &Workload) -> Result<()> {
    let mut df = workload_frame(w)?;
    write_parquet(path, &mut df)
}
