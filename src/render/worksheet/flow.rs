//! The page-flow engine of the worksheet: a sheet filled top to bottom, with boxes, form
//! lines and sections that are kept whole or moved to the next page, and page numbers written
//! once the page count is known.

use std::ops::{Deref, DerefMut};

use crate::render::frame::{Column, Frame, open_line, paragraph, set_lines};
use crate::render::text::Wrap as _;

use super::{
    BODY, Canvas, FORM_LEAD, Font, LEAD, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, Run, SMALL, bold,
    draw_runs, metrics, regular, wrap_runs, wrap_text,
};

/// One caption-and-value box of a form row; `weight` sets its share of the row's width.
pub(super) struct Cell {
    pub(super) caption: String,
    pub(super) value: Vec<Vec<Run>>,
    pub(super) weight: f32,
}

pub(super) fn cell(caption: impl Into<String>, value: Vec<Vec<Run>>, weight: f32) -> Cell {
    Cell {
        caption: caption.into(),
        value,
        weight,
    }
}

/// A box with a one-line value.
pub(super) fn cell1(caption: impl Into<String>, value: Run, weight: f32) -> Cell {
    cell(caption, vec![vec![value]], weight)
}

/// An empty box to write in.
pub(super) fn blank(caption: impl Into<String>, weight: f32) -> Cell {
    cell(caption, Vec::new(), weight)
}

/// A piece of a form line; a group of pieces is never split across lines.
pub(super) enum Piece {
    Bold(String),
    Text(String),
    /// A handwriting rule this many points long.
    Blank(f32),
    /// A tick box.
    Check,
}

pub(super) const CHECK: f32 = 8.5;

impl Piece {
    pub(super) fn width(&self) -> f32 {
        match self {
            Piece::Bold(t) => metrics::text_width(Font::HelveticaBold, BODY, t),
            Piece::Text(t) => metrics::text_width(Font::Helvetica, BODY, t),
            Piece::Blank(w) => *w,
            Piece::Check => CHECK,
        }
    }
}

/// Height of a section heading's shaded band.
pub(super) const BAND: f32 = 15.0;
/// Room a heading takes: the gap above it, the band and the gap below.
pub(super) const HEADING: f32 = 8.0 + BAND + 5.0;

/// The page being filled, and its frame: the content area (its top below a continuation
/// page's running header) and the position in it.
pub(super) struct Sheet {
    pub(super) canvas: Canvas,
    frame: Frame,
    /// Measuring: nothing is drawn and pages never break.
    pub(super) dry: bool,
    /// Drawing a block that may be taken back (see [`Sheet::keep`]): pages never break,
    /// and `would_break` records whether one was due.
    pub(super) trial: bool,
    pub(super) would_break: bool,
    pub(super) running: String,
}

/// A sheet is its frame with a canvas to draw on: `s.left`, `s.y` and `s.breaks_at(..)` are
/// the frame's.
impl Deref for Sheet {
    type Target = Frame;

    fn deref(&self) -> &Frame {
        &self.frame
    }
}

impl DerefMut for Sheet {
    fn deref_mut(&mut self) -> &mut Frame {
        &mut self.frame
    }
}

impl Sheet {
    /// A sheet of `(width, height)` points within the worksheet's margins, its first page
    /// started at the top margin (continuation pages start below their running header,
    /// `running`).
    pub(super) fn new((width, height): (f32, f32), running: String) -> Sheet {
        // Letter and A4, the only papers, leave room inside the margins.
        let frame = Frame {
            left: MARGIN_X,
            right: width - MARGIN_X,
            top: MARGIN_TOP + 20.0,
            bottom: height - MARGIN_BOTTOM,
            y: MARGIN_TOP,
        };
        Sheet {
            canvas: Canvas::new(width, height),
            frame,
            dry: false,
            trial: false,
            would_break: false,
            running,
        }
    }

