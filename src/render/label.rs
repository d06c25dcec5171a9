//! The container label: everything the patient and the law need on one small sticker.
//!
//! A 4 × 2 in label must carry the pharmacy, the prescription particulars, the strength per
//! unit with its basis, directions, the beyond-use date, the formula's auxiliary warnings and,
//! for Schedule II–IV drugs, the federal transfer warning word for word. That rarely fits at a
//! comfortable size, so the layout tries sizes from large to small and takes the first that
//! fits; below 6 pt a label is no longer reliably legible, so it refuses and says what to
//! shorten instead of printing text that runs off the stock or overlaps.

use std::borrow::Cow;

use crate::config::{LabelSize, Pharmacy};
use crate::error::{Error, Result};
use crate::record::{FEDERAL_TRANSFER_WARNING, Record};

use super::canvas::{Canvas, DocMeta};
use super::metrics::{self, Font};

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
/// What a missing order field prints as, so it is filled in by hand rather than forgotten.
pub(super) const BLANK: &str = "__________";
/// Float sums of glyph widths may differ in the last bit from a single measurement; wrapping
/// this much short of the limit keeps every line strictly inside it.
const WIDTH_SLACK_PT: f32 = 0.01;

/// One line segment in a single font; lines mix bold labels with regular values.
pub(super) type Run = (Font, String);

/// Word-wraps runs of mixed fonts into lines no wider than `width_pt`.
///
/// Words are separated by single spaces, as [`metrics::wrap`] does; a word wider than the
/// line is broken between characters. Each returned line is a list of runs whose drawn
/// widths, measured with [`metrics::text_width`], sum to at most `width_pt` (only a single
/// character wider than the whole line can exceed it). Empty input gives no lines.
pub(super) fn wrap_runs(runs: &[Run], size_pt: f32, width_pt: f32) -> Vec<Vec<Run>> {
    with_words(runs, |words| wrap_words(words, size_pt, width_pt))
}

/// Runs split into words that are converted to `WinAnsi` and measured once, so that text
/// can be wrapped at many sizes (the label tries several) without doing either again.
#[derive(Debug, Clone, Default)]
pub(super) struct Words {
    /// The converted words, one after another.
    text: String,
    /// Font, byte range in `text`, and advance width in 1/1000 em of each word.
    words: Vec<(Font, usize, usize, u64)>,
}

impl Words {
    pub(super) fn new(runs: &[Run]) -> Self {
        let len: usize = runs.iter().map(|(_, t)| t.len()).sum();
        let mut text = String::with_capacity(len);
        let mut words = Vec::with_capacity(len / 4 + 1);
        for (font, run) in runs {
            for word in metrics::winansi(run).split_whitespace() {
                let start = text.len();
                text.push_str(word);
                words.push((*font, start, text.len(), metrics::units(*font, word)));
            }
        }
        Words { text, words }
    }

    fn iter(&self) -> impl Iterator<Item = (Font, &str, u64)> {
        self.words.iter().map(|&(font, start, end, units)| {
            (font, self.text.get(start..end).unwrap_or(""), units)
        })
    }

    /// [`wrap_runs`] of the runs these words came from.
    pub(super) fn wrap(&self, size_pt: f32, width_pt: f32) -> Vec<Vec<Run>> {
        wrap_words(self.iter(), size_pt, width_pt)
    }

    /// What [`Words::wrap`] would give without building it: the number of lines, and the
    /// [`runs_width`] of the last one.
    fn measure(&self, size_pt: f32, width_pt: f32) -> (usize, f32) {
        measure_words(self.iter(), size_pt, width_pt)
    }
}

/// How many lines [`wrap_runs`] gives, without building them.
pub(super) fn wrap_count(runs: &[Run], size_pt: f32, width_pt: f32) -> usize {
    with_words(runs, |words| measure_words(words, size_pt, width_pt).0)
}

