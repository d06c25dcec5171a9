//! Stock lots: the receipt (name, lot, expiry, manufacturer, certificate values), the lot's
//! state (quarantined until a pharmacist releases it), and its balance, which is always the
//! sum of its movements, never a stored figure.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde_json::json;

use crate::error::{Error, Result};
use crate::formula::Schedule;
use crate::logbook::Actor;
use crate::store::{Db, FromRow, Row, Transaction, Value};

use super::events::{NewEvent, append};
use super::potency::{Basis, Certificate};
use super::{QUARANTINED, from_micro};

/// A stock lot as the log holds it, with its balance.
#[derive(Debug, Clone)]
pub struct StockLot {
    pub lot: String,
    /// The stated link to formulas: an ingredient's name as a formula writes it.
    pub name: String,
    pub manufacturer: String,
    pub expiry: Date,
    /// "g" or "mL".
    pub unit: String,
    pub assay: Option<String>,
    pub assay_basis: Option<String>,
    pub water: Option<String>,
    /// The as-is potency, percent, worked out at receipt.
    pub potency: Option<String>,
    pub form: Option<String>,
    pub schedule: Option<String>,
    pub supplier: Option<String>,
    pub invoice: Option<String>,
    pub order_form: Option<String>,
    pub received_at: String,
    pub status: String,
    /// On hand, in millionths of `unit`: the sum of the lot's movements.
    pub on_hand: i64,
    /// Reserved for batches printed and not yet recorded (nor voided or rejected).
    pub reserved: i64,
}

impl StockLot {
    /// What can be taken for a new batch.
    pub fn available(&self) -> i64 {
        self.on_hand.saturating_sub(self.reserved)
    }

    pub fn potency(&self) -> Option<Decimal> {
        self.potency.as_deref().and_then(|p| p.parse().ok())
    }

    /// Whether the lot is a stock trituration the pharmacy made (a batch of a `trituration`
    /// formula, entered at its release under the batch's lot), whose potency is the drug's
    /// concentration in it.
    pub fn is_trituration(&self) -> bool {
        self.form.as_deref() == Some(super::trituration::FORM)
    }

    /// The certificate's figures when it stated the assay on the dried or anhydrous basis.
    pub fn certificate(&self) -> Option<Certificate> {
        let basis = Basis::from_text(self.assay_basis.as_deref()?)?;
        (basis != Basis::AsIs).then_some(())?;
        Some(Certificate {
            assay: self.assay.as_deref()?.parse().ok()?,
            basis,
            water: self.water.as_deref()?.parse().ok()?,
        })
    }

    /// A quantity of this lot for a reader: "12.5 g".
    pub fn show(&self, micro: i64) -> String {
        format!("{} {}", from_micro(micro), self.unit)
    }
}

impl FromRow for StockLot {
    fn from_row(mut r: Row) -> Result<StockLot> {
        let lot = r.text("lot")?;
        let expiry = r.text("expiry")?;
        Ok(StockLot {
            expiry: expiry
                .parse()
                .map_err(|_| Error::stored(format!("stock lot {lot} has the expiry {expiry:?}")))?,
            name: r.text("name")?,
            manufacturer: r.text("manufacturer")?,
            unit: r.text("unit")?,
            assay: r.opt_text("assay")?,
            assay_basis: r.opt_text("assay_basis")?,
            water: r.opt_text("water")?,
            potency: r.opt_text("potency")?,
            form: r.opt_text("form")?,
            schedule: r.opt_text("schedule")?,
            supplier: r.opt_text("supplier")?,
            invoice: r.opt_text("invoice")?,
            order_form: r.opt_text("order_form")?,
            received_at: r.text("received_at")?,
            status: r.text("status")?,
            on_hand: r.int("on_hand")?,
            reserved: r.int("reserved")?,
            lot,
        })
    }
}

/// The receipt's columns, read by [`StockLot`].
const COLUMNS: &str = "l.lot, l.name, l.manufacturer, l.expiry, l.unit, l.assay, l.assay_basis, \
    l.water, l.potency, l.form, l.schedule, l.supplier, l.invoice, l.order_form, l.received_at, \
    l.status";

/// A reservation counts while its batch is neither void nor rejected: a batch that is, holds
/// nothing back, with no event needed to say so.
const HOLDS: &str = "e.reserved IS NOT NULL AND e.batch IS NOT NULL AND (b.status IS NULL OR \
    b.status NOT IN ('void', 'rejected'))";

