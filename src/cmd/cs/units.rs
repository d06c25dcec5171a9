//! `troche cs units`, `keep`, `destroy` and `return`: the finished units of a controlled
//! preparation by batch lot (`crate::stock::units`), each movement an event of the batch,
//! signed (destruction witnessed by a second person).

use crate::error::Result;
use crate::escape::eprintln;
use crate::logbook::{Actor, people};
use crate::stock::units::{self, DESTROYED, KEPT, Move, Pool, RETURNED, Units};
use crate::store::Db;

use super::super::log::{ListFormat, emit};

/// What a movement is, as `cs keep`, `cs destroy` and `cs return` give it.
pub(super) struct Asked<'a> {
    pub(super) lot: &'a str,
    pub(super) what: &'a str,
    pub(super) units: u32,
    pub(super) pool: Pool,
    pub(super) reason: &'a str,
}

/// Enters a movement signed by `by` (and `witness`), and says what the batch holds after it.
pub(super) fn enter(
    db: &mut dyn Db,
    a: &Asked<'_>,
    by: &people::Person,
    witness: Option<&people::Person>,
    actor: &Actor,
) -> Result<i32> {
    let lot = crate::logbook::normalize_lot(a.lot)?;
    let after = db.write(|tx| {
        match a.what {
            RETURNED => {
                people::require_pharmacist(tx, "--by", by, "receives a patient's return")?;
            }
            _ => {
                people::require_signer(tx, "--by", &by.initials)?;
            }
        }
        if let Some(w) = witness {
            people::require_signer(tx, "--witness", &w.initials)?;
        }
        units::enter(
            tx,
            &lot,
            &Move {
                what: a.what,
                units: i64::from(a.units),
                pool: a.pool,
                reason: a.reason,
                who: &by.initials,
                witness: witness.map(|w| w.initials.as_str()),
            },
            actor,
        )
    })?;
    let done = match a.what {
        KEPT => "kept as retained samples".to_string(),
        DESTROYED => format!(
            "destroyed (from {}), witnessed by {}",
            a.pool.as_str(),
            witness.map_or("", |w| w.initials.as_str())
        ),
        _ => "returned by the patient, held for destruction".to_string(),
    };
    eprintln(&format!(
        "lot {lot}: {} units {done}, signed by {}; {}",
        a.units,
        by.initials,
        holds(&after)
    ));
    Ok(0)
}

/// "28 units: 25 on hand, 2 retained, 1 returned".
fn holds(u: &Units) -> String {
    format!(
        "it holds {} units: {} on hand, {} retained, {} returned",
        u.balance(),
        u.on_hand,
        u.retained,
        u.held_returns
    )
}

/// `cs units LOT`: every movement of a batch's units with the balance after it.
pub(super) fn show(db: &mut dyn Db, lot: &str, format: ListFormat) -> Result<i32> {
    let lot = crate::logbook::normalize_lot(lot)?;
    let (batch, held, events) = units::of(db, &lot)?;
    let mut rows = vec![vec![
        String::new(),
        batch.compounding_date.clone(),
        "made".to_string(),
        held.made.to_string(),
        String::new(),
        held.made.to_string(),
        held.made.to_string(),
        "0".to_string(),
        "0".to_string(),
        String::new(),
        String::new(),
        format!(
            "{} units of {}, now {}",
            batch.units.unwrap_or(0),
            batch.formula_id,
            batch.status
        ),
    ]];
    let mut now = Units {
        made: held.made,
        on_hand: held.made,
        ..Units::default()
    };
    for e in &events {
        let (n, pool) = units::units_of(e);
        if ![crate::logbook::DISPENSED, KEPT, DESTROYED, RETURNED].contains(&e.what.as_str()) {
            continue;
        }
        now = now
            .apply(&e.what, n, pool)
            .ok_or_else(|| crate::error::overflow("the units of a batch"))?;
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
        let (into, out) = match e.what.as_str() {
            RETURNED => (n.to_string(), String::new()),
            KEPT => (String::new(), String::new()),
            _ => (String::new(), n.to_string()),
        };
        rows.push(vec![
            e.seq.to_string(),
            e.at.get(..19).map_or(e.at.clone(), |s| format!("{s}Z")),
            match (e.what.as_str(), pool) {
                (DESTROYED, p) => format!("destroyed ({})", p.as_str()),
                (KEPT, _) => format!("kept ({n})"),
                (w, _) => w.to_string(),
            },
            into,
            out,
            now.balance().to_string(),
            now.on_hand.to_string(),
            now.retained.to_string(),
            now.held_returns.to_string(),
            e.who.clone().unwrap_or_default(),
            details["witness"].as_str().unwrap_or_default().to_string(),
            details["reason"].as_str().unwrap_or_default().to_string(),
        ]);
    }
    emit(
        &[
            "event", "at", "what", "in", "out", "balance", "on_hand", "retained", "returned", "by",
            "witness", "reason",
        ],
        &rows,
        format,
    )?;
    eprintln(&format!("lot {lot}: {}", holds(&held)));
    for d in units::open_discrepancies(&events) {
        eprintln(&format!(
            "UNRESOLVED DISCREPANCY, inventory event {}: {}; resolve: `troche cs resolve {} \
             --batch {lot} --reason ...`",
            d.seq,
            units::count_note(d),
            d.seq
        ));
    }
    Ok(0)
}
