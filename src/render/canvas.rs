//! A small page-description layer over printpdf for the worksheet and label layouts.
//!
//! Layouts think in points from the top-left corner of the page, like reading order; PDF
//! puts the origin at the bottom-left. The canvas does that conversion in one place, draws
//! only with the built-in fonts measured by [`metrics`], and serializes
//! deterministically so the same batch always produces byte-identical files (reprints can
//! be verified by hash, and golden tests stay stable).
//!
//! Drawing appends PDF content-stream operators to the page directly, in the same form
//! printpdf writes them (`1 0 0 1 x y Tm`, `(text) Tj`, `x y w h re`, numbers as the
//! shortest decimal that reads back as the same `f32`), but without printpdf's
//! per-operation wrapping: consecutive text shares one text object, and the font and line
//! width are set only when they change. A worksheet has thousands of operations, and
//! building each as a printpdf `Op`, translating it to lopdf objects and formatting it
//! again was most of the cost of a document. printpdf still builds the document around
//! the streams (catalog, page tree, font resources, metadata), flate2 (with the zlib-rs
//! backend, a fast level) compresses the page streams, and lopdf's writer writes the file.

use std::cell::RefCell;

use printpdf::{
    BuiltinFont, Date, Offset, Op, PdfDocument, PdfFontHandle, PdfPage, PdfParseErrorSeverity,
    PdfSaveOptions, Pt, Rect, Time,
};

use lopdf::{Object, StringFormat};

use super::metrics::{self, Font};

/// Largest coordinate magnitude written to the PDF. PDF 1.x readers only guarantee reals
/// up to ±32767; clamping keeps a runaway layout value from producing an invalid file.
const COORD_LIMIT: f32 = 32767.0;

/// Page sizes PDF readers accept (PDF 32000-1:2008, Annex C.2).
const MIN_PAGE_PT: f32 = 3.0;
const MAX_PAGE_PT: f32 = 14400.0;

/// Written as the document's Creator and Producer.
const PRODUCER: &str = "troche";

/// Every font a canvas can draw with, in the order their resources are declared.
const FONTS: [Font; 3] = [Font::Helvetica, Font::HelveticaBold, Font::Courier];

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
    pages: Vec<Page>,
    current: usize,
    width_pt: f32,
    height_pt: f32,
    /// Which of [`FONTS`] have been drawn with, so that only those are declared.
    fonts_used: [bool; 3],
}

/// One page's content stream and the graphics state at its end.
#[derive(Debug, Clone, PartialEq, Default)]
struct Page {
    /// Content-stream operators, each followed by a line break. Always a complete
    /// stream: a text object is closed after every text, and reopened by dropping that
    /// `ET` when more text follows directly.
    content: Vec<u8>,
    /// Whether `content` ends with the `ET` of a text object that may be reopened.
    text_closed_at_end: bool,
    /// Font and size last selected with `Tf`. The text state outlives text objects, and
    /// nothing selects a font inside a saved graphics state, so it stays valid.
    font: Option<(Font, f32)>,
    /// Line width last set with `w`, `None` until the first stroke.
    line_width: Option<f32>,
}

const END_TEXT: &[u8] = b"ET\n";

/// A state of a canvas that drawing can be taken back to (see [`Canvas::rollback`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pages: usize,
    current: usize,
    len: usize,
    /// Whether the content ended with a text object's `ET`, which drawing more text removes
    /// (to continue the object), so that it must be put back.
    ended_with_text: bool,
    text_closed_at_end: bool,
    font: Option<(Font, f32)>,
    line_width: Option<f32>,
    fonts_used: [bool; 3],
}

impl Page {
    /// An empty page with room for a typical worksheet page's stream (7 to 10 KB), which
    /// otherwise grows by copying itself a dozen times.
    fn new() -> Self {
        Page {
            content: Vec::with_capacity(12 * 1024),
            ..Page::default()
        }
    }

    /// Continues the text object that the content ends with, or begins one.
    fn begin_text(&mut self) {
        if self.text_closed_at_end && self.content.ends_with(END_TEXT) {
            self.content.truncate(self.content.len() - END_TEXT.len());
        } else {
            self.content.extend_from_slice(b"BT\n");
        }
        self.text_closed_at_end = false;
    }

