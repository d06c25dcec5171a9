//! Pages of printpdf operations, drawn in points from the top-left corner of the page.
//!
//! Layouts think in reading order, from the top; PDF puts the origin at the bottom-left. The
//! canvas does that conversion in one place, keeps every coordinate inside what PDF readers
//! accept, measures text with [`metrics`] exactly as it is drawn, and hands the pages to the
//! PDF writer (`render/pdf.rs`) as printpdf [`Op`]s. Consecutive texts share one text object,
//! and the font and line width are selected only when they change, so that a worksheet's
//! streams stay small.

use printpdf::{
    BuiltinFont, Color, FontId, Greyscale, Line, LinePoint, Op, PaintMode, PdfFontHandle, Point,
    Pt, Rect, TextItem, TextMatrix, TextRenderingMode,
};

use super::error::Error;
use super::font::Face;
use super::metrics::{self, Font};
use super::pdf::{self, DocMeta};

/// Largest coordinate magnitude written to the PDF. PDF 1.x readers only guarantee reals
/// up to ±32767; clamping keeps a runaway layout value from producing an invalid file.
const COORD_LIMIT: f32 = 32767.0;

/// Page sizes PDF readers accept (PDF 32000-1:2008, Annex C.2).
const MIN_PAGE_PT: f32 = 3.0;
const MAX_PAGE_PT: f32 = 14400.0;

/// Pages of drawing operations in top-left-origin points, serialized with [`Canvas::into_pdf`].
///
/// All pages share one size. Drawing goes to the current page, which is the newest one
/// unless [`Canvas::set_page`] selected an earlier page, e.g. to add "page n of m"
/// footers once the page count is known.
#[derive(Debug, Clone)]
pub struct Canvas {
    pages: Vec<Page>,
    current: usize,
    width_pt: f32,
    height_pt: f32,
}

/// One page's operations and the graphics state at their end.
#[derive(Debug, Clone, Default)]
pub(super) struct Page {
    /// Always a complete content stream: a text object is closed after every text, and
    /// reopened by dropping that `EndTextSection` when more text follows directly.
    pub(super) ops: Vec<Op>,
    state: State,
}

/// What the operations of a page leave selected, so that it is not selected again.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct State {
    /// Whether the operations end with a text object that more text may continue.
    text_open_at_end: bool,
    /// Font, embedded face standing in for it (if any) and size last selected. The text
    /// state outlives text objects, and nothing selects a font inside a saved graphics
    /// state, so it stays valid.
    font: Option<(Font, Option<Face>, f32)>,
    /// Line width last set, `None` until the first stroke.
    line_width: Option<f32>,
    /// Where the last text of the open text object starts, in thousandths of a point: text
    /// is placed relative to it (`Td`, two numbers) rather than absolutely (`Tm`, six),
    /// by whole thousandths, so that the offsets a reader adds up land exactly on each
    /// position (see [`milli`]).
    line_start: (i32, i32),
}

/// A state of a canvas that drawing can be taken back to (see [`Canvas::rollback`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pages: usize,
    current: usize,
    len: usize,
    state: State,
}

impl Page {
    /// An empty page with room for a typical worksheet page's operations.
    fn new() -> Self {
        Page {
            ops: Vec::with_capacity(512),
            state: State::default(),
        }
    }

    /// Continues the text object that the operations end with, or begins one.
    fn begin_text(&mut self) {
        if self.state.text_open_at_end && matches!(self.ops.last(), Some(Op::EndTextSection)) {
            self.ops.pop();
        } else {
            self.ops.push(Op::StartTextSection);
            self.state.line_start = (0, 0);
        }
    }

    fn end_text(&mut self) {
        self.ops.push(Op::EndTextSection);
        self.state.text_open_at_end = true;
    }

    /// Anything but text ends the text object for good.
    fn graphics(&mut self) {
        self.state.text_open_at_end = false;
    }

