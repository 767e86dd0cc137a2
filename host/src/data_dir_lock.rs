//! One server per data directory: an exclusive advisory lock on `cognate.lock` in it, held for
//! the server's life and released by the kernel when the process ends, however it ends.
//!
//! SQLite would let two servers share the file safely, but then neither could keep anything
//! read from it in memory: the lock is what makes the store's read cache
//! ([`crate::read_cache`]) coherent. It also turns two mistakes into clear errors: a second
//! server started on a directory already served, and `cognate restore --replace` under a
//! running server (which keeps the old file open and would go on serving it). PostgreSQL
//! stores are shared between hosts by design and take no lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// The lock file's name in the data directory. It holds the owner's process id, for messages.
pub const LOCK_FILE_NAME: &str = "cognate.lock";

/// How often a waiting start tries the lock again.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// Why the lock could not be taken (as opposed to being held by another process).
#[derive(Debug)]
pub enum Unlockable {
    /// The lock file cannot be opened or written (permissions, a missing directory).
    Open(anyhow::Error),
    /// The file system refuses `flock` (some network file systems).
    Unsupported(std::io::Error),
}

impl std::fmt::Display for Unlockable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open(e) => write!(f, "{e:#}"),
            Self::Unsupported(e) => write!(f, "the file system cannot lock files: {e}"),
        }
    }
}

impl std::error::Error for Unlockable {}

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock on `dir`, waiting up to `wait` for another process to release it (a
    /// restart racing the old server's shutdown). Blocking. `Ok(None)`: the file system cannot
    /// lock files (some network file systems), which is logged; the caller goes on without
    /// what the lock would allow.
    pub fn acquire(dir: &Path, wait: Duration) -> anyhow::Result<Option<Self>> {
        let deadline = Instant::now() + wait;
        let mut told = false;
        loop {
            match Self::try_acquire(dir) {
                Ok(Some(lock)) => return Ok(Some(lock)),
                Ok(None) => {}
                Err(Unlockable::Open(e)) => return Err(e),
                Err(Unlockable::Unsupported(e)) => {
                    tracing::warn!(
                        data = %dir.display(),
                        error = %e,
                        "cannot lock the data directory on this file system: running without \
                         the store's read cache; never start a second server on it"
                    );
                    return Ok(None);
                }
            }
            let holder = Self::holder(dir);
            if Instant::now() >= deadline {
                bail!(
                    "another Cognate process{} is using the data directory {}: stop it, or give \
                     this server its own directory with --data",
                    holder
                        .map(|pid| format!(" (pid {pid})"))
                        .unwrap_or_default(),
                    dir.display()
                );
            }
            if !told {
                tracing::info!(
                    data = %dir.display(),
                    holder = holder.unwrap_or_default(),
                    "waiting for another Cognate process to release the data directory"
                );
                told = true;
            }
            std::thread::sleep(RETRY_EVERY);
        }
    }

    /// Takes the lock on `dir` if no other process holds it.
    pub fn try_acquire(dir: &Path) -> Result<Option<Self>, Unlockable> {
        let path = dir.join(LOCK_FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))
            .map_err(Unlockable::Open)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(Unlockable::Unsupported(e)),
        }
        // The owner's pid, so the next one's error can name it.
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .with_context(|| format!("cannot write {}", path.display()))
            .map_err(Unlockable::Open)?;
        Ok(Some(Self { _file: file, path }))
    }

    /// The process id written by the lock's current owner, if it can be read.
    fn holder(dir: &Path) -> Option<u32> {
        let mut text = String::new();
        File::open(dir.join(LOCK_FILE_NAME))
            .ok()?
            .read_to_string(&mut text)
            .ok()?;
        text.trim().parse().ok()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A held lock refuses a second owner (flock locks are per open file, so a second open in
    /// the same process stands for another process), names the holder, and is free again once
    /// dropped.
    #[test]
    fn one_owner_at_a_time_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), Duration::ZERO)
            .unwrap()
            .unwrap();
        assert!(DataDirLock::try_acquire(dir.path()).unwrap().is_none());
        let error = DataDirLock::acquire(dir.path(), Duration::from_millis(250))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("(pid {})", std::process::id())),
            "{error}"
        );
        assert!(error.contains(&dir.path().display().to_string()), "{error}");
        drop(first);
        let again = DataDirLock::try_acquire(dir.path()).unwrap();
        assert!(again.is_some(), "released when dropped");
    }

    /// A start that finds the directory held waits for the holder to let go.
    #[test]
    fn a_waiting_start_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), Duration::ZERO)
            .unwrap()
            .unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(first);
        });
        let second = DataDirLock::acquire(dir.path(), Duration::from_secs(30))
            .unwrap()
            .unwrap();
        releaser.join().unwrap();
        assert!(second.path().ends_with(LOCK_FILE_NAME));
    }
}
