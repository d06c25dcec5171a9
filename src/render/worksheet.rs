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

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::calc::{Aliquot, BasisSource, Ingredient, Role};
use crate::config::Paper;
use crate::error::{Error, Result};
use crate::formula::Schedule;
use crate::quantity::{Dimension, round_to, show};
use crate::record::{Record, short_name};

use super::canvas::{Canvas, DocMeta};
use super::metrics::{self, Font};
use super::text::{Run, date, doc_date, draw_runs, or_blank, strength_runs, wrap_count, wrap_runs};

const MARGIN_X: f32 = 40.0;
const MARGIN_TOP: f32 = 36.0;
/// Room below the content for the footer (lot, formula id, page n of m).
const MARGIN_BOTTOM: f32 = 54.0;
/// Body text: readable at arm's length on a bench, small enough for a one-sheet batch.
const BODY: f32 = 9.5;
const LEAD: f32 = 12.5;
/// Captions above boxes and notes under names.
const SMALL: f32 = 7.0;
/// Height of a line with a handwriting blank: room for pen above the rule.
const FORM_LEAD: f32 = 18.0;
/// Most unit-weight boxes printed; see [`Sheet::unit_grid`].
pub const UNIT_GRID_LIMIT: u32 = 2000;
/// Target width of one unit-weight box: wide enough to write "1.011".
const UNIT_BOX_MIN_W: f32 = 50.0;
const UNIT_BOX_H: f32 = 22.0;

fn bold(text: impl Into<String>) -> Run {
    (Font::HelveticaBold, text.into())
}

fn regular(text: impl Into<String>) -> Run {
    (Font::Helvetica, text.into())
}

/// Where text sits in a line box: glyphs (accents and descenders included) stay inside it.
fn baseline(top: f32, size: f32, lead: f32) -> f32 {
    top + (lead - size) * 0.5 + size * 0.78
}

/// One caption-and-value box of a form row; `weight` sets its share of the row's width.
struct Cell {
    caption: String,
    value: Vec<Vec<Run>>,
    weight: f32,
}

fn cell(caption: impl Into<String>, value: Vec<Vec<Run>>, weight: f32) -> Cell {
    Cell {
        caption: caption.into(),
        value,
        weight,
    }
}

/// A box with a one-line value.
fn cell1(caption: impl Into<String>, value: Run, weight: f32) -> Cell {
    cell(caption, vec![vec![value]], weight)
}

/// An empty box to write in.
fn blank(caption: impl Into<String>, weight: f32) -> Cell {
    cell(caption, Vec::new(), weight)
}

/// A piece of a form line; a group of pieces is never split across lines.
enum Piece {
    Bold(String),
    Text(String),
    /// A handwriting rule this many points long.
    Blank(f32),
    /// A tick box.
    Check,
}

const CHECK: f32 = 8.5;

impl Piece {
    fn width(&self) -> f32 {
        match self {
            Piece::Bold(t) => metrics::text_width(Font::HelveticaBold, BODY, t),
            Piece::Text(t) => metrics::text_width(Font::Helvetica, BODY, t),
            Piece::Blank(w) => *w,
            Piece::Check => CHECK,
        }
    }
}

/// Height of a section heading's shaded band.
const BAND: f32 = 15.0;
/// Room a heading takes: the gap above it, the band and the gap below.
const HEADING: f32 = 8.0 + BAND + 5.0;

/// The page being filled and the position on it.
struct Sheet {
    canvas: Canvas,
    left: f32,
    right: f32,
    /// Top of the content area on a continuation page (below the running header).
    first_y: f32,
    bottom: f32,
    y: f32,
    /// Measuring: nothing is drawn and pages never break.
    dry: bool,
    /// Drawing a block that may be taken back (see [`Sheet::keep`]): pages never break,
    /// and `would_break` records whether one was due.
    trial: bool,
    would_break: bool,
    running: String,
}

impl Sheet {
    fn width(&self) -> f32 {
        self.right - self.left
    }

    fn body_height(&self) -> f32 {
        self.bottom - self.first_y
    }

    fn at_top(&self) -> bool {
        self.y <= self.first_y + 0.5
    }

    /// Whether [`Sheet::need`] of `h` at `y` starts a new page.
    fn breaks_at(&self, y: f32, h: f32) -> bool {
        y + h > self.bottom && y > self.first_y + 0.5
    }

    /// Starts a new page unless `h` more points fit on this one. A block taller than a whole
    /// page is started where it is and breaks line by line.
    fn need(&mut self, h: f32) {
        if self.dry || !self.breaks_at(self.y, h) {
            return;
        }
        if self.trial {
            self.would_break = true;
        } else {
            self.break_page();
        }
    }

    fn break_page(&mut self) {
        self.canvas.new_page();
        let top = self.first_y - 20.0;
        self.canvas
            .text(self.left, top + 8.0, Font::Helvetica, 8.0, &self.running);
        self.canvas
            .line(self.left, top + 12.0, self.right, top + 12.0, 0.5);
        self.y = self.first_y;
    }

    /// Height `f` takes when drawn from the current position, without drawing it.
    fn measure(&self, f: &impl Fn(&mut Sheet)) -> f32 {
        let mut probe = Sheet {
            canvas: Canvas::new(3.0, 3.0),
            left: self.left,
            right: self.right,
            first_y: self.first_y,
            bottom: f32::INFINITY,
            y: self.y,
            dry: true,
            trial: false,
            would_break: false,
            running: String::new(),
        };
        f(&mut probe);
        probe.y - self.y
    }

    /// Draws `f` on one page: on the next one if it would otherwise be split.
    fn keep(&mut self, f: impl Fn(&mut Sheet)) {
        self.attempt(
            |s| {
                let y = s.y;
                f(s);
                let h = s.y - y;
                ((y, h), s.breaks_at(y, h))
            },
            |s, (y, h)| {
                s.y = y;
                s.need(h);
                f(s);
            },
        );
    }

    /// Draws a block at once with page breaks held back. `draw` returns what it measured and
    /// whether a break was due before it (inside it, [`Sheet::need`] keeps count). If none
    /// was, the block stands as drawn, exactly what drawing with breaks gives; most blocks
    /// fit where they are. Otherwise it is taken back and `redo` draws it with breaks, from
    /// what `draw` measured. (Measuring first, the obvious way, laid out every block twice.)
    fn attempt<T>(&mut self, draw: impl Fn(&mut Sheet) -> (T, bool), redo: impl Fn(&mut Sheet, T)) {
        if self.dry {
            draw(self);
            return;
        }
        let outer = (self.trial, self.would_break);
        let mark = self.canvas.mark();
        self.trial = true;
        self.would_break = false;
        let (measured, due_before) = draw(self);
        let due = due_before || self.would_break;
        (self.trial, self.would_break) = outer;
        if self.trial {
            // Inside another attempt: only report the break, which takes that one back.
            self.would_break |= due;
        } else if due {
            self.canvas.rollback(mark);
            redo(self, measured);
        }
    }

    // Drawing, skipped while measuring.

    fn text(&mut self, x: f32, y: f32, font: Font, size: f32, text: &str) -> f32 {
        if self.dry {
            metrics::text_width(font, size, text)
        } else {
            self.canvas.text(x, y, font, size, text)
        }
    }

    fn text_right(&mut self, x: f32, y: f32, font: Font, size: f32, text: &str) {
        if !self.dry {
            self.canvas.text_right(x, y, font, size, text);
        }
    }

    fn runs(&mut self, x: f32, y: f32, size: f32, line: &[Run]) {
        if !self.dry {
            draw_runs(&mut self.canvas, x, y, size, line);
        }
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, w: f32) {
        if !self.dry {
            self.canvas.line(x1, y1, x2, y2, w);
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, lw: f32) {
        if !self.dry {
            self.canvas.rect(x, y, w, h, lw);
        }
    }

    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        if !self.dry {
            self.canvas.fill_rect(x, y, w, h, gray);
        }
    }

    fn check(&mut self, x: f32, y: f32) {
        if !self.dry {
            self.canvas.checkbox(x, y, CHECK, false);
        }
    }

    // Blocks.

    /// A wrapped paragraph starting at `x`, at most `width` wide; may break across pages
    /// between lines.
    fn para(&mut self, x: f32, width: f32, size: f32, lead: f32, runs: &[Run]) {
        if self.dry {
            // Measuring only needs the number of lines.
            for _ in 0..wrap_count(runs, size, width) {
                self.y += lead;
            }
            return;
        }
        for line in wrap_runs(runs, size, width) {
            self.need(lead);
            let b = baseline(self.y, size, lead);
            self.runs(x, b, size, &line);
            self.y += lead;
        }
    }

