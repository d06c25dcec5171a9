//! Step 5 of docs/method.md: excipients.

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::formula::{ExcipientAmount, Formula};
use crate::quantity::{Dimension, show, show_mass};

use super::{DisplacementSource, Ingredient, Role, div, mul, units_text};

/// Step 5: excipients, by a fixed amount per unit or a percent of the blank weight.
pub(super) fn excipients_step(formula: &Formula, n: Decimal) -> Result<Vec<Ingredient>> {
    let b = formula.mold.blank_weight;
    let mut out = Vec::new();
    for e in &formula.excipients {
        let mut steps = Vec::new();
        let (exact, dimension, mass) = match &e.amount {
            ExcipientAmount::PerUnit(qty) => {
                let per = qty.in_base();
                let total = mul(per, n, &e.name)?;
                match qty.dimension() {
                    Dimension::Mass => {
                        steps.push(format!("{qty} × {} = {}", units_text(n), show_mass(total)));
                        (total, Dimension::Mass, total)
                    }
                    Dimension::Volume => {
                        let density = e.density.ok_or_else(|| {
                            Error::calc(format!(
                                "{} is a volume; the formula must give its density",
                                e.name
                            ))
                        })?;
                        steps.push(format!("{qty} × {} = {} mL", units_text(n), show(total)));
                        let m = mul(total, density, &e.name)?;
                        steps.push(format!(
                            "weight: {} mL × {} g/mL (density) = {}",
                            show(total),
                            density.normalize(),
                            show_mass(m)
                        ));
                        (total, Dimension::Volume, m)
                    }
                }
            }
            ExcipientAmount::PercentOfBlank(p) => {
                let total = div(
                    mul(mul(*p, b, &e.name)?, n, &e.name)?,
                    Decimal::ONE_HUNDRED,
                    &e.name,
                )?;
                steps.push(format!(
                    "{} % × {} g blank weight × {} = {}",
                    p.normalize(),
                    show(b),
                    units_text(n),
                    show_mass(total)
                ));
                (total, Dimension::Mass, total)
            }
        };
        out.push(Ingredient {
            name: e.name.clone(),
            role: Role::Excipient,
            exact,
            dimension,
            amount: exact,
            mass,
            displaced: None,
            displacement: e.displacement.map(DisplacementSource::Stated),
            active: None,
            aliquot: None,
            diluent_for: None,
            steps,
        });
    }
    Ok(out)
}
