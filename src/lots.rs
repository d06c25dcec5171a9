//! Internal lot numbers and the file names made from them.
//!
//! A lot names a batch's files, so it must be unique within a run and must never reuse a lot
//! whose files already exist in the output directory; and since lots can come from recipe
//! files written by other systems, the file name made from one must not escape the directory.

use std::collections::BTreeSet;
use std::path::Path;

use jiff::civil::Date;

use crate::error::{Error, Result};

/// Lots already used: on disk in the output directory, or earlier in this run.
#[derive(Debug, Default, Clone)]
pub struct Lots {
    taken: BTreeSet<String>,
    /// The next number to try for each date prefix, so a day of thousands of lots is not a
    /// quadratic search.
    cursor: std::collections::HashMap<String, u32>,
}

/// Lots a day: NNN grows past three digits when a pharmacy makes more than 999 batches a day.
const MAX_PER_DAY: u32 = 99_999;

/// The longest file stem a lot may produce; beyond it names get unwieldy on every file system.
const MAX_STEM: usize = 64;

/// Makes a lot safe as a file name stem: ASCII letters, digits, '-', '_' and '.' are kept, any
/// other character becomes '_', and a leading '.' (hidden file, "..") becomes '_'.
pub fn file_stem(lot: &str) -> String {
    let mut s: String = lot
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_STEM)
        .collect();
    if s.starts_with('.') || s.is_empty() {
        s.insert(0, '_');
    }
    s
}

/// Whether a file name is reserved for a device on Windows (`CON`, `PRN`, `AUX`, `NUL`,
/// `COM0`-`COM9`, `LPT0`-`LPT9`, in any case and with any extension: `nul.json` too). Such a
/// file cannot be opened there, or opens the device.
pub fn is_windows_reserved(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or("").trim_end_matches(' ');
    let upper = base.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || (upper.len() == 4
        && (upper.starts_with("COM") || upper.starts_with("LPT"))
        && upper.as_bytes()[3].is_ascii_digit())
}

/// A lot must name a batch: at least one letter or digit, and not a name Windows reserves for
/// a device (the files are named from it).
pub fn check_lot(lot: &str) -> std::result::Result<(), String> {
    if !lot.chars().any(char::is_alphanumeric) {
        return Err(format!(
            "\"{}\" is not a lot number: a lot needs at least one letter or digit",
            crate::escape::escape(lot)
        ));
    }
    if is_windows_reserved(&file_stem(lot)) {
        return Err(format!(
            "\"{lot}\" would name files after a device on Windows (CON, PRN, AUX, NUL, COM1-9, \
             LPT1-9); choose another lot number"
        ));
    }
    Ok(())
}

impl Lots {
    /// Reads the lots whose files are already in `dir` (a file `STEM-worksheet.pdf`,
    /// `STEM-label.pdf` or `STEM.json` takes STEM). A missing directory has none.
    pub fn scan(dir: &Path) -> Result<Lots> {
        let mut taken = BTreeSet::new();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lots::default()),
            Err(e) => return Err(Error::io(dir, e)),
        };
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            for suffix in ["-worksheet.pdf", "-label.pdf", ".json"] {
                if let Some(stem) = name.strip_suffix(suffix) {
                    taken.insert(stem.to_ascii_lowercase());
                }
            }
        }
        Ok(Lots {
            taken,
            cursor: std::collections::HashMap::new(),
        })
    }

    /// Claims a lot given by the user. Two lots that make the same file name clash, and so
    /// does a lot whose files exist already (unless `force`, which replaces them). A lot with
    /// no letter or digit (".", "-") or one naming a device on Windows ("CON", "com1") is
    /// refused.
    pub fn claim(&mut self, lot: &str, force: bool) -> Result<String> {
        check_lot(lot).map_err(|m| Error::arg("lot", m))?;
        let stem = file_stem(lot);
        let key = stem.to_ascii_lowercase();
        if self.taken.contains(&key) && !force {
            return Err(Error::arg(
                "lot",
                format!(
                    "lot \"{lot}\" is already used (its files, named \"{stem}\", exist in the output \
                     directory or belong to another batch in this run); give a new lot number, or \
                     --force to replace the files"
                ),
            ));
        }
        self.taken.insert(key);
        Ok(stem)
    }

    /// Assigns the next free lot `YYMMDD-NNN` for a compounding date.
    pub fn next(&mut self, date: Date) -> Result<String> {
        let prefix = format!(
            "{:02}{:02}{:02}",
            date.year().rem_euclid(100),
            date.month(),
            date.day()
        );
        let start = self.cursor.get(&prefix).copied().unwrap_or(1);
        for n in start..=MAX_PER_DAY {
            let lot = format!("{prefix}-{n:03}");
            if !self.taken.contains(&lot.to_ascii_lowercase()) {
                self.taken.insert(lot.to_ascii_lowercase());
                self.cursor.insert(prefix, n + 1);
                return Ok(lot);
            }
        }
        Err(Error::calc(format!(
            "all lot numbers {prefix}-001 to {prefix}-{MAX_PER_DAY} are used; give lot numbers explicitly"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_cannot_escape() {
        assert_eq!(file_stem("../../x"), "_.._.._x");
        assert_eq!(file_stem(".."), "_..");
        assert_eq!(file_stem("a/b\\c\n"), "a_b_c_");
        assert_eq!(file_stem(""), "_");
        assert_eq!(file_stem("261123-001"), "261123-001");
        assert!(!file_stem(&"x".repeat(500)).contains('/'));
        assert_eq!(file_stem(&"x".repeat(500)).len(), MAX_STEM);
    }

    #[test]
    fn lots_that_cannot_name_a_batch_are_refused() {
        let mut lots = Lots::default();
        for bad in [
            ".", "..", "-", "_", "CON", "con", "Nul", "COM1", "lpt9", "aux.x",
        ] {
            assert!(lots.claim(bad, false).is_err(), "{bad}");
        }
        for ok in ["261123-001", "CONSOLE", "COM10", "K1", "Лот-1", "a.b"] {
            assert!(lots.claim(ok, false).is_ok(), "{ok}");
        }
    }

    #[test]
    fn next_skips_taken_lots() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("261123-001-worksheet.pdf"), b"x").unwrap();
        let mut lots = Lots::scan(dir.path()).unwrap();
        let d = jiff::civil::date(2026, 11, 23);
        assert_eq!(lots.next(d).unwrap(), "261123-002");
        assert_eq!(lots.next(d).unwrap(), "261123-003");
        assert!(lots.claim("261123-001", false).is_err());
        assert!(lots.claim("261123-003", false).is_err());
        assert_eq!(lots.claim("A/B", false).unwrap(), "A_B");
        assert!(lots.claim("A_B", false).is_err());
    }

    #[test]
    fn more_than_999_a_day() {
        let mut lots = Lots::default();
        let d = jiff::civil::date(2026, 11, 23);
        let all: Vec<String> = (0..1200).map(|_| lots.next(d).unwrap()).collect();
        assert_eq!(all[998], "261123-999");
        assert_eq!(all[999], "261123-1000");
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 1200);
    }
}
