//! `troche worksheet` and `troche label`: one document of one batch, written to `-o`.

use std::path::PathBuf;

use clap::Args;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::output;
use crate::record::Record;
use crate::render;

use super::order::{OrderArgs, PaperArgs, prepare};

#[derive(Args)]
pub(super) struct DocArgs {
    #[command(flatten)]
    pub(super) order: OrderArgs,
    #[command(flatten)]
    pub(super) paper: PaperArgs,
    /// The PDF file to write.
    #[arg(short, long, value_name = "FILE")]
    pub(super) output: PathBuf,
}

/// Prepares the batch, renders one document with `render` and writes it to `-o`.
pub(super) fn one_document(
    a: &DocArgs,
    render: impl Fn(&Record, &Settings) -> Result<Vec<u8>>,
) -> Result<i32> {
    // `-o FILE` writes a file, never folders: a missing folder is more likely a typo than a
    // wish for a new one (`make --out DIR` creates its directory).
    let dir = output::parent_of(&a.output);
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
    let (settings, record, _) = prepare(&a.order, &a.paper, dir)?;
    let pdf = render(&record, &settings)?;
    output::write(&a.output, &pdf, a.paper.force)?;
    eprintln!(
        "wrote {} (lot {}, BUD {})",
        a.output.display(),
        record.lot,
        record.bud.date
    );
    Ok(0)
}

pub(super) fn worksheet(a: &DocArgs) -> Result<i32> {
    one_document(a, |record, settings| {
        render::worksheet::worksheet(record, settings.paper)
    })
}

pub(super) fn label(a: &DocArgs) -> Result<i32> {
    one_document(a, |record, settings| {
        settings.require_pharmacy()?;
        render::label::label(record, settings.label)
    })
}