    /// Starts a new page unless `h` more points fit on this one. A block taller than a whole
    /// page is started where it is and breaks line by line.
    pub(super) fn need(&mut self, h: f32) {
        if self.dry || !self.breaks_at(self.y, h) {
            return;
        }
        if self.trial {
            self.would_break = true;
        } else {
            self.break_page();
        }
    }

    pub(super) fn break_page(&mut self) {
        self.canvas.new_page();
        let top = self.top - 20.0;
        self.canvas
            .text(self.left, top + 8.0, Font::Helvetica, 8.0, &self.running);
        self.canvas
            .line(self.left, top + 12.0, self.right, top + 12.0, 0.5);
        self.y = self.top;
    }

    /// The pages, with `footer` (its first line, if it is longer) and "Page n of m" under a
    /// rule at the foot of every page, written once the page count is known.
    pub(super) fn finish(mut self, footer: &str) -> Canvas {
        let pages = self.canvas.page_count();
        let footer = wrap_text(Font::Helvetica, 8.0, footer, self.width() - 80.0)
            .into_iter()
            .next()
            .unwrap_or_default();
        let rule_y = self.bottom + 16.0;
        for page in 0..pages {
            if self.canvas.set_page(page).is_err() {
                break;
            }
            self.canvas.line(self.left, rule_y, self.right, rule_y, 0.5);
            self.canvas
                .text(self.left, rule_y + 11.0, Font::Helvetica, 8.0, &footer);
            self.canvas.text_right(
                self.right,
                rule_y + 11.0,
                Font::HelveticaBold,
                8.0,
                &format!("Page {} of {pages}", page + 1),
            );
        }
        self.canvas
    }

    /// Height `f` takes when drawn from the current position, without drawing it.
    pub(super) fn measure(&self, f: &impl Fn(&mut Sheet)) -> f32 {
        let mut probe = Sheet {
            canvas: Canvas::new(3.0, 3.0),
            frame: Frame {
                bottom: f32::INFINITY,
                ..self.frame
            },
            dry: true,
            trial: false,
            would_break: false,
            running: String::new(),
        };
        f(&mut probe);
        probe.y - self.y
    }

    /// Draws `f` on one page: on the next one if it would otherwise be split.
    pub(super) fn keep(&mut self, f: impl Fn(&mut Sheet)) {
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
    pub(super) fn attempt<T>(
        &mut self,
        draw: impl Fn(&mut Sheet) -> (T, bool),
        redo: impl Fn(&mut Sheet, T),
    ) {
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

    pub(super) fn text(&mut self, x: f32, y: f32, font: Font, size: f32, text: &str) -> f32 {
        if self.dry {
            metrics::text_width(font, size, text)
        } else {
            self.canvas.text(x, y, font, size, text)
        }
    }

    pub(super) fn text_right(&mut self, x: f32, y: f32, font: Font, size: f32, text: &str) {
        if !self.dry {
            self.canvas.text_right(x, y, font, size, text);
        }
    }

    pub(super) fn runs(&mut self, x: f32, y: f32, size: f32, line: &[Run]) {
        if !self.dry {
            draw_runs(&mut self.canvas, x, y, size, line);
        }
    }

    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, w: f32) {
        if !self.dry {
            self.canvas.line(x1, y1, x2, y2, w);
        }
    }

    pub(super) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, lw: f32) {
        if !self.dry {
            self.canvas.rect(x, y, w, h, lw);
        }
    }

