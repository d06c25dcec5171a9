//! The batch calculation: from a formula and an order to every amount to weigh.
//!
//! The arithmetic follows docs/method.md step by step, one module per step, and records each
//! step in words with its numbers, because the pharmacist signs the worksheet on the strength
//! of being able to check them. Every operation is checked; products are formed before the one
//! division each amount needs, so no factor is rounded before it is multiplied.
//!
//! What the worksheet calls "amount to weigh" is what is really put on the balance: an amount
//! below the minimum weighable quantity is replaced by its aliquot weighings, and the portion of
//! the aliquot that enters the melt (drug and diluent) is what counts in displacement, batch
//! weight and unit weight.

mod actives;
mod aliquots;
mod balance;
mod base;
mod blank;
mod calculation;
mod displacement;
mod excipients;
mod guards;
mod names;
mod preconditions;
mod reconciliation;
mod rounding;
mod totals;
mod units;
mod usual;

use rust_decimal::Decimal;

use crate::error::{Result, overflow};
use crate::formula::Formula;
use crate::order::Order;
use crate::quantity::{self, show};

pub use self::aliquots::aliquot;
pub use self::balance::Balance;
pub use self::calculation::{
    ActiveDetail, Aliquot, BasisSource, Calculation, DisplacementSource, Ingredient,
    Reconciliation, Role, StrengthStyle,
};
pub use self::preconditions::MAX_EXTRA_UNITS;
pub use self::totals::{MAX_BATCH_GRAMS, WARN_BATCH_GRAMS};

/// Runs the whole calculation, step by step.
pub fn calculate(formula: &Formula, order: &Order, balance: &Balance) -> Result<Calculation> {
    preconditions::check_order(formula, order, balance)?;
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mwq = balance::minimum_weighable(balance)?;
    blank::blank_weight_step(formula, &mut steps);
    let u = units::units_step(formula, order, &mut steps)?;
    let n = u.n;
    let blank_total = blank::blank_total(formula, n, &mut steps)?;

    let mut ingredients = actives::actives_step(formula, order, n, &mut warnings)?;
    ingredients.extend(excipients::excipients_step(formula, n)?);
    steps.push((
        "Minimum weighable quantity".into(),
        format!(
            "{}{}",
            balance
                .id
                .as_ref()
                .map(|id| format!("balance {id}: "))
                .unwrap_or_default(),
            balance.mwq_rule()
        ),
    ));
    let ingredients = aliquots::aliquots_step(formula, ingredients, mwq, balance, &mut warnings)?;
    let (mut ingredients, added_mass, load_percent) = displacement::displacement_step(
        formula,
        ingredients,
        blank_total,
        &mut steps,
        &mut warnings,
    )?;
    let (base_total, displaced_total) = base::base_step(formula, &mut ingredients, blank_total)?;
    rounding::round_step(&mut ingredients, balance, mwq, &mut warnings)?;
    let tol = formula.weight_tolerance_percent;
    let totals = totals::totals_step(
        base_total,
        added_mass,
        n,
        tol,
        balance,
        &mut steps,
        &mut warnings,
    )?;
    let reconciliation = reconciliation::reconciliation_step(&ingredients, &u)?;
    reconciliation::overage_step(u.overage, &reconciliation, &mut steps);

    Ok(Calculation {
        formula_id: formula.id.clone(),
        units_dispensed: order.quantity,
        units_prepared: u.poured,
        extra_units: u.extra,
        overage_percent: u.overage,
        unit_equivalents: n,
        cavities: formula.mold.cavities,
        molds: u.molds,
        blank_weight: formula.mold.blank_weight,
        blank_total,
        ingredients,
        base_total,
        added_mass,
        load_percent,
        displaced_total,
        batch_weight: totals.batch_weight,
        unit_weight: totals.unit_weight,
        unit_weight_low: totals.low,
        unit_weight_high: totals.high,
        tolerance_percent: tol,
        balance: balance.clone(),
        mwq,
        reconciliation,
        steps,
        warnings,
    })
}

/// Checked arithmetic: an overflow is refused as a calculation error naming what overflowed.
fn mul(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(|| overflow(what))
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(|| overflow(what))
}

fn sub(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_sub(b).ok_or_else(|| overflow(what))
}

fn div(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    quantity::div(a, b).ok_or_else(|| overflow(what))
}

/// Units that belong to no ingredient in particular, formatted for steps.
fn units_text(n: Decimal) -> String {
    if n.fract().is_zero() {
        format!("{} units", n.normalize())
    } else {
        format!("{} unit-equivalents", show(n))
    }
}