    /// A paragraph with a marker (bullet, number, tick box) hanging in the left `indent`.
    fn hanging(&mut self, marker: impl Fn(&mut Sheet, f32), indent: f32, runs: &[Run]) {
        if self.dry {
            // Measuring only needs the number of lines; an empty step still takes one.
            for _ in 0..wrap_count(runs, BODY, self.width() - indent).max(1) {
                self.y += LEAD;
            }
            return;
        }
        let mut lines = wrap_runs(runs, BODY, self.width() - indent);
        if lines.is_empty() {
            // An empty step still gets its number and tick box, so numbering has no gaps.
            lines.push(Vec::new());
        }
        for (i, line) in lines.iter().enumerate() {
            self.need(LEAD);
            let b = baseline(self.y, BODY, LEAD);
            if i == 0 {
                marker(self, b);
            }
            self.runs(self.left + indent, b, BODY, line);
            self.y += LEAD;
        }
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// A shaded section heading, kept on the page with the `keep_with` points that follow.
    fn heading(&mut self, title: &str, keep_with: f32) {
        self.need(HEADING + keep_with);
        if !self.at_top() {
            self.y += 8.0;
        }
        let (left, y, w) = (self.left, self.y, self.width());
        self.fill(left, y, w, BAND, 0.85);
        self.text(left + 4.0, y + 11.0, Font::HelveticaBold, 10.5, title);
        self.y += BAND + 5.0;
    }

    /// A heading kept together with the first block of its section: the heading goes to a
    /// new page unless it fits there with the block (or half a page of it, if longer), and
    /// the block as in [`Sheet::keep`].
    fn section(&mut self, title: &str, first: impl Fn(&mut Sheet)) {
        let keep_with = |s: &Sheet, h: f32| h.min(s.body_height() * 0.5);
        self.attempt(
            |s| {
                let start = s.y;
                s.heading(title, 0.0);
                let y = s.y;
                first(s);
                let h = s.y - y;
                let due = s.breaks_at(start, HEADING + keep_with(s, h)) || s.breaks_at(y, h);
                ((start, h), due)
            },
            |s, (start, h)| {
                s.y = start;
                s.heading(title, keep_with(s, h));
                s.need(h);
                first(s);
            },
        );
    }

    /// A row of captioned boxes sharing one height.
    fn cells(&mut self, cells: &[Cell], min_h: f32) {
        const PAD: f32 = 4.0;
        const VALUE: f32 = 9.0;
        const VLEAD: f32 = 11.0;
        let total: f32 = cells.iter().map(|c| c.weight.max(0.0)).sum();
        if cells.is_empty() || total <= 0.0 {
            return;
        }
        let widths: Vec<f32> = cells
            .iter()
            .map(|c| self.width() * c.weight.max(0.0) / total)
            .collect();
        let cap_h = |n: usize| 3.0 + metrics::count(n) * 8.0;
        if self.dry {
            // Measuring only needs the height, which needs line counts only.
            let h = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| {
                    let inner = w - 2.0 * PAD;
                    let caption = metrics::wrap(Font::Helvetica, SMALL, &c.caption, inner)
                        .iter()
                        .filter(|l| !l.is_empty())
                        .count();
                    let value: usize = c.value.iter().map(|p| wrap_count(p, VALUE, inner)).sum();
                    cap_h(caption) + metrics::count(value) * VLEAD + PAD
                })
                .fold(min_h, f32::max);
            if h <= self.body_height() {
                self.y += h;
                return;
            }
        }
        let wrapped: Vec<(Vec<String>, Vec<Vec<Run>>)> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let inner = w - 2.0 * PAD;
                let caption = metrics::wrap(Font::Helvetica, SMALL, &c.caption, inner)
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .collect();
                let value = c
                    .value
                    .iter()
                    .flat_map(|p| wrap_runs(p, VALUE, inner))
                    .collect();
                (caption, value)
            })
            .collect();
        let h = wrapped
            .iter()
            .map(|(c, v)| cap_h(c.len()) + metrics::count(v.len()) * VLEAD + PAD)
            .fold(min_h, f32::max);
        if h > self.body_height() {
            // Only absurd input gets here; flow it as text rather than clip a box.
            for (c, (_, value)) in cells.iter().zip(&wrapped) {
                let mut runs = vec![bold(format!("{}:", c.caption))];
                for line in value {
                    runs.extend(line.iter().cloned());
                }
                let (left, width) = (self.left, self.width());
                self.para(left, width, BODY, LEAD, &runs);
            }
            return;
        }
        self.need(h);
        let mut x = self.left;
        for ((w, (caption, value)), _) in widths.iter().zip(&wrapped).zip(cells) {
            let y = self.y;
            self.rect(x, y, *w, h, 0.6);
            for (i, l) in caption.iter().enumerate() {
                self.text(
                    x + PAD,
                    y + 8.0 + metrics::count(i) * 8.0,
                    Font::Helvetica,
                    SMALL,
                    l,
                );
            }
            let mut top = y + cap_h(caption.len());
            for line in value {
                let b = baseline(top, VALUE, VLEAD);
                self.runs(x + PAD, b, VALUE, line);
                top += VLEAD;
            }
            x += w;
        }
        self.y += h;
    }

    /// A line of labels, values, handwriting rules and tick boxes; groups wrap as wholes.
    fn form(&mut self, groups: &[Vec<Piece>]) {
        const PIECE_GAP: f32 = 3.0;
        const GROUP_GAP: f32 = 18.0;
        let mut x = self.left;
        let mut fresh = true;
        self.need(FORM_LEAD);
        for group in groups {
            let gw = group.iter().map(Piece::width).sum::<f32>()
                + PIECE_GAP * metrics::count(group.len().saturating_sub(1));
            if !fresh && x + GROUP_GAP + gw > self.right {
                self.y += FORM_LEAD;
                self.need(FORM_LEAD);
                x = self.left;
                fresh = true;
            }
            if gw > self.width() {
                // Longer than a line (only with very long text): wrap it as a paragraph.
                if !fresh {
                    self.y += FORM_LEAD;
                }
                let ticked = matches!(group.first(), Some(Piece::Check));
                let runs: Vec<Run> = group
                    .iter()
                    .skip(usize::from(ticked))
                    .map(|p| match p {
                        Piece::Bold(t) => bold(t.as_str()),
                        Piece::Text(t) => regular(t.as_str()),
                        Piece::Blank(_) => regular("____________"),
                        Piece::Check => regular("[  ]"),
                    })
                    .collect();
                if ticked {
                    self.hanging(|s, b| s.check(s.left + 1.0, b - CHECK + 1.0), 16.0, &runs);
                } else {
                    let (left, width) = (self.left, self.width());
                    self.para(left, width, BODY, LEAD, &runs);
                }
                self.y += 4.0;
                x = self.left;
                fresh = true;
                continue;
            }
            if !fresh {
                x += GROUP_GAP;
            }
            let b = self.y + FORM_LEAD - 5.0;
            for p in group {
                match p {
                    Piece::Bold(t) => {
                        self.text(x, b, Font::HelveticaBold, BODY, t);
                    }
                    Piece::Text(t) => {
                        self.text(x, b, Font::Helvetica, BODY, t);
                    }
                    Piece::Blank(w) => self.line(x, b + 2.0, x + w, b + 2.0, 0.5),
                    Piece::Check => self.check(x, b - CHECK + 1.0),
                }
                x += p.width() + PIECE_GAP;
            }
            x -= PIECE_GAP;
            fresh = false;
        }
        if !fresh {
            self.y += FORM_LEAD;
        }
    }
}

/// Schedule as printed on a record: the DEA's own wording.
fn schedule_name(s: Schedule) -> &'static str {
    match s {
        Schedule::CII => "Schedule II (CII)",
        Schedule::CIII => "Schedule III (CIII)",
        Schedule::CIV => "Schedule IV (CIV)",
        Schedule::CV => "Schedule V (CV)",
    }
}

/// A mass in grams rounded to the balance, as the bench reads it off the display.
fn grams(record: &Record, g: Decimal) -> String {
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
    let canvas = layout(record, paper);
    let f = &record.formula;
    let meta = DocMeta {
        title: format!("Compounding record {} — {}", record.lot, f.name),
        subject: Some(format!(
            "Compounding record from master formulation record {} version {}",
            f.id, f.version
        )),
        author: record.pharmacy.as_ref().map(|p| p.name.clone()),
        date: doc_date(record.date),
        document_id: format!("troche/{}/{}/{}/worksheet", f.id, f.version, record.lot),
    };
    canvas.to_pdf(&meta).map_err(Error::Render)
}

