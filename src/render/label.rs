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

use crate::batch_record::{FEDERAL_TRANSFER_WARNING, Record};
use crate::config::{LabelSize, Pharmacy};
use crate::error::{Error, Result};

use super::DocMeta;
use super::canvas::Canvas;
use super::frame::{Column, Frame, open_line, paragraph, set_lines};
use super::metrics;
use super::text::{
    BLANK, Run, Words, Wrap as _, bold, date, doc_date, draw_runs, or_blank, regular, strength_runs,
};

/// Sizes tried for the patient's name, the drug and strength, and the directions while
/// every warning still fits on the main label, largest first.
const KEY_SIZES_ALL_WARNINGS: [f32; 3] = [12.0, 11.5, 11.0];
/// Smallest size of the patient's name, the drug and strength, and the directions: USP <17>
/// asks for 11-point Arial (or 12-point Times). Once a warning has to move to an auxiliary
/// label, the key fields print at this size: a larger size is not worth a warning off the
/// container.
pub const MIN_KEY_PT: f32 = 11.0;
/// Sizes tried for the other particulars, largest first.
const DETAIL_SIZES: [f32; 2] = [7.0, 6.5];
/// Smallest size printed on a label at all: below this label printers and eyes both fail.
pub const MIN_DETAIL_PT: f32 = 6.5;
/// How much larger than the other particulars the beyond-use date prints, in bold.
const BUD_STEP_PT: f32 = 1.5;
/// Smallest size of the beyond-use date, which prints bold.
pub const MIN_BUD_PT: f32 = 8.0;
/// Size of the formula's warnings on the main label; they move to an auxiliary label
/// rather than print smaller.
pub const WARNING_PT: f32 = 7.0;
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
pub struct LabelLayout {
    /// Size of the patient's name, the drug and strength, and the directions.
    pub key_size_pt: f32,
    /// Size of the other particulars on the main label.
    pub detail_size_pt: f32,
    /// Size of the beyond-use date, in bold.
    pub bud_size_pt: f32,
    /// Size of the pharmacy's name, address and phone.
    pub pharmacy_size_pt: f32,
    /// How many of the formula's warnings are on the main label (the first ones).
    pub warnings_on_main: usize,
    /// Whether the description of the unit is on the main label.
    pub description_on_main: bool,
    /// Size of the warnings on the auxiliary labels, when there are any.
    pub aux_size_pt: Option<f32>,
    /// Height from the top edge of the main label down to the bottom of its last line,
    /// margin included.
    pub used_height_pt: f32,
    size: LabelSize,
    margin: f32,
    /// The main label, then the auxiliary labels.
    pages: Vec<Vec<Item>>,
}