/// Some lots with their balances, each summed by its own indexed look-up: for a few lots.
pub(super) fn select_where(clause: &str) -> String {
    format!(
        "SELECT {COLUMNS}, \
         CAST(COALESCE((SELECT sum(e.quantity) FROM stock_events e WHERE e.lot = l.lot), 0) \
         AS BIGINT) AS on_hand, \
         CAST(COALESCE((SELECT sum(e.reserved) FROM stock_events e LEFT JOIN batches b ON \
         b.lot = e.batch WHERE e.lot = l.lot AND {HOLDS}), 0) AS BIGINT) AS reserved \
         FROM stock_lots l WHERE {clause} ORDER BY l.expiry, l.lot"
    )
}

/// Every lot with its balance: the movements summed in one pass, grouped by lot.
fn select_all() -> String {
    format!(
        "SELECT {COLUMNS}, CAST(COALESCE(h.q, 0) AS BIGINT) AS on_hand, \
         CAST(COALESCE(r.q, 0) AS BIGINT) AS reserved FROM stock_lots l \
         LEFT JOIN (SELECT lot, sum(quantity) AS q FROM stock_events GROUP BY lot) h \
         ON h.lot = l.lot \
         LEFT JOIN (SELECT e.lot, sum(e.reserved) AS q FROM stock_events e LEFT JOIN batches b \
         ON b.lot = e.batch WHERE {HOLDS} GROUP BY e.lot) r ON r.lot = l.lot \
         ORDER BY l.expiry, l.lot"
    )
}

/// The lot a typed lot string names (its id, or a lot number naming one: see
/// [`super::identity`]), whatever the case; a number naming several is refused.
pub fn find(db: &mut dyn Db, lot: &str) -> Result<Option<StockLot>> {
    super::identity::find_where(db, "LOT", lot, |_| true)
}

/// One lot, or "no such lot" naming the flag.
pub fn get(db: &mut dyn Db, flag: &str, lot: &str) -> Result<StockLot> {
    super::identity::find_where(db, flag, lot, |_| true)?.ok_or_else(|| {
        Error::arg(
            flag,
            format!(
                "no stock lot \"{}\" in the log; `troche stock` lists the lots on hand",
                crate::escape::escape(lot.trim())
            ),
        )
    })
}

/// The lot of an id the log itself holds (an event's lot), exactly.
fn by_id(db: &mut dyn Db, id: &str) -> Result<StockLot> {
    super::identity::by_id(db, id)?
        .ok_or_else(|| Error::stored(format!("stock lot {id} is not in the log")))
}

/// Every lot, soonest expiry first; with `all` false only those holding something.
pub fn list(db: &mut dyn Db, all: bool) -> Result<Vec<StockLot>> {
    let lots: Vec<StockLot> = db.query_as(&select_all(), &[])?;
    Ok(lots.into_iter().filter(|l| all || l.on_hand != 0).collect())
}

/// The lots of a controlled substance, of any name.
pub fn scheduled(db: &mut dyn Db) -> Result<Vec<StockLot>> {
    db.query_as(&select_where("l.schedule IS NOT NULL"), &[])
}

/// The lots whose name matches ingredient `name` by the stated link (see
/// [`super::names_match`]): its full name or its short name, in any case. Looked up by the
/// index on the lower-case name, then checked by the rule itself.
pub fn by_name(db: &mut dyn Db, name: &str) -> Result<Vec<StockLot>> {
    let full = name.trim().to_ascii_lowercase();
    let short = crate::formula::short_name(name.trim()).to_ascii_lowercase();
    let lots: Vec<StockLot> = db.query_as(
        &select_where("lower(l.name) IN ($1, $2)"),
        &[Value::text(full), Value::text(short)],
    )?;
    Ok(lots
        .into_iter()
        .filter(|l| super::names_match(name, &l.name))
        .collect())
}

/// Whether the log keeps any stock: a log without it makes batches as it always did.
pub fn any(db: &mut dyn Db) -> Result<bool> {
    Ok(!db
        .query("SELECT lot FROM stock_lots LIMIT 1", &[])?
        .is_empty())
}

/// What a receipt records, checked.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub name: String,
    pub lot: String,
    pub manufacturer: String,
    pub expiry: Date,
    pub unit: &'static str,
    pub quantity: i64,
    pub assay: Option<Decimal>,
    pub assay_basis: Option<String>,
    pub water: Option<Decimal>,
    pub potency: Option<Decimal>,
    pub form: Option<String>,
    pub schedule: Option<Schedule>,
    pub supplier: Option<String>,
    pub invoice: Option<String>,
    pub order_form: Option<String>,
    pub certificate_sha256: Option<String>,
    /// How the potency was worked out, for the receipt and the event.
    pub potency_step: Option<String>,
}

