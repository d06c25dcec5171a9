//! The excipients: an amount per unit or a percent of the blank, a density for a volume.

use rust_decimal::Decimal;
use toml::Spanned;

use crate::formula::raw::RawExcipient;
use crate::formula::{Excipient, ExcipientAmount};
use crate::input::toml::Source;
use crate::quantity::Dimension;

use super::{Names, density, displacement, factor_stated};

pub(super) fn excipients(
    src: &mut Source,
    raw: &[Spanned<RawExcipient>],
    names: &mut Names,
) -> Vec<Excipient> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, e)| excipient(src, e.get_ref(), &format!("excipient[{}]", i + 1), names))
        .collect()
}

/// One excipient; `None` when its amount cannot be read (the problem is reported).
fn excipient(
    src: &mut Source,
    e: &RawExcipient,
    key: &str,
    names: &mut Names,
) -> Option<Excipient> {
    let name = names.check(src, &e.name, &format!("{key}.name"));
    let amount = amount(src, e, key);
    let density = e.density.as_ref().and_then(|d| density(src, d, key));
    check_density(src, e, key, amount.as_ref(), density);
    let displacement = displacement(
        src,
        e.replacement_factor.as_ref(),
        e.density_factor.as_ref(),
        key,
    );
    let factor_is = factor_stated(
        src,
        e.factor_is.as_ref(),
        e.factor_source.as_ref(),
        e.replacement_factor.is_some() || e.density_factor.is_some(),
        key,
    );
    Some(Excipient {
        name,
        amount: amount?,
        density,
        displacement,
        factor_is,
    })
}

/// Either an amount per unit or a percent of the blank weight, below 100.
fn amount(src: &mut Source, e: &RawExcipient, key: &str) -> Option<ExcipientAmount> {
    match (&e.per_unit, &e.percent_of_blank) {
        (Some(q), None) => src
            .quantity(q, &format!("{key}.per_unit"))
            .map(ExcipientAmount::PerUnit),
        (None, Some(p)) => {
            let p = src.positive(p, &format!("{key}.percent_of_blank"));
            if let Some(v) = p
                && v >= Decimal::ONE_HUNDRED
            {
                let span = e.percent_of_blank.as_ref().map(Spanned::span);
                src.push(
                    span,
                    &format!("{key}.percent_of_blank"),
                    format!(
                        "{v} % of the blank weight leaves no room for base; it must be below 100"
                    ),
                );
            }
            p.map(ExcipientAmount::PercentOfBlank)
        }
        (Some(_), Some(p)) => {
            src.push(
                Some(p.span()),
                key,
                "give either per_unit or percent_of_blank, not both",
            );
            None
        }
        (None, None) => {
            src.push(
                Some(e.name.span()),
                key,
                "needs per_unit (e.g. \"10 mg\") or percent_of_blank (e.g. \"1\")",
            );
            None
        }
    }
}

/// A volume needs a density to be counted by mass, and only a volume may have one.
fn check_density(
    src: &mut Source,
    e: &RawExcipient,
    key: &str,
    amount: Option<&ExcipientAmount>,
    density: Option<Decimal>,
) {
    if let Some(ExcipientAmount::PerUnit(q)) = amount
        && q.dimension() == Dimension::Volume
        && density.is_none()
        && e.density.is_none()
    {
        let span = e.per_unit.as_ref().map(Spanned::span);
        src.push(
            span,
            &format!("{key}.per_unit"),
            format!("{q} is a volume; add density = \"... g/mL\" so its weight can be counted"),
        );
    }
    if let (Some(d), Some(q)) = (&e.density, amount) {
        let is_volume =
            matches!(q, ExcipientAmount::PerUnit(q) if q.dimension() == Dimension::Volume);
        if !is_volume {
            src.push(Some(d.span()), &format!("{key}.density"), "a density is only used for an amount given as a volume (mL); remove it, or give per_unit in mL");
        }
    }
}
