//! The files a batch produces: worksheet, label and the JSON record, named from the lot.

use std::path::{Path, PathBuf};

use crate::batch_record::Record;
use crate::config::Settings;
use crate::error::Result;
use crate::{calc_report, render};

/// File names of one batch's documents in `dir`, in the order they are published: the two PDFs,
/// then the JSON record last. Three names cannot appear in a directory in one step, so the
/// record is what completes the set: once `STEM.json` exists, both PDFs were in place before
/// it (a reader, or a rerun of the recipe, can trust a record to stand for a whole batch). A
/// process killed between the renames leaves PDFs without a record: an interrupted batch,
/// whose lot stays taken, never one that looks made.
pub fn paths(dir: &Path, stem: &str) -> [PathBuf; 3] {
    [
        dir.join(format!("{stem}-worksheet.pdf")),
        dir.join(format!("{stem}-label.pdf")),
        dir.join(format!("{stem}.json")),
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
    let [w, l, j] = paths(dir, stem);
    let worksheet = render::worksheet::worksheet(record, settings.paper)?;
    let label = render::label::label(record, pharmacy, settings.label)?;
    Ok(vec![
        (w, worksheet),
        (l, label),
        (j, calc_report::record_json(record).into_bytes()),
    ])
}

/// The record JSON among a batch's rendered files, if they include it (borrowed: it is UTF-8
/// as written).
pub fn record_json_of(files: &[(PathBuf, Vec<u8>)]) -> Option<&str> {
    files
        .iter()
        .find(|(p, _)| p.extension().is_some_and(|e| e == "json"))
        .and_then(|(_, b)| std::str::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record completes the set: a reader (or a rerun) that finds `STEM.json` can rely on
    /// both PDFs being in place, since `publish::write_all` publishes in this order.
    #[test]
    fn the_record_is_published_last() {
        let [w, l, j] = paths(Path::new("d"), "L1");
        assert_eq!(w, Path::new("d/L1-worksheet.pdf"));
        assert_eq!(l, Path::new("d/L1-label.pdf"));
        assert_eq!(j, Path::new("d/L1.json"));
    }
}
