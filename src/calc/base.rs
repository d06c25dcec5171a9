//! Step 9 of docs/method.md: the base, what the mold holds once the added ingredients have
//! displaced their share, checked and split into its components.

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::quantity::{Dimension, show, show_mass};

use super::{Ingredient, Role, add, div, mul, sub};

/// Step 9: base = blank total − Σ displaced, checked, then split into its components.
/// Returns (base, Σ displaced) and appends the base rows.
pub(super) fn base_step(
    formula: &Formula,
    ingredients: &mut Vec<Ingredient>,
    blank_total: Decimal,
) -> Result<(Decimal, Decimal)> {
    let mut displaced_total = Decimal::ZERO;
    for i in ingredients.iter() {
        displaced_total = add(
            displaced_total,
            i.displaced.unwrap_or_default(),
            "the displacement",
        )?;
    }
    let base = sub(blank_total, displaced_total, "the base")?;
    let displaced_terms: Vec<String> = ingredients
        .iter()
        .map(|i| show(i.displaced.unwrap_or_default()))
        .collect();
    let base_step = format!(
        "{} g blank total − ({}) g displaced = {} g",
        show(blank_total),
        displaced_terms.join(" + "),
        show(base)
    );
    if base <= Decimal::ZERO {
        return Err(Error::calc(format!(
            "the base comes out at {} g ({base_step}): the ingredients displace more than the whole \
             mold holds. Lower the strength or use a larger mold.",
            show(base)
        )));
    }
    // base ≥ ⅔ × blank total, compared without dividing: 3 × base ≥ 2 × blank total.
    if mul(base, Decimal::from(3), "the base")? < mul(blank_total, Decimal::TWO, "the base")? {
        return Err(Error::calc(format!(
            "the base is {} g, {} % of the blank total {} g; at least two thirds is needed for sound \
             units (powder load too high). Lower the strength, split the dose or use a larger mold.",
            show(base),
            show(div(
                mul(base, Decimal::ONE_HUNDRED, "the base")?,
                blank_total,
                "the base"
            )?),
            show(blank_total)
        )));
    }
    let row = |name: &str, exact: Decimal, steps: Vec<String>| Ingredient {
        name: name.to_string(),
        role: Role::Base,
        exact,
        dimension: Dimension::Mass,
        amount: exact,
        mass: exact,
        displaced: None,
        displacement: None,
        active: None,
        aliquot: None,
        diluent_for: None,
        steps,
    };
    let components = &formula.base.components;
    if components.is_empty() {
        ingredients.push(row(&formula.base.name, base, vec![base_step]));
    } else {
        // The last component takes what the others leave, so the rows add up to the base
        // exactly whatever the last digit of each product.
        let mut left = base;
        for (k, c) in components.iter().enumerate() {
            let amount = if k + 1 == components.len() {
                left
            } else {
                div(
                    mul(base, c.percent, &c.name)?,
                    Decimal::ONE_HUNDRED,
                    &c.name,
                )?
            };
            left = sub(left, amount, &c.name)?;
            ingredients.push(row(
                &c.name,
                amount,
                vec![
                    base_step.clone(),
                    format!(
                        "{} % of the {} g of {}: {}",
                        c.percent.normalize(),
                        show(base),
                        formula.base.name,
                        show_mass(amount)
                    ),
                ],
            ));
        }
    }
    Ok((base, displaced_total))
}
