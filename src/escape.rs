//! Text that reaches a terminal, a printer or a PDF: control characters never pass raw.
//!
//! An order or a recipe written by another system may carry a bell, an escape sequence
//! (`ESC [31m` recolours a terminal; others retitle windows or worse), a carriage return that
//! overwrites what came before, or a Unicode direction override that shows text in another
//! order than it is stored. Two rules follow:
//!
//! - a field printed on a document (Rx, patient, prescriber, directions, lot, component names,
//!   lots and manufacturers, and the formula's and pharmacy's texts) holding one is refused
//!   ([`check`]), naming the field, so the document shows what the file says;
//! - everything written to the terminal has them shown escaped ([`escape`]), as `\u001b`, so a
//!   refused value can still be named in the message that refuses it.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

use crate::error::{Error, Result};

/// Whether `c` must not reach a terminal or a document raw: C0 and C1 control characters and
/// DEL (newline and tab aside, which [`check`] judges by field), and the Unicode bidirectional
/// embeddings, overrides and isolates.
pub fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every hostile character written as `\uXXXX` (JSON's escape, so JSON output
/// stays valid). Borrowed when there is none, which is nearly always.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hostile(c) {
            // A `String` cannot refuse a write: this drops an `Ok(())`.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Refuses a field's text holding a hostile character; in a one-line field (`multi_line`
/// false) a newline or tab too. The message says which character and where.
pub fn check(text: &str, multi_line: bool) -> std::result::Result<(), String> {
    let bad = text
        .chars()
        .enumerate()
        .find(|(_, c)| is_hostile(*c) || (!multi_line && matches!(c, '\n' | '\t')));
    match bad {
        None => drawable(text),
        Some((at, c)) => Err(format!(
            "holds the control character U+{:04X} (shown as {}) at character {}; control \
             characters, escape sequences and direction overrides are not allowed in text \
             printed on a document{}: retype the value",
            u32::from(c),
            escape(&c.to_string())
                .replace('\n', "\\n")
                .replace('\t', "\\t"),
            at + 1,
            if multi_line {
                ""
            } else {
                " (nor a line break or tab in this one-line field)"
            }
        )),
    }
}

/// Refuses text with a character the documents cannot print as written: a script that needs
/// shaping or right-to-left layout (Arabic, Hebrew, the Indic scripts), CJK, or anything else
/// neither the built-in fonts nor the embedded one draw. Checked in composed form (NFC), as
/// it is printed. Printing a code or a look-alike in place of a patient's name is what this
/// prevents.
fn drawable(text: &str) -> std::result::Result<(), String> {
    use unicode_normalization::UnicodeNormalization as _;
    if text.is_ascii() {
        return Ok(());
    }
    let composed: String = text.nfc().collect();
    let Some(c) = composed
        .chars()
        .find(|&c| c != '\t' && !crate::render::metrics::drawable(c))
    else {
        return Ok(());
    };
    let what = match script(c) {
        Some(script) => format!("is written in {script} script (U+{:04X})", u32::from(c)),
        None => format!(
            "holds U+{:04X}, which the labels and worksheets cannot print",
            u32::from(c)
        ),
    };
    Err(format!(
        "{what}; documents print Latin (with accents and Vietnamese), Greek and Cyrillic: \
         write the name as on the prescription, in Latin letters"
    ))
}

/// The script of `c`, for the scripts a name the documents cannot print is most likely in.
fn script(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{0590}'..='\u{05FF}' | '\u{FB1D}'..='\u{FB4F}' => "Hebrew",
        '\u{0600}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}'
        | '\u{0870}'..='\u{08FF}'
        | '\u{FB50}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}' => "Arabic",
        '\u{0700}'..='\u{074F}' => "Syriac",
        '\u{0780}'..='\u{07BF}' => "Thaana",
        '\u{0900}'..='\u{097F}' => "Devanagari",
        '\u{0980}'..='\u{09FF}' => "Bengali",
        '\u{0A00}'..='\u{0A7F}' => "Gurmukhi",
        '\u{0A80}'..='\u{0AFF}' => "Gujarati",
        '\u{0B00}'..='\u{0B7F}' => "Oriya",
        '\u{0B80}'..='\u{0BFF}' => "Tamil",
        '\u{0C00}'..='\u{0C7F}' => "Telugu",
        '\u{0C80}'..='\u{0CFF}' => "Kannada",
        '\u{0D00}'..='\u{0D7F}' => "Malayalam",
        '\u{0D80}'..='\u{0DFF}' => "Sinhala",
        '\u{0E00}'..='\u{0E7F}' => "Thai",
        '\u{0E80}'..='\u{0EFF}' => "Lao",
        '\u{0F00}'..='\u{0FFF}' => "Tibetan",
        '\u{1000}'..='\u{109F}' => "Myanmar",
        '\u{10A0}'..='\u{10FF}' => "Georgian",
        '\u{0530}'..='\u{058F}' => "Armenian",
        '\u{1200}'..='\u{139F}' => "Ethiopic",
        '\u{1780}'..='\u{17FF}' => "Khmer",
        '\u{1800}'..='\u{18AF}' => "Mongolian",
        '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{AC00}'..='\u{D7AF}' => {
            "Korean (Hangul)"
        }
        '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' => "Japanese (kana)",
        '\u{2E80}'..='\u{2FDF}'
        | '\u{3000}'..='\u{303F}'
        | '\u{3100}'..='\u{312F}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF00}'..='\u{FFEF}'
        | '\u{20000}'..='\u{3FFFF}' => "CJK (Chinese, Japanese or Korean)",
        _ => return None,
    })
}

