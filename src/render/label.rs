//! The container label, laid out for the patient (USP <17>).
//!
//! What the patient needs to read comes first and largest: their name, the drug with its
//! strength, and the directions, never below 9 pt and at 10 pt or more whenever the stock
//! allows. The other particulars the law and the pharmacy need (Rx, date filled,
//! prescriber, quantity and form, what the unit looks like, the beyond-use date and
//! storage, lot, refills, the pharmacist's initials) follow in smaller type, and the
//! pharmacy's name, address and phone sit in one small line at the top.
//!
//! Warnings are one to a line, at 7 pt or more. Those that do not fit move, in the
//! formula's order, to auxiliary labels: extra pages of the same stock in the same PDF, each
//! headed with the Rx number and the patient so it is stuck on the right container. The
//! federal transfer warning of Schedule II–IV drugs stays on the main label unless even
//! that cannot be made to fit; then it leads the first auxiliary label and the main label
//! says so. Text never shrinks below those sizes: if the main label's own fields do not
//! fit, the label is refused with a message that says what to shorten.

use crate::config::{LabelSize, Pharmacy};
use crate::error::{Error, Result};
use crate::record::{FEDERAL_TRANSFER_WARNING, Record};

use super::DocMeta;
use super::canvas::Canvas;
use super::metrics;
use super::text::{
    BLANK, Run, Words, bold, date, doc_date, draw_runs, or_blank, regular, strength_runs,
};