/// Enters a received lot, in quarantine, with its `received` movement; returns the id it is
/// entered under (its lot number, or the number and its place when another ingredient's or
/// manufacturer's lot has that number: [`super::identity`]).
pub fn receive(tx: &mut Transaction<'_>, r: &Receipt, by: &str, actor: &Actor) -> Result<String> {
    let id = super::identity::new_id(tx, &r.lot, &r.name, &r.manufacturer)?;
    let s = |v: &Option<String>| Value::opt(v.as_deref());
    let d = |v: Option<Decimal>| Value::opt(v.map(|x| x.normalize().to_string()).as_deref());
    tx.execute(
        "INSERT INTO stock_lots (lot, name, manufacturer, expiry, unit, assay, assay_basis, \
         water, potency, form, schedule, supplier, invoice, order_form, certificate_sha256, \
         received_at, workstation, os_user, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        &[
            Value::text(id.clone()),
            Value::text(r.name.clone()),
            Value::text(r.manufacturer.clone()),
            Value::text(r.expiry.to_string()),
            Value::text(r.unit),
            d(r.assay),
            s(&r.assay_basis),
            d(r.water),
            d(r.potency),
            s(&r.form),
            Value::opt(r.schedule.map(Schedule::as_str)),
            s(&r.supplier),
            s(&r.invoice),
            s(&r.order_form),
            s(&r.certificate_sha256),
            Value::text(jiff::Timestamp::now().to_string()),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
            Value::text(QUARANTINED),
        ],
    )?;
    append(
        tx,
        &NewEvent {
            lot: &id,
            what: "received",
            status: Some(QUARANTINED),
            quantity: Some(r.quantity),
            who: Some(by),
            meaning: Some("received"),
            details: json!({ "potency_step": r.potency_step }),
            ..NewEvent::default()
        },
        actor,
    )?;
    Ok(id)
}

/// Moves a lot to `status` with an event, if its status now (read inside the transaction)
/// is one of `from`.
pub fn transition(
    tx: &mut Transaction<'_>,
    lot: &str,
    from: &[&str],
    e: &NewEvent<'_>,
    actor: &Actor,
) -> Result<StockLot> {
    let l = get(tx, "LOT", lot)?;
    if !from.contains(&l.status.as_str()) {
        return Err(Error::arg(
            "LOT",
            format!(
                "stock lot {} is {}; only a lot that is {} can be {}",
                l.lot,
                l.status,
                from.join(" or "),
                e.what
            ),
        ));
    }
    append(
        tx,
        &NewEvent {
            lot: &l.lot,
            ..clone_event(e)
        },
        actor,
    )?;
    Ok(l)
}

fn clone_event<'a>(e: &NewEvent<'a>) -> NewEvent<'a> {
    NewEvent {
        lot: e.lot,
        what: e.what,
        status: e.status,
        quantity: e.quantity,
        reserved: e.reserved,
        batch: e.batch,
        who: e.who,
        meaning: e.meaning,
        witness: e.witness,
        details: e.details.clone(),
    }
}

/// A movement of `quantity` (signed) out of or into a lot, refused if the balance would go
/// below what is reserved for printed batches, or below zero.
pub fn move_quantity(
    tx: &mut Transaction<'_>,
    flag: &str,
    lot: &str,
    e: &NewEvent<'_>,
    actor: &Actor,
) -> Result<(StockLot, i64)> {
    let l = by_id(tx, lot)?;
    let q = e.quantity.unwrap_or(0);
    let after = l
        .on_hand
        .checked_add(q)
        .ok_or_else(|| crate::error::overflow("the stock balance"))?;
    if after < 0 {
        return Err(Error::arg(
            flag,
            format!(
                "lot {} holds {}; taking {} would leave less than nothing. Nothing was changed",
                l.lot,
                l.show(l.on_hand),
                l.show(-q)
            ),
        ));
    }
    if q < 0 && after < l.reserved {
        return Err(Error::arg(
            flag,
            format!(
                "lot {} holds {}, of which {} is reserved for batches printed and not yet \
                 recorded; taking {} would leave less than they need. Nothing was changed",
                l.lot,
                l.show(l.on_hand),
                l.show(l.reserved),
                l.show(-q)
            ),
        ));
    }
    append(
        tx,
        &NewEvent {
            lot: &l.lot,
            ..clone_event(e)
        },
        actor,
    )?;
    Ok((l, after))
}
