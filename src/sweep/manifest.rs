//! The manifest: what a sweep was made from (inputs with hashes, seed, version, window).
//! It holds nothing that varies between runs, so identical inputs give identical bytes.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::prepare::Prepared;
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(sha256_hex(&bytes))
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// SHA-256 of a series (its values as little-endian f64 bytes), as model cards record it.
pub fn series_sha256(y: &[f64]) -> String {
    let mut h = Sha256::new();
    for v in y {
        h.update(v.to_le_bytes());
    }
    format!("{:x}", h.finalize())
}

/// How the intervals and comparisons were made.
fn statistics(sc: &Scenario, p: &Prepared) -> serde_json::Value {
    let n = sc.replications;
    serde_json::json!({
        "replications": n,
        "intervals": match (n > 1, p.bootstrap) {
            (true, _) => "mean over replications, 95 % Student-t half-width (<metric>_ci95)".to_string(),
            (false, Some(b)) => format!(
                "circular moving-block bootstrap over the test window, 95 % percentile intervals (<metric>_lo95, <metric>_hi95) of the sums and means over steps: {} resamples of {}-step blocks, seeded per simulation variant; request-mode cells: none",
                b.resamples, b.block
            ),
            (false, None) => "none (one replication)".to_string(),
        },
        "bootstrap": p.bootstrap.map(|b| serde_json::json!({"block_steps": b.block, "resamples": b.resamples})),
        "replication_seeds": "replication 0: the scenario's seeds; replication r > 0: each seed re-derived from (seed, r)",
        "compare_to": sc.compare_to,
        "comparison_test": sc.compare_to.as_ref().map(|_| {
            if n > 1 {
                "paired t-test over replications (common random numbers), Holm-corrected across cells"
            } else {
                "difference only (one replication)"
            }
        }),
    })
}

/// The manifest's JSON text.
pub fn manifest_text(sc: &Scenario, p: &Prepared, cells: usize) -> Result<String> {
    let mut inputs = vec![
        serde_json::json!({"path": sc.path.display().to_string(), "sha256": sha256_file(&sc.path)?}),
    ];
    for i in &p.inputs {
        inputs
            .push(serde_json::json!({"path": i.display().to_string(), "sha256": sha256_file(i)?}));
    }
    let manifest = serde_json::json!({
        "scalesim_version": env!("CARGO_PKG_VERSION"),
        "scenario": sc.name,
        "description": sc.description,
        "seed": sc.seed,
        "cells": cells,
        "inputs": inputs,
        "trace": {
            "steps": p.workload.len(),
            "step_ms": p.workload.step_ms,
            "start": p.workload.timestamp_label(0),
            "gaps_filled": p.gaps,
            "missing_steps": p.workload.missing.iter().filter(|&&m| m).count(),
        },
        "window": {"train_steps": p.train, "test_steps": p.test, "first_test_timestamp": p.workload.timestamp_label(p.train)},
        "forecast_horizon_steps": p.horizon,
        "warnings": p.warnings,
        "statistics": statistics(sc, p),
        "parameters": sc.raw,
    });
    Ok(serde_json::to_string_pretty(&manifest).expect("manifest serialises"))
}