/// The worksheet with pages that `extra` adds after its own: the filled-in compounding record
/// (`troche record`) puts the bench's actual values there.
pub fn worksheet_with(
    record: &Record,
    paper: Paper,
    extra: impl FnOnce(&mut Canvas),
) -> Result<Vec<u8>> {
    let mut canvas = layout(record, paper);
    extra(&mut canvas);
    let f = &record.formula;
    let meta = DocMeta {
        title: format!("Filled-in compounding record {} — {}", record.lot, f.name),
        subject: Some(format!(
            "Compounding record with actual values, master formulation record {} version {}",
            f.id, f.version
        )),
        author: record.pharmacy.as_ref().map(|p| p.name.clone()),
        date: doc_date(record.date),
        document_id: format!("troche/{}/{}/{}/record", f.id, f.version, record.lot),
    };
    canvas.to_pdf(&meta).map_err(Error::Render)
}

/// Lays out every page and writes the footers.
fn layout(record: &Record, paper: Paper) -> Canvas {
    let (w, h) = paper.size_pt();
    let f = &record.formula;
    let mut s = Sheet {
        canvas: Canvas::new(w, h),
        left: MARGIN_X,
        right: w - MARGIN_X,
        first_y: MARGIN_TOP + 20.0,
        bottom: h - MARGIN_BOTTOM,
        y: MARGIN_TOP,
        dry: false,
        trial: false,
        would_break: false,
        running: format!(
            "{} — compounding record, lot {} (continued)",
            f.name, record.lot
        ),
    };

    header(&mut s, record);
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

    let pages = s.canvas.page_count();
    let footer = format!(
        "Lot {} · {} version {} · compounded {}",
        record.lot,
        f.id,
        f.version,
        date(record.date)
    );
    let footer = metrics::wrap(Font::Helvetica, 8.0, &footer, s.width() - 80.0)
        .into_iter()
        .next()
        .unwrap_or_default();
    let rule_y = h - MARGIN_BOTTOM + 16.0;
    for page in 0..pages {
        if s.canvas.set_page(page).is_err() {
            break;
        }
        s.canvas.line(s.left, rule_y, s.right, rule_y, 0.5);
        s.canvas
            .text(s.left, rule_y + 11.0, Font::Helvetica, 8.0, &footer);
        s.canvas.text_right(
            s.right,
            rule_y + 11.0,
            Font::HelveticaBold,
            8.0,
            &format!("Page {} of {pages}", page + 1),
        );
    }
    s.canvas
}

#[allow(
    clippy::many_single_char_names,
    reason = "s, f, c, o name the sheet, formula, calculation and order throughout this module"
)]
fn header(s: &mut Sheet, record: &Record) {
    let f = &record.formula;
    let c = &record.calc;
    let o = &record.order;
    let (left, right, width) = (s.left, s.right, s.width());

    let top = s.y;
    if let Some(p) = &record.pharmacy {
        let name = metrics::wrap(Font::HelveticaBold, 9.0, &p.name, width - 160.0);
        s.text(
            left,
            top + 8.0,
            Font::HelveticaBold,
            9.0,
            name.first().map_or("", String::as_str),
        );
    }
    s.text_right(
        right,
        top + 8.0,
        Font::HelveticaBold,
        9.0,
        "COMPOUNDING RECORD",
    );
    s.y = top + 14.0;
    s.para(left, width, 17.0, 20.0, &[bold(&f.name)]);
    s.para(
        left,
        width,
        9.0,
        12.0,
        &[regular(format!(
            "Batch record prepared from master formulation record {}, version {}",
            f.id, f.version
        ))],
    );
    s.gap(6.0);

    // Each line says which form the strength is of and who decided it, as the label cannot.
    let actives = c.ingredients.iter().filter_map(|i| i.active.as_ref());
    let mut strengths: Vec<Vec<Run>> = record
        .strength_lines()
        .iter()
        .zip(actives)
        .map(|(l, a)| {
            let mut runs = strength_runs(l);
            let decided = match a.basis_source {
                BasisSource::Order => Some("as ordered"),
                BasisSource::Formula => Some("as the formula prescribes"),
                BasisSource::Only => None,
            };
            if let Some(d) = decided {
                runs.push(regular(format!("· {} basis, {d}", a.basis.as_str())));
            }
            runs
        })
        .collect();
    if strengths.is_empty() {
        strengths.push(vec![regular("no active ingredient")]);
    }
    let prepared = match c.overage_percent {
        Some(p) => format!(
            "{} units + {} % overage on every ingredient ({} unit-equivalents)",
            c.units_prepared,
            p.normalize(),
            show(c.unit_equivalents)
        ),
        None if c.extra_units > 0 => format!(
            "{} units ({} + {} extra)",
            c.units_prepared, c.units_dispensed, c.extra_units
        ),
        None => format!("{} units", c.units_prepared),
    };

    s.cells(
        &[
            cell1("Rx / order number", regular(or_value(o.rx.as_deref())), 1.2),
            cell1("Lot number", bold(&record.lot), 1.2),
            cell1("Compounding date", regular(date(record.date)), 1.0),
            blank("Time started", 0.8),
            blank("Time finished", 0.8),
        ],
        28.0,
    );
    let mut people = vec![
        cell1("Patient", regular(or_value(o.patient.as_deref())), 1.0),
        cell1(
            "Prescriber",
            regular(or_value(o.prescriber.as_deref())),
            1.0,
        ),
    ];
    if let Some(p) = &record.pharmacy {
        people.push(cell1("Pharmacy", regular(&p.name), 1.0));
    }
    s.cells(&people, 28.0);
    s.cells(
        &[cell("Strength per unit (with basis)", strengths, 1.0)],
        26.0,
    );
    s.cells(
        &[
            cell1("Dosage form", regular(&f.dosage_form), 0.8),
            cell1("Route", regular(&f.route), 0.7),
            cell1(
                "Quantity dispensed",
                regular(format!("{} units", c.units_dispensed)),
                0.9,
            ),
            cell1("Quantity prepared", regular(prepared), 1.5),
        ],
        26.0,
    );
    s.cells(
        &[
            cell1(
                "Mold",
                regular(format!(
                    "{} × {} ({} cavities)",
                    c.molds, f.mold.name, c.cavities
                )),
                1.9,
            ),
            mold_id_cell(record),
            cell1(
                if f.mold.derived.is_some() {
                    "Blank weight (derived, not measured: see the calculation)"
                } else {
                    "Calibrated blank weight"
                },
                regular(format!("{} g per unit", show(c.blank_weight))),
                0.9,
            ),
        ],
        26.0,
    );
    let b = &c.balance;
    s.cells(
        &[
            match &b.id {
                Some(id) => cell1("Balance id", bold(id), 0.9),
                None => blank("Balance id (write the balance used)", 0.9),
            },
            cell1(
                "Readability",
                regular(format!("{} g", b.readability.normalize())),
                0.6,
            ),
            cell1(
                "Minimum weighable quantity (MWQ)",
                regular(b.mwq_rule()),
                2.2,
            ),
        ],
        26.0,
    );
    let base = if c.base_rows().count() > 1 {
        format!(
            "{} (mixed from {} components, each weighed below)",
            f.base.name,
            c.base_rows().count()
        )
    } else {
        f.base.name.clone()
    };
    s.cells(&[cell1("Base", regular(base), 1.0)], 24.0);
    s.cells(
        &[
            cell1("Beyond-use date", bold(date(record.bud.date)), 0.6),
            cell1("Storage", regular(&f.bud.storage), 2.0),
            match &f.bud.container {
                Some(container) => cell1("Container-closure", regular(container), 1.2),
                None => blank(
                    "Container-closure used (the master formulation record names none: write it)",
                    1.2,
                ),
            },
        ],
        26.0,
    );
    s.cells(
        &[cell1(
            "How the beyond-use date was set",
            regular(&record.bud.rule),
            1.0,
        )],
        24.0,
    );
    if let Some(sched) = record.schedule() {
        s.cells(
            &[cell1(
                "Controlled substance",
                bold(format!(
                    "DEA {}: enter the drug in the controlled-substance record and complete the \
                     reconciliation below",
                    schedule_name(sched)
                )),
                1.0,
            )],
            24.0,
        );
    }
}

/// The pharmacy's id of the mold to use: the one it has, a choice among several with room to
/// write which, or a box to write it in.
fn mold_id_cell(record: &Record) -> Cell {
    match record.mold_ids.as_slice() {
        [] => blank("Mold id (write the mold used)", 1.0),
        [one] => cell1("Mold id", bold(one), 1.0),
        many => cell(
            "Mold id (write which was used)",
            vec![
                vec![regular(format!("use one of: {}", many.join(", ")))],
                vec![regular("used: ________________")],
            ],
            1.0,
        ),
    }
}

