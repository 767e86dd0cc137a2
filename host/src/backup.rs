//! `cognate backup` and `cognate restore`: a consistent copy of the SQLite store, taken while a
//! server keeps writing, and its return into a data directory.
//!
//! The backup is SQLite's `VACUUM INTO` on a read-only connection: it copies one snapshot (a
//! WAL reader's view), so a write in flight is either wholly in the copy or not at all, and the
//! copy is a compact, self-contained database (no `-wal` file). A restore checks that the file is
//! a sound Cognate database (`PRAGMA integrity_check`, the store's table) before it puts it in
//! place, and never overwrites a database unless told to (the server must be stopped then).
//! PostgreSQL stores are backed up with PostgreSQL's own tools (`pg_dump`).

use std::path::Path;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OpenFlags};

use crate::data_dir_lock::{DataDirLock, Unlockable};
use crate::server::DB_FILE_NAME;

/// Writes a consistent copy of the store in `data_dir` to `target` (which must not exist).
pub fn backup(data_dir: &Path, target: &Path) -> anyhow::Result<()> {
    let db = data_dir.join(DB_FILE_NAME);
    if !db.is_file() {
        bail!("no store at {}", db.display());
    }
    if target.exists() {
        bail!("{} already exists: choose a new file", target.display());
    }
    let connection = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", db.display()))?;
    connection
        .busy_timeout(std::time::Duration::from_secs(30))
        .context("busy timeout")?;
    let target_text = target
        .to_str()
        .context("the backup file's path is not UTF-8")?;
    connection
        .execute("VACUUM INTO ?1", [target_text])
        .with_context(|| format!("cannot write the backup to {}", target.display()))?;
    check(target)
}

/// Puts the backup `source` in place as the store of `data_dir`. With an existing store it
/// refuses unless `replace`, and it refuses while a server runs on `data_dir` (one would keep
/// serving the old file, which it holds open).
pub fn restore(data_dir: &Path, source: &Path, replace: bool) -> anyhow::Result<()> {
    check(source)?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    // Held until the backup is in place, so no server starts on a half-restored directory. On a
    // file system without locks there is nothing to check (no server could lock it either).
    let _owner = match DataDirLock::try_acquire(data_dir) {
        Ok(Some(owner)) => Some(owner),
        Ok(None) => bail!(
            "a Cognate server is running on {}: stop it before restoring",
            data_dir.display()
        ),
        Err(Unlockable::Unsupported(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let db = data_dir.join(DB_FILE_NAME);
    if db.exists() && !replace {
        bail!(
            "{} already holds a store: stop its server and pass --replace to overwrite it",
            db.display()
        );
    }
    // Copy next to the store first, so the store is either the old one or the whole backup.
    let staged = data_dir.join(format!("{DB_FILE_NAME}.restoring"));
    std::fs::copy(source, &staged).with_context(|| {
        format!(
            "cannot copy {} into {}",
            source.display(),
            data_dir.display()
        )
    })?;
    for suffix in ["-wal", "-shm"] {
        let side = data_dir.join(format!("{DB_FILE_NAME}{suffix}"));
        if side.exists() {
            std::fs::remove_file(&side)
                .with_context(|| format!("cannot remove {}", side.display()))?;
        }
    }
    std::fs::rename(&staged, &db)
        .with_context(|| format!("cannot move the backup to {}", db.display()))?;
    Ok(())
}

/// A sound SQLite file holding Cognate's store.
fn check(file: &Path) -> anyhow::Result<()> {
    let connection = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", file.display()))?;
    let verdict: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    if verdict != "ok" {
        bail!("{} is damaged: {verdict}", file.display());
    }
    let tables: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kv'",
            [],
            |row| row.get(0),
        )
        .context("cannot read the schema")?;
    if tables != 1 {
        bail!("{} is not a Cognate store", file.display());
    }
    Ok(())
}
