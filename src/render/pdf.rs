//! Writing pages of printpdf operations as one PDF file, the same bytes on every run.
//!
//! printpdf builds and serializes the document: catalog, page tree, font resources,
//! metadata, content streams, compression. What it cannot do is kept here, in one place:
//!
//! - dates: the creation and modification dates come from [`DocMeta::date`], never the clock;
//! - the trailer's `/ID`: printpdf fills it from a process-global random counter, so two
//!   identical documents would differ; it is set from [`DocMeta::document_id`] in the lopdf
//!   document that printpdf's writer builds, which is then saved exactly as
//!   `PdfDocument::save` saves it;
//! - `/GTS_PDFXVersion`: printpdf always writes it, empty for a document that claims no
//!   standard, and some readers then report the file as PDF/X; it is removed in the same step;
//! - the compression level: `PdfDocument::save` compresses every stream at zlib's best level,
//!   which took most of a batch run's time (docs/performance.md); the same step compresses
//!   them at the fastest level instead, for page streams 8 % larger;
//! - the widths of the built-in fonts, which printpdf does not know: [`super::metrics`];
//! - the embedded font for names in scripts `WinAnsi` lacks ([`super::font`]): only on a
//!   document whose pages select it, cut down to the characters they draw with it, and under
//!   a fixed resource name rather than `PdfDocument::add_font`'s random one.

use std::collections::{BTreeMap, BTreeSet};

use printpdf::{
    Date, Offset, Op, PdfDocument, PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions,
    Pt, Rect, TextItem, Time,
};

use super::canvas::Page;
use super::error::Error;
use super::font::Face;

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
    /// Optional description, written empty when `None`.
    pub subject: Option<String>,
    /// Optional author (e.g. the pharmacy), written empty when `None`.
    pub author: Option<String>,
    /// Calendar date `(year, month, day)` used as creation and modification date; the
    /// time of day is written as 00:00:00 UTC.
    pub date: (i32, u8, u8),
    /// Stable identifier of the document's content (for example the batch id and the kind
    /// of document); the PDF file identifier is derived from it.
    pub document_id: String,
}

/// The options of printpdf's writer. Streams are compressed by [`compress`], not by printpdf
/// (`optimize`); the embedded font is subset before printpdf sees it (its own subsetting
/// needs its layout engine), and there are no images.
fn options() -> PdfSaveOptions {
    PdfSaveOptions {
        optimize: false,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    }
}

/// The PDF file of `pages`, each `width_pt` by `height_pt`.
pub(super) fn write(
    pages: Vec<Page>,
    width_pt: f32,
    height_pt: f32,
    meta: &DocMeta,
) -> Result<Vec<u8>, Error> {
    let mut doc = PdfDocument::new(&meta.title);
    let info = &mut doc.metadata.info;
    let date = pdf_date(meta.date)?;
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;
    info.author = meta.author.clone().unwrap_or_default();
    info.subject = meta.subject.clone().unwrap_or_default();
    PRODUCER.clone_into(&mut info.creator);
    PRODUCER.clone_into(&mut info.producer);
    info.identifier.clone_from(&meta.document_id);
    for (face, chars) in embedded_text(&pages) {
        let font = super::font::subset(face, &chars).map_err(Error::Printpdf)?;
        doc.resources.fonts.map.insert(
            printpdf::FontId(face.resource().to_owned()),
            printpdf::PdfFont::new(font),
        );
    }
    let size = Rect::from_wh(Pt(width_pt), Pt(height_pt));
    doc.with_pages(
        pages
            .into_iter()
            .map(|page| PdfPage {
                media_box: size.clone(),
                trim_box: size.clone(),
                crop_box: size.clone(),
                ops: page.ops,
            })
            .collect(),
    );

    let options = options();
    let mut warnings = Vec::new();
    let mut pdf = doc.to_lopdf_document(&options, &mut warnings);
    let errors: Vec<String> = warnings
        .into_iter()
        .filter(|w| w.severity == PdfParseErrorSeverity::Error)
        .map(|w| w.msg)
        .collect();
    if !errors.is_empty() {
        return Err(Error::Printpdf(errors.join("; ")));
    }
    set_file_identifier(&mut pdf, &meta.document_id)?;
    remove_pdfx_claim(&mut pdf)?;
    compress(&mut pdf).map_err(Error::Write)?;
    let mut out = Vec::new();
    pdf.save_to(&mut out).map_err(Error::Write)?;
    Ok(out)
}

