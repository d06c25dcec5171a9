//! Lots: `YYMMDD-NNN` numbering, and handing lots out inside a write transaction so that
//! no two batches in the whole log ever share one.

use std::collections::HashMap;

use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::lots::Lots;
use crate::store::{Db, Transaction, Value};

/// What starts every lot of the practice log, so a practice lot is never taken for a real
/// one (`P-YYMMDD-NNN`).
pub(super) const PRACTICE_MARK: &str = "P-";

/// `YYMMDD-NNN` (or the practice log's `P-YYMMDD-NNN`) split into its prefix and number, for
/// lots of that form.
pub fn lot_number(lot: &str) -> Option<(String, i64)> {
    let (mark, rest) = match lot.strip_prefix(PRACTICE_MARK) {
        Some(rest) => (PRACTICE_MARK, rest),
        None => ("", lot),
    };
    let (p, n) = rest.split_once('-')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if p.len() == 6 && digits(p) && (3..=9).contains(&n.len()) && digits(n) {
        return Some((format!("{mark}{p}"), n.parse().ok()?));
    }
    None
}

/// Whether `lot` is a practice lot: `P-` and more (`P-261205-001` as handed out, `P-1` as
/// given by hand). A real lot never starts so.
pub fn is_practice(lot: &str) -> bool {
    lot.strip_prefix(PRACTICE_MARK)
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
}

/// The longest lot the log takes.
const MAX_LOT_CHARS: usize = 20;

/// A lot as the log keeps it: upper-case ASCII letters, digits and `-`, at most
/// [`MAX_LOT_CHARS`]. Lower case is upper-cased; anything else is refused, naming the
/// character and its code point, so no two lots can print alike (a zero-width space, a
/// Cyrillic О beside a Latin O).
pub fn normalize(lot: &str) -> Result<String> {
    let refuse = |m: String| Error::arg("lot", m);
    let upper = lot.to_ascii_uppercase();
    if let Some(c) = upper
        .chars()
        .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(refuse(format!(
            "\"{}\" is not a lot: it holds {} (U+{:04X}); a lot is letters A-Z, digits and `-`",
            crate::escape::escape(lot),
            crate::escape::escape(&c.to_string()),
            u32::from(c)
        )));
    }
    if upper.is_empty() || !upper.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(refuse(format!(
            "\"{upper}\" is not a lot: a lot needs at least one letter or digit"
        )));
    }
    if upper.len() > MAX_LOT_CHARS {
        return Err(refuse(format!(
            "\"{upper}\" is not a lot: it has {} characters, a lot at most {MAX_LOT_CHARS}",
            upper.len()
        )));
    }
    Ok(upper)
}

/// The `YYMMDD` of a date.
pub(super) fn prefix_of(date: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        date.year().rem_euclid(100),
        date.month(),
        date.day()
    )
}

/// Whether the log holds `lot`, in any case.
pub fn exists(db: &mut dyn Db, lot: &str) -> Result<bool> {
    Ok(!db
        .query(
            "SELECT 1 AS found FROM batches WHERE upper(lot) = upper($1)",
            &[Value::text(lot)],
        )?
        .is_empty())
}

/// Hands out lots inside one write transaction: the next number after the highest the log
/// ever numbered automatically for the date (a voided lot is never handed out again; a lot
/// given by hand is not numbered, so it never moves the count), skipping any the log holds
/// and any whose files already lie in the output directory from before the log.
pub struct LotCounter<'a> {
    next: HashMap<String, i64>,
    dir: &'a mut Lots,
    /// What starts every lot handed out: [`PRACTICE_MARK`] in the practice log.
    mark: &'static str,
}

impl<'a> LotCounter<'a> {
    pub fn new(dir: &'a mut Lots) -> LotCounter<'a> {
        LotCounter {
            next: HashMap::new(),
            dir,
            mark: "",
        }
    }

    /// A counter of the practice log: its lots are `P-YYMMDD-NNN`.
    #[must_use]
    pub fn practice(mut self, practice: bool) -> LotCounter<'a> {
        self.mark = if practice { PRACTICE_MARK } else { "" };
        self
    }

    pub fn next(&mut self, tx: &mut Transaction<'_>, date: Date) -> Result<String> {
        let prefix = format!("{}{}", self.mark, prefix_of(date));
        let mut n = if let Some(n) = self.next.get(&prefix) {
            *n
        } else {
            let rows = tx.query(
                "SELECT max(lot_seq) AS seq FROM batches WHERE lot_prefix = $1",
                &[Value::text(prefix.clone())],
            )?;
            let highest = rows
                .into_iter()
                .next()
                .map_or(Ok(None), |mut r| r.opt_int("seq"))?;
            highest.unwrap_or(0) + 1
        };
        loop {
            let lot = format!("{prefix}-{n:03}");
            n += 1;
            if !exists(tx, &lot)? && self.dir.claim(&lot, false).is_ok() {
                self.next.insert(prefix, n);
                return Ok(lot);
            }
        }
    }