    /// Prepares a stroke `width` points wide.
    fn stroke_width(&mut self, width: f32) {
        self.graphics();
        if self.state.line_width != Some(width) {
            self.ops.push(Op::SetOutlineThickness { pt: Pt(width) });
            self.state.line_width = Some(width);
        }
    }
}

impl Canvas {
    /// A canvas with one empty page of the given size in points (US Letter is 612 x 792).
    /// Sizes outside what PDF readers accept are clamped into range.
    #[must_use]
    pub fn new(width_pt: f32, height_pt: f32) -> Self {
        Self {
            pages: vec![Page::new()],
            current: 0,
            width_pt: page_dimension(width_pt),
            height_pt: page_dimension(height_pt),
        }
    }

    /// Page width in points.
    #[must_use]
    pub fn width(&self) -> f32 {
        self.width_pt
    }

    /// Page height in points.
    #[must_use]
    pub fn height(&self) -> f32 {
        self.height_pt
    }

    /// The current state, to return to with [`Canvas::rollback`].
    #[must_use]
    pub fn mark(&self) -> Mark {
        let page = &self.pages[self.current];
        Mark {
            pages: self.pages.len(),
            current: self.current,
            len: page.ops.len(),
            state: page.state,
        }
    }

    /// Takes back everything drawn since `mark` was taken, pages added since included, so
    /// that the canvas is as it was then. Drawing only ever appends to the current page,
    /// apart from reopening a text object by dropping its final `EndTextSection`, which is
    /// put back.
    pub fn rollback(&mut self, mark: Mark) {
        self.pages.truncate(mark.pages.max(1));
        self.current = mark.current.min(self.pages.len() - 1);
        let page = &mut self.pages[self.current];
        let reopened = mark.state.text_open_at_end
            && page.ops.len() >= mark.len
            && !matches!(
                page.ops.get(mark.len.wrapping_sub(1)),
                Some(Op::EndTextSection)
            );
        page.ops.truncate(mark.len);
        if reopened {
            page.ops.pop();
            page.ops.push(Op::EndTextSection);
        }
        page.state = mark.state;
    }

    /// Appends an empty page, makes it current and returns its zero-based index.
    pub fn new_page(&mut self) -> usize {
        self.pages.push(Page::new());
        self.current = self.pages.len() - 1;
        self.current
    }

    /// Number of pages, never 0.
    #[must_use]
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Zero-based index of the page drawing goes to.
    #[must_use]
    pub fn current_page(&self) -> usize {
        self.current
    }

    /// Makes the page with zero-based `index` current.
    ///
    /// # Errors
    ///
    /// If `index` is not less than [`Canvas::page_count`]; the current page is unchanged.
    pub fn set_page(&mut self, index: usize) -> Result<(), Error> {
        if index >= self.pages.len() {
            return Err(Error::PageIndex {
                index,
                count: self.pages.len(),
            });
        }
        self.current = index;
        Ok(())
    }

    /// Draws `text` with its baseline starting at (`x`, `y`) and returns its width.
    ///
    /// The text is converted with [`metrics::to_winansi`] and drawn on one line (line
    /// breaks become spaces). The returned width is [`metrics::text_width`] of the same text,
    /// so callers can place what follows.
    pub fn text(&mut self, x: f32, y: f32, font: Font, size_pt: f32, text: &str) -> f32 {
        self.place_text(|_| x, y, font, size_pt, text)
    }

    /// Draws `text` so that it ends at `x_right`, for columns of numbers that must line up
    /// on their last digit; returns its width.
    pub fn text_right(
        &mut self,
        x_right: f32,
        y: f32,
        font: Font,
        size_pt: f32,
        text: &str,
    ) -> f32 {
        self.place_text(|width| x_right - width, y, font, size_pt, text)
    }

