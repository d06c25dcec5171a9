//! A small page-description layer over printpdf for the worksheet and label layouts.
//!
//! Layouts think in points from the top-left corner of the page, like reading order; PDF
//! puts the origin at the bottom-left. The canvas does that conversion in one place, draws
//! only with the built-in fonts measured by [`metrics`], and serializes
//! deterministically so the same batch always produces byte-identical files (reprints can
//! be verified by hash, and golden tests stay stable).

use printpdf::{
    BuiltinFont, Color, Date, Greyscale, Line, LinePoint, Offset, Op, PaintMode, PdfDocument,
    PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, TextItem,
    TextMatrix, Time,
};

use super::metrics::{self, Font};

/// Largest coordinate magnitude written to the PDF. PDF 1.x readers only guarantee reals
/// up to ±32767; clamping keeps a runaway layout value from producing an invalid file.
const COORD_LIMIT: f32 = 32767.0;

/// Page sizes PDF readers accept (PDF 32000-1:2008, Annex C.2).
const MIN_PAGE_PT: f32 = 3.0;
const MAX_PAGE_PT: f32 = 14400.0;

/// Written as the document's Creator and Producer.
const PRODUCER: &str = "troche";

/// Document-level information written into the PDF.
///
/// Everything that would otherwise vary between runs (dates, file identifier) is taken
/// from here, so callers decide what makes two documents "the same".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMeta {
    /// Shown by viewers in place of the file name.
    pub title: String,
    /// Optional description, omitted from the file when `None`.
    pub subject: Option<String>,
    /// Optional author (e.g. the pharmacy), omitted from the file when `None`.
    pub author: Option<String>,
    /// Calendar date `(year, month, day)` used as creation and modification date; the
    /// time of day is written as 00:00:00 UTC.
    pub date: (i32, u8, u8),
    /// Stable identifier of the document's content (for example the batch id and the kind
    /// of document); the PDF file identifier is derived from it.
    pub document_id: String,
}

/// Pages of drawing operations in top-left-origin points, serialized with [`Canvas::to_pdf`].
///
/// All pages share one size. Drawing goes to the current page, which is the newest one
/// unless [`Canvas::set_page`] selected an earlier page, e.g. to add "page n of m"
/// footers once the page count is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    pages: Vec<Vec<Op>>,
    current: usize,
    width_pt: f32,
    height_pt: f32,
}