/// Runs `f` over the words of `runs`, each converted to `WinAnsi` and measured once in font
/// units: (font, word, width).
fn with_words<R>(
    runs: &[Run],
    f: impl FnOnce(&mut dyn Iterator<Item = (Font, &str, u64)>) -> R,
) -> R {
    let converted: Vec<(Font, Cow<'_, str>)> = runs
        .iter()
        .map(|(font, text)| (*font, metrics::winansi(text)))
        .collect();
    let mut words = converted.iter().flat_map(|(font, text)| {
        text.split_whitespace()
            .map(|word| (*font, word, metrics::units(*font, word)))
    });
    f(&mut words)
}

/// What [`wrap_words`] would give without building it: the number of lines, and the
/// [`runs_width`] of the last one.
fn measure_words<'a>(
    words: impl Iterator<Item = (Font, &'a str, u64)>,
    size_pt: f32,
    width_pt: f32,
) -> (usize, f32) {
    let limit = width_pt - WIDTH_SLACK_PT;
    let width = |units: u64| metrics::units_to_pt(units, size_pt);
    let mut lines = 0;
    let mut used = 0.0_f32;
    // The current line: widths of its finished runs, summed in order as
    // `runs_width` sums them, and the font and units of the run being extended.
    let mut finished = 0.0_f32;
    let mut open: Option<(Font, u64)> = None;
    let push = |finished: &mut f32, open: &mut Option<(Font, u64)>, font, units| match open {
        Some((f, u)) if *f == font => *u += units,
        _ => {
            if let Some((_, u)) = *open {
                *finished += width(u);
            }
            *open = Some((font, units));
        }
    };
    for (font, word, units) in words {
        if open.is_some() {
            let spaced = metrics::char_units(font, ' ') + units;
            let w = width(spaced);
            if used + w <= limit {
                push(&mut finished, &mut open, font, spaced);
                used += w;
                continue;
            }
            lines += 1;
            (finished, open) = (0.0, None);
        }
        let w = width(units);
        if w <= limit {
            push(&mut finished, &mut open, font, units);
            used = w;
            continue;
        }
        let mut pieces = metrics::wrap(font, size_pt, word, limit);
        let last = pieces.pop().unwrap_or_default();
        lines += pieces.len();
        let last_units = metrics::units(font, &last);
        used = width(last_units);
        push(&mut finished, &mut open, font, last_units);
    }
    match open {
        Some((_, u)) => (lines + 1, finished + width(u)),
        None => (lines, 0.0),
    }
}

/// The greedy line breaking behind [`wrap_runs`], over converted words with their widths
/// in 1/1000 em.
fn wrap_words<'a>(
    words: impl Iterator<Item = (Font, &'a str, u64)>,
    size_pt: f32,
    width_pt: f32,
) -> Vec<Vec<Run>> {
    let limit = width_pt - WIDTH_SLACK_PT;
    let mut lines: Vec<Vec<Run>> = Vec::new();
    let mut line: Vec<Run> = Vec::new();
    let mut used = 0.0_f32;
    let push = |line: &mut Vec<Run>, font: Font, space: bool, text: &str| match line.last_mut() {
        Some((f, t)) if *f == font => {
            if space {
                t.push(' ');
            }
            t.push_str(text);
        }
        _ => {
            // Room for the rest of the line, so that it does not grow by copying.
            let mut t = String::with_capacity(metrics::LINE_CAPACITY.max(text.len() + 1));
            if space {
                t.push(' ');
            }
            t.push_str(text);
            line.push((font, t));
        }
    };
    for (font, word, units) in words {
        if !line.is_empty() {
            // As wide as " word" measured on its own: widths are exact integer sums.
            let w = metrics::units_to_pt(metrics::char_units(font, ' ') + units, size_pt);
            if used + w <= limit {
                push(&mut line, font, true, word);
                used += w;
                continue;
            }
            lines.push(std::mem::take(&mut line));
        }
        let w = metrics::units_to_pt(units, size_pt);
        if w <= limit {
            push(&mut line, font, false, word);
            used = w;
            continue;
        }
        let mut pieces = metrics::wrap(font, size_pt, word, limit);
        let last = pieces.pop().unwrap_or_default();
        for piece in pieces {
            lines.push(vec![(font, piece)]);
        }
        used = metrics::text_width(font, size_pt, &last);
        push(&mut line, font, false, &last);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Drawn width of one wrapped line, the way [`draw_runs`] advances along it.
pub(super) fn runs_width(line: &[Run], size_pt: f32) -> f32 {
    line.iter()
        .map(|(f, t)| metrics::text_width(*f, size_pt, t))
        .sum()
}

/// Draws one wrapped line starting at `x`; returns the x where it ends.
pub(super) fn draw_runs(
    canvas: &mut Canvas,
    x: f32,
    baseline: f32,
    size_pt: f32,
    line: &[Run],
) -> f32 {
    let mut x = x;
    for (font, text) in line {
        x += canvas.text(x, baseline, *font, size_pt, text);
    }
    x
}

/// Dates on both documents are ISO 8601: "2027-05-22" cannot be read as 5 Feb or 22 May by
/// mistake, which a numeric US or European date can.
pub(super) fn date(d: jiff::civil::Date) -> String {
    d.to_string()
}

/// A value from the order, or a blank to fill in by hand.
pub(super) fn or_blank(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => BLANK.to_owned(),
    }
}

fn bold(text: impl Into<String>) -> Run {
    (Font::HelveticaBold, text.into())
}

fn regular(text: impl Into<String>) -> Run {
    (Font::Helvetica, text.into())
}

/// Splits a strength line "X 50 mg per troche (basis)" so the drug and strength can be bold
/// and the basis, which qualifies it, regular. Names hold parentheses of their own
/// ("Estriol, USP (micronized)"), also inside the basis, so the basis is the parenthesis
/// that closes at the end of the line.
pub(super) fn strength_runs(line: &str) -> Vec<Run> {
    let mut depth = 0usize;
    let mut open = None;
    if line.ends_with(')') {
        for (i, c) in line.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    match open {
        Some(i) if i > 0 && line[..i].ends_with(' ') => {
            vec![bold(line[..i].trim_end()), regular(&line[i..])]
        }
        _ => vec![bold(line)],
    }
}

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

/// The record's date as the canvas wants it; jiff's ranges always fit.
pub(super) fn doc_date(d: jiff::civil::Date) -> (i32, u8, u8) {
    (
        i32::from(d.year()),
        u8::try_from(d.month()).unwrap_or(1),
        u8::try_from(d.day()).unwrap_or(1),
    )
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
pub(super) mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::order::{self, Order, Preparation};
    use crate::{library, record::Record};

    /// The example batch of the brief: ketamine `HCl` 50 mg troches, #30 + 2 extra.
    pub(crate) fn ketamine(quantity: u32) -> Record {
        let formula = library::load("ketamine-hcl-troche").expect("embedded formula");
        let order = Order {
            strengths: vec![order::parse_strength("50 mg").expect("strength")],
            quantity,
            preparation: Preparation::Extra(2),
            rx: Some("RX-4471203".to_owned()),
            patient: Some("Jane Q. Doe".to_owned()),
            prescriber: Some("Dr. Ana Ruiz, MD".to_owned()),
            refills: Some(0),
            ..Default::default()
        };
        let settings = Settings {
            pharmacy: Some(Pharmacy {
                name: "Main Street Compounding Pharmacy".to_owned(),
                address: "1 Main St, Springfield, IL 62701".to_owned(),
                phone: "(217) 555-0100".to_owned(),
            }),
            ..Default::default()
        };
        let date = jiff::civil::date(2026, 11, 23);
        Record::new(formula, order, &settings, date, "261123-001".to_owned()).expect("record")
    }

    /// Text of a PDF as pdftotext reads it, whitespace collapsed; pages separated by '\f'.
    /// `None` when poppler's pdftotext is not installed, so the tests still run elsewhere.
    pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("doc.pdf");
        std::fs::write(&path, pdf).expect("write pdf");
        let out = match std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("pdftotext not installed; skipping the text check");
                return None;
            }
            Err(e) => panic!("pdftotext failed to start: {e}"),
        };
        assert!(
            out.status.success(),
            "pdftotext: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        Some(
            text.split('\u{c}')
                .map(|page| page.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("\u{c}"),
        )
    }

    fn squash(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

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
            "Ketamine hydrochloride 50 mg per troche (as the salt; = 43.35 mg ketamine)"
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

    #[test]
    fn measuring_agrees_with_wrapping() {
        let texts = [
            "Place one troche between the cheek and gum supercalifragilisticexpialidocious",
            "a",
            "",
            "  spaced   out  ",
            "Dr. Ana Ruiz, MD · Phone (217) 555-0100 ≥ 5 µg",
            "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW x",
        ];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i..] {
                let words = Words::new(&[bold(*a), regular(*b), bold("•"), regular(*a)]);
                for width in [3.0, 20.0, 55.5, 100.0, 276.0, 1000.0] {
                    for size in [6.0, 6.25, 7.5, 9.75, 10.0, 12.0] {
                        let lines = words.wrap(size, width);
                        let (count, last) = words.measure(size, width);
                        assert_eq!(count, lines.len(), "{a:?} {b:?} {width} {size}");
                        let expected = lines.last().map_or(0.0, |l| runs_width(l, size));
                        assert_eq!(
                            last.to_bits(),
                            expected.to_bits(),
                            "{a:?} {b:?} {width} {size}"
                        );
                        assert_eq!(
                            lines,
                            wrap_runs(
                                &[bold(*a), regular(*b), bold("•"), regular(*a)],
                                size,
                                width
                            )
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn wrap_runs_keeps_lines_within_width() {
        let runs = vec![
            bold("Directions:"),
            regular(
                "Place one troche between the cheek and gum supercalifragilisticexpialidocious",
            ),
        ];
        for width in [20.0, 55.5, 100.0, 300.0] {
            for line in wrap_runs(&runs, 8.0, width) {
                assert!(runs_width(&line, 8.0) <= width, "{line:?} at {width}");
            }
        }
        assert!(wrap_runs(&[regular("  ")], 8.0, 100.0).is_empty());
        assert_eq!(
            strength_runs(
                "Estriol, USP (micronized) 1.6 mg per troche (strength of Estriol, USP (micronized) as weighed)"
            ),
            vec![
                bold("Estriol, USP (micronized) 1.6 mg per troche"),
                regular("(strength of Estriol, USP (micronized) as weighed)")
            ]
        );
        assert_eq!(strength_runs("X 5 mg (a"), vec![bold("X 5 mg (a")]);
        assert_eq!(strength_runs("(a)"), vec![bold("(a)")]);
        assert_eq!(strength_runs("a)"), vec![bold("a)")]);
        assert_eq!(inches(288.0), "4");
        assert_eq!(inches(216.0), "3");
        assert_eq!(inches(100.0), "1.39");
    }
}

#[cfg(test)]
mod samples {
    use super::*;
    use crate::config::Paper;
    use crate::render::worksheet::worksheet;

    /// Writes sample documents for looking at: `TROCHE_SAMPLES=/tmp cargo test -- --ignored`.
    #[test]
    #[ignore = "writes files for visual review"]
    fn write_samples() {
        let Some(dir) = std::env::var_os("TROCHE_SAMPLES") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        let record = tests::ketamine(30);
        let layout = label_layout(&record, LabelSize::default()).unwrap();
        eprintln!(
            "label: {} pt body, run together {}",
            layout.font_size_pt, layout.warnings_run_together
        );
        std::fs::write(
            dir.join("label.pdf"),
            label(&record, LabelSize::default()).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("ws-letter.pdf"),
            worksheet(&record, Paper::Letter).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("ws-a4.pdf"),
            worksheet(&record, Paper::A4).unwrap(),
        )
        .unwrap();
        let big = tests::ketamine(298);
        std::fs::write(
            dir.join("ws-300.pdf"),
            worksheet(&big, Paper::Letter).unwrap(),
        )
        .unwrap();
        let settings = crate::config::Settings {
            pharmacy: record.pharmacy.clone(),
            ..Default::default()
        };
        for (k, f) in crate::library::all().unwrap().into_iter().enumerate() {
            let strengths = f
                .actives
                .iter()
                .map(|a| crate::order::StrengthSpec {
                    active: (f.actives.len() > 1).then(|| a.name.clone()),
                    amount: a
                        .default_strength
                        .unwrap_or_else(|| crate::quantity::parse_quantity("1 mg").unwrap()),
                })
                .collect();
            let order = crate::order::Order {
                strengths,
                quantity: 24,
                preparation: if k % 2 == 0 {
                    crate::order::Preparation::Overage(rust_decimal::Decimal::from(5))
                } else {
                    crate::order::Preparation::Extra(1)
                },
                ..Default::default()
            };
            let id = f.id.clone();
            let r = match Record::new(f, order, &settings, record.date, "L-1".into()) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{id}: {e}");
                    continue;
                }
            };
            std::fs::write(
                dir.join(format!("{id}.pdf")),
                worksheet(&r, Paper::Letter).unwrap(),
            )
            .unwrap();
            match label_layout(&r, LabelSize::default()) {
                Ok(l) => {
                    eprintln!("{id}: label {} pt", l.font_size_pt);
                    std::fs::write(
                        dir.join(format!("{id}-label.pdf")),
                        label(&r, LabelSize::default()).unwrap(),
                    )
                    .unwrap();
                }
                Err(e) => eprintln!("{id}: {e}"),
            }
        }
    }
}
