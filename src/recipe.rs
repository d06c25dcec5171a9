//! Recipe files: a day's queue of batches in one TOML file.
//!
//! The file must be valid TOML as a whole, but each `[[batch]]` entry is then read on its own,
//! so that one entry with a typo fails alone while every other entry is still made. Entries are
//! cut from the source at their `[[batch]]` headers (the text keeps its line numbers, so every
//! message names the line in the recipe file). Whether the file is TOML is checked piece by
//! piece too, the header and each entry as it is read, so that memory does not grow with the
//! file (see `is_toml`): an error of TOML in any piece fails the file.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use rayon::prelude::*;
use serde::Deserialize;
use toml::Spanned;

use crate::calc::Balance;
use crate::config::{self, RawBalance};
use crate::error::{Error, Result};
use crate::input::toml::{Field, Kind, Source, opt, strip_bom};
use crate::order::{self, Order, RawOrder};

/// Settings shared by every entry, from the top of the recipe file.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    pub date: Option<Date>,
    /// The line of `date` in the recipe file.
    pub date_line: Option<usize>,
    /// Pharmacy settings file named by the recipe (relative to it).
    pub config: Option<PathBuf>,
    /// The header's source text when it has a `[balance]` table, read again once the
    /// pharmacy's balance (which it overrides) is known.
    header: Option<String>,
}

/// One `[[batch]]` entry, read and validated as far as it can be without its formula.
#[derive(Debug, Clone)]
pub struct Entry {
    /// 1-based position in the file.
    pub index: usize,
    pub line: usize,
    /// The entry's Rx number as written, for reports even when the entry is invalid.
    pub rx: Option<String>,
    /// The formula as named (id or path), when readable.
    pub formula: Option<String>,
    /// The order, or why the entry cannot be read.
    pub order: std::result::Result<Order, String>,
    /// A fingerprint of the entry's text and the shared date: identifies the same entry in a
    /// rerun of the same recipe, so finished batches are not made twice.
    pub fingerprint: String,
}

#[derive(Debug, Clone)]
pub struct Recipe {
    pub path: PathBuf,
    pub shared: Shared,
    pub entries: Vec<Entry>,
}

/// The keys of a recipe's header, as [`RawHeader`] has them.
const HEADER_KEYS: &[Field] = &[
    opt("date", Kind::Any),
    opt("config", Kind::Text),
    opt("balance", Kind::Table(config::BALANCE_KEYS)),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    date: Option<Spanned<toml::Value>>,
    config: Option<Spanned<String>>,
    balance: Option<RawBalance>,
}

/// FNV-1a, 64 bit: a stable fingerprint with no dependency; not a security hash (a recipe
/// author gains nothing by colliding two of their own entries).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether a line is a `[[batch]]` header (allowing spaces and a trailing comment).
fn is_batch_header(line: &str) -> bool {
    let t = line.trim();
    let Some(inner) = t.strip_prefix("[[").and_then(|r| r.split_once("]]")) else {
        return false;
    };
    inner.0.trim() == "batch" && {
        let rest = inner.1.trim();
        rest.is_empty() || rest.starts_with('#')
    }
}

impl Shared {
    /// The balance for the recipe: the pharmacy's, with the recipe's `[balance]` over it.
    pub fn balance(&self, base: Balance, file: &str) -> Result<Balance> {
        let Some(text) = &self.header else {
            return Ok(base);
        };
        let mut src = Source::new(text, file);
        let Some(raw) = src.read::<RawHeader>(HEADER_KEYS)? else {
            return src.fail();
        };
        let Some(rb) = &raw.balance else {
            return Ok(base);
        };
        let b = config::balance(&mut src, rb, base);
        src.finish()?;
        Ok(b)
    }
}

/// Reads a recipe file. A file that is not valid TOML, or whose shared settings are wrong, is
/// an error as a whole; entries with problems are returned with their reasons.
pub fn parse(text: &str, path: &Path) -> Result<Recipe> {
    let file = path.display().to_string();
    let text = strip_bom(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_batch_header(l))
        .map(|(i, _)| i)
        .collect();
    let header_end = starts.first().copied().unwrap_or(lines.len());
    let header_text: String = lines[..header_end].concat();
    let shared = shared(&header_text, path, &file);
    let date = shared.as_ref().ok().and_then(|s| s.date);

    // Entries are independent: read them on every core, in file order.
    let entries: Vec<Result<Entry>> = (0..starts.len())
        .into_par_iter()
        .map(|n| parse_entry(&lines, &starts, n, date, &file))
        .collect();
    // The whole file must be TOML, and a syntax error anywhere is said first: the cut into
    // entries is only meaningful for a TOML file. The header comes first in the file.
    let shared = match shared {
        Err(e) if !is_toml(&header_text) => return Err(e),
        other => other,
    };
    let entries = entries.into_iter().collect::<Result<Vec<Entry>>>()?;
    let shared = shared?;
    if starts.is_empty() {
        return Err(Error::Input {
            file,
            line: None,
            key: Some("batch".into()),
            message: "the recipe has no [[batch]] entries; add one [[batch]] table per order"
                .into(),
        });
    }
    Ok(Recipe {
        path: path.to_path_buf(),
        shared,
        entries,
    })
}

/// Whether `text` is a TOML document, whatever its keys and values mean.
///
/// A recipe was once checked by parsing it whole, but the tree `toml` builds of a whole file
/// grows with every entry (docs/performance.md has the figures). Its header and each entry
/// are checked instead, each as it is read; where an entry's text fails to parse,
/// this tells an error of TOML itself (the file's: syntax, an unclosed string, a key given
/// twice) from a wrong key or value (the entry's).
fn is_toml(text: &str) -> bool {
    toml::de::DeTable::parse(text).is_ok()
}

