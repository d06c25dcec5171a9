//! `troche log`: the batches in the compounding log, filtered; `troche log import DIR`: JSON
//! records of batches made before the log existed.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::logbook::{self, Actor, Filter};
use crate::{escape, order};

use super::context::Context;
use super::{arg, print};

#[derive(Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub(super) enum ListFormat {
    #[default]
    Table,
    Json,
    Csv,
}

/// Filters shared by `log` and `recall`.
#[derive(Args)]
pub(super) struct FilterArgs {
    /// First compounding date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub(super) from: Option<String>,
    /// Last compounding date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub(super) to: Option<String>,
    /// Formula id.
    #[arg(long, value_name = "ID")]
    pub(super) formula: Option<String>,
    /// Output format: a table to read, JSON or CSV for other programs.
    #[arg(long, value_enum, default_value_t, help_heading = "Output")]
    pub(super) format: ListFormat,
    /// Pharmacy settings file (for `database`).
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
}

impl FilterArgs {
    pub(super) fn filter(&self) -> Result<Filter> {
        let date = |flag: &str, v: &Option<String>| {
            v.as_deref()
                .map(|d| arg(flag, order::parse_date(d)))
                .transpose()
        };
        Ok(Filter {
            from: date("--from", &self.from)?,
            to: date("--to", &self.to)?,
            formula: self.formula.clone(),
            ..Filter::default()
        })
    }
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct LogArgs {
    #[command(subcommand)]
    sub: Option<LogCommand>,
    #[command(flatten)]
    filters: FilterArgs,
    /// Only batches for this patient (as on the order, whatever the case).
    #[arg(long, value_name = "NAME")]
    patient: Option<String>,
    /// Only batches of this prescriber (as on the order, whatever the case).
    #[arg(long, value_name = "NAME")]
    prescriber: Option<String>,
    /// Only batches of this prescription (Rx) number (whatever the case).
    #[arg(long, value_name = "RX")]
    rx: Option<String>,
    /// prepared, recorded, released, rejected or void.
    #[arg(long)]
    status: Option<String>,
    /// At most this many batches, newest first (default 200; 0 for all).
    #[arg(long, value_name = "N", default_value_t = 200)]
    limit: u64,
}

#[derive(Subcommand)]
enum LogCommand {
    /// Enter the JSON records (LOT.json) of batches made before the log existed.
    Import {
        /// Folder of JSON records (a `troche make` or `troche batch` output folder).
        dir: PathBuf,
        /// Pharmacy settings file (for `database`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub(super) fn run(ctx: &Context, a: &LogArgs) -> Result<i32> {
    if let Some(LogCommand::Import { dir, config }) = &a.sub {
        return import(ctx, dir, config.as_deref());
    }
    let mut f = a.filters.filter()?;
    let trimmed = |v: &Option<String>| v.as_deref().map(|v| v.trim().to_string());
    f.patient = trimmed(&a.patient);
    f.prescriber = trimmed(&a.prescriber);
    f.rx = trimmed(&a.rx);
    if let Some(s) = &a.status {
        if !logbook::STATES.contains(&s.as_str()) {
            return Err(Error::arg(
                "--status",
                format!("allowed: {}", logbook::STATES.join(", ")),
            ));
        }
        f.status = Some(s.clone());
    }
    f.limit = (a.limit > 0).then_some(a.limit);
    let mut db = ctx.read_with_config(a.filters.config.as_deref())?;
    let rows = logbook::list(db.as_mut(), &f)?;
    emit(
        &logbook::LIST_COLUMNS,
        &rows
            .into_iter()
            .map(logbook::Listed::cells)
            .collect::<Vec<_>>(),
        a.filters.format,
    )?;
    Ok(0)
}

fn import(ctx: &Context, dir: &std::path::Path, config: Option<&std::path::Path>) -> Result<i32> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        })
        .collect();
    paths.sort();
    // Every record is checked before any is entered: one bad record refuses the folder.
    let today = jiff::Zoned::now().date();
    let (mut checked, mut skipped, mut bad) = (Vec::new(), 0, 0);
    for p in &paths {
        let text = crate::library::read_text(p)?;
        match logbook::check_record(p, &text, today) {
            Ok(Some(r)) => checked.push(r),
            Ok(None) => {
                escape::eprintln(&format!(
                    "warning: skipped {}: not a troche record",
                    p.display()
                ));
                skipped += 1;
            }
            Err(problems) => {
                bad += 1;
                for m in problems {
                    escape::eprintln(&format!("error: {}: {m}", p.display()));
                }
            }
        }
    }
    if bad > 0 {
        return Err(Error::Input {
            file: dir.display().to_string(),
            line: None,
            key: None,
            message: format!(
                "{bad} of the records cannot be imported (each problem above); nothing was \
                 imported"
            ),
        });
    }
    // Importing records may start a new log, as making batches does.
    let settings = crate::config::load(config)?;
    // The practice log holds practice lots only (`db reset-practice` relies on it).
    if let Some(r) = checked
        .iter()
        .find(|r| ctx.practice(&settings) != logbook::is_practice(r.lot()))
    {
        return Err(Error::arg(
            "DIR",
            format!(
                "lot {} is {}; practice lots (P-...) and the pharmacy's never share a \
                 log; nothing was imported",
                r.lot(),
                if ctx.practice(&settings) {
                    "the pharmacy's, and this is the practice log"
                } else {
                    "a practice lot, and this is the pharmacy's log"
                }
            ),
        ));
    }
    let mut db = ctx.open(&settings)?;
    let actor = Actor::current();
    let (mut added, mut present) = (0, 0);
    db.write(|tx| {
        for r in &checked {
            if logbook::import_record(tx, r, &actor)? {
                added += 1;
            } else {
                present += 1;
            }
        }
        Ok(())
    })?;
    escape::eprintln(&format!(
        "imported {added} records; {present} already in the log; {skipped} files skipped"
    ));
    Ok(0)
}

