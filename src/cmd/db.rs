//! `troche db backup FILE`, `troche db check` and `troche db reset-practice`: the log's
//! database itself.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::error::{Error, Result};
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
    /// Delete the practice log (practice.sqlite3 beside the log), to start practice afresh.
    /// Only a file that holds practice lots and people without PINs is deleted.
    ResetPractice,
}

pub(super) fn run(ctx: &Context, a: &DbArgs) -> Result<i32> {
    if matches!(a.command, DbCommand::ResetPractice) {
        return reset_practice(ctx, &crate::config::load(a.config.as_deref())?);
    }
    let mut db = ctx.read_with_config(a.config.as_deref())?;
    match &a.command {
        DbCommand::Backup { file, force } => {
            let staged = store::stage_backup(db.as_mut(), file, *force)?;
            let (report, sound) = check(staged.open()?.as_mut(), None)?;
            if !sound {
                print(&report)?;
                crate::escape::eprintln(&format!(
                    "error: the copy of {} failed its check and was not kept; {} was not \
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
        DbCommand::ResetPractice => unreachable!("handled above"),
    }
}

/// Deletes the practice log of the log in use, once it is sure the file is one: a troche
/// log whose every lot is a practice lot and whose every person has no PIN. Anything else
/// is refused, and nothing is deleted.
fn reset_practice(ctx: &Context, settings: &crate::config::Settings) -> Result<i32> {
    let path = ctx.practice_location(settings)?;
    if std::fs::symlink_metadata(&path).is_err() {
        crate::escape::eprintln(&format!(
            "no practice log at {}: nothing to delete",
            path.display()
        ));
        return Ok(0);
    }
    let refuse = |why: String| {
        Error::arg(
            "reset-practice",
            format!(
                "{} is not a practice log: {why}; nothing was deleted",
                path.display()
            ),
        )
    };
    if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(refuse("it is not a regular file".into()));
    }
    let batches = {
        let loc = store::Location::Sqlite(path.clone());
        let mut db =
            store::open_with(&loc, store::Access::Read, None).map_err(|e| refuse(e.to_string()))?;
        let lots = db
            .query("SELECT lot FROM batches ORDER BY lot", &[])
            .map_err(|e| refuse(e.to_string()))?
            .into_iter()
            .map(|mut r| r.text("lot"))
            .collect::<Result<Vec<_>>>()?;
        if let Some(lot) = lots.iter().find(|l| !logbook::is_practice(l)) {
            return Err(refuse(format!(
                "it holds lot {lot}, which is not a practice lot"
            )));
        }
        let pins = db.query(
            "SELECT initials FROM people WHERE pin_hash <> $1 ORDER BY initials",
            &[store::Value::text(super::pins::NO_PIN)],
        )?;
        if let Some(mut r) = pins.into_iter().next() {
            let who = r.text("initials")?;
            return Err(refuse(format!("{who} signs there with a PIN")));
        }
        lots.len()
    };
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.clone().into_os_string();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(PathBuf::from(name), e));
            }
            _ => {}
        }
    }
    crate::escape::eprintln(&format!(
        "deleted the practice log {} ({batches} practice batches)",
        path.display()
    ));
    Ok(0)
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
    // The stock chain, said only where the log keeps stock.
    match crate::stock::chain::verify(db) {
        Ok(None) => {
            let n = crate::stock::chain::length(db)?;
            if n > 0 {
                out.push(format!("stock chain: {n} events verified"));
            }
        }
        Ok(Some(m)) => {
            failed = true;
            out.push(format!("stock chain: BROKEN: {m}"));
        }
        Err(e) => {
            failed = true;
            out.push(format!("stock chain: cannot be read: {e}"));
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
