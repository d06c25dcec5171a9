//! The finished units of a controlled preparation, by batch lot: made, dispensed, set aside
//! as retained samples, destroyed (witnessed), returned by a patient. Each is an event of the
//! batch in the compounding log (its hash chain); the balance is worked out from them, never
//! stored, and no event may take a pool below zero.
//!
//! The units a batch holds are in three pools: on hand to dispense (made − dispensed − kept −
//! destroyed from it), retained samples (kept − destroyed from them) and patient returns held
//! for destruction (returned − destroyed from them; a return is never dispensed again). The
//! batch's balance is their sum: made − dispensed − destroyed + returned.

use serde_json::{Value as J, json};

use crate::error::{Error, Result};
use crate::logbook::{self, Actor, Event, NewEvent};
use crate::store::{Db, Transaction, Value};

/// The events of finished units, as the log names them.
pub const KEPT: &str = "kept";
pub const DESTROYED: &str = "destroyed";
pub const RETURNED: &str = "returned";

/// Where destroyed units come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// On hand to dispense.
    Stock,
    /// Retained samples.
    Retained,
    /// Patient returns.
    Returned,
}

impl Pool {
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Stock => "stock",
            Pool::Retained => "retained",
            Pool::Returned => "returned",
        }
    }

    fn parse(s: Option<&str>) -> Pool {
        match s {
            Some("retained") => Pool::Retained,
            Some("returned") => Pool::Returned,
            _ => Pool::Stock,
        }
    }
}

/// A batch's units, as its events leave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Units {
    pub made: i64,
    pub dispensed: i64,
    pub kept: i64,
    pub destroyed: i64,
    pub returned: i64,
    /// On hand to dispense.
    pub on_hand: i64,
    /// Retained samples still held.
    pub retained: i64,
    /// Patient returns held for destruction.
    pub held_returns: i64,
}

impl Units {
    /// Everything the batch still holds: made − dispensed − destroyed + returned.
    pub fn balance(&self) -> i64 {
        self.on_hand
            .saturating_add(self.retained)
            .saturating_add(self.held_returns)
    }

    fn pool(&self, p: Pool) -> i64 {
        match p {
            Pool::Stock => self.on_hand,
            Pool::Retained => self.retained,
            Pool::Returned => self.held_returns,
        }
    }

    /// The units after one more event (`units` of kind `what`), as it stands: `None` only
    /// if a count overflows.
    pub fn apply(&self, what: &str, units: i64, pool: Pool) -> Option<Units> {
        let mut u = self.clone();
        match what {
            logbook::DISPENSED => {
                u.dispensed = u.dispensed.checked_add(units)?;
                u.on_hand = u.on_hand.checked_sub(units)?;
            }
            KEPT => {
                u.kept = u.kept.checked_add(units)?;
                u.on_hand = u.on_hand.checked_sub(units)?;
                u.retained = u.retained.checked_add(units)?;
            }
            DESTROYED => {
                u.destroyed = u.destroyed.checked_add(units)?;
                match pool {
                    Pool::Stock => u.on_hand = u.on_hand.checked_sub(units)?,
                    Pool::Retained => u.retained = u.retained.checked_sub(units)?,
                    Pool::Returned => u.held_returns = u.held_returns.checked_sub(units)?,
                }
            }
            RETURNED => {
                u.returned = u.returned.checked_add(units)?;
                u.held_returns = u.held_returns.checked_add(units)?;
            }
            _ => {}
        }
        Some(u)
    }

    /// The units after one more event, `None` if a pool would go below zero (or a count
    /// overflow): what a new event must not do.
    pub fn after(&self, what: &str, units: i64, pool: Pool) -> Option<Units> {
        self.apply(what, units, pool)
            .filter(|u| u.on_hand >= 0 && u.retained >= 0 && u.held_returns >= 0)
    }
}

/// Units an event moves, from its details; 0 for an event that moves none.
pub fn units_of(e: &Event) -> (i64, Pool) {
    let d: J = serde_json::from_str(&e.details).unwrap_or(J::Null);
    (
        d["units"].as_i64().unwrap_or(0),
        Pool::parse(d["pool"].as_str()),
    )
}

/// The units a batch made: none for a batch rejected or void (never stock to dispense).
pub fn made(b: &logbook::Batch) -> i64 {
    match b.status.as_str() {
        logbook::REJECTED | logbook::VOID => 0,
        _ => b.units.unwrap_or(0),
    }
}

/// A batch's units from its row and events, in order; the events with what they move.
pub fn of(db: &mut dyn Db, lot: &str) -> Result<(logbook::Batch, Units, Vec<Event>)> {
    let b = logbook::batch(db, lot)?;
    let events = logbook::events(db, &b.lot)?;
    let made = made(&b);
    let mut u = Units {
        made,
        on_hand: made,
        ..Units::default()
    };
    for e in &events {
        let (n, pool) = units_of(e);
        // Summed as the history stands: a pool below zero is shown, never hidden.
        u = u
            .apply(&e.what, n, pool)
            .ok_or_else(|| crate::error::overflow("the units of a batch"))?;
    }
    Ok((b, u, events))
}

/// Whether a batch was made from a lot of a controlled substance in stock.
pub fn is_controlled(db: &mut dyn Db, lot: &str) -> Result<bool> {
    Ok(!db
        .query(
            "SELECT c.lot FROM components c JOIN stock_lots s ON s.lot = c.component_lot \
             WHERE c.lot = $1 AND s.schedule IS NOT NULL LIMIT 1",
            &[Value::text(lot)],
        )?
        .is_empty())
}

