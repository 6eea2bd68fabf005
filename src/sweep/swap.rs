//! Putting finished results in place, safe at every point of a crash, and one writer per
//! results folder.
//!
//! For the results `D` = `<out>/<name>`, the work folder `W` (`.<name>.partial`, or a
//! merge's temporary folder), the completion marker `M` (`.<name>.complete`, holding the
//! finished work's fingerprint) and the previous results `O` (`.<name>.old`), the steps are:
//! 1. the sweep writes `W` completely, then `M` (atomically);
//! 2. rename `D` → `O` (when `D` exists);
//! 3. rename `W` → `D`;
//! 4. remove `O`, then `M`.
//!
//! [`Results::recover`] runs before anything else and undoes or completes an interrupted
//! swap: `O` without `D` is renamed back to `D` (killed between 2 and 3: the previous
//! results return; a complete `W` is swapped in again by `--resume`), `O` beside `D` is
//! removed (killed in 4), `M` without `W` is removed. Each step can be repeated.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::lockfile::{acquire, holder, LockError, LockFile};
use crate::trace::write::atomic_write;

/// One results folder under the output folder.
#[derive(Debug, Clone)]
pub struct Results {
    pub out_dir: PathBuf,
    pub name: String,
}

impl Results {
    pub fn new(out_dir: &Path, name: &str) -> Results {
        Results {
            out_dir: out_dir.to_path_buf(),
            name: name.to_string(),
        }
    }
    fn hidden(&self, suffix: &str) -> PathBuf {
        self.out_dir.join(format!(".{}.{suffix}", self.name))
    }
    pub fn dest(&self) -> PathBuf {
        self.out_dir.join(&self.name)
    }
    pub fn work(&self) -> PathBuf {
        self.hidden("partial")
    }
    fn marker(&self) -> PathBuf {
        self.hidden("complete")
    }
    fn old(&self) -> PathBuf {
        self.hidden("old")
    }

    /// Takes the folder's lock: a second sweep or merge into it is refused, naming the
    /// holder.
    pub fn lock(&self) -> Result<LockFile> {
        std::fs::create_dir_all(&self.out_dir).map_err(|e| Error::io(&self.out_dir, e))?;
        let path = self.hidden("lock");
        acquire(&path).map_err(|e| match e {
            LockError::Held { pid } => Error::Config(format!(
                "another sim sweep or merge{} is writing {}: wait for it to finish, or write elsewhere with --out",
                holder(pid),
                self.dest().display()
            )),
            LockError::Io(e) => Error::io(&path, e),
        })
    }

    /// Undoes or completes a swap that a crash interrupted (see the module doc). Returns
    /// the fingerprint of results that were already put in place when the crash came
    /// (killed in step 4), so that `--resume` has nothing left to do.
    pub fn recover(&self) -> Result<Option<String>> {
        let (dest, old, marker) = (self.dest(), self.old(), self.marker());
        // Earlier versions named the previous results `.<name>.old-<pid>`.
        let mut olds: Vec<PathBuf> = vec![old.clone()];
        if let Ok(entries) = std::fs::read_dir(&self.out_dir) {
            let prefix = format!(".{}.old-", self.name);
            olds.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .map(|e| e.path()),
            );
        }
        for o in olds.iter().filter(|o| o.exists()) {
            if dest.exists() {
                std::fs::remove_dir_all(o).map_err(|e| Error::io(o, e))?;
            } else {
                std::fs::rename(o, &dest).map_err(|e| Error::io(o, e))?;
            }
        }
        if marker.exists() && !self.work().exists() {
            let installed = std::fs::read_to_string(&marker).ok();
            std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
            return Ok(installed.filter(|_| dest.exists()));
        }
        Ok(None)
    }

    /// Whether the work folder holds finished results of `fingerprint` (step 1 done).
    pub fn complete(&self, fingerprint: &str) -> bool {
        self.work().is_dir()
            && std::fs::read_to_string(self.marker()).is_ok_and(|f| f == fingerprint)
    }

    /// Step 1's marker: the work folder is finished.
    pub fn mark_complete(&self, fingerprint: &str) -> Result<()> {
        atomic_write(&self.marker(), |f| {
            std::io::Write::write_all(f, fingerprint.as_bytes())
        })
    }

    /// Forgets a marker (before the work folder is rebuilt).
    pub fn unmark(&self) -> Result<()> {
        match std::fs::remove_file(self.marker()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(self.marker(), e)),
            _ => Ok(()),
        }
    }

    /// Steps 2–4: `src` becomes the results; the previous ones survive until it is in place.
    pub fn install(&self, src: &Path) -> Result<()> {
        let (dest, old) = (self.dest(), self.old());
        if dest.exists() {
            crash_point("rename_old");
            std::fs::rename(&dest, &old).map_err(|e| Error::io(&dest, e))?;
        }
        crash_point("rename_new");
        std::fs::rename(src, &dest).map_err(|e| Error::io(&dest, e))?;
        crash_point("remove_old");
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        self.unmark()
    }
}

/// Test hook: `SCALESIM_CRASH_BEFORE=<step>` aborts the process (as `kill -9` would) just
/// before that step of [`Results::install`], so that tests can kill a real run there.
fn crash_point(step: &str) {
    if std::env::var("SCALESIM_CRASH_BEFORE").is_ok_and(|s| s == step) {
        std::process::abort();
    }
}
