//! `troche reprint LOT`: the worksheet, label and record again, as the log kept their bytes
//! when they were first printed (so a reprint after the layout changed is still the first
//! print), once the lot's hash chain verifies. A batch entered before the log kept bytes is
//! made again from its stored record (formula text, order, settings) and checked byte for
//! byte against the SHA-256 stored when it was first printed.
//!
//! A batch that may not be dispensed (void, rejected, quarantined, recalled) is not printed
//! again as if it could be: the reprint is refused unless `--force`, which prints its pages
//! anew from the stored record with the state written across every page ("REJECTED - DO NOT
//! DISPENSE"). Such pages are never kept as the batch's documents.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::batch_record::Stamp;
use crate::error::{Error, Result};
use crate::logbook::{self, Actor, NewEvent};
use crate::store::Db;
use crate::{batch_files, lots, publish, render};

use super::context::Context;
use super::pins::{self, SignArgs};

/// The states of a batch that may not be dispensed, whose paperwork is reprinted only
/// stamped with the state.
const NOT_RELEASABLE: [&str; 4] = [
    logbook::VOID,
    logbook::REJECTED,
    logbook::QUARANTINED,
    logbook::RECALLED,
];

#[derive(Args)]
pub(super) struct ReprintArgs {
    /// The batch's lot.
    lot: String,
    /// Folder to write into (default: the folder the batch was made in).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the files if they exist; for a batch that may not be dispensed (void,
    /// rejected, quarantined, recalled), print its pages stamped with its state.
    #[arg(long)]
    force: bool,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    sign: SignArgs,
}

/// What a reprint wrote, for its messages.
struct Reprint {
    files: Vec<(PathBuf, Vec<u8>)>,
    missing: Vec<PathBuf>,
    stamp: Option<String>,
}

