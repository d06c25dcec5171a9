//! Step 3 of docs/method.md: the actives, each with its basis decided (never assumed), its
//! salt and potency factors, and its mass weighed.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result};
use crate::formula::{Active, Formula, short_name};
use crate::order::{AssaySpec, Basis, FormSpec, Order};
use crate::quantity::{self, Dimension, Quantity, show, show_mass};

use super::guards;
use super::names::{check_names, pick};
use super::{
    ActiveDetail, BasisSource, DisplacementSource, Ingredient, Role, div, mul, units_text,
};
use crate::formula::names::Names;

/// Step 3: every active, with its basis decided (never assumed) and its assay checked.
pub(super) fn actives_step(
    formula: &Formula,
    order: &Order,
    n: Decimal,
    warnings: &mut Vec<String>,
) -> Result<Vec<Ingredient>> {
    let index = Names::actives(formula);
    check_names(
        &order.strengths,
        |s| s.active.as_deref(),
        formula,
        &index,
        Field::Strength,
        false,
    )?;
    check_names(
        &order.assays,
        |s| s.active.as_deref(),
        formula,
        &index,
        Field::Assay,
        false,
    )?;
    check_names(
        &order.bases,
        |s| s.active.as_deref(),
        formula,
        &index,
        Field::Basis,
        true,
    )?;
    let single = formula.actives.len() == 1;
    let strengths = pick(&index, &order.strengths, |s| s.active.as_deref(), single);
    let assays = pick(&index, &order.assays, |s| s.active.as_deref(), single);
    let basis_given = pick(&index, &order.bases, |s| s.active.as_deref(), true);
    // Every strength first: a missing one is the more basic mistake than a missing basis.
    let mut specs = Vec::with_capacity(formula.actives.len());
    for (active, spec) in formula.actives.iter().zip(&strengths) {
        let spec = spec.ok_or_else(|| {
            Error::order(
                Field::Strength,
                if single {
                    format!(
                        "the strength per unit of {} is required, e.g. \"50 mg\"",
                        active.name
                    )
                } else {
                    format!(
                        "no strength given for {}; add one as \"{}=...\"",
                        active.name, active.name
                    )
                },
            )
        })?;
        specs.push(spec);
    }
    let amounts: Vec<Quantity> = specs.iter().map(|s| s.amount).collect();
    warnings.extend(super::usual::check_strengths(formula, order, &amounts)?);
    let mut out = Vec::new();
    for (i, (active, spec)) in formula.actives.iter().zip(specs).enumerate() {
        let assay = assays[i];
        let (basis, source) = match basis_given[i] {
            Some(b) => (b.basis, BasisSource::Order),
            None => match active.label_basis {
                Some(b) => (b, BasisSource::Formula),
                None if active.has_distinct_moiety() => {
                    return Err(basis_required(formula, active, spec.amount));
                }
                None => (Basis::Salt, BasisSource::Only),
            },
        };
        let form = order.forms.iter().find(|f| f.active == active.name);
        out.push(active_ingredient(
            formula,
            active,
            spec.amount,
            (basis, source),
            (assay, form),
            n,
            warnings,
        )?);
    }
    Ok(out)
}

/// The refusal for a strength that could mean two masses.
fn basis_required(formula: &Formula, active: &Active, strength: Quantity) -> Error {
    let moiety = active
        .moiety
        .as_ref()
        .map_or("the moiety", |m| m.name.as_str());
    let factor = active
        .moiety
        .as_ref()
        .and_then(|m| quantity::div(active.mw, m.mw))
        .map_or_else(String::new, |f| format!(" (factor {})", show(f)));
    Error::order(
        Field::Basis,
        format!(
            "{strength} of {} may be written as the salt weighed ({}) or as {moiety}; the two \
             differ by the salt factor{factor}, and {} does not state which its prescriptions \
             use. Say which: salt or moiety, or set label_basis for this active in the \
             formula",
            active.name, active.name, formula.id
        ),
    )
}

/// The equivalent of `strength` in the active's other form, per unit: the moiety for a salt
/// strength, the salt for a moiety strength.
fn equivalent(active: &Active, s: Decimal, basis: Basis) -> Result<Option<(String, Decimal)>> {
    let Some(m) = active
        .moiety
        .as_ref()
        .filter(|_| active.has_distinct_moiety())
    else {
        return Ok(None);
    };
    Ok(Some(match basis {
        Basis::Salt => (
            m.name.clone(),
            div(mul(s, m.mw, "the equivalent")?, active.mw, "the equivalent")?,
        ),
        Basis::Moiety => (
            active.name.clone(),
            div(mul(s, active.mw, "the equivalent")?, m.mw, "the equivalent")?,
        ),
    }))
}