/// A value from the order, or nothing (the box itself is the blank to fill in).
fn or_value(v: Option<&str>) -> String {
    let v = or_blank(v);
    if v == super::text::BLANK {
        String::new()
    } else {
        v
    }
}

/// Column layout of the ingredient table.
struct Columns {
    x: [f32; 10],
}

const TITLES: [&str; 9] = [
    "#",
    "Ingredient",
    "Amount to weigh",
    "Actual weighed",
    "Manufacturer",
    "Lot no.",
    "Expiry",
    "Weighed by",
    "Checked by",
];

impl Columns {
    fn new(left: f32, right: f32) -> Self {
        // Fixed widths for everything but the ingredient name, which takes the rest.
        let fixed = [16.0, 0.0, 74.0, 52.0, 68.0, 60.0, 50.0, 34.0, 34.0];
        let flex = (right - left - fixed.iter().sum::<f32>()).max(60.0);
        let mut x = [left; 10];
        for i in 0..9 {
            let w = if i == 1 { flex } else { fixed[i] };
            x[i + 1] = x[i] + w;
        }
        Columns { x }
    }

    fn w(&self, i: usize) -> f32 {
        self.x[i + 1] - self.x[i]
    }
}

/// Where an amount's integer part ends (the decimal point) and where its unit starts, so
/// every amount in the column lines up on the point.
struct AmountColumn {
    point_x: f32,
    unit_x: f32,
}

const AMOUNT_SIZE: f32 = 9.5;

fn split_amount(a: &str) -> (&str, &str) {
    match a.find('.') {
        Some(i) => a.split_at(i),
        None => (a, ""),
    }
}

impl AmountColumn {
    fn new(cols: &Columns, amounts: &[(String, &str)]) -> Self {
        let unit_w = amounts
            .iter()
            .map(|(_, u)| metrics::text_width(Font::HelveticaBold, AMOUNT_SIZE, u))
            .fold(0.0, f32::max);
        let frac_w = amounts
            .iter()
            .map(|(a, _)| metrics::text_width(Font::HelveticaBold, AMOUNT_SIZE, split_amount(a).1))
            .fold(0.0, f32::max);
        let unit_x = cols.x[3] - 5.0 - unit_w;
        AmountColumn {
            point_x: unit_x - 3.0 - frac_w,
            unit_x,
        }
    }

    fn draw(&self, s: &mut Sheet, b: f32, amount: &str, unit: &str) {
        let (int, frac) = split_amount(amount);
        s.text_right(self.point_x, b, Font::HelveticaBold, AMOUNT_SIZE, int);
        s.text(self.point_x, b, Font::HelveticaBold, AMOUNT_SIZE, frac);
        s.text(self.unit_x, b, Font::HelveticaBold, AMOUNT_SIZE, unit);
    }
}

/// The lines under an ingredient's name: its role, the form weighed and how its strength was
/// converted, the assay, and what becomes of it. `portion_row` is the number of the aliquot
/// portion row an aliquot's weighings go into.
fn role_note(record: &Record, i: &Ingredient, portion_row: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    let into_aliquot = || match portion_row {
        Some(n) => format!("weighed into the aliquot mixture (row {n}), not into the batch"),
        None => "weighed into the aliquot mixture, not into the batch".to_owned(),
    };
    match i.role {
        Role::Active => {
            let Some(a) = &i.active else {
                lines.push("active".to_owned());
                return lines;
            };
            let mut first = "active".to_owned();
            if let Some(s) = a.schedule {
                let _ = write!(first, ", {}", schedule_name(s));
            }
            lines.push(first);
            // Salt/base confusion is a known cause of overdoses: say which form is weighed and
            // which form the strength is of, next to the amount.
            let source = match a.basis_source {
                BasisSource::Order => "as ordered",
                BasisSource::Formula => "as the formula prescribes",
                BasisSource::Only => "its only form",
            };
            let weighed = short_name(&i.name).to_lowercase();
            lines.push(match a.salt_factor {
                Some((mw, moiety_mw)) => format!(
                    "weighed as {weighed}; strength is of {} ({source}): × {}/{} salt factor",
                    short_name(&a.strength_form).to_lowercase(),
                    mw.normalize(),
                    moiety_mw.normalize()
                ),
                None if a.equivalent.is_some() => format!(
                    "weighed as {weighed}; strength is of this salt ({source}): no conversion"
                ),
                None => format!("weighed as {weighed}; strength is of the form weighed"),
            });
            lines.push(match a.assay_percent {
                Some(assay) => format!(
                    "assay (CoA) {} %: amount potency-corrected",
                    assay.normalize()
                ),
                None => "Assay (CoA) ________ % (100 % assumed)".to_owned(),
            });
            if i.aliquot.is_some() {
                lines.push(into_aliquot());
            }
        }
        Role::Excipient => lines.push("excipient".to_owned()),
        Role::Diluent => {
            lines.push(format!(
                "aliquot diluent for {}",
                i.diluent_for
                    .as_deref()
                    .map_or("an aliquot".to_owned(), short_name)
            ));
            lines.push(into_aliquot());
        }
        Role::Base => {
            let component = record
                .formula
                .base
                .components
                .iter()
                .find(|c| c.name == i.name);
            lines.push(match component {
                Some(c) => format!(
                    "base component: {} % of the {} base",
                    c.percent.normalize(),
                    grams(record, record.calc.base_total)
                ),
                None => "base".to_owned(),
            });
        }
    }
    if i.dimension == Dimension::Volume
        && let Some(last) = lines.last_mut()
    {
        last.push_str("; measure by volume");
    }
    lines
}

/// What the aliquot portion row says: mix, weigh the portion, discard the rest.
fn portion_runs(
    record: &Record,
    active: &Ingredient,
    a: &Aliquot,
    rows: (usize, usize),
) -> Vec<Run> {
    let g = |v: Decimal| grams(record, v);
    vec![
        regular("Mix"),
        bold(g(a.weigh)),
        regular(format!(
            "of {} (row {}) with",
            short_name(&active.name),
            rows.0
        )),
        bold(g(a.diluent)),
        regular(format!(
            "of {} (row {}) to",
            short_name(&a.diluent_name),
            rows.1
        )),
        bold(format!("{};", g(a.total))),
        regular("weigh"),
        bold(g(a.portion)),
        regular("of the mixture into the batch; discard the rest"),
        bold(format!("({})", g(a.remainder))),
        regular("as waste."),
    ]
}

/// One line of the table: an ingredient, or the portion of an aliquot mixture.
enum Line<'a> {
    Ingredient(&'a Ingredient),
    Portion(&'a Ingredient, &'a Aliquot),
}

