//! The TrueType font (`DejaVu` Sans, `assets/fonts/`) that draws what the built-in fonts cannot:
//! patients' and prescribers' names in Latin Extended, Vietnamese, Greek and Cyrillic.
//!
//! A word holding a character `WinAnsi` lacks is drawn, whole, in this font (bold where the
//! layout asked for Helvetica Bold); every other word, and every space, stays in the built-in
//! font, so a document whose text is all `WinAnsi` never loads, measures or embeds it and keeps
//! its bytes. Widths come from the font's own `hmtx` table, scaled to 1/1000 em exactly as
//! printpdf writes them into the PDF's `/W` array, so that wrapping agrees with the viewer.
//!
//! The font is embedded cut down to the glyphs the document uses (printpdf's own subsetting
//! needs its layout engine, which would double its build): the subset is made with `allsorts`,
//! which printpdf is built on, and named with a subset tag derived from the characters it holds,
//! so the same text gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use printpdf::ParsedFont;

static SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A face of the embedded font.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Face {
    Regular,
    Bold,
}

impl Face {
    /// The name of the font resource on a page; fixed, so that it does not vary between runs
    /// (printpdf would draw a random one).
    pub(crate) fn resource(self) -> &'static str {
        match self {
            Face::Regular => "DejaVuSans",
            Face::Bold => "DejaVuSansBold",
        }
    }

    pub(crate) fn from_resource(name: &str) -> Option<Face> {
        [Face::Regular, Face::Bold]
            .into_iter()
            .find(|f| f.resource() == name)
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => SANS,
            Face::Bold => SANS_BOLD,
        }
    }

    /// The font parsed once per process, on first use.
    fn parsed(self) -> Option<&'static ParsedFont> {
        static REGULAR: OnceLock<Option<ParsedFont>> = OnceLock::new();
        static BOLD: OnceLock<Option<ParsedFont>> = OnceLock::new();
        let cell = match self {
            Face::Regular => &REGULAR,
            Face::Bold => &BOLD,
        };
        cell.get_or_init(|| ParsedFont::from_bytes(self.bytes(), 0, &mut Vec::new()))
            .as_ref()
    }

    /// Advance width of `c` in 1/1000 em, truncated as printpdf writes `/W`; `None` if the
    /// face has no glyph for it.
    pub(crate) fn units(self, c: char) -> Option<u64> {
        let font = self.parsed()?;
        let gid = font.lookup_glyph_index(u32::from(c))?;
        Some(scaled(font, gid))
    }
}

/// A glyph's advance in 1/1000 em, computed as printpdf computes the `/W` entry.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "the same f32 arithmetic as printpdf's `/W`, on advances below 2^16"
)]
fn scaled(font: &ParsedFont, gid: u16) -> u64 {
    let upm = f32::from(font.pdf_font_metrics.units_per_em);
    let advance = font.get_glyph_width(gid).unwrap_or(0);
    (f32::from(advance) * 1000.0 / upm) as u64
}

/// Whether both faces have a glyph for `c`.
pub(crate) fn covers(c: char) -> bool {
    [Face::Regular, Face::Bold].into_iter().all(|f| {
        f.parsed()
            .and_then(|p| p.lookup_glyph_index(u32::from(c)))
            .is_some()
    })
}

/// `face` cut down to the glyphs of `chars`, ready for `PdfDocument`'s font map: its
/// character map holds exactly `chars`, renumbered as in the subset, and its name carries a
/// subset tag computed from `chars`.
pub(crate) fn subset(face: Face, chars: &BTreeSet<char>) -> Result<ParsedFont, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};

    let full = face
        .parsed()
        .ok_or_else(|| format!("the embedded font {} cannot be read", face.resource()))?;
    let mut ids = vec![0u16];
    let mut glyph_of = BTreeMap::new();
    for &c in chars {
        let Some(gid) = full.lookup_glyph_index(u32::from(c)) else {
            continue;
        };
        let new = if let Some(i) = ids.iter().position(|&g| g == gid) {
            i
        } else {
            ids.push(gid);
            ids.len() - 1
        };
        glyph_of.insert(u32::from(c), u16::try_from(new).map_err(|e| e.to_string())?);
    }
    let data = ReadScope::new(face.bytes())
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    let bytes = allsorts::subset::subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode)
        .map_err(|e| e.to_string())?;
    let mut font = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
        .ok_or_else(|| format!("the subset of {} cannot be read back", face.resource()))?;
    font.codepoint_to_glyph = glyph_of;
    font.font_name = Some(format!("{}+{}", tag(chars), postscript_name(face)));
    Ok(font)
}

fn postscript_name(face: Face) -> &'static str {
    match face {
        Face::Regular => "DejaVuSans",
        Face::Bold => "DejaVuSans-Bold",
    }
}

/// Six capital letters naming the subset (PDF 32000-1:2008, 9.6.4), from an FNV-1a hash of
/// its characters: the same characters always give the same tag.
fn tag(chars: &BTreeSet<char>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chars {
        for b in u32::from(*c).to_le_bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + u8::try_from(hash % 26).unwrap_or(0));
            hash /= 26;
            letter
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_the_scripts_names_are_written_in() {
        for c in "ŁłŻżÓóĆćễăĂđĐươƯƠИванПетровΑλέξανδροςŠšŒœ".chars()
        {
            assert!(covers(c), "{c}");
        }
        assert!(!covers('王'));
    }

    #[test]
    fn subsets_are_small_and_the_same_every_time() {
        let chars: BTreeSet<char> = "Иван Петров".chars().collect();
        let a = subset(Face::Bold, &chars).unwrap();
        let b = subset(Face::Bold, &chars).unwrap();
        assert_eq!(a.original_bytes, b.original_bytes);
        assert!(
            a.original_bytes.len() < 30_000,
            "{}",
            a.original_bytes.len()
        );
        assert_eq!(a.font_name, b.font_name);
        for c in chars {
            let gid = a.lookup_glyph_index(u32::from(c)).unwrap();
            assert_eq!(scaled(&a, gid), Face::Bold.units(c).unwrap(), "{c}");
        }
    }
}
