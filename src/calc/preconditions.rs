//! What must hold before anything is computed.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result};
use crate::formula::{Formula, name_matches};
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
    let diluent = formula.diluent();
    let names: Vec<&str> = formula
        .actives
        .iter()
        .map(|a| a.name.as_str())
        .chain(formula.excipients.iter().map(|e| e.name.as_str()))
        .chain(std::iter::once(formula.base.name.as_str()))
        .chain(formula.base.components.iter().map(|c| c.name.as_str()))
        .chain(std::iter::once(diluent.name.as_str()))
        .collect();
    if let Some(c) = order
        .components
        .iter()
        .find(|c| !names.iter().any(|n| name_matches(n, &c.name)))
    {
        return Err(Error::order(
            Field::Component,
            format!(
                "\"{}\" (lot {}) is not an ingredient of {}; ingredients: {}",
                c.name,
                c.lot,
                formula.id,
                names.join("; ")
            ),
        ));
    }
    if balance.readability <= Decimal::ZERO || balance.volume_readability <= Decimal::ZERO {
        return Err(Error::order(
            Field::Readability,
            "must be greater than zero",
        ));
    }
    Ok(())
}
