//! Glyph widths of the standard PDF fonts and the text conversions that depend on them.
//!
//! Layouts must know how wide a string will be *as the viewer draws it*, or right-aligned
//! numbers and wrapped paragraphs drift. The built-in PDF fonts are not embedded, so the
//! viewer advances by the Adobe Core14 metrics; these tables hold exactly those numbers,
//! indexed by `WinAnsiEncoding` byte, which is the encoding printpdf declares for built-in
//! fonts. printpdf's own look-alike widths are not used because they differ for
//! characters such as `±`, `µ` and `°`.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_normalization::UnicodeNormalization as _;

use super::font::{self, Face};

/// A built-in PDF font the worksheets and labels may use.
///
/// Only faces with metrics tables here are offered, so every string the layouts measure
/// is measured with the widths the viewer will use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Font {
    /// Body text.
    Helvetica,
    /// Headings and the figures a compounder must not misread.
    HelveticaBold,
    /// Monospaced, for lot numbers and codes where every character must be distinct.
    Courier,
}

/// Largest font size, in points, that measuring and drawing accept; larger sizes are
/// clamped so arithmetic stays finite and the PDF stays within implementation limits.
pub const MAX_FONT_SIZE_PT: f32 = 1000.0;

// Advance widths in 1/1000 em by WinAnsiEncoding byte (PDF 32000-1:2008, Annex D.2);
// 0 marks a byte the encoding leaves undefined. Copied from the `WX` values of Adobe's
// Core14 AFM files "Helvetica.afm" (UniqueID 43054) and "Helvetica-Bold.afm"
// (UniqueID 43052), both "Version 002.000", Copyright (c) 1985, 1987, 1989, 1990, 1997
// Adobe Systems Incorporated, as bundled verbatim in PDFKit's standalone build
// (STANDARD_FONTS in lib/font.js). Cross-checked glyph by glyph against groff's devps
// HR/HB files (afmtodit output of Adobe's 1999 revision 003.001): the only difference is
// `mu`, which that revision widened to 578 in Helvetica; PDF viewers use 556 (Core14).
// Courier is monospaced: every glyph is 600 wide.

#[rustfmt::skip]
static HELVETICA: [u16; 256] = [
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, // 0x00
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, // 0x10
     278,  278,  355,  556,  556,  889,  667,  191,  333,  333,  389,  584,  278,  333,  278,  278, // 0x20
     556,  556,  556,  556,  556,  556,  556,  556,  556,  556,  278,  278,  584,  584,  584,  556, // 0x30
    1015,  667,  667,  722,  722,  667,  611,  778,  722,  278,  500,  667,  556,  833,  722,  778, // 0x40
     667,  778,  722,  667,  611,  722,  667,  944,  667,  667,  611,  278,  278,  278,  469,  556, // 0x50
     333,  556,  556,  500,  556,  556,  278,  556,  556,  222,  222,  500,  222,  833,  556,  556, // 0x60
     556,  556,  333,  500,  278,  556,  500,  722,  500,  500,  500,  334,  260,  334,  584,    0, // 0x70
     556,    0,  222,  556,  333, 1000,  556,  556,  333, 1000,  667,  333, 1000,    0,  611,    0, // 0x80
       0,  222,  222,  333,  333,  350,  556, 1000,  333, 1000,  500,  333,  944,    0,  500,  667, // 0x90
     278,  333,  556,  556,  556,  556,  260,  556,  333,  737,  370,  556,  584,  333,  737,  333, // 0xA0
     400,  584,  333,  333,  333,  556,  537,  278,  333,  333,  365,  556,  834,  834,  834,  611, // 0xB0
     667,  667,  667,  667,  667,  667, 1000,  722,  667,  667,  667,  667,  278,  278,  278,  278, // 0xC0
     722,  722,  778,  778,  778,  778,  778,  584,  778,  722,  722,  722,  722,  667,  667,  611, // 0xD0
     556,  556,  556,  556,  556,  556,  889,  500,  556,  556,  556,  556,  278,  278,  278,  278, // 0xE0
     556,  556,  556,  556,  556,  556,  556,  584,  611,  556,  556,  556,  556,  500,  556,  500, // 0xF0
];