    /// Draws `text` centred on `x_center`; returns its width.
    pub fn text_center(
        &mut self,
        x_center: f32,
        y: f32,
        font: Font,
        size_pt: f32,
        text: &str,
    ) -> f32 {
        self.place_text(|width| x_center - width / 2.0, y, font, size_pt, text)
    }

    /// Draws `text` starting at the x that `x_for` gives for its width (converting and
    /// measuring it once); returns the width.
    fn place_text(
        &mut self,
        x_for: impl FnOnce(f32) -> f32,
        y: f32,
        font: Font,
        size_pt: f32,
        text: &str,
    ) -> f32 {
        let line = metrics::single_line(text);
        let size = metrics::clamp_size(size_pt);
        let width = metrics::converted_width(font, size, &line);
        if line.is_empty() || size == 0.0 {
            return width;
        }
        let (x, y) = (x_for(width), coord(self.pdf_y(y)));
        if !metrics::needs_embedded(&line) {
            self.show(coord(x), y, (font, None, size), line.into_owned());
            return width;
        }
        // Word by word in the font that draws it (see `metrics::segments`), each placed
        // where the widths before it end.
        let mut before = 0u64;
        for (face, segment, units) in metrics::segments(font, &line) {
            let at = coord(x + metrics::units_to_pt(before, size));
            before += units;
            if face.is_none() && segment.chars().all(|c| c == ' ') {
                continue;
            }
            self.show(at, y, (font, face, size), segment.to_owned());
        }
        width
    }

    /// Shows `text` (converted, one line) at PDF coordinates (`x`, `y`) in `selected`.
    fn show(&mut self, x: f32, y: f32, selected: (Font, Option<Face>, f32), text: String) {
        let page = &mut self.pages[self.current];
        page.begin_text();
        if page.state.font != Some(selected) {
            let (font, face, size) = selected;
            page.ops.push(Op::SetFont {
                font: font_handle(font, face),
                size: Pt(size),
            });
            page.state.font = Some(selected);
        }
        let (x, y) = (milli(x), milli(y));
        let (x0, y0) = page.state.line_start;
        page.ops.push(Op::SetTextCursor {
            pos: Point {
                x: Pt(from_milli(x - x0)),
                y: Pt(from_milli(y - y0)),
            },
        });
        page.state.line_start = (x, y);
        page.ops.push(Op::ShowText {
            items: vec![TextItem::Text(text)],
        });
        page.end_text();
    }

