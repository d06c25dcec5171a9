//! The weighing tolerances of the master formulation record, and the limits they give each
//! amount on the worksheet, rounded once to what the balance (or the graduation) reads.

use rust_decimal::Decimal;

use crate::calc::{Calculation, Ingredient, Role};
use crate::formula::Formula;
use crate::quantity::{Dimension, round_to};

use super::{Dec, Measure};

/// An active's tolerance when the formula states none: 2 %, or the balance's sensitivity as
/// a percent of the amount when that is larger (an amount near the minimum weighable quantity
/// cannot be weighed closer than the balance's sensitivity).
const ACTIVE_DEFAULT_PERCENT: Decimal = Decimal::TWO;

/// A tolerance in percent and where it comes from.
pub(super) struct Tolerance {
    pub(super) percent: Decimal,
    pub(super) from: String,
}

/// The tolerance the formula gives `i` (before any narrowing).
pub(super) fn formula_tolerance(
    formula: &Formula,
    calc: &Calculation,
    i: &Ingredient,
) -> Tolerance {
    let qc = &formula.qc;
    if i.role != Role::Active {
        return Tolerance {
            percent: qc.weighing_percent,
            from: "the formula's weighing tolerance".into(),
        };
    }
    if let Some(p) = qc.active_weighing_percent {
        return Tolerance {
            percent: p,
            from: "the formula's active weighing tolerance".into(),
        };
    }
    let sensitivity = (i.dimension == Dimension::Mass)
        .then(|| sensitivity_percent(calc.balance.sensitivity, i.amount))
        .flatten();
    match sensitivity {
        Some(p) if p > ACTIVE_DEFAULT_PERCENT => Tolerance {
            percent: p,
            from: format!(
                "default: the balance's sensitivity, {} g, as a percent of the amount",
                calc.balance.sensitivity.normalize()
            ),
        },
        _ => Tolerance {
            percent: ACTIVE_DEFAULT_PERCENT,
            from: "default for an active".into(),
        },
    }
}

/// The balance's sensitivity as a percent of `amount`, to 0.1 %.
fn sensitivity_percent(sensitivity: Decimal, amount: Decimal) -> Option<Decimal> {
    if amount.is_zero() {
        return None;
    }
    let p = sensitivity
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(amount)?;
    round_to(p, Decimal::new(1, 1))
}

/// The narrowest tolerance the formula gives any amount of the batch: a `--tolerance` wider
/// than it would widen that amount's, and is refused.
pub fn narrowest(formula: &Formula, calc: &Calculation) -> Option<(Decimal, String)> {
    calc.ingredients
        .iter()
        .map(|i| (formula_tolerance(formula, calc, i).percent, i.name.clone()))
        .min_by(|a, b| a.0.cmp(&b.0))
}

/// The limits of an amount: expected ± percent, rounded to the step it is read to.
pub(super) fn limits(expected: Decimal, percent: Decimal, step: Decimal) -> Option<(Dec, Dec)> {
    let delta = expected
        .checked_mul(percent)?
        .checked_div(Decimal::ONE_HUNDRED)?;
    let low = round_to(expected.checked_sub(delta)?, step)?;
    let high = round_to(expected.checked_add(delta)?, step)?;
    Some((Dec(low.max(Decimal::ZERO)), Dec(high)))
}

/// How `i` is measured and the step its amount is read to.
pub(super) fn measure(calc: &Calculation, i: &Ingredient) -> (Measure, Decimal) {
    match i.dimension {
        Dimension::Volume => (Measure::Volume, calc.balance.volume_readability),
        Dimension::Mass => (Measure::Mass, calc.balance.readability),
    }
}

/// Percent `actual` is off `expected`, to two places.
pub(super) fn off_percent(actual: Decimal, expected: Decimal) -> Option<Decimal> {
    if expected.is_zero() {
        return None;
    }
    let d = actual
        .checked_sub(expected)?
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(expected)?;
    round_to(d, Decimal::new(1, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_near_the_balances_sensitivity_is_judged_by_it() {
        let six_mg = Decimal::new(6, 3);
        assert_eq!(
            sensitivity_percent(six_mg, Decimal::new(124, 3))
                .unwrap()
                .to_string(),
            "4.8"
        );
        // 3 g: 0.2 %, so the 2 % default holds.
        assert!(sensitivity_percent(six_mg, Decimal::from(3)).unwrap() < ACTIVE_DEFAULT_PERCENT);
    }

    #[test]
    fn limits_are_rounded_once_to_the_balance() {
        let (low, high) = limits(Decimal::new(1002, 3), Decimal::TEN, Decimal::new(1, 3)).unwrap();
        assert_eq!(
            (low.to_string(), high.to_string()),
            ("0.902".into(), "1.102".into())
        );
    }
}