#[rustfmt::skip]
static HELVETICA_BOLD: [u16; 256] = [
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, // 0x00
       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, // 0x10
     278,  333,  474,  556,  556,  889,  722,  238,  333,  333,  389,  584,  278,  333,  278,  278, // 0x20
     556,  556,  556,  556,  556,  556,  556,  556,  556,  556,  333,  333,  584,  584,  584,  611, // 0x30
     975,  722,  722,  722,  722,  667,  611,  778,  722,  278,  556,  722,  611,  833,  722,  778, // 0x40
     667,  778,  722,  667,  611,  722,  667,  944,  667,  667,  611,  333,  278,  333,  584,  556, // 0x50
     333,  556,  611,  556,  611,  556,  333,  611,  611,  278,  278,  556,  278,  889,  611,  611, // 0x60
     611,  611,  389,  556,  333,  611,  556,  778,  556,  556,  500,  389,  280,  389,  584,    0, // 0x70
     556,    0,  278,  556,  500, 1000,  556,  556,  333, 1000,  667,  333, 1000,    0,  611,    0, // 0x80
       0,  278,  278,  500,  500,  350,  556, 1000,  333, 1000,  556,  333,  944,    0,  500,  667, // 0x90
     278,  333,  556,  556,  556,  556,  280,  556,  333,  737,  370,  556,  584,  333,  737,  333, // 0xA0
     400,  584,  333,  333,  333,  611,  556,  278,  333,  333,  365,  556,  834,  834,  834,  611, // 0xB0
     722,  722,  722,  722,  722,  722, 1000,  722,  667,  667,  667,  667,  278,  278,  278,  278, // 0xC0
     722,  722,  778,  778,  778,  778,  778,  584,  778,  722,  722,  722,  722,  667,  667,  611, // 0xD0
     556,  556,  556,  556,  556,  556,  889,  556,  556,  556,  556,  556,  278,  278,  278,  278, // 0xE0
     611,  611,  611,  611,  611,  611,  611,  584,  611,  611,  611,  611,  611,  556,  611,  556, // 0xF0
];

/// Width of every Courier glyph, in 1/1000 em.
const COURIER_WIDTH: u16 = 600;

/// The `WinAnsiEncoding` byte of `c`, or `None` if the encoding cannot represent it.
///
/// This mirrors the encoder printpdf applies to built-in font text, so that a character
/// accepted here is drawn as itself rather than as printpdf's `?` fallback.
#[must_use]
pub fn win_ansi_byte(c: char) -> Option<u8> {
    match u32::from(c) {
        cp @ (0x20..=0x7E | 0xA0..=0xFF) => u8::try_from(cp).ok(),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => return None,
        }),
    }
}

/// Readable stand-ins for characters `WinAnsi` lacks but pharmacy text commonly contains.
fn substitute(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{03BC}' => "µ", // Greek small mu -> micro sign, which WinAnsi has
        '\u{2212}' | '\u{2010}' | '\u{2011}' => "-",
        '\u{2012}' => "–",
        '\u{2015}' => "—",
        '≥' => ">=",
        '≤' => "<=",
        '≈' | '\u{223C}' => "~",
        '→' => "->",
        '←' => "<-",
        '⇒' => "=>",
        '✓' | '✔' => "v",
        '✗' | '✘' => "x",
        '\u{2032}' => "'",
        '\u{2033}' => "\"",
        '\u{2044}' | '\u{2215}' => "/",
        '\u{2217}' => "*",
        '\u{2219}' | '\u{22C5}' => "·",
        '\u{2103}' => "°C",
        '\u{2109}' => "°F",
        // Tabs, no-break, thin and other fixed-width spaces: layout decides where lines
        // break and where columns are, so they only need to look like a space.
        '\t'
        | '\u{00A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => " ",
        // Zero-width and invisible formatting characters draw nothing anyway.
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "",
        '\u{0085}' | '\u{2028}' | '\u{2029}' => "\n",
        _ => return None,
    })
}

/// Rewrites `text` so that every character can be drawn by a built-in PDF font.
///
/// Text is put in Unicode's composed form (NFC), so decomposed accents are composed.
/// `WinAnsi` characters pass through unchanged, `\n` is kept as a line break (`\r\n` and a
/// lone `\r` become `\n`), and common symbols outside `WinAnsi` get readable ASCII stand-ins
/// (`≥` -> `>=`, Greek `μ` -> `µ`). Letters the embedded font has (Latin Extended, Vietnamese,
/// Greek, Cyrillic: [`super::font`]) are kept, and drawn in that font. Anything else, which
/// the order's checks refuse before it gets here, becomes `[U+XXXX]`: on a compounding
/// worksheet a silently dropped or `?`-replaced character could change the meaning of an
/// instruction, a visible code cannot.
///
/// The result is idempotent: converting it again returns it unchanged.
#[must_use]
pub fn to_winansi(text: &str) -> String {
    winansi(text).into_owned()
}