    /// Without a log: the next free lot in the output directory alone.
    pub fn next_in_dir(&mut self, date: Date) -> Result<String> {
        self.dir.next(date)
    }

    /// Without a log: a lot given by the user, free in the output directory.
    pub fn claim_in_dir(&mut self, lot: &str, force: bool) -> Result<String> {
        self.dir.claim(lot, force)
    }

    /// A lot given by the user ([`normalize`]d): free in the whole log in any case, and in
    /// the output directory. Returns the lot and its files' stem.
    pub fn claim(
        &mut self,
        tx: &mut Transaction<'_>,
        lot: &str,
        force: bool,
    ) -> Result<(String, String)> {
        let lot = normalize(lot)?;
        // A practice lot is never taken for a real one, nor a real one for a practice lot.
        if is_practice(&lot) == self.mark.is_empty() {
            let why = if self.mark.is_empty() {
                "a lot that starts with P- is a practice lot (troche --practice); give \
                 another lot"
            } else {
                "a practice lot starts with P- (P-1, P-261205-001), so it is never taken for \
                 a real one; give one so, or none for the next free"
            };
            return Err(Error::arg("lot", format!("\"{lot}\": {why}")));
        }
        if exists(tx, &lot)? {
            return Err(Error::arg(
                "lot",
                format!(
                    "lot \"{lot}\" is already in the compounding log; lots are unique across \
                     the pharmacy, whatever their case. Give a new lot, or `troche reprint \
                     {lot}` for its paperwork"
                ),
            ));
        }
        let stem = self.dir.claim(&lot, force)?;
        Ok((lot, stem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, enter};

    #[test]
    fn a_lot_is_upper_case_ascii_letters_digits_and_dashes() {
        assert_eq!(normalize("lot-100").unwrap(), "LOT-100");
        assert_eq!(normalize("261205-0001").unwrap(), "261205-0001");
        for (lot, says) in [
            ("261205-001\u{200b}", "U+200B"),
            ("L\u{41e}T-100", "U+041E"),
            ("", "at least one letter or digit"),
            ("---", "at least one letter or digit"),
            ("../../etc/x", "(U+002E)"),
            ("A B", "U+0020"),
            ("\u{1b}[31mX", "U+001B"),
            ("ABCDEFGHIJKLMNOPQRSTU", "21 characters"),
        ] {
            let e = normalize(lot).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(says), "{lot:?}: {e}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(lot_number("261130-007"), Some(("261130".into(), 7)));
        assert_eq!(
            lot_number("261130-123456789"),
            Some(("261130".into(), 123_456_789))
        );
        assert_eq!(lot_number("261130-07"), None);
        assert_eq!(lot_number("2611300-007"), None);
        assert_eq!(lot_number("LOT-100"), None);
        assert_eq!(lot_number("261130-00a"), None);
        assert_eq!(lot_number("P-261130-007"), Some(("P-261130".into(), 7)));
        assert_eq!(lot_number("P261130-007"), None);
        assert!(is_practice("P-261130-007") && is_practice("P-1"));
        assert!(!is_practice("P1") && !is_practice("261130-007") && !is_practice("P-"));
        assert_eq!(prefix_of(jiff::civil::date(2026, 1, 5)), "260105");
    }

    #[test]
    fn next_follows_the_highest_ever_given_and_skips_files_in_the_folder() {
        let mut log = Log::new();
        let date = jiff::civil::date(2026, 11, 30);
        enter(log.db(), "261130-001", date);
        enter(log.db(), "261130-005", date);
        std::fs::write(log.out().join("261130-006-worksheet.pdf"), b"old").unwrap();
        let mut lots = Lots::scan(&log.out()).unwrap();
        let mut counter = LotCounter::new(&mut lots);
        let mut tx = Transaction::begin(log.db()).unwrap();
        assert_eq!(counter.next(&mut tx, date).unwrap(), "261130-007");
        assert_eq!(counter.next(&mut tx, date).unwrap(), "261130-008");
        // Another day starts at 1.
        assert_eq!(
            counter
                .next(&mut tx, jiff::civil::date(2026, 12, 1))
                .unwrap(),
            "261201-001"
        );
        // An explicit lot in the log is refused; a new one moves the counter past it.
        let e = counter.claim(&mut tx, "261130-001", false).unwrap_err();
        assert!(
            e.to_string().contains("already in the compounding log"),
            "{e}"
        );
        // A lot given by hand does not move the count.
        counter.claim(&mut tx, "261130-020", false).unwrap();
        assert_eq!(counter.next(&mut tx, date).unwrap(), "261130-009");
        tx.commit().unwrap();
        assert!(exists(log.db(), "261130-005").unwrap());
        assert!(!exists(log.db(), "261130-007").unwrap());
    }
}