#[allow(
    clippy::many_single_char_names,
    reason = "s, f, c, o name the sheet, formula, calculation and order throughout this module"
)]
fn ingredients(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let cols = Columns::new(s.left, s.right);
    let total = grams(record, c.batch_weight);

    // An aliquot's drug row, its diluent row and the portion row stand together.
    let mut lines: Vec<Line> = Vec::new();
    for i in &c.ingredients {
        lines.push(Line::Ingredient(i));
        if i.role == Role::Diluent
            && let Some(active) = c
                .ingredients
                .iter()
                .find(|a| a.aliquot.is_some() && i.diluent_for.as_deref() == Some(a.name.as_str()))
            && let Some(a) = &active.aliquot
        {
            lines.push(Line::Portion(active, a));
        }
    }
    let number_of = |name: &str| {
        lines
            .iter()
            .position(|l| matches!(l, Line::Ingredient(i) if i.name == name))
            .map_or(0, |p| p + 1)
    };
    let portion_of = |active: &str| {
        lines
            .iter()
            .position(|l| matches!(l, Line::Portion(i, _) if i.name == active))
            .map(|p| p + 1)
    };
    let rows: Vec<Row> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| match l {
            Line::Ingredient(i) => {
                let portion = match i.role {
                    Role::Diluent => i.diluent_for.as_deref().and_then(portion_of),
                    _ if i.aliquot.is_some() => portion_of(&i.name),
                    _ => None,
                };
                Row::new(record, &cols, n + 1, i, portion)
            }
            Line::Portion(active, a) => {
                let diluent_row = lines
                    .iter()
                    .position(|l| {
                        matches!(l, Line::Ingredient(d) if d.role == Role::Diluent
                            && d.diluent_for.as_deref() == Some(active.name.as_str()))
                    })
                    .map_or(0, |p| p + 1);
                Row::portion(
                    record,
                    &cols,
                    n + 1,
                    portion_runs(record, active, a, (number_of(&active.name), diluent_row)),
                    a,
                )
            }
        })
        .collect();

    let mut amounts: Vec<(String, &str)> = rows
        .iter()
        .map(|r| (r.amount.0.clone(), r.amount.1))
        .collect();
    amounts.push((total.trim_end_matches(" g").to_owned(), "g"));
    let amount_col = AmountColumn::new(&cols, &amounts);

    let header_lines: Vec<Vec<String>> = TITLES
        .iter()
        .enumerate()
        .map(|(i, t)| metrics::wrap(Font::HelveticaBold, 7.0, t, cols.w(i) - 4.0))
        .collect();
    let header_h = metrics::count(header_lines.iter().map(Vec::len).max().unwrap_or(1)) * 8.5 + 6.0;
    let table_header = |s: &mut Sheet| {
        let y = s.y;
        let width = s.width();
        s.fill(cols.x[0], y, width, header_h, 0.88);
        for (i, lines) in header_lines.iter().enumerate() {
            for (k, l) in lines.iter().enumerate() {
                s.text(
                    cols.x[i] + 2.5,
                    y + 9.0 + metrics::count(k) * 8.5,
                    Font::HelveticaBold,
                    7.0,
                    l,
                );
            }
        }
        grid(s, &cols, y, header_h, false);
        s.y += header_h;
    };

    // Rows kept on one page together: an aliquot's drug, diluent and portion; others alone.
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let len = match lines[k] {
            Line::Ingredient(i) if i.aliquot.is_some() => lines[k..]
                .iter()
                .position(|l| matches!(l, Line::Portion(a, _) if a.name == i.name))
                .map_or(1, |p| p + 1),
            _ => 1,
        };
        groups.push(k..k + len);
        k += len;
    }

    let first_h = groups
        .first()
        .map_or(0.0, |g| rows[g.clone()].iter().map(|r| r.h).sum::<f32>());
    s.heading(
        "Components: weigh, record and check each",
        (header_h + first_h).min(s.body_height() * 0.5),
    );
    table_header(s);
    let body_h = s.body_height();
    for g in groups {
        let group_h: f32 = rows[g.clone()].iter().map(|r| r.h).sum();
        for (n, row) in rows[g.clone()].iter().enumerate() {
            if row.h + header_h > body_h {
                row.flow(s);
                continue;
            }
            let need = if n == 0 && group_h + header_h <= body_h {
                group_h
            } else {
                row.h
            };
            if s.y + need > s.bottom && !s.at_top() {
                s.break_page();
                table_header(s);
            }
            row.draw(s, &cols, &amount_col);
        }
    }

    // Total row.
    let h = 22.0;
    if s.y + h > s.bottom && !s.at_top() {
        s.break_page();
    }
    let y = s.y;
    let b = baseline(y, BODY, h);
    s.text_right(
        cols.x[2] - 4.0,
        b,
        Font::HelveticaBold,
        BODY,
        "Theoretical batch weight",
    );
    amount_col.draw(s, b, split_total(&total), "g");
    s.rect(cols.x[0], y, cols.x[9] - cols.x[0], h, 0.6);
    for i in [2, 3, 4] {
        s.line(cols.x[i], y, cols.x[i], y + h, 0.6);
    }
    s.text(
        cols.x[4] + 4.0,
        b,
        Font::Helvetica,
        SMALL,
        "Write the actual weight of the melt under Actual weighed",
    );
    s.y += h;
    let mut notes: Vec<String> = Vec::new();
    if lines.iter().any(|l| matches!(l, Line::Portion(..))) {
        notes.push(
            "An aliquot's drug and diluent are weighed into the aliquot mixture; only the \
             portion taken from it enters the batch and counts in the batch weight."
                .to_owned(),
        );
    }
    let base_rows: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l, Line::Ingredient(i) if i.role == Role::Base))
        .map(|(n, _)| n + 1)
        .collect();
    if let (Some(first), Some(last), true) =
        (base_rows.first(), base_rows.last(), base_rows.len() > 1)
    {
        notes.push(format!(
            "The base is mixed from rows {first} to {last}: {} in all.",
            grams(record, c.base_total)
        ));
    }
    if c.ingredients
        .iter()
        .any(|i| i.dimension == Dimension::Volume)
    {
        notes.push(
            "Liquids are measured by volume (mL); the batch weight counts them by mass \
             (volume × density)."
                .to_owned(),
        );
    }
    notes.push(
        "Amounts are rounded half away from zero to the balance readability; the exact values \
         are in the calculation below."
            .to_owned(),
    );
    // The notes stay together, under the table or at the top of the next page.
    let notes = [regular(notes.join(" "))];
    s.keep(|s| {
        s.gap(2.0);
        let (left, width) = (s.left, s.width());
        s.para(left, width, SMALL + 0.5, 10.0, &notes);
    });
}

fn split_total(total: &str) -> &str {
    total.trim_end_matches(" g")
}

/// Vertical rules between the table's columns for a band `h` high starting at `y`; with
/// `span`, none between manufacturer, lot and expiry.
fn grid(s: &mut Sheet, cols: &Columns, y: f32, h: f32, span: bool) {
    s.rect(cols.x[0], y, cols.x[9] - cols.x[0], h, 0.6);
    for (k, x) in cols.x[1..9].iter().enumerate() {
        if span && (k + 1 == 5 || k + 1 == 6) {
            continue;
        }
        s.line(*x, y, *x, y + h, 0.6);
    }
}

/// One row of the table, wrapped and measured.
struct Row {
    number: String,
    name: Vec<Vec<Run>>,
    note: Vec<Vec<Run>>,
    /// The amount to weigh and its unit.
    amount: (String, &'static str),
    prefill: [Vec<String>; 3],
    /// Lines written across manufacturer, lot and expiry, each followed by a rule to write on
    /// (the aliquot portion, which has no lot of its own).
    span: Vec<String>,
    /// The row as plain text, for a row too tall for a page.
    plain: Vec<Run>,
    h: f32,
}

const NAME_LEAD: f32 = 11.0;
const NOTE_LEAD: f32 = 8.5;
const FILL_SIZE: f32 = 8.0;
const FILL_LEAD: f32 = 9.5;
const SPAN_LEAD: f32 = 16.0;

impl Row {
    fn new(
        record: &Record,
        cols: &Columns,
        number: usize,
        i: &Ingredient,
        portion_row: Option<usize>,
    ) -> Row {
        let w = cols.w(1) - 6.0;
        let name = wrap_runs(&[bold(&i.name)], BODY, w);
        let notes = role_note(record, i, portion_row);
        let note = notes
            .iter()
            .flat_map(|n| wrap_runs(&[regular(n)], SMALL, w))
            .collect();
        let lot = record.component(&i.name);
        let fill = |col: usize, text: Option<String>| -> Vec<String> {
            text.map(|t| metrics::wrap(Font::Helvetica, FILL_SIZE, &t, cols.w(col) - 5.0))
                .unwrap_or_default()
                .into_iter()
                .filter(|l| !l.is_empty())
                .collect()
        };
        let prefill = [
            fill(4, lot.and_then(|l| l.manufacturer.clone())),
            fill(5, lot.map(|l| l.lot.clone())),
            fill(6, lot.and_then(|l| l.expiry).map(date)),
        ];
        let amount = (i.amount.to_string(), i.dimension.base_unit());
        let lot_text = lot.map_or_else(String::new, |l| {
            format!(
                "manufacturer {}, lot {}, expiry {}",
                l.manufacturer.as_deref().unwrap_or("____"),
                l.lot,
                l.expiry.map_or_else(|| "____".to_owned(), date)
            )
        });
        let plain = vec![
            regular(format!("{number}.")),
            bold(&i.name),
            regular(format!("({})", notes.join("; "))),
            bold(format!("{} {}", amount.0, amount.1)),
            regular(lot_text),
        ];
        Row::measured(number, name, note, amount, prefill, Vec::new(), plain)
    }

    /// The aliquot portion: what is taken from the mixture into the batch.
    fn portion(
        record: &Record,
        cols: &Columns,
        number: usize,
        instruction: Vec<Run>,
        a: &Aliquot,
    ) -> Row {
        let w = cols.w(1) - 6.0;
        let title = "Aliquot portion into the batch";
        let name = wrap_runs(&[bold(title)], BODY, w);
        let note = wrap_runs(&instruction, SMALL, w);
        let amount = (
            grams(record, a.portion).trim_end_matches(" g").to_owned(),
            "g",
        );
        let span = vec![
            format!("Mixture made ({}):", grams(record, a.total)),
            format!("Rest discarded ({}):", grams(record, a.remainder)),
        ];
        let mut plain = vec![regular(format!("{number}.")), bold(title)];
        plain.extend(instruction);
        plain.push(bold(format!("{} g", amount.0)));
        plain.push(regular(span.join(" ____ g; ") + " ____ g"));
        Row::measured(number, name, note, amount, Default::default(), span, plain)
    }