/// Whether [`to_winansi`] keeps `c` as it is.
fn passes(c: char) -> bool {
    c == '\n' || (win_ansi_byte(c).is_some() && c != '\u{00A0}' && c != '\u{00AD}')
}

/// One in each byte of a word.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// Nonzero if and only if a byte of `w` is not printable ASCII (below 0x20, or 0x7F and
/// above): text is tested eight bytes at a time, since nearly all of it passes.
pub(crate) fn unprintable(w: u64) -> u64 {
    // A carry or borrow can only cross from a byte that is itself flagged.
    let high_or_del = (w | w.wrapping_add(ONES)) & HIGH;
    let control = w.wrapping_sub(0x20 * ONES) & !w & HIGH;
    high_or_del | control
}

/// [`to_winansi`] without copying text that needs no change, which is nearly all of it
/// (layouts measure and draw the same strings many times).
pub(crate) fn winansi(text: &str) -> Cow<'_, str> {
    // Printable ASCII and line breaks pass; checked eight bytes at a time.
    let plain = |chunk: &[u8]| chunk.iter().all(|&b| matches!(b, b' '..=b'~' | b'\n'));
    let (words, rest) = text.as_bytes().as_chunks::<8>();
    let ascii = words
        .iter()
        .map(|w| u64::from_le_bytes(*w))
        // Byte by byte only for a word with a control character, which may be `\n`.
        .all(|w| unprintable(w) == 0 || plain(&w.to_le_bytes()));
    if (ascii && plain(rest)) || text.chars().all(passes) {
        return Cow::Borrowed(text);
    }
    let composed: Cow<'_, str> = match unicode_normalization::is_nfc_quick(text.chars()) {
        unicode_normalization::IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    };
    let mut out = String::with_capacity(composed.len());
    let mut chars = composed.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            chars.next_if_eq(&'\n');
            out.push('\n');
            continue;
        }
        if passes(c) {
            out.push(c);
            continue;
        }
        // Greek mu beside another Greek letter is part of a Greek word ("Δημήτρης"), not
        // the micro sign of "5 μg".
        let greek = |c: Option<char>| c.is_some_and(|c| c != 'μ' && is_greek(c));
        if c == 'μ' && (greek(out.chars().next_back()) || greek(chars.peek().copied())) {
            out.push(c);
            continue;
        }
        if let Some(s) = substitute(c) {
            out.push_str(s);
            continue;
        }
        if embeddable(c) {
            out.push(c);
            continue;
        }
        let _ = write!(out, "[U+{:04X}]", u32::from(c));
    }
    Cow::Owned(out)
}

/// `text` as a single drawable line: converted to `WinAnsi`, with line breaks drawn as
/// spaces, because a text operator in a PDF cannot break lines itself.
pub(crate) fn single_line(text: &str) -> Cow<'_, str> {
    match winansi(text) {
        Cow::Borrowed(s) if !s.contains('\n') => Cow::Borrowed(s),
        c => Cow::Owned(c.replace('\n', " ")),
    }
}

/// Clamps a font size into the range drawing supports; non-finite or negative sizes
/// become 0 so that they measure (and draw) as nothing instead of poisoning layout maths.
#[inline]
pub(crate) fn clamp_size(size_pt: f32) -> f32 {
    if size_pt.is_finite() && size_pt > 0.0 {
        size_pt.min(MAX_FONT_SIZE_PT)
    } else {
        0.0
    }
}

/// Advance width of `c` in 1/1000 em, for a character already converted to `WinAnsi`.
/// Characters without a `WinAnsi` byte (only `\n` after conversion) are measured as a
/// space, which is how [`single_line`] draws them.
#[inline]
pub(crate) fn char_units(font: Font, c: char) -> u64 {
    if c != '\n' && win_ansi_byte(c).is_none() {
        return face(font).units(c).unwrap_or(0);
    }
    let byte = win_ansi_byte(c).unwrap_or(b' ');
    let units = match font {
        Font::Helvetica => HELVETICA[usize::from(byte)],
        Font::HelveticaBold => HELVETICA_BOLD[usize::from(byte)],
        Font::Courier => COURIER_WIDTH,
    };
    u64::from(units)
}

