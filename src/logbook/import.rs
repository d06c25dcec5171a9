//! `troche log import`: the JSON records of batches made before the log existed, entered as
//! batches of kind `imported` with an `imported` event.

use std::path::Path;

use jiff::civil::Date;
use serde_json::json;

use crate::error::Result;
use crate::store::{Transaction, Value};

use super::events::{NewEvent, append_event};
use super::lots::{exists, lot_number};
use super::{Actor, PREPARED, now, sha256_hex};

/// A JSON record whose every field was checked as `make` checks its own, ready to enter.
pub struct CheckedRecord {
    path: std::path::PathBuf,
    text: String,
    v: serde_json::Value,
    /// Normalized (`super::normalize_lot`).
    lot: String,
    date: Date,
    formula: String,
}

impl CheckedRecord {
    /// The record's lot, normalized.
    pub fn lot(&self) -> &str {
        &self.lot
    }
}

/// Checks a JSON file from a folder of records: `Ok(None)` when it is not a troche record
/// (no `calculation`: another program's JSON, left alone), else every field as `make` checks
/// it: the lot, dates that are dates (a compounding date not after `today`), integers, and
/// text without control characters or escape sequences. Every problem is returned, each
/// naming its field.
pub fn check_record(
    path: &Path,
    text: &str,
    today: Date,
) -> std::result::Result<Option<CheckedRecord>, Vec<String>> {
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    if !v["calculation"].is_object() {
        return Ok(None);
    }
    let mut problems = Vec::new();
    let mut text_field = |key: &str, value: &serde_json::Value, required: bool| match value {
        serde_json::Value::String(s) => {
            if let Err(m) = crate::escape::check(s, false) {
                problems.push(format!("`{key}` {m}"));
            }
            Some(s.clone())
        }
        serde_json::Value::Null if !required => None,
        other => {
            problems.push(format!("`{key}` must be text, not {other}"));
            None
        }
    };
    let lot = text_field("lot", &v["lot"], true);
    let formula = text_field("calculation.formula", &v["calculation"]["formula"], true);
    for key in ["rx", "patient", "prescriber", "beyond_use_rule"] {
        text_field(key, &v[key], false);
    }
    for key in ["recipe", "fingerprint"] {
        text_field(&format!("origin.{key}"), &v["origin"][key], false);
    }
    let components = v["components"].as_array().cloned().unwrap_or_default();
    for (i, c) in components.iter().enumerate() {
        for key in ["name", "lot"] {
            text_field(&format!("components[{i}].{key}"), &c[key], true);
        }
        for key in ["expiry", "manufacturer"] {
            text_field(&format!("components[{i}].{key}"), &c[key], false);
        }
    }
    let lot = lot.and_then(|l| match super::lots::normalize(&l) {
        Ok(l) => Some(l),
        Err(e) => {
            problems.push(format!("`lot`: {e}"));
            None
        }
    });
    let mut date_field = |key: &str, value: &serde_json::Value, required: bool| -> Option<Date> {
        match value.as_str().map(str::parse::<Date>) {
            Some(Ok(d)) => Some(d),
            None if value.is_null() && !required => None,
            _ => {
                problems.push(format!(
                    "`{key}` {} is not a date (YYYY-MM-DD)",
                    crate::escape::escape(&value.to_string())
                ));
                None
            }
        }
    };
    let date = date_field("compounding_date", &v["compounding_date"], true);
    date_field("beyond_use_date", &v["beyond_use_date"], false);
    for (i, c) in components.iter().enumerate() {
        date_field(&format!("components[{i}].expiry"), &c["expiry"], false);
    }
    if let Some(d) = date.filter(|d| *d > today) {
        problems.push(format!(
            "`compounding_date` {d} is after today ({today}): a record is of a batch made"
        ));
    }
    for key in ["version", "units_dispensed"] {
        let x = &v["calculation"][key];
        if !x.is_null() && x.as_i64().is_none_or(|n| n < 0) {
            problems.push(format!(
                "`calculation.{key}` must be a whole number, not {x}"
            ));
        }
    }
    let entry = &v["origin"]["entry"];
    if !entry.is_null() && entry.as_i64().is_none_or(|n| n < 0) {
        problems.push(format!(
            "`origin.entry` must be a whole number, not {entry}"
        ));
    }
    match (lot, date, formula) {
        (Some(lot), Some(date), Some(formula)) if problems.is_empty() => Ok(Some(CheckedRecord {
            path: path.to_path_buf(),
            text: text.to_string(),
            v,
            lot,
            date,
            formula,
        })),
        _ => Err(problems),
    }
}

/// Enters a checked record of a batch made before the log existed. Returns `false` when its
/// lot is in the log already (nothing is changed then).
pub fn import_record(db: &mut Transaction<'_>, r: &CheckedRecord, actor: &Actor) -> Result<bool> {
    let (path, text, v) = (r.path.as_path(), r.text.as_str(), &r.v);
    let (lot, date, formula) = (r.lot.clone(), r.date, r.formula.clone());
    let s = |k: &str| v[k].as_str().map(str::to_string);
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
        let json = crate::calc_report::record_json(&r);
        let path = log.out().join("261130-001.json");
        let today = jiff::civil::date(2026, 12, 5);
        let checked = check_record(&path, &json, today).unwrap().unwrap();
        let added = log
            .db()
            .write(|tx| import_record(tx, &checked, &actor()))
            .unwrap();
        assert!(added);
        let again = log
            .db()
            .write(|tx| import_record(tx, &checked, &actor()))
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

        // Another program's JSON is not a record; a record's every field is checked.
        assert!(
            check_record(&path, "{\"lot\": \"x\"}", today)
                .unwrap()
                .is_none()
        );
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["lot"] = json!("../../etc/x");
        v["patient"] = json!("Jane\u{1b}[2J");
        v["compounding_date"] = json!("2099-01-01");
        v["components"][0]["expiry"] = json!("not a date");
        let problems = check_record(&path, &v.to_string(), today)
            .map(|_| ())
            .unwrap_err();
        let all = problems.join("\n");
        for says in [
            "`lot`",
            "`patient` holds the control character U+001B",
            "`compounding_date` 2099-01-01 is after today",
            "`components[0].expiry` \"not a date\" is not a date",
        ] {
            assert!(all.contains(says), "{says}: {all}");
        }
        v["lot"] = json!("");
        let all = check_record(&path, &v.to_string(), today)
            .map(|_| ())
            .unwrap_err()
            .join("\n");
        assert!(all.contains("at least one letter or digit"), "{all}");
        assert_eq!(
            logbook::list(log.db(), &Filter::default()).unwrap().len(),
            1
        );
    }
}
