//! Step 2 of docs/method.md: units and molds.

use rust_decimal::Decimal;

use crate::error::{Result, overflow};
use crate::formula::Formula;
use crate::order::{Order, Preparation};

use super::{add, div, mul, units_text};

/// Step 2: units to pour, unit-equivalents for the amounts, molds.
pub(super) struct UnitsStep {
    pub(super) poured: u32,
    pub(super) extra: u32,
    pub(super) overage: Option<Decimal>,
    pub(super) n: Decimal,
    pub(super) molds: u64,
}

pub(super) fn units_step(
    formula: &Formula,
    order: &Order,
    steps: &mut Vec<(String, String)>,
) -> Result<UnitsStep> {
    let q = Decimal::from(order.quantity);
    let (poured, extra, overage, n) = match order.preparation {
        Preparation::Extra(e) => {
            let prepared = order
                .quantity
                .checked_add(e)
                .ok_or_else(|| overflow("the units to prepare"))?;
            steps.push((
                "Units prepared".into(),
                format!(
                    "{} dispensed + {e} extra = {prepared} units",
                    order.quantity
                ),
            ));
            (prepared, e, None, Decimal::from(prepared))
        }
        Preparation::Overage(o) => {
            let n = div(
                mul(
                    q,
                    add(Decimal::ONE_HUNDRED, o, "the overage")?,
                    "the overage",
                )?,
                Decimal::ONE_HUNDRED,
                "the overage",
            )?;
            steps.push((
                "Units prepared".into(),
                format!(
                    "{} units poured; amounts for {} × (100 + {} %) / 100 = {} (an overage of {} % \
                     on every ingredient, for melt left in the beaker)",
                    order.quantity,
                    order.quantity,
                    o.normalize(),
                    units_text(n),
                    o.normalize()
                ),
            ));
            (order.quantity, 0, Some(o), n)
        }
    };
    let molds = u64::from(poured.div_ceil(formula.mold.cavities));
    steps.push((
        "Molds".into(),
        format!(
            "ceil({poured} units poured / {} cavities) = {molds}",
            formula.mold.cavities
        ),
    ));
    Ok(UnitsStep {
        poured,
        extra,
        overage,
        n,
        molds,
    })
}
