//! Entering a new batch: its row, its component lots, the SHA-256 of each file to be printed,
//! the formula text it was calculated from (once per text), and its `prepared` event, all in
//! the write transaction that decided its lot.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use crate::batch_record::Record;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::store::{Db, Transaction, Value};

use super::events::{NewEvent, append_event};
use super::lots::lot_number;
use super::snapshot::{OrderSnapshot, SettingsSnapshot};
use super::{Actor, PREPARED, now, sha256_hex};

/// One batch to enter in the log.
pub struct NewBatch<'a> {
    pub record: &'a Record,
    /// "batch" (make, batch), "worksheet" or "label" (one document), "imported".
    pub kind: &'a str,
    pub settings: &'a Settings,
    pub out_dir: Option<&'a Path>,
    /// The files that will be printed, with their bytes (hashed here).
    pub files: &'a [(PathBuf, Vec<u8>)],
    /// The record JSON (`report::record_json`).
    pub record_json: &'a str,
    /// Who prepared it, signed with their PIN (none in a log that has no people yet).
    pub prepared_by: Option<&'a str>,
}

fn file_kind(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with("-worksheet.pdf") {
        "worksheet".into()
    } else if name.ends_with("-label.pdf") {
        "label".into()
    } else if Path::new(&name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        "json".into()
    } else {
        name
    }
}

/// Enters a batch with its `prepared` event, after its lot was decided by a
/// [`LotCounter`](super::LotCounter) in the same transaction.
pub fn insert(db: &mut Transaction<'_>, b: &NewBatch<'_>, actor: &Actor) -> Result<()> {
    let r = b.record;
    // The text stored is the one the record's formula was parsed from, by construction.
    let text = &r.formula.text;
    let sha = text.sha256().to_string();
    if db
        .query(
            "SELECT 1 AS found FROM formula_texts WHERE sha256 = $1",
            &[Value::text(sha.clone())],
        )?
        .is_empty()
    {
        db.execute(
            "INSERT INTO formula_texts (sha256, formula_id, version, text) VALUES ($1, $2, $3, $4)",
            &[
                Value::text(sha.clone()),
                Value::text(r.formula.id.clone()),
                Value::int(i64::from(r.formula.version)),
                Value::text(text.as_str()),
            ],
        )?;
    }
    // A lot given by hand is not numbered: it never moves the automatic count.
    let number = r.order.lot.is_none().then(|| lot_number(&r.lot)).flatten();
    let origin = r.origin.as_ref();
    // A batch run gives each entry its claim; `make` takes the first free one of its content,
    // so a recipe run later that day finds the batch made.
    let claim = match origin {
        Some(o) => Some(o.fingerprint.clone()),
        None if b.kind == "batch" => Some(super::claim::next_free(db, r)?),
        None => None,
    };
    let order_json = serde_json::to_string(&OrderSnapshot::of(&r.order))
        .map_err(|e| Error::database("storing the order", e))?;
    let settings_json = serde_json::to_string(&SettingsSnapshot::of(b.settings))
        .map_err(|e| Error::database("storing the settings", e))?;
    let at = now();
    db.execute(
        "INSERT INTO batches (lot, lot_prefix, lot_seq, kind, compounding_date, formula_id, \
         formula_version, formula_sha256, rx, patient, prescriber, units, bud, bud_rule, status, \
         order_json, settings_json, record_json, recipe, recipe_entry, fingerprint, out_dir, \
         created_at, workstation, os_user, seal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
        &[
            Value::text(r.lot.clone()),
            Value::Text(number.as_ref().map(|n| n.0.clone())),
            Value::Int(number.as_ref().map(|n| n.1)),
            Value::text(b.kind),
            Value::text(r.date.to_string()),
            Value::text(r.formula.id.clone()),
            Value::int(i64::from(r.formula.version)),
            Value::text(sha),
            Value::opt(r.order.rx.as_deref()),
            Value::opt(r.order.patient.as_deref()),
            Value::opt(r.order.prescriber.as_deref()),
            Value::int(i64::from(r.calc.units_dispensed)),
            Value::text(r.bud.date.to_string()),
            Value::text(r.bud.rule.clone()),
            Value::text(PREPARED),
            Value::text(order_json),
            Value::text(settings_json),
            Value::text(b.record_json),
            Value::opt(origin.map(|o| o.recipe.as_str())),
            Value::Int(origin.and_then(|o| i64::try_from(o.entry).ok())),
            Value::Text(claim),
            Value::Text(b.out_dir.map(|d| {
                std::path::absolute(d)
                    .unwrap_or_else(|_| d.to_path_buf())
                    .display()
                    .to_string()
            })),
            Value::text(at),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
            Value::opt(r.seal.as_deref()),
        ],
    )?;
    for (i, c) in r.order.components.iter().enumerate() {
        db.execute(
            "INSERT INTO components (lot, position, name, component_lot, expiry, manufacturer) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::text(r.lot.clone()),
                Value::int(i64::try_from(i).unwrap_or(i64::MAX)),
                Value::text(c.name.clone()),
                Value::text(c.lot.clone()),
                Value::Text(c.expiry.map(|d| d.to_string())),
                Value::opt(c.manufacturer.as_deref()),
            ],
        )?;
    }
    let mut files = Vec::new();
    for (p, bytes) in b.files {
        let sha = sha256_hex(bytes);
        let kind = file_kind(p);
        db.execute(
            "INSERT INTO files (lot, kind, path, sha256, bytes) VALUES ($1, $2, $3, $4, $5)",
            &[
                Value::text(r.lot.clone()),
                Value::text(kind.clone()),
                Value::text(p.display().to_string()),
                Value::text(sha.clone()),
                Value::int(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            ],
        )?;
        // The bytes printed are kept, so a reprint is the first print whatever the layout
        // is by then.
        db.execute(
            "INSERT INTO documents (lot, kind, content) VALUES ($1, $2, $3)",
            &[
                Value::text(r.lot.clone()),
                Value::text(kind.clone()),
                Value::text(BASE64.encode(bytes)),
            ],
        )?;
        files.push(json!({"kind": kind, "path": p.display().to_string(), "sha256": sha}));
    }
    append_event(
        db,
        &NewEvent {
            lot: &r.lot,
            what: "prepared",
            status: Some(PREPARED),
            who: b.prepared_by,
            meaning: b.prepared_by.map(|_| "prepared"),
            details: &json!({"kind": b.kind, "files": files}),
        },
        actor,
    )
}