pub(super) fn run(ctx: &Context, a: &ReprintArgs) -> Result<i32> {
    let settings = crate::config::load(a.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let actor = Actor::current();
    let signer = pins::preparer(
        db.as_mut(),
        &mut ctx.pins(&settings),
        a.sign.by.as_deref(),
        settings.user.as_deref(),
        &actor,
    )?;
    let by = signer.as_ref().map(|p| p.initials.as_str());
    let lot = &super::lot(&a.lot);
    let lot = &logbook::batch(db.as_mut(), lot)?.lot;
    logbook::chain::verify_lot(db.as_mut(), lot)?;
    let mode = settings.file_mode;
    // The state is read, the pages chosen and the files written inside the transaction that
    // records the reprint: a batch rejected meanwhile is never printed as if it were good.
    let done = db.write(|tx| {
        if let Some(by) = by {
            logbook::people::require_signer(tx, "--by", by)?;
        }
        let status = logbook::batch(tx, lot)?.status;
        let stamp = NOT_RELEASABLE
            .contains(&status.as_str())
            .then(|| Stamp::NotReleasable(status.clone()));
        let (files, checked, dir) = match &stamp {
            Some(stamp) if !a.force => {
                return Err(Error::arg(
                    "LOT",
                    format!(
                        "lot {lot} is {status}: it may not be dispensed, and its paperwork is \
                         not printed again as if it could be; `troche reprint {lot} --force` \
                         prints it with \"{}\" across every page",
                        stamp.text()
                    ),
                ));
            }
            Some(stamp) => stamped(tx, lot, a.out.as_deref(), mode, stamp)?,
            None => match kept(tx, lot, a.out.as_deref(), mode)? {
                Some(kept) => kept,
                None => made_again(tx, lot, a.out.as_deref(), mode)?,
            },
        };
        // Files still there and identical are left alone; missing ones are written.
        let missing: Vec<_> = files
            .iter()
            .filter(|(p, bytes)| a.force || std::fs::read(p).map_or(true, |b| b != *bytes))
            .cloned()
            .collect();
        publish::write_all(&missing, a.force, settings.file_mode)?;
        let stamp = stamp.map(|s| s.text());
        let mut details = json!({"dir": dir.display().to_string(), "files": checked});
        if let Some(s) = &stamp {
            details["stamp"] = json!(s);
        }
        logbook::append_event(
            tx,
            &NewEvent {
                lot,
                what: "reprinted",
                status: None,
                who: by,
                meaning: by.map(|_| "reprinted"),
                details: &details,
            },
            &actor,
        )?;
        Ok(Reprint {
            files,
            missing: missing.into_iter().map(|(p, _)| p).collect(),
            stamp,
        })
    })?;
    for (p, _) in &done.files {
        let written = done.missing.contains(p);
        let line = match (&done.stamp, written) {
            (Some(s), _) => format!("wrote {} (printed anew, stamped \"{s}\")", p.display()),
            (None, true) => format!("wrote {} (identical to the first print)", p.display()),
            (None, false) => format!("{} is there and identical to the first print", p.display()),
        };
        crate::escape::eprintln(&line);
    }
    Ok(0)
}

type Reprinted = (Vec<(PathBuf, Vec<u8>)>, Vec<serde_json::Value>, PathBuf);

/// The bytes the log kept of every file printed for `lot`, or `None` if it kept them not.
fn kept(
    db: &mut dyn Db,
    lot: &str,
    out: Option<&Path>,
    mode: publish::FileMode,
) -> Result<Option<Reprinted>> {
    let b = logbook::batch(db, lot)?;
    let dir = out
        .map(Path::to_path_buf)
        .or(b.out_dir.map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut files = Vec::new();
    let mut checked = Vec::new();
    for f in logbook::files(db, lot)? {
        let Some(bytes) = logbook::document(db, lot, &f.kind)? else {
            return Ok(None);
        };
        let name = Path::new(&f.path)
            .file_name()
            .ok_or_else(|| Error::stored(format!("lot {lot}: a file without a name")))?;
        checked.push(json!({"kind": f.kind, "sha256": f.sha256}));
        files.push((dir.join(name), bytes));
    }
    if files.is_empty() {
        return Ok(None);
    }
    publish::create_dir(&dir, mode)?;
    Ok(Some((files, checked, dir)))
}

/// The files of a batch entered before the log kept bytes, made again from its stored
/// record and each checked against the SHA-256 printed.
fn made_again(
    db: &mut dyn Db,
    lot: &str,
    out: Option<&Path>,
    mode: publish::FileMode,
) -> Result<Reprinted> {
    let rebuilt = logbook::rebuild(db, lot)?;
    let dir = out
        .map(Path::to_path_buf)
        .or(rebuilt.out_dir.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    // The permissions are today's settings', not those the batch was made with.
    publish::create_dir(&dir, mode)?;
    let stem = lots::file_stem(lot);
    let r = &rebuilt.record;
    let s = &rebuilt.settings;
    let kinds: Vec<&str> = rebuilt.files.iter().map(|f| f.kind.as_str()).collect();
    let mut files = Vec::new();
    if kinds.contains(&"json") || kinds.contains(&"label") && kinds.contains(&"worksheet") {
        files = batch_files::render_all(r, s, &dir, &stem)?;
    } else if kinds.contains(&"worksheet") {
        files.push((
            dir.join(format!("{stem}-worksheet.pdf")),
            render::worksheet::worksheet(r, s.paper)?,
        ));
    } else if kinds.contains(&"label") {
        files.push((
            dir.join(format!("{stem}-label.pdf")),
            render::label::label(r, s.require_pharmacy()?, s.label)?,
        ));
    }
    // Each file made again must be the one printed first.
    let mut checked = Vec::new();
    for (p, bytes) in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = if name.ends_with("-worksheet.pdf") {
            "worksheet"
        } else if name.ends_with("-label.pdf") {
            "label"
        } else {
            "json"
        };
        let stored = rebuilt
            .files
            .iter()
            .find(|f| f.kind == kind)
            .map(|f| &f.sha256);
        let sha = logbook::sha256_hex(bytes);
        match stored {
            Some(want) if *want == sha => {
                checked.push(json!({"kind": kind, "sha256": sha}));
            }
            Some(want) => {
                return Err(Error::stored(format!(
                    "lot {lot}: the {kind} made again from the stored record has SHA-256 {sha}, \
                     but the one printed had {want}; nothing was written"
                )));
            }
            None => {}
        }
    }
    Ok((files, checked, dir))
}

/// The pages of a batch that may not be dispensed, rendered anew from its stored record with
/// `stamp` across every page: the worksheet and the label it was printed with; a rejected
/// batch's rejection record too, as kept. Its record JSON is data, not a page, and is not
/// written again.
fn stamped(
    db: &mut dyn Db,
    lot: &str,
    out: Option<&Path>,
    mode: publish::FileMode,
    stamp: &Stamp,
) -> Result<Reprinted> {
    let seal = logbook::batch(db, lot)?.seal;
    let mut rebuilt = logbook::rebuild(db, lot)?;
    let dir = out
        .map(Path::to_path_buf)
        .or(rebuilt.out_dir.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    let r = &mut rebuilt.record;
    r.seal = seal;
    r.stamps.push(stamp.clone());
    let s = &rebuilt.settings;
    let stem = lots::file_stem(lot);
    let mut files = Vec::new();
    let mut checked = Vec::new();
    let rejected = *stamp == Stamp::NotReleasable(logbook::REJECTED.to_string());
    for f in &rebuilt.files {
        let bytes = match f.kind.as_str() {
            "worksheet" => render::worksheet::worksheet(r, s.paper)?,
            "label" => render::label::label(r, s.require_pharmacy()?, s.label)?,
            // The rejection record says what the batch is already: the bytes kept.
            render::worksheet::RELEASE_KIND if rejected => {
                let Some(kept) = logbook::document(db, lot, &f.kind)? else {
                    continue;
                };
                checked.push(json!({"kind": f.kind, "sha256": f.sha256}));
                let name = Path::new(&f.path)
                    .file_name()
                    .ok_or_else(|| Error::stored(format!("lot {lot}: a file without a name")))?;
                files.push((dir.join(name), kept));
                continue;
            }
            _ => continue,
        };
        let name = Path::new(&f.path).file_name().map_or_else(
            || format!("{stem}-{}.pdf", f.kind).into(),
            ToOwned::to_owned,
        );
        checked
            .push(json!({"kind": f.kind, "sha256": logbook::sha256_hex(&bytes), "stamped": true}));
        files.push((dir.join(name), bytes));
    }
    if files.is_empty() {
        return Err(Error::arg(
            "LOT",
            format!("lot {lot} has no worksheet or label to print again"),
        ));
    }
    publish::create_dir(&dir, mode)?;
    Ok((files, checked, dir))
}
