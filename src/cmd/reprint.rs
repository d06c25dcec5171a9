//! `troche reprint LOT`: the worksheet and label again, made from the record stored in the
//! log (its formula text, order and settings), and checked byte for byte against the SHA-256
//! stored when they were first printed.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::error::{Error, Result};
use crate::logbook::{self, Actor, NewEvent};
use crate::{lots, output, paperwork, render};

use super::context::Context;

#[derive(Args)]
pub(super) struct ReprintArgs {
    /// The batch's lot.
    lot: String,
    /// Folder to write into (default: the folder the batch was made in).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the files if they exist.
    #[arg(long)]
    force: bool,
    /// Pharmacy settings file (for `database`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(super) fn run(ctx: &Context, a: &ReprintArgs) -> Result<i32> {
    let mut db = ctx.open_with_config(a.config.as_deref())?;
    let lot = a.lot.trim();
    let rebuilt = logbook::rebuild(db.as_mut(), lot)?;
    let dir = a
        .out
        .clone()
        .or(rebuilt.out_dir.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    // The permissions are today's settings', not those the batch was made with.
    let mode = crate::config::load(a.config.as_deref())?.file_mode;
    output::create_dir(&dir, mode)?;
    let stem = lots::file_stem(lot);
    let r = &rebuilt.record;
    let s = &rebuilt.settings;
    let kinds: Vec<&str> = rebuilt.files.iter().map(|f| f.kind.as_str()).collect();
    let mut files = Vec::new();
    if kinds.contains(&"json") || kinds.contains(&"label") && kinds.contains(&"worksheet") {
        files = paperwork::render_all(r, s, &dir, &stem)?;
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
    // Files still there and identical are left alone; missing ones are written.
    let missing: Vec<_> = files
        .iter()
        .filter(|(p, bytes)| a.force || std::fs::read(p).map_or(true, |b| b != *bytes))
        .cloned()
        .collect();
    output::write_all(&missing, a.force, mode)?;
    let mut db2 = db;
    db2.write(|tx| {
        logbook::append_event(
            tx,
            &NewEvent {
                lot,
                what: "reprinted",
                status: None,
                who: None,
                details: &json!({"dir": dir.display().to_string(), "files": checked}),
            },
            &Actor::current(),
        )
    })?;
    for (p, _) in &files {
        if missing.iter().any(|(m, _)| m == p) {
            crate::printable::eprintln(&format!(
                "wrote {} (identical to the first print)",
                p.display()
            ));
        } else {
            crate::printable::eprintln(&format!(
                "{} is there and identical to the first print",
                p.display()
            ));
        }
    }
    Ok(0)
}
