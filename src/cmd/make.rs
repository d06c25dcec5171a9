//! `troche make`: the worksheet, the label and the JSON record of one batch, named by its lot,
//! entered in the compounding log in the transaction that assigns the lot.

use std::path::PathBuf;

use clap::Args;

use crate::batch_files;
use crate::batch_record::Record;
use crate::config::Settings;
use crate::error::Result;

use super::context::Context;
use super::logged;
use super::order::{OneBatchArgs, prepare_record};

#[derive(Args)]
pub(super) struct MakeArgs {
    #[command(flatten)]
    pub(super) batch: OneBatchArgs,
    /// Directory for LOT-worksheet.pdf, LOT-label.pdf and LOT.json (created if missing).
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub(super) out: PathBuf,
}

pub(super) fn run(ctx: &Context, a: &MakeArgs) -> Result<i32> {
    let (settings, record) = prepare_record(&a.batch)?;
    settings.require_pharmacy()?;
    let created = !a.out.exists();
    crate::publish::create_dir(&a.out, settings.file_mode)?;
    let made = make(ctx, a, &settings, record);
    // A run that wrote nothing leaves no empty directory of its own behind (a directory that
    // holds anything, or that was there before, stays).
    if made.is_err() && created {
        // `remove_dir` removes only an empty directory: failing means something is in it (a
        // `make` running beside this one), which must stay. The error to report is `made`'s.
        let _ = std::fs::remove_dir(&a.out);
    }
    made
}

fn make(ctx: &Context, a: &MakeArgs, settings: &Settings, record: Record) -> Result<i32> {
    let (record, files) = logged::enter_and_write(
        ctx,
        record,
        settings,
        a.batch.sign.by.as_deref(),
        &a.out,
        "batch",
        a.batch.paper.force,
        |record, stem| batch_files::render_all(record, settings, &a.out, stem),
    )?;
    // The results, on standard output for a script to read: the lot, then the files.
    let mut out = format!("lot {}, BUD {}\n", record.lot, record.bud.date);
    for (p, _) in &files {
        out.push_str("wrote ");
        out.push_str(&p.display().to_string());
        out.push('\n');
    }
    crate::escape::print(&out)?;
    Ok(0)
}
