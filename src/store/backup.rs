//! `troche db backup`: a copy of the log that is complete before it has its name. The copy is
//! made into a hidden temporary file in the target's folder, checked there, and only then
//! renamed into place, so a backup that failed or was killed leaves no file that looks like
//! one, and an existing file is replaced only when asked. The temporary is named like every
//! other (`.troche-PID@HOST-XXXXXX.partial`), so the next backup into the folder removes one
//! a killed backup left, under the rule for staging folders: only this host's, and only when
//! its process is gone.

use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::{Db, sqlite};
use crate::error::{Error, Result};
use crate::publish::{parent_of, sync_dir};

/// A finished copy under its temporary name: [`open`](Staged::open) it to check it, then
/// [`persist`](Staged::persist) it. Dropped unpersisted, it is removed.
pub struct Staged {
    temp: NamedTempFile,
    target: PathBuf,
}

/// Copies the log into a temporary file beside `target` (owner-only, 0600: it holds patient
/// records). Refuses at once, before copying anything, when `target` exists and `force` is
/// not given.
pub fn stage_backup(db: &mut dyn Db, target: &Path, force: bool) -> Result<Staged> {
    if !force && std::fs::symlink_metadata(target).is_ok() {
        return Err(Error::Exists(target.to_path_buf()));
    }
    // `--force` onto the log itself would replace the log in use with its copy.
    let same = |a: &Path, b: &Path| matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y);
    if same(target, Path::new(&db.describe())) {
        return Err(Error::arg(
            "db backup",
            format!(
                "{} is the log itself; give the backup another file",
                target.display()
            ),
        ));
    }
    let folder = parent_of(target);
    crate::publish::remove_stale(folder);
    let temp = crate::publish::temporary_in(folder)
        .map_err(|e| Error::io(target, std::io::Error::new(e.kind(), e.kind().to_string())))?;
    db.backup(temp.path())?;
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(target, e))?;
    Ok(Staged {
        temp,
        target: target.to_path_buf(),
    })
}

impl Staged {
    /// The copy, opened read-only, for the same checks as `db check`.
    pub fn open(&self) -> Result<Box<dyn Db>> {
        let db = sqlite::Sqlite::open_copy(self.temp.path(), &self.target)?;
        Ok(Box::new(db))
    }

    /// Gives the checked copy its name: atomically, and over an existing file only with
    /// `force`.
    pub fn persist(self, force: bool) -> Result<()> {
        let target = self.target;
        let done = if force {
            self.temp.persist(&target).map(drop)
        } else {
            self.temp.persist_noclobber(&target).map(drop)
        };
        match done {
            Ok(()) => {
                sync_dir(parent_of(&target));
                Ok(())
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::Exists(target))
            }
            Err(e) => Err(Error::io(target, e.error)),
        }
    }
}
