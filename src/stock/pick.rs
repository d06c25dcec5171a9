//! Making a batch from stock: for each ingredient the order gives no component lot for, the
//! released lot that expires first and holds enough (first expiry, first out), never one that
//! is expired, quarantined, rejected or recalled. Its lot, expiry, manufacturer and potency go
//! into the order, so the worksheet prints them, the potency corrects the amount and the lot's
//! expiry caps the BUD. The quantities are reserved in the transaction that enters the batch,
//! taken off when its weights are recorded, and no longer held once it is void or rejected.
//!
//! A log that keeps no stock is not looked at further: batches are made as they always were.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde_json::json;

use crate::batch_record::Record;
use crate::calc::{Ingredient, Role};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::formula::{Formula, FormulaKind, name_matches};
use crate::logbook::Actor;
use crate::order::{AssaySpec, ComponentLot, FormSpec, Order};
use crate::store::{Transaction, Value};

use super::events::{NewEvent, append};
use super::form;
use super::{RELEASED, StockLot, by_name, from_micro, to_micro_up};

/// A lot drawn on by a batch.
#[derive(Debug, Clone)]
pub struct Picked {
    pub ingredient: String,
    pub lot: String,
    /// Reserved, in millionths of the lot's unit.
    pub quantity: i64,
    pub unit: String,
}

/// The flag a stock refusal names: the component lots of the order.
const FLAG: &str = "--component";

/// Chooses the stock lots of a batch about to be entered, inside its transaction, and
/// rebuilds its record with them. Nothing when the log keeps no stock.
pub fn choose(
    tx: &mut Transaction<'_>,
    record: &mut Record,
    settings: &Settings,
) -> Result<Vec<Picked>> {
    choose_with(tx, record, settings, &[])
}

/// [`choose`], with `pending` drawn on already by batches of the same transaction that are
/// not yet reserved in the log (a recipe run's chunk).
pub fn choose_with(
    tx: &mut Transaction<'_>,
    record: &mut Record,
    settings: &Settings,
    pending: &[Picked],
) -> Result<Vec<Picked>> {
    if !super::any(tx)? {
        return Ok(Vec::new());
    }
    let mut order = record.order.clone();
    let mut picks: Vec<(String, StockLot)> = Vec::new();
    let formula = record.formula.clone();
    let batch = Batch {
        formula: &formula,
        date: record.date,
        pending,
    };
    for ing in &record.calc.ingredients {
        let given = order
            .components
            .iter()
            .find(|c| name_matches(&ing.name, &c.name))
            .cloned();
        let picked = match given {
            Some(c) => batch.given(tx, &mut order, ing, &c)?,
            None => batch.stock_lot(tx, &mut order, settings, ing)?,
        };
        if let Some(l) = picked {
            picks.push((ing.name.clone(), l));
        }
    }
    if picks.is_empty() {
        return Ok(Vec::new());
    }
    rebuild(record, order, settings, &picks)?;
    reservations(record, &formula, picks)
}

/// What every lot of a batch is judged by: its formula, its compounding date, and what other
/// batches of the same transaction hold already.
struct Batch<'a> {
    formula: &'a Formula,
    date: Date,
    pending: &'a [Picked],
}