    fn end_text(&mut self) {
        self.content.extend_from_slice(END_TEXT);
        self.text_closed_at_end = true;
    }

    /// Prepares a stroke `width` points wide.
    fn stroke_width(&mut self, width: f32) {
        self.text_closed_at_end = false;
        if self.line_width != Some(width) {
            push_num(&mut self.content, width);
            self.content.extend_from_slice(b" w\n");
            self.line_width = Some(width);
        }
    }

    /// Appends `numbers` separated by spaces, then `operator` and a line break.
    fn op(&mut self, numbers: &[f32], operator: &[u8]) {
        for &n in numbers {
            push_num(&mut self.content, n);
            self.content.push(b' ');
        }
        self.content.extend_from_slice(operator);
        self.content.push(b'\n');
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
            fonts_used: [false; 3],
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
            len: page.content.len(),
            ended_with_text: page.text_closed_at_end && page.content.ends_with(END_TEXT),
            text_closed_at_end: page.text_closed_at_end,
            font: page.font,
            line_width: page.line_width,
            fonts_used: self.fonts_used,
        }
    }

    /// Takes back everything drawn since `mark` was taken, pages added since included, so
    /// that the canvas is as it was then. Drawing only ever appends to the current page,
    /// apart from reopening a text object by dropping its final `ET`, which is restored.
    pub fn rollback(&mut self, mark: Mark) {
        self.pages.truncate(mark.pages.max(1));
        self.current = mark.current.min(self.pages.len() - 1);
        self.fonts_used = mark.fonts_used;
        let page = &mut self.pages[self.current];
        if mark.ended_with_text {
            page.content
                .truncate(mark.len.saturating_sub(END_TEXT.len()));
            page.content.extend_from_slice(END_TEXT);
        } else {
            page.content.truncate(mark.len);
        }
        page.text_closed_at_end = mark.text_closed_at_end;
        page.font = mark.font;
        page.line_width = mark.line_width;
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
        let (x, y) = (coord(x_for(width)), coord(self.pdf_y(y)));
        self.fonts_used[font_index(font)] = true;
        let page = &mut self.pages[self.current];
        // Operators and numbers take well under 64 bytes; escaped text at most four per byte.
        page.content.reserve(64 + 4 * line.len());
        page.begin_text();
        if page.font != Some((font, size)) {
            page.content.push(b'/');
            page.content
                .extend_from_slice(builtin(font).get_pdf_id().as_bytes());
            page.content.push(b' ');
            page.op(&[size], b"Tf");
            page.font = Some((font, size));
        }
        page.content.extend_from_slice(b"1 0 0 1 ");
        page.op(&[x, y], b"Tm");
        push_string(&mut page.content, &line);
        page.content.extend_from_slice(b" Tj\n");
        page.end_text();
        width
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
        let (x1, y1) = (coord(x1), coord(self.pdf_y(y1)));
        let (x2, y2) = (coord(x2), coord(self.pdf_y(y2)));
        let page = &mut self.pages[self.current];
        page.stroke_width(line_width(width_pt));
        page.op(&[x1, y1], b"m");
        page.op(&[x2, y2], b"l");
        page.op(&[], b"S");
    }

    /// Strokes the outline of the rectangle whose top-left corner is (`x`, `y`).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, line_width_pt: f32) {
        let rectangle = self.pdf_rect(x, y, w, h);
        let page = &mut self.pages[self.current];
        page.stroke_width(line_width(line_width_pt));
        page.op(&rectangle, b"re");
        page.op(&[], b"S");
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
        let rectangle = self.pdf_rect(x, y, w, h);
        let page = &mut self.pages[self.current];
        page.text_closed_at_end = false;
        // The fill color is saved and restored around the fill, so text stays black.
        page.op(&[], b"q");
        page.op(&[gray], b"g");
        page.op(&rectangle, b"re");
        page.op(&[], b"f");
        page.op(&[], b"Q");
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

    /// Serializes the canvas into PDF bytes.
    ///
    /// The output depends only on the drawing operations and `meta`: dates and the file
    /// identifier come from `meta`, and streams are Flate-compressed by flate2, which is
    /// itself deterministic for a given level and backend.
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
        PRODUCER.clone_into(&mut info.creator);
        PRODUCER.clone_into(&mut info.producer);
        info.identifier.clone_from(&meta.document_id);

        // printpdf declares a font resource for every font an operation selects; the
        // first page selects the fonts drawn with, and its stream is replaced below
        // like every other page's.
        let font_ops: Vec<Op> = FONTS
            .iter()
            .filter(|f| self.fonts_used[font_index(**f)])
            .map(|f| Op::SetFont {
                font: PdfFontHandle::Builtin(builtin(*f)),
                size: Pt(1.0),
            })
            .collect();
        let size = Rect::from_wh(Pt(self.width_pt), Pt(self.height_pt));
        let mut pages = Vec::with_capacity(self.pages.len());
        for index in 0..self.pages.len() {
            pages.push(PdfPage {
                media_box: size.clone(),
                trim_box: size.clone(),
                crop_box: size.clone(),
                ops: if index == 0 {
                    font_ops.clone()
                } else {
                    Vec::new()
                },
            });
        }
        doc.with_pages(pages);

        // Fonts are never embedded (built-ins only) and there are no images, so the
        // other options are moot; streams are compressed below.
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
            id.as_str_mut()
                .map_err(|e| format!("PDF trailer /ID entry is not a string: {e}"))?
                .clone_from(&file_id);
        }

        // printpdf always writes /GTS_PDFXVersion, even empty, which makes readers report
        // the file as PDF/X; it is not. Empty optional entries are dropped as noise.
        let no_info = |e| format!("PDF trailer has no /Info reference: {e}");
        let info_id = pdf
            .trailer
            .get(b"Info")
            .map_err(no_info)?
            .as_reference()
            .map_err(no_info)?;
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
        // printpdf writes the text entries as UTF-16 hexadecimal strings; as literal strings
        // (plain ASCII where the text is ASCII) they read the same, and a reader of the raw
        // file can read them too.
        for key in [
            b"Title".as_slice(),
            b"Author",
            b"Subject",
            b"Creator",
            b"Producer",
        ] {
            let Ok(bytes) = info.get(key).and_then(|v| v.as_str()) else {
                continue;
            };
            let literal = Object::String(plain_text_string(bytes), StringFormat::Literal);
            info.set(key, literal);
        }

        let page_ids = pdf.get_pages();
        if page_ids.len() != self.pages.len() {
            return Err(format!(
                "PDF page tree has {} pages instead of {}",
                page_ids.len(),
                self.pages.len()
            ));
        }
        for (page, page_id) in self.pages.iter().zip(page_ids.into_values()) {
            let no_contents = |e| format!("PDF page has no content stream: {e}");
            let contents = pdf
                .get_object(page_id)
                .and_then(|p| p.as_dict())
                .and_then(|p| p.get(b"Contents"))
                .map_err(no_contents)?
                .as_reference()
                .map_err(no_contents)?;
            let stream = pdf
                .get_object_mut(contents)
                .and_then(|c| c.as_stream_mut())
                .map_err(|e| format!("PDF page contents are not a stream: {e}"))?;
            let content = &page.content;
            // As lopdf's own compression: keep a stream that would not shrink as it is.
            let packed = compress
                .then(|| zlib(content))
                .transpose()?
                .filter(|packed| packed.len() + 19 < content.len());
            match packed {
                Some(packed) => {
                    stream.dict.set("Filter", "FlateDecode");
                    stream.set_content(packed);
                }
                None => stream.set_content(content.clone()),
            }
        }

        let mut out =
            Vec::with_capacity(self.pages.iter().map(|p| p.content.len()).sum::<usize>() + 4096);
        pdf.save_to(&mut out)
            .map_err(|e| format!("the PDF could not be written: {e}"))?;
        Ok(out)
    }

    fn pdf_y(&self, y: f32) -> f32 {
        self.height_pt - y
    }

    /// The PDF rectangle (`x y width height`) for a top-left-origin one: PDF anchors it
    /// at the bottom-left.
    fn pdf_rect(&self, x: f32, y: f32, w: f32, h: f32) -> [f32; 4] {
        [coord(x), coord(self.pdf_y(y) - h), coord(w), coord(h)]
    }
}

