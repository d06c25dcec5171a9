//! Step 10 of docs/method.md: the batch weight, the unit weight and its accepted range.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result};
use crate::quantity::{round_to, show, show_mass};

use super::{Balance, add, div, mul, sub, units_text};

/// The heaviest batch computed, in grams: 25 kg, past any compounding vessel.
pub const MAX_BATCH_GRAMS: u32 = 25_000;
/// A batch heavier than this (1 kg) gets a warning to check the quantity.
pub const WARN_BATCH_GRAMS: u32 = 1_000;

/// The batch's totals.
pub(super) struct Totals {
    pub(super) batch_weight: Decimal,
    pub(super) unit_weight: Decimal,
    pub(super) low: Decimal,
    pub(super) high: Decimal,
}

/// Step 10: batch weight = base + added; unit weight = batch weight ÷ n, with the formula's
/// tolerance around it. A batch past [`MAX_BATCH_GRAMS`] is refused.
pub(super) fn totals_step(
    base_total: Decimal,
    added_mass: Decimal,
    n: Decimal,
    tol: Decimal,
    balance: &Balance,
    steps: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) -> Result<Totals> {
    let batch_weight = add(base_total, added_mass, "the batch weight")?;
    steps.push((
        "Batch weight".into(),
        format!(
            "{} g base + {} added = {} g",
            show(base_total),
            show_mass(added_mass),
            show(batch_weight)
        ),
    ));
    if batch_weight > Decimal::from(MAX_BATCH_GRAMS) {
        return Err(Error::order(
            Field::Quantity,
            format!(
                "this batch would weigh {} kg; troche makes batches of at most {} kg (a \
                 compounding batch, not a manufacturing run): check the quantity and extra units",
                show(batch_weight / Decimal::ONE_THOUSAND),
                MAX_BATCH_GRAMS / 1000
            ),
        ));
    }
    if batch_weight > Decimal::from(WARN_BATCH_GRAMS) {
        warnings.push(format!(
            "a large batch: {} kg in all; check the quantity and extra units before weighing",
            show(batch_weight / Decimal::ONE_THOUSAND)
        ));
    }
    let unit_weight = div(batch_weight, n, "the unit weight")?;
    steps.push((
        "Unit weight".into(),
        format!(
            "{} g ÷ {} = {} g (theoretical)",
            show(batch_weight),
            units_text(n),
            show(unit_weight)
        ),
    ));
    let delta = div(
        mul(unit_weight, tol, "the weight range")?,
        Decimal::ONE_HUNDRED,
        "the weight range",
    )?;
    let low = sub(unit_weight, delta, "the weight range")?;
    let high = add(unit_weight, delta, "the weight range")?;
    steps.push((
        "Accepted unit weight".into(),
        format!(
            "{} g ± {} % = {} g to {} g",
            show(unit_weight),
            tol.normalize(),
            round_to(low, balance.readability).unwrap_or(low),
            round_to(high, balance.readability).unwrap_or(high)
        ),
    ));
    Ok(Totals {
        batch_weight,
        unit_weight,
        low,
        high,
    })
}
