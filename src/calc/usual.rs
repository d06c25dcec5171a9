//! Step 3 of docs/method.md, before any amount: the strengths as ordered against what the
//! formula says is usually prescribed. A strength that is a unit slip (mcg for mg) or ten
//! times below the usual range, or that breaks a fixed ratio, is refused with the value most
//! likely meant; one merely outside the usual range needs the prescriber's confirmation,
//! which the record keeps.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result, overflow};
use crate::formula::names::{Miss, Names};
use crate::formula::{Active, Formula, short_name};
use crate::order::Order;
use crate::quantity::{Quantity, Unit, show, show_mass};

/// How far strengths may stray from a fixed ratio, in percent of each one's share.
const RATIO_TOLERANCE_PERCENT: Decimal = Decimal::ONE;

/// Checks the strengths (one per active, in the formula's order, as ordered) and returns the
/// notes of the confirmed unusual ones, for the record.
pub(super) fn check_strengths(
    formula: &Formula,
    order: &Order,
    strengths: &[Quantity],
) -> Result<Vec<String>> {
    for (active, s) in formula.actives.iter().zip(strengths) {
        if let Some(range) = active.usual_strength {
            check_slip(formula, active, *s, range)?;
        }
    }
    if let Some(ratio) = &formula.ratio {
        check_ratio(formula, ratio, strengths)?;
    }
    let mut notes = Vec::new();
    for (i, (active, s)) in formula.actives.iter().zip(strengths).enumerate() {
        let Some((low, high)) = active.usual_strength else {
            continue;
        };
        let v = s.in_base();
        // Above the maximum, the maximum's guard refuses it (what is weighed is never less
        // than the strength ordered); a confirmation would not help.
        let above_max = active.max_strength.is_some_and(|m| v > m.in_base());
        if (v >= low.in_base() && v <= high.in_base()) || above_max {
            continue;
        }
        let side = if v < low.in_base() { "below" } else { "above" };
        let what = format!(
            "{s} of {} is {side} the usual {low} to {high} per unit for {}",
            ordered_name(active),
            formula.id
        );
        let Some(reason) = confirmation(formula, order, i)? else {
            let flag = if formula.actives.len() > 1 {
                format!("\"{}=REASON\"", ordered_name(active))
            } else {
                "\"REASON\"".to_string()
            };
            return Err(Error::order(
                Field::Strength,
                format!(
                    "{what}. Confirm it with the prescriber and say so with \
                     --confirm-strength {flag} (confirm_strength in an order or recipe \
                     file), or correct the strength"
                ),
            ));
        };
        notes.push(format!("{what}; confirmed with the prescriber: {reason}."));
    }
    Ok(notes)
}

/// Refuses a strength that equals a usual one with mg, mcg and g confused, or that is ten or
/// more times below the usual range, naming the strength most likely meant.
fn check_slip(
    formula: &Formula,
    active: &Active,
    s: Quantity,
    (low, high): (Quantity, Quantity),
) -> Result<()> {
    let within = |q: Quantity| q.in_base() >= low.in_base() && q.in_base() <= high.in_base();
    if within(s) {
        return Ok(());
    }
    let range = format!("the usual {low} to {high} per unit for {}", formula.id);
    let other_unit = [Unit::Microgram, Unit::Milligram, Unit::Gram]
        .into_iter()
        .filter(|u| *u != s.unit)
        .map(|unit| Quantity {
            value: s.value,
            unit,
        })
        .find(|q| within(*q));
    if let Some(meant) = other_unit {
        return Err(Error::order(
            Field::Strength,
            format!(
                "{s} of {} is outside {range}, and {meant} is within it: was {meant} meant? \
                 mcg, mg and g are easily confused; write the strength with its unit as \
                 prescribed (a unit slip is corrected, not confirmed)",
                ordered_name(active)
            ),
        ));
    }
    let tenfold = s
        .in_base()
        .checked_mul(Decimal::TEN)
        .ok_or_else(|| overflow("the strength"))?;
    if tenfold <= low.in_base() {
        let meant = [10, 100, 1000].into_iter().find_map(|k| {
            let v = s.value.checked_mul(Decimal::from(k))?;
            let q = Quantity {
                value: v,
                unit: s.unit,
            };
            within(q).then_some(q)
        });
        let guess = meant.map_or_else(
            || " Check for a decimal or unit slip.".to_string(),
            |m| format!(" Was {m} meant?"),
        );
        return Err(Error::order(
            Field::Strength,
            format!(
                "{s} of {} is ten or more times below {range}: a decimal or unit slip, not a \
                 dose to confirm.{guess} Correct the strength as prescribed",
                ordered_name(active)
            ),
        ));
    }
    Ok(())
}