fn builtin(font: Font) -> BuiltinFont {
    match font {
        Font::Helvetica => BuiltinFont::Helvetica,
        Font::HelveticaBold => BuiltinFont::HelveticaBold,
        Font::Courier => BuiltinFont::Courier,
    }
}

fn font_index(font: Font) -> usize {
    match font {
        Font::Helvetica => 0,
        Font::HelveticaBold => 1,
        Font::Courier => 2,
    }
}

/// A PDF text string (UTF-16BE with byte order mark, as printpdf writes it) as ASCII
/// bytes when it is printable ASCII, which `PDFDocEncoding` reads the same; otherwise
/// unchanged.
fn plain_text_string(utf16: &[u8]) -> Vec<u8> {
    let Some(units) = utf16.strip_prefix(&[0xFE, 0xFF]) else {
        return utf16.to_vec();
    };
    let ascii: Option<Vec<u8>> = units
        .chunks(2)
        .map(|unit| match unit {
            [0, b @ b' '..=b'~'] => Some(*b),
            _ => None,
        })
        .collect();
    ascii.unwrap_or_else(|| utf16.to_vec())
}

/// Appends already-converted text (see [`metrics::to_winansi`]) as a PDF literal string of
/// `WinAnsi` bytes. `(`, `)` and `\` are escaped with a backslash and bytes outside printable
/// ASCII written as three octal digits (PDF 32000-1, 7.3.4.2). A hexadecimal string would
/// double every byte of the line for one `×`, and the content streams are compressed on
/// every document.
fn push_string(out: &mut Vec<u8>, converted: &str) {
    out.push(b'(');
    let bytes = converted.as_bytes();
    if literal_as_is(bytes) {
        out.extend_from_slice(bytes);
    } else {
        for c in converted.chars() {
            // Converted text holds WinAnsi characters only; anything else would be printpdf's
            // `?` fallback.
            match metrics::win_ansi_byte(c).unwrap_or(b'?') {
                b @ (b'(' | b')' | b'\\') => out.extend_from_slice(&[b'\\', b]),
                b @ b' '..=b'~' => out.push(b),
                b => out.extend_from_slice(&[
                    b'\\',
                    b'0' + (b >> 6),
                    b'0' + ((b >> 3) & 7),
                    b'0' + (b & 7),
                ]),
            }
        }
    }
    out.push(b')');
}

