//! The container label: everything the patient and the law need on one small sticker.
//!
//! A 4 × 2 in label must carry the pharmacy, the prescription particulars, the strength per
//! unit with its basis, directions, the beyond-use date, the formula's auxiliary warnings and,
//! for Schedule II–IV drugs, the federal transfer warning word for word. That rarely fits at a
//! comfortable size, so the layout tries sizes from large to small and takes the first that
//! fits; below 6 pt a label is no longer reliably legible, so it refuses and says what to
//! shorten instead of printing text that runs off the stock or overlaps.

use crate::config::{LabelSize, Pharmacy};
use crate::error::{Error, Result};
use crate::record::{FEDERAL_TRANSFER_WARNING, Record};

use super::canvas::{Canvas, DocMeta};
use super::metrics;
use super::text::{
    BLANK, Run, Words, bold, date, doc_date, draw_runs, or_blank, regular, runs_width,
    strength_runs,
};

/// Body size the layout starts from; larger is not needed on any common label stock.
const MAX_BODY_PT: f32 = 10.0;
/// Smallest body size printed; below this label printers and eyes both fail.
pub const MIN_BODY_PT: f32 = 6.0;
/// Sizes are tried in steps this large, so the chosen size is a round figure.
const STEP_PT: f32 = 0.25;
/// Sizes tried after the first: (`MAX_BODY_PT` - `MIN_BODY_PT`) / `STEP_PT`.
const STEPS: u8 = 16;
/// Line spacing as a multiple of the size: Helvetica's ascender and descender span 0.93 em,
/// so this keeps lines apart while fitting the most text on small stock.
const LEADING: f32 = 1.12;
/// Quiet zone kept clear at every edge: label printers do not register exactly.
const MARGIN_PT: f32 = 6.0;
/// Something drawn on the label, positioned by the layout.
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

/// A label laid out at one font size, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelLayout {
    /// Size of all body text, in points.
    pub font_size_pt: f32,
    /// Size of the pharmacy name at the top.
    pub title_size_pt: f32,
    /// Whether the auxiliary warnings had to be run together in one paragraph to fit.
    pub warnings_run_together: bool,
    /// Height from the top edge down to the bottom of the last line, margin included.
    pub used_height_pt: f32,
    /// Number of text lines on the label.
    pub lines: usize,
    size: LabelSize,
    items: Vec<Item>,
}

/// Lays the label out at the largest body size (down to 6 pt) at which it fits.
///
/// # Errors
///
/// `Error::Render` if the record has no pharmacy, or if the text does not fit even at 6 pt;
/// the message names the longest field so the pharmacist knows what to shorten.
pub fn label_layout(record: &Record, size: LabelSize) -> Result<LabelLayout> {
    let pharmacy = record.pharmacy.as_ref().ok_or_else(|| {
        Error::Render(
            "a label must show the pharmacy's name, address and phone, and none is configured; \
             add a [pharmacy] table to troche.toml"
                .to_owned(),
        )
    })?;
    let content = Content::new(record, pharmacy);
    let prepared = Prepared::new(&content);
    // Sizes from MAX_BODY_PT down to MIN_BODY_PT in STEP_PT steps; the largest that fits
    // wins, preferring warnings on lines of their own at that size. Smaller text never
    // needs more room, so the first size that fits is found by bisection rather than by
    // laying the label out at every size.
    let body = |step: u8| MAX_BODY_PT - f32::from(step) * STEP_PT;
    // Which arrangement fits at a step, found without building the layout.
    let arrangement = |step: u8| {
        [false, true]
            .into_iter()
            .find(|&together| fit(&prepared, size, body(step), together, false).is_some())
    };
    // Invariant: every step before `low` does not fit; `best` is what fits at `high`.
    let (mut low, mut high, mut best) = (0, STEPS + 1, None);
    while low < high {
        let mid = low + (high - low) / 2;
        match arrangement(mid) {
            Some(together) => {
                high = mid;
                best = Some((mid, together));
            }
            None => low = mid + 1,
        }
    }
    let best = best.and_then(|(step, together)| fit(&prepared, size, body(step), together, true));
    best.ok_or_else(|| Error::Render(too_long(&content, size)))
}