impl Batch<'_> {
    /// The form conversion lot `l` needs to serve as `name` (its molecular weight), or why it
    /// cannot.
    fn fits(&self, l: &StockLot, name: &str) -> Result<Option<Decimal>> {
        fits(self.formula, l, name)
    }

    /// A lot given by hand is drawn on when stock holds it; a scheduled active's must be, so
    /// that its perpetual inventory holds what the batch uses.
    fn given(
        &self,
        tx: &mut Transaction<'_>,
        order: &mut Order,
        ing: &Ingredient,
        c: &ComponentLot,
    ) -> Result<Option<StockLot>> {
        let scheduled = ing.active.as_ref().and_then(|a| a.schedule);
        // The lot of this ingredient (and of the manufacturer, when given) that the string
        // names: two ingredients' or manufacturers' lots may share a number.
        let named = super::identity::find_where(tx, FLAG, &c.lot, |l| {
            super::names_match(&ing.name, &l.name)
                && c.manufacturer
                    .as_deref()
                    .is_none_or(|m| m.trim().eq_ignore_ascii_case(&l.manufacturer))
        })?;
        match named {
            Some(mut l) => {
                held(&mut l, self.pending);
                usable(&l, &ing.name, self.date)?;
                if let Some(mw) = self.fits(&l, &ing.name)? {
                    converted(order, &ing.name, &l, mw);
                }
                if l.is_trituration() {
                    weigh_trituration(order, self.formula, &ing.name, &l)?;
                }
                // Entered as stock spells it, so `troche recall LOT` finds the batch.
                for k in &mut order.components {
                    if k.lot == c.lot {
                        k.lot.clone_from(&l.lot);
                    }
                }
                Ok(Some(l))
            }
            None if scheduled.is_some() => Err(Error::arg(
                FLAG,
                format!(
                    "{} is a controlled substance (Schedule {}) and lot {} is not in \
                     stock: every lot of it is received first (`troche stock receive`), \
                     so that its perpetual inventory holds what this batch uses",
                    ing.name,
                    scheduled.map_or("", |s| s.as_str()),
                    c.lot
                ),
            )),
            None => Ok(None),
        }
    }

    /// The lot stock gives an ingredient the order gives none for, entered in the order;
    /// nothing when stock holds none of it (and it is not scheduled).
    fn stock_lot(
        &self,
        tx: &mut Transaction<'_>,
        order: &mut Order,
        settings: &Settings,
        ing: &Ingredient,
    ) -> Result<Option<StockLot>> {
        let Some(lots) = self.candidates(tx, ing)? else {
            return Ok(None);
        };
        let prior = assay_for(&order.assays, &ing.name, self.formula.actives.len());
        let (l, conversion) = self.first_expiry(settings, ing, &lots, prior)?;
        enter(order, ing, &l, conversion, prior);
        Ok(Some(l))
    }

    /// Stock's lots of `ing`, with what this transaction holds of them already. Refused when
    /// the name matches stock under several names (which one is meant is the pharmacist's
    /// call), and for a scheduled active stock holds no lot of.
    fn candidates(
        &self,
        tx: &mut Transaction<'_>,
        ing: &Ingredient,
    ) -> Result<Option<Vec<StockLot>>> {
        let mut lots = by_name(tx, &ing.name)?;
        for l in &mut lots {
            held(l, self.pending);
        }
        let mut names: Vec<&str> = lots.iter().map(|l| l.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() > 1 {
            return Err(Error::arg(
                FLAG,
                format!(
                    "{} matches stock under more than one name ({}); give the lot with \
                     --component \"{}|LOT|EXPIRY\"",
                    ing.name,
                    names.join("; "),
                    ing.name
                ),
            ));
        }
        if lots.is_empty() {
            if let Some(s) = ing.active.as_ref().and_then(|a| a.schedule) {
                return Err(Error::arg(
                    FLAG,
                    format!(
                        "{} is a controlled substance (Schedule {}) and stock holds no lot of \
                         it: receive one (`troche stock receive \"{}\" ...`) or give the lot \
                         with --component",
                        ing.name,
                        s.as_str(),
                        ing.name
                    ),
                ));
            }
            return Ok(None);
        }
        Ok(Some(lots))
    }

    /// First expiry first out among the lots that serve; a stock trituration is preferred
    /// where weighing it avoids the aliquot the drug itself would need (docs/stock.md). With
    /// the form conversion the lot chosen needs, or the refusal that says why none serves.
    fn first_expiry(
        &self,
        settings: &Settings,
        ing: &Ingredient,
        lots: &[StockLot],
        prior: Option<Decimal>,
    ) -> Result<(StockLot, Option<Decimal>)> {
        let unit = ing.dimension.base_unit();
        let making_trituration = self.formula.kind == FormulaKind::Trituration;
        let mwq = settings
            .balance
            .mwq()
            .map(|m| to_micro_up(FLAG, m))
            .transpose()?;
        let (mut drug, mut avoiding, mut trituration) = (None, None, None);
        for l in lots {
            if l.status != RELEASED || l.expiry < self.date || l.unit != unit {
                continue;
            }
            if l.is_trituration() {
                // Not into another trituration; not against an assay the order gives.
                if making_trituration || ing.role != Role::Active || prior.is_some() {
                    continue;
                }
                let need = need_from(ing.exact, ing.role, None, l.potency())?;
                if l.available() < need {
                    continue;
                }
                let avoids = ing.aliquot.is_some() && mwq.is_some_and(|m| need >= m);
                if avoids && avoiding.is_none() {
                    avoiding = Some((l.clone(), None));
                }
                if trituration.is_none() {
                    trituration = Some((l.clone(), None));
                }
                continue;
            }
            let Ok(conversion) = self.fits(l, &ing.name) else {
                continue;
            };
            let amount = match conversion {
                Some(mw) => convert(ing.amount, mw, formula_mw(self.formula, &ing.name))?,
                None => ing.amount,
            };
            let need = need_from(amount, ing.role, prior, l.potency())?;
            if l.available() >= need && drug.is_none() {
                drug = Some((l.clone(), conversion));
            }
        }
        if let Some(chosen) = avoiding.or(drug).or(trituration) {
            return Ok(chosen);
        }
        // Lots that would serve but for their form: the refusal says how to allow it.
        let released =
            |l: &&StockLot| l.status == RELEASED && l.expiry >= self.date && l.unit == unit;
        if lots
            .iter()
            .filter(released)
            .all(|l| self.fits(l, &ing.name).is_err())
            && let Some(Err(e)) = lots.iter().find(released).map(|l| self.fits(l, &ing.name))
        {
            return Err(e);
        }
        Err(short(
            &ing.name,
            ing.amount,
            unit,
            lots,
            self.date,
            self.formula,
        ))
    }
}