/// Whether `bytes` go into a literal string unchanged: printable ASCII without `(`, `)` or
/// `\`. Eight bytes are tested at once, as most text passes.
fn literal_as_is(bytes: &[u8]) -> bool {
    use metrics::{HIGH, ONES, unprintable};
    // Nonzero if and only if a byte of `w` is `b` (a borrow only crosses from a zero byte).
    let has = |w: u64, b: u8| {
        let x = w ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    let plain = |b: u8| (b' '..=b'~').contains(&b) && !matches!(b, b'(' | b')' | b'\\');
    let (words, rest) = bytes.as_chunks::<8>();
    words
        .iter()
        .map(|w| u64::from_le_bytes(*w))
        .all(|w| unprintable(w) | has(w, b'(') | has(w, b')') | has(w, b'\\') == 0)
        && rest.iter().all(|&b| plain(b))
}

/// A zlib stream of `bytes` at flate2's fastest level: page content is small and mostly
/// repeated operators, where higher levels gain a few bytes for several times the work.
fn zlib(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Write as _;
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 3 + 64),
        flate2::Compression::fast(),
    );
    e.write_all(bytes)
        .and_then(|()| e.finish())
        .map_err(|e| format!("a page could not be compressed: {e}"))
}

/// Slots of the per-thread cache of formatted numbers (see [`push_num`]).
const NUMBER_SLOTS: usize = 1024;

/// A formatted number: the `f32` bits, the length (0 for an empty slot) and the text.
type NumberSlot = (u32, u8, [u8; 15]);

thread_local! {
    static NUMBERS: RefCell<Vec<NumberSlot>> = const { RefCell::new(Vec::new()) };
}