/// Renders the label as a one-page PDF the size of the label stock.
///
/// # Errors
///
/// As [`label_layout`], or if the PDF cannot be written.
pub fn label(record: &Record, size: LabelSize) -> Result<Vec<u8>> {
    let layout = label_layout(record, size)?;
    let mut canvas = Canvas::new(size.width_pt, size.height_pt);
    for item in &layout.items {
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
                canvas.line(MARGIN_PT, *y, size.width_pt - MARGIN_PT, *y, 0.5);
            }
        }
    }
    let meta = DocMeta {
        title: format!("Label {} — {}", record.lot, record.formula.name),
        subject: Some(format!(
            "Prescription label, {} version {}",
            record.formula.id, record.formula.version
        )),
        author: record.pharmacy.as_ref().map(|p| p.name.clone()),
        date: doc_date(record.date),
        document_id: format!(
            "troche/{}/{}/{}/label",
            record.formula.id, record.formula.version, record.lot
        ),
    };
    canvas.to_pdf(&meta).map_err(Error::Render)
}
/// The label's text, gathered once so that every size tried lays out the same words.
struct Content {
    pharmacy_name: String,
    pharmacy_contact: String,
    rx: String,
    filled: String,
    patient: String,
    prescriber: String,
    strengths: Vec<String>,
    quantity: String,
    form: String,
    directions: String,
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
        let form = record.formula.dosage_form.trim();
        let route = record.formula.route.trim();
        let form = match (form.is_empty(), route.is_empty()) {
            (false, false) => format!("{form} ({route})"),
            (false, true) => form.to_owned(),
            (true, false) => route.to_owned(),
            (true, true) => BLANK.to_owned(),
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
            [address, phone, ..] => format!("{address} · Phone {phone}"),
        };
        Content {
            pharmacy_name: pharmacy.name.clone(),
            pharmacy_contact: contact,
            rx: or_blank(order.rx.as_deref()),
            filled: date(record.date),
            patient: or_blank(order.patient.as_deref()),
            prescriber: or_blank(order.prescriber.as_deref()),
            strengths,
            quantity: record.calc.units_dispensed.to_string(),
            form,
            directions: record.directions.trim().to_owned(),
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
}

/// Places lines top to bottom inside the margins and remembers what it drew.
struct Flow {
    width: f32,
    y: f32,
    bottom: f32,
    body: f32,
    lead: f32,
    items: Vec<Item>,
    lines: usize,
    /// Whether to keep what is laid out; without, only the height is worked out.
    build: bool,
}

impl Flow {
    /// Baseline within a line box: room above for accented capitals, below for descenders.
    fn baseline(&self, size: f32) -> f32 {
        self.y + size * 0.85
    }

    fn line(&mut self, x: f32, size: f32, lead: f32, runs: Vec<Run>) {
        if self.build {
            let baseline = self.baseline(size);
            self.items.push(Item::Line {
                x,
                baseline,
                size,
                runs,
            });
        }
        self.y += lead;
        self.lines += 1;
    }

    /// A wrapped paragraph at body size.
    fn para(&mut self, words: &Words) {
        let (size, lead) = (self.body, self.lead);
        self.para_at(words, size, lead);
    }

    fn para_at(&mut self, words: &Words, size: f32, lead: f32) {
        if !self.build {
            for _ in 0..words.measure(size, self.width).0 {
                self.line(MARGIN_PT, size, lead, Vec::new());
            }
            return;
        }
        for line in words.wrap(size, self.width) {
            self.line(MARGIN_PT, size, lead, line);
        }
    }

    /// Short fields packed onto as few lines as they fit, spread across each line; a field
    /// never breaks inside unless it is longer than a whole line.
    fn fields(&mut self, groups: &[Words]) {
        let gap = self.body * 1.5;
        let mut pending: Vec<(Vec<Run>, f32)> = Vec::new();
        for group in groups {
            let (line, w) = if self.build {
                let mut lines = group.wrap(self.body, self.width);
                if lines.len() > 1 {
                    self.flush(&mut pending);
                    for line in lines {
                        self.line(MARGIN_PT, self.body, self.lead, line);
                    }
                    continue;
                }
                let Some(line) = lines.pop() else { continue };
                let w = runs_width(&line, self.body);
                (line, w)
            } else {
                let (count, w) = group.measure(self.body, self.width);
                if count > 1 {
                    self.flush(&mut pending);
                    for _ in 0..count {
                        self.line(MARGIN_PT, self.body, self.lead, Vec::new());
                    }
                    continue;
                }
                if count == 0 {
                    continue;
                }
                (Vec::new(), w)
            };
            let used: f32 = pending.iter().map(|(_, w)| w + gap).sum();
            if !pending.is_empty() && used + w > self.width {
                self.flush(&mut pending);
            }
            pending.push((line, w));
        }
        self.flush(&mut pending);
    }

