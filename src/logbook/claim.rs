//! What a batch claims: the entry it was made for, so that the log, not the files in a folder,
//! decides whether an entry was made. The key is the entry's content (formula and its version,
//! the strength of each active, the units, Rx and patient), its compounding date, and its
//! occurrence among entries of the same content that day (first, second, ...): two identical
//! entries of one recipe are two batches, a refill on another day is a new batch, and a
//! recipe's layout, comments and spelling of a strength ("100 mg", "0.1 g") do not matter.
//!
//! The key is stored in `batches.fingerprint` and checked inside the write transaction that
//! assigns lots. Logs written before it hold the FNV-1a fingerprint of the entry's text
//! (`crate::recipe::Entry::fingerprint`, 16 hex digits, no occurrence): one of those is read
//! as the occurrence it was made for when a rerun names the same text and date, each stored
//! batch answering one entry only.

use jiff::civil::Date;

use crate::batch_record::Record;
use crate::error::Result;
use crate::store::{Db, Transaction, Value};

use super::{VOID, sha256_hex};

/// Marks a key of this kind, so it can never be taken for the fingerprint of a recipe's text.
const PREFIX: &str = "e1-";

/// The content and date of a batch: what identical entries share.
pub fn content_of(record: &Record) -> String {
    // Each active's strength in grams or millilitres, normalized, so "100 mg" and "0.1 g"
    // are one strength; with the form it is of (salt or moiety).
    let strengths: Vec<(String, String, String)> = record
        .calc
        .ingredients
        .iter()
        .filter_map(|i| {
            let a = i.active.as_ref()?;
            Some((
                i.name.clone(),
                a.strength.in_base().normalize().to_string(),
                a.strength_form.clone(),
            ))
        })
        .collect();
    let content = serde_json::json!([
        record.formula.id,
        record.formula.version,
        strengths,
        record.calc.units_dispensed,
        record.calc.units_prepared,
        record.order.rx,
        record.order.patient,
        record.date.to_string(),
    ]);
    // 128 bits: no two entries a pharmacy makes collide.
    sha256_hex(content.to_string().as_bytes())[..32].to_string()
}

/// The key of the `occurrence`-th entry (from 1) of `content`.
pub fn key(content: &str, occurrence: u32) -> String {
    format!("{PREFIX}{content}-{occurrence}")
}

/// A batch that holds a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub lot: String,
    pub date: Date,
    pub status: String,
    /// The recipe it was made from, as that run named it; none for `make`.
    pub recipe: Option<String>,
    /// The folder its files were written to, absolute.
    pub out_dir: Option<String>,
}

/// The newest batch not voided that holds `key`: newest by its place in the hash chain, so a
/// remake answers for the batch it replaced.
pub fn holder(db: &mut dyn Db, key: &str) -> Result<Option<Claimed>> {
    find(
        db,
        "b.fingerprint = $1",
        &[Value::text(key), Value::text(VOID)],
    )
}

/// A batch of a log from before the claims, made for the entry whose text has fingerprint
/// `legacy` on `date`, that `taken` does not hold (an earlier entry of this run answered it).
pub fn legacy_holder(
    db: &mut dyn Db,
    legacy: &str,
    date: Date,
    taken: impl Fn(&str) -> bool,
) -> Result<Option<Claimed>> {
    let rows = db.query(
        "SELECT b.lot FROM batches b WHERE b.fingerprint = $1 AND b.compounding_date = $2 \
         AND b.status <> $3 ORDER BY b.lot",
        &[
            Value::text(legacy),
            Value::text(date.to_string()),
            Value::text(VOID),
        ],
    )?;
    for mut r in rows {
        let lot = r.text("lot")?;
        if !taken(&lot) {
            return find(db, "b.lot = $1", &[Value::text(lot), Value::text(VOID)]);
        }
    }
    Ok(None)
}

