//! Step 4 of docs/method.md: the guards on the actives, which refuse an assay or a strength
//! that is more likely a typing error than a prescription, and warn of an assay that changes
//! what is weighed.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result};
use crate::formula::{Active, Formula};
use crate::quantity::{show, show_mass};

use super::{ActiveDetail, div, mul, sub};

/// The assay must lie within the active's accepted range.
pub(super) fn check_assay(
    formula: &Formula,
    active: &Active,
    assay: Option<Decimal>,
) -> Result<()> {
    let Some(a) = assay else {
        return Ok(());
    };
    let (low, high) = active.assay_range;
    if a < low || a > high {
        return Err(Error::order(
            Field::Assay,
            format!(
                "an assay of {} % for {} is outside the {}-{} % that {} accepts. A certificate \
                 of analysis gives the as-is assay of a USP drug substance, usually 98-102 %; a \
                 value this far off is a typing error until shown otherwise{}. \
                 If the lot truly assays so, the master formulation record must say it: set \
                 assay_min or assay_max for this active in a new version of the formula",
                a.normalize(),
                active.name,
                low.normalize(),
                high.normalize(),
                formula.id,
                likely_assay(a).map_or_else(String::new, |l| format!(" (was {l} meant?)"))
            ),
        ));
    }
    Ok(())
}

/// What is weighed per unit (strength × salt factor × potency factor) must not exceed the
/// formula's maximum strength; the refusal names the assay when only the potency factor takes
/// it over.
pub(super) fn check_max_strength(
    formula: &Formula,
    active: &Active,
    d: &ActiveDetail,
) -> Result<()> {
    let Some(max) = active.max_strength else {
        return Ok(());
    };
    let (strength, strength_form, per_unit) = (d.strength, &d.strength_form, d.per_unit_weighed);
    if per_unit <= max.in_base() {
        return Ok(());
    }
    let s = strength.in_base();
    let (num_salt, den_salt) = d.salt_factor.unwrap_or((Decimal::ONE, Decimal::ONE));
    let (field, why, advice) = match d.assay_percent {
        Some(a) if div(mul(s, num_salt, "the limit")?, den_salt, "the limit")? <= max.in_base() => {
            (
                Field::Assay,
                format!(
                    ", because the assay of {} % raises what is weighed",
                    a.normalize()
                ),
                "check the assay against the certificate of analysis; if both are right, \
                 the master formulation record's max_strength must allow for the potency \
                 correction",
            )
        }
        _ => (
            Field::Strength,
            String::new(),
            "check for a decimal or ten-fold error",
        ),
    };
    Err(Error::order(
        field,
        format!(
            "{strength} of {strength_form} per unit means weighing {} of {} per unit{why}, \
             above the maximum of {max} per unit that {} allows; {advice}",
            show_mass(per_unit),
            active.name,
            formula.id
        ),
    ))
}

/// An assay other than 100 % is accepted, with a warning of how much it changes what is
/// weighed.
pub(super) fn assay_warning(active: &Active, d: &ActiveDetail) -> Result<Option<String>> {
    let Some(a) = d.assay_percent.filter(|a| *a != Decimal::ONE_HUNDRED) else {
        return Ok(None);
    };
    let (strength, strength_form, per_unit) = (d.strength, &d.strength_form, d.per_unit_weighed);
    let change = div(
        mul(
            sub(Decimal::ONE_HUNDRED, a, "the assay")?,
            Decimal::ONE_HUNDRED,
            "the assay",
        )?,
        a,
        "the assay",
    )?;
    Ok(Some(format!(
        "{}: the assay of {} % makes the amount weighed {} % {} than the strength{} alone \
         gives ({} per unit for a labelled {strength} of {strength_form}); check the assay \
         against the lot's certificate of analysis.",
        active.name,
        a.normalize(),
        show(
            change
                .abs()
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        ),
        if change > Decimal::ZERO {
            "more"
        } else {
            "less"
        },
        if d.salt_factor.is_some() {
            " and the salt factor"
        } else {
            ""
        },
        show_mass(per_unit)
    )))
}

/// The assay most likely meant by an implausible one: a misplaced decimal point (9.85 for
/// 98.5) or a fraction typed for a percent (0.995 for 99.5).
fn likely_assay(a: Decimal) -> Option<String> {
    let mut v = a;
    while v < Decimal::from(50) && v > Decimal::ZERO {
        v *= Decimal::TEN;
    }
    while v > Decimal::from(200) {
        v /= Decimal::TEN;
    }
    (v != a).then(|| format!("{} %", v.normalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn likely_assay_moves_the_decimal_point() {
        assert_eq!(likely_assay(d("9.85")).unwrap(), "98.5 %");
        assert_eq!(likely_assay(d("0.995")).unwrap(), "99.5 %");
        assert_eq!(likely_assay(d("985")).unwrap(), "98.5 %");
        assert_eq!(likely_assay(d("50")), None);
    }
}
