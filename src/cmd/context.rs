//! What `run` gives the commands: the global flags, read once from the command line and
//! passed down, so that no command depends on state set elsewhere in the process. Settings
//! are not here: each command names its own file (`--config`, a recipe's `config`).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::config::{self, Settings};
use crate::error::{Error, Result};
use crate::store::{self, Access, Db, Location};

/// The practice log's file name, beside the log in use (or in the user's data directory).
pub(super) const PRACTICE_FILE: &str = "practice.sqlite3";

pub(super) struct Context {
    /// `--db` as given: the log, before `TROCHE_DATABASE_URL` and the settings' `database`.
    db: Option<String>,
    /// `--practice`: the practice log instead of the log (settings may ask for it too).
    practice: bool,
    /// Whether the practice notice is on the terminal already: said once per command (shared
    /// by [`Context::with_db`]'s contexts).
    told: Rc<Cell<bool>>,
}

impl Context {
    pub(super) fn new(db: Option<String>, practice: bool) -> Context {
        Context {
            db,
            practice,
            told: Rc::new(Cell::new(false)),
        }
    }

    /// This context for a command that takes `--db` after its name too: that one first.
    pub(super) fn with_db(&self, db: Option<String>) -> Context {
        Context {
            db: db.or_else(|| self.db.clone()),
            practice: self.practice,
            told: Rc::clone(&self.told),
        }
    }

    /// Whether this command works in the practice log: `--practice`, or `practice = true` in
    /// the settings it reads. Practice asks no PIN and needs no formula's approval; its lots
    /// are `P-...` and its pages stamped.
    pub(super) fn practice(&self, settings: &Settings) -> bool {
        self.practice || settings.practice
    }

    /// The PINs of a command that signs: none in practice.
    pub(super) fn pins(&self, settings: &Settings) -> super::pins::Pins {
        super::pins::Pins::new(self.practice(settings))
    }

    /// The practice log of the log in use, whether or not this command is in practice.
    pub(super) fn practice_location(&self, settings: &Settings) -> Result<PathBuf> {
        let loc = store::locate(self.db.as_deref(), settings.database.as_deref())?;
        let path = practice_path(&loc)?;
        self.tell(&path);
        Ok(path)
    }

    /// Opens the log named by `--db`, `TROCHE_DATABASE_URL` or the settings' `database` to
    /// make batches: the one way a new log is created.
    pub(super) fn open(&self, settings: &Settings) -> Result<Box<dyn Db>> {
        self.open_as(settings, Access::Create)
    }

    /// Where the log in use is: in practice, the practice log beside it.
    pub(super) fn locate(&self, settings: &Settings) -> Result<Location> {
        let loc = store::locate(self.db.as_deref(), settings.database.as_deref())?;
        if !self.practice(settings) {
            return Ok(loc);
        }
        let path = practice_path(&loc)?;
        self.tell(&path);
        Ok(Location::Sqlite(path))
    }

    fn open_as(&self, settings: &Settings, access: Access) -> Result<Box<dyn Db>> {
        let loc = self.locate(settings)?;
        // Practice starts from nothing: any command may create its log, so that the first
        // `user add` or `make` of a walk-through needs no set-up.
        let access = match (&loc, self.practice(settings), access) {
            (Location::Sqlite(p), true, Access::Write) if !p.exists() => Access::Create,
            _ => access,
        };
        store::open_with(&loc, access, settings.ca_file.as_deref())
    }

    /// Opens an existing log to add to it (events, records), never creating one.
    pub(super) fn open_existing(&self, settings: &Settings) -> Result<Box<dyn Db>> {
        self.open_as(settings, Access::Write)
    }

    /// Opens the log to read it when it is there; `None` for a SQLite log not yet created
    /// (a check before the first batch), in which every lot is free.
    pub(super) fn read_if_there(&self, settings: &Settings) -> Result<Option<Box<dyn Db>>> {
        let loc = store::locate(self.db.as_deref(), settings.database.as_deref())?;
        if let store::Location::Sqlite(p) = &loc
            && !p.exists()
        {
            return Ok(None);
        }
        store::open_with(&loc, Access::Read, settings.ca_file.as_deref()).map(Some)
    }

    /// Opens an existing log to read it: read-only when the user may only read it.
    pub(super) fn read_with_config(&self, config_file: Option<&Path>) -> Result<Box<dyn Db>> {
        self.open_as(&config::load(config_file)?, Access::Read)
    }

    /// Says on the terminal, once, that this command works in the practice log.
    pub(super) fn tell(&self, path: &Path) {
        if !self.told.replace(true) {
            crate::escape::eprintln(&format!(
                "practice log: {} - nothing here is for dispensing",
                path.display()
            ));
        }
    }

    /// For a command in practice that opened no log: the notice all the same.
    pub(super) fn tell_anyway(&self) {
        if self.practice && !self.told.get() {
            match store::locate(self.db.as_deref(), None).and_then(|l| practice_path(&l)) {
                Ok(p) => self.tell(&p),
                Err(_) => self.tell(Path::new(PRACTICE_FILE)),
            }
        }
    }
}

/// The practice log of the log at `loc`: `practice.sqlite3` beside a SQLite log, or in the
/// user's data directory when the log is on a PostgreSQL server.
pub(super) fn practice_path(loc: &Location) -> Result<PathBuf> {
    match loc {
        Location::Sqlite(p) => {
            if p.file_name().is_some_and(|n| n == PRACTICE_FILE) {
                return Err(Error::arg(
                    "--practice",
                    format!(
                        "the log in use, {}, has the practice log's own name; practice keeps \
                         its log in {PRACTICE_FILE} beside the real one, so give the real log \
                         another name",
                        p.display()
                    ),
                ));
            }
            Ok(p.with_file_name(PRACTICE_FILE))
        }
        Location::Postgres(_) => Ok(store::default_path()?.with_file_name(PRACTICE_FILE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_practice_log_lies_beside_the_log_in_use() {
        let beside = |p: &str| practice_path(&Location::Sqlite(PathBuf::from(p))).unwrap();
        assert_eq!(
            beside("/srv/rx/log.sqlite3"),
            PathBuf::from("/srv/rx/practice.sqlite3")
        );
        assert_eq!(beside("pharmacy.db"), PathBuf::from("practice.sqlite3"));
        let e = practice_path(&Location::Sqlite("/srv/practice.sqlite3".into())).unwrap_err();
        assert!(e.to_string().contains("practice log's own name"), "{e}");
        let pg = practice_path(&Location::Postgres("postgres://rx@db/rx".into())).unwrap();
        assert_eq!(
            pg,
            store::default_path().unwrap().with_file_name(PRACTICE_FILE)
        );
    }
}