/// A cell as JSON: a count (`units`, `version`) as an integer, as in every JSON output
/// (docs/json-format.md); anything else, an empty cell included, as text.
fn json_cell(header: &str, value: &str) -> serde_json::Value {
    match value.parse::<u64>() {
        Ok(n) if matches!(header, "units" | "version") => n.into(),
        _ if matches!(header, "units" | "version") && value.is_empty() => serde_json::Value::Null,
        _ => value.into(),
    }
}

/// Prints rows as a table, JSON (an array of objects) or CSV.
pub(super) fn emit(headers: &[&str], rows: &[Vec<String>], format: ListFormat) -> Result<()> {
    match format {
        ListFormat::Json => {
            let v: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    headers
                        .iter()
                        .zip(r)
                        .map(|(h, v)| ((*h).to_string(), json_cell(h, v)))
                        .collect()
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&v)
                .map_err(|e| Error::internal("cannot write JSON", e))?;
            s.push('\n');
            print(&s)
        }
        ListFormat::Csv => print(&crate::spreadsheet::csv(
            std::iter::once(headers.iter().map(|h| (*h).to_string()).collect())
                .chain(rows.iter().cloned()),
        )?),
        ListFormat::Table => {
            let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
            for r in rows {
                for (w, f) in widths.iter_mut().zip(r) {
                    *w = (*w).max(f.chars().count().min(30));
                }
            }
            // Each cell is written straight into the output: a listing of thousands of rows
            // would otherwise make a string for every cell, twice.
            let mut out = String::new();
            let line = |out: &mut String, fields: &mut dyn Iterator<Item = &str>| {
                let start = out.len();
                for (i, (f, w)) in fields.zip(&widths).enumerate() {
                    if i > 0 {
                        out.push_str("  ");
                    }
                    let n = f.chars().count();
                    let shown = if n > 30 {
                        out.extend(f.chars().take(29));
                        out.push('~');
                        30
                    } else {
                        out.push_str(f);
                        n
                    };
                    out.extend(std::iter::repeat_n(' ', w.saturating_sub(shown)));
                }
                let kept = out[start..].trim_end().len();
                out.truncate(start + kept);
                out.push('\n');
            };
            let upper: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
            line(&mut out, &mut upper.iter().map(String::as_str));
            for r in rows {
                line(&mut out, &mut r.iter().map(String::as_str));
            }
            if rows.is_empty() {
                out.push_str("(no batches)\n");
            }
            print(&out)
        }
    }
}