    /// Strokes a straight line `width_pt` thick.
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width_pt: f32) {
        let from = self.point(x1, y1);
        let to = self.point(x2, y2);
        let page = &mut self.pages[self.current];
        page.stroke_width(line_width(width_pt));
        page.ops.push(Op::DrawLine {
            line: Line {
                points: vec![from, to],
                is_closed: false,
            },
        });
    }

    /// Strokes the outline of the rectangle whose top-left corner is (`x`, `y`).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, line_width_pt: f32) {
        let rectangle = self.pdf_rect(x, y, w, h, PaintMode::Stroke);
        let page = &mut self.pages[self.current];
        page.stroke_width(line_width(line_width_pt));
        page.ops.push(Op::DrawRectangle { rectangle });
    }

    /// Fills the rectangle whose top-left corner is (`x`, `y`) with a gray level from 0.0
    /// (black) to 1.0 (white); out-of-range levels are clamped. Used for shaded header
    /// rows, which print reliably on monochrome pharmacy printers.
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        let gray = if gray.is_finite() {
            gray.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let rectangle = self.pdf_rect(x, y, w, h, PaintMode::Fill);
        let page = &mut self.pages[self.current];
        page.graphics();
        // The fill color is saved and restored around the fill, so text stays black.
        page.ops.extend([
            Op::SaveGraphicsState,
            Op::SetFillColor {
                col: Color::Greyscale(Greyscale {
                    percent: gray,
                    icc_profile: None,
                }),
            },
            Op::DrawRectangle { rectangle },
            Op::RestoreGraphicsState,
        ]);
    }

    /// Draws a square tick box of side `size` with its top-left corner at (`x`, `y`),
    /// crossed when `checked`; empty boxes are for the compounder to tick by hand.
    pub fn checkbox(&mut self, x: f32, y: f32, size: f32, checked: bool) {
        self.rect(x, y, size, size, 0.75);
        if checked {
            let inset = size * 0.2;
            let (left, top) = (x + inset, y + inset);
            let (right, bottom) = (x + size - inset, y + size - inset);
            self.line(left, top, right, bottom, 1.0);
            self.line(left, bottom, right, top, 1.0);
        }
    }

    /// Writes each of `lines` in large outlined capitals diagonally across every page, over
    /// everything drawn on it (a filled table cell would hide a stamp beneath it), so that
    /// the page cannot be taken for what it is not (a preview, a practice batch, a rejected
    /// batch) and, the letters being only outlined in grey, still reads.
    ///
    /// Drawn last on each page, inside its own saved graphics state, after the page is
    /// complete: call it once drawing is done.
    pub fn stamp(&mut self, lines: &[&str]) {
        let lines: Vec<String> = lines
            .iter()
            .map(|line| metrics::single_line(line).to_uppercase())
            .filter(|line| !line.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        let (w, h) = (f64::from(self.width_pt), f64::from(self.height_pt));
        let diagonal = w.hypot(h);
        let widest = lines
            .iter()
            .map(|line| f64::from(metrics::text_width(Font::HelveticaBold, 1.0, line)))
            .fold(1.0, f64::max);
        // Four fifths of the diagonal for the widest line, never above 72 pt.
        let size = (diagonal * 0.8 / widest).min(72.0);
        let (cos, sin) = (w / diagonal, h / diagonal);
        let rounded = |v: f64| from_milli(milli(coord(narrow(v))));
        let mut ops = vec![
            Op::SaveGraphicsState,
            Op::SetOutlineColor {
                col: Color::Greyscale(Greyscale {
                    percent: 0.45,
                    icc_profile: None,
                }),
            },
            Op::SetOutlineThickness {
                pt: Pt(rounded((size / 40.0).clamp(0.4, 1.5))),
            },
            Op::StartTextSection,
            Op::SetTextRenderingMode {
                mode: TextRenderingMode::Stroke,
            },
            Op::SetFont {
                font: font_handle(Font::HelveticaBold, None),
                size: Pt(rounded(size)),
            },
        ];
        #[allow(clippy::cast_precision_loss, reason = "a stamp has a handful of lines")]
        let middle = (lines.len() - 1) as f64 / 2.0;
        for (i, line) in lines.into_iter().enumerate() {
            let width = f64::from(metrics::text_width(Font::HelveticaBold, 1.0, &line)) * size;
            // Each line centred on the diagonal, the lines stacked across it; the middle of
            // the text (half its width along, a third of its size across) on the page's
            // centre for a single line.
            #[allow(clippy::cast_precision_loss, reason = "as above")]
            let across = size / 3.0 - (i as f64 - middle) * size * 1.25;
            let x = w / 2.0 - width / 2.0 * cos + across * sin;
            let y = h / 2.0 - width / 2.0 * sin - across * cos;
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Raw([
                    rounded(cos),
                    rounded(sin),
                    rounded(-sin),
                    rounded(cos),
                    rounded(x),
                    rounded(y),
                ]),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(line)],
            });
        }
        ops.extend([Op::EndTextSection, Op::RestoreGraphicsState]);
        for page in &mut self.pages {
            page.graphics();
            page.ops.extend(ops.iter().cloned());
        }
    }

    /// Serializes the canvas into PDF bytes with printpdf's writer (`render/pdf.rs`).
    ///
    /// # Errors
    ///
    /// If `meta.date` is not a real calendar date in years 0-9999, or if printpdf reports
    /// an error while writing the document.
    pub fn into_pdf(self, meta: &DocMeta) -> Result<Vec<u8>, Error> {
        pdf::write(self.pages, self.width_pt, self.height_pt, meta)
    }

    fn pdf_y(&self, y: f32) -> f32 {
        self.height_pt - y
    }

    fn point(&self, x: f32, y: f32) -> LinePoint {
        LinePoint {
            p: Point {
                x: Pt(coord(x)),
                y: Pt(coord(self.pdf_y(y))),
            },
            bezier: false,
        }
    }

    /// The PDF rectangle for a top-left-origin one: PDF anchors it at the bottom-left.
    fn pdf_rect(&self, x: f32, y: f32, w: f32, h: f32, mode: PaintMode) -> Rect {
        Rect {
            x: Pt(coord(x)),
            y: Pt(coord(self.pdf_y(y) - h)),
            width: Pt(coord(w)),
            height: Pt(coord(h)),
            mode: Some(mode),
            winding_order: None,
        }
    }
}

