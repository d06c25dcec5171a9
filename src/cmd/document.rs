//! `troche worksheet` and `troche label`: one document of one batch, written to `-o`; its lot
//! is reserved in the compounding log like a batch's. With `--preview`, the same pages to
//! look at an order before it is made: stamped across every page, with no lot, no signature
//! and no log.

use std::path::PathBuf;

use clap::Args;

use crate::batch_record::{Record, Stamp};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::publish;
use crate::render;

use super::context::Context;
use super::logged;
use super::order::{OneBatchArgs, prepare_record};

#[derive(Args)]
pub(super) struct DocArgs {
    #[command(flatten)]
    pub(super) batch: OneBatchArgs,
    /// The PDF file to write.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub(super) output: PathBuf,
    /// Print the pages only to look at them, stamped "PREVIEW - NOT A COMPOUNDING RECORD"
    /// across every page: every check of the order is made, but no lot is taken, no one
    /// signs and the compounding log is not opened.
    #[arg(long, conflicts_with = "by")]
    pub(super) preview: bool,
}

/// Prepares the batch, reserves its lot in the log, renders one document with `render` and
/// writes it to `-o`.
pub(super) fn one_document(
    ctx: &Context,
    a: &DocArgs,
    kind: &str,
    render: impl Fn(&Record, &Settings) -> Result<Vec<u8>>,
) -> Result<i32> {
    // `-o FILE` writes a file, never folders: a missing folder is more likely a typo than a
    // wish for a new one (`make --out DIR` creates its directory).
    let dir = publish::parent_of(&a.output);
    if !dir.is_dir() {
        return Err(Error::arg(
            "--output",
            format!(
                "the folder {} does not exist; create it first, or write the file somewhere \
                 else (troche make --out DIR creates its directory)",
                dir.display()
            ),
        ));
    }
    if a.output
        .file_name()
        .is_some_and(|n| crate::lots::is_windows_reserved(&n.to_string_lossy()))
    {
        return Err(crate::error::Error::arg(
            "--output",
            format!(
                "{} is a device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9); choose \
                 another file name",
                a.output.display()
            ),
        ));
    }
    let (settings, mut record) = prepare_record(&a.batch)?;
    if a.preview {
        return preview(a, &settings, &mut record, &render);
    }
    let (record, _) = logged::enter_and_write(
        ctx,
        record,
        &settings,
        a.batch.sign.by.as_deref(),
        dir,
        kind,
        a.batch.paper.force,
        |record, _| Ok(vec![(a.output.clone(), render(record, &settings)?)]),
    )?;
    // The result, on standard output for a script to read.
    crate::escape::print(&format!(
        "lot {}, BUD {}\nwrote {}\n",
        record.lot,
        record.bud.date,
        a.output.display()
    ))?;
    Ok(0)
}

/// The lot a preview shows where a batch's would be.
const PREVIEW_LOT: &str = "PREVIEW";

/// A document to look at: the order's own checks (a lot it gives included), then the pages
/// as the batch would have them, stamped, with [`PREVIEW_LOT`] for the lot. The checks that
/// need the log (a pharmacy's refill policy, the same Rx within an earlier batch's BUD) are
/// made when the batch is made.
fn preview(
    a: &DocArgs,
    settings: &Settings,
    record: &mut Record,
    render: &impl Fn(&Record, &Settings) -> Result<Vec<u8>>,
) -> Result<i32> {
    if let Some(lot) = &record.order.lot {
        let lot = crate::logbook::normalize_lot(lot)?;
        crate::lots::check_lot(&lot).map_err(|m| Error::arg("lot", m))?;
    }
    crate::prescription::check_refill_limit(&record.order, None)?;
    PREVIEW_LOT.clone_into(&mut record.lot);
    record.stamps.push(Stamp::Preview);
    let bytes = render(record, settings)?;
    publish::write(&a.output, &bytes, a.batch.paper.force, settings.file_mode)?;
    crate::escape::eprintln(&format!(
        "wrote {} (a preview: no lot taken, nothing entered in the compounding log)",
        a.output.display()
    ));
    Ok(0)
}

pub(super) fn worksheet(ctx: &Context, a: &DocArgs) -> Result<i32> {
    one_document(ctx, a, "worksheet", |record, settings| {
        render::worksheet::worksheet(record, settings.paper)
    })
}

pub(super) fn label(ctx: &Context, a: &DocArgs) -> Result<i32> {
    one_document(ctx, a, "label", |record, settings| {
        render::label::label(record, settings.require_pharmacy()?, settings.label)
    })
}