/// Appends `v` as a PDF number exactly as Rust's `Display` (and so lopdf) writes an
/// `f32` (see [`format_num`]).
///
/// Layouts repeat the same coordinates and sizes over and over, within a document and
/// from one document to the next, so recent results are remembered per thread. The cache
/// only saves work: the bytes are those [`format_num`] writes.
pub(super) fn push_num(out: &mut Vec<u8>, v: f32) {
    let bits = v.to_bits();
    NUMBERS.with_borrow_mut(|slots| {
        if slots.is_empty() {
            slots.resize(NUMBER_SLOTS, (0, 0, [0; 15]));
        }
        let index = (bits.wrapping_mul(0x9E37_79B1) >> 22) as usize % NUMBER_SLOTS;
        let Some(slot) = slots.get_mut(index) else {
            format_num(out, v);
            return;
        };
        let (key, len, text) = slot;
        if *len > 0 && *key == bits {
            out.extend_from_slice(&text[..usize::from(*len)]);
            return;
        }
        let start = out.len();
        format_num(out, v);
        let written = &out[start..];
        if let (Ok(n @ 1..=15), Some(dst)) =
            (u8::try_from(written.len()), text.get_mut(..written.len()))
        {
            dst.copy_from_slice(written);
            (*key, *len) = (bits, n);
        }
    });
}

/// Appends `v` as a PDF number exactly as Rust's `Display` (and so lopdf) writes an
/// `f32`: the shortest decimal that reads back as the same value, never an exponent.
///
/// Layout coordinates are integers or short decimals within ±32767, so the shortest
/// decimal is found directly with exact `f64` arithmetic; anything else (and a tie
/// between two equally short, equally close decimals) goes through `Display`.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::float_cmp,
    reason = "exact arithmetic: every value is non-negative, below 2^53 and compared exactly \
              on purpose; checked against Display over all f32 values below 33000"
)]
fn format_num(out: &mut Vec<u8>, v: f32) {
    use std::io::Write as _;
    const POW10: [f64; 9] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
    // Integer conversions instead of `ceil`/`floor`, which are library calls on the
    // baseline x86-64 target; every value here is positive and below 2^53.
    let floor = |x: f64| x as u64;
    let ceil = |x: f64| {
        let t = x as u64;
        if (t as f64) < x { t + 1 } else { t }
    };
    let a = v.abs();
    if v.is_finite() && a < 1e7 {
        if (a as u32) as f32 == a {
            if v.is_sign_negative() {
                out.push(b'-');
            }
            push_uint(out, u64::from(a as u32), 0);
            return;
        }
        let bits = a.to_bits();
        let x = f64::from(a);
        // Every decimal strictly between the midpoints to the neighbouring f32 values
        // reads back as `a`; a midpoint itself rounds to the even neighbour.
        let low = f64::midpoint(x, f64::from(f32::from_bits(bits - 1)));
        let high = f64::midpoint(x, f64::from(f32::from_bits(bits + 1)));
        let even = bits & 1 == 0;
        for (k, &scale) in POW10.iter().enumerate().skip(1) {
            // Exact: the factors have at most 25 and 27 significant bits.
            let (lo, hi, target) = (low * scale, high * scale, x * scale);
            let first = if even || floor(lo) as f64 != lo {
                ceil(lo)
            } else {
                floor(lo) + 1
            };
            let last = if even || floor(hi) as f64 != hi {
                floor(hi)
            } else {
                floor(hi) - 1
            };
            if first > last {
                continue;
            }
            let whole = floor(target);
            let frac = target - whole as f64;
            if frac == 0.5 && first < last {
                break; // two closest candidates: let Display choose
            }
            let nearest = if frac > 0.5 { whole + 1 } else { whole };
            if v.is_sign_negative() {
                out.push(b'-');
            }
            push_uint(out, nearest.clamp(first, last), k);
            return;
        }
    }
    let _ = write!(out, "{v}");
}