    /// Sets the pending fields on one line, first flush left, last flush right.
    fn flush(&mut self, pending: &mut Vec<(Vec<Run>, f32)>) {
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
        let baseline = self.baseline(self.body);
        let mut x = MARGIN_PT;
        for (runs, w) in pending.drain(..) {
            if !self.build {
                continue;
            }
            self.items.push(Item::Line {
                x,
                baseline,
                size: self.body,
                runs,
            });
            x += w + spacing;
        }
        self.y += self.lead;
        self.lines += 1;
    }

    fn rule(&mut self) {
        let gap = self.body * 0.3;
        self.y += gap;
        if self.build {
            self.items.push(Item::Rule { y: self.y });
        }
        self.y += gap + 0.5;
    }
}

/// The label's paragraphs and field groups as words ready to wrap, prepared once for
/// all the sizes [`label_layout`] tries.
struct Prepared {
    pharmacy: Words,
    contact: Words,
    order_fields: [Words; 4],
    people_fields: [Words; 2],
    strengths: Vec<Words>,
    unit_fields: [Words; 4],
    directions: Words,
    bud: Words,
    /// Each warning on its own line, or all run together in one paragraph.
    warnings: Vec<Words>,
    warnings_together: Words,
    federal: Option<Words>,
}

impl Prepared {
    fn new(content: &Content) -> Self {
        let pair = |label: &str, value: &str| Words::new(&[bold(label), regular(value)]);
        let mut together = Vec::new();
        for (i, w) in content.warnings.iter().enumerate() {
            if i > 0 {
                together.push(bold("•"));
            }
            together.push(regular(w.as_str()));
        }
        Prepared {
            pharmacy: Words::new(&[bold(content.pharmacy_name.as_str())]),
            contact: Words::new(&[regular(content.pharmacy_contact.as_str())]),
            order_fields: [
                pair("Rx:", &content.rx),
                pair("Filled:", &content.filled),
                pair("Refills:", &content.refills),
                pair("RPh:", BLANK),
            ],
            people_fields: [
                pair("Patient:", &content.patient),
                pair("Prescriber:", &content.prescriber),
            ],
            strengths: content
                .strengths
                .iter()
                .map(|s| Words::new(&strength_runs(s)))
                .collect(),
            unit_fields: [
                pair("Qty:", &content.quantity),
                pair("Dosage form:", &content.form),
                pair("Lot:", &content.lot),
                Words::new(&[bold("Compounded preparation")]),
            ],
            directions: if content.directions.is_empty() {
                pair("Directions:", BLANK)
            } else {
                Words::new(&[bold(content.directions.as_str())])
            },
            bud: Words::new(&[
                bold(format!("Do not use after {}.", content.bud)),
                regular(content.storage.as_str()),
            ]),
            warnings: content
                .warnings
                .iter()
                .map(|w| Words::new(&[bold("•"), regular(w.as_str())]))
                .collect(),
            warnings_together: Words::new(&together),
            federal: content
                .federal
                .then(|| Words::new(&[bold(FEDERAL_TRANSFER_WARNING)])),
        }
    }
}

/// The label at body size `body`, or `None` if it does not fit. Without `build` the
/// layout only finds out whether it fits and has no items.
fn fit(
    text: &Prepared,
    size: LabelSize,
    body: f32,
    run_together: bool,
    build: bool,
) -> Option<LabelLayout> {
    let title = (body + 2.0).min(12.0);
    let mut flow = Flow {
        width: size.width_pt - 2.0 * MARGIN_PT,
        y: MARGIN_PT,
        bottom: size.height_pt - MARGIN_PT,
        body,
        lead: body * LEADING,
        items: Vec::new(),
        lines: 0,
        build,
    };
    if flow.width <= 0.0 || flow.bottom <= flow.y {
        return None;
    }

    flow.para_at(&text.pharmacy, title, title * LEADING);
    flow.para(&text.contact);
    flow.rule();

    flow.fields(&text.order_fields);
    flow.fields(&text.people_fields);
    for s in &text.strengths {
        flow.para(s);
    }
    flow.fields(&text.unit_fields);
    flow.para(&text.directions);
    flow.para(&text.bud);

    if !text.warnings.is_empty() || text.federal.is_some() {
        flow.rule();
    }
    if run_together {
        flow.para(&text.warnings_together);
    } else {
        for w in &text.warnings {
            flow.para(w);
        }
    }
    if let Some(federal) = &text.federal {
        flow.para(federal);
    }

    // The last line box ends at `y`; its descenders stay inside it.
    (flow.y <= flow.bottom).then_some(LabelLayout {
        font_size_pt: body,
        title_size_pt: title,
        warnings_run_together: run_together,
        used_height_pt: flow.y + MARGIN_PT,
        lines: flow.lines,
        size,
        items: flow.items,
    })
}

/// Inches with at most two decimals, as a pharmacist would write the stock size.
fn inches(pt: f32) -> String {
    let s = format!("{:.2}", pt / 72.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Why the label cannot fit, naming the longest text the user controls.
fn too_long(content: &Content, size: LabelSize) -> String {
    let warnings: usize = content.warnings.iter().map(|w| w.chars().count()).sum();
    let strength: usize = content.strengths.iter().map(|s| s.chars().count()).sum();
    let mut fields = [
        ("directions", content.directions.chars().count()),
        ("auxiliary warnings in the formula's [label]", warnings),
        (
            "storage text in the formula's [bud]",
            content.storage.chars().count(),
        ),
        ("strength line (drug names)", strength),
        ("patient name", content.patient.chars().count()),
        ("prescriber name", content.prescriber.chars().count()),
        ("pharmacy address", content.pharmacy_contact.chars().count()),
        ("pharmacy name", content.pharmacy_name.chars().count()),
        ("Rx number", content.rx.chars().count()),
        ("lot number", content.lot.chars().count()),
    ];
    fields.sort_by_key(|f| std::cmp::Reverse(f.1));
    let [(first, n1), (second, n2), ..] = fields;
    format!(
        "the label text does not fit on a {} × {} in label even at {MIN_BODY_PT} pt; shorten the \
         {first} ({n1} characters) or the {second} ({n2} characters), or use a larger label \
         ([label] width and height in troche.toml)",
        inches(size.width_pt),
        inches(size.height_pt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{ketamine, pdf_text, squash};
    #[test]
    fn label_holds_every_required_field() {
        let record = ketamine(30);
        let pdf = label(&record, LabelSize::default()).unwrap();
        let layout = label_layout(&record, LabelSize::default()).unwrap();
        assert!(layout.font_size_pt >= MIN_BODY_PT);
        let Some(text) = pdf_text(&pdf) else { return };
        let strength = record.strength_lines();
        let expected = [
            "Main Street Compounding Pharmacy",
            "1 Main St, Springfield, IL 62701",
            "(217) 555-0100",
            "Rx: RX-4471203",
            "Filled: 2026-11-23",
            "Patient: Jane Q. Doe",
            "Prescriber: Dr. Ana Ruiz, MD",
            &strength[0],
            "Qty: 30",
            "troche",
            &record.directions,
            "Do not use after 2027-05-22",
            &record.formula.bud.storage,
            "Compounded preparation",
            "Lot: 261123-001",
            "Refills: 0",
            "RPh:",
            FEDERAL_TRANSFER_WARNING,
        ];
        for field in expected {
            assert!(
                text.contains(&squash(field)),
                "label lacks {field:?}:\n{text}"
            );
        }
        for w in &record.formula.label.warnings {
            assert!(
                text.contains(&squash(w)),
                "label lacks warning {w:?}:\n{text}"
            );
        }
        assert_eq!(
            strength[0],
            "Ketamine hydrochloride 50 mg per troche (= ketamine 43.35 mg)"
        );
    }

    #[test]
    fn renders_are_byte_identical() {
        let record = ketamine(30);
        let a = label(&record, LabelSize::default()).unwrap();
        let b = label(&record, LabelSize::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn missing_order_fields_print_as_blanks() {
        let mut record = ketamine(30);
        record.order.rx = None;
        record.order.patient = Some("  ".to_owned());
        record.order.prescriber = None;
        record.order.refills = None;
        let pdf = label(&record, LabelSize::default()).unwrap();
        let Some(text) = pdf_text(&pdf) else { return };
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
        let mut record = ketamine(30);
        record.pharmacy = None;
        let e = label(&record, LabelSize::default()).unwrap_err();
        assert!(matches!(e, Error::Render(_)));
        assert!(e.to_string().contains("pharmacy"), "{e}");
    }

    #[test]
    fn long_directions_shrink_but_stay_on_the_label() {
        let mut record = ketamine(30);
        // Without the auxiliary warnings there is room to shrink into.
        record.formula.label.warnings.clear();
        let normal = label_layout(&record, LabelSize::default()).unwrap();
        record.directions = "Place 1 troche between cheek and gum and let it dissolve completely, \
            about 15 to 30 minutes, every 8 hours as needed for pain. Do not chew or swallow \
            whole. Do not eat or drink until it has dissolved."
            .to_owned();
        let long = label_layout(&record, LabelSize::default()).unwrap();
        assert!(
            long.font_size_pt < normal.font_size_pt,
            "{} vs {}",
            long.font_size_pt,
            normal.font_size_pt
        );
        assert!(long.font_size_pt >= MIN_BODY_PT);
        assert!(long.used_height_pt <= 144.0);
        assert_every_line_inside(&long);
        let pdf = label(&record, LabelSize::default()).unwrap();
        if let Some(text) = pdf_text(&pdf) {
            assert!(text.contains(&squash(&record.directions)), "{text}");
        }
    }

    fn assert_every_line_inside(layout: &LabelLayout) {
        let (w, h) = (layout.size.width_pt, layout.size.height_pt);
        for item in &layout.items {
            if let Item::Line {
                x,
                baseline,
                size,
                runs,
            } = item
            {
                let right = x + runs_width(runs, *size);
                assert!(
                    *x >= MARGIN_PT - 0.01 && right <= w - MARGIN_PT + 0.01,
                    "{runs:?}"
                );
                assert!(*baseline - size * 0.75 >= MARGIN_PT - 0.01, "{runs:?}");
                assert!(*baseline + size * 0.21 <= h - MARGIN_PT + 0.01, "{runs:?}");
            }
        }
    }

    #[test]
    fn absurd_text_is_refused_naming_what_to_shorten() {
        let mut record = ketamine(30);
        record.directions = "Dissolve one troche slowly in the mouth. ".repeat(40);
        let e = label_layout(&record, LabelSize::default()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Render(_)));
        assert!(msg.contains("4 × 2 in"), "{msg}");
        assert!(msg.contains("shorten the directions"), "{msg}");
        assert!(msg.contains("6 pt"), "{msg}");
        // A larger stock takes it.
        let big = LabelSize {
            width_pt: 288.0,
            height_pt: 576.0,
        };
        let layout = label_layout(&record, big).unwrap();
        assert_every_line_inside(&layout);
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut record = ketamine(30);
        record.directions = String::new();
        record.lot = "X".repeat(300);
        record.order.patient = Some("\u{1F600}\u{0}\n\t".repeat(5));
        let _ = label_layout(&record, LabelSize::default());
        for (w, h) in [
            (72.0, 72.0),
            (1440.0, 1440.0),
            (3.0, 3.0),
            (f32::NAN, 100.0),
        ] {
            let size = LabelSize {
                width_pt: w,
                height_pt: h,
            };
            if let Ok(layout) = label_layout(&record, size) {
                assert!(layout.font_size_pt >= MIN_BODY_PT);
            }
        }
        record.directions = "y".repeat(5000);
        assert!(label(&record, LabelSize::default()).is_err());
    }

    #[test]
    fn the_sizes_tried_end_at_the_smallest() {
        let smallest = MAX_BODY_PT - f32::from(STEPS) * STEP_PT;
        assert_eq!(smallest.to_bits(), MIN_BODY_PT.to_bits());
    }
}