/// Refuses strengths off the formula's fixed ratio by more than [`RATIO_TOLERANCE_PERCENT`]
/// of any active's share, and names swapped strengths as swapped.
fn check_ratio(formula: &Formula, ratio: &[Decimal], strengths: &[Quantity]) -> Result<()> {
    let grams: Vec<Decimal> = strengths.iter().map(Quantity::in_base).collect();
    if grams.len() != ratio.len() {
        return Ok(());
    }
    let fits = |parts: &[Decimal]| -> Result<bool> { within_ratio(&grams, parts) };
    if fits(ratio)? {
        return Ok(());
    }
    let ratio_text = join(ratio.iter().map(|r| r.normalize().to_string()), ":");
    let names: Vec<&str> = formula.actives.iter().map(ordered_name).collect();
    let ordered = join(
        names.iter().zip(strengths).map(|(n, s)| format!("{n} {s}")),
        ", ",
    );
    // Swapped: the strengths fit the ratio with its parts reassigned, largest to largest.
    let mut by_size: Vec<usize> = (0..grams.len()).collect();
    by_size.sort_by(|a, b| grams[*b].cmp(&grams[*a]));
    let mut parts_by_size: Vec<usize> = (0..ratio.len()).collect();
    parts_by_size.sort_by(|a, b| ratio[*b].cmp(&ratio[*a]));
    let mut meant = grams.clone();
    for (s, p) in by_size.iter().zip(&parts_by_size) {
        if let (Some(slot), Some(g)) = (meant.get_mut(*p), grams.get(*s)) {
            *slot = *g;
        }
    }
    if within_ratio(&meant, ratio)? {
        let should = join(
            names
                .iter()
                .zip(&meant)
                .map(|(n, g)| format!("{n} {}", show_mass(*g))),
            ", ",
        );
        return Err(Error::order(
            Field::Strength,
            format!(
                "{ordered} are swapped: {} is made in the ratio {ratio_text} (in the order \
                 {}), and these strengths put the larger share on the wrong active. Was \
                 {should} meant? Correct the strengths as prescribed",
                formula.id,
                join(names.iter().map(ToString::to_string), ":")
            ),
        ));
    }
    let total = grams
        .iter()
        .try_fold(Decimal::ZERO, |a, g| a.checked_add(*g))
        .ok_or_else(|| overflow("the ratio"))?;
    let parts = ratio
        .iter()
        .try_fold(Decimal::ZERO, |a, r| a.checked_add(*r))
        .ok_or_else(|| overflow("the ratio"))?;
    let at_ratio = join(
        names.iter().zip(ratio).filter_map(|(n, r)| {
            let g = crate::quantity::div(total.checked_mul(*r)?, parts)?;
            Some(format!("{n} {}", show_mass(g)))
        }),
        ", ",
    );
    let as_ordered = join(
        grams.iter().filter_map(|g| {
            let share = crate::quantity::div(g.checked_mul(parts)?, total)?;
            Some(show(share.round_dp(1)))
        }),
        ":",
    );
    Err(Error::order(
        Field::Strength,
        format!(
            "{ordered} are in the ratio {as_ordered}, not the {ratio_text} {} is made in \
             (more than {} % off). At {ratio_text} the same total is {at_ratio}. Correct the \
             strengths as prescribed, or use a formula of the ratio prescribed",
            formula.id,
            RATIO_TOLERANCE_PERCENT.normalize()
        ),
    ))
}