impl Canvas {
    /// A canvas with one empty page of the given size in points (US Letter is 612 x 792).
    /// Sizes outside what PDF readers accept are clamped into range.
    #[must_use]
    pub fn new(width_pt: f32, height_pt: f32) -> Self {
        Self {
            pages: vec![Vec::new()],
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

    /// Appends an empty page, makes it current and returns its zero-based index.
    pub fn new_page(&mut self) -> usize {
        self.pages.push(Vec::new());
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
    pub fn set_page(&mut self, index: usize) -> Result<(), String> {
        if index >= self.pages.len() {
            return Err(format!(
                "page index {index} is out of range: the canvas has {} page(s)",
                self.pages.len()
            ));
        }
        self.current = index;
        Ok(())
    }

    /// Draws `text` with its baseline starting at (`x`, `y`) and returns its width.
    ///
    /// The text is converted with [`metrics::to_winansi`] and drawn on one line (line
    /// breaks become spaces; use [`Canvas::paragraph`] for wrapped text). The returned
    /// width is [`metrics::text_width`] of the same text, so callers can place what
    /// follows.
    pub fn text(&mut self, x: f32, y: f32, font: Font, size_pt: f32, text: &str) -> f32 {
        let line = metrics::single_line(text);
        let size = metrics::clamp_size(size_pt);
        let width = metrics::text_width(font, size, &line);
        if line.is_empty() || size == 0.0 {
            return width;
        }
        let (x, y) = (coord(x), coord(self.pdf_y(y)));
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(builtin(font)),
                size: Pt(size),
            },
            Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x), Pt(y)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(line)],
            },
            Op::EndTextSection,
        ]);
        width
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
        let width = metrics::text_width(font, size_pt, text);
        self.text(x_right - width, y, font, size_pt, text)
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
        let width = metrics::text_width(font, size_pt, text);
        self.text(x_center - width / 2.0, y, font, size_pt, text)
    }

    /// Draws `text` word-wrapped to `max_width_pt` (see [`metrics::wrap`]), the first
    /// baseline at `y` and each further line `leading_pt` lower. Returns the baseline the
    /// next line would have, so layouts can continue below the paragraph.
    #[expect(
        clippy::too_many_arguments,
        reason = "a paragraph needs position, font, size, leading, width and text"
    )]
    pub fn paragraph(
        &mut self,
        x: f32,
        y: f32,
        font: Font,
        size_pt: f32,
        leading_pt: f32,
        max_width_pt: f32,
        text: &str,
    ) -> f32 {
        let mut baseline = y;
        for line in metrics::wrap(font, size_pt, text, max_width_pt) {
            self.text(x, baseline, font, size_pt, &line);
            baseline += leading_pt;
        }
        baseline
    }

    /// Strokes a straight line `width_pt` thick.
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width_pt: f32) {
        let from = self.point(x1, y1);
        let to = self.point(x2, y2);
        let line = Line {
            points: vec![
                LinePoint {
                    p: from,
                    bezier: false,
                },
                LinePoint {
                    p: to,
                    bezier: false,
                },
            ],
            is_closed: false,
        };
        self.ops().extend([
            Op::SaveGraphicsState,
            Op::SetOutlineThickness {
                pt: Pt(line_width(width_pt)),
            },
            Op::DrawLine { line },
            Op::RestoreGraphicsState,
        ]);
    }

    /// Strokes the outline of the rectangle whose top-left corner is (`x`, `y`).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, line_width_pt: f32) {
        let rectangle = self.pdf_rect(x, y, w, h, PaintMode::Stroke);
        self.ops().extend([
            Op::SaveGraphicsState,
            Op::SetOutlineThickness {
                pt: Pt(line_width(line_width_pt)),
            },
            Op::DrawRectangle { rectangle },
            Op::RestoreGraphicsState,
        ]);
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
        self.ops().extend([
            Op::SaveGraphicsState,
            Op::SetFillColor {
                col: Color::Greyscale(Greyscale::new(gray, None)),
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
            let (l, t, r, b) = (x + inset, y + inset, x + size - inset, y + size - inset);
            self.line(l, t, r, b, 1.0);
            self.line(l, b, r, t, 1.0);
        }
    }

    /// Serializes the canvas into PDF bytes.
    ///
    /// The output depends only on the drawing operations and `meta`: dates and the file
    /// identifier come from `meta`, and streams are Flate-compressed, which is itself
    /// deterministic.
    ///
    /// # Errors
    ///
    /// If `meta.date` is not a real calendar date in years 0-9999, or if printpdf reports
    /// an error while building the document.
    pub fn to_pdf(&self, meta: &DocMeta) -> Result<Vec<u8>, String> {
        self.serialize(meta, true)
    }

    fn serialize(&self, meta: &DocMeta, compress: bool) -> Result<Vec<u8>, String> {
        let date = pdf_date(meta.date)?;
        let mut doc = PdfDocument::new(&meta.title);
        let info = &mut doc.metadata.info;
        info.creation_date = date;
        info.modification_date = date;
        info.metadata_date = date;
        info.author = meta.author.clone().unwrap_or_default();
        info.subject = meta.subject.clone().unwrap_or_default();
        info.creator = PRODUCER.to_owned();
        info.producer = PRODUCER.to_owned();
        info.identifier = meta.document_id.clone();

        let size = Rect::from_wh(Pt(self.width_pt), Pt(self.height_pt));
        doc.with_pages(
            self.pages
                .iter()
                .map(|ops| PdfPage {
                    media_box: size.clone(),
                    trim_box: size.clone(),
                    crop_box: size.clone(),
                    ops: ops.clone(),
                })
                .collect(),
        );

        // Compression is applied below, after the identifier is fixed; fonts are never
        // embedded (built-ins only) and there are no images, so the other options are moot.
        let options = PdfSaveOptions {
            optimize: false,
            subset_fonts: false,
            secure: true,
            image_optimization: None,
        };
        let mut warnings = Vec::new();
        let mut pdf = doc.to_lopdf_document(&options, &mut warnings);
        let errors: Vec<String> = warnings
            .into_iter()
            .filter(|w| w.severity == PdfParseErrorSeverity::Error)
            .map(|w| w.msg)
            .collect();
        if !errors.is_empty() {
            return Err(format!("PDF serialization failed: {}", errors.join("; ")));
        }

        // printpdf fills the trailer /ID with strings from a process-global counter, so
        // two identical documents would differ; replace both halves (original and
        // current identifier, equal for a newly written file) with a hash of the id.
        let file_id = file_identifier(&meta.document_id).into_bytes();
        let ids = pdf
            .trailer
            .get_mut(b"ID")
            .and_then(|ids| ids.as_array_mut())
            .map_err(|e| format!("PDF trailer has no /ID array: {e}"))?;
        for id in ids.iter_mut() {
            *id.as_str_mut()
                .map_err(|e| format!("PDF trailer /ID entry is not a string: {e}"))? =
                file_id.clone();
        }

        // printpdf always writes /GTS_PDFXVersion, even empty, which makes readers report
        // the file as PDF/X; it is not. Empty optional entries are dropped as noise.
        let info_id = pdf
            .trailer
            .get(b"Info")
            .and_then(|info| info.as_reference())
            .map_err(|e| format!("PDF trailer has no /Info reference: {e}"))?;
        let info = pdf
            .get_object_mut(info_id)
            .and_then(|info| info.as_dict_mut())
            .map_err(|e| format!("PDF /Info is not a dictionary: {e}"))?;
        info.remove(b"GTS_PDFXVersion");
        for key in [b"Author".as_slice(), b"Subject", b"Keywords"] {
            if info
                .get(key)
                .and_then(|v| v.as_str())
                .is_ok_and(<[u8]>::is_empty)
            {
                info.remove(key);
            }
        }

        if compress {
            pdf.compress();
        }
        let mut bytes = Vec::new();
        pdf.save_to(&mut bytes)
            .map_err(|e| format!("writing the PDF failed: {e}"))?;
        Ok(bytes)
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.pages[self.current]
    }

    fn pdf_y(&self, y: f32) -> f32 {
        self.height_pt - y
    }

    fn point(&self, x: f32, y: f32) -> Point {
        Point {
            x: Pt(coord(x)),
            y: Pt(coord(self.pdf_y(y))),
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

fn builtin(font: Font) -> BuiltinFont {
    match font {
        Font::Helvetica => BuiltinFont::Helvetica,
        Font::HelveticaBold => BuiltinFont::HelveticaBold,
        Font::Courier => BuiltinFont::Courier,
    }
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

/// The calendar date as printpdf's date type, rejecting dates a PDF date string
/// (`D:YYYYMMDD...`) cannot hold or that do not exist.
fn pdf_date((year, month, day): (i32, u8, u8)) -> Result<printpdf::DateTime, String> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if !(0..=9999).contains(&year) || day == 0 || day > days_in_month {
        return Err(format!(
            "invalid document date {year:04}-{month:02}-{day:02}"
        ));
    }
    Ok(printpdf::DateTime::new_in_offset(
        Date { year, month, day },
        Time {
            hour: 0,
            minute: 0,
            second: 0,
            millisecond: 0,
        },
        Offset {
            hours: 0,
            minutes: 0,
            seconds: 0,
            milliseconds: 0,
        },
    ))
}

/// 32 hex digits of the 128-bit FNV-1a hash of `document_id`: stable across platforms
/// and Rust releases (unlike `std`'s hashers), and printable in a literal PDF string.
fn file_identifier(document_id: &str) -> String {
    const OFFSET_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = document_id.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    });
    format!("{hash:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> DocMeta {
        DocMeta {
            title: "Worksheet ± µg".to_owned(),
            subject: Some("Batch 2025-001".to_owned()),
            author: None,
            date: (2025, 3, 14),
            document_id: "batch-2025-001/worksheet".to_owned(),
        }
    }

    fn sample() -> Canvas {
        let mut canvas = Canvas::new(612.0, 792.0);
        canvas.text(
            72.0,
            72.0,
            Font::HelveticaBold,
            14.0,
            "Compounding worksheet",
        );
        canvas.text_right(540.0, 100.0, Font::Helvetica, 10.0, "± 12.50 µg 2–8 °C");
        canvas.line(72.0, 110.0, 540.0, 110.0, 0.5);
        canvas.rect(72.0, 120.0, 200.0, 40.0, 1.0);
        canvas.fill_rect(72.0, 170.0, 200.0, 20.0, 0.85);
        canvas.checkbox(300.0, 120.0, 10.0, true);
        canvas.new_page();
        canvas.text(72.0, 72.0, Font::Courier, 9.0, "Lot 42");
        canvas
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn identical_input_gives_identical_bytes() {
        let canvas = sample();
        let first = canvas.to_pdf(&meta()).unwrap();
        let second = canvas.to_pdf(&meta()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first, sample().to_pdf(&meta()).unwrap());
        assert!(first.starts_with(b"%PDF-"));
    }

    #[test]
    fn metadata_comes_from_doc_meta() {
        let bytes = sample().to_pdf(&meta()).unwrap();
        assert!(contains(&bytes, b"(D:20250314000000+00'00')"));
        assert!(
            !contains(&bytes, b"GTS_PDFXVersion"),
            "must not claim PDF/X"
        );
        assert!(!contains(&bytes, b"/Author"), "empty author is omitted");
        let id = file_identifier("batch-2025-001/worksheet");
        assert!(contains(&bytes, format!("/ID[({id})({id})]").as_bytes()));
        let mut other = meta();
        other.document_id = "batch-2025-002/worksheet".to_owned();
        assert_ne!(bytes, sample().to_pdf(&other).unwrap());
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for date in [
            (2025, 2, 29),
            (2025, 13, 1),
            (2025, 4, 31),
            (2025, 1, 0),
            (-1, 1, 1),
        ] {
            let mut m = meta();
            m.date = date;
            assert!(sample().to_pdf(&m).is_err(), "{date:?}");
        }
        let mut m = meta();
        m.date = (2024, 2, 29);
        assert!(sample().to_pdf(&m).is_ok());
    }

    #[test]
    fn page_tree_counts_every_page() {
        let mut canvas = sample();
        canvas.new_page();
        assert_eq!(canvas.page_count(), 3);
        let bytes = canvas.to_pdf(&meta()).unwrap();
        assert!(contains(&bytes, b"/Type/Pages/Count 3"));
        assert_eq!(
            bytes
                .windows(b"/Type/Page/".len())
                .filter(|w| w == b"/Type/Page/")
                .count(),
            3
        );
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
        let bytes = canvas.serialize(&meta(), false).unwrap();
        assert!(contains(&bytes, b"(Page 1 of 2) Tj"));
        assert!(contains(&bytes, b"(Page 2 of 2) Tj"));
    }

    #[test]
    fn text_is_written_as_winansi_with_top_left_origin() {
        let mut canvas = Canvas::new(612.0, 792.0);
        let width = canvas.text(10.0, 100.0, Font::Helvetica, 12.0, "2–8 °C ≥ 5 µg");
        assert_eq!(
            width,
            metrics::text_width(Font::Helvetica, 12.0, "2–8 °C >= 5 µg")
        );
        let bytes = canvas.serialize(&meta(), false).unwrap();
        // "2–8 °C >= 5 µg" in WinAnsi: en dash 0x96, degree 0xB0, micro 0xB5.
        assert!(contains(&bytes, b"<32963820B043203E3D203520B567> Tj"));
        assert!(contains(&bytes, b"/Encoding/WinAnsiEncoding"));
        assert!(contains(&bytes, b"1 0 0 1 10 692 Tm"));
    }

    #[test]
    fn right_aligned_text_ends_at_the_given_x() {
        let mut canvas = Canvas::new(612.0, 792.0);
        let width = canvas.text_right(300.0, 50.0, Font::Helvetica, 10.0, "1.25");
        // "1.25": 556 + 278 + 556 + 556 = 1946 units, 19.46 pt at 10 pt.
        assert!((width - 19.46).abs() < 1e-4);
        let bytes = canvas.serialize(&meta(), false).unwrap();
        assert!(contains(&bytes, b"1 0 0 1 280.54 742 Tm"));
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
        canvas.paragraph(0.0, 0.0, Font::Helvetica, 10.0, 12.0, f32::NAN, "a b");
        canvas.line(f32::NAN, 0.0, 1.0, 1.0, f32::NAN);
        canvas.rect(0.0, 0.0, f32::INFINITY, 1.0, -1.0);
        canvas.fill_rect(0.0, 0.0, 1.0, 1.0, f32::NAN);
        let bytes = canvas.serialize(&meta(), false).unwrap();
        assert!(!contains(&bytes, b"NaN"));
        assert!(!contains(&bytes, b"inf"));
    }
}
