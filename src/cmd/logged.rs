//! What the commands share about the compounding log: where it is, and entering one batch in
//! it (lot and record in one transaction), then writing its files.

use std::path::{Path, PathBuf};

use super::context::Context;
use super::pins;
use crate::batch_record::{Record, Stamp};
use crate::calc_report;
use crate::config::Settings;
use crate::error::Result;
use crate::logbook::{self, Actor, LotCounter, NewBatch};
use crate::lots::Lots;
use crate::publish;

/// A batch's files in memory: path and bytes.
pub(super) type Files = Vec<(PathBuf, Vec<u8>)>;

/// Enters one batch: in one write transaction its lot is decided (explicit, or the next free
/// in the whole log), its files rendered and hashed, and its record inserted with its
/// `prepared` event, signed by `by` (or the workstation's `user`) once the log has people.
/// The files are written under temporary names before the commit, so a file that cannot be
/// written takes no lot, and given their names after it; should that last step fail (a name
/// taken in between), the batch is voided with the reason.
#[allow(clippy::too_many_arguments)]
pub(super) fn enter_and_write(
    ctx: &Context,
    mut record: Record,
    settings: &Settings,
    by: Option<&str>,
    dir: &Path,
    kind: &str,
    force: bool,
    render: impl Fn(&Record, &str) -> Result<Files>,
) -> Result<(Record, Files)> {
    let mut db = ctx.open(settings)?;
    let practice = ctx.practice(settings);
    if practice && !record.stamps.contains(&Stamp::Practice) {
        record.stamps.push(Stamp::Practice);
    }
    let actor = Actor::current();
    let signer = pins::preparer(
        db.as_mut(),
        &mut ctx.pins(settings),
        by,
        settings.user.as_deref(),
        &actor,
    )?;
    let prepared_by = signer.as_ref().map(|p| p.initials.as_str());
    let mut notes = None;
    let (files, staged) = db.write(|tx| {
        if let Some(by) = prepared_by {
            logbook::people::require_signer(tx, "--by", by)?;
        }
        // Stock lots first: they change the record (lots, potency, BUD) the checks read.
        let picks = crate::stock::pick::choose(tx, &mut record, settings)?;
        notes = crate::prescription::check_in_log(tx, &mut record, &[])?;
        let mut lots = Lots::scan(dir)?;
        let mut counter = LotCounter::new(&mut lots).practice(practice);
        record.seal = Some(logbook::chain::seal(tx)?);
        let stem = if let Some(l) = record.order.lot.clone() {
            let (lot, stem) = counter.claim(tx, &l, force)?;
            record.lot = lot;
            stem
        } else {
            let l = counter.next(tx, record.date)?;
            record.lot.clone_from(&l);
            l
        };
        let files = render(&record, &stem)?;
        // `make` renders the record JSON among its files; a single document does not.
        let own;
        let json = if let Some(j) = crate::batch_files::record_json_of(&files) {
            j
        } else {
            own = calc_report::record_json(&record);
            own.as_str()
        };
        logbook::insert(
            tx,
            &NewBatch {
                record: &record,
                kind,
                settings,
                out_dir: Some(dir),
                files: &files,
                record_json: json,
                prepared_by,
            },
            &actor,
        )?;
        crate::stock::pick::reserve(tx, &record.lot, &picks, prepared_by, &actor)?;
        let staged = publish::stage_all(&files, force, settings.file_mode)?;
        Ok((files, staged))
    })?;
    if let Err(e) = staged.publish() {
        let reason = format!("the files could not be written: {e}");
        if let Err(v) = logbook::void(db.as_mut(), &record.lot, &reason, &actor) {
            crate::escape::eprintln(&format!(
                "error: lot {} could not be voided: {v}",
                record.lot
            ));
        }
        return Err(e);
    }
    if let Some(w) = notes {
        crate::escape::eprintln(&format!("warning: {w}"));
    }
    Ok((record, files))
}