/// The form conversion lot `l` needs to serve as `name` in `formula` (the molecular weight of
/// its form), or why it cannot.
fn fits(formula: &Formula, l: &StockLot, name: &str) -> Result<Option<Decimal>> {
    let active = formula.actives.iter().find(|a| a.name == name);
    form::fits(FLAG, &l.lot, l.form.as_deref(), name, active, &formula.id)
}

/// Enters the lot chosen from stock in the order, so the worksheet prints it: its form, its
/// lot, expiry and manufacturer, and its potency as the active's assay unless the order gives
/// one.
fn enter(
    order: &mut Order,
    ing: &Ingredient,
    l: &StockLot,
    conversion: Option<Decimal>,
    prior: Option<Decimal>,
) {
    if let Some(mw) = conversion {
        converted(order, &ing.name, l, mw);
    }
    order.components.push(ComponentLot {
        name: ing.name.clone(),
        manufacturer: Some(l.manufacturer.clone()),
        lot: l.lot.clone(),
        expiry: Some(l.expiry),
    });
    if ing.role == Role::Active
        && prior.is_none()
        && let Some(p) = l.potency()
    {
        order.assays.push(AssaySpec {
            active: Some(ing.name.clone()),
            percent: p,
            certificate: l.certificate(),
            trituration: l.is_trituration().then(|| l.lot.clone()),
        });
    }
}

