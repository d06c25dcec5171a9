//! `troche make`: the worksheet, the label and the JSON record of one batch, named by its lot.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::{output, paperwork};

use super::order::{OrderArgs, PaperArgs, prepare};

#[derive(Args)]
pub(super) struct MakeArgs {
    #[command(flatten)]
    pub(super) order: OrderArgs,
    #[command(flatten)]
    pub(super) paper: PaperArgs,
    /// Directory for LOT-worksheet.pdf, LOT-label.pdf and LOT.json (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(super) out: PathBuf,
}

pub(super) fn run(a: &MakeArgs) -> Result<i32> {
    let created = !a.out.exists();
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let made = make(a);
    // A run that wrote nothing leaves no empty directory of its own behind (a directory that
    // holds anything, or that was there before, stays).
    if made.is_err() && created {
        let _ = std::fs::remove_dir(&a.out);
    }
    made
}

fn make(a: &MakeArgs) -> Result<i32> {
    let (settings, record, stem) = prepare(&a.order, &a.paper, &a.out)?;
    let files = paperwork::render_all(&record, &settings, &a.out, &stem)?;
    output::write_all(&files, a.paper.force)?;
    for (p, _) in &files {
        eprintln!("wrote {}", p.display());
    }
    eprintln!("lot {}, BUD {}", record.lot, record.bud.date);
    Ok(0)
}