impl LabelLayout {
    /// Pages in the PDF: the main label and its auxiliary labels.
    pub fn page_count(&self) -> usize {
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
pub fn label_layout(record: &Record, pharmacy: &Pharmacy, size: LabelSize) -> Result<LabelLayout> {
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
/// The label's text, gathered once so that every size tried lays out the same words.
struct Content {
    pharmacy_name: String,
    pharmacy_address: String,
    pharmacy_phone: String,
    pharmacy_contact: String,
    rx: String,
    filled: String,
    patient: Option<String>,
    prescriber: String,
    strengths: Vec<String>,
    /// "30 troches (buccal)": the count with the dosage form and route.
    quantity: String,
    directions: String,
    description: String,
    bud: String,
    lot: String,
    storage: String,
    refills: String,
    warnings: Vec<String>,
    federal: bool,
}

impl Content {
    fn new(record: &Record, pharmacy: &Pharmacy) -> Self {
        let order = &record.order;
        let mut strengths = record.strength_lines();
        if strengths.is_empty() {
            strengths.push(record.formula.name.clone());
        }
        let units = record.calc.units_dispensed;
        let form = record.formula.dosage_form.trim();
        let form = if units == 1 {
            form.to_owned()
        } else {
            plural(form)
        };
        let route = record.formula.route.trim();
        let quantity = match (form.is_empty(), route.is_empty()) {
            (false, false) => format!("{units} {form} ({route})"),
            (false, true) => format!("{units} {form}"),
            (true, false) => format!("{units} ({route})"),
            (true, true) => units.to_string(),
        };
        let contact = [pharmacy.address.trim(), pharmacy.phone.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>();
        let contact = match contact.as_slice() {
            [] => String::new(),
            [one] if *one == pharmacy.phone.trim() => format!("Phone {one}"),
            [one] => (*one).to_owned(),
            [address, phone, ..] => format!("{address} · {phone}"),
        };
        Content {
            pharmacy_name: pharmacy.name.trim().to_owned(),
            pharmacy_address: pharmacy.address.trim().to_owned(),
            pharmacy_phone: pharmacy.phone.trim().to_owned(),
            pharmacy_contact: contact,
            rx: or_blank(order.rx.as_deref()),
            filled: date(record.date),
            patient: order
                .patient
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            prescriber: or_blank(order.prescriber.as_deref()),
            strengths,
            quantity,
            directions: record.directions.trim().to_owned(),
            description: record.formula.description.trim().to_owned(),
            bud: date(record.bud.date),
            lot: record.lot.clone(),
            storage: record.formula.bud.storage.trim().to_owned(),
            refills: order
                .refills
                .map_or_else(|| BLANK.to_owned(), |r| r.to_string()),
            warnings: record
                .formula
                .label
                .warnings
                .iter()
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect(),
            federal: record.needs_transfer_warning(),
        }
    }

    /// The patient as the heading of an auxiliary label names them.
    fn patient_or_blank(&self) -> &str {
        self.patient.as_deref().unwrap_or(BLANK)
    }
}

/// The plural of a dosage form: "troches", "suppositories", "rapid-dissolve tablets".
fn plural(form: &str) -> String {
    let consonant_y = form.strip_suffix('y').filter(|stem| {
        stem.chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphabetic() && !"aeiouAEIOU".contains(c))
    });
    match consonant_y {
        _ if form.is_empty() => String::new(),
        Some(stem) => format!("{stem}ies"),
        None if form.ends_with('s') || form.ends_with('x') || form.ends_with("ch") => {
            format!("{form}es")
        }
        None => format!("{form}s"),
    }
}

/// The label's paragraphs and field groups as words ready to wrap, prepared once for all
/// the sizes [`label_layout`] tries.
struct Prepared {
    /// The pharmacy's name, address and phone on one line; when they do not fit on one,
    /// the name and address, and the phone starting a line of its own so it never breaks.
    pharmacy: [Words; 3],
    patient: Words,
    strengths: Vec<Words>,
    directions: Words,
    /// Short fields, in order: beside the key fields where there is room, the rest packed
    /// onto as few lines as they fit.
    details: Vec<(&'static str, Words)>,
    /// "Do not use after ...", in bold.
    bud: Words,
    /// The storage conditions word by word: they run on from the beyond-use date's line.
    storage: Vec<String>,
    description: Option<Words>,
    warnings: Vec<Words>,
    /// The federal transfer warning alone, and with each pointer run on after it.
    federal: Option<[Words; 3]>,
    /// The main label's pointer to the auxiliary labels: when the description moved, and
    /// when only warnings did.
    see_aux: [Words; 2],
}

impl Prepared {
    fn new(content: &Content) -> Self {
        let pair = |label: &str, value: &str| Words::new(&[bold(label), regular(value)]);
        let name = bold(content.pharmacy_name.as_str());
        let dotted = |s: &str| (!s.is_empty()).then(|| regular(format!("· {s}")));
        let full: Vec<Run> = std::iter::once(name.clone())
            .chain(dotted(&content.pharmacy_contact))
            .collect();
        let address: Vec<Run> = std::iter::once(name)
            .chain(dotted(&content.pharmacy_address))
            .collect();
        let phone = if content.pharmacy_phone.is_empty() {
            Vec::new()
        } else {
            vec![regular(format!("Phone {}", content.pharmacy_phone))]
        };
        Prepared {
            pharmacy: [Words::new(&full), Words::new(&address), Words::new(&phone)],
            patient: match &content.patient {
                Some(p) => Words::new(&[bold(p.as_str())]),
                None => pair("Patient:", BLANK),
            },
            strengths: content
                .strengths
                .iter()
                .map(|s| Words::new(&strength_runs(s)))
                .collect(),
            directions: if content.directions.is_empty() {
                pair("Directions:", BLANK)
            } else {
                Words::new(&[regular(content.directions.as_str())])
            },
            details: vec![
                ("Rx number", pair("Rx:", &content.rx)),
                ("date filled", pair("Filled:", &content.filled)),
                ("quantity", pair("Qty:", &content.quantity)),
                ("refills", pair("Refills:", &content.refills)),
                ("prescriber", pair("Prescriber:", &content.prescriber)),
                ("lot", pair("Lot:", &content.lot)),
                ("pharmacist's initials", pair("RPh:", INITIALS)),
                (
                    "\"Compounded preparation\"",
                    Words::new(&[bold("Compounded preparation")]),
                ),
            ],
            bud: Words::new(&[bold(format!("Do not use after {}.", content.bud))]),
            storage: content
                .storage
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            description: (!content.description.is_empty())
                .then(|| pair("Description:", &content.description)),
            warnings: content
                .warnings
                .iter()
                .map(|w| Words::new(&[bold("•"), regular(w.as_str())]))
                .collect(),
            federal: content
                .federal
                .then(|| SEE_AUX.map(|s| Words::new(&[bold(FEDERAL_TRANSFER_WARNING), bold(s)]))),
            see_aux: [SEE_AUX[1], SEE_AUX[2]].map(|s| Words::new(&[bold(s)])),
        }
    }
}

/// The sizes of a main label and what, beyond the required text, it carries.
#[derive(Debug, Clone, Copy)]
struct Plan {
    key: f32,
    detail: f32,
    /// How many of the formula's warnings, from the first, are on the main label.
    warnings: usize,
    /// Whether the description of the unit is on the main label.
    description: bool,
}

impl Plan {
    /// The plan with only the required text, at the smallest sizes.
    const SMALLEST: Plan = Plan {
        key: MIN_KEY_PT,
        detail: MIN_DETAIL_PT,
        warnings: 0,
        description: false,
    };

    /// Whether anything has to go on an auxiliary label.
    fn needs_aux(&self, text: &Prepared) -> bool {
        self.warnings < text.warnings.len() || (!self.description && text.description.is_some())
    }
}

/// The best main label that fits: every warning and the description with the key fields
/// as large as possible; failing that, the key fields at 11 pt and the other fields at the
/// largest size that fits with the description, filled up with as many of the formula's
/// warnings as still fit; then the same without the description. `None` when the required
/// text does not fit even at the smallest sizes.
fn choose(text: &Prepared, size: LabelSize) -> Option<Plan> {
    let all = text.warnings.len();
    let fits = |plan: &Plan| main_label(text, size, plan, false).is_some();
    for key in KEY_SIZES_ALL_WARNINGS {
        let plan = Plan {
            key,
            detail: DETAIL_SIZES[0],
            warnings: all,
            description: true,
        };
        if fits(&plan) {
            return Some(plan);
        }
    }
    let descriptions: &[bool] = if text.description.is_some() {
        &[true, false]
    } else {
        &[false]
    };
    for &description in descriptions {
        for detail in DETAIL_SIZES {
            let mut plan = Plan {
                key: MIN_KEY_PT,
                detail,
                warnings: 0,
                description,
            };
            if !fits(&plan) {
                continue;
            }
            while plan.warnings < all
                && fits(&Plan {
                    warnings: plan.warnings + 1,
                    ..plan
                })
            {
                plan.warnings += 1;
            }
            return Some(plan);
        }
    }
    None
}

/// The pharmacy's line: a step below the other particulars, but never below the minimum.
fn pharmacy_size(detail: f32) -> f32 {
    (detail - 0.5).max(MIN_DETAIL_PT)
}

/// The beyond-use date: bold, a step and a half above the other particulars.
fn bud_size(detail: f32) -> f32 {
    (detail + BUD_STEP_PT).max(MIN_BUD_PT)
}

/// Quiet zone kept clear at every edge, since label printers do not register exactly
/// (thermal and laser label printers hold about 1 mm): a twenty-fourth of the height
/// (2.1 mm on 2 in stock), within 5 to 9 pt.
fn margin(size: LabelSize) -> f32 {
    (size.height_pt / 24.0).clamp(5.0, 9.0)
}

/// Places lines top to bottom in a label's frame, inside its margins, and remembers what it
/// drew. A label never breaks: lines are set below its bottom margin too, and the label is
/// refused (the main label) or continued on the next one (an auxiliary label) by whoever
/// measured it.
struct Flow {
    frame: Frame,
    items: Vec<Item>,
    /// Where each named field of the main label ends, top down, for the message of a label
    /// that does not fit.
    marks: Vec<(&'static str, f32)>,
    /// Whether to keep what is laid out; without, only the height is worked out.
    build: bool,
}

impl Flow {
    /// A flow over the whole label inside its margins, or `None` if nothing fits on it.
    fn new(size: LabelSize, build: bool) -> Option<Flow> {
        let margin = margin(size);
        let frame = Frame::new(
            margin,
            margin,
            size.width_pt - margin,
            size.height_pt - margin,
        )?;
        Some(Flow {
            frame,
            items: Vec::new(),
            marks: Vec::new(),
            build,
        })
    }

    fn width(&self) -> f32 {
        self.frame.width()
    }

    /// Notes that the field `name` ends here.
    fn mark(&mut self, name: &'static str) {
        self.marks.push((name, self.frame.y));
    }

    /// Baseline of a single line of `size` at the current position.
    fn baseline(&self, size: f32) -> f32 {
        self.frame.baseline(size, size * LEADING)
    }

    /// A wrapped paragraph; `leading` is the line spacing as a multiple of `size`.
    fn para(&mut self, words: &Words, size: f32, leading: f32) {
        let at = (self.frame.left, self.width());
        paragraph(self, at, (size, size * leading), words);
    }

    /// Short fields packed onto as few lines as they fit, spread across each line; a field
    /// never breaks inside unless it is longer than a whole line.
    fn fields(&mut self, groups: &[&(&'static str, Words)], size: f32) {
        let gap = size * FIELD_GAP;
        let mut pending: Vec<(&'static str, Vec<Run>, f32)> = Vec::new();
        for (name, group) in groups {
            let (count, w) = group.measure(size, self.width());
            if count > 1 {
                self.flush(&mut pending, size);
                self.para(group, size, LEADING);
                self.mark(name);
                continue;
            }
            if count == 0 {
                continue;
            }
            let used: f32 = pending.iter().map(|(_, _, w)| w + gap).sum();
            if !pending.is_empty() && used + w > self.width() {
                self.flush(&mut pending, size);
            }
            let line = if self.build {
                group.wrap(size, self.width()).pop().unwrap_or_default()
            } else {
                Vec::new()
            };
            pending.push((name, line, w));
        }
        self.flush(&mut pending, size);
    }

    /// A wrapped paragraph at `size` with line spacing `leading`, with as many of the short
    /// fields from `queue[*next..]` as fit set flush right at `field_size` on the baseline of
    /// its last line, which is most often short; `*next` moves past the fields set.
    fn para_beside(
        &mut self,
        (words, size, leading): (&Words, f32, f32),
        queue: &[&(&'static str, Words)],
        next: &mut usize,
        field_size: f32,
    ) {
        let gap = field_size * FIELD_GAP;
        let (count, last_w) = words.measure(size, self.width());
        let mut placed: Vec<(&'static str, &Words, f32)> = Vec::new();
        let mut used = last_w + gap;
        for (name, field) in queue.get(*next..).unwrap_or(&[]) {
            let (1, w) = field.measure(field_size, self.width()) else {
                break;
            };
            if count == 0 || used + gap + w > self.width() {
                break;
            }
            used += gap + w;
            placed.push((name, field, w));
        }
        *next += placed.len();
        let lead = size * leading;
        if self.build {
            let lines = words.wrap(size, self.width());
            let last = lines.len().saturating_sub(1);
            for (i, line) in lines.into_iter().enumerate() {
                let baseline = open_line(self, size, lead);
                self.place(self.frame.left, baseline, size, line);
                self.frame.y += lead;
                if i == last && !placed.is_empty() {
                    let total: f32 = placed.iter().map(|(_, _, w)| w + gap).sum::<f32>() - gap;
                    let mut x = self.frame.right - total;
                    for (_, field, w) in &placed {
                        let runs = field
                            .wrap(field_size, self.width())
                            .pop()
                            .unwrap_or_default();
                        self.place(x, baseline, field_size, runs);
                        x += w + gap;
                    }
                }
            }
        } else {
            self.frame.y += metrics::count(count) * lead;
        }
        for (name, _, _) in placed {
            self.mark(name);
        }
    }

    /// A one-line lead at `size` (bold, say) with the words of a paragraph at `body_size`
    /// running on after it on the same baseline, as many as fit, and the rest wrapped
    /// below, with fields from `queue` beside its last line as [`Flow::para_beside`] sets
    /// them. A lead longer than a line, or with no room after it, is a paragraph of its own.
    fn run_in(
        &mut self,
        (lead, size): (&Words, f32),
        (body, body_size): (&[String], f32),
        queue: &[&(&'static str, Words)],
        next: &mut usize,
    ) {
        let (count, lead_w) = lead.measure(size, self.width());
        let space = body_size * 0.6;
        let room = self.width() - lead_w - space;
        // The most words of the body that fit beside the lead: a prefix fits if its one
        // line is no wider than the room, and longer prefixes are never narrower.
        let fits = |k: usize| {
            let prefix = Words::new(&[regular(body.get(..k).unwrap_or(&[]).join(" "))]);
            matches!(prefix.measure(body_size, self.width()), (1, w) if w <= room)
        };
        let (mut low, mut high) = (0, body.len());
        if count == 1 && room > 0.0 {
            while low < high {
                let mid = (low + high).div_ceil(2);
                if fits(mid) {
                    low = mid;
                } else {
                    high = mid - 1;
                }
            }
        }
        let beside = if count == 1 { low } else { 0 };
        if count == 1 {
            if self.build {
                let baseline = self.baseline(size);
                let runs = lead.wrap(size, self.width()).pop().unwrap_or_default();
                self.place(self.frame.left, baseline, size, runs);
                if beside > 0 {
                    let words = body.get(..beside).unwrap_or(&[]).join(" ");
                    let runs = Words::new(&[regular(words)])
                        .wrap(body_size, self.width())
                        .pop()
                        .unwrap_or_default();
                    self.place(self.frame.left + lead_w + space, baseline, body_size, runs);
                }
            }
            self.frame.y += size * LEADING;
        } else {
            self.para(lead, size, LEADING);
        }
        self.mark("beyond-use date");
        if beside < body.len() {
            let rest = Words::new(&[regular(body.get(beside..).unwrap_or(&[]).join(" "))]);
            self.para_beside((&rest, body_size, LEADING), queue, next, body_size);
        }
        if !body.is_empty() {
            self.mark("storage");
        }
    }

    /// Sets the pending fields on one line, first flush left, last flush right.
    fn flush(&mut self, pending: &mut Vec<(&'static str, Vec<Run>, f32)>, size: f32) {
        if pending.is_empty() {
            return;
        }
        let n = pending.len();
        let total: f32 = pending.iter().map(|(_, _, w)| w).sum();
        let spacing = if n > 1 {
            (self.width() - total) / metrics::count(n - 1)
        } else {
            0.0
        };
        let baseline = self.baseline(size);
        let mut x = self.frame.left;
        let mut names = Vec::with_capacity(n);
        for (name, runs, w) in pending.drain(..) {
            self.place(x, baseline, size, runs);
            names.push(name);
            x += w + spacing;
        }
        self.frame.y += size * LEADING;
        for name in names {
            self.mark(name);
        }
    }

    /// Vertical space.
    fn gap(&mut self, height: f32) {
        self.frame.y += height;
    }

    /// A hairline with `gap` of space above and below.
    fn rule(&mut self, gap: f32) {
        self.frame.y += gap;
        if self.build {
            self.items.push(Item::Rule { y: self.frame.y });
        }
        self.frame.y += gap + 0.5;
    }
}

/// A label is a column of fixed height: it makes no room.
impl Column for Flow {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn frame_mut(&mut self) -> &mut Frame {
        &mut self.frame
    }

    fn measuring(&self) -> bool {
        !self.build
    }

    fn place(&mut self, x: f32, baseline: f32, size: f32, runs: Vec<Run>) {
        if self.build {
            self.items.push(Item::Line {
                x,
                baseline,
                size,
                runs,
            });
        }
    }
}

/// The main label laid out by `plan`, or `None` if it does not fit. Without `build` only
/// the height is worked out and the flow has no items.
fn main_label(text: &Prepared, size: LabelSize, plan: &Plan, build: bool) -> Option<Flow> {
    let flow = main_flow(text, size, plan, build)?;
    flow.frame.fits().then_some(flow)
}

/// The main label laid out by `plan` whether or not it fits, with where each field ends;
/// `None` only if the stock has no room inside its margins.
fn main_flow(text: &Prepared, size: LabelSize, plan: &Plan, build: bool) -> Option<Flow> {
    let mut flow = Flow::new(size, build)?;
    let (key, detail) = (plan.key, plan.detail);

    // The particulars go flush right beside the last line of the pharmacy's line, the
    // patient, the strength, the directions and the storage where there is room (the space
    // a label would otherwise waste), and the rest on lines of their own.
    let queue: Vec<&(&'static str, Words)> = text.details.iter().collect();
    let mut next = 0;
    let small = pharmacy_size(detail);
    let [full, address, phone] = &text.pharmacy;
    if full.measure(small, flow.width()).0 <= 1 {
        flow.para_beside((full, small, LEADING), &queue, &mut next, detail);
    } else {
        flow.para(address, small, LEADING);
        flow.para_beside((phone, small, LEADING), &queue, &mut next, detail);
    }
    flow.mark("pharmacy's name, address and phone");
    flow.rule(detail * RULE_GAP);

    flow.para_beside((&text.patient, key, KEY_LEADING), &queue, &mut next, detail);
    flow.mark("patient");
    for s in &text.strengths {
        flow.para_beside((s, key, KEY_LEADING), &queue, &mut next, detail);
    }
    flow.mark("drug and strength");
    flow.para_beside(
        (&text.directions, key, KEY_LEADING),
        &queue,
        &mut next,
        detail,
    );
    flow.mark("directions");
    let bud = (&text.bud, bud_size(detail));
    flow.run_in(bud, (&text.storage, detail), &queue, &mut next);
    flow.fields(queue.get(next..).unwrap_or(&[]), detail);
    if let Some(description) = text.description.as_ref().filter(|_| plan.description) {
        flow.para(description, detail, LEADING);
    }

    // The pointer to the auxiliary label runs on after the last warning on the main label,
    // or stands alone when there is none.
    let warnings = text.warnings.get(..plan.warnings).unwrap_or(&[]);
    let pointer = plan
        .needs_aux(text)
        .then(|| usize::from(plan.description || text.description.is_none()) + 1);
    // The federal warning, in bold, starts its own line right after the storage conditions.
    if let Some(federal) = &text.federal {
        let with = if warnings.is_empty() { pointer } else { None };
        flow.para(&federal[with.unwrap_or(0)], detail, LEADING);
        flow.mark("federal transfer warning");
        if with.is_some() {
            flow.mark("pointer to the auxiliary label");
        }
    }
    if !warnings.is_empty() {
        flow.rule(detail * RULE_GAP);
    }
    for w in warnings {
        flow.para(w, WARNING_PT, LEADING);
    }
    if let Some(pointer) = pointer.filter(|_| !warnings.is_empty() || text.federal.is_none()) {
        flow.para(&text.see_aux[pointer - 1], detail, LEADING);
        flow.mark("pointer to the auxiliary label");
    }
    // The last line box ends at `y`; its descenders stay inside it.
    Some(flow)
}

/// The auxiliary labels for what `plan` leaves off the main label (the description, then
/// the warnings), at the largest size that needs no more labels than the smallest size
/// does, with that size; no labels when everything is on the main label.
///
/// # Errors
///
/// `Error::LabelFit` if the stock is too small for even one line of warning below the
/// heading.
fn auxiliary_labels(
    text: &Prepared,
    content: &Content,
    size: LabelSize,
    plan: &Plan,
) -> Result<(Option<f32>, Vec<Vec<Item>>)> {
    let mut moved: Vec<&Words> = Vec::new();
    moved.extend(text.description.as_ref().filter(|_| !plan.description));
    moved.extend(text.warnings.get(plan.warnings..).unwrap_or(&[]));
    if moved.is_empty() {
        return Ok((None, Vec::new()));
    }
    let heading = |page: usize, pages: usize| {
        Words::new(&[bold(format!(
            "Auxiliary label {page} of {pages} — Rx {} — {}",
            content.rx,
            content.patient_or_blank()
        ))])
    };
    let paginate = |warning_pt: f32, build: bool| -> Option<Vec<Vec<Item>>> {
        // The heading's height depends on how many labels there are; start from one and
        // settle on a count that agrees with itself.
        let mut pages = 1;
        for _ in 0..4 {
            let laid = aux_pages(&moved, size, warning_pt, &|p| heading(p, pages), build)?;
            if laid.len() == pages {
                return Some(laid);
            }
            pages = laid.len();
        }
        aux_pages(&moved, size, warning_pt, &|p| heading(p, pages), build)
    };
    let counts: Vec<(f32, Option<usize>)> = AUX_SIZES
        .iter()
        .map(|&pt| (pt, paginate(pt, false).map(|p| p.len())))
        .collect();
    let fewest = counts.iter().filter_map(|(_, n)| *n).min();
    let best = counts
        .iter()
        .find(|(_, n)| n.is_some() && *n == fewest)
        .map(|(pt, _)| *pt);
    let laid = best.and_then(|pt| paginate(pt, true).map(|pages| (pt, pages)));
    let Some((pt, pages)) = laid else {
        return Err(Error::LabelFit(format!(
            "the warnings do not fit on an auxiliary label of {} even at {WARNING_PT} pt; \
             use a larger label ([label] width and height in troche.toml)",
            stock(size.width_pt, size.height_pt)
        )));
    };
    Ok((Some(pt), pages))
}
/// Warnings set one after another on auxiliary labels at `warning_pt`, each under its
/// heading; a warning starts a new label rather than break across two, unless it is longer
/// than a whole label. `None` if the heading and one line do not fit on the stock.
fn aux_pages(
    warnings: &[&Words],
    size: LabelSize,
    warning_pt: f32,
    heading: &dyn Fn(usize) -> Words,
    build: bool,
) -> Option<Vec<Vec<Item>>> {
    let lead = warning_pt * LEADING;
    let start = |page: usize| -> Option<Flow> {
        let mut flow = Flow::new(size, build)?;
        flow.para(&heading(page), AUX_HEADING_PT, LEADING);
        flow.rule(AUX_HEADING_PT * 0.3);
        // Warnings are set below the heading.
        flow.frame.top = flow.frame.y;
        (flow.frame.y + lead <= flow.frame.bottom).then_some(flow)
    };
    let flow = start(1)?;
    let mut labels = AuxLabels {
        flow,
        pages: Vec::new(),
        start: &start,
        failed: false,
    };
    for (i, words) in warnings.iter().enumerate() {
        if i > 0 {
            labels.flow.gap(warning_pt * 0.25);
        }
        let lines: Vec<Vec<Run>> = if build {
            words.wrap(warning_pt, labels.flow.width())
        } else {
            vec![Vec::new(); words.measure(warning_pt, labels.flow.width()).0]
        };
        // A warning is kept whole on one label.
        let height = metrics::count(lines.len()) * lead;
        let frame = &labels.flow.frame;
        if frame.breaks_at(frame.y, height) {
            labels.next_label();
        }
        let left = labels.flow.frame.left;
        set_lines(&mut labels, left, (warning_pt, lead), lines);
        if labels.failed {
            return None;
        }
    }
    labels.pages.push(labels.flow.items);
    Some(labels.pages)
}

/// Auxiliary labels being filled: a column that continues on the next label when a line
/// does not fit on this one.
struct AuxLabels<'a> {
    /// The label being filled; its frame's top is below its heading.
    flow: Flow,
    /// The labels filled before it.
    pages: Vec<Vec<Item>>,
    /// A fresh label with its heading, given its number; `None` if no line fits below it.
    start: &'a dyn Fn(usize) -> Option<Flow>,
    /// Whether a label was needed that could not hold a line.
    failed: bool,
}

impl AuxLabels<'_> {
    fn next_label(&mut self) {
        let Some(next) = (self.start)(self.pages.len() + 2) else {
            self.failed = true;
            return;
        };
        let done = std::mem::replace(&mut self.flow, next);
        self.pages.push(done.items);
    }
}

impl Column for AuxLabels<'_> {
    fn frame(&self) -> &Frame {
        &self.flow.frame
    }

    fn frame_mut(&mut self) -> &mut Frame {
        &mut self.flow.frame
    }

    fn measuring(&self) -> bool {
        self.flow.measuring()
    }

    fn room(&mut self, lead: f32) {
        let frame = &self.flow.frame;
        if frame.breaks_at(frame.y, lead) {
            self.next_label();
        }
    }

    fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>) {
        self.flow.place(x, baseline, size, line);
    }
}

/// Inches with at most two decimals, as a pharmacist would write the stock size.
fn inches(pt: f32) -> String {
    let s = format!("{:.2}", pt / 72.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A stock size as a pharmacist writes it: "4 × 2 in".
fn stock(width_pt: f32, height_pt: f32) -> String {
    format!("{} × {} in", inches(width_pt), inches(height_pt))
}

/// Names in a sentence: "a", "a and b", "a, b and c".
fn listed(names: &[String], last: &str) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., final_one] => format!("{} {last} {final_one}", rest.join(", ")),
    }
}

/// Why the main label cannot fit: what runs off it at the smallest sizes, the common label
/// sizes that take it, and the longest text the user controls.
fn refusal(content: &Content, text: &Prepared, size: LabelSize) -> String {
    let here = stock(size.width_pt, size.height_pt);
    let larger: Vec<String> = COMMON_STOCK
        .iter()
        .filter(|&&(w, h)| {
            let bigger = w >= size.width_pt - 0.5 && h >= size.height_pt - 0.5;
            let same = (w - size.width_pt).abs() < 0.5 && (h - size.height_pt).abs() < 0.5;
            bigger && !same
        })
        .filter(|&&(w, h)| {
            let candidate = LabelSize {
                width_pt: w,
                height_pt: h,
            };
            choose(text, candidate).is_some()
        })
        .map(|&(w, h)| stock(w, h))
        .collect();
    let larger = if larger.is_empty() {
        "No common label size up to 4 × 6 in takes it".to_owned()
    } else {
        format!(
            "A {} label takes it ([label] width and height in troche.toml)",
            listed(&larger, "or")
        )
    };
    let Some(flow) = main_flow(text, size, &Plan::SMALLEST, false) else {
        return format!(
            "a {here} label has no room for text inside its margins; {larger}",
            larger = larger.to_lowercase()
        );
    };
    let mut off: Vec<String> = Vec::new();
    for &(name, y) in &flow.marks {
        if y > flow.frame.bottom && !off.iter().any(|n| n == name) {
            off.push(name.to_owned());
        }
    }
    let needed = flow.frame.y - flow.frame.top;
    let room = flow.frame.height();
    let strength: usize = content.strengths.iter().map(|s| s.chars().count()).sum();
    let chars = |s: &str| s.chars().count();
    let mut fields = [
        ("directions", chars(&content.directions)),
        (
            "storage text in the formula's [bud]",
            chars(&content.storage),
        ),
        ("strength line (drug names)", strength),
        ("patient name", chars(content.patient_or_blank())),
        ("prescriber name", chars(&content.prescriber)),
        ("pharmacy address", chars(&content.pharmacy_contact)),
        ("pharmacy name", chars(&content.pharmacy_name)),
        ("Rx number", chars(&content.rx)),
        ("lot number", chars(&content.lot)),
    ];
    fields.sort_by_key(|f| std::cmp::Reverse(f.1));
    let [(first, n1), (second, n2), ..] = fields;
    format!(
        "what the law requires on the label does not fit on a {here} label even at the smallest \
         sizes (the patient, drug and strength, and directions at {MIN_KEY_PT} pt, the \
         beyond-use date at {MIN_BUD_PT} pt bold, the rest at {MIN_DETAIL_PT} pt, with the \
         description and the formula's warnings moved to an auxiliary label): the {off} \
         run off its bottom edge ({needed:.0} pt of text for {room:.0} pt). {larger}; or \
         shorten the {first} ({n1} characters) or the {second} ({n2} characters)",
        off = listed(&off, "and"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::metrics::Font;
    use crate::render::test_support::{bare, ketamine, pdf_text, pharmacy, squash};
    use crate::render::text::runs_width;

    /// 3 × 1.5 in, the small vial label.
    const SMALL: LabelSize = LabelSize {
        width_pt: 216.0,
        height_pt: 108.0,
    };

    /// 4 × 2.5 in.
    const TALL: LabelSize = LabelSize {
        width_pt: 288.0,
        height_pt: 180.0,
    };

    /// Directions that wrap to four lines at 11 pt on 4 × 2 in stock.
    const FOUR_LINE_SIG: &str = "Place 1 troche between cheek and gum and let it dissolve \
        completely, about 15 to 30 minutes, every 8 hours as needed for pain. Do not chew or \
        swallow whole. Do not eat or drink until it has dissolved.";

    /// The stock sizes the ketamine label fits.
    fn stocks() -> [LabelSize; 2] {
        [LabelSize::default(), TALL]
    }

    /// The ketamine record with no DEA schedule, as a drug without the federal warning.
    fn unscheduled() -> Record {
        let mut record = ketamine(30);
        for ingredient in &mut record.calc.ingredients {
            if let Some(active) = ingredient.active.as_mut() {
                active.schedule = None;
            }
        }
        assert!(!record.needs_transfer_warning());
        record
    }

    /// What the law requires on the container, as the ketamine label prints it.
    fn required(record: &Record) -> Vec<String> {
        let mut fields: Vec<String> = [
            "Main Street Compounding Pharmacy",
            "1 Main St, Springfield, IL 62701",
            "(217) 555-0100",
            "Rx: RX-4471203",
            "Filled: 2026-11-23",
            "Jane Q. Doe",
            "Prescriber: Dr. Ana Ruiz, MD",
            "Qty: 30 troches (buccal)",
            "Do not use after 2027-05-22.",
            "Compounded preparation",
            "Lot: 261123-001",
            "Refills: 0",
            "RPh: ______",
        ]
        .map(str::to_owned)
        .to_vec();
        fields.extend(record.strength_lines());
        fields.push(record.directions.clone());
        fields.push(record.formula.bud.storage.clone());
        if record.needs_transfer_warning() {
            fields.push(FEDERAL_TRANSFER_WARNING.to_owned());
        }
        fields
    }

    /// Whether every required field is on the main label, in the layout and in the PDF.
    fn assert_required_on_main(record: &Record, stock: LabelSize) -> LabelLayout {
        let layout = label_layout(record, pharmacy(record), stock).unwrap();
        assert_laid_out_cleanly(&layout);
        let main = &page_texts(&layout)[0];
        let pdf = label(record, pharmacy(record), stock).unwrap();
        let text = pdf_text(&pdf);
        let pdf_pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.is_empty()).collect();
        assert_eq!(pdf_pages.len(), layout.page_count(), "{text}");
        for field in required(record) {
            assert!(main.contains(&squash(&field)), "lacks {field:?}:\n{main}");
            assert!(pdf_pages[0].contains(&bare(&field)), "{field:?}:\n{text}");
        }
        // Nothing required moved: the auxiliary labels repeat only the Rx and the patient.
        let storage = bare(&record.formula.bud.storage);
        for aux in &pdf_pages[1..] {
            assert!(
                !aux.contains(&storage) && !aux.contains("Federallaw"),
                "{aux}"
            );
        }
        layout
    }

    /// The text of each page as drawn, lines joined by spaces, whitespace collapsed.
    fn page_texts(layout: &LabelLayout) -> Vec<String> {
        layout
            .pages
            .iter()
            .map(|page| {
                let words: Vec<&str> = page
                    .iter()
                    .filter_map(|item| match item {
                        Item::Line { runs, .. } => Some(runs),
                        Item::Rule { .. } => None,
                    })
                    .flatten()
                    .map(|(_, t)| t.as_str())
                    .collect();
                squash(&words.join(" "))
            })
            .collect()
    }

    /// Size of every drawn line on `page` that holds a piece of `needle`'s first words.
    fn sizes_of(layout: &LabelLayout, page: usize, needle: &str) -> Vec<f32> {
        let head: String = needle
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        layout.pages[page]
            .iter()
            .filter_map(|item| match item {
                Item::Line { size, runs, .. } => {
                    let text: String = runs.iter().map(|(_, t)| t.as_str()).collect();
                    text.contains(&head).then_some(*size)
                }
                Item::Rule { .. } => None,
            })
            .collect()
    }

    /// Every line inside the margins of the stock, and no two lines overlapping.
    fn assert_laid_out_cleanly(layout: &LabelLayout) {
        let (w, h, m) = (layout.size.width_pt, layout.size.height_pt, layout.margin);
        for page in &layout.pages {
            let mut boxes: Vec<(f32, f32, f32, f32)> = Vec::new();
            for item in page {
                let Item::Line {
                    x,
                    baseline,
                    size,
                    runs,
                } = item
                else {
                    continue;
                };
                assert!(*size >= MIN_DETAIL_PT, "{size} pt: {runs:?}");
                assert!(x.is_finite() && baseline.is_finite(), "{runs:?}");
                let right = x + runs_width(runs, *size);
                let (top, bottom) = (baseline - size * 0.75, baseline + size * 0.21);
                assert!(*x >= m - 0.01 && right <= w - m + 0.01, "{runs:?}");
                assert!(top >= m - 0.01 && bottom <= h - m + 0.01, "{runs:?}");
                for &(l, r, t, b) in &boxes {
                    let apart = right <= l || *x >= r || bottom <= t || top >= b;
                    assert!(apart, "{runs:?} overlaps another line");
                }
                boxes.push((*x, right, top, bottom));
            }
        }
    }

    /// A warning in the formula's `[label]` longer than any the library holds.
    fn long_warning(i: usize) -> String {
        format!(
            "Warning {i}: this medicine may interact with many other medicines, supplements and \
             foods; tell your doctor and pharmacist about everything you take before using it."
        )
    }

    #[test]
    fn label_holds_every_required_field() {
        let record = ketamine(30);
        for stock in stocks() {
            let layout = assert_required_on_main(&record, stock);
            let pages = page_texts(&layout);
            assert!(!pages[0].contains("as weighed"), "{}", pages[0]);
            // The description is not required there: it moves when there is no room.
            let description = "Description: White, round, flat troche with a tutti-frutti odor";
            let all = pages.join(" ");
            assert_eq!(all.matches(description).count(), 1, "{all}");
            assert_eq!(pages[0].contains(description), layout.description_on_main);
            if !layout.description_on_main {
                assert!(pages[0].contains("See auxiliary label"), "{}", pages[0]);
                assert!(pages[1].contains(description), "{}", pages[1]);
            }
        }
    }

    #[test]
    fn a_four_line_sig_on_4x2_keeps_the_transfer_warning_and_storage_on_the_main_label() {
        let mut record = ketamine(30);
        record.directions = squash(FOUR_LINE_SIG);
        let width = LabelSize::default().width_pt - 2.0 * margin(LabelSize::default());
        let sig = Words::new(&[regular(record.directions.as_str())]);
        assert_eq!(sig.measure(MIN_KEY_PT, width).0, 4);
        let layout = assert_required_on_main(&record, LabelSize::default());
        assert!(layout.key_size_pt >= MIN_KEY_PT);
        assert!(layout.used_height_pt <= 144.0);
        // The formula's five warnings and the description went to the auxiliary label.
        assert_eq!(layout.warnings_on_main, 0);
        assert!(!layout.description_on_main);
        let pages = page_texts(&layout);
        assert!(pages[0].contains("See auxiliary label."), "{}", pages[0]);
        for w in &record.formula.label.warnings {
            assert!(pages[1..].join(" ").contains(&squash(w)), "{w}");
        }
        // Without the schedule, the same label has room to spare.
        let mut plain = unscheduled();
        plain.directions = record.directions.clone();
        assert_required_on_main(&plain, LabelSize::default());
    }

    #[test]
    fn required_fields_print_at_least_at_the_minimum_sizes() {
        let mut long = ketamine(30);
        long.directions = squash(FOUR_LINE_SIG);
        for record in [ketamine(30), long, unscheduled()] {
            for stock in stocks() {
                let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
                let key: Vec<String> = [
                    "Jane Q. Doe".to_owned(),
                    record.strength_lines()[0].clone(),
                    record.directions.clone(),
                ]
                .to_vec();
                for field in &key {
                    let sizes = sizes_of(&layout, 0, field);
                    assert!(!sizes.is_empty(), "{field:?} not on the main label");
                    assert!(
                        sizes.iter().all(|&s| s >= MIN_KEY_PT),
                        "{field:?}: {sizes:?}"
                    );
                }
                let mut bud = 0;
                for item in &layout.pages[0] {
                    if let Item::Line { size, runs, .. } = item {
                        assert!(*size >= MIN_DETAIL_PT, "{size}: {runs:?}");
                        if let Some((font, text)) = runs.first()
                            && text.starts_with("Do not use after")
                        {
                            assert_eq!(*font, Font::HelveticaBold);
                            assert!(*size >= MIN_BUD_PT, "{size}: {runs:?}");
                            bud += 1;
                        }
                    }
                }
                assert_eq!(bud, 1, "{:?}", page_texts(&layout)[0]);
            }
        }
    }

    #[test]
    fn the_patient_drug_and_directions_come_first_and_largest() {
        let record = ketamine(30);
        let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
        assert!(layout.key_size_pt >= MIN_KEY_PT, "{layout:?}");
        assert!(layout.pharmacy_size_pt < layout.key_size_pt);
        assert!(layout.detail_size_pt < layout.key_size_pt);
        assert!(layout.bud_size_pt >= MIN_BUD_PT);
        let pharmacy = sizes_of(&layout, 0, "Main Street Compounding");
        assert!(
            pharmacy.iter().all(|&s| (MIN_DETAIL_PT..=7.0).contains(&s)),
            "{pharmacy:?}"
        );
    }

    #[test]
    fn every_warning_appears_exactly_once_each_on_its_own_line() {
        let mut records = vec![ketamine(30)];
        let mut many = ketamine(30);
        many.formula.label.warnings = (1..=8).map(long_warning).collect();
        records.push(many);
        for record in &records {
            for stock in stocks() {
                let layout = label_layout(record, pharmacy(record), stock).unwrap();
                assert_laid_out_cleanly(&layout);
                let pages = page_texts(&layout);
                let all = pages.join(" ");
                let mut warnings = record.formula.label.warnings.clone();
                warnings.push(FEDERAL_TRANSFER_WARNING.to_owned());
                for w in &warnings {
                    assert_eq!(all.matches(&squash(w)).count(), 1, "{w:?} in:\n{all}");
                }
                assert!(pages[0].contains(FEDERAL_TRANSFER_WARNING));
                // Each warning starts its own line; the formula's at 7 pt or more.
                for page in &layout.pages {
                    for item in page {
                        if let Item::Line { size, runs, .. } = item
                            && let Some((_, first)) = runs.first()
                        {
                            if first == "•" {
                                assert!(*size >= WARNING_PT, "{size}: {runs:?}");
                            }
                            if first.starts_with("Caution: Federal") {
                                assert!(*size >= MIN_DETAIL_PT, "{size}: {runs:?}");
                            }
                        }
                    }
                }
                let bullets = layout
                    .pages
                    .iter()
                    .flatten()
                    .filter(|item| {
                        matches!(item, Item::Line { runs, .. }
                            if runs.first().is_some_and(|(f, t)| *f == Font::HelveticaBold && t == "•"))
                    })
                    .count();
                assert_eq!(bullets, record.formula.label.warnings.len());
            }
        }
    }

    #[test]
    fn the_federal_warning_is_on_the_main_label_word_for_word() {
        let record = ketamine(30);
        assert!(record.needs_transfer_warning(), "ketamine is CIII");
        let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
        assert!(page_texts(&layout)[0].contains(FEDERAL_TRANSFER_WARNING));
        let pdf = label(&record, pharmacy(&record), LabelSize::default()).unwrap();
        let text = pdf_text(&pdf);
        let main = text.split('\u{c}').next().unwrap_or_default();
        assert!(main.contains(&bare(FEDERAL_TRANSFER_WARNING)), "{text}");
    }

    #[test]
    fn many_long_warnings_go_to_auxiliary_labels_instead_of_shrinking() {
        let mut record = ketamine(30);
        record.formula.label.warnings = (1..=8).map(long_warning).collect();
        for stock in stocks() {
            let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
            assert!(layout.page_count() >= 2, "{stock:?}");
            assert!(layout.key_size_pt >= MIN_KEY_PT);
            assert!(layout.aux_size_pt.is_some_and(|pt| pt >= WARNING_PT));
            let pages = page_texts(&layout);
            assert!(pages[0].contains("See auxiliary label"), "{}", pages[0]);
            let n = layout.page_count() - 1;
            for (i, page) in pages.iter().enumerate().skip(1) {
                let heading = format!("Auxiliary label {i} of {n} — Rx RX-4471203 — Jane Q. Doe");
                assert!(page.starts_with(&heading), "{page}");
                assert!(!page.contains("Federal law"), "{page}");
            }
            let pdf = label(&record, pharmacy(&record), stock).unwrap();
            let text = pdf_text(&pdf);
            assert!(text.contains(&bare("Auxiliary label 1 of")), "{text}");
        }
        // Without auxiliary labels, the main label says nothing about them.
        let mut few = unscheduled();
        few.formula.label.warnings.truncate(1);
        let plain = label_layout(&few, pharmacy(&few), TALL).unwrap();
        assert_eq!(plain.page_count(), 1);
        assert!(!page_texts(&plain)[0].contains("auxiliary"));
    }

    #[test]
    fn a_label_too_small_for_the_required_text_is_refused_naming_larger_sizes() {
        // The ketamine label's required text runs off 3 × 1.5 in whatever the sig.
        let record = ketamine(30);
        let e = label_layout(&record, pharmacy(&record), SMALL).unwrap_err();
        assert!(matches!(e, Error::LabelFit(_)));
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        for part in [
            "3 × 1.5 in label",
            "11 pt",
            "8 pt bold",
            "6.5 pt",
            "federal transfer warning",
            "storage",
            "run off its bottom edge",
            "A 4 × 2 in, 4 × 2.5 in, 4 × 3 in, 4 × 4 in or 4 × 6 in label takes it",
        ] {
            assert!(msg.contains(part), "{part:?}: {msg}");
        }
        assert!(!msg.contains("3 × 2 in"), "{msg}");
        // A drug without the federal warning, with short texts, fits; with a long sig not.
        let mut plain = unscheduled();
        plain.formula.label.warnings.clear();
        plain.formula.description.clear();
        plain.formula.bud.storage = "Store at 20-25 °C.".to_owned();
        plain.directions = "Dissolve 1 troche in the mouth daily.".to_owned();
        assert_required_on_main(&plain, SMALL);
        plain.directions = squash(FOUR_LINE_SIG);
        let msg = label_layout(&plain, pharmacy(&plain), SMALL)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("the directions, "), "{msg}");
        assert!(msg.contains("A 4 × 2 in, "), "{msg}");
        assert!(
            msg.contains("shorten the directions (200 characters)"),
            "{msg}"
        );
        assert_required_on_main(&plain, LabelSize::default());
    }

    #[test]
    fn a_sig_too_long_for_4x2_is_refused_naming_larger_sizes() {
        let mut record = ketamine(30);
        record.directions = format!("{} Rinse the mouth afterwards.", squash(FOUR_LINE_SIG));
        let e = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("4 × 2 in label"), "{msg}");
        assert!(msg.contains("federal transfer warning"), "{msg}");
        assert!(msg.contains("A 4 × 2.5 in, 4 × 3 in"), "{msg}");
        assert!(msg.contains("shorten the directions"), "{msg}");
        assert!(!msg.contains("3 × 2 in"), "{msg}");
        assert_required_on_main(&record, TALL);
    }

    #[test]
    fn unscheduled_drugs_carry_no_federal_warning() {
        let mut record = unscheduled();
        record.formula.label.warnings.clear();
        let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
        assert_eq!(layout.page_count(), 1);
        assert!(!page_texts(&layout)[0].contains("Federal"));
        assert!(layout.key_size_pt >= MIN_KEY_PT);
    }

    #[test]
    fn renders_are_byte_identical() {
        let mut many = ketamine(30);
        many.formula.label.warnings = (1..=8).map(long_warning).collect();
        for record in [ketamine(30), many] {
            for stock in stocks() {
                let a = label(&record, pharmacy(&record), stock).unwrap();
                let b = label(&record, pharmacy(&record), stock).unwrap();
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn missing_order_fields_print_as_blanks() {
        let mut record = ketamine(30);
        record.order.rx = None;
        record.order.patient = Some("  ".to_owned());
        record.order.prescriber = None;
        record.order.refills = None;
        let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
        let text = page_texts(&layout).join("\n");
        for field in [
            "Rx: ____",
            "Patient: ____",
            "Prescriber: ____",
            "Refills: ____",
        ] {
            assert!(text.contains(field), "{field}:\n{text}");
        }
    }

    #[test]
    fn no_pharmacy_no_label() {
        // `label` takes the pharmacy by type; settings without one refuse before any layout.
        let e = crate::config::Settings::default()
            .require_pharmacy()
            .unwrap_err();
        assert!(e.to_string().contains("[pharmacy]"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn absurd_text_is_refused_naming_what_to_shorten() {
        let mut record = ketamine(30);
        record.directions = "Dissolve one troche slowly in the mouth. ".repeat(40);
        let e = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::LabelFit(_)));
        assert!(msg.contains("4 × 2 in"), "{msg}");
        assert!(msg.contains("shorten the directions"), "{msg}");
        assert!(msg.contains("No common label size"), "{msg}");
        // A larger stock takes it.
        let big = LabelSize {
            width_pt: 288.0,
            height_pt: 576.0,
        };
        let layout = label_layout(&record, pharmacy(&record), big).unwrap();
        assert_laid_out_cleanly(&layout);
        assert!(layout.key_size_pt >= MIN_KEY_PT);
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut record = ketamine(30);
        record.directions = String::new();
        record.lot = "X".repeat(300);
        record.order.patient = Some("\u{1F600}\u{0}\n\t".repeat(5));
        let _ = label_layout(&record, pharmacy(&record), LabelSize::default());
        for (w, h) in [
            (72.0, 72.0),
            (1440.0, 1440.0),
            (3.0, 3.0),
            (f32::NAN, 100.0),
            (100.0, f32::INFINITY),
        ] {
            let size = LabelSize {
                width_pt: w,
                height_pt: h,
            };
            match label_layout(&record, pharmacy(&record), size) {
                Ok(layout) => {
                    assert!(layout.key_size_pt >= MIN_KEY_PT);
                    assert_laid_out_cleanly(&layout);
                }
                Err(e) => assert!(matches!(e, Error::LabelFit(_)), "{e}"),
            }
        }
        record.directions = "y".repeat(5000);
        assert!(label(&record, pharmacy(&record), LabelSize::default()).is_err());
    }

    /// Every embedded formula's record at the low and high ends of its usual strengths (or
    /// its default strength), for the example patient and pharmacy.
    fn library_records() -> Vec<(String, Record)> {
        let example = ketamine(30);
        let settings = crate::config::Settings {
            pharmacy: example.pharmacy.clone(),
            ..Default::default()
        };
        let mut records = Vec::new();
        for formula in crate::library::all().unwrap() {
            for end in 0..2 {
                let strengths = formula
                    .actives
                    .iter()
                    .filter_map(|a| {
                        let amount = match (a.usual_strength, end) {
                            (Some((low, _)), 0) => low,
                            (Some((_, high)), _) => high,
                            (None, _) => a.default_strength?,
                        };
                        Some(crate::order::StrengthSpec {
                            active: (formula.actives.len() > 1).then(|| a.name.clone()),
                            amount,
                        })
                    })
                    .collect();
                let order = crate::order::Order {
                    strengths,
                    quantity: 30,
                    ..example.order.clone()
                };
                let id = format!("{} end {end}", formula.id);
                let record = Record::new(
                    formula.clone(),
                    order,
                    &settings,
                    example.date,
                    "L-1".into(),
                );
                records.push((id, record.unwrap()));
            }
        }
        records
    }

    #[test]
    fn every_embedded_formula_labels_at_its_usual_strengths() {
        for (id, record) in library_records() {
            for stock in stocks() {
                let layout = label_layout(&record, pharmacy(&record), stock)
                    .unwrap_or_else(|e| panic!("{id} on {stock:?}: {e}"));
                assert_laid_out_cleanly(&layout);
                assert!(layout.key_size_pt >= MIN_KEY_PT, "{id}");
                if std::env::var_os("TROCHE_LABEL_DUMP").is_some() {
                    eprintln!(
                        "LAYOUT {id} {}x{}: key {} detail {} warnings {} description {} aux {:?} pages {} used {:.2}",
                        stock.width_pt,
                        stock.height_pt,
                        layout.key_size_pt,
                        layout.detail_size_pt,
                        layout.warnings_on_main,
                        layout.description_on_main,
                        layout.aux_size_pt,
                        layout.page_count(),
                        layout.used_height_pt
                    );
                }
            }
        }
    }

    #[test]
    fn stock_sizes_print_as_a_pharmacist_writes_them() {
        assert_eq!(inches(288.0), "4");
        assert_eq!(inches(216.0), "3");
        assert_eq!(inches(100.0), "1.39");
        assert_eq!(stock(288.0, 180.0), "4 × 2.5 in");
        let names = ["a", "b", "c"].map(str::to_owned);
        assert_eq!(listed(&names[..1], "or"), "a");
        assert_eq!(listed(&names[..2], "or"), "a or b");
        assert_eq!(listed(&names, "and"), "a, b and c");
    }
}
