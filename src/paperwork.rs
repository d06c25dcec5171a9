//! The files a batch produces: worksheet, label and the JSON record, named from the lot.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::error::Result;
use crate::record::Record;
use crate::{render, report};

/// File names of one batch's documents in `dir`, in the order they are published: the JSON
/// record first, so that once it exists the lot belongs to its batch, and a rerun after a crash
/// completes any missing PDF under the same lot instead of making the batch again.
pub fn paths(dir: &Path, stem: &str) -> [PathBuf; 3] {
    [
        dir.join(format!("{stem}.json")),
        dir.join(format!("{stem}-worksheet.pdf")),
        dir.join(format!("{stem}-label.pdf")),
    ]
}

/// Renders all three documents in memory. The label needs the pharmacy, so it is checked
/// before any layout work.
pub fn render_all(
    record: &Record,
    settings: &Settings,
    dir: &Path,
    stem: &str,
) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let pharmacy = settings.require_pharmacy()?;
    let [j, w, l] = paths(dir, stem);
    let worksheet = render::worksheet::worksheet(record, settings.paper)?;
    let label = render::label::label(record, pharmacy, settings.label)?;
    Ok(vec![
        (j, report::record_json(record).into_bytes()),
        (w, worksheet),
        (l, label),
    ])
}
