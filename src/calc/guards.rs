//! Step 4 of docs/method.md: the guards on the actives, which refuse an assay or a strength
//! that is more likely a typing error than a prescription, and warn of an assay that changes
//! what is weighed.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result};
use crate::formula::{Active, AssayBasis, Formula};
use crate::order::AssaySpec;
use crate::quantity::{show, show_mass};
use crate::stock::potency::on_basis;

use super::{ActiveDetail, div, mul, sub};

/// The assay must lie within the active's accepted range, judged on the basis the range is
/// on (the monograph's): the as-is potency for an as-is range, else the certificate's figure
/// on that basis. Returns the step that shows it, when the range is not on the as-is basis
/// or the certificate's was not.
pub(super) fn check_assay(
    formula: &Formula,
    active: &Active,
    assay: Option<&AssaySpec>,
) -> Result<Option<String>> {
    let Some(spec) = assay else {
        return Ok(None);
    };
    // A trituration's concentration is no assay: its drug's was judged when it was made.
    if spec.trituration.is_some() {
        return Ok(None);
    }
    let (low, high) = active.assay_range;
    let basis = active.assay_basis;
    let Some((a, how)) = on_basis(spec.percent, spec.certificate.as_ref(), basis) else {
        let have = spec.certificate.as_ref().map_or_else(
            || format!("an as-is assay of {} %", spec.percent.normalize()),
            |c| format!("the certificate's {}", c.text()),
        );
        return Err(Error::order(
            Field::Assay,
            format!(
                "{} accepts {} at {}-{} % on the {} basis, as its monograph states the limits, \
                 and {have} cannot be judged on it without the {}: give the certificate's \
                 assay on the {} basis with it, e.g. \"{}=98.1 % {}, 12 % water\"",
                formula.id,
                active.name,
                low.normalize(),
                high.normalize(),
                basis.as_str(),
                if basis == AssayBasis::Dried {
                    "loss on drying"
                } else {
                    "water content"
                },
                basis.as_str(),
                active.name,
                basis.as_str()
            ),
        ));
    };
    if a < low || a > high {
        let on = if basis == AssayBasis::AsIs {
            String::new()
        } else {
            format!(" on the {} basis", basis.as_str())
        };
        let shown = if spec.certificate.is_some() || basis != AssayBasis::AsIs {
            format!(" ({how})")
        } else {
            String::new()
        };
        let (gives, keys) = if basis == AssayBasis::AsIs {
            ("the as-is assay", "assay_min or assay_max")
        } else {
            (
                "the assay on its monograph's basis",
                "assay_min or assay_max (and assay_basis, the basis the monograph's limits are on)",
            )
        };
        return Err(Error::order(
            Field::Assay,
            format!(
                "an assay of {} %{on} for {}{shown} is outside the {}-{} % that {} accepts. A \
                 certificate of analysis gives {gives} of a USP drug substance, usually \
                 98-102 %; a value this far off is a typing error until shown otherwise{}. \
                 If the lot truly assays so, the master formulation record must say it: set \
                 {keys} for this active in a new version of the formula",
                a.normalize(),
                active.name,
                low.normalize(),
                high.normalize(),
                formula.id,
                likely_assay(a).map_or_else(String::new, |l| format!(" (was {l} meant?)"))
            ),
        ));
    }
    if basis == AssayBasis::AsIs && spec.certificate.is_none() {
        return Ok(None);
    }
    let as_is = match &spec.certificate {
        Some(c) => c.as_is()?.1,
        None => format!("{} % as is", spec.percent.normalize()),
    };
    Ok(Some(format!(
        "assay judged on the {} basis, as {} states its range: {how}, within {}-{} %; the \
         potency corrected for is the as-is figure, {as_is}",
        basis.as_str(),
        formula.id,
        low.normalize(),
        high.normalize()
    )))
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
    // Of a trituration, what counts is the drug it holds.
    let drug = match (&d.trituration, d.assay_percent) {
        (Some(_), Some(c)) => div(
            mul(per_unit, c, "the limit")?,
            Decimal::ONE_HUNDRED,
            "the limit",
        )?,
        _ => per_unit,
    };
    if drug <= max.in_base() {
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
    let Some(a) = d
        .assay_percent
        .filter(|a| *a != Decimal::ONE_HUNDRED && d.trituration.is_none())
    else {
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