/// The font resource printpdf writes for `font`, or for the embedded `face` standing in
/// for it. The built-in fonts are named by printpdf and measured by [`metrics`]; the
/// embedded faces by a fixed name, under which `render/pdf.rs` adds their subsets.
fn font_handle(font: Font, face: Option<Face>) -> PdfFontHandle {
    if let Some(face) = face {
        return PdfFontHandle::External(FontId(face.resource().to_owned()));
    }
    PdfFontHandle::Builtin(match font {
        Font::Helvetica => BuiltinFont::Helvetica,
        Font::HelveticaBold => BuiltinFont::HelveticaBold,
        Font::Courier => BuiltinFont::Courier,
    })
}

/// A coordinate (already within [`COORD_LIMIT`]) in whole thousandths of a point. The
/// difference of two is exact, and shortest as a decimal: `f32` arithmetic on the points
/// themselves gives offsets such as `-241.24802` that do not add up to where the text
/// belongs.
#[allow(
    clippy::cast_possible_truncation,
    reason = "within ±32767 points, thousandths fit an i32"
)]
fn milli(v: f32) -> i32 {
    (f64::from(v) * 1000.0).round() as i32
}

/// Thousandths of a point as points. The offsets on a page stay under 2^23 thousandths, where
/// every thousandth is the `f32` nearest it and so is written with at most three decimals.
#[allow(
    clippy::cast_possible_truncation,
    reason = "offsets between positions on one page are well inside f32's range"
)]
fn from_milli(v: i32) -> f32 {
    (f64::from(v) / 1000.0) as f32
}

/// Keeps a coordinate finite and within reader limits; NaN becomes 0 so a layout bug
/// shows up as misplaced ink rather than an unreadable file.
fn coord(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(-COORD_LIMIT, COORD_LIMIT)
    } else {
        0.0
    }
}

/// A stamp's geometry, worked out in `f64`, as the `f32` printpdf writes.
#[allow(
    clippy::cast_possible_truncation,
    reason = "page geometry is a few thousand points at most"
)]
fn narrow(v: f64) -> f32 {
    v as f32
}

fn page_dimension(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(MIN_PAGE_PT, MAX_PAGE_PT)
    } else {
        MIN_PAGE_PT
    }
}

