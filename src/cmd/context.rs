//! What `run` gives the commands: the global flags, read once from the command line and
//! passed down, so that no command depends on state set elsewhere in the process. Settings
//! are not here: each command names its own file (`--config`, a recipe's `config`).

use std::path::Path;

use crate::config::{self, Settings};
use crate::error::Result;
use crate::store::{self, Access, Db};

pub(super) struct Context {
    /// `--db` as given: the log, before `TROCHE_DATABASE_URL` and the settings' `database`.
    db: Option<String>,
}

impl Context {
    pub(super) fn new(db: Option<String>) -> Context {
        Context { db }
    }

    /// Opens the log named by `--db`, `TROCHE_DATABASE_URL` or the settings' `database` to
    /// make batches: the one way a new log is created.
    pub(super) fn open(&self, settings: &Settings) -> Result<Box<dyn Db>> {
        self.open_as(settings, Access::Create)
    }

    fn open_as(&self, settings: &Settings, access: Access) -> Result<Box<dyn Db>> {
        let loc = store::locate(self.db.as_deref(), settings.database.as_deref())?;
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
}
