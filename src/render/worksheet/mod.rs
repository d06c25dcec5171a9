//! The compounding record of one batch, printed to be filled in and signed at the bench.
//!
//! USP <795> asks for a record per batch that carries the master formulation record's content
//! and what actually happened: who weighed what from which lot, every unit's weight, the
//! yield, and for a controlled substance where every milligram went. The layout is a form:
//! prefilled values in boxes, blank boxes and lines where the bench writes, amounts in one
//! column with their decimal points aligned so a misplaced point stands out.
//!
//! Layout flows top to bottom. Small blocks (a table row, a signature block, a numbered step)
//! are measured first and moved whole to the next page when they would be split; page numbers
//! are written last, once the page count is known.

mod actuals;
mod calculation;
mod closing;
mod components;
mod estimates;
mod flow;
mod header;
mod master;
mod procedure;
mod quality;
mod reconciliation;
mod release;
#[cfg(test)]
mod tests;

use actuals::actuals;
use calculation::{calculation, notes};
use closing::{complaints, deviations, signatures};
use components::ingredients;
use estimates::estimates;
use flow::{CHECK, Cell, Piece, Sheet, blank, cell, cell1};
use header::header;
use procedure::procedure;
use quality::quality;
use reconciliation::reconciliation;

pub use master::{Approved, master_record};
pub use release::{
    Acknowledged, Decision, Judged, Outcome, RELEASE_KIND, Signed, release_record, when,
};

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::batch_record::Record;
use crate::calc::{Aliquot, BasisSource, Ingredient, Role};
use crate::config::Paper;
use crate::error::{Error, Result};
use crate::formula::Schedule;
use crate::formula::short_name;
use crate::quantity::{Dimension, round_to, show};

use crate::render::DocMeta;
use crate::render::canvas::Canvas;
use crate::render::metrics::{self, Font};
use crate::render::text::{
    Run, date, doc_date, draw_runs, or_blank, strength_runs, wrap_runs, wrap_text,
};

pub(super) const MARGIN_X: f32 = 40.0;
pub(super) const MARGIN_TOP: f32 = 36.0;
/// Room below the content for the footer (lot, formula id, page n of m).
pub(super) const MARGIN_BOTTOM: f32 = 54.0;
/// Body text: readable at arm's length on a bench, small enough for a one-sheet batch.
pub(super) const BODY: f32 = 9.5;
pub(super) const LEAD: f32 = 12.5;
/// Captions above boxes and notes under names.
pub(super) const SMALL: f32 = 7.0;
/// Height of a line with a handwriting blank: room for pen above the rule.
pub(super) const FORM_LEAD: f32 = 18.0;
/// Most unit-weight boxes printed (see `quality::unit_grid`).
pub const UNIT_GRID_LIMIT: u32 = 2000;
/// Target width of one unit-weight box: wide enough to write "1.011".
pub(super) const UNIT_BOX_MIN_W: f32 = 50.0;
pub(super) const UNIT_BOX_H: f32 = 22.0;

pub(super) fn bold(text: impl Into<String>) -> Run {
    (Font::HelveticaBold, text.into())
}

pub(super) fn regular(text: impl Into<String>) -> Run {
    (Font::Helvetica, text.into())
}

/// Where text sits in a line box: glyphs (accents and descenders included) stay inside it.
pub(super) fn baseline(top: f32, size: f32, lead: f32) -> f32 {
    crate::render::frame::baseline(top, size, lead)
}

/// Schedule as printed on a record: the DEA's own wording.
pub(super) fn schedule_name(s: Schedule) -> &'static str {
    match s {
        Schedule::CII => "Schedule II (CII)",
        Schedule::CIII => "Schedule III (CIII)",
        Schedule::CIV => "Schedule IV (CIV)",
        Schedule::CV => "Schedule V (CV)",
    }
}

/// A mass in grams rounded to the balance, as the bench reads it off the display.
pub(super) fn grams(record: &Record, g: Decimal) -> String {
    match round_to(g, record.calc.balance.readability) {
        Some(r) => format!("{r} g"),
        None => format!("{} g", show(g)),
    }
}

