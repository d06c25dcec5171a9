//! What must hold before anything is computed.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result};
use crate::formula::Formula;
use crate::formula::names::Names;
use crate::order::{Order, Preparation};

use super::Balance;

/// The most extra units poured: the quantity itself, and never more than 100. Extra units
/// make up for what is lost in pouring, not for a second batch.
pub const MAX_EXTRA_UNITS: u32 = 100;

/// What must hold before anything is computed: units, component lots that belong to the
/// formula, a balance that can round.
pub(super) fn check_order(formula: &Formula, order: &Order, balance: &Balance) -> Result<()> {
    if order.quantity == 0 {
        return Err(Error::order(Field::Quantity, "must be at least 1 unit"));
    }
    if let Preparation::Extra(e) = order.preparation {
        let max = order.quantity.min(MAX_EXTRA_UNITS);
        if e > max {
            return Err(Error::order(
                Field::Extra,
                format!(
                    "{e} extra units for {} dispensed is not plausible: extra units make up for \
                     pouring losses, at most the quantity and at most {MAX_EXTRA_UNITS} ({max} \
                     here); for a larger batch raise the quantity",
                    order.quantity
                ),
            ));
        }
    }
    // A component lot must be an ingredient, so a typo cannot leave a lot unrecorded.
    let names = Names::ingredients(formula);
    for c in &order.components {
        if let Err(miss) = names.resolve(&c.name) {
            return Err(Error::order(
                Field::Component,
                names.refusal(
                    &miss,
                    &format!("\"{}\" (lot {})", c.name, c.lot),
                    "ingredient",
                    &formula.id,
                ),
            ));
        }
    }
    if balance.readability <= Decimal::ZERO || balance.volume_readability <= Decimal::ZERO {
        return Err(Error::order(
            Field::Readability,
            "must be greater than zero",
        ));
    }
    Ok(())
}