/// Sizes tried for the patient's name, the drug and strength, and the directions while
/// every warning still fits on the main label, largest first.
const KEY_SIZES_ALL_WARNINGS: [f32; 5] = [12.0, 11.5, 11.0, 10.5, 10.0];
/// Sizes tried for them once warnings have to move to auxiliary labels: a larger key size
/// is not worth sending a warning off the container.
const KEY_SIZES: [f32; 3] = [10.0, 9.5, 9.0];
/// Smallest size of the patient's name, the drug and strength, and the directions.
pub const MIN_KEY_PT: f32 = 9.0;
/// Sizes tried for the other particulars, largest first.
const DETAIL_SIZES: [f32; 3] = [7.0, 6.5, 6.0];
/// Smallest size printed on a label at all: below this label printers and eyes both fail.
pub const MIN_DETAIL_PT: f32 = 6.0;
/// Size of the warnings on the main label.
pub const WARNING_PT: f32 = 7.0;
/// Sizes tried for the warnings on auxiliary labels: the largest that needs no more labels
/// than the smallest does.
const AUX_SIZES: [f32; 4] = [10.0, 9.0, 8.0, 7.0];
/// Size of the heading of an auxiliary label.
const AUX_HEADING_PT: f32 = 7.0;
/// Room for the pharmacist's initials.
const INITIALS: &str = "______";
/// Space above and below a rule, as a multiple of the size of the text around it.
const RULE_GAP: f32 = 0.25;
/// Line spacing of the three key fields, as a multiple of the size.
const KEY_LEADING: f32 = 1.12;
/// Line spacing of everything else: Helvetica's ascender and descender span 0.93 em, so
/// this keeps lines apart while fitting the most text on small stock.
const LEADING: f32 = 1.12;

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
    /// Size of the pharmacy's name, address and phone.
    pub pharmacy_size_pt: f32,
    /// How many of the formula's warnings are on the main label (the first ones).
    pub warnings_on_main: usize,
    /// Whether the federal transfer warning, when the drug needs it, is on the main label.
    pub federal_on_main: bool,
    /// Whether the description of the unit is on the main label.
    pub description_on_main: bool,
    /// Whether the storage conditions are on the main label.
    pub storage_on_main: bool,
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
/// warnings that do not fit onto auxiliary labels.
///
/// # Errors
///
/// `Error::LabelFit` if the main label's fields do not fit even at the smallest sizes with
/// every warning moved off it; the message names the longest fields so the pharmacist knows
/// what to shorten. A label always shows the pharmacy, so the pharmacy is an argument, not an
/// optional part of the record.
pub fn label_layout(record: &Record, pharmacy: &Pharmacy, size: LabelSize) -> Result<LabelLayout> {
    let content = Content::new(record, pharmacy);
    let text = Prepared::new(&content);
    let plan = choose(&text, size).ok_or_else(|| Error::LabelFit(too_long(&content, size)))?;
    let mut main = main_label(&text, size, &plan, true)
        .ok_or_else(|| Error::LabelFit(too_long(&content, size)))?;
    let (aux_size, aux) = auxiliary_labels(&text, &content, size, &plan)?;
    let mut pages = vec![std::mem::take(&mut main.items)];
    pages.extend(aux);
    Ok(LabelLayout {
        key_size_pt: plan.key,
        detail_size_pt: plan.detail,
        pharmacy_size_pt: pharmacy_size(plan.detail),
        warnings_on_main: plan.warnings,
        federal_on_main: plan.federal,
        description_on_main: plan.moved < 1,
        storage_on_main: plan.moved < 2,
        aux_size_pt: aux_size,
        used_height_pt: main.y + main.margin,
        size,
        margin: main.margin,
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
    canvas.into_pdf(&meta).map_err(Error::Render)
}

/// The label's text, gathered once so that every size tried lays out the same words.
struct Content {
    pharmacy_name: String,
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
    pharmacy: Words,
    patient: Words,
    strengths: Vec<Words>,
    directions: Words,
    /// Short fields set beside the patient's name when there is room, else first among
    /// the details.
    beside_patient: Vec<Words>,
    /// Short fields packed onto as few lines as they fit.
    details: Vec<Words>,
    description: Option<Words>,
    /// The beyond-use date with the storage conditions, and without them.
    bud: [Words; 2],
    /// The description and the storage as an auxiliary label prints them.
    aux_description: Option<Words>,
    aux_storage: Option<Words>,
    warnings: Vec<Words>,
    federal: Option<Words>,
    /// The main label's pointer to the auxiliary labels: among the particulars when it
    /// carries no warning itself, and under its warnings when it carries some.
    see_aux: [Words; 2],
}

impl Prepared {
    fn new(content: &Content) -> Self {
        let pair = |label: &str, value: &str| Words::new(&[bold(label), regular(value)]);
        let mut pharmacy = vec![bold(content.pharmacy_name.as_str())];
        if !content.pharmacy_contact.is_empty() {
            pharmacy.push(regular(format!("· {}", content.pharmacy_contact)));
        }
        Prepared {
            pharmacy: Words::new(&pharmacy),
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
            beside_patient: vec![pair("Rx:", &content.rx), pair("Filled:", &content.filled)],
            details: vec![
                pair("Qty:", &content.quantity),
                pair("Refills:", &content.refills),
                pair("Prescriber:", &content.prescriber),
                pair("Lot:", &content.lot),
                pair("RPh:", INITIALS),
                Words::new(&[bold("Compounded preparation")]),
            ],
            description: (!content.description.is_empty())
                .then(|| pair("Description:", &content.description)),
            bud: [
                Words::new(&[
                    bold(format!("Do not use after {}.", content.bud)),
                    regular(content.storage.as_str()),
                ]),
                Words::new(&[bold(format!("Do not use after {}.", content.bud))]),
            ],
            aux_description: (!content.description.is_empty())
                .then(|| pair("Description:", &content.description)),
            aux_storage: (!content.storage.is_empty()).then(|| pair("Storage:", &content.storage)),
            warnings: content
                .warnings
                .iter()
                .map(|w| Words::new(&[bold("•"), regular(w.as_str())]))
                .collect(),
            federal: content
                .federal
                .then(|| Words::new(&[bold(FEDERAL_TRANSFER_WARNING)])),
            see_aux: [
                Words::new(&[bold("See auxiliary label")]),
                Words::new(&[bold("See auxiliary label for more warnings.")]),
            ],
        }
    }
}

/// The sizes of a main label and which warnings it carries.
#[derive(Debug, Clone, Copy)]
struct Plan {
    key: f32,
    detail: f32,
    /// How many of the formula's warnings, from the first, are on the main label.
    warnings: usize,
    /// Whether the federal transfer warning is on the main label (false when not needed).
    federal: bool,
    /// Particulars moved to the auxiliary label: 0 none, 1 the description, 2 the
    /// description and the storage conditions.
    moved: u8,
}

impl Plan {
    /// Whether any warning has to go on an auxiliary label.
    fn needs_aux(&self, text: &Prepared) -> bool {
        self.warnings < text.warnings.len()
            || (text.federal.is_some() && !self.federal)
            || (self.moved >= 1 && text.aux_description.is_some())
            || (self.moved >= 2 && text.aux_storage.is_some())
    }
}

/// The best main label that fits: every warning with the key fields as large as possible
/// (10 pt at least); failing that, the key and other fields at the largest sizes that fit
/// with the federal warning, filled up with as many of the formula's warnings as still fit.
/// When even that does not fit, particulars move to the auxiliary label in this order, each
/// tried at every size of the other fields before the next: the description of the unit,
/// then the storage conditions (classic auxiliary-sticker content), and only then the
/// federal warning, the one the law requires on the container. The key fields go below
/// 10 pt only when all of that is not enough.
fn choose(text: &Prepared, size: LabelSize) -> Option<Plan> {
    let all = text.warnings.len();
    let federal = text.federal.is_some();
    let fits = |plan: &Plan| main_label(text, size, plan, false).is_some();
    for key in KEY_SIZES_ALL_WARNINGS {
        let plan = Plan {
            key,
            detail: DETAIL_SIZES[0],
            warnings: all,
            federal,
            moved: 0,
        };
        if fits(&plan) {
            return Some(plan);
        }
    }
    let federal_choices: &[bool] = if federal { &[true, false] } else { &[false] };
    let stages: Vec<(bool, u8)> = federal_choices
        .iter()
        .flat_map(|&federal| [0, 1, 2].map(|moved| (federal, moved)))
        .collect();
    for key in KEY_SIZES {
        for &(federal, moved) in &stages {
            for detail in DETAIL_SIZES {
                let mut plan = Plan {
                    key,
                    detail,
                    warnings: 0,
                    federal,
                    moved,
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
    }
    None
}

/// The pharmacy's line: a step below the other particulars, but never below the minimum.
fn pharmacy_size(detail: f32) -> f32 {
    (detail - 0.5).max(MIN_DETAIL_PT)
}

/// Quiet zone kept clear at every edge, since label printers do not register exactly:
/// a twentieth of the height (0.1 in on 2 in stock), within 5 to 9 pt.
fn margin(size: LabelSize) -> f32 {
    (size.height_pt / 20.0).clamp(5.0, 9.0)
}

/// Places lines top to bottom inside the margins and remembers what it drew.
struct Flow {
    margin: f32,
    width: f32,
    y: f32,
    bottom: f32,
    items: Vec<Item>,
    /// Whether to keep what is laid out; without, only the height is worked out.
    build: bool,
}

impl Flow {
    /// A flow over the whole label inside its margins, or `None` if nothing fits on it.
    fn new(size: LabelSize, build: bool) -> Option<Flow> {
        let margin = margin(size);
        let width = size.width_pt - 2.0 * margin;
        let bottom = size.height_pt - margin;
        let usable = width.is_finite() && bottom.is_finite() && width > 0.0 && bottom > margin;
        usable.then_some(Flow {
            margin,
            width,
            y: margin,
            bottom,
            items: Vec::new(),
            build,
        })
    }

    fn fits(&self) -> bool {
        self.y <= self.bottom
    }

    /// Baseline within a line box: room above for accented capitals, below for descenders.
    fn baseline(&self, size: f32) -> f32 {
        self.y + size * 0.85
    }

    fn line(&mut self, size: f32, lead: f32, runs: Vec<Run>) {
        if self.build {
            let baseline = self.baseline(size);
            self.items.push(Item::Line {
                x: self.margin,
                baseline,
                size,
                runs,
            });
        }
        self.y += lead;
    }

    /// A wrapped paragraph; `leading` is the line spacing as a multiple of `size`.
    fn para(&mut self, words: &Words, size: f32, leading: f32) {
        let lead = size * leading;
        if !self.build {
            self.y += metrics::count(words.measure(size, self.width).0) * lead;
            return;
        }
        for line in words.wrap(size, self.width) {
            self.line(size, lead, line);
        }
    }

    /// Short fields packed onto as few lines as they fit, spread across each line; a field
    /// never breaks inside unless it is longer than a whole line.
    fn fields(&mut self, groups: &[&Words], size: f32) {
        let gap = size * 1.5;
        let mut pending: Vec<(Vec<Run>, f32)> = Vec::new();
        for group in groups {
            let (count, w) = group.measure(size, self.width);
            if count > 1 {
                self.flush(&mut pending, size);
                self.para(group, size, LEADING);
                continue;
            }
            if count == 0 {
                continue;
            }
            let used: f32 = pending.iter().map(|(_, w)| w + gap).sum();
            if !pending.is_empty() && used + w > self.width {
                self.flush(&mut pending, size);
            }
            let line = if self.build {
                group.wrap(size, self.width).pop().unwrap_or_default()
            } else {
                Vec::new()
            };
            pending.push((line, w));
        }
        self.flush(&mut pending, size);
    }

    /// A one-line heading at `size` with short fields at `field_size` set flush right on
    /// the same baseline, if they fit beside it; otherwise just the heading. Returns whether
    /// the fields were set.
    fn beside(&mut self, heading: &Words, size: f32, fields: &[Words], field_size: f32) -> bool {
        let gap = field_size * 1.5;
        let (count, heading_w) = heading.measure(size, self.width);
        let widths: Option<Vec<f32>> = fields
            .iter()
            .map(|f| match f.measure(field_size, self.width) {
                (1, w) => Some(w),
                _ => None,
            })
            .collect();
        let widths = widths.filter(|_| count == 1 && !fields.is_empty());
        let total = widths
            .as_ref()
            .map(|ws| ws.iter().sum::<f32>() + gap * metrics::count(ws.len().saturating_sub(1)));
        let Some(total) = total.filter(|t| heading_w + 2.0 * gap + t <= self.width) else {
            self.para(heading, size, KEY_LEADING);
            return false;
        };
        if self.build {
            let baseline = self.baseline(size);
            let heading_runs = heading.wrap(size, self.width).pop().unwrap_or_default();
            self.items.push(Item::Line {
                x: self.margin,
                baseline,
                size,
                runs: heading_runs,
            });
            let mut x = self.margin + self.width - total;
            for (field, w) in fields.iter().zip(widths.unwrap_or_default()) {
                let runs = field.wrap(field_size, self.width).pop().unwrap_or_default();
                self.items.push(Item::Line {
                    x,
                    baseline,
                    size: field_size,
                    runs,
                });
                x += w + gap;
            }
        }
        self.y += size * KEY_LEADING;
        true
    }

    /// Sets the pending fields on one line, first flush left, last flush right.
    fn flush(&mut self, pending: &mut Vec<(Vec<Run>, f32)>, size: f32) {
        if pending.is_empty() {
            return;
        }
        let n = pending.len();
        let total: f32 = pending.iter().map(|(_, w)| w).sum();
        let spacing = if n > 1 {
            (self.width - total) / metrics::count(n - 1)
        } else {
            0.0
        };
        let baseline = self.baseline(size);
        let mut x = self.margin;
        for (runs, w) in pending.drain(..) {
            if self.build {
                self.items.push(Item::Line {
                    x,
                    baseline,
                    size,
                    runs,
                });
            }
            x += w + spacing;
        }
        self.y += size * LEADING;
    }

    /// Vertical space.
    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    /// A hairline with `gap` of space above and below.
    fn rule(&mut self, gap: f32) {
        self.y += gap;
        if self.build {
            self.items.push(Item::Rule { y: self.y });
        }
        self.y += gap + 0.5;
    }
}

/// The main label laid out by `plan`, or `None` if it does not fit. Without `build` only
/// the height is worked out and the flow has no items.
fn main_label(text: &Prepared, size: LabelSize, plan: &Plan, build: bool) -> Option<Flow> {
    let mut flow = Flow::new(size, build)?;
    let (key, detail) = (plan.key, plan.detail);

    flow.para(&text.pharmacy, pharmacy_size(detail), LEADING);
    flow.rule(detail * RULE_GAP);

    let beside = flow.beside(&text.patient, key, &text.beside_patient, detail);
    for s in &text.strengths {
        flow.para(s, key, KEY_LEADING);
    }
    flow.para(&text.directions, key, KEY_LEADING);
    flow.gap(detail * RULE_GAP);
    if !flow.fits() {
        return None;
    }

    let warnings = text.warnings.get(..plan.warnings).unwrap_or(&[]);
    let federal = text.federal.as_ref().filter(|_| plan.federal);
    let see_aux = plan.needs_aux(text);
    let any_warning = !warnings.is_empty() || federal.is_some();
    let unplaced = if beside {
        &[][..]
    } else {
        &text.beside_patient[..]
    };
    let details: Vec<&Words> = unplaced.iter().chain(&text.details).collect();
    flow.fields(&details, detail);
    if let Some(description) = text.description.as_ref().filter(|_| plan.moved < 1) {
        flow.para(description, detail, LEADING);
    }
    let storage_moved = usize::from(plan.moved >= 2);
    // With no warning left on the main label, the pointer to the auxiliary label follows
    // the beyond-use date, on its line when there is room, rather than opening a block.
    let bud = &text.bud[storage_moved];
    match (see_aux && !any_warning).then_some(&text.see_aux[0]) {
        Some(pointer) => flow.fields(&[bud, pointer], detail),
        None => flow.para(bud, detail, LEADING),
    }
    if !flow.fits() {
        return None;
    }

    if any_warning {
        flow.rule(detail * RULE_GAP);
    }
    for w in warnings {
        flow.para(w, WARNING_PT, LEADING);
    }
    if see_aux && any_warning {
        let only_warnings = usize::from(plan.moved == 0);
        flow.para(&text.see_aux[only_warnings], WARNING_PT, LEADING);
    }
    if let Some(federal) = federal {
        flow.para(federal, WARNING_PT, LEADING);
    }
    // The last line box ends at `y`; its descenders stay inside it.
    flow.fits().then_some(flow)
}

/// The auxiliary labels for the warnings `plan` leaves off the main label, federal warning
/// first, at the largest size that needs no more labels than the smallest size does, with
/// that size; no labels when every warning is on the main label.
///
/// # Errors
///
/// `Error::Render` if the stock is too small for even one line of warning below the heading.
fn auxiliary_labels(
    text: &Prepared,
    content: &Content,
    size: LabelSize,
    plan: &Plan,
) -> Result<(Option<f32>, Vec<Vec<Item>>)> {
    let mut moved: Vec<&Words> = Vec::new();
    if let Some(federal) = text.federal.as_ref().filter(|_| !plan.federal) {
        moved.push(federal);
    }
    moved.extend(text.aux_storage.as_ref().filter(|_| plan.moved >= 2));
    moved.extend(text.aux_description.as_ref().filter(|_| plan.moved >= 1));
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
            "the warnings do not fit on an auxiliary label of {} × {} in even at {WARNING_PT} pt; \
             use a larger label ([label] width and height in troche.toml)",
            inches(size.width_pt),
            inches(size.height_pt)
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
        (flow.y + lead <= flow.bottom).then_some(flow)
    };
    let mut pages = Vec::new();
    let mut flow = start(1)?;
    let mut top = flow.y;
    for (i, words) in warnings.iter().enumerate() {
        if i > 0 {
            flow.gap(warning_pt * 0.25);
        }
        let lines: Vec<Vec<Run>> = if build {
            words.wrap(warning_pt, flow.width)
        } else {
            vec![Vec::new(); words.measure(warning_pt, flow.width).0]
        };
        let height = metrics::count(lines.len()) * lead;
        if flow.y > top && flow.y + height > flow.bottom {
            pages.push(std::mem::take(&mut flow.items));
            flow = start(pages.len() + 1)?;
            top = flow.y;
        }
        for line in lines {
            if flow.y + lead > flow.bottom {
                pages.push(std::mem::take(&mut flow.items));
                flow = start(pages.len() + 1)?;
                top = flow.y;
            }
            flow.line(warning_pt, lead, line);
        }
    }
    pages.push(flow.items);
    Some(pages)
}

/// Inches with at most two decimals, as a pharmacist would write the stock size.
fn inches(pt: f32) -> String {
    let s = format!("{:.2}", pt / 72.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Why the main label cannot fit, naming the longest text the user controls.
fn too_long(content: &Content, size: LabelSize) -> String {
    let strength: usize = content.strengths.iter().map(|s| s.chars().count()).sum();
    let chars = |s: &str| s.chars().count();
    let mut fields = [
        ("directions", chars(&content.directions)),
        (
            "storage text in the formula's [bud]",
            chars(&content.storage),
        ),
        ("description in the formula", chars(&content.description)),
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
        "the label text does not fit on a {} × {} in label even with the patient, drug and \
         directions at {MIN_KEY_PT} pt, the other fields at {MIN_DETAIL_PT} pt, and the warnings, \
         description and storage moved to an auxiliary label; shorten the {first} ({n1} characters) or the {second} \
         ({n2} characters), or use a larger label ([label] width and height in troche.toml)",
        inches(size.width_pt),
        inches(size.height_pt)
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

    fn stocks() -> [LabelSize; 2] {
        [LabelSize::default(), SMALL]
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
            let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
            assert_laid_out_cleanly(&layout);
            let pages = page_texts(&layout);
            let main = &pages[0];
            let strength = record.strength_lines();
            let expected = [
                "Main Street Compounding Pharmacy",
                "1 Main St, Springfield, IL 62701",
                "(217) 555-0100",
                "Rx: RX-4471203",
                "Filled: 2026-11-23",
                "Jane Q. Doe",
                "Prescriber: Dr. Ana Ruiz, MD",
                &strength[0],
                "Qty: 30 troches (buccal)",
                &record.directions,
                "Do not use after 2027-05-22.",
                "Compounded preparation",
                "Lot: 261123-001",
                "Refills: 0",
                "RPh: ______",
            ];
            for field in expected {
                assert!(main.contains(&squash(field)), "lacks {field:?}:\n{main}");
            }
            assert!(!main.contains("as weighed"), "{main}");
            // On 4 × 2 in the description and storage are on the main label; smaller stock
            // may move them to the first auxiliary label, and then the main label says so.
            let description = "Description: White, round, flat troche with a tutti-frutti odor";
            let storage = squash(&record.formula.bud.storage);
            if stock == LabelSize::default() {
                assert!(layout.description_on_main && layout.storage_on_main);
            }
            let all = pages.join(" ");
            assert_eq!(all.matches(description).count(), 1, "{all}");
            assert_eq!(all.matches(&storage).count(), 1, "{all}");
            assert_eq!(main.contains(description), layout.description_on_main);
            assert_eq!(main.contains(&storage), layout.storage_on_main);
            if !layout.storage_on_main {
                assert!(main.contains("See auxiliary label"), "{main}");
                assert!(pages[1].contains(&format!("Storage: {storage}")));
            }
            // The PDF itself reads the same, page by page.
            let pdf = label(&record, pharmacy(&record), stock).unwrap();
            let text = pdf_text(&pdf);
            let pdf_pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.is_empty()).collect();
            assert_eq!(pdf_pages.len(), layout.page_count(), "{text}");
            for field in expected {
                assert!(pdf_pages[0].contains(&bare(field)), "{field:?}:\n{text}");
            }
        }
    }

    #[test]
    fn the_patient_drug_and_directions_come_first_and_largest() {
        let record = ketamine(30);
        for (stock, least) in [(LabelSize::default(), 10.0), (SMALL, MIN_KEY_PT)] {
            let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
            assert!(layout.key_size_pt >= least, "{stock:?}: {layout:?}");
            assert!(layout.pharmacy_size_pt < layout.key_size_pt);
            assert!(layout.detail_size_pt < layout.key_size_pt);
            let key = [
                "Jane Q. Doe",
                "Ketamine hydrochloride 50 mg",
                "Place 1 troche",
            ];
            for field in key {
                let sizes = sizes_of(&layout, 0, field);
                assert!(!sizes.is_empty(), "{field:?} not on the main label");
                assert!(sizes.iter().all(|&s| s >= least), "{field:?}: {sizes:?}");
            }
            let pharmacy = sizes_of(&layout, 0, "Main Street Compounding");
            assert!(
                pharmacy.iter().all(|&s| (6.0..=7.0).contains(&s)),
                "{pharmacy:?}"
            );
        }
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
                let all = page_texts(&layout).join(" ");
                let mut warnings = record.formula.label.warnings.clone();
                warnings.push(FEDERAL_TRANSFER_WARNING.to_owned());
                for w in &warnings {
                    assert_eq!(all.matches(&squash(w)).count(), 1, "{w:?} in:\n{all}");
                }
                // Each warning starts its own line, at 7 pt or more.
                for page in &layout.pages {
                    for item in page {
                        if let Item::Line { size, runs, .. } = item
                            && let Some((_, first)) = runs.first()
                            && (first == "•" || first.starts_with("Caution: Federal"))
                        {
                            assert!(*size >= WARNING_PT, "{size}: {runs:?}");
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
        assert!(layout.federal_on_main);
        assert!(page_texts(&layout)[0].contains(FEDERAL_TRANSFER_WARNING));
        let pdf = label(&record, pharmacy(&record), LabelSize::default()).unwrap();
        {
            let text = pdf_text(&pdf);
            let main = text.split('\u{c}').next().unwrap_or_default();
            assert!(main.contains(&bare(FEDERAL_TRANSFER_WARNING)), "{text}");
        }
    }

    #[test]
    fn many_long_warnings_go_to_auxiliary_labels_instead_of_shrinking() {
        let mut record = ketamine(30);
        record.formula.label.warnings = (1..=8).map(long_warning).collect();
        for (stock, least) in [(LabelSize::default(), 10.0), (SMALL, MIN_KEY_PT)] {
            let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
            assert!(layout.page_count() >= 2, "{stock:?}");
            assert!(
                layout.key_size_pt >= least,
                "{stock:?}: {}",
                layout.key_size_pt
            );
            assert!(layout.aux_size_pt.is_some_and(|pt| pt >= WARNING_PT));
            if stock == LabelSize::default() {
                assert!(layout.federal_on_main);
            }
            let pages = page_texts(&layout);
            assert!(pages[0].contains("See auxiliary label"), "{}", pages[0]);
            let n = layout.page_count() - 1;
            for (i, page) in pages.iter().enumerate().skip(1) {
                let heading = format!("Auxiliary label {i} of {n} — Rx RX-4471203 — Jane Q. Doe");
                assert!(page.starts_with(&heading), "{page}");
            }
            let pdf = label(&record, pharmacy(&record), stock).unwrap();
            {
                let text = pdf_text(&pdf);
                assert!(text.contains(&bare("Auxiliary label 1 of")), "{text}");
            }
        }
        // Without auxiliary labels, the main label says nothing about them.
        let mut few = ketamine(30);
        few.formula.label.warnings.truncate(1);
        let plain = label_layout(&few, pharmacy(&few), LabelSize::default()).unwrap();
        assert_eq!(plain.page_count(), 1);
        assert!(!page_texts(&plain)[0].contains("auxiliary"));
    }

    #[test]
    fn the_federal_warning_leads_the_auxiliary_label_when_the_main_one_is_full() {
        // On 3 × 1.5 in, the ketamine label's own fields leave no room for it.
        let record = ketamine(30);
        let layout = label_layout(&record, pharmacy(&record), SMALL).unwrap();
        assert_laid_out_cleanly(&layout);
        assert!(!layout.federal_on_main, "{layout:?}");
        assert!(layout.key_size_pt >= MIN_KEY_PT);
        let pages = page_texts(&layout);
        assert!(pages[0].contains("See auxiliary label"), "{}", pages[0]);
        assert!(!pages[0].contains("Federal law"), "{}", pages[0]);
        let after_heading = pages[1].split_once("Jane Q. Doe ").map(|(_, rest)| rest);
        assert!(
            after_heading.is_some_and(|rest| rest.starts_with(FEDERAL_TRANSFER_WARNING)),
            "{}",
            pages[1]
        );
        assert!(pages[0].contains(&squash(&record.directions)));
    }

    #[test]
    fn unscheduled_drugs_carry_no_federal_warning() {
        let mut record = ketamine(30);
        record.formula.label.warnings.clear();
        for ingredient in &mut record.calc.ingredients {
            if let Some(active) = ingredient.active.as_mut() {
                active.schedule = None;
            }
        }
        assert!(!record.needs_transfer_warning());
        let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
        assert_eq!(layout.page_count(), 1);
        assert!(!page_texts(&layout)[0].contains("Federal"));
        assert!(layout.key_size_pt >= 10.0);
        let small = label_layout(&record, pharmacy(&record), SMALL).unwrap();
        assert!(!page_texts(&small).join(" ").contains("Federal"));
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
    fn long_directions_stay_on_the_main_label() {
        let mut record = ketamine(30);
        record.directions = "Place 1 troche between cheek and gum and let it dissolve completely, \
            about 15 to 30 minutes, every 8 hours as needed for pain. Do not chew or swallow \
            whole. Do not eat or drink until it has dissolved."
            .to_owned();
        let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
        assert!(layout.key_size_pt >= 10.0);
        assert!(layout.used_height_pt <= 144.0);
        assert_laid_out_cleanly(&layout);
        assert!(page_texts(&layout)[0].contains(&squash(&record.directions)));
        // Too much for 3 × 1.5 in at 9 pt: refused, naming the directions.
        let e = label_layout(&record, pharmacy(&record), SMALL).unwrap_err();
        assert!(e.to_string().contains("shorten the directions"), "{e}");
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
        assert!(msg.contains("9 pt"), "{msg}");
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
            if let Ok(layout) = label_layout(&record, pharmacy(&record), size) {
                assert!(layout.key_size_pt >= MIN_KEY_PT);
                assert_laid_out_cleanly(&layout);
            }
        }
        record.directions = "y".repeat(5000);
        assert!(label(&record, pharmacy(&record), LabelSize::default()).is_err());
    }

    #[test]
    fn stock_sizes_print_as_a_pharmacist_writes_them() {
        assert_eq!(inches(288.0), "4");
        assert_eq!(inches(216.0), "3");
        assert_eq!(inches(100.0), "1.39");
    }
}
