//! `troche db backup FILE` and `troche db check`: the log's database itself.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::store;

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
    /// Fill the log with N made-up batches (for measuring).
    #[command(hide = true)]
    Generate { n: u64 },
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
            // The status column must be the latest status event's.
            let bad = db.query(
                "SELECT b.lot FROM batches b WHERE b.status <> (SELECT e.status FROM events e \
                 WHERE e.lot = b.lot AND e.status IS NOT NULL ORDER BY e.seq DESC LIMIT 1)",
                &[],
            )?;
            let n = db
                .query("SELECT count(*) FROM batches", &[])?
                .first()
                .and_then(|r| r.int(0))
                .unwrap_or(0);
            let mut out = format!(
                "log: {}\nschema version: {} (this troche: {})\nbatches: {n}\nintegrity: {}\n",
                db.describe(),
                version.unwrap_or(0),
                store::SCHEMA_VERSION,
                found.join("; ")
            );
            for r in &bad {
                out.push_str("status differs from its events: ");
                out.push_str(&r.text(0));
                out.push('\n');
            }
            print(&out)?;
            Ok(i32::from(found != ["ok"] || !bad.is_empty()))
        }
        DbCommand::Generate { n } => {
            crate::logbook::generate(db.as_mut(), *n)?;
            crate::printable::eprintln(&format!("added {n} batches"));
            Ok(0)
        }
    }
}