/// Whether each strength is within the tolerance of its share of the total by `ratio`:
/// |s × R − S × r| × 100 ≤ tolerance × S × r, with S the total and R the sum of the parts.
fn within_ratio(grams: &[Decimal], ratio: &[Decimal]) -> Result<bool> {
    let o = || overflow("the ratio");
    let total = grams
        .iter()
        .try_fold(Decimal::ZERO, |a, g| a.checked_add(*g))
        .ok_or_else(o)?;
    let parts = ratio
        .iter()
        .try_fold(Decimal::ZERO, |a, r| a.checked_add(*r))
        .ok_or_else(o)?;
    for (g, r) in grams.iter().zip(ratio) {
        let expected = total.checked_mul(*r).ok_or_else(o)?;
        let off = g
            .checked_mul(parts)
            .and_then(|x| x.checked_sub(expected))
            .and_then(|d| d.abs().checked_mul(Decimal::ONE_HUNDRED))
            .ok_or_else(o)?;
        let allowed = expected
            .checked_mul(RATIO_TOLERANCE_PERCENT)
            .ok_or_else(o)?;
        if off > allowed {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The name prescriptions give an active: its moiety's where they are written as the moiety
/// (estradiol for the hemihydrate weighed), without grade or form notes.
fn ordered_name(active: &Active) -> &str {
    match (&active.moiety, active.label_basis) {
        (Some(m), Some(crate::order::Basis::Moiety)) => short_name(&m.name),
        _ => short_name(&active.name),
    }
}

fn join(items: impl Iterator<Item = String>, sep: &str) -> String {
    items.collect::<Vec<_>>().join(sep)
}

/// The confirmation the order gives for active `i`: "ACTIVE=REASON" naming it, or a bare
/// reason when the formula has one active. A confirmation naming no active of the formula, or
/// a bare one with several actives, is refused.
fn confirmation(formula: &Formula, order: &Order, i: usize) -> Result<Option<String>> {
    if order.confirm_strength.is_empty() {
        return Ok(None);
    }
    let single = formula.actives.len() == 1;
    let names = Names::actives(formula);
    let mut found = None;
    for c in &order.confirm_strength {
        let for_active = match c.split_once('=') {
            Some((n, r)) => match names.resolve(n) {
                Ok(k) => Some((k, r.trim())),
                // A near miss is refused even with one active: it was meant as a name.
                Err(miss @ (Miss::Near(_) | Miss::Ambiguous(_))) => {
                    let hint = if single {
                        " (a confirmation that names no active may not hold \"=\")"
                    } else {
                        ""
                    };
                    return Err(Error::order(
                        Field::ConfirmStrength,
                        format!(
                            "{}{hint}",
                            names.refusal(
                                &miss,
                                &format!("\"{}\"", n.trim()),
                                "active",
                                &formula.id
                            )
                        ),
                    ));
                }
                Err(Miss::Unknown) => None,
            },
            None => None,
        };
        match for_active {
            Some((k, reason)) if k == i => found = Some(reason.to_string()),
            Some(_) => {}
            None if single => found = Some(c.trim().to_string()),
            None => {
                let names = join(
                    formula
                        .actives
                        .iter()
                        .map(|a| format!("\"{}=REASON\"", ordered_name(a))),
                    " or ",
                );
                return Err(Error::order(
                    Field::ConfirmStrength,
                    format!(
                        "\"{c}\" names no active of {}; with several actives say which \
                         strength was confirmed: {names}",
                        formula.id
                    ),
                ));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn ratio_tolerance_is_one_percent_of_each_share() {
        let r = [g("80"), g("20")];
        assert!(within_ratio(&[g("0.0016"), g("0.0004")], &r).unwrap());
        assert!(within_ratio(&[g("0.0016"), g("0.000404")], &r).unwrap());
        assert!(!within_ratio(&[g("0.0016"), g("0.00041")], &r).unwrap());
        assert!(!within_ratio(&[g("0.0004"), g("0.0016")], &r).unwrap());
    }
}