    fn measured(
        number: usize,
        name: Vec<Vec<Run>>,
        note: Vec<Vec<Run>>,
        amount: (String, &'static str),
        prefill: [Vec<String>; 3],
        span: Vec<String>,
        plain: Vec<Run>,
    ) -> Row {
        let text_h = 6.0
            + metrics::count(name.len()) * NAME_LEAD
            + metrics::count(note.len()) * NOTE_LEAD
            + 4.0;
        let fill_h =
            metrics::count(prefill.iter().map(Vec::len).max().unwrap_or(0)) * FILL_LEAD + 10.0;
        let span_h = metrics::count(span.len()) * SPAN_LEAD + 6.0;
        Row {
            number: number.to_string(),
            name,
            note,
            amount,
            prefill,
            span,
            plain,
            h: text_h.max(fill_h).max(span_h).max(28.0),
        }
    }

    fn draw(&self, s: &mut Sheet, cols: &Columns, amount: &AmountColumn) {
        let y = s.y;
        let spanned = !self.span.is_empty();
        if spanned {
            // No lot to record: shade the cells so nobody looks for one.
            s.fill(cols.x[4], y, cols.x[7] - cols.x[4], self.h, 0.94);
        }
        grid(s, cols, y, self.h, spanned);
        let b = baseline(y + 3.0, BODY, NAME_LEAD);
        s.text(cols.x[0] + 3.0, b, Font::Helvetica, BODY, &self.number);
        let mut top = y + 3.0;
        for l in &self.name {
            s.runs(cols.x[1] + 3.0, baseline(top, BODY, NAME_LEAD), BODY, l);
            top += NAME_LEAD;
        }
        for l in &self.note {
            s.runs(cols.x[1] + 3.0, baseline(top, SMALL, NOTE_LEAD), SMALL, l);
            top += NOTE_LEAD;
        }
        amount.draw(s, b, &self.amount.0, self.amount.1);
        for (k, lines) in self.prefill.iter().enumerate() {
            for (n, l) in lines.iter().enumerate() {
                let yb = baseline(
                    y + 3.0 + metrics::count(n) * FILL_LEAD,
                    FILL_SIZE,
                    FILL_LEAD,
                );
                s.text(cols.x[4 + k] + 3.0, yb, Font::Helvetica, FILL_SIZE, l);
            }
        }
        let label_w = self
            .span
            .iter()
            .map(|l| metrics::text_width(Font::Helvetica, FILL_SIZE, l))
            .fold(0.0, f32::max);
        for (n, l) in self.span.iter().enumerate() {
            let yb = y + 4.0 + metrics::count(n + 1) * SPAN_LEAD - 3.0;
            let x = cols.x[4] + 4.0;
            s.text(x, yb, Font::Helvetica, FILL_SIZE, l);
            let end = cols.x[7] - 14.0;
            s.line(x + label_w + 4.0, yb + 1.5, end, yb + 1.5, 0.5);
            s.text(end + 3.0, yb, Font::Helvetica, FILL_SIZE, "g");
        }
        s.y += self.h;
    }

    /// A row too tall for any page (absurdly long text) as plain paragraphs.
    fn flow(&self, s: &mut Sheet) {
        let (left, width) = (s.left, s.width());
        s.para(left, width, BODY, LEAD, &self.plain);
        s.form(&[
            vec![Piece::Bold("Actual:".into()), Piece::Blank(60.0)],
            vec![Piece::Bold("Weighed by:".into()), Piece::Blank(40.0)],
            vec![Piece::Bold("Checked by:".into()), Piece::Blank(40.0)],
        ]);
    }
}

fn calculation(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let indent = 12.0;
    let ingredient_block = |i: &Ingredient| {
        let name = i.name.clone();
        let steps = i.steps.clone();
        move |s: &mut Sheet| {
            let (left, width) = (s.left, s.width());
            s.para(left, width, BODY, LEAD, &[bold(&name)]);
            for step in &steps {
                s.hanging(
                    |s, b| {
                        s.text(s.left + 3.0, b, Font::Helvetica, BODY, "–");
                    },
                    indent,
                    &[regular(step)],
                );
            }
            s.gap(3.0);
        }
    };
    let mut blocks = c.ingredients.iter().map(ingredient_block);
    match blocks.next() {
        Some(first) => s.section("Calculation, step by step (verify every line)", first),
        None => s.heading("Calculation, step by step (verify every line)", 0.0),
    }
    for b in blocks {
        s.keep(b);
    }

    s.gap(4.0);
    let mut rows: Vec<(String, String)> = c.steps.clone();
    rows.push(("Beyond-use date".to_owned(), record.bud.rule.clone()));
    // Wide enough for the longest step name on one line, but never most of the page.
    let key_w = rows
        .iter()
        .map(|(k, _)| metrics::text_width(Font::HelveticaBold, BODY, k) + 12.0)
        .fold(90.0, f32::max)
        .min(s.width() * 0.35);
    s.keep(|s| {
        let (left, width) = (s.left, s.width());
        s.para(left, width, BODY, LEAD, &[bold("Batch")]);
    });
    for (k, v) in &rows {
        s.keep(|s| {
            let key = wrap_runs(&[bold(k.as_str())], BODY, key_w - 6.0);
            let val = wrap_runs(&[regular(v.as_str())], BODY, s.width() - key_w - indent);
            let n = key.len().max(val.len());
            let y = s.y;
            for (j, l) in key.iter().enumerate() {
                s.runs(
                    s.left + indent,
                    baseline(y + metrics::count(j) * LEAD, BODY, LEAD),
                    BODY,
                    l,
                );
            }
            for (j, l) in val.iter().enumerate() {
                s.runs(
                    s.left + indent + key_w,
                    baseline(y + metrics::count(j) * LEAD, BODY, LEAD),
                    BODY,
                    l,
                );
            }
            s.y += metrics::count(n) * LEAD;
        });
    }
    s.gap(2.0);
    s.keep(|s| {
        s.form(&[
            vec![
                Piece::Bold("Calculations checked by (pharmacist):".into()),
                Piece::Blank(120.0),
            ],
            vec![Piece::Bold("Date:".into()), Piece::Blank(70.0)],
        ]);
    });
}

fn notes(s: &mut Sheet, record: &Record) {
    let warnings = &record.calc.warnings;
    if warnings.is_empty() {
        return;
    }
    let item = |w: &String| {
        let w = w.clone();
        move |s: &mut Sheet| {
            s.hanging(
                |s, b| {
                    s.text(s.left + 2.0, b, Font::HelveticaBold, BODY, "!");
                },
                12.0,
                &[regular(&w)],
            );
            s.gap(2.0);
        }
    };
    let mut items = warnings.iter().map(item);
    if let Some(first) = items.next() {
        s.section("Notes and warnings", first);
    }
    for i in items {
        s.keep(i);
    }
}

fn procedure(s: &mut Sheet, record: &Record) {
    let p = &record.formula.procedure;
    let checked_item = |text: &str, number: Option<usize>| {
        let text = text.to_owned();
        move |s: &mut Sheet| {
            let indent = if number.is_some() { 32.0 } else { 16.0 };
            s.hanging(
                |s, b| {
                    s.check(s.left + 1.0, b - CHECK + 1.0);
                    if let Some(n) = number {
                        s.text(
                            s.left + 14.0,
                            b,
                            Font::HelveticaBold,
                            BODY,
                            &format!("{n}."),
                        );
                    }
                },
                indent,
                &[regular(&text)],
            );
            s.gap(1.5);
        }
    };
    // Equipment items are short: packed several to a line, each with its own tick box.
    let equipment: Vec<Vec<Piece>> = p
        .equipment
        .iter()
        .map(|e| vec![Piece::Check, Piece::Text(e.clone())])
        .collect();
    if !equipment.is_empty() {
        s.section("Equipment (tick when clean and ready)", |s| {
            s.form(&equipment);
        });
    }
    let mut steps = p
        .steps
        .iter()
        .enumerate()
        .map(|(n, t)| checked_item(t, Some(n + 1)));
    if let Some(first) = steps.next() {
        s.section("Compounding procedure (tick each step as done)", first);
        for st in steps {
            s.keep(st);
        }
    }

    let description = record.formula.description.clone();
    s.section("Physical description of the finished preparation", |s| {
        let (left, width) = (s.left, s.width());
        s.para(
            left,
            width,
            BODY,
            LEAD,
            &[bold("Expected:"), regular(&description)],
        );
        s.form(&[
            vec![
                Piece::Bold("Observed:".into()),
                Piece::Check,
                Piece::Text("conforms".into()),
            ],
            vec![Piece::Check, Piece::Text("does not conform".into())],
            vec![Piece::Bold("Comments:".into()), Piece::Blank(180.0)],
        ]);
    });
}

fn quality(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let low = grams(record, c.unit_weight_low);
    let high = grams(record, c.unit_weight_high);
    let unit = grams(record, c.unit_weight);
    let tol = c.tolerance_percent.normalize();
    let range = format!("{low} to {high}");
    s.section("Quality control", |s| {
        s.cells(
            &[
                cell1("Theoretical unit weight", bold(&unit), 1.0),
                cell1(format!("Accepted range (± {tol} %)"), bold(&range), 1.3),
                blank("Mean unit weight (g)", 1.0),
                blank("Units outside the range", 1.0),
            ],
            28.0,
        );
    });
    unit_grid(s, record, &range);
    s.gap(4.0);
    s.keep(|s| {
        s.hanging(
            |s, b| s.check(s.left + 1.0, b - CHECK + 1.0),
            16.0,
            &[
                bold("Visual inspection passed:"),
                regular(
                    "uniform color and surface; no cracks, chips, air pockets or settled \
                     powder; matches the description above",
                ),
            ],
        );
        s.form(&[
            vec![Piece::Bold("Inspected by:".into()), Piece::Blank(90.0)],
            vec![Piece::Bold("Units rejected:".into()), Piece::Blank(50.0)],
            vec![Piece::Bold("Reason:".into()), Piece::Blank(150.0)],
        ]);
        s.gap(4.0);
        s.cells(
            &[
                cell1(
                    "Theoretical yield",
                    bold(format!("{} units", c.units_prepared)),
                    1.0,
                ),
                blank("Actual yield (units)", 1.0),
                cell1(
                    "Units dispensed",
                    regular(format!("{} units", c.units_dispensed)),
                    1.0,
                ),
                blank("Percent yield (actual ÷ theoretical × 100)", 1.4),
            ],
            30.0,
        );
    });
}

/// One box per unit, numbered, so every unit is weighed on its own (group weighing is an
/// inspection finding). Batches above [`UNIT_GRID_LIMIT`] units get a note instead: tens of
/// pages of boxes are no longer a usable form, and such batches are weighed with a printing
/// balance whose printout is attached.
fn unit_grid(s: &mut Sheet, record: &Record, range: &str) {
    let n = record.calc.units_prepared;
    let caption = format!(
        "Weigh each unit individually and write its weight in grams (accepted {range}); \
         circle any outside the range."
    );
    if n > UNIT_GRID_LIMIT {
        s.keep(|s| {
            let (left, width) = (s.left, s.width());
            s.gap(4.0);
            s.para(
                left,
                width,
                BODY,
                LEAD,
                &[
                    bold("Individual unit weights:"),
                    regular(format!(
                        "this batch has {n} units, more than the {UNIT_GRID_LIMIT} boxes this \
                         record prints. Weigh every unit individually on a printing balance or \
                         on continuation sheets numbered 1 to {n}, and attach them to this record."
                    )),
                ],
            );
            s.form(&[
                vec![
                    Piece::Check,
                    Piece::Text("balance printout attached".into()),
                ],
                vec![
                    Piece::Check,
                    Piece::Text("continuation sheets attached, pages:".into()),
                    Piece::Blank(60.0),
                ],
            ]);
        });
        return;
    }
    if n == 0 {
        return;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a page holds a few hundred boxes a row at most; `as` saturates, NaN is 0"
    )]
    let cols = ((s.width() / UNIT_BOX_MIN_W).floor() as u32).max(1);
    let box_w = s.width() / metrics::count(cols as usize);
    let rows = n.div_ceil(cols);
    let caption_block = |s: &mut Sheet, text: &str| {
        let (left, width) = (s.left, s.width());
        s.gap(4.0);
        s.para(left, width, 8.5, 11.0, &[regular(text)]);
        s.gap(2.0);
    };
    let cap_h = s.measure(&|s: &mut Sheet| caption_block(s, &caption));
    s.need(cap_h + UNIT_BOX_H);
    caption_block(s, &caption);
    let continued = format!("Individual unit weights (g), continued; accepted {range}");
    for r in 0..rows {
        if s.y + UNIT_BOX_H > s.bottom && !s.at_top() {
            s.break_page();
            caption_block(s, &continued);
        }
        let y = s.y;
        for k in 0..cols {
            let unit = r * cols + k + 1;
            if unit > n {
                break;
            }
            let x = s.left + metrics::count(k as usize) * box_w;
            s.rect(x, y, box_w, UNIT_BOX_H, 0.5);
            s.text(x + 2.5, y + 7.5, Font::Helvetica, 6.5, &unit.to_string());
            s.text_right(
                x + box_w - 3.0,
                y + UNIT_BOX_H - 3.5,
                Font::Helvetica,
                6.5,
                "g",
            );
        }
        s.y += UNIT_BOX_H;
    }
}

fn reconciliation(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let scheduled: Vec<&Ingredient> = c
        .ingredients
        .iter()
        .filter(|i| i.active.as_ref().is_some_and(|a| a.schedule.is_some()))
        .collect();
    for (k, i) in scheduled.iter().enumerate() {
        let Some(a) = i.active.as_ref() else { continue };
        let sched = a.schedule.map_or("", schedule_name);
        let lot = record
            .component(&i.name)
            .map(|l| l.lot.clone())
            .unwrap_or_default();
        let amount = format!("{} {}", i.amount, i.dimension.base_unit());
        let per_unit = format!("{} {}", a.strength, a.strength_form);
        let rec = c.reconciliation.iter().find(|r| r.name == i.name);
        let g = |v: Option<rust_decimal::Decimal>| v.map_or_else(String::new, |v| grams(record, v));
        let block = |s: &mut Sheet| {
            s.cells(
                &[
                    cell1(format!("Drug, DEA {sched}"), bold(&i.name), 2.2),
                    cell1("Drug lot", regular(&lot), 1.0),
                    cell1(
                        if i.aliquot.is_some() {
                            "Bulk drug to weigh (theoretical, into the aliquot)"
                        } else {
                            "Bulk drug to weigh (theoretical)"
                        },
                        bold(&amount),
                        1.2,
                    ),
                ],
                28.0,
            );
            s.cells(
                &[
                    cell1(
                        "Into the batch (theoretical)",
                        regular(g(rec.map(|r| r.into_batch))),
                        1.1,
                    ),
                    cell1(
                        "Waste: aliquot remainder",
                        regular(g(rec.map(|r| r.aliquot_waste))),
                        1.0,
                    ),
                    cell1(
                        "Waste: overage left in beaker",
                        regular(g(rec.map(|r| r.beaker_waste))),
                        1.1,
                    ),
                    cell1(
                        "In the units poured",
                        regular(g(rec.map(|r| r.in_units))),
                        0.9,
                    ),
                    cell1(
                        "In the units dispensed",
                        regular(g(rec.map(|r| r.dispensed))),
                        0.9,
                    ),
                ],
                28.0,
            );
            s.cells(
                &[
                    blank("Bulk drug weighed (g)", 1.0),
                    blank("Used in the batch (g)", 1.0),
                    blank("Wasted (g)", 0.8),
                    blank(
                        "Reason for waste (aliquot remainder, beaker residue, spill)",
                        2.0,
                    ),
                ],
                30.0,
            );
            s.cells(
                &[
                    blank(
                        format!("Units made (theoretical {})", c.units_prepared),
                        1.2,
                    ),
                    blank(
                        format!("Quantity in finished form (units × {per_unit}) "),
                        2.0,
                    ),
                    cell1(
                        "Theoretical yield",
                        regular(format!(
                            "{} units, {}",
                            c.units_prepared,
                            g(rec.map(|r| r.in_units))
                        )),
                        1.2,
                    ),
                    blank("Actual yield (units)", 1.0),
                ],
                30.0,
            );
            s.cells(
                &[
                    blank("Compounder (signature)", 1.0),
                    blank("Witness (name and signature)", 1.4),
                    blank("Date", 0.6),
                ],
                32.0,
            );
        };
        let title = if scheduled.len() > 1 {
            format!(
                "Controlled-substance reconciliation ({} of {})",
                k + 1,
                scheduled.len()
            )
        } else {
            "Controlled-substance reconciliation".to_owned()
        };
        s.section(&title, block);
    }
}

/// `n` full-width rules to write on.
fn ruled(s: &mut Sheet, n: usize) {
    for _ in 0..n {
        s.need(FORM_LEAD);
        let (left, right) = (s.left, s.right);
        let y = s.y + FORM_LEAD - 3.0;
        s.line(left, y, right, y, 0.5);
        s.y += FORM_LEAD;
    }
}

fn deviations(s: &mut Sheet) {
    s.section("Deviations from the master formulation record", |s| {
        s.form(&[
            vec![Piece::Check, Piece::Bold("None".into())],
            vec![
                Piece::Check,
                Piece::Text(
                    "Deviations, described below with the reason and their effect on the \
                     preparation"
                        .into(),
                ),
            ],
        ]);
        ruled(s, 4);
        s.gap(2.0);
        s.form(&[
            vec![
                Piece::Bold("Deviation approved by (pharmacist):".into()),
                Piece::Blank(130.0),
            ],
            vec![Piece::Bold("Date:".into()), Piece::Blank(70.0)],
        ]);
    });
}

fn complaints(s: &mut Sheet) {
    s.section("Complaints and adverse events", |s| {
        s.form(&[
            vec![Piece::Check, Piece::Bold("None known at release".into())],
            vec![
                Piece::Check,
                Piece::Text(
                    "Reported, described below (date, reporter, what, action taken)".into(),
                ),
            ],
        ]);
        ruled(s, 3);
    });
}

fn signatures(s: &mut Sheet) {
    s.section("Signatures", |s| {
        s.cells(
            &[
                blank("Compounded by (print name)", 1.2),
                blank("Signature", 1.3),
                blank("Date", 0.6),
            ],
            32.0,
        );
        s.cells(
            &[
                blank("Verified by pharmacist (print name)", 1.2),
                blank("Signature", 1.3),
                blank("Date", 0.6),
            ],
            32.0,
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FEDERAL_TRANSFER_WARNING;
    use crate::render::test_support::{bare, ketamine, pdf_text};

    #[test]
    fn worksheet_holds_every_required_field() {
        let record = ketamine(30);
        let pdf = worksheet(&record, Paper::Letter).unwrap();
        assert_eq!(
            pdf,
            worksheet(&record, Paper::Letter).unwrap(),
            "reproducible"
        );
        let text = pdf_text(&pdf);
        let flat = text.replace('\u{c}', "");
        let active = &record.formula.actives[0].name;
        let mut expected: Vec<String> = vec![
            record.formula.name.clone(),
            "ketamine-hcl-troche, version 2".into(),
            "RX-4471203".into(),
            "261123-001".into(),
            "2026-11-23".into(),
            "2027-05-22".into(),
            "Jane Q. Doe".into(),
            "Main Street Compounding Pharmacy".into(),
            "troche".into(),
            "buccal".into(),
            "30 units".into(),
            "32 units (30 + 2 extra)".into(),
            active.clone(),
            "1.600".into(),
            "27.447".into(),
            "Schedule III".into(),
            "Manufacturer".into(),
            "Weighed".into(),
            "Checked".into(),
            "1.002 g".into(),
            "0.902 g to 1.102 g".into(),
            "Theoretical yield".into(),
            "Actual yield".into(),
            "Visual inspection".into(),
            "Controlled-substance reconciliation".into(),
            "Bulk drug weighed".into(),
            "Wasted".into(),
            "Witness".into(),
            "Verified by pharmacist".into(),
            "Compounded by".into(),
            "day 0".into(),
            record.formula.bud.storage.clone(),
            record.formula.description.clone(),
        ];
        expected.extend(record.strength_lines());
        expected.extend(record.formula.procedure.steps.iter().cloned());
        expected.extend(record.formula.procedure.equipment.iter().cloned());
        expected.extend(record.calc.warnings.iter().cloned());
        for i in &record.calc.ingredients {
            expected.push(i.name.clone());
            expected.extend(i.steps.iter().cloned());
        }
        for (k, v) in &record.calc.steps {
            expected.push(k.clone());
            expected.push(v.clone());
        }
        for field in &expected {
            let want = bare(&metrics::to_winansi(field));
            assert!(flat.contains(&want), "worksheet lacks {want:?}:\n{text}");
        }
        // Every unit has its numbered box.
        assert!(flat.contains("32g"), "{text}");
        assert!(
            !flat.contains(&bare(FEDERAL_TRANSFER_WARNING)),
            "that is for the label"
        );
        let pages = text.trim_end_matches('\u{c}').split('\u{c}').count();
        for p in 1..=pages {
            assert!(flat.contains(&format!("Page{p}of{pages}")), "{text}");
        }
    }

    #[test]
    fn large_batch_numbers_every_page() {
        let record = ketamine(298);
        assert_eq!(record.calc.units_prepared, 300);
        for paper in [Paper::Letter, Paper::A4] {
            let pdf = worksheet(&record, paper).unwrap();
            let text = pdf_text(&pdf);
            let pages: Vec<&str> = text.trim_end_matches('\u{c}').split('\u{c}').collect();
            let m = pages.len();
            assert!(m >= 3, "300 unit boxes span pages: {m}");
            for (n, page) in pages.iter().enumerate() {
                assert!(
                    page.contains(&format!("Page{}of{m}", n + 1)),
                    "page {}: {page}",
                    n + 1
                );
                assert!(page.contains("Lot261123-001"), "page {}", n + 1);
                assert!(page.contains("ketamine-hcl-troche"), "page {}", n + 1);
            }
            assert!(text.contains("300g"), "the last unit has a box");
            assert!(text.contains("continued"));
        }
    }

    #[test]
    fn huge_batch_gets_a_note_instead_of_boxes() {
        let record = ketamine(UNIT_GRID_LIMIT + 10);
        let pdf = worksheet(&record, Paper::Letter).unwrap();
        let text = pdf_text(&pdf);
        assert!(text.contains(&bare("more than the 2000 boxes")), "{text}");
        assert!(text.split('\u{c}').count() < 10);
    }

    #[test]
    fn page_count_and_breaks_are_sane() {
        // No block runs into the footer: every drawn page ends above the bottom margin.
        let record = ketamine(30);
        for paper in [Paper::Letter, Paper::A4] {
            let canvas = layout(&record, paper);
            assert!(
                canvas.page_count() >= 2 && canvas.page_count() <= 5,
                "{}",
                canvas.page_count()
            );
        }
    }

    #[test]
    fn balance_mold_and_container_are_filled_in_or_left_blank() {
        let page1 = |record: &Record| {
            let pdf = worksheet(record, Paper::Letter).unwrap();
            pdf_text(&pdf)
                .split('\u{c}')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let mut record = ketamine(30);
        record.formula.bud.container = None;
        let text = page1(&record);
        for blank in [
            "Balance id (write the balance used)",
            "Mold id (write the mold used)",
            "Container-closure used (the master formulation record names none: write it)",
            "Assay (CoA) ________ % (100 % assumed)",
            "6 mg sensitivity ÷ 5 % acceptable error = 120 mg",
        ] {
            assert!(text.contains(&bare(blank)), "lacks {blank:?}:\n{text}");
        }
        record.calc.balance.id = Some("BAL-7".into());
        record.mold_ids = vec!["M-1".into()];
        record.formula.bud.container = Some("Blister card, foil lidding".into());
        let text = page1(&record);
        for filled in ["BAL-7", "M-1", "Blister card, foil lidding"] {
            assert!(text.contains(&bare(filled)), "lacks {filled:?}:\n{text}");
        }
        record.mold_ids = vec!["M-1".into(), "M-2".into()];
        let text = page1(&record);
        assert!(
            text.contains(&bare("Mold id (write which was used)")),
            "{text}"
        );
        assert!(text.contains(&bare("use one of: M-1, M-2")), "{text}");
        assert!(!text.contains(&bare("Balance id (write")), "{text}");
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut record = ketamine(30);
        record.formula.name = "N".repeat(3000);
        record.lot = String::new();
        record.order.patient = Some("\u{1F600} ".repeat(2000));
        record.formula.description = String::new();
        record.formula.procedure.steps = vec![String::new(), "x ".repeat(4000)];
        record.calc.warnings.push("w".repeat(10_000));
        if let Some(i) = record.calc.ingredients.first_mut() {
            i.name = "Ketamine ".repeat(1500);
        }
        for paper in [Paper::Letter, Paper::A4] {
            let pdf = worksheet(&record, paper).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
        }
    }
}