/// One active: its form, its guards, and its mass weighed for the batch.
fn active_ingredient(
    formula: &Formula,
    active: &Active,
    strength: Quantity,
    (basis, basis_source): (Basis, BasisSource),
    (assay_spec, form): (Option<&AssaySpec>, Option<&FormSpec>),
    n: Decimal,
    warnings: &mut Vec<String>,
) -> Result<Ingredient> {
    let s = strength.in_base();
    let (salt, strength_form) = salt_factor(formula, active, basis)?;
    // A lot of another form the formula allows is weighed by its own molecular weight over
    // that of the form the strength is of.
    let (salt, form_step) = match form {
        Some(f) => {
            let of = salt.map_or(active.mw, |(_, m)| m);
            (
                Some((f.mw, of)),
                Some(format!(
                    "weighed from a lot of the {} form, which {} allows in place of the {}: \
                     × {}/{} (MW of the lot's form / MW of {strength_form})",
                    f.form,
                    formula.id,
                    active.form.as_deref().unwrap_or("form weighed"),
                    f.mw.normalize(),
                    of.normalize()
                )),
            )
        }
        None => (salt, None),
    };
    let judged = guards::check_assay(formula, active, assay_spec)?;
    let assay = assay_spec.map(|a| a.percent);
    let mut detail = ActiveDetail {
        strength,
        basis,
        basis_source,
        strength_form,
        salt_factor: salt,
        assay_percent: assay,
        trituration: assay_spec.and_then(|a| a.trituration.clone()),
        equivalent: None,
        per_unit_weighed: weighed(s, salt, assay, &active.name)?,
        schedule: active.schedule,
    };
    guards::check_max_strength(formula, active, &detail)?;
    let exact = weighed(mul(s, n, &active.name)?, salt, assay, &active.name)?;
    let mut steps = describe(active, &detail, n, exact)?;
    steps.extend(form_step);
    if let (Some(lot), Some(c)) = (&detail.trituration, detail.assay_percent) {
        let drug = div(
            mul(exact, c, &active.name)?,
            Decimal::ONE_HUNDRED,
            &active.name,
        )?;
        steps.push(format!(
            "{} {} = {} of stock trituration {lot} at {} % (its drug's assay was judged when \
             it was made)",
            short_name(&active.name),
            show_mass(drug),
            show_mass(exact),
            c.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        ));
    }
    steps.extend(judged);
    if let Some(w) = guards::assay_warning(active, &detail)? {
        warnings.push(w);
    }
    detail.equivalent = equivalent(active, s, basis)?;
    Ok(Ingredient {
        name: active.name.clone(),
        role: Role::Active,
        exact,
        dimension: Dimension::Mass,
        amount: exact,
        mass: exact,
        displaced: None,
        displacement: active.displacement.map(DisplacementSource::Stated),
        active: Some(detail),
        aliquot: None,
        diluent_for: None,
        steps,
    })
}

/// The salt factor (MW weighed, MW of the moiety) when the strength is of the moiety, and the
/// name of the form the strength is written in.
fn salt_factor(
    formula: &Formula,
    active: &Active,
    basis: Basis,
) -> Result<(Option<(Decimal, Decimal)>, String)> {
    Ok(match basis {
        Basis::Salt => (None, active.name.clone()),
        Basis::Moiety => {
            let m = active.moiety.as_ref().ok_or_else(|| {
                Error::order(Field::Basis,
                    format!(
                        "{} in {} names no moiety, so a strength of the moiety cannot be converted; \
                         give the basis as salt (the strength is of {} as weighed)",
                        active.name, formula.id, active.name
                    ),
                )
            })?;
            (Some((active.mw, m.mw)), m.name.clone())
        }
    })
}

/// `amount` of the strength's form as the mass weighed: × salt factor × potency factor
/// (100 ÷ assay), as one product over one divisor so that neither factor is rounded first.
pub(super) fn weighed(
    amount: Decimal,
    salt: Option<(Decimal, Decimal)>,
    assay: Option<Decimal>,
    what: &str,
) -> Result<Decimal> {
    let (num_salt, den_salt) = salt.unwrap_or((Decimal::ONE, Decimal::ONE));
    let (num_pot, den_pot) = match assay {
        Some(a) => (Decimal::ONE_HUNDRED, a),
        None => (Decimal::ONE, Decimal::ONE),
    };
    let denominator = mul(den_salt, den_pot, what)?;
    div(
        mul(mul(amount, num_salt, what)?, num_pot, what)?,
        denominator,
        what,
    )
}

/// How the active's amount was reached, in words with its numbers.
fn describe(active: &Active, d: &ActiveDetail, n: Decimal, exact: Decimal) -> Result<Vec<String>> {
    let (strength, strength_form) = (d.strength, &d.strength_form);
    let salt_text = match d.salt_factor {
        Some((mw, mmw)) => format!(
            " × {}/{} (salt factor {})",
            mw.normalize(),
            mmw.normalize(),
            show(div(mw, mmw, "the salt factor")?)
        ),
        None => String::new(),
    };
    let potency_text = match d.assay_percent {
        Some(a) if d.trituration.is_some() => format!(
            " × 100/{} (trituration {} at {} %)",
            a.normalize(),
            d.trituration.as_deref().unwrap_or_default(),
            a.normalize()
        ),
        Some(a) => format!(
            " × 100/{} (potency factor {}, assay {} %)",
            a.normalize(),
            show(div(Decimal::ONE_HUNDRED, a, "the potency factor")?),
            a.normalize()
        ),
        None => String::new(),
    };
    let written_as = match d.basis {
        Basis::Salt => "the salt weighed".to_string(),
        Basis::Moiety => short_name(strength_form).to_string(),
    };
    let basis_text = match d.basis_source {
        BasisSource::Order => format!(" [strength written as {written_as}, as ordered]"),
        BasisSource::Formula => {
            format!(" [strength written as {written_as}, the formula's label basis]")
        }
        BasisSource::Only => String::new(),
    };
    let mut steps = vec![format!(
        "{strength} {strength_form} × {}{salt_text}{potency_text} = {}{basis_text}",
        units_text(n),
        show_mass(exact)
    )];
    if d.salt_factor.is_some() || d.assay_percent.is_some() {
        let weighed = match &d.trituration {
            Some(lot) => format!("stock trituration {lot}"),
            None => active.name.clone(),
        };
        steps.push(format!(
            "per unit: {} of {weighed} as weighed",
            show_mass(d.per_unit_weighed)
        ));
    }
    Ok(steps)
}