/// Sum of the advance widths of already-converted text, in 1/1000 em.
///
/// Integer sums keep measuring exact and order-independent; the single conversion to
/// points happens in [`units_to_pt`].
pub(crate) fn units(font: Font, converted: &str) -> u64 {
    let table = match font {
        Font::Helvetica => &HELVETICA_ASCII,
        Font::HelveticaBold => &HELVETICA_BOLD_ASCII,
        Font::Courier => return converted.chars().count() as u64 * u64::from(COURIER_WIDTH),
    };
    // One pass over the bytes, assuming ASCII (nearly all text); redone by character if
    // a byte turns out not to be.
    let mut sum = 0u64;
    let mut high = 0u8;
    for b in converted.bytes() {
        sum += u64::from(table[usize::from(b & 0x7F)]);
        high |= b;
    }
    if high < 0x80 {
        return sum;
    }
    if !needs_embedded(converted) {
        return converted.chars().map(|c| char_units(font, c)).sum();
    }
    segments(font, converted).map(|(_, _, units)| units).sum()
}

/// Whether converted text holds a character only the embedded font can draw.
pub(crate) fn needs_embedded(converted: &str) -> bool {
    converted
        .chars()
        .any(|c| c != '\n' && win_ansi_byte(c).is_none())
}

fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}')
}

/// Whether [`to_winansi`] keeps `c` for the embedded font to draw: a letter of the scripts
/// names are written in (Latin, Greek, Cyrillic) that the font has.
fn embeddable(c: char) -> bool {
    matches!(
        c,
        '\u{0100}'..='\u{024F}'
            | '\u{0370}'..='\u{03FF}'
            | '\u{0400}'..='\u{052F}'
            | '\u{1E00}'..='\u{1EFF}'
            | '\u{1F00}'..='\u{1FFF}'
    ) && font::covers(c)
}

/// Whether a character reaches the page as itself or as a readable stand-in: `WinAnsi`, a
/// stand-in from the table above, or a letter of the embedded font. What the order's text
/// checks accept.
pub(crate) fn drawable(c: char) -> bool {
    matches!(c, '\n' | '\r') || passes(c) || substitute(c).is_some() || embeddable(c)
}

/// The face of the embedded font that stands in for `font`.
pub(crate) fn face(font: Font) -> Face {
    match font {
        Font::HelveticaBold => Face::Bold,
        Font::Helvetica | Font::Courier => Face::Regular,
    }
}

/// Converted text as the canvas draws it: maximal pieces in one font, each with the embedded
/// face it is drawn in (`None`: the built-in font) and its width in 1/1000 em. A word (between
/// spaces or line breaks) holding a character `WinAnsi` lacks is drawn whole in the embedded
/// face; every other word, and every space, in the built-in font. So the width of a line is
/// the sum of its words' and spaces' widths, which is what wrapping adds up.
pub(crate) fn segments(
    font: Font,
    converted: &str,
) -> impl Iterator<Item = (Option<Face>, &str, u64)> {
    let mut rest = converted;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        let mut kind: Option<Option<Face>> = None;
        let mut units = 0u64;
        while end < rest.len() {
            let tail = &rest[end..];
            let (piece, piece_kind) = if tail.starts_with([' ', '\n']) {
                (&tail[..1], None)
            } else {
                let len = tail.find([' ', '\n']).unwrap_or(tail.len());
                let word = &tail[..len];
                (word, needs_embedded(word).then(|| face(font)))
            };
            match kind {
                Some(k) if k != piece_kind => break,
                _ => kind = Some(piece_kind),
            }
            units += match piece_kind {
                None => piece.chars().map(|c| char_units(font, c)).sum::<u64>(),
                Some(f) => piece.chars().map(|c| f.units(c).unwrap_or(0)).sum(),
            };
            end += piece.len();
        }
        let (segment, tail) = rest.split_at(end);
        rest = tail;
        Some((kind.flatten(), segment, units))
    })
}

/// Widths of the ASCII bytes, control characters (only `\n` after conversion) measured
/// as a space, as [`char_units`] measures them.
const fn ascii_widths(table: &[u16; 256]) -> [u16; 128] {
    let mut ascii = [0u16; 128];
    let mut b = 0;
    while b < 128 {
        ascii[b] = if b < 0x20 || b == 0x7F {
            table[0x20]
        } else {
            table[b]
        };
        b += 1;
    }
    ascii
}

static HELVETICA_ASCII: [u16; 128] = ascii_widths(&HELVETICA);
static HELVETICA_BOLD_ASCII: [u16; 128] = ascii_widths(&HELVETICA_BOLD);

