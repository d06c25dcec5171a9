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
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let (settings, record, stem) = prepare(&a.order, &a.paper, &a.out)?;
    let files = paperwork::render_all(&record, &settings, &a.out, &stem)?;
    output::write_all(&files, a.paper.force)?;
    for (p, _) in &files {
        crate::printable::eprintln(&format!("wrote {}", p.display()));
    }
    crate::printable::eprintln(&format!("lot {}, BUD {}", record.lot, record.bud.date));
    Ok(0)
}
