//! The controlled-substance perpetual inventory: every lot of a scheduled drug has a book
//! balance that is the sum of its movements (received, used in batches, wasted, lost,
//! adjusted), never negative; counts are compared with it, and a discrepancy beyond the
//! balance's readability stays flagged on every report until a pharmacist resolves it.

use serde_json::Value as J;

use crate::error::{Error, Result};
use crate::store::{Db, FromRow, Row, Value};

use super::{StockLot, scheduled};

/// The lots of a controlled drug: those whose name names the same listed substance as
/// `drug` ("ketamine" for "Ketamine hydrochloride, USP"), or whose name is `drug`; a refusal
/// naming `--drug` when stock holds none.
pub fn lots_of(db: &mut dyn Db, drug: &str) -> Result<Vec<StockLot>> {
    let wanted = crate::controlled::lookup(drug).map(|s| s.name);
    let lots: Vec<StockLot> = scheduled(db)?
        .into_iter()
        .filter(|l| {
            l.schedule.is_some()
                && (super::names_match(&l.name, drug)
                    || wanted.is_some_and(|w| {
                        crate::controlled::lookup(&l.name).is_some_and(|s| s.name == w)
                    }))
        })
        .collect();
    if lots.is_empty() {
        return Err(Error::arg(
            "--drug",
            format!(
                "stock holds no lot of a controlled substance called {}",
                crate::escape::escape(drug.trim())
            ),
        ));
    }
    Ok(lots)
}

/// Every controlled lot.
pub fn controlled(db: &mut dyn Db) -> Result<Vec<StockLot>> {
    scheduled(db)
}

/// One lot of `drug` (its id, or a lot number naming one of the drug's lots), or a refusal
/// naming the flag and the lots there are.
pub fn lot_of(db: &mut dyn Db, drug: &str, lot: &str) -> Result<StockLot> {
    let lots = lots_of(db, drug)?;
    let ids = lots
        .iter()
        .map(|l| l.lot.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    super::identity::one_of("--lot", lot, lots.clone())?.ok_or_else(|| {
        Error::arg(
            "--lot",
            format!(
                "{} is not a lot of {}; its lots: {ids}",
                crate::escape::escape(lot.trim()),
                drug.trim(),
            ),
        )
    })
}

/// A stock event as a report shows it.
#[derive(Debug, Clone)]
pub struct Movement {
    pub seq: i64,
    pub at: String,
    pub lot: String,
    pub what: String,
    pub quantity: Option<i64>,
    pub batch: Option<String>,
    pub who: Option<String>,
    pub witness: Option<String>,
    pub details: J,
}

impl FromRow for Movement {
    fn from_row(mut r: Row) -> Result<Movement> {
        let details = r.text("details")?;
        Ok(Movement {
            seq: r.int("seq")?,
            at: r.text("at")?,
            lot: r.text("lot")?,
            what: r.text("what")?,
            quantity: r.opt_int("quantity")?,
            batch: r.opt_text("batch")?,
            who: r.opt_text("who")?,
            witness: r.opt_text("witness")?,
            details: serde_json::from_str(&details).unwrap_or(J::Null),
        })
    }
}

impl Movement {
    /// What the event says beside its quantity: the reason, the count, the form number.
    pub fn note(&self) -> String {
        let d = &self.details;
        let mut parts = Vec::new();
        for key in ["reason", "ingredient", "form_106", "note"] {
            if let Some(v) = d[key].as_str() {
                parts.push(v.to_string());
            }
        }
        if self.what == "counted" {
            parts.push(format!(
                "counted {}, book {}, discrepancy {}{}",
                d["counted"].as_str().unwrap_or_default(),
                d["book"].as_str().unwrap_or_default(),
                d["discrepancy"].as_str().unwrap_or_default(),
                if d["flagged"].as_bool() == Some(true) {
                    " FLAGGED"
                } else {
                    ""
                }
            ));
        }
        if self.what == "report signed" {
            parts.push(format!(
                "report {} to {} signed, SHA-256 {}",
                d["from"].as_str().unwrap_or_default(),
                d["to"].as_str().unwrap_or_default(),
                d["sha256"].as_str().unwrap_or_default()
            ));
        }
        if let Some(c) = d["count"].as_i64() {
            parts.push(format!("resolves count {c}"));
        }
        parts.join("; ")
    }
}

/// The stock chain's last event: its number and SHA-256, what a signed report was drawn
/// from.
pub fn chain_head(db: &mut dyn Db) -> Result<(i64, String)> {
    super::chain::head(db)
}

/// A lot's events, in order.
pub fn movements(db: &mut dyn Db, lot: &str) -> Result<Vec<Movement>> {
    db.query_as(
        "SELECT seq, at, lot, what, quantity, batch, who, witness, details FROM stock_events \
         WHERE lot = $1 ORDER BY seq",
        &[Value::text(lot)],
    )
}

/// Counts of a lot whose discrepancy was flagged and is not yet resolved.
pub fn open_discrepancies(moves: &[Movement]) -> Vec<&Movement> {
    moves
        .iter()
        .filter(|m| {
            (m.what == "counted" || m.what == "inventory")
                && m.details["flagged"].as_bool() == Some(true)
        })
        .filter(|c| {
            !moves
                .iter()
                .any(|r| r.what == "resolved" && r.details["count"].as_i64() == Some(c.seq))
        })
        .collect()
}
