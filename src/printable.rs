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
        None => Ok(()),
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
    }
}