/// Calculates the batch again with the lots chosen (their potency corrects the amounts, their
/// expiry caps the BUD), keeping where it came from and its seal.
fn rebuild(
    record: &mut Record,
    order: Order,
    settings: &Settings,
    picks: &[(String, StockLot)],
) -> Result<()> {
    let mut rebuilt = Record::new(
        record.formula.clone(),
        order,
        settings,
        record.date,
        record.lot.clone(),
    )
    .map_err(|e| {
        Error::calc(format!(
            "with the stock lots chosen ({}): {e}",
            picks
                .iter()
                .map(|(n, l)| format!("{n}: {}", l.lot))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    rebuilt.origin = record.origin.take();
    rebuilt.seal = record.seal.take();
    *record = rebuilt;
    Ok(())
}

/// What to reserve of each lot: the amounts of the record as calculated again, which a lot
/// must still hold (a potency below 100 % raises them).
fn reservations(
    record: &Record,
    formula: &Formula,
    picks: Vec<(String, StockLot)>,
) -> Result<Vec<Picked>> {
    let mut out = Vec::new();
    for (name, l) in picks {
        let Some(ing) = record.calc.ingredients.iter().find(|i| i.name == name) else {
            continue;
        };
        let need = to_micro_up(FLAG, ing.amount)?;
        if l.available() < need {
            let unit = l.unit.clone();
            return Err(short(&name, ing.amount, &unit, &[l], record.date, formula));
        }
        out.push(Picked {
            ingredient: name,
            lot: l.lot,
            quantity: need,
            unit: l.unit,
        });
    }
    Ok(out)
}

/// Counts what batches of this transaction drew on as reserved.
fn held(l: &mut StockLot, pending: &[Picked]) {
    for p in pending.iter().filter(|p| p.lot == l.lot) {
        l.reserved = l.reserved.saturating_add(p.quantity);
    }
}

/// Whether a lot given by hand may be used: released, not expired, of this ingredient.
fn usable(l: &StockLot, ingredient: &str, date: Date) -> Result<()> {
    if !super::names_match(ingredient, &l.name) {
        return Err(Error::arg(
            FLAG,
            format!("stock lot {} is {}, not {ingredient}", l.lot, l.name),
        ));
    }
    if l.status != RELEASED {
        return Err(Error::arg(
            FLAG,
            format!(
                "stock lot {} of {} is {}: only a released lot is used (`troche stock release \
                 {}` by a pharmacist)",
                l.lot, l.name, l.status, l.lot
            ),
        ));
    }
    if l.expiry < date {
        return Err(Error::arg(
            FLAG,
            format!("stock lot {} of {} expired on {}", l.lot, l.name, l.expiry),
        ));
    }
    Ok(())
}

/// Enters in the order that `name` is weighed as stock trituration `l` given by hand: its
/// concentration is the potency. Refused into another trituration, and beside an assay the
/// order gives (the trituration's concentration is the only potency that applies).
fn weigh_trituration(order: &mut Order, formula: &Formula, name: &str, l: &StockLot) -> Result<()> {
    if formula.kind == FormulaKind::Trituration {
        return Err(Error::arg(
            FLAG,
            format!(
                "stock lot {} is a trituration; {} makes one, from the drug itself",
                l.lot, formula.id
            ),
        ));
    }
    if assay_for(&order.assays, name, formula.actives.len()).is_some() {
        return Err(Error::arg(
            "--assay",
            format!(
                "{name} is weighed as stock trituration {}, whose potency is its concentration \
                 ({} %); leave the assay out",
                l.lot,
                l.potency.as_deref().unwrap_or_default()
            ),
        ));
    }
    if let Some(p) = l.potency() {
        order.assays.push(AssaySpec {
            active: Some(name.to_string()),
            percent: p,
            certificate: None,
            trituration: Some(l.lot.clone()),
        });
    }
    Ok(())
}

/// Enters in the order that `name` is weighed from lot `l`, of another form the formula
/// allows, converted by the molecular weight `mw` of that form.
fn converted(order: &mut Order, name: &str, l: &StockLot, mw: Decimal) {
    order.forms.retain(|f| f.active != name);
    order.forms.push(FormSpec {
        active: name.to_string(),
        form: l.form.clone().unwrap_or_default(),
        mw,
    });
}

/// The molecular weight of the form the formula weighs for `name`.
fn formula_mw(formula: &Formula, name: &str) -> Decimal {
    formula
        .actives
        .iter()
        .find(|a| a.name == name)
        .map_or(Decimal::ONE, |a| a.mw)
}

/// `amount` of the form weighed as the mass of a form of molecular weight `mw`.
fn convert(amount: Decimal, mw: Decimal, weighed_mw: Decimal) -> Result<Decimal> {
    amount
        .checked_mul(mw)
        .and_then(|x| x.checked_div(weighed_mw))
        .ok_or_else(|| crate::error::overflow("the amount needed"))
}

/// The assay the order gives an active (named, or unnamed with one active).
fn assay_for(assays: &[AssaySpec], name: &str, actives: usize) -> Option<Decimal> {
    assays
        .iter()
        .find(|a| match &a.active {
            Some(n) => name_matches(name, n),
            None => actives == 1,
        })
        .map(|a| a.percent)
}

/// What an ingredient needs from a lot of `potency`, when the amount was worked out at
/// `prior` (the order's assay, else 100 %).
fn need_from(
    amount: Decimal,
    role: Role,
    prior: Option<Decimal>,
    potency: Option<Decimal>,
) -> Result<i64> {
    let amount = match (role, prior, potency) {
        (Role::Active, None, Some(p)) if p > Decimal::ZERO => amount
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|x| x.checked_div(p))
            .ok_or_else(|| crate::error::overflow("the amount needed"))?,
        _ => amount,
    };
    to_micro_up(FLAG, amount)
}

/// "Not enough on hand", naming the ingredient, what is needed and what each lot holds.
fn short(
    name: &str,
    amount: Decimal,
    unit: &str,
    lots: &[StockLot],
    date: Date,
    formula: &Formula,
) -> Error {
    let held: Vec<String> = lots
        .iter()
        .map(|l| {
            let why = if l.status != RELEASED {
                format!(", {}", l.status)
            } else if fits(formula, l, name).is_err() {
                format!(
                    ", received {} where the formula weighs another form",
                    l.form.as_deref().unwrap_or_default()
                )
            } else if l.expiry < date {
                format!(", expired {}", l.expiry)
            } else if l.reserved > 0 {
                format!(", {} reserved", l.show(l.reserved))
            } else {
                String::new()
            };
            format!("lot {} holds {}{why}", l.lot, l.show(l.on_hand))
        })
        .collect();
    let usable: i64 = lots
        .iter()
        .filter(|l| l.status == RELEASED && l.expiry >= date && fits(formula, l, name).is_ok())
        .map(StockLot::available)
        .max()
        .unwrap_or(0);
    Error::arg(
        FLAG,
        format!(
            "not enough {name} on hand: the batch needs {} {unit}, and no released, unexpired \
             lot has that much (the most one has free is {} {unit}; {}). Nothing was printed",
            amount.normalize(),
            from_micro(usable),
            held.join("; ")
        ),
    )
}

/// Reserves the lots chosen for batch `batch`, in the transaction that enters it.
pub fn reserve(
    tx: &mut Transaction<'_>,
    batch: &str,
    picks: &[Picked],
    by: Option<&str>,
    actor: &Actor,
) -> Result<()> {
    for p in picks {
        append(
            tx,
            &NewEvent {
                lot: &p.lot,
                what: "reserved",
                reserved: Some(p.quantity),
                batch: Some(batch),
                who: by,
                details: json!({ "ingredient": p.ingredient }),
                ..NewEvent::default()
            },
            actor,
        )?;
    }
    Ok(())
}

/// Takes what batch `batch` used off its stock lots, when its weights are recorded:
/// `weights` is the record's list (`ingredient`, `actual_g`); an ingredient not weighed is
/// taken off at the amount reserved. A record entered again takes off only the difference.
pub fn take_off(
    tx: &mut Transaction<'_>,
    batch: &str,
    weights: &serde_json::Value,
    by: &str,
    actor: &Actor,
) -> Result<()> {
    let rows = tx.query(
        "SELECT lot, details, \
         CAST(COALESCE(sum(reserved), 0) AS BIGINT) AS outstanding, \
         CAST(COALESCE(sum(CASE WHEN what = 'reserved' THEN reserved ELSE 0 END), 0) AS BIGINT) \
         AS first_reserved, \
         CAST(COALESCE(sum(CASE WHEN what = 'used' THEN quantity ELSE 0 END), 0) AS BIGINT) \
         AS used \
         FROM stock_events WHERE batch = $1 GROUP BY lot, details ORDER BY lot",
        &[Value::text(batch)],
    )?;
    let mut by_lot: std::collections::BTreeMap<String, (String, i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for mut r in rows {
        let lot = r.text("lot")?;
        let details: serde_json::Value =
            serde_json::from_str(&r.text("details")?).unwrap_or_default();
        let e = by_lot.entry(lot).or_default();
        if let Some(i) = details["ingredient"].as_str() {
            e.0 = i.to_string();
        }
        e.1 += r.int("outstanding")?;
        e.2 += r.int("first_reserved")?;
        e.3 += r.int("used")?;
    }
    for (lot, (ingredient, outstanding, reserved, used)) in by_lot {
        if reserved == 0 {
            continue;
        }
        let actual = weights
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["ingredient"].as_str() == Some(ingredient.as_str()))
            .and_then(|w| w["actual_g"].as_str())
            .and_then(|a| a.parse::<Decimal>().ok());
        let actual = match actual {
            Some(a) => to_micro_up("--weight", a)?,
            None => reserved,
        };
        let change = -(actual - (-used));
        if change == 0 && outstanding == 0 {
            continue;
        }
        let l = super::identity::by_id(tx, &lot)?
            .ok_or_else(|| Error::stored(format!("stock lot {lot} is not in the log")))?;
        if l.on_hand + change < 0 {
            return Err(Error::arg(
                "--weight",
                format!(
                    "{ingredient}: {} recorded, but stock lot {} holds only {}; count the lot \
                     (`troche stock adjust` or `troche cs count`) before recording",
                    l.show(actual),
                    l.lot,
                    l.show(l.on_hand - used)
                ),
            ));
        }
        append(
            tx,
            &NewEvent {
                lot: &lot,
                what: "used",
                quantity: Some(change),
                reserved: (outstanding != 0).then_some(-outstanding),
                batch: Some(batch),
                who: Some(by),
                meaning: Some("recorded"),
                details: json!({ "ingredient": ingredient }),
                ..NewEvent::default()
            },
            actor,
        )?;
    }
    Ok(())
}
