//! The container label, laid out for the patient (USP <17>).
//!
//! What the patient needs to read comes first and largest: their name, the drug with its
//! strength, and the directions, never below 11 pt (USP <17> asks for 11-point Arial; the
//! label sets Helvetica, its metric twin). The other particulars the law requires on the
//! container follow in smaller type, never below 6.5 pt: the pharmacy's name, address and
//! phone at the top, the Rx number and date filled, the quantity and form,
//! refills, prescriber, lot, the beyond-use date (bold, 8 pt at least) with the storage
//! conditions, "Compounded preparation", room for the pharmacist's initials, and for
//! Schedule II–IV drugs the federal transfer warning of 21 CFR 290.5.
//!
//! None of those ever leaves the main label: an auxiliary label may not be applied, and the
//! container must still carry them. Only what the law does not require there moves, in this
//! order, to auxiliary labels (extra pages of the same stock in the same PDF, each headed with
//! the Rx number and the patient so it is stuck on the right container): the formula's
//! warnings that do not fit, from the last, and the description of the unit. If the
//! required text does not fit at the smallest sizes, the label is refused, naming what ran
//! off the label and the common label sizes that take it.

mod auxiliary;
mod content;
mod fit;
mod layout;
#[cfg(test)]
mod tests;

use crate::batch_record::Record;
use crate::config::{LabelSize, Pharmacy};
use crate::error::{Error, Result};

use super::DocMeta;
use super::canvas::Canvas;
use super::text::{Run, doc_date, draw_runs};

use auxiliary::auxiliary_labels;
use content::{Content, Prepared};
use fit::{bud_size, choose, pharmacy_size, refusal};
use layout::main_label;

/// Sizes tried for the patient's name, the drug and strength, and the directions while
/// every warning still fits on the main label, largest first.
const KEY_SIZES_ALL_WARNINGS: [f32; 3] = [12.0, 11.5, 11.0];
/// Smallest size of the patient's name, the drug and strength, and the directions: USP <17>
/// asks for 11-point Arial (or 12-point Times). Once a warning has to move to an auxiliary
/// label, the key fields print at this size: a larger size is not worth a warning off the
/// container.
const MIN_KEY_PT: f32 = 11.0;
/// Sizes tried for the other particulars, largest first.
const DETAIL_SIZES: [f32; 2] = [7.0, 6.5];
/// Smallest size printed on a label at all: below this label printers and eyes both fail.
const MIN_DETAIL_PT: f32 = 6.5;
/// How much larger than the other particulars the beyond-use date prints, in bold.
const BUD_STEP_PT: f32 = 1.5;
/// Smallest size of the beyond-use date, which prints bold.
const MIN_BUD_PT: f32 = 8.0;
/// Size of the formula's warnings on the main label; they move to an auxiliary label
/// rather than print smaller.
const WARNING_PT: f32 = 7.0;
/// Sizes tried for the warnings on auxiliary labels: the largest that needs no more labels
/// than the smallest does.
const AUX_SIZES: [f32; 4] = [10.0, 9.0, 8.0, 7.0];
/// Size of the heading of an auxiliary label.
const AUX_HEADING_PT: f32 = 7.0;
/// The main label's pointer to the auxiliary labels: none, when the description moved, and
/// when only warnings did.
const SEE_AUX: [&str; 3] = [
    "",
    "See auxiliary label.",
    "See auxiliary label for more warnings.",
];
/// Room for the pharmacist's initials.
const INITIALS: &str = "______";
/// Space above and below a rule, as a multiple of the size of the text around it.
const RULE_GAP: f32 = 0.2;
/// Line spacing of the three key fields, as a multiple of the size: Helvetica's ascender
/// and descender span 0.93 em, so this keeps a clear gap between lines while a 4 × 2 in
/// label still holds four lines of directions beside everything the law requires.
const KEY_LEADING: f32 = 1.08;
/// Line spacing of everything else.
const LEADING: f32 = 1.1;
/// Least space between two short fields on a line, as a multiple of their size: each
/// starts with its bold name, which sets it apart.
const FIELD_GAP: f32 = 1.0;
/// Label stock pharmacies commonly print on (laser sheets and thermal rolls), width by
/// height in points, smallest first: the sizes a refused label suggests.
const COMMON_STOCK: [(f32, f32); 7] = [
    (216.0, 108.0),
    (216.0, 144.0),
    (288.0, 144.0),
    (288.0, 180.0),
    (288.0, 216.0),
    (288.0, 288.0),
    (288.0, 432.0),
];

