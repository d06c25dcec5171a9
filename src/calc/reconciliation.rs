//! Step 12 of docs/method.md: where every gram of each active goes.

use rust_decimal::Decimal;

use crate::error::Result;
use crate::quantity::show_mass;

use super::units::UnitsStep;
use super::{Ingredient, Reconciliation, Role, div, mul, sub};

/// Step 12: where every gram of each active goes.
pub(super) fn reconciliation_step(
    ingredients: &[Ingredient],
    u: &UnitsStep,
) -> Result<Vec<Reconciliation>> {
    let mut out = Vec::new();
    for i in ingredients.iter().filter(|i| i.role == Role::Active) {
        let (weighed, aliquot_waste, into_batch) = match &i.aliquot {
            Some(a) => (a.weigh, a.drug_wasted(), a.delivers),
            None => (i.amount, Decimal::ZERO, i.amount),
        };
        let what = "the reconciliation";
        let in_units = div(mul(into_batch, Decimal::from(u.poured), what)?, u.n, what)?;
        let beaker_waste = sub(into_batch, in_units, what)?;
        let dispensed = div(
            mul(into_batch, Decimal::from(u.poured - u.extra), what)?,
            u.n,
            what,
        )?;
        let in_extra = sub(in_units, dispensed, what)?;
        out.push(Reconciliation {
            name: i.name.clone(),
            weighed,
            aliquot_waste,
            into_batch,
            in_units,
            beaker_waste,
            dispensed,
            in_extra,
        });
    }
    Ok(out)
}

/// With an overage, the step that says what stays in the beaker: it fills no cavity.
pub(super) fn overage_step(
    overage: Option<Decimal>,
    reconciliation: &[Reconciliation],
    steps: &mut Vec<(String, String)>,
) {
    if let Some(o) = overage {
        let wasted: Vec<String> = reconciliation
            .iter()
            .filter(|r| r.beaker_waste > Decimal::ZERO)
            .map(|r| format!("{} of {}", show_mass(r.beaker_waste), r.name))
            .collect();
        steps.push((
            "Overage left in the beaker".into(),
            format!(
                "{} % overage makes up for melt left behind; it fills no cavity, so {} stays in \
                 the beaker and is waste",
                o.normalize(),
                wasted.join(", ")
            ),
        ));
    }
}
