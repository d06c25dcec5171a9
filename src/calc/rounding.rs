//! Step 11 of docs/method.md: rounding what is printed to weigh to the balance.

use rust_decimal::Decimal;

use crate::error::{Result, overflow};
use crate::quantity::{Dimension, round_to, show_mass};

use super::{Balance, Ingredient, Role};

/// Step 11: round what is printed to weigh; flag base components below the MWQ.
pub(super) fn round_step(
    ingredients: &mut [Ingredient],
    balance: &Balance,
    mwq: Decimal,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for i in ingredients {
        if i.aliquot.is_some() || i.role == Role::Diluent {
            // Already weighings on the balance's scale.
            continue;
        }
        let step = match i.dimension {
            Dimension::Mass => balance.readability,
            Dimension::Volume => balance.volume_readability,
        };
        i.amount = round_to(i.exact, step).ok_or_else(|| overflow(&i.name))?;
        if i.amount != i.exact.normalize() {
            i.steps.push(format!(
                "rounded half away from zero to {} {}: {} {}",
                step.normalize(),
                i.dimension.base_unit(),
                i.amount,
                i.dimension.base_unit()
            ));
        }
        if i.role == Role::Base && i.exact < mwq {
            warnings.push(format!(
                "{}: {} is below the minimum weighable quantity of {}; prepare a larger amount of \
                 the base mixture in its proportions and weigh the base from it.",
                i.name,
                show_mass(i.exact),
                show_mass(mwq)
            ));
        }
    }
    Ok(())
}
