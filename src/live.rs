//! Live mode: the simulator's policies controlling real Docker replicas of an inference
//! service (the service itself and the load generator are [`crate::service`]), fed by a
//! real Prometheus. `backend` holds the replica and metrics backends, `docker` the
//! replicas, `prom` the metrics, `controller` the decision loop and `compare` the
//! live-versus-simulated comparison. This is the I/O side of the project;
//! the decisions themselves are the pure `policy` objects `sim sweep` uses.

pub mod backend;
pub mod calibrate;
pub mod compare;
pub mod config;
pub mod controller;
pub mod docker;
pub mod exporter;
pub mod forecast;
pub mod prom;
pub mod reconcile;
pub mod request_log;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

/// Label naming the service a container is a replica of; the controller touches nothing else.
pub const LABEL_SERVICE: &str = "scalesim.service";
/// Label with the 127.0.0.1 port a replica listens on.
pub const LABEL_PORT: &str = "scalesim.port";
/// Tag `sim image` gives the serving image.
pub const IMAGE: &str = "scalesim-serve:latest";

/// An exclusive lock per service: a second controller for the same service refuses to start.
#[derive(Debug)]
pub struct ServiceLock {
    _lock: crate::lockfile::LockFile,
    pub path: PathBuf,
}

/// Folder of the lock files: $SCALESIM_LOCK_DIR, $XDG_RUNTIME_DIR or the temporary folder.
fn lock_dir() -> PathBuf {
    std::env::var_os("SCALESIM_LOCK_DIR")
        .or_else(|| std::env::var_os("XDG_RUNTIME_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

impl ServiceLock {
    pub fn acquire(service: &str) -> Result<ServiceLock> {
        use crate::lockfile::{acquire, holder, LockError};
        let path = lock_dir().join(format!("scalesim-live-{service}.lock"));
        match acquire(&path) {
            Ok(lock) => Ok(ServiceLock { _lock: lock, path }),
            Err(LockError::Held { pid }) => bail!(
                "another `sim live`{} controls service '{service}' (lock {} is held): stop it first, or give this run another service.name",
                holder(pid),
                path.display()
            ),
            Err(LockError::Io(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}
