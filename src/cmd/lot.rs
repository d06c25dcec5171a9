//! `troche lot LOT`: one batch's whole record in the log and its events.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value as J, json};

use crate::error::{Error, Result};
use crate::logbook::{self, col};
use crate::store::Value;

use super::{Format, logged, print};

#[derive(Args)]
pub(super) struct LotArgs {
    /// The batch's lot.
    lot: String,
    /// Output format: the record to read, or JSON.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Pharmacy settings file (for `database`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(super) fn run(a: &LotArgs) -> Result<i32> {
    let mut db = logged::open_with_config(a.config.as_deref())?;
    let db = db.as_mut();
    let lot = a.lot.trim();
    let row = logbook::batch_row(db, lot)?;
    let components = db.query(
        "SELECT name, component_lot, expiry, manufacturer FROM components WHERE lot = $1 ORDER BY position",
        &[Value::text(lot)],
    )?;
    let files = db.query(
        "SELECT kind, path, sha256, bytes FROM files WHERE lot = $1 ORDER BY kind",
        &[Value::text(lot)],
    )?;
    let events = logbook::events(db, lot)?;
    let text = |i| J::from(row.opt_text(i));
    let doc = json!({
        "lot": row.text(col::LOT),
        "kind": text(col::KIND),
        "status": text(col::STATUS),
        "compounding_date": text(col::DATE),
        "formula": text(col::FORMULA),
        "formula_version": row.int(col::VERSION),
        "formula_sha256": text(col::FORMULA_SHA),
        "rx": text(col::RX),
        "patient": text(col::PATIENT),
        "prescriber": text(col::PRESCRIBER),
        "units": row.int(col::UNITS),
        "beyond_use_date": text(col::BUD),
        "beyond_use_rule": text(col::BUD_RULE),
        "recipe": text(col::RECIPE),
        "recipe_entry": row.int(col::ENTRY),
        "out_dir": text(col::OUT_DIR),
        "created_at": text(col::CREATED),
        "workstation": text(col::WORKSTATION),
        "os_user": text(col::OS_USER),
        "components": components.iter().map(|c| json!({
            "name": c.text(0), "lot": c.text(1), "expiry": c.opt_text(2), "manufacturer": c.opt_text(3)
        })).collect::<Vec<_>>(),
        "files": files.iter().map(|f| json!({
            "kind": f.text(0), "path": f.text(1), "sha256": f.text(2), "bytes": f.int(3)
        })).collect::<Vec<_>>(),
        "events": events.iter().map(|e| json!({
            "seq": e.int(0), "at": e.text(1), "what": e.text(2), "status": e.opt_text(3),
            "who": e.opt_text(4), "workstation": e.text(5), "os_user": e.text(6),
            "details": serde_json::from_str::<J>(&e.text(7)).unwrap_or(J::Null),
        })).collect::<Vec<_>>(),
        "record": serde_json::from_str::<J>(&row.text(col::RECORD)).unwrap_or(J::Null),
    });
    match a.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&doc).map_err(|e| Error::Render(e.into()))?;
            s.push('\n');
            print(&s)?;
        }
        Format::Table => {
            let mut out = String::new();
            for k in [
                "lot",
                "status",
                "kind",
                "compounding_date",
                "formula",
                "formula_version",
                "formula_sha256",
                "rx",
                "patient",
                "prescriber",
                "units",
                "beyond_use_date",
                "beyond_use_rule",
                "recipe",
                "out_dir",
                "created_at",
                "workstation",
                "os_user",
            ] {
                let v = match &doc[k] {
                    J::Null => continue,
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let _ = writeln!(out, "{k:<17} {v}");
            }
            let _ = writeln!(out, "\nComponent lots:");
            for c in &components {
                let _ = writeln!(
                    out,
                    "  {}  lot {}  expiry {}  {}",
                    c.text(0),
                    c.text(1),
                    c.text(2),
                    c.text(3)
                );
            }
            let _ = writeln!(out, "\nFiles:");
            for f in &files {
                let _ = writeln!(
                    out,
                    "  {:<9} {}  sha256 {}",
                    f.text(0),
                    f.text(1),
                    f.text(2)
                );
            }
            let _ = writeln!(out, "\nEvents:");
            for e in &events {
                let _ = writeln!(
                    out,
                    "  {:>3} {} {:<10} {:<9} {} ({}@{}) {}",
                    e.text(0),
                    e.text(1),
                    e.text(2),
                    e.text(3),
                    e.text(4),
                    e.text(6),
                    e.text(5),
                    e.text(7)
                );
            }
            print(&out)?;
        }
    }
    Ok(0)
}