/// The settings at the top of the file, before its first `[[batch]]`.
fn shared(header_text: &str, path: &Path, file: &str) -> Result<Shared> {
    let mut src = Source::new(header_text, file);
    let Some(raw) = src.read::<RawHeader>(HEADER_KEYS)? else {
        return src.fail();
    };
    let date = raw.date.as_ref().and_then(|d| {
        let t = match d.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(dt) => dt.to_string(),
            _ => String::new(),
        };
        order::parse_date(&t)
            .map_err(|e| src.push(Some(d.span()), "date", e.0))
            .ok()
    });
    let config = raw.config.as_ref().map(|c| {
        let p = PathBuf::from(c.get_ref());
        if p.is_relative() {
            path.parent().map_or(p.clone(), |d| d.join(&p))
        } else {
            p
        }
    });
    if let Some(b) = &raw.balance {
        // Checked now, so a bad [balance] fails the file before anything is made.
        config::balance(&mut src, b, Balance::default());
    }
    src.finish()?;
    let header = raw.balance.is_some().then(|| header_text.to_owned());
    let date_line = raw
        .date
        .as_ref()
        .map(|d| crate::formula::count_newlines(&header_text.as_bytes()[..d.span().start]) + 1);
    Ok(Shared {
        date,
        date_line,
        config,
        header,
    })
}

/// Reads entry `n` (0-based), which starts at line index `starts[n]`.
fn parse_entry(
    lines: &[&str],
    starts: &[usize],
    n: usize,
    date: Option<Date>,
    file: &str,
) -> Result<Entry> {
    let start = starts[n];
    let end = starts.get(n + 1).copied().unwrap_or(lines.len());
    // The entry's text with its `[[batch]]` header line blanked (so the text's first line is
    // the header's line of the file) and sub-tables `[[batch.component]]` as `[[component]]`.
    let mut chunk = String::from("\n");
    for l in &lines[start + 1..end] {
        chunk.push_str(&rewrite_subtable(l));
    }
    let fingerprint = format!(
        "{:016x}",
        fnv1a(
            format!(
                "{}\u{0}{}",
                date.map(|d| d.to_string()).unwrap_or_default(),
                chunk.trim()
            )
            .as_bytes()
        )
    );
    let mut esrc = Source::part(&chunk, file, start);
    let prefix = format!("batch[{}].", n + 1);
    let (rx, formula, order) = match esrc.read::<RawOrder>(order::KEYS) {
        // Not TOML at all: an error of the file (see `parse`), not of this entry alone.
        Err(e) => return Err(e),
        Ok(None) => (None, None, esrc.fail().map_err(|e: Error| e.to_string())),
        Ok(Some(raw)) => {
            let order = order::from_raw(&mut esrc, &raw, &prefix);
            if let (None, Some(d)) = (order.date, date) {
                order::check_expiries(&mut esrc, &raw, &order, d, &prefix);
            }
            let formula = raw.formula.as_ref().map(|f| f.get_ref().clone());
            if formula.is_none() {
                esrc.push(
                    // The entry's [[batch]] line, the text's first.
                    Some(0..1),
                    &format!("{prefix}formula"),
                    "every batch needs formula = \"ID or path\"",
                );
            }
            if order.quantity == 0 && raw.first_span().is_some() && esrc.errors.is_empty() {
                esrc.push(
                    raw.first_span(),
                    &format!("{prefix}quantity"),
                    "every batch needs quantity = N (units to dispense)",
                );
            }
            let rx = raw.rx_text().map(String::from);
            (
                rx,
                formula,
                esrc.finish().map(|()| order).map_err(|e| e.to_string()),
            )
        }
    };
    Ok(Entry {
        index: n + 1,
        line: start + 1,
        rx,
        formula,
        order,
        fingerprint,
    })
}

fn rewrite_subtable(line: &str) -> String {
    let t = line.trim_start();
    for (from, to) in [("[[batch.", "[["), ("[batch.", "[")] {
        if let Some(rest) = t.strip_prefix(from) {
            return format!("{to}{rest}");
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_fail_alone_and_keep_line_numbers() {
        let text = "date = 2026-11-23\n\n[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nquantity = 30\nrx = \"R1\"\n\n[[batch]]\nformula = \"x\"\nstrenght = \"5 mg\"\nrx = \"R2\"\n\n[[batch]]\nformula = \"y\"\nquantity = 2\n[[batch.component]]\nname = \"Y\"\nlot = \"L\"\n";
        let r = parse(text, Path::new("r.toml")).unwrap();
        assert_eq!(r.entries.len(), 3);
        assert_eq!(r.shared.date, Some(jiff::civil::date(2026, 11, 23)));
        assert!(r.entries[0].order.is_ok());
        let e = r.entries[1].order.as_ref().unwrap_err();
        assert!(e.starts_with("r.toml:11"), "{e}");
        assert!(e.contains("strenght"), "{e}");
        let o = r.entries[2].order.as_ref().unwrap();
        assert_eq!(o.components[0].lot, "L");
        assert_ne!(r.entries[0].fingerprint, r.entries[1].fingerprint);
    }

    #[test]
    fn header_problems_fail_the_file() {
        assert!(parse("dat = 1\n[[batch]]\n", Path::new("r")).is_err());
        assert!(parse("date = \"tomorrow\"\n[[batch]]\n", Path::new("r")).is_err());
        assert!(parse("[[batch]\n", Path::new("r")).is_err());
        assert!(parse("date = 2026-11-23\n", Path::new("r")).is_err());
    }
}