/// Invalid widths fall back to 0, which PDF draws as the thinnest visible line.
fn line_width(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(0.0, 1000.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::meta;

    /// The page's content stream as printpdf writes it, uncompressed.
    fn content(canvas: &Canvas, page: usize) -> String {
        let bytes = pdf::content_stream(&canvas.pages[page].ops);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn earlier_pages_can_be_revisited_for_footers() {
        let mut canvas = Canvas::new(612.0, 792.0);
        canvas.new_page();
        let total = canvas.page_count();
        for page in 0..total {
            canvas.set_page(page).unwrap();
            canvas.text_center(
                306.0,
                770.0,
                Font::Helvetica,
                8.0,
                &format!("Page {} of {total}", page + 1),
            );
        }
        assert!(canvas.set_page(total).is_err());
        assert!(content(&canvas, 0).contains("(Page 1 of 2) Tj"));
        assert!(content(&canvas, 1).contains("(Page 2 of 2) Tj"));
    }

    #[test]
    fn text_is_written_as_winansi_with_top_left_origin() {
        let mut canvas = Canvas::new(612.0, 792.0);
        let width = canvas.text(10.0, 100.0, Font::Helvetica, 12.0, "2–8 °C ≥ 5 µg");
        assert_eq!(
            width.to_bits(),
            metrics::text_width(Font::Helvetica, 12.0, "2–8 °C >= 5 µg").to_bits()
        );
        let bytes = pdf::content_stream(&canvas.pages[0].ops);
        // "2–8 °C >= 5 µg" in WinAnsi: en dash 0x96, degree 0xB0, micro 0xB5.
        let hex = "32963820B043203E3D203520B567";
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(&format!("<{hex}> Tj")), "{text}");
        assert!(text.contains("BT\n/F5 12 Tf\n10 692 Td\n"), "{text}");
    }

    #[test]
    fn words_the_builtin_fonts_lack_are_drawn_in_the_embedded_font() {
        let mut canvas = Canvas::new(612.0, 792.0);
        let text = "Patient: Иван Петров";
        let width = canvas.text(10.0, 100.0, Font::HelveticaBold, 10.0, text);
        assert_eq!(
            width.to_bits(),
            metrics::text_width(Font::HelveticaBold, 10.0, text).to_bits()
        );
        let stream = content(&canvas, 0);
        // "Patient: " in Helvetica Bold, each name in DejaVu Sans Bold, the space between
        // them not drawn; each placed where the widths before it end.
        assert!(
            stream.contains("(Patient: ) Tj\n/DejaVuSansBold 10 Tf"),
            "{stream}"
        );
        assert_eq!(stream.matches(" Tj").count(), 3, "{stream}");
        // A Latin-1 line never selects it.
        let mut plain = Canvas::new(612.0, 792.0);
        plain.text(
            10.0,
            100.0,
            Font::HelveticaBold,
            10.0,
            "Patient: Zoë Müller",
        );
        assert!(!content(&plain, 0).contains("DejaVu"));
    }

    #[test]
    fn text_is_placed_by_whole_thousandths_from_the_last_text() {
        let mut canvas = Canvas::new(612.0, 792.0);
        canvas.text(7.2, 10.0, Font::Helvetica, 6.25, "a");
        canvas.text(7.2 + 172.896_01, 10.0, Font::Helvetica, 6.25, "b");
        canvas.text(7.2, 21.2, Font::Helvetica, 6.25, "c");
        let text = content(&canvas, 0);
        assert!(
            text.contains("7.2 782 Td\n(a) Tj\n172.896 0 Td\n"),
            "{text}"
        );
        assert!(text.contains("-172.896 -11.2 Td\n(c) Tj"), "{text}");
    }

    #[test]
    fn right_aligned_text_ends_at_the_given_x() {
        let mut canvas = Canvas::new(612.0, 792.0);
        let width = canvas.text_right(300.0, 50.0, Font::Helvetica, 10.0, "1.25");
        // "1.25": 556 + 278 + 556 + 556 = 1946 units, 19.46 pt at 10 pt.
        assert!((width - 19.46).abs() < 1e-4);
        assert!(content(&canvas, 0).contains("280.54 742 Td"));
    }

    #[test]
    fn rollback_leaves_the_canvas_as_if_nothing_had_been_drawn() {
        // Marks taken after text (a text object that more text reopens), after a stroke
        // and on an empty page; then text, a new font, a line, a fill and a new page are
        // undone.
        let befores: [fn(&mut Canvas); 3] = [
            |c| {
                c.text(10.0, 10.0, Font::Helvetica, 9.0, "a");
            },
            |c| c.line(0.0, 0.0, 10.0, 10.0, 0.5),
            |_| {},
        ];
        for before in befores {
            let after = |c: &mut Canvas| {
                c.text(10.0, 40.0, Font::Helvetica, 9.0, "after");
                c.rect(0.0, 0.0, 5.0, 5.0, 0.6);
            };
            let mut straight = Canvas::new(612.0, 792.0);
            before(&mut straight);
            after(&mut straight);

            let mut detour = Canvas::new(612.0, 792.0);
            before(&mut detour);
            let mark = detour.mark();
            detour.text(10.0, 20.0, Font::HelveticaBold, 12.0, "taken back");
            detour.line(0.0, 0.0, 10.0, 10.0, 2.0);
            detour.fill_rect(0.0, 0.0, 10.0, 10.0, 0.5);
            detour.text(10.0, 30.0, Font::Courier, 9.0, "also");
            detour.new_page();
            detour.text(10.0, 30.0, Font::Helvetica, 9.0, "page 2");
            detour.rollback(mark);
            after(&mut detour);
            // printpdf's `Point` is never equal to another with a zero coordinate, so the
            // pages are compared as printpdf writes them.
            assert_eq!(detour.page_count(), straight.page_count());
            assert_eq!(detour.pages[0].state, straight.pages[0].state);
            assert_eq!(content(&detour, 0), content(&straight, 0));
        }
    }

    #[test]
    fn text_objects_and_state_are_shared_but_the_stream_stays_complete() {
        let mut canvas = Canvas::new(612.0, 792.0);
        canvas.text(10.0, 10.0, Font::Helvetica, 9.0, "a");
        canvas.text(10.0, 20.0, Font::Helvetica, 9.0, "(b)");
        canvas.text(10.0, 30.0, Font::HelveticaBold, 9.0, "c");
        canvas.line(0.0, 0.0, 10.0, 10.0, 0.5);
        canvas.rect(0.0, 0.0, 10.0, 10.0, 0.5);
        canvas.fill_rect(0.0, 0.0, 10.0, 10.0, 0.85);
        canvas.text(10.0, 40.0, Font::HelveticaBold, 9.0, "d");
        assert_eq!(
            content(&canvas, 0),
            "BT\n/F5 9 Tf\n10 782 Td\n(a) Tj\n0 -10 Td\n<286229> Tj\n\
             /F6 9 Tf\n0 -10 Td\n(c) Tj\nET\n0.5 w\n0 792 m\n10 782 l\nS\n\
             0 782 10 10 re\nS\nq\n0.85 g\n0 782 10 10 re\nf\nQ\n\
             BT\n10 752 Td\n(d) Tj\nET\n"
        );
    }

    #[test]
    fn hostile_input_does_not_panic_or_corrupt_the_file() {
        let mut canvas = Canvas::new(f32::NAN, -5.0);
        assert_eq!(
            (canvas.width(), canvas.height()),
            (MIN_PAGE_PT, MIN_PAGE_PT)
        );
        canvas.text(
            f32::NAN,
            f32::INFINITY,
            Font::Helvetica,
            f32::MAX,
            "x\u{0}\n\u{10FFFF}",
        );
        canvas.text(0.0, 0.0, Font::Courier, 12.0, "");
        canvas.text_right(1e30, -1e30, Font::HelveticaBold, -3.0, "y");
        canvas.line(f32::NAN, 0.0, 1.0, 1.0, f32::NAN);
        canvas.rect(0.0, 0.0, f32::INFINITY, 1.0, -1.0);
        canvas.fill_rect(0.0, 0.0, 1.0, 1.0, f32::NAN);
        let text = content(&canvas, 0);
        assert!(!text.contains("NaN"), "{text}");
        assert!(!text.contains("inf"), "{text}");
        assert!(canvas.into_pdf(&meta()).is_ok());
    }
}
