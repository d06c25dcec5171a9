//! CSV that a spreadsheet opens safely: every CSV the program writes (a batch run's
//! `summary.csv` and `picklist.csv`, `troche log` and `troche recall` with `--format csv`)
//! goes through [`csv`], so each cell is defused the same way.
//!
//! A cell comes from an order, a recipe or the log, so from outside. A spreadsheet runs a cell
//! that starts with `=`, `+`, `-` or `@` as a formula (`=cmd|' /C calc'!A0` starts a program on
//! some), and some skip a leading tab or carriage return before looking; `cat summary.csv`
//! runs any escape sequence a cell holds. Quoting (commas, quotes, line breaks) is the `csv`
//! crate's.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::escape;

/// A cell's text made inert: control characters shown escaped, as on the terminal, and a
/// leading `= + - @` (or tab or CR) given an apostrophe, which spreadsheets read as "text".
pub(crate) fn defuse(cell: &str) -> Cow<'_, str> {
    let cell = escape::escape(cell);
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell
    }
}

/// The rows as CSV, every cell defused, each line ended by `\n`. Every row must have as many
/// cells as the first (the header).
pub(crate) fn csv<R, C>(rows: impl IntoIterator<Item = R>) -> Result<String>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let failed = |e: csv::Error| Error::internal("cannot write CSV", e);
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(row.into_iter().map(|c| defuse(c.as_ref()).into_owned()))
            .map_err(failed)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::internal("cannot write CSV", e.into_error()))?;
    String::from_utf8(bytes).map_err(|e| Error::internal("cannot write CSV", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value from an order never runs as a spreadsheet formula, and commas, quotes and line
    /// breaks stay inside their cell.
    #[test]
    fn cells_are_defused_and_quoted() {
        let text = csv([[
            "=HYPERLINK(\"x\")",
            "+1",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "plain",
        ]])
        .unwrap();
        assert_eq!(
            text,
            "\"'=HYPERLINK(\"\"x\"\")\",'+1,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",plain\n"
        );
    }

    /// Every dangerous first character is defused: none of the cells starts one, and each
    /// keeps its text after the apostrophe (CR, a control character, is shown escaped).
    #[test]
    fn every_formula_lead_is_defused() {
        for (cell, want) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+41 55 555 0100", "'+41 55 555 0100"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "\\u000d=1+1"),
            ("\u{1b}[31mred", "\\u001b[31mred"),
            ("Ann Lee", "Ann Lee"),
        ] {
            assert_eq!(defuse(cell), want, "{cell:?}");
        }
    }

    /// Rows of different lengths are the program's mistake, reported rather than written.
    #[test]
    fn a_short_row_is_an_error() {
        let e = csv([vec!["a", "b"], vec!["c"]]).unwrap_err();
        assert!(matches!(e, Error::Internal { .. }), "{e}");
    }
}