/// Keeps a document printed for `lot` after it was entered (a filled-in record, kind
/// "record-N"; the release record, kind "release"): its `files` row with its SHA-256 and its
/// bytes in `documents`, so `reprint` writes it again. Such rows are chained through the
/// event that prints them, whose details hold the same SHA-256, not through the batch's first
/// event.
pub fn keep_document(
    tx: &mut Transaction<'_>,
    lot: &str,
    kind: &str,
    path: &Path,
    bytes: &[u8],
) -> Result<String> {
    let sha = sha256_hex(bytes);
    tx.execute(
        "INSERT INTO files (lot, kind, path, sha256, bytes) VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::text(lot),
            Value::text(kind),
            Value::text(path.display().to_string()),
            Value::text(sha.clone()),
            Value::int(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        ],
    )?;
    tx.execute(
        "INSERT INTO documents (lot, kind, content) VALUES ($1, $2, $3)",
        &[
            Value::text(lot),
            Value::text(kind),
            Value::text(BASE64.encode(bytes)),
        ],
    )?;
    Ok(sha)
}

/// The bytes of a document printed for `lot` (its kind: "worksheet", "label", "json"), as the
/// log keeps them, checked against the SHA-256 its `files` row holds; `None` when the log
/// holds no bytes of it (a batch entered before they were kept).
pub fn document(db: &mut dyn Db, lot: &str, kind: &str) -> Result<Option<Vec<u8>>> {
    let rows = db.query(
        "SELECT d.content, f.sha256 FROM documents d JOIN files f ON f.lot = d.lot \
         AND f.kind = d.kind WHERE d.lot = $1 AND d.kind = $2",
        &[Value::text(lot), Value::text(kind)],
    )?;
    let Some(mut r) = rows.into_iter().next() else {
        return Ok(None);
    };
    let content = r.text("content")?;
    let want = r.text("sha256")?;
    match BASE64.decode(content.as_bytes()) {
        Ok(bytes) if sha256_hex(&bytes) == want => Ok(Some(bytes)),
        _ => Err(Error::stored(format!(
            "lot {lot}: the {kind} kept in the log does not match the SHA-256 printed; \
             nothing was written"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, enter};
    use crate::logbook::{self, PREPARED};

    #[test]
    fn a_new_batch_has_its_row_components_files_formula_text_and_prepared_event() {
        let mut log = Log::new();
        let made = enter(log.db(), "261130-001", jiff::civil::date(2026, 11, 30));
        let row = logbook::batch(log.db(), "261130-001").unwrap();
        assert_eq!(row.status, PREPARED);
        assert_eq!(row.kind, "batch");
        assert_eq!(row.formula_id, made.formula.id);
        assert_eq!(row.patient.as_deref(), Some("Jane Q. Patient"));
        assert_eq!(row.out_dir.as_deref(), Some("/out"));
        let lots = logbook::components(log.db(), "261130-001").unwrap();
        assert_eq!(
            (lots[0].component_lot.as_str(), lots[0].expiry.as_deref()),
            ("K-77", Some("2027-06-30"))
        );
        let files = logbook::files(log.db(), "261130-001").unwrap();
        assert_eq!(files[0].kind, "worksheet");
        assert_eq!(files[0].sha256, sha256_hex(b"%PDF"));
        assert_eq!(files[0].bytes, 4);
        let events = logbook::events(log.db(), "261130-001").unwrap();
        assert_eq!((events[0].seq, events[0].what.as_str()), (1, "prepared"));
        // A second batch of the same formula stores its text once.
        enter(log.db(), "261130-002", jiff::civil::date(2026, 11, 30));
        let n = log
            .db()
            .query("SELECT count(*) AS n FROM formula_texts", &[])
            .unwrap()[0]
            .int("n")
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn files_are_kinded_by_name() {
        assert_eq!(
            file_kind(Path::new("/o/261130-001-worksheet.pdf")),
            "worksheet"
        );
        assert_eq!(file_kind(Path::new("/o/261130-001-label.pdf")), "label");
        assert_eq!(file_kind(Path::new("/o/261130-001.JSON")), "json");
        assert_eq!(file_kind(Path::new("/o/other.pdf")), "other.pdf");
    }
}
