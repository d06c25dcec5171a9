//! The formulas embedded in the binary, and finding a formula by id or path.

use std::path::Path;

use crate::error::{Error, Result};
use crate::formula::{self, Formula};
use crate::input::{self, ReadError};

include!(concat!(env!("OUT_DIR"), "/library.rs"));

/// The TOML text of an embedded formula.
pub fn get(id: &str) -> Option<&'static str> {
    FORMULAS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, text)| *text)
}

/// Every embedded formula, parsed. The library is tested to parse, so a failure here is a bug
/// in the build, reported rather than panicking.
pub fn all() -> Result<Vec<Formula>> {
    FORMULAS
        .iter()
        .map(|(id, text)| formula::parse(text, &format!("library:{id}")))
        .collect()
}

/// Ids close to a mistyped one, best first, for "did you mean".
pub fn suggest(id: &str) -> Vec<&'static str> {
    let id = id.to_lowercase();
    let mut scored: Vec<(f64, &'static str)> = FORMULAS
        .iter()
        .map(|(i, _)| {
            let score =
                strsim::jaro_winkler(&id, i).max(if i.contains(id.as_str()) { 0.9 } else { 0.0 });
            (score, *i)
        })
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, i)| i).collect()
}

/// Whether a formula argument is meant as a file rather than a library id.
fn looks_like_path(arg: &str) -> bool {
    Path::new(arg)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        || arg.contains('/')
        || arg.contains('\\')
}

/// A formula named inside a file (an order or a recipe): a relative path is taken from that
/// file's directory when it exists there; an id stays an id.
pub fn relative_to(file: &Path, formula: &str) -> String {
    match file.parent().map(|d| d.join(formula)) {
        Some(c) if looks_like_path(formula) && c.is_file() => c.display().to_string(),
        _ => formula.to_string(),
    }
}

/// Loads a formula named on the command line: a path to a TOML file, or an embedded id. The
/// formula keeps the text it was parsed from ([`Formula::text`]): the one text calculated,
/// printed and stored in the log.
pub fn load(arg: &str) -> Result<Formula> {
    let path = Path::new(arg);
    if looks_like_path(arg) || path.is_file() {
        return load_file(path);
    }
    if let Some(text) = get(arg) {
        return formula::parse(text, &format!("library:{arg}"));
    }
    let hint = match suggest(arg).as_slice() {
        [] => format!(
            "run `troche formulas` to list the {} formulas in the library",
            FORMULAS.len()
        ),
        s => format!("did you mean {}?", s.join(", ")),
    };
    Err(Error::arg(
        "FORMULA",
        format!("no formula \"{arg}\" in the library and no such file; {hint}"),
    ))
}

/// Reads a formula file, once; bytes that are not UTF-8 are refused with the offset named.
pub fn load_file(path: &Path) -> Result<Formula> {
    let text = read_text(path)?;
    formula::parse(&text, &path.display().to_string())
}

/// Reads an input file (formula, order, settings) as UTF-8 text with a clear message when it
/// is not. Only a regular file of at most [`input::MAX_INPUT_BYTES`] is read.
pub fn read_text(path: &Path) -> Result<String> {
    read_text_limited(
        path,
        input::MAX_INPUT_BYTES,
        "formula, order or settings file",
    )
}

/// As [`read_text`], with its own size limit; `what` names the kind of file in messages
/// ("recipe file").
pub fn read_text_limited(path: &Path, limit: u64, what: &str) -> Result<String> {
    let refuse = |message: String| Error::Input {
        file: path.display().to_string(),
        line: None,
        key: None,
        message,
    };
    let bytes = match input::read_regular(path, limit, true) {
        Ok(b) => b,
        Err(ReadError::Io(e)) => return Err(Error::io(path, e)),
        Err(ReadError::NotRegular(kind)) => {
            return Err(refuse(format!(
                "is {kind}, not a regular file; only regular files are read as input"
            )));
        }
        Err(ReadError::TooLarge { limit }) => {
            return Err(refuse(format!(
                "is larger than {}, the most a {what} may hold; nothing was read",
                input::size_text(limit)
            )));
        }
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = &e.as_bytes()[..at];
        let line = formula::count_newlines(text) + 1;
        let byte = e.as_bytes().get(at).copied().unwrap_or(0);
        // What precedes the byte on its line, so the pharmacist can find it.
        let line_start = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let before: String = String::from_utf8_lossy(&text[line_start..])
            .trim_start()
            .chars()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        // Latin-1 and Windows-1252 agree from 0xA0 up: name the letter the author typed.
        let letter = if byte >= 0xA0 {
            format!(" (\"{}\" in Latin-1 or Windows-1252)", char::from(byte))
        } else {
            String::new()
        };
        Error::Input {
            file: path.display().to_string(),
            line: Some(line),
            key: None,
            message: format!(
                "is not UTF-8 text: byte 0x{byte:02X}{letter} after \"{before}\" cannot be \
                 read; save the file as UTF-8 (in most editors: Save As, encoding UTF-8)"
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_formula_parses_and_matches_its_file_name() {
        assert!(
            FORMULAS.len() >= 8,
            "the library must hold at least eight formulas"
        );
        for (id, text) in FORMULAS {
            let f = formula::parse(text, id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(&f.id, id);
        }
    }

    /// The text a formula keeps is the one it was parsed from: editing the file afterwards
    /// changes nothing the log would store.
    #[test]
    fn a_loaded_formula_keeps_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        let text = format!("\u{feff}{}", get("ketamine-hcl-troche").unwrap());
        std::fs::write(&path, &text).unwrap();
        let f = load(&path.display().to_string()).unwrap();
        std::fs::write(&path, text.replace("version = ", "version = 1")).unwrap();
        assert_eq!(f.text.as_str(), text);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
        let hex = digest.iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            write!(s, "{b:02x}").unwrap();
            s
        });
        assert_eq!(f.text.sha256(), hex);
        let embedded = load("ketamine-hcl-troche").unwrap();
        assert_eq!(embedded.text.as_str(), get("ketamine-hcl-troche").unwrap());
    }

    #[test]
    fn suggests_near_ids() {
        if get("ketamine-hcl-troche").is_some() {
            assert_eq!(
                suggest("ketamine-hcl-troch").first(),
                Some(&"ketamine-hcl-troche")
            );
        }
    }
}
