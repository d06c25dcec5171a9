//! `troche lot LOT`: one batch's whole record in the log and its events.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value as J, json};

use crate::error::{Error, Result};
use crate::logbook;

use super::context::Context;
use super::{Format, print};

#[derive(Args)]
pub(super) struct LotArgs {
    /// The batch's lot.
    lot: String,
    /// Output format: the record to read, or JSON.
    #[arg(long, value_enum, default_value_t, help_heading = "Output")]
    format: Format,
    /// Show only the batch's seal: the log's hash chain as it stood when its lot was
    /// assigned, as its worksheet prints it.
    #[arg(long)]
    seal: bool,
    /// Pharmacy settings file (for `database`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(super) fn run(ctx: &Context, a: &LotArgs) -> Result<i32> {
    let mut db = ctx.read_with_config(a.config.as_deref())?;
    let db = db.as_mut();
    let lot = &super::lot(&a.lot);
    let b = logbook::batch(db, lot)?;
    // Nothing is shown of a lot whose record does not verify.
    logbook::chain::verify_lot(db, &b.lot)?;
    if a.seal {
        let seal = b.seal.clone().ok_or_else(|| {
            Error::arg(
                "LOT",
                format!("lot {lot} was entered before the log kept seals; it has none"),
            )
        })?;
        print(&format!("{seal}\n"))?;
        return Ok(0);
    }
    let components = logbook::components(db, lot)?;
    let files = logbook::files(db, lot)?;
    let events = logbook::events(db, lot)?;
    let doc = json!({
        "lot": b.lot,
        "kind": b.kind,
        "status": b.status,
        "compounding_date": b.compounding_date,
        "formula": b.formula_id,
        "formula_version": b.formula_version,
        "formula_sha256": b.formula_sha256,
        "rx": b.rx,
        "patient": b.patient,
        "prescriber": b.prescriber,
        "units": b.units,
        "beyond_use_date": b.bud,
        "beyond_use_rule": b.bud_rule,
        "recipe": b.recipe,
        "recipe_entry": b.recipe_entry,
        "out_dir": b.out_dir,
        "created_at": b.created_at,
        "workstation": b.workstation,
        "os_user": b.os_user,
        "seal": b.seal,
        "components": components.iter().map(|c| json!({
            "name": c.name, "lot": c.component_lot, "expiry": c.expiry, "manufacturer": c.manufacturer
        })).collect::<Vec<_>>(),
        "files": files.iter().map(|f| json!({
            "kind": f.kind, "path": f.path, "sha256": f.sha256, "bytes": f.bytes
        })).collect::<Vec<_>>(),
        "events": events.iter().map(|e| json!({
            "seq": e.seq, "at": e.at, "what": e.what, "status": e.status,
            "who": e.who, "meaning": e.meaning, "workstation": e.workstation, "os_user": e.os_user,
            "details": serde_json::from_str::<J>(&e.details).unwrap_or(J::Null),
        })).collect::<Vec<_>>(),
        "record": serde_json::from_str::<J>(&b.record_json).unwrap_or(J::Null),
    });
    match a.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| Error::internal("cannot write JSON", e))?;
            s.push('\n');
            print(&s)?;
        }
        Format::Table => {
            // Writing to a `String` cannot fail: each `let _ =` below drops an `Ok(())`.
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
                "seal",
            ] {
                let v = match &doc[k] {
                    J::Null => continue,
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let _ = writeln!(out, "{k:<17} {v}");
            }
            let _ = writeln!(out, "\nComponent lots:");
            let or_empty = |s: &Option<String>| s.clone().unwrap_or_default();
            for c in &components {
                let _ = writeln!(
                    out,
                    "  {}  lot {}  expiry {}  {}",
                    c.name,
                    c.component_lot,
                    or_empty(&c.expiry),
                    or_empty(&c.manufacturer)
                );
            }
            let _ = writeln!(out, "\nFiles:");
            for f in &files {
                let _ = writeln!(out, "  {:<9} {}  sha256 {}", f.kind, f.path, f.sha256);
            }
            let _ = writeln!(out, "\nEvents:");
            for e in &events {
                let _ = writeln!(
                    out,
                    "  {:>3} {} {:<10} {:<9} {}{} ({}@{}) {}",
                    e.seq,
                    e.at,
                    e.what,
                    or_empty(&e.status),
                    or_empty(&e.who),
                    e.meaning
                        .as_ref()
                        .map_or(String::new(), |m| format!(" signed {m}")),
                    e.os_user,
                    e.workstation,
                    e.details
                );
            }
            print(&out)?;
        }
    }
    Ok(0)
}