/// The characters the pages draw in each embedded face; empty for a document all in the
/// built-in fonts.
fn embedded_text(pages: &[Page]) -> BTreeMap<Face, BTreeSet<char>> {
    let mut used: BTreeMap<Face, BTreeSet<char>> = BTreeMap::new();
    for page in pages {
        let mut face = None;
        for op in &page.ops {
            match op {
                Op::SetFont { font, .. } => {
                    face = match font {
                        PdfFontHandle::External(id) => Face::from_resource(&id.0),
                        PdfFontHandle::Builtin(_) => None,
                    };
                }
                Op::ShowText { items } => {
                    if let Some(face) = face {
                        let chars = used.entry(face).or_default();
                        for item in items {
                            if let TextItem::Text(text) = item {
                                chars.extend(text.chars());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    used
}

/// Both halves of the trailer's `/ID` (original and current identifier, equal for a newly
/// written file) as a hash of `document_id`.
fn set_file_identifier(pdf: &mut lopdf::Document, document_id: &str) -> Result<(), Error> {
    let file_id = file_identifier(document_id).into_bytes();
    let ids = pdf
        .trailer
        .get_mut(b"ID")
        .and_then(|ids| ids.as_array_mut())
        .map_err(|e| Error::Structure("the trailer's /ID", e))?;
    for id in ids.iter_mut() {
        id.as_str_mut()
            .map_err(|e| Error::Structure("the trailer's /ID", e))?
            .clone_from(&file_id);
    }
    Ok(())
}

/// Removes the `/Info` dictionary's `/GTS_PDFXVersion`: the document is not PDF/X.
fn remove_pdfx_claim(pdf: &mut lopdf::Document) -> Result<(), Error> {
    let info = pdf
        .trailer
        .get(b"Info")
        .and_then(lopdf::Object::as_reference)
        .map_err(|e| Error::Structure("the trailer's /Info", e))?;
    pdf.get_object_mut(info)
        .and_then(lopdf::Object::as_dict_mut)
        .map_err(|e| Error::Structure("the /Info dictionary", e))?
        .remove(b"GTS_PDFXVersion");
    Ok(())
}

/// Compresses every stream as `lopdf::Document::compress` does, keeping a stream that would
/// not shrink as it is, but at zlib's fastest level: page content is small and mostly
/// repeated operators, where higher levels gain a few bytes for several times the work.
fn compress(pdf: &mut lopdf::Document) -> std::io::Result<()> {
    use std::io::Write as _;
    // One encoder for the document, reset between streams (which gives the bytes a new one
    // would): setting one up clears tables larger than a page's stream.
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for object in pdf.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.has(b"Filter") {
            continue;
        }
        zlib.write_all(&stream.content)?;
        let packed = zlib.reset(Vec::with_capacity(stream.content.len() / 3 + 64))?;
        if packed.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(packed);
        }
    }
    Ok(())
}

/// The content stream printpdf writes for `ops`, uncompressed: what tests read.
#[cfg(test)]
pub(super) fn content_stream(ops: &[printpdf::Op]) -> Vec<u8> {
    let mut doc = PdfDocument::new("");
    doc.with_pages(vec![PdfPage::new(
        printpdf::Mm(10.0),
        printpdf::Mm(10.0),
        ops.to_vec(),
    )]);
    let pdf = doc.to_lopdf_document(&options(), &mut Vec::new());
    let page = pdf.get_pages().into_values().next().unwrap_or_default();
    pdf.get_page_content(page)
}

/// The calendar date as printpdf's date type, rejecting dates a PDF date string
/// (`D:YYYYMMDD...`) cannot hold or that do not exist.
fn pdf_date((year, month, day): (i32, u8, u8)) -> Result<printpdf::DateTime, Error> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if !(0..=9999).contains(&year) || day == 0 || day > days_in_month {
        return Err(Error::Date { year, month, day });
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
    use crate::render::canvas::Canvas;
    use crate::render::metrics::Font;
    use crate::render::test_support::meta;

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
        let first = canvas.clone().into_pdf(&meta()).unwrap();
        let second = canvas.into_pdf(&meta()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first, sample().into_pdf(&meta()).unwrap());
        assert!(first.starts_with(b"%PDF-"));
    }

    #[test]
    fn metadata_comes_from_doc_meta() {
        let bytes = sample().into_pdf(&meta()).unwrap();
        assert!(contains(&bytes, b"(D:20250314000000+00'00')"));
        assert!(
            !contains(&bytes, b"GTS_PDFXVersion"),
            "must not claim PDF/X"
        );
        let id = file_identifier("batch-2025-001/worksheet");
        assert!(contains(&bytes, format!("/ID[({id})({id})]").as_bytes()));
        let mut other = meta();
        other.document_id = "batch-2025-002/worksheet".to_owned();
        assert_ne!(bytes, sample().into_pdf(&other).unwrap());
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
            assert!(sample().into_pdf(&m).is_err(), "{date:?}");
        }
        let mut m = meta();
        m.date = (2024, 2, 29);
        assert!(sample().into_pdf(&m).is_ok());
    }

    #[test]
    fn the_file_reads_back_with_every_page_and_its_fonts() {
        let mut canvas = sample();
        canvas.new_page();
        let bytes = canvas.into_pdf(&meta()).unwrap();
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 3);
        assert!(contains(&bytes, b"/Encoding/WinAnsiEncoding"));
        let first = doc.get_pages()[&1];
        let text = String::from_utf8_lossy(&doc.get_page_content(first)).into_owned();
        assert!(text.contains("(Compounding worksheet) Tj"), "{text}");
    }
}