/// Every batch made from a controlled stock lot, by lot, with the schedule of its drug.
pub fn controlled_batches(db: &mut dyn Db) -> Result<Vec<(String, String)>> {
    let rows = db.query(
        "SELECT c.lot, min(s.schedule) AS schedule FROM components c JOIN stock_lots s ON \
         s.lot = c.component_lot WHERE s.schedule IS NOT NULL GROUP BY c.lot ORDER BY c.lot",
        &[],
    )?;
    rows.into_iter()
        .map(|mut r| Ok((r.text("lot")?, r.text("schedule")?)))
        .collect()
}

/// A movement of finished units to enter.
pub struct Move<'a> {
    pub what: &'a str,
    pub units: i64,
    pub pool: Pool,
    pub reason: &'a str,
    pub who: &'a str,
    pub witness: Option<&'a str>,
}

/// Enters a movement of a controlled batch's units, decided inside the transaction: refused
/// (exit 2, naming `--units`) if the batch is not a controlled preparation, is in a state
/// that holds no units, or the movement would take a pool below zero. Returns the units after.
pub fn enter(tx: &mut Transaction<'_>, lot: &str, m: &Move<'_>, actor: &Actor) -> Result<Units> {
    if m.units <= 0 {
        return Err(Error::arg("--units", "give at least 1"));
    }
    let (b, u, _) = of(tx, lot)?;
    if !is_controlled(tx, &b.lot)? {
        return Err(Error::arg(
            "LOT",
            format!(
                "lot {} was made from no controlled stock lot; finished units are kept for \
                 controlled preparations",
                b.lot
            ),
        ));
    }
    let allowed: &[&str] = if m.what == RETURNED {
        &[logbook::DISPENSED]
    } else {
        &[logbook::RECORDED, logbook::RELEASED, logbook::DISPENSED]
    };
    if !allowed.contains(&b.status.as_str()) {
        return Err(Error::arg(
            "LOT",
            format!(
                "lot {} is {}; units are {} only from a batch that is {}",
                b.lot,
                b.status,
                m.what,
                allowed.join(" or ")
            ),
        ));
    }
    if m.what == RETURNED && u.returned.saturating_add(m.units) > u.dispensed {
        return Err(Error::arg(
            "--units",
            format!(
                "lot {} has dispensed {} units and {} came back already; {} more cannot be \
                 returned",
                b.lot, u.dispensed, u.returned, m.units
            ),
        ));
    }
    let after = u.after(m.what, m.units, m.pool).ok_or_else(|| {
        let (pool, what) = match (m.what, m.pool) {
            (KEPT, _) | (_, Pool::Stock) => ("on hand", "units"),
            (_, Pool::Retained) => ("retained", "retained samples"),
            (_, Pool::Returned) => ("held as patient returns", "returned units"),
        };
        Error::arg(
            "--units",
            format!(
                "lot {} has {} {what} {pool}; {} cannot be {}. Nothing was changed",
                b.lot,
                u.pool(if m.what == KEPT { Pool::Stock } else { m.pool }),
                m.units,
                m.what
            ),
        )
    })?;
    let mut details = json!({ "units": m.units, "reason": m.reason });
    if m.what == DESTROYED {
        details["pool"] = json!(m.pool.as_str());
    }
    if let Some(w) = m.witness {
        details["witness"] = json!(w);
    }
    logbook::append_event(
        tx,
        &NewEvent {
            lot: &b.lot,
            what: m.what,
            status: None,
            who: Some(m.who),
            meaning: Some(m.what),
            details: &details,
        },
        actor,
    )?;
    Ok(after)
}

/// The event of a dated inventory of a batch's units, and of a discrepancy's resolution.
pub const INVENTORY: &str = "inventory";
pub const RESOLVED: &str = "resolved";

/// A batch's inventories whose count differed from the book and are not yet resolved (a
/// later `resolved` event of the batch names the inventory's event number).
pub fn open_discrepancies(events: &[Event]) -> Vec<&Event> {
    let details = |e: &Event| serde_json::from_str::<J>(&e.details).unwrap_or(J::Null);
    events
        .iter()
        .filter(|e| e.what == INVENTORY && details(e)["flagged"].as_bool() == Some(true))
        .filter(|c| {
            !events
                .iter()
                .any(|r| r.what == RESOLVED && details(r)["count"].as_i64() == Some(c.seq))
        })
        .collect()
}

/// What an inventory's note says of a batch's count: "counted 8 units, book 9, discrepancy
/// -1 FLAGGED".
pub fn count_note(e: &Event) -> String {
    let d: J = serde_json::from_str(&e.details).unwrap_or(J::Null);
    format!(
        "counted {} units, book {}, discrepancy {}{}",
        d["counted"],
        d["book"],
        d["discrepancy"],
        if d["flagged"].as_bool() == Some(true) {
            " FLAGGED"
        } else {
            ""
        }
    )
}

/// Appends an event of a batch and returns its number in the batch's history.
pub fn append(tx: &mut Transaction<'_>, e: &NewEvent<'_>, actor: &Actor) -> Result<i64> {
    logbook::append_event(tx, e, actor)?;
    let rows = tx.query(
        "SELECT max(seq) AS seq FROM events WHERE lot = $1",
        &[Value::text(e.lot)],
    )?;
    rows.into_iter()
        .next()
        .map_or(Ok(None), |mut r| r.opt_int("seq"))?
        .ok_or_else(|| Error::stored(format!("lot {} has no event", e.lot)))
}
