//! Appending to a stock lot's history: [`append`] is the one place a stock event is numbered,
//! chained and, when it changes the lot's status, the one writer of `stock_lots.status`.

use serde_json::{Value as J, json};

use crate::error::Result;
use crate::logbook::Actor;
use crate::store::{Transaction, Value};

use super::chain;

/// A stock event to append.
#[derive(Default)]
pub struct NewEvent<'a> {
    pub lot: &'a str,
    /// received, released, rejected, recalled, adjusted, reserved, used, wasted, loss,
    /// counted, resolved, inventory.
    pub what: &'a str,
    /// The lot's status after it, when the event changes it.
    pub status: Option<&'a str>,
    /// Change of the quantity on hand, in millionths of the lot's unit.
    pub quantity: Option<i64>,
    /// Change of the quantity reserved for batches printed and not yet recorded.
    pub reserved: Option<i64>,
    /// The batch (its lot) that reserved or used it.
    pub batch: Option<&'a str>,
    pub who: Option<&'a str>,
    pub meaning: Option<&'a str>,
    pub witness: Option<&'a str>,
    pub details: J,
}

/// Appends an event inside the caller's transaction; returns its number.
pub fn append(tx: &mut Transaction<'_>, e: &NewEvent<'_>, actor: &Actor) -> Result<i64> {
    let (last, prev) = chain::head(tx)?;
    let seq = last + 1;
    let at = jiff::Timestamp::now().to_string();
    let details = if e.details.is_null() {
        json!({})
    } else {
        e.details.clone()
    };
    let details = details.to_string();
    let opt = |v: Option<&str>| v.map_or(J::Null, |s| J::String(s.to_string()));
    let event = vec![
        json!(seq),
        J::String(at.clone()),
        J::String(e.lot.to_string()),
        J::String(e.what.to_string()),
        opt(e.status),
        e.quantity.map_or(J::Null, |q| json!(q)),
        e.reserved.map_or(J::Null, |q| json!(q)),
        opt(e.batch),
        opt(e.who),
        opt(e.meaning),
        opt(e.witness),
        J::String(actor.workstation.clone()),
        J::String(actor.os_user.clone()),
        J::String(details.clone()),
    ];
    let sha = chain::sha_of(tx, &prev, &event)?;
    let int = |v: Option<i64>| Value::Int(v);
    tx.execute(
        "INSERT INTO stock_events (seq, at, lot, what, status, quantity, reserved, batch, who, \
         meaning, witness, workstation, os_user, details, prev_sha256, sha256) VALUES ($1, $2, \
         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            Value::int(seq),
            Value::text(at),
            Value::text(e.lot),
            Value::text(e.what),
            Value::opt(e.status),
            int(e.quantity),
            int(e.reserved),
            Value::opt(e.batch),
            Value::opt(e.who),
            Value::opt(e.meaning),
            Value::opt(e.witness),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
            Value::text(details),
            Value::text(prev),
            Value::text(sha),
        ],
    )?;
    if let Some(s) = e.status {
        tx.execute(
            "UPDATE stock_lots SET status = $1 WHERE lot = $2",
            &[Value::text(s), Value::text(e.lot)],
        )?;
    }
    Ok(seq)
}