fn find(db: &mut dyn Db, clause: &str, params: &[Value]) -> Result<Option<Claimed>> {
    let rows = db.query(
        &format!(
            "SELECT b.lot, b.compounding_date, b.status, b.recipe, b.out_dir FROM batches b \
             LEFT JOIN chain c ON c.lot = b.lot AND c.seq = 1 WHERE {clause} \
             AND b.status <> $2 ORDER BY COALESCE(c.n, 0) DESC LIMIT 1"
        ),
        params,
    )?;
    let Some(mut r) = rows.into_iter().next() else {
        return Ok(None);
    };
    let lot = r.text("lot")?;
    let date = super::queries::stored_date(&lot, &r.text("compounding_date")?)?;
    Ok(Some(Claimed {
        lot,
        date,
        status: r.text("status")?,
        recipe: r.opt_text("recipe")?,
        out_dir: r.opt_text("out_dir")?,
    }))
}

/// The key a batch made outside a recipe (`make`) holds: the first occurrence of its content
/// that no batch holds yet, so a recipe run later that day finds it made. The batches of
/// the formula that day are read at once (by the index on formula and date): one query
/// however many there are.
pub fn next_free(tx: &mut Transaction<'_>, record: &Record) -> Result<String> {
    let content = content_of(record);
    let prefix = format!("{PREFIX}{content}-");
    let rows = tx.query(
        "SELECT fingerprint FROM batches WHERE formula_id = $1 AND compounding_date = $2 \
         AND status <> $3 AND fingerprint IS NOT NULL",
        &[
            Value::text(record.formula.id.clone()),
            Value::text(record.date.to_string()),
            Value::text(VOID),
        ],
    )?;
    let mut held = std::collections::HashSet::new();
    for mut r in rows {
        if let Some(n) = r
            .text("fingerprint")?
            .strip_prefix(&prefix)
            .and_then(|n| n.parse::<u32>().ok())
        {
            held.insert(n);
        }
    }
    // Among the first `held.len() + 1` one is free.
    let last = u32::try_from(held.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let first = (1..=last).find(|n| !held.contains(n)).unwrap_or(last);
    Ok(key(&content, first))
}

/// Links a remake to the batch it replaces, in the transaction that entered it: an event on
/// each, naming the other.
pub fn link_remake(
    tx: &mut Transaction<'_>,
    old: &str,
    new: &str,
    by: Option<&str>,
    actor: &super::Actor,
) -> Result<()> {
    for (lot, what, details) in [
        (old, "remade", serde_json::json!({ "as": new })),
        (new, "remake", serde_json::json!({ "of": old })),
    ] {
        super::append_event(
            tx,
            &super::NewEvent {
                lot,
                what,
                status: None,
                who: by,
                meaning: None,
                details: &details,
            },
            actor,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, enter};

    #[test]
    fn keys_carry_the_occurrence_and_never_look_like_a_text_fingerprint() {
        assert_eq!(key("ab", 2), "e1-ab-2");
        assert_ne!(key("ab", 1), key("ab", 2));
        assert_ne!(key("ab", 1).len(), 16);
    }

    #[test]
    fn a_batch_entered_by_make_holds_the_first_free_occurrence() {
        let mut log = Log::new();
        let date = jiff::civil::date(2026, 11, 30);
        let made = enter(log.db(), "261130-001", date);
        let content = content_of(&made);
        let first = holder(log.db(), &key(&content, 1)).unwrap().unwrap();
        assert_eq!((first.lot.as_str(), first.date), ("261130-001", date));
        enter(log.db(), "261130-002", date);
        let second = holder(log.db(), &key(&content, 2)).unwrap().unwrap();
        assert_eq!(second.lot, "261130-002");
        // Void, it holds nothing.
        crate::logbook::void(
            log.db(),
            "261130-001",
            "disk full",
            &crate::logbook::testing::actor(),
        )
        .unwrap();
        assert_eq!(holder(log.db(), &key(&content, 1)).unwrap(), None);
        // The next takes the first occurrence free again.
        enter(log.db(), "261130-003", date);
        let again = holder(log.db(), &key(&content, 1)).unwrap().unwrap();
        assert_eq!(again.lot, "261130-003");
    }
}