/// Something drawn on a label page, positioned by the layout.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A line of runs with its first glyph at `x`.
    Line {
        x: f32,
        baseline: f32,
        size: f32,
        runs: Vec<Run>,
    },
    /// A hairline across the content width.
    Rule { y: f32 },
}

/// A label laid out, ready to draw: the main label and any auxiliary labels.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LabelLayout {
    /// Size of the patient's name, the drug and strength, and the directions.
    pub(super) key_size_pt: f32,
    /// Size of the other particulars on the main label.
    pub(super) detail_size_pt: f32,
    /// Size of the beyond-use date, in bold.
    pub(super) bud_size_pt: f32,
    /// Size of the pharmacy's name, address and phone.
    pub(super) pharmacy_size_pt: f32,
    /// How many of the formula's warnings are on the main label (the first ones).
    pub(super) warnings_on_main: usize,
    /// Whether the description of the unit is on the main label.
    pub(super) description_on_main: bool,
    /// Size of the warnings on the auxiliary labels, when there are any.
    pub(super) aux_size_pt: Option<f32>,
    /// Height from the top edge of the main label down to the bottom of its last line,
    /// margin included.
    pub(super) used_height_pt: f32,
    size: LabelSize,
    margin: f32,
    /// The main label, then the auxiliary labels.
    pages: Vec<Vec<Item>>,
}

impl LabelLayout {
    /// Pages in the PDF: the main label and its auxiliary labels.
    #[cfg(test)]
    pub(super) fn page_count(&self) -> usize {
        self.pages.len()
    }
}

/// Lays out the main label at the largest sizes at which its fields fit, and moves the
/// warnings and the description that do not fit onto auxiliary labels.
///
/// # Errors
///
/// `Error::LabelFit` if the text the law requires on the container does not fit even at
/// the smallest sizes with the description and every formula warning moved off it; the
/// message names what ran off the label, the common label sizes that take it, and the
/// longest fields to shorten. A label always shows the pharmacy, so the pharmacy is an
/// argument, not an optional part of the record.
pub(super) fn label_layout(
    record: &Record,
    pharmacy: &Pharmacy,
    size: LabelSize,
) -> Result<LabelLayout> {
    let content = Content::new(record, pharmacy);
    let text = Prepared::new(&content);
    let refuse = || Error::LabelFit(refusal(&content, &text, size));
    let plan = choose(&text, size).ok_or_else(refuse)?;
    let mut main = main_label(&text, size, &plan, true).ok_or_else(refuse)?;
    let (aux_size, aux) = auxiliary_labels(&text, &content, size, &plan)?;
    let mut pages = vec![std::mem::take(&mut main.items)];
    pages.extend(aux);
    Ok(LabelLayout {
        key_size_pt: plan.key,
        detail_size_pt: plan.detail,
        bud_size_pt: bud_size(plan.detail),
        pharmacy_size_pt: pharmacy_size(plan.detail),
        warnings_on_main: plan.warnings,
        description_on_main: plan.description,
        aux_size_pt: aux_size,
        used_height_pt: main.frame.y + main.frame.left,
        size,
        margin: main.frame.left,
        pages,
    })
}

/// Renders the label as a PDF the size of the label stock: the main label, then one page
/// per auxiliary label.
///
/// # Errors
///
/// As [`label_layout`], or if the PDF cannot be written.
pub fn label(record: &Record, pharmacy: &Pharmacy, size: LabelSize) -> Result<Vec<u8>> {
    let layout = label_layout(record, pharmacy, size)?;
    let mut canvas = Canvas::new(size.width_pt, size.height_pt);
    for (i, page) in layout.pages.iter().enumerate() {
        if i > 0 {
            canvas.new_page();
        }
        for item in page {
            match item {
                Item::Line {
                    x,
                    baseline,
                    size,
                    runs,
                } => {
                    draw_runs(&mut canvas, *x, *baseline, *size, runs);
                }
                Item::Rule { y } => {
                    let (left, right) = (layout.margin, size.width_pt - layout.margin);
                    canvas.line(left, *y, right, *y, 0.5);
                }
            }
        }
    }
    let meta = DocMeta {
        title: format!("Label {} — {}", record.lot, record.formula.name),
        subject: Some(format!(
            "Prescription label, {} version {}",
            record.formula.id, record.formula.version
        )),
        author: Some(pharmacy.name.clone()),
        date: doc_date(record.date),
        document_id: format!(
            "troche/{}/{}/{}/label",
            record.formula.id, record.formula.version, record.lot
        ),
    };
    super::worksheet::stamp(&mut canvas, record);
    canvas.into_pdf(&meta).map_err(Error::Render)
}
