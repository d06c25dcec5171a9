//! A batch's history: events appended in order and never changed (the database's triggers
//! refuse UPDATE and DELETE). Every event enters through [`append_event`], the one place that
//! numbers it, links it into the log's hash chain (`super::chain`), and the one place to
//! extend when an event must carry more (a signature).

use serde_json::json;

use crate::error::{Error, Result};
use crate::store::{Db, FromRow, Row, Transaction, Value};

use super::{Actor, VOID, now};

/// An event to append.
pub struct NewEvent<'a> {
    pub lot: &'a str,
    /// What happened: "prepared", "recorded", "released", "void", ...
    pub what: &'a str,
    /// The batch's status after it, when the event changes it.
    pub status: Option<&'a str>,
    /// Who (initials given with `--by`), when a person acts.
    pub who: Option<&'a str>,
    /// What `who` signed with their PIN: "recorded", "released", ... (none for an event no
    /// one signed).
    pub meaning: Option<&'a str>,
    pub details: &'a serde_json::Value,
}

/// An event as the log holds it.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub at: String,
    pub what: String,
    pub status: Option<String>,
    pub who: Option<String>,
    pub meaning: Option<String>,
    pub workstation: String,
    pub os_user: String,
    /// JSON.
    pub details: String,
}

impl FromRow for Event {
    fn from_row(mut r: Row) -> Result<Event> {
        Ok(Event {
            seq: r.int("seq")?,
            at: r.text("at")?,
            what: r.text("what")?,
            status: r.opt_text("status")?,
            who: r.opt_text("who")?,
            meaning: r.opt_text("meaning")?,
            workstation: r.text("workstation")?,
            os_user: r.text("os_user")?,
            details: r.text("details")?,
        })
    }
}

/// Appends an event, and sets the batch's status when the event changes it: the only code
/// that writes `batches.status`, in the event's own transaction.
pub fn append_event(tx: &mut Transaction<'_>, e: &NewEvent<'_>, actor: &Actor) -> Result<()> {
    append_event_at(tx, e, actor, &now())
}

/// [`append_event`] at the time `at` ([`now`](super::now), read inside the same transaction):
/// for an event whose document prints its time and is kept with it.
pub fn append_event_at(
    tx: &mut Transaction<'_>,
    e: &NewEvent<'_>,
    actor: &Actor,
    at: &str,
) -> Result<()> {
    let rows = tx.query(
        "SELECT max(seq) AS seq FROM events WHERE lot = $1",
        &[Value::text(e.lot)],
    )?;
    let seq = rows
        .into_iter()
        .next()
        .map_or(Ok(None), |mut r| r.opt_int("seq"))?
        .unwrap_or(0)
        + 1;
    tx.execute(
        "INSERT INTO events (lot, seq, at, what, status, who, meaning, workstation, os_user, \
         details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Value::text(e.lot),
            Value::int(seq),
            Value::text(at),
            Value::text(e.what),
            Value::opt(e.status),
            Value::opt(e.who),
            Value::opt(e.meaning),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
            Value::text(e.details.to_string()),
        ],
    )?;
    super::chain::link(tx, e.lot, seq)?;
    if let Some(s) = e.status {
        tx.execute(
            "UPDATE batches SET status = $1 WHERE lot = $2",
            &[Value::text(s), Value::text(e.lot)],
        )?;
    }
    Ok(())
}

/// Moves a batch to another state with event `e`, if its state now, read inside the same
/// transaction, is one of `allowed` (else exit 2, naming both): a command that raced
/// another can never undo what the other did.
pub fn transition(
    tx: &mut Transaction<'_>,
    allowed: &[&str],
    action: &str,
    e: &NewEvent<'_>,
    actor: &Actor,
) -> Result<()> {
    super::require_status(tx, e.lot, allowed, action)?;
    append_event(tx, e, actor)
}

/// Marks a batch void (its files could not be written), in a transaction of its own: its
/// lot stays taken for good.
pub fn void(db: &mut dyn Db, lot: &str, reason: &str, actor: &Actor) -> Result<()> {
    db.write(|tx| {
        append_event(
            tx,
            &NewEvent {
                lot,
                what: "void",
                status: Some(VOID),
                who: None,
                meaning: None,
                details: &json!({ "reason": reason }),
            },
            actor,
        )
    })
}

