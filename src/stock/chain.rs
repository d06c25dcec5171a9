//! The stock chain: every stock event carries the SHA-256 of the one before it and its own,
//! taken over its fields and, for a lot's `received` event, the lot's receipt row. A
//! movement changed, deleted or slipped in behind the triggers' back breaks the chain at that
//! event, as the batch chain (`crate::logbook::chain`) does for batches.

use serde_json::{Value as J, json};

use crate::error::Result;
use crate::logbook::{chain::GENESIS, sha256_hex};
use crate::store::{Db, Row, Value};

/// The event's columns hashed, in this order.
pub(super) const EVENT_COLUMNS: [&str; 14] = [
    "seq",
    "at",
    "lot",
    "what",
    "status",
    "quantity",
    "reserved",
    "batch",
    "who",
    "meaning",
    "witness",
    "workstation",
    "os_user",
    "details",
];

/// The receipt's columns, covered by the lot's `received` event.
pub(super) const LOT_COLUMNS: [&str; 18] = [
    "lot",
    "name",
    "manufacturer",
    "expiry",
    "unit",
    "assay",
    "assay_basis",
    "water",
    "potency",
    "form",
    "schedule",
    "supplier",
    "invoice",
    "order_form",
    "certificate_sha256",
    "received_at",
    "workstation",
    "os_user",
];

const INTEGER_COLUMNS: [&str; 3] = ["seq", "quantity", "reserved"];

fn cols(r: &mut Row, names: &[&str]) -> Result<Vec<J>> {
    crate::logbook::chain::row_values(r, names, &INTEGER_COLUMNS)
}

fn link_sha(prev: &str, event: &[J], covered: &J) -> String {
    sha256_hex(
        json!(["troche-stock-1", prev, event, covered])
            .to_string()
            .as_bytes(),
    )
}

/// The last stock event's number and SHA-256 (0 and 64 zeros for none).
pub(super) fn head(db: &mut dyn Db) -> Result<(i64, String)> {
    let rows = db.query(
        "SELECT seq, sha256 FROM stock_events ORDER BY seq DESC LIMIT 1",
        &[],
    )?;
    match rows.into_iter().next() {
        Some(mut r) => Ok((r.int("seq")?, r.text("sha256")?)),
        None => Ok((0, GENESIS.to_string())),
    }
}

fn receipt(db: &mut dyn Db, lot: &str) -> Result<J> {
    let rows = db.query(
        &format!(
            "SELECT {} FROM stock_lots WHERE lot = $1",
            LOT_COLUMNS.join(", ")
        ),
        &[Value::text(lot)],
    )?;
    match rows.into_iter().next() {
        Some(mut r) => Ok(J::Array(cols(&mut r, &LOT_COLUMNS)?)),
        None => Ok(J::Null),
    }
}

/// The SHA-256 an event written with these values must carry: `event` in
/// [`EVENT_COLUMNS`]' order.
pub(super) fn sha_of(db: &mut dyn Db, prev: &str, event: &[J]) -> Result<String> {
    let covered = if event[3] == json!("received") {
        receipt(db, event[2].as_str().unwrap_or_default())?
    } else {
        J::Null
    };
    Ok(link_sha(prev, event, &covered))
}

/// How many stock events the log holds.
pub fn length(db: &mut dyn Db) -> Result<i64> {
    Ok(head(db)?.0)
}

/// How many events are verified per query.
const PAGE: i64 = 5000;

/// Verifies the whole stock chain; the first event that does not hold, in words.
pub fn verify(db: &mut dyn Db) -> Result<Option<String>> {
    let (last, _) = head(db)?;
    let mut prev = GENESIS.to_string();
    let mut want = 1;
    let mut from = 1;
    while from <= last {
        let to = from.saturating_add(PAGE - 1);
        let rows = db.query(
            &format!(
                "SELECT {}, prev_sha256, sha256 FROM stock_events WHERE seq BETWEEN $1 AND $2 \
                 ORDER BY seq",
                EVENT_COLUMNS.join(", ")
            ),
            &[Value::int(from), Value::int(to)],
        )?;
        for mut r in rows {
            let event = cols(&mut r, &EVENT_COLUMNS)?;
            let seq = event[0].as_i64().unwrap_or_default();
            let lot = event[2].as_str().unwrap_or_default().to_string();
            if seq != want {
                return Ok(Some(format!("stock event {want} is missing")));
            }
            let stored_prev = r.text("prev_sha256")?;
            let stored = r.text("sha256")?;
            if stored_prev != prev {
                return Ok(Some(format!(
                    "stock event {seq} (lot {lot}) does not follow the event before it"
                )));
            }
            if sha_of(db, &prev, &event)? != stored {
                return Ok(Some(format!(
                    "stock event {seq} (lot {lot}) or its lot's receipt differs from what was \
                     chained"
                )));
            }
            prev = stored;
            want += 1;
        }
        from = to + 1;
    }
    if want <= last {
        return Ok(Some(format!("stock event {want} is missing")));
    }
    let orphans = db.query(
        "SELECT l.lot FROM stock_lots l WHERE NOT EXISTS (SELECT 1 FROM stock_events e \
         WHERE e.lot = l.lot AND e.what = 'received') ORDER BY l.lot LIMIT 1",
        &[],
    )?;
    if let Some(mut r) = orphans.into_iter().next() {
        return Ok(Some(format!(
            "stock lot {} has no received event: it is outside the chain",
            r.text("lot")?
        )));
    }
    Ok(None)
}
