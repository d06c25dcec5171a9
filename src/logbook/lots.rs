//! Lots: `YYMMDD-NNN` numbering, and handing lots out inside a write transaction so that
//! no two batches in the whole log ever share one.

use std::collections::HashMap;

use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::lots::Lots;
use crate::store::{Db, Transaction, Value};

/// `YYMMDD-NNN` split into its date prefix and number, for lots of that form.
pub fn lot_number(lot: &str) -> Option<(String, i64)> {
    let (p, n) = lot.split_once('-')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if p.len() == 6 && digits(p) && (3..=9).contains(&n.len()) && digits(n) {
        return Some((p.to_string(), n.parse().ok()?));
    }
    None
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

/// Whether the log holds `lot`.
pub fn exists(db: &mut dyn Db, lot: &str) -> Result<bool> {
    Ok(!db
        .query(
            "SELECT 1 AS found FROM batches WHERE lot = $1",
            &[Value::text(lot)],
        )?
        .is_empty())
}

/// Hands out lots inside one write transaction: the next number after the highest the log
/// ever gave for the date (a voided lot is never handed out again), skipping any whose files
/// already lie in the output directory from before the log.
pub struct LotCounter<'a> {
    next: HashMap<String, i64>,
    dir: &'a mut Lots,
}

impl<'a> LotCounter<'a> {
    pub fn new(dir: &'a mut Lots) -> LotCounter<'a> {
        LotCounter {
            next: HashMap::new(),
            dir,
        }
    }

    pub fn next(&mut self, tx: &mut Transaction<'_>, date: Date) -> Result<String> {
        let prefix = prefix_of(date);
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
            if self.dir.claim(&lot, false).is_ok() {
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

    /// A lot given by the user: free in the whole log, and in the output directory.
    pub fn claim(&mut self, tx: &mut Transaction<'_>, lot: &str, force: bool) -> Result<String> {
        if exists(tx, lot)? {
            return Err(Error::arg(
                "lot",
                format!(
                    "lot \"{lot}\" is already in the compounding log; lots are unique across \
                     the pharmacy. Give a new lot, or `troche reprint {lot}` for its paperwork"
                ),
            ));
        }
        if let Some((p, n)) = lot_number(lot) {
            let e = self.next.entry(p).or_insert(0);
            *e = (*e).max(n + 1);
        }
        self.dir.claim(lot, force)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, enter};

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
        counter.claim(&mut tx, "261130-020", false).unwrap();
        assert_eq!(counter.next(&mut tx, date).unwrap(), "261130-021");
        tx.commit().unwrap();
        assert!(exists(log.db(), "261130-005").unwrap());
        assert!(!exists(log.db(), "261130-007").unwrap());
    }
}
