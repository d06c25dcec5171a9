//! `troche db backup FILE` and `troche db check`: the log's database itself.

use std::path::{Path, PathBuf};

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
    /// Verify the log: the database's integrity, the hash chain over every event and stored
    /// record, people's event and policy decision, every stored hash, the batch statuses and
    /// people's states, and prepared batches' files.
    Check {
        /// Also compare this folder's worksheets, labels and records with the log.
        #[arg(long, value_name = "DIR")]
        files: Option<PathBuf>,
    },
}

pub(super) fn run(ctx: &Context, a: &DbArgs) -> Result<i32> {
    let mut db = ctx.read_with_config(a.config.as_deref())?;
    match &a.command {
        DbCommand::Backup { file, force } => {
            let staged = store::stage_backup(db.as_mut(), file, *force)?;
            let (report, sound) = check(staged.open()?.as_mut(), None)?;
            if !sound {
                print(&report)?;
                crate::escape::eprintln(&format!(
                    "troche: the copy of {} failed its check and was not kept; {} was not \
                     written",
                    db.describe(),
                    file.display()
                ));
                return Ok(1);
            }
            staged.persist(*force)?;
            crate::escape::eprintln(&format!(
                "backed up {} to {} and checked the copy: ok",
                db.describe(),
                file.display()
            ));
            Ok(0)
        }
        DbCommand::Check { files } => {
            let (report, sound) = check(db.as_mut(), files.as_deref())?;
            print(&report)?;
            Ok(i32::from(!sound))
        }
    }
}

/// `db check`'s report of a log (with `files`, a folder compared with it too), and whether
/// it found it sound.
fn check(db: &mut dyn Db, files: Option<&Path>) -> Result<(String, bool)> {
    let found = db.integrity_check()?;
    let version = store::migrate_version(db)?;
    // A database too damaged to read is a failed check, said as such.
    let verified = logbook::chain::verify(db);
    let records = logbook::check(db)?;
    // One line each, joined at the end.
    let mut out = vec![format!(
        "log: {}\nschema version: {} (this troche: {})\nbatches: {}\nintegrity: {}",
        db.describe(),
        version.unwrap_or(0),
        store::SCHEMA_VERSION,
        records.batches,
        found.join("; ")
    )];
    let mut failed = found != ["ok"];
    match &verified {
        Ok(v) => match &v.broken {
            None => out.push(format!(
                "chain: {} links verified, seal {}",
                v.links,
                logbook::chain::seal_of(&v.head)
            )),
            Some(b) => {
                failed = true;
                out.push(format!("chain: BROKEN at {b}"));
            }
        },
        Err(e) => {
            failed = true;
            out.push(format!("chain: cannot be read: {e}"));
        }
    }
    match logbook::audit::stored_hashes(db) {
        Ok(None) => out.push("stored hashes: ok".into()),
        Ok(Some(m)) => {
            failed = true;
            out.push(format!("stored hashes: {m}"));
        }
        Err(e) => {
            failed = true;
            out.push(format!("stored hashes: cannot be read: {e}"));
        }
    }
    // The status column must be the latest status event's.
    for lot in &records.status_differs {
        failed = true;
        out.push(format!("status differs from its events: {lot}"));
    }
    // So is a person's state, their (chained) history's.
    for who in logbook::audit::people_differ(db)? {
        failed = true;
        out.push(format!("person differs from their history: {who}"));
    }
    for (lot, path) in logbook::audit::missing_files(db)? {
        out.push(format!("prepared lot {lot}: file missing: {path}"));
    }
    if let Some(dir) = files {
        let f = logbook::audit::compare_folder(db, dir)?;
        out.push(format!(
            "folder {}: {} identical to the log",
            dir.display(),
            f.identical
        ));
        for (what, list) in [
            ("differs from what the log printed", &f.differ),
            ("names a lot the log does not hold", &f.unknown),
            ("printed by the log, missing", &f.missing),
        ] {
            for p in list {
                out.push(format!("  {what}: {p}"));
            }
        }
        failed |= !f.differ.is_empty() || !f.unknown.is_empty() || !f.missing.is_empty();
    }
    let mut out = out.join("\n");
    out.push('\n');
    Ok((out, !failed))
}