/// Appends `digits / 10^decimals` with exactly the significant decimals (trailing zeros
/// dropped, no point for an integer).
pub(super) fn push_uint(out: &mut Vec<u8>, digits: u64, decimals: usize) {
    let (mut n, mut decimals) = (digits, decimals);
    while decimals > 0 && n % 10 == 0 {
        n /= 10;
        decimals -= 1;
    }
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    for _ in 0..decimals {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if decimals > 0 {
        i -= 1;
        buf[i] = b'.';
    }
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
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
            width.to_bits(),
            metrics::text_width(Font::Helvetica, 12.0, "2–8 °C >= 5 µg").to_bits()
        );
        let bytes = canvas.serialize(&meta(), false).unwrap();
        // "2–8 °C >= 5 µg" in WinAnsi: en dash 0x96, degree 0xB0, micro 0xB5, in octal.
        assert!(contains(&bytes, br"(2\2268 \260C >= 5 \265g) Tj"));
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

    /// Every number must read back as the same f32, written as lopdf would write it.
    #[test]
    fn numbers_are_written_as_display_writes_them() {
        let mut values: Vec<f32> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.1,
            0.85,
            0.75,
            1e-3,
            1e-9,
            7.5e-5,
            111.274_994,
            127.67999,
            280.54,
            32767.0,
            -32767.0,
            1e7,
            12_345_678.0,
            f32::MIN_POSITIVE,
        ];
        for i in 0..20_000_u16 {
            let i = f32::from(i);
            values.push(i / 100.0);
            values.push(i * 0.001 - 3.0);
            values.push(792.0 - i * 0.85);
        }
        let mut x: u32 = 12345;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let v = f32::from_bits(x);
            if v.is_finite() {
                values.push(v);
                values.push(v % 33000.0);
            }
        }
        for v in values {
            let mut out = Vec::new();
            format_num(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{v}"), "{v:e}");
            // Twice through the cache: a miss, then (if it fitted) a hit.
            for _ in 0..2 {
                let mut out = Vec::new();
                push_num(&mut out, v);
                assert_eq!(String::from_utf8(out).unwrap(), format!("{v}"), "{v:e}");
            }
        }
    }

    #[test]
    fn literal_as_is_agrees_with_the_byte_by_byte_rule() {
        let plain = |b: u8| (b' '..=b'~').contains(&b) && !matches!(b, b'(' | b')' | b'\\');
        // Every byte in every position of a 17-byte string (two words and a remainder),
        // the rest printable, and runs of neighbours that could borrow or carry.
        for b in 0..=255u8 {
            for at in 0..17 {
                let mut text = *b"Estriol 1.6 mg pe";
                text[at] = b;
                assert_eq!(literal_as_is(&text), plain(b), "byte {b:#04x} at {at}");
                if at > 0 {
                    text[at - 1] = 0xFF;
                    assert!(!literal_as_is(&text));
                    text[at - 1] = 0x00;
                    assert!(!literal_as_is(&text));
                }
            }
        }
        assert!(literal_as_is(b""));
    }

    #[test]
    fn rollback_leaves_the_canvas_as_if_nothing_had_been_drawn() {
        // Marks taken after text (an `ET` that more text reopens), after a stroke and on
        // an empty page; then text, a new font, a line, a fill and a new page are undone.
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
            assert_eq!(detour, straight);
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
        let content = String::from_utf8_lossy(&canvas.pages[0].content).into_owned();
        assert_eq!(
            content,
            "BT\n/F5 9 Tf\n1 0 0 1 10 782 Tm\n(a) Tj\n1 0 0 1 10 772 Tm\n(\\(b\\)) Tj\n\
             /F6 9 Tf\n1 0 0 1 10 762 Tm\n(c) Tj\nET\n0.5 w\n0 792 m\n10 782 l\nS\n\
             0 782 10 10 re\nS\nq\n0.85 g\n0 782 10 10 re\nf\nQ\n\
             BT\n1 0 0 1 10 752 Tm\n(d) Tj\nET\n"
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
        canvas.paragraph(0.0, 0.0, Font::Helvetica, 10.0, 12.0, f32::NAN, "a b");
        canvas.line(f32::NAN, 0.0, 1.0, 1.0, f32::NAN);
        canvas.rect(0.0, 0.0, f32::INFINITY, 1.0, -1.0);
        canvas.fill_rect(0.0, 0.0, 1.0, 1.0, f32::NAN);
        let bytes = canvas.serialize(&meta(), false).unwrap();
        assert!(!contains(&bytes, b"NaN"));
        assert!(!contains(&bytes, b"inf"));
    }
}
