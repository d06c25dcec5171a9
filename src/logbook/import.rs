//! `troche log import`: the JSON records of batches made before the log existed, entered as
//! batches of kind `imported` with an `imported` event.

use std::path::Path;

use jiff::civil::Date;
use serde_json::json;

use crate::error::{Error, Result};
use crate::store::{Transaction, Value};

use super::events::{NewEvent, append_event};
use super::lots::{exists, lot_number};
use super::{Actor, PREPARED, now, sha256_hex};

/// Enters a JSON record of a batch made before the log existed. Returns `false` when its lot
/// is in the log already (nothing is changed then).
pub fn import_record(
    db: &mut Transaction<'_>,
    path: &Path,
    text: &str,
    actor: &Actor,
) -> Result<bool> {
    let bad = |m: &str| Error::Input {
        file: path.display().to_string(),
        line: None,
        key: None,
        message: m.to_string(),
    };
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(&format!("not JSON: {e}")))?;
    let s = |k: &str| v[k].as_str().map(str::to_string);
    let lot = s("lot").ok_or_else(|| bad("no `lot`: not a troche record"))?;
    let date = s("compounding_date")
        .and_then(|d| d.parse::<Date>().ok())
        .ok_or_else(|| bad("no valid `compounding_date`: not a troche record"))?;
    let formula = v["calculation"]["formula"]
        .as_str()
        .ok_or_else(|| bad("no `calculation.formula`: not a troche record"))?
        .to_string();
    if exists(db, &lot)? {
        return Ok(false);
    }
    let number = lot_number(&lot);
    db.execute(
        "INSERT INTO batches (lot, lot_prefix, lot_seq, kind, compounding_date, formula_id, \
         formula_version, rx, patient, prescriber, units, bud, bud_rule, status, record_json, \
         recipe, recipe_entry, fingerprint, out_dir, created_at, workstation, os_user) VALUES \
         ($1, $2, $3, 'imported', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21)",
        &[
            Value::text(lot.clone()),
            Value::Text(number.as_ref().map(|n| n.0.clone())),
            Value::Int(number.as_ref().map(|n| n.1)),
            Value::text(date.to_string()),
            Value::text(formula),
            Value::Int(v["calculation"]["version"].as_i64()),
            Value::Text(s("rx")),
            Value::Text(s("patient")),
            Value::Text(s("prescriber")),
            Value::Int(v["calculation"]["units_dispensed"].as_i64()),
            Value::Text(s("beyond_use_date")),
            Value::Text(s("beyond_use_rule")),
            Value::text(PREPARED),
            Value::text(text),
            Value::Text(v["origin"]["recipe"].as_str().map(String::from)),
            Value::Int(v["origin"]["entry"].as_i64()),
            Value::Text(v["origin"]["fingerprint"].as_str().map(String::from)),
            Value::Text(path.parent().map(|p| p.display().to_string())),
            Value::text(now()),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
        ],
    )?;
    if let Some(cs) = v["components"].as_array() {
        for (i, c) in cs.iter().enumerate() {
            db.execute(
                "INSERT INTO components (lot, position, name, component_lot, expiry, \
                 manufacturer) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Value::text(lot.clone()),
                    Value::int(i64::try_from(i).unwrap_or(i64::MAX)),
                    Value::text(c["name"].as_str().unwrap_or_default()),
                    Value::text(c["lot"].as_str().unwrap_or_default()),
                    Value::Text(c["expiry"].as_str().map(String::from)),
                    Value::Text(c["manufacturer"].as_str().map(String::from)),
                ],
            )?;
        }
    }
    db.execute(
        "INSERT INTO files (lot, kind, path, sha256, bytes) VALUES ($1, 'json', $2, $3, $4)",
        &[
            Value::text(lot.clone()),
            Value::text(path.display().to_string()),
            Value::text(sha256_hex(text.as_bytes())),
            Value::int(i64::try_from(text.len()).unwrap_or(i64::MAX)),
        ],
    )?;
    append_event(
        db,
        &NewEvent {
            lot: &lot,
            what: "imported",
            status: Some(PREPARED),
            who: None,
            meaning: None,
            details: &json!({"file": path.display().to_string()}),
        },
        actor,
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, actor, record};
    use crate::logbook::{self, Filter};

    #[test]
    fn a_record_is_entered_once_and_a_non_record_is_refused() {
        let mut log = Log::new();
        let r = record("261130-001", jiff::civil::date(2026, 11, 30));
        let json = crate::report::record_json(&r);
        let path = log.out().join("261130-001.json");
        let added = log
            .db()
            .write(|tx| import_record(tx, &path, &json, &actor()))
            .unwrap();
        assert!(added);
        let again = log
            .db()
            .write(|tx| import_record(tx, &path, &json, &actor()))
            .unwrap();
        assert!(!again, "a lot in the log already is left alone");
        let b = logbook::batch(log.db(), "261130-001").unwrap();
        assert_eq!((b.kind.as_str(), b.status.as_str()), ("imported", PREPARED));
        assert_eq!(b.patient.as_deref(), Some("Jane Q. Patient"));
        assert_eq!(
            logbook::recall(log.db(), "K-77", &Filter::default())
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            logbook::files(log.db(), "261130-001").unwrap()[0].kind,
            "json"
        );
        assert_eq!(
            logbook::events(log.db(), "261130-001").unwrap()[0].what,
            "imported"
        );
        // It cannot be printed again: no formula text came with it.
        assert_eq!(
            logbook::rebuild(log.db(), "261130-001")
                .map(drop)
                .unwrap_err()
                .exit_code(),
            2
        );

        let e = log
            .db()
            .write(|tx| import_record(tx, &path, "{\"lot\": \"x\"}", &actor()))
            .unwrap_err();
        assert!(matches!(e, Error::Input { .. }), "{e}");
        assert_eq!(
            logbook::list(log.db(), &Filter::default()).unwrap().len(),
            1
        );
    }
}