/// Writes text to standard output, escaped. A closed pipe (`troche ... | head`) is the
/// reader's choice, not a failure.
pub fn print(text: &str) -> Result<()> {
    let text = escape(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::io("<stdout>", e)),
    }
}

/// Writes one line to standard error, escaped, in one write: standard error is unbuffered,
/// and `eprintln!` would write each piece of its format on its own.
pub fn eprintln(line: &str) {
    let mut l = escape(line).into_owned();
    l.push('\n');
    // Standard error is where a failure would be reported: when it cannot be written to
    // (closed, a full disk behind a redirection), there is nowhere left to say so, and the
    // exit status still tells.
    let _ = std::io::stderr().lock().write_all(l.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_refusals() {
        assert_eq!(
            escape("\u{7}bell\u{1b}[31mred"),
            "\\u0007bell\\u001b[31mred"
        );
        assert_eq!(escape("a\u{202e}b\u{85}\u{7f}"), "a\\u202eb\\u0085\\u007f");
        assert!(matches!(escape("Jane Q. Patient\n"), Cow::Borrowed(_)));
        assert!(check("RX-1", false).is_ok());
        assert!(check("Müller, Zoë", false).is_ok());
        assert!(check("two\nlines", true).is_ok());
        assert!(check("two\nlines", false).is_err());
        let e = check("\u{7}bell", true).unwrap_err();
        assert!(e.contains("U+0007") && e.contains("character 1"), "{e}");
        assert!(check("a\u{0}", true).is_err());
        for name in [
            "Nguyễn Văn An",
            "Łukasz Żółć",
            "Иван Петров",
            "Αλέξανδρος",
            "Nguye\u{0302}\u{0303}n",
        ] {
            assert!(check(name, false).is_ok(), "{name}");
        }
        for (name, script) in [
            ("محمد", "Arabic"),
            ("王小明", "CJK"),
            ("דוד", "Hebrew"),
            ("राम", "Devanagari"),
        ] {
            let e = check(name, false).unwrap_err();
            assert!(e.contains(script) && e.contains("in Latin letters"), "{e}");
        }
        let e = check("Ann ☺", false).unwrap_err();
        assert!(e.contains("U+263A"), "{e}");
    }
}
