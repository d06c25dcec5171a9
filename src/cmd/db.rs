//! `troche db backup FILE` and `troche db check`: the log's database itself.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::{logbook, store};

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
    /// Copy the SQLite log while it is in use (for PostgreSQL: advice on `pg_dump`).
    Backup {
        /// The new file (must not exist).
        file: PathBuf,
    },
    /// The database's integrity check, the schema version, and the batch statuses.
    Check,
}

pub(super) fn run(ctx: &Context, a: &DbArgs) -> Result<i32> {
    let mut db = ctx.open_with_config(a.config.as_deref())?;
    match &a.command {
        DbCommand::Backup { file } => {
            db.backup(file)?;
            crate::printable::eprintln(&format!(
                "backed up {} to {}",
                db.describe(),
                file.display()
            ));
            Ok(0)
        }
        DbCommand::Check => {
            let found = db.integrity_check()?;
            let version = store::migrate_version(db.as_mut())?;
            let records = logbook::check(db.as_mut())?;
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
            print(&out)?;
            Ok(i32::from(
                found != ["ok"] || !records.status_differs.is_empty(),
            ))
        }
    }
}