/// A batch's events, oldest first.
pub fn events(db: &mut dyn Db, lot: &str) -> Result<Vec<Event>> {
    db.query_as(
        "SELECT seq, at, what, status, who, meaning, workstation, os_user, details FROM events \
         WHERE lot = $1 ORDER BY seq",
        &[Value::text(lot)],
    )
}

/// Who signed each event of kinds `whats` of a batch: the people a separation-of-duties
/// rule must tell apart from the signer of the next.
pub fn signed_by(db: &mut dyn Db, lot: &str, whats: &[&str]) -> Result<Vec<String>> {
    let mut who = Vec::new();
    for e in events(db, lot)? {
        if whats.contains(&e.what.as_str())
            && let Some(w) = e.who
            && !who.contains(&w)
        {
            who.push(w);
        }
    }
    Ok(who)
}

/// Units of a batch dispensed so far (the `dispensed` events' `units`).
pub fn dispensed_units(db: &mut dyn Db, lot: &str) -> Result<i64> {
    let mut total: i64 = 0;
    for e in events(db, lot)? {
        if e.what == "dispensed" {
            let d: serde_json::Value = serde_json::from_str(&e.details)
                .map_err(|err| Error::stored(format!("a dispensed event of {lot}: {err}")))?;
            let n = d["units"]
                .as_i64()
                .ok_or_else(|| Error::stored(format!("a dispensed event of {lot} has no units")))?;
            total = total.saturating_add(n);
        }
    }
    Ok(total)
}

/// The details of the latest event of kind `what`, if any.
pub fn latest_event(db: &mut dyn Db, lot: &str, what: &str) -> Result<Option<serde_json::Value>> {
    let rows = db.query(
        "SELECT details FROM events WHERE lot = $1 AND what = $2 ORDER BY seq DESC LIMIT 1",
        &[Value::text(lot), Value::text(what)],
    )?;
    Ok(rows
        .into_iter()
        .next()
        .map(|mut r| r.text("details"))
        .transpose()?
        .and_then(|d| serde_json::from_str(&d).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, actor, enter};
    use crate::logbook::{self, RECORDED};

    #[test]
    fn events_are_numbered_set_the_status_and_cannot_be_changed() {
        let mut log = Log::new();
        enter(log.db(), "261130-001", jiff::civil::date(2026, 11, 30));
        log.db()
            .write(|tx| {
                append_event(
                    tx,
                    &NewEvent {
                        lot: "261130-001",
                        what: "recorded",
                        status: Some(RECORDED),
                        who: Some("JD"),
                        meaning: Some("recorded"),
                        details: &json!({"flags": ["unit:2"]}),
                    },
                    &actor(),
                )
            })
            .unwrap();
        let e = events(log.db(), "261130-001").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[1].seq, e[1].who.as_deref()), (2, Some("JD")));
        assert_eq!(
            (e[1].workstation.as_str(), e[1].os_user.as_str()),
            ("bench-1", "jd")
        );
        assert_eq!(
            logbook::batch(log.db(), "261130-001").unwrap().status,
            RECORDED
        );
        let d = latest_event(log.db(), "261130-001", "recorded")
            .unwrap()
            .unwrap();
        assert_eq!(d["flags"][0], "unit:2");
        assert!(
            latest_event(log.db(), "261130-001", "released")
                .unwrap()
                .is_none()
        );

        // A transition from a state the batch is not in is refused, and changes nothing.
        let released = NewEvent {
            lot: "261130-001",
            what: "released",
            status: Some(logbook::RELEASED),
            who: Some("RP"),
            meaning: Some("released"),
            details: &json!({}),
        };
        let e = log
            .db()
            .write(|tx| transition(tx, &[logbook::PREPARED], "releasing", &released, &actor()))
            .unwrap_err();
        assert!(e.to_string().contains("lot 261130-001 is recorded"), "{e}");
        assert_eq!(events(log.db(), "261130-001").unwrap().len(), 2);

        void(log.db(), "261130-001", "disk full", &actor()).unwrap();
        assert_eq!(logbook::batch(log.db(), "261130-001").unwrap().status, VOID);
        // History is append-only.
        let r = log
            .db()
            .execute("UPDATE events SET who = 'X' WHERE lot = '261130-001'", &[]);
        assert!(r.unwrap_err().to_string().contains("append-only"));
        let r = log.db().execute("DELETE FROM events", &[]);
        assert!(r.is_err());
    }
}