/// Converts 1/1000-em units to points; the one place widths become floats, so that a
/// width computed by [`wrap`] and by [`text_width`] for the same line are identical.
#[inline]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "a line's units are far below 2^52, so the f64 product is exact; the final \
              rounding to f32 is the intended single rounding"
)]
pub(crate) fn units_to_pt(units: u64, size_pt: f32) -> f32 {
    // f64 keeps the product exact for any realistic line before the final rounding.
    (units as f64 * f64::from(clamp_size(size_pt)) / 1000.0) as f32
}

/// `n` lines, boxes or columns as `f32`, for layout arithmetic. Counts on a page are far
/// below 2^24, below which every integer is exact in `f32`.
#[allow(
    clippy::cast_precision_loss,
    reason = "counts of lines and boxes are far below 2^24"
)]
pub(crate) fn count(n: usize) -> f32 {
    n as f32
}

/// Width in points of `text` drawn in `font` at `size_pt`, exactly as
/// [`Canvas::text`](super::canvas::Canvas::text) draws it (converted by [`to_winansi`],
/// line breaks as spaces, no kerning: printpdf does not kern built-in fonts).
#[must_use]
pub fn text_width(font: Font, size_pt: f32, text: &str) -> f32 {
    converted_width(font, size_pt, &winansi(text))
}

/// [`text_width`] of text that is already converted.
#[inline]
pub(crate) fn converted_width(font: Font, size_pt: f32, converted: &str) -> f32 {
    units_to_pt(units(font, converted), size_pt)
}

/// Bytes reserved for a wrapped line: a full line of 9 pt text on a letter page is about
/// 110 characters.
pub(crate) const LINE_CAPACITY: usize = 128;

