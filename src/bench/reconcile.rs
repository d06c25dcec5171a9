//! The controlled-substance reconciliation from the bench (docs/method.md, step 12): every
//! gram of a scheduled active weighed is in the units dispensed, in the extra units (retained
//! or destroyed), in the rejected units, in the aliquot remainder or in the beaker, in the
//! form weighed with the moiety beside it. From the actual weight once it is recorded.

use rust_decimal::Decimal;

use crate::batch_record::Record;
use crate::calc::Ingredient;
use crate::quantity::round_to;

use super::{Dec, ExtraUnits, Part, Reconciled};

/// What the bench says of the units.
pub(super) struct Counts {
    pub(super) made: Option<u32>,
    pub(super) rejected: u32,
    pub(super) extra_were: Option<ExtraUnits>,
}

/// The reconciliation of each scheduled active of `record`, from `actual` (the weighed
/// amount, by ingredient name) where recorded. `None` on overflow.
pub(super) fn reconcile(
    record: &Record,
    actual: &dyn Fn(&str) -> Option<Decimal>,
    counts: &Counts,
) -> Option<Vec<Reconciled>> {
    let c = &record.calc;
    let mut out = Vec::new();
    for i in c
        .ingredients
        .iter()
        .filter(|i| i.active.as_ref().is_some_and(|a| a.schedule.is_some()))
    {
        out.push(one(record, i, actual(&i.name), counts)?);
    }
    Some(out)
}

fn one(
    record: &Record,
    i: &Ingredient,
    actual: Option<Decimal>,
    counts: &Counts,
) -> Option<Reconciled> {
    let c = &record.calc;
    let readability = c.balance.readability;
    let active = record.formula.actives.iter().find(|a| a.name == i.name);
    let moiety = active.and_then(|a| Some((a.moiety.as_ref()?, a.mw)));
    let as_moiety = |g: Decimal| -> Option<Dec> {
        let (m, mw) = moiety?;
        let v = g.checked_mul(m.mw)?.checked_div(mw)?;
        Some(Dec(round_to(v, readability)?))
    };
    let weighed = actual.unwrap_or(i.amount);
    // The aliquot's portion holds one k-th of the drug weighed; the rest is discarded.
    let into_batch = match &i.aliquot {
        Some(a) => weighed.checked_div(Decimal::from(a.multiple))?,
        None => weighed,
    };
    let aliquot_remainder = weighed.checked_sub(into_batch)?;
    let per_unit = into_batch.checked_div(c.unit_equivalents)?;
    let poured = c.units_prepared;
    let (dispensed, extra, rejected) = match counts.made {
        Some(made) => {
            let dispensed = made.min(c.units_dispensed);
            (dispensed, made - dispensed, counts.rejected)
        }
        None => (c.units_dispensed, c.extra_units, 0),
    };
    let in_units = |n: u32| per_unit.checked_mul(Decimal::from(n));
    let beaker = into_batch.checked_sub(in_units(poured)?)?;
    let mut parts = Vec::new();
    let mut total = Decimal::ZERO;
    let mut push = |what: String, units: Option<u32>, g: Decimal| -> Option<()> {
        total = total.checked_add(g)?;
        parts.push(Part {
            what,
            units,
            grams: Dec(round_to(g, readability)?),
            moiety_grams: as_moiety(g),
        });
        Some(())
    };
    push(
        "in the units dispensed".into(),
        Some(dispensed),
        in_units(dispensed)?,
    )?;
    if extra > 0 || c.extra_units > 0 {
        let were = counts
            .extra_were
            .map_or("retained or destroyed: not yet said", ExtraUnits::as_str);
        push(
            format!("in the extra units ({were})"),
            Some(extra),
            in_units(extra)?,
        )?;
    }
    if rejected > 0 {
        push(
            "in the rejected units (destroyed)".into(),
            Some(rejected),
            in_units(rejected)?,
        )?;
    }
    if i.aliquot.is_some() {
        push("aliquot remainder (waste)".into(), None, aliquot_remainder)?;
    }
    push("left in the beaker (waste)".into(), None, beaker)?;
    let difference = weighed.checked_sub(total)?;
    Some(Reconciled {
        active: i.name.clone(),
        moiety: moiety.map(|(m, _)| m.name.clone()),
        from_actual: actual.is_some(),
        weighed: Part {
            what: "weighed".into(),
            units: None,
            grams: Dec(round_to(weighed, readability)?),
            moiety_grams: as_moiety(weighed),
        },
        parts,
        difference: Dec(round_to(difference, readability)?),
        readability: Dec(readability),
        balances: difference.abs() <= readability,
    })
}