    pub(super) fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        if !self.dry {
            self.canvas.fill_rect(x, y, w, h, gray);
        }
    }

    pub(super) fn check(&mut self, x: f32, y: f32) {
        if !self.dry {
            self.canvas.checkbox(x, y, CHECK, false);
        }
    }

    // Blocks.
    /// A paragraph of body text across the sheet, the records' line of facts.
    pub(super) fn body(&mut self, runs: &[Run]) {
        let (left, width) = (self.left, self.width());
        self.para(left, width, BODY, LEAD, runs);
    }

    /// A wrapped paragraph starting at `x`, at most `width` wide; may break across pages
    /// between lines.
    pub(super) fn para(&mut self, x: f32, width: f32, size: f32, lead: f32, runs: &[Run]) {
        paragraph(self, (x, width), (size, lead), runs);
    }

    /// A paragraph with a marker (bullet, number, tick box) hanging in the left `indent`.
    pub(super) fn hanging(&mut self, marker: impl Fn(&mut Sheet, f32), indent: f32, runs: &[Run]) {
        if self.dry {
            // Measuring only needs the number of lines; an empty step still takes one.
            for _ in 0..runs.measure(BODY, self.width() - indent).0.max(1) {
                self.y += LEAD;
            }
            return;
        }
        let mut lines = wrap_runs(runs, BODY, self.width() - indent);
        if lines.is_empty() {
            // An empty step still gets its number and tick box, so numbering has no gaps.
            lines.push(Vec::new());
        }
        for (i, line) in lines.into_iter().enumerate() {
            let b = open_line(self, BODY, LEAD);
            if i == 0 {
                marker(self, b);
            }
            self.place(self.left + indent, b, BODY, line);
            self.y += LEAD;
        }
    }

    pub(super) fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// A shaded section heading, kept on the page with the `keep_with` points that follow.
    pub(super) fn heading(&mut self, title: &str, keep_with: f32) {
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
    pub(super) fn section(&mut self, title: &str, first: impl Fn(&mut Sheet)) {
        let keep_with = |s: &Sheet, h: f32| h.min(s.height() * 0.5);
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
    pub(super) fn cells(&mut self, cells: &[Cell], min_h: f32) {
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
                    let caption = wrap_text(Font::Helvetica, SMALL, &c.caption, inner)
                        .iter()
                        .filter(|l| !l.is_empty())
                        .count();
                    let value: usize = c.value.iter().map(|p| p.measure(VALUE, inner).0).sum();
                    cap_h(caption) + metrics::count(value) * VLEAD + PAD
                })
                .fold(min_h, f32::max);
            if h <= self.height() {
                self.y += h;
                return;
            }
        }
        let wrapped: Vec<(Vec<String>, Vec<Vec<Run>>)> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let inner = w - 2.0 * PAD;
                let caption = wrap_text(Font::Helvetica, SMALL, &c.caption, inner)
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
        if h > self.height() {
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
        for ((w, (caption, value)), _) in widths.iter().zip(wrapped).zip(cells) {
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
            let top = y + cap_h(caption.len());
            let frame = Frame {
                top,
                y: top,
                ..self.frame
            };
            set_lines(
                &mut CellBox { sheet: self, frame },
                x + PAD,
                (VALUE, VLEAD),
                value,
            );
            x += w;
        }
        self.y += h;
    }

    /// A line of labels, values, handwriting rules and tick boxes; groups wrap as wholes.
    pub(super) fn form(&mut self, groups: &[Vec<Piece>]) {
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

/// The page flow sets text as a column that breaks to a new page when a line does not fit.
impl Column for Sheet {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn frame_mut(&mut self) -> &mut Frame {
        &mut self.frame
    }

    fn measuring(&self) -> bool {
        self.dry
    }

    fn room(&mut self, lead: f32) {
        self.need(lead);
    }

    fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>) {
        self.runs(x, baseline, size, &line);
    }
}

/// A box of fixed height on the page, sized before its lines are set: they never break
/// the page.
struct CellBox<'a> {
    sheet: &'a mut Sheet,
    frame: Frame,
}

impl Column for CellBox<'_> {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn frame_mut(&mut self) -> &mut Frame {
        &mut self.frame
    }

    fn measuring(&self) -> bool {
        self.sheet.dry
    }

    fn place(&mut self, x: f32, baseline: f32, size: f32, line: Vec<Run>) {
        self.sheet.runs(x, baseline, size, &line);
    }
}