/// A converted word (see [`to_winansi`]) too wide for its line, broken between characters
/// into pieces no wider than `max_width_pt`: the last resort of [`super::text::wrap_runs`],
/// the one word wrapper. Only a single character wider than the whole line can exceed it,
/// since every piece must hold at least one character to make progress.
pub(crate) fn break_word(font: Font, size_pt: f32, word: &str, max_width_pt: f32) -> Vec<String> {
    let fits = |units: u64| units_to_pt(units, size_pt) <= max_width_pt;
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut piece_units = 0u64;
    for c in word.chars() {
        let c_units = char_units(font, c);
        if !piece.is_empty() && !fits(piece_units + c_units) {
            pieces.push(std::mem::take(&mut piece));
            piece_units = 0;
        }
        piece.push(c);
        piece_units += c_units;
    }
    pieces.push(piece);
    pieces
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "widths are exact integer sums scaled once, so equal text has equal widths"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FONTS: [Font; 3] = [Font::Helvetica, Font::HelveticaBold, Font::Courier];

    #[test]
    fn widths_match_the_adobe_metrics() {
        let hello = f32::from(722_u16 + 556 + 222 + 222 + 556) * 12.0 / 1000.0;
        assert_eq!(text_width(Font::Helvetica, 12.0, "Hello"), hello);
        let cases: [(Font, char, u64); 16] = [
            (Font::Helvetica, ' ', 278),
            (Font::Helvetica, 'a', 556),
            (Font::Helvetica, 'i', 222),
            (Font::Helvetica, 'W', 944),
            (Font::Helvetica, '±', 584),
            (Font::Helvetica, 'µ', 556),
            (Font::Helvetica, '°', 400),
            (Font::Helvetica, '×', 584),
            (Font::Helvetica, '–', 556),
            (Font::Helvetica, '—', 1000),
            (Font::Helvetica, '\'', 191),
            (Font::HelveticaBold, 'a', 556),
            (Font::HelveticaBold, 'i', 278),
            (Font::HelveticaBold, 'W', 944),
            (Font::HelveticaBold, 'µ', 611),
            (Font::Courier, 'µ', 600),
        ];
        for (font, c, expected) in cases {
            assert_eq!(char_units(font, c), expected, "{font:?} {c:?}");
        }
    }

    #[test]
    fn every_winansi_character_has_a_width_and_no_other_byte_does() {
        let defined: Vec<u8> = (0..=0x0010_FFFF_u32)
            .filter_map(char::from_u32)
            .filter_map(win_ansi_byte)
            .collect();
        assert_eq!(defined.len(), 218);
        for byte in 0..=255u8 {
            let is_defined = defined.contains(&byte);
            for table in [&HELVETICA, &HELVETICA_BOLD] {
                assert_eq!(
                    table[usize::from(byte)] != 0,
                    is_defined,
                    "byte {byte:#04X}"
                );
            }
        }
    }

    #[test]
    fn measuring_handles_degenerate_input() {
        for font in FONTS {
            assert_eq!(text_width(font, 12.0, ""), 0.0);
            assert_eq!(text_width(font, f32::NAN, "abc"), 0.0);
            assert_eq!(text_width(font, -4.0, "abc"), 0.0);
            assert!(text_width(font, f32::INFINITY, "abc").is_finite());
        }
        assert_eq!(text_width(Font::Courier, 10.0, "a\nb"), 18.0);
    }

    #[test]
    fn symbols_outside_winansi_become_readable_text() {
        assert_eq!(to_winansi("≥ 5 ≤ 7"), ">= 5 <= 7");
        assert_eq!(to_winansi("5 μg"), "5 µg");
        assert_eq!(to_winansi("Δημήτρης, 5 μg"), "Δημήτρης, 5 µg");
        assert_eq!(to_winansi("−20 °C"), "-20 °C");
        assert_eq!(to_winansi("≈ 3 → 4 ✓"), "~ 3 -> 4 v");
        assert_eq!(
            to_winansi("10\u{00A0}mg 5\u{2009}mL\u{202F}x"),
            "10 mg 5 mL x"
        );
        assert_eq!(to_winansi("± µg 2–8 °C × é"), "± µg 2–8 °C × é");
        assert_eq!(to_winansi("e\u{0301}a\u{0308}"), "éä");
        assert_eq!(to_winansi("a\r\nb\rc\td"), "a\nb\nc d");
        assert_eq!(to_winansi("Ω ☺ \u{7}"), "Ω [U+263A] [U+0007]");
        assert_eq!(
            to_winansi("王 محمد"),
            "[U+738B] [U+0645][U+062D][U+0645][U+062F]"
        );
        // Decomposed (NFD) text is composed, also where WinAnsi has no composed form.
        assert_eq!(to_winansi("Nguye\u{0302}\u{0303}n"), "Nguyễn");
        assert_eq!(to_winansi("Z\u{0307}o\u{0301}l\u{0301}c\u{0301}"), "Żóĺć");
        assert_eq!(to_winansi("\u{0301}x"), "[U+0301]x");
        assert_eq!(to_winansi(""), "");
    }

    #[test]
    fn text_needing_no_change_is_not_copied() {
        let mut x: u32 = 7;
        for len in 0..200 {
            for _ in 0..20 {
                let text: String = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        // Mostly printable, sometimes a control character, DEL or é.
                        match x % 50 {
                            0 => '\n',
                            1 => '\t',
                            2 => '\u{7F}',
                            3 => 'é',
                            4 => '\u{1}',
                            _ => char::from(b' ' + (x % 95) as u8),
                        }
                    })
                    .collect();
                let borrowed = matches!(winansi(&text), Cow::Borrowed(_));
                assert_eq!(borrowed, text.chars().all(passes), "{text:?}");
                assert_eq!(winansi(&text), to_winansi(&text));
            }
        }
    }

    #[test]
    fn text_width_measures_the_converted_text() {
        assert_eq!(
            text_width(Font::Helvetica, 10.0, "≥ 5 μg"),
            text_width(Font::Helvetica, 10.0, ">= 5 µg")
        );
    }

    #[test]
    fn long_words_break_between_characters() {
        assert_eq!(
            break_word(Font::Courier, 10.0, "abcdefghij", 24.0),
            ["abcd", "efgh", "ij"]
        );
        assert_eq!(break_word(Font::Courier, 10.0, "ab", 1.0), ["a", "b"]);
        assert_eq!(break_word(Font::Courier, 10.0, "", 1.0), [""]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn words_in_the_embedded_font_add_up_as_wrapping_adds_them(
            text in "[a-zé ŁżИвПетрΩễ\n]{0,40}",
            font_index in 0usize..3,
        ) {
            let font = FONTS[font_index];
            let converted = to_winansi(&text);
            let words: u64 = converted
                .split([' ', '\n'])
                .map(|w| units(font, w))
                .sum::<u64>()
                + converted.matches([' ', '\n']).count() as u64 * char_units(font, ' ');
            prop_assert_eq!(units(font, &converted), words);
        }

        #[test]
        fn to_winansi_is_idempotent_and_drawable(text in "\\PC{0,40}") {
            let converted = to_winansi(&text);
            prop_assert_eq!(to_winansi(&converted), converted.clone());
            prop_assert!(converted.chars().all(|c| c == '\n' || win_ansi_byte(c).is_some() || embeddable(c)));
        }
    }
}
