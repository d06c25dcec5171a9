//! `troche db backup FILE` and `troche db check`: the log's database itself.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::logbook;
use crate::store::{self, Db};

use super::context::Context;
use super::print;

#[derive(Args)]
pub(super) struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
    /// Pharmacy settings file (for `database`).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Copy the SQLite log while it is in use, and check the copy (for PostgreSQL: advice on
    /// `pg_dump`).
    Backup {
        /// The new file.
        file: PathBuf,
        /// Replace FILE if it exists (only once the new copy is complete and checked).
        #[arg(long)]
        force: bool,
    },
    /// The database's integrity check, the schema version, and the batch statuses.
    Check,
}

pub(super) fn run(ctx: &Context, a: &DbArgs) -> Result<i32> {
    let mut db = ctx.read_with_config(a.config.as_deref())?;
    match &a.command {
        DbCommand::Backup { file, force } => {
            let staged = store::stage_backup(db.as_mut(), file, *force)?;
            let (report, sound) = check(staged.open()?.as_mut())?;
            if !sound {
                print(&report)?;
                crate::printable::eprintln(&format!(
                    "troche: the copy of {} failed its check and was not kept; {} was not \
                     written",
                    db.describe(),
                    file.display()
                ));
                return Ok(1);
            }
            staged.persist(*force)?;
            crate::printable::eprintln(&format!(
                "backed up {} to {} and checked the copy: ok",
                db.describe(),
                file.display()
            ));
            Ok(0)
        }
        DbCommand::Check => {
            let (report, sound) = check(db.as_mut())?;
            print(&report)?;
            Ok(i32::from(!sound))
        }
    }
}

/// `db check`'s report of a log, and whether it found it sound.
fn check(db: &mut dyn Db) -> Result<(String, bool)> {
    let found = db.integrity_check()?;
    let version = store::migrate_version(db)?;
    let records = logbook::check(db)?;
    let mut out = format!(
        "log: {}\nschema version: {} (this troche: {})\nbatches: {}\nintegrity: {}\n",
        db.describe(),
        version.unwrap_or(0),
        store::SCHEMA_VERSION,
        records.batches,
        found.join("; ")
    );
    // The status column must be the latest status event's.
    for lot in &records.status_differs {
        out.push_str("status differs from its events: ");
        out.push_str(lot);
        out.push('\n');
    }
    Ok((out, found == ["ok"] && records.status_differs.is_empty()))
}
