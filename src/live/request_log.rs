//! The per-request log of a live run (`sim load --out`) and of its simulated twin
//! (`sim compare-live`): one CSV format, `at_ms,latency_ms,status,port,attempts,service_ms`,
//! written and read here only.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};

use crate::service::load::Outcome;
use crate::sim::RequestRecord;
use crate::trace::write::atomic_write;

pub const HEADER: &str = "at_ms,latency_ms,status,port,attempts,service_ms";

/// Writes `log` atomically (a missing service time is an empty field).
pub fn write(path: &Path, log: &[Outcome]) -> Result<()> {
    atomic_write(path, |f| {
        writeln!(f, "{HEADER}")?;
        for o in log {
            let svc = if o.service_ms.is_finite() {
                format!("{:.3}", o.service_ms)
            } else {
                String::new()
            };
            writeln!(
                f,
                "{:.3},{:.3},{},{},{},{svc}",
                o.at_ms, o.latency_ms, o.status, o.port, o.attempts
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Reads a log written by [`write`] (a log without `service_ms`, from before it was
/// recorded, reads it as NaN).
pub fn read(path: &Path) -> Result<Vec<Outcome>> {
    let df = crate::trace::read_table(path)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for need in ["at_ms", "latency_ms", "status"] {
        if !names.iter().any(|n| n == need) {
            bail!(
                "{}: no `{need}` column: a request log has the columns {HEADER} (`sim load --out` writes one)",
                path.display()
            );
        }
    }
    let col = |name: &str| crate::report::data::f64_column(&df, path, name);
    let opt = |name: &str| -> Result<Vec<f64>> {
        if names.iter().any(|n| n == name) {
            Ok(col(name)?)
        } else {
            Ok(vec![f64::NAN; df.height()])
        }
    };
    let (at, lat, status) = (col("at_ms")?, col("latency_ms")?, col("status")?);
    let (port, attempts, svc) = (opt("port")?, opt("attempts")?, opt("service_ms")?);
    if let Some(i) =
        (0..at.len()).find(|&i| !(at[i].is_finite() && lat[i].is_finite() && status[i].is_finite()))
    {
        bail!(
            "{}: row {} has no number in at_ms, latency_ms or status",
            path.display(),
            i + 2
        );
    }
    Ok((0..at.len())
        .map(|i| Outcome {
            at_ms: at[i],
            latency_ms: lat[i],
            status: status[i] as u16,
            port: if port[i].is_finite() {
                port[i] as u16
            } else {
                0
            },
            attempts: if attempts[i].is_finite() {
                attempts[i] as u8
            } else {
                1
            },
            service_ms: svc[i],
        })
        .collect())
}

/// A simulated request as the load generator would have logged it: served → 200,
/// dropped at a full queue → 503 (a live replica's answer then).
pub fn from_sim(r: &RequestRecord) -> Outcome {
    Outcome {
        at_ms: r.at_ms as f64,
        latency_ms: r.latency_ms as f64,
        status: if r.served { 200 } else { 503 },
        port: 0,
        attempts: 1,
        service_ms: if r.served {
            r.service_ms as f64
        } else {
            f64::NAN
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_a_missing_column() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.csv");
        let log = vec![
            from_sim(&RequestRecord {
                at_ms: 5,
                latency_ms: 120,
                service_ms: 100,
                served: true,
            }),
            from_sim(&RequestRecord {
                at_ms: 7,
                latency_ms: 0,
                service_ms: 0,
                served: false,
            }),
        ];
        write(&p, &log).unwrap();
        let back = read(&p).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].status, back[0].service_ms), (200, 100.0));
        assert_eq!(back[1].status, 503);
        assert!(back[1].service_ms.is_nan());
        std::fs::write(&p, "at_ms,status\n1,200\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("no `latency_ms` column"), "{e}");
    }
}
