//! Exclusive lock files (`File::try_lock`) that hold the holder's process id: one
//! `sim live` per service, one sweep or merge per results folder. The operating system
//! releases the lock when the holder exits, however it exits.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A held lock; released on drop.
#[derive(Debug)]
pub struct LockFile {
    _file: File,
    pub path: PathBuf,
}

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (its pid, when it wrote one).
    Held {
        pid: Option<u32>,
    },
    Io(std::io::Error),
}

/// Takes the lock at `path` without waiting, and writes this process's id into it.
pub fn acquire(path: &Path) -> Result<LockFile, LockError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(LockError::Io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held {
                pid: text.trim().parse().ok(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
    }
    // The pid is for messages only: a stale one in an unlocked file means nothing.
    let _ = file
        .set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| write!(file, "{}", std::process::id()))
        .and_then(|_| file.flush());
    Ok(LockFile {
        _file: file,
        path: path.to_path_buf(),
    })
}

/// "(pid N)" or "" for messages.
pub fn holder(pid: Option<u32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.lock");
        let held = acquire(&p).unwrap();
        match acquire(&p) {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(acquire(&p).is_ok());
    }
}