/// Renders the compounding record for `record` on Letter or A4 paper.
///
/// # Errors
///
/// `Error::Render` if the PDF cannot be written.
pub fn worksheet(record: &Record, paper: Paper) -> Result<Vec<u8>> {
    let f = &record.formula;
    let meta = meta(
        record,
        "Compounding record",
        format!(
            "Compounding record from master formulation record {} version {}",
            f.id, f.version
        ),
        "worksheet",
    );
    let mut canvas = layout(record, paper);
    stamp(&mut canvas, record);
    canvas.into_pdf(&meta).map_err(Error::Render)
}

/// Writes the record's stamps, if any, across every page.
pub(crate) fn stamp(canvas: &mut crate::render::canvas::Canvas, record: &Record) {
    let lines = record.stamp_lines();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    canvas.stamp(&lines);
}

/// The filled-in compounding record (`troche record`): the worksheet, then pages of the
/// bench record of `lot` as the log keeps it (a correction says which record it supersedes).
///
/// # Errors
///
/// `Error::Render` if the PDF cannot be written.
pub fn filled_record(
    record: &Record,
    paper: Paper,
    lot: &str,
    bench: &crate::bench::BenchRecord,
) -> Result<Vec<u8>> {
    let mut canvas = layout_with(record, paper, |s| actuals(s, lot, bench));
    stamp(&mut canvas, record);
    let f = &record.formula;
    let meta = meta(
        record,
        "Filled-in compounding record",
        format!(
            "Compounding record with actual values, master formulation record {} version {}",
            f.id, f.version
        ),
        &crate::bench::BenchRecord::kind(bench.number),
    );
    canvas.into_pdf(&meta).map_err(Error::Render)
}

/// The document's metadata: title, subject, the pharmacy as author, the compounding date and
/// an identifier made from formula, version, lot and `kind`, so output stays reproducible.
fn meta(record: &Record, title: &str, subject: String, kind: &str) -> DocMeta {
    let f = &record.formula;
    DocMeta {
        title: format!("{title} {} — {}", record.lot, f.name),
        subject: Some(subject),
        author: record.pharmacy.as_ref().map(|p| p.name.clone()),
        date: doc_date(record.date),
        document_id: format!("troche/{}/{}/{}/{kind}", f.id, f.version, record.lot),
    }
}

/// Lays out every page and writes the footers.
pub(super) fn layout(record: &Record, paper: Paper) -> Canvas {
    layout_with(record, paper, |_| {})
}

/// [`layout`] with the pages `more` adds after the worksheet's, numbered with them.
fn layout_with(record: &Record, paper: Paper, more: impl FnOnce(&mut Sheet)) -> Canvas {
    let (w, h) = paper.size_pt();
    let f = &record.formula;
    let mut s = Sheet::new(
        (w, h),
        format!(
            "{} — compounding record, lot {} (continued)",
            f.name, record.lot
        ),
    );

    header(&mut s, record);
    estimates(&mut s, record);
    ingredients(&mut s, record);
    calculation(&mut s, record);
    notes(&mut s, record);
    procedure(&mut s, record);
    quality(&mut s, record);
    if record.schedule().is_some() {
        reconciliation(&mut s, record);
    }
    deviations(&mut s);
    // The signatures never stand alone on a page: they go with the section before them.
    s.keep(|s| {
        complaints(s);
        signatures(s);
    });
    more(&mut s);

    let mut footer = format!(
        "Lot {} · {} version {} · compounded {}",
        record.lot,
        f.id,
        f.version,
        date(record.date)
    );
    // The seal ties the paper to the log's hash chain: a chain rewritten afterwards no longer
    // shows it (`troche lot LOT --seal`).
    if let Some(seal) = &record.seal {
        footer.push_str(" · seal ");
        footer.push_str(seal);
    }
    s.finish(&footer)
}

/// A value from the order, or nothing (the box itself is the blank to fill in).
pub(super) fn or_value(v: Option<&str>) -> String {
    let v = or_blank(v);
    if v == super::text::BLANK {
        String::new()
    } else {
        v
    }
}
