//! The mold: its cavities and blank weight, and the derivation of a blank weight taken from a
//! published formula.

use rust_decimal::Decimal;

use crate::formula::raw::{RawDerived, RawMold};
use crate::formula::{DerivedBlank, DerivedIngredient, Mold};
use crate::input::toml::Source;
use crate::quantity::{self, Dimension};

use super::{density, displacement, stated};
use crate::formula::Unmeasured;

pub(super) fn mold(src: &mut Source, raw: &RawMold) -> Option<Mold> {
    let name = src.text(&raw.name, "mold.name");
    let cavities = src.count(&raw.cavities, "mold.cavities", 1, 100_000);
    let blank = src.mass(&raw.blank_weight, "mold.blank_weight");
    let derived = raw
        .derived
        .as_ref()
        .and_then(|d| derived_blank(src, d, blank.map(|b| b.in_base())));
    let blank_weight_is = stated(
        src,
        raw.blank_weight_is.as_ref(),
        raw.blank_weight_source.as_ref(),
        "mold.blank_weight",
        &["calibrated"],
        &[Unmeasured::Nominal, Unmeasured::Estimated],
    );
    if let (Some(is), Some(_)) = (&raw.blank_weight_is, &raw.derived)
        && blank_weight_is.is_some()
    {
        src.push(
            Some(is.span()),
            "mold.blank_weight_is",
            "the blank weight is derived ([mold.derived] says from what); a derived blank is \
             printed as derived, so remove blank_weight_is or [mold.derived]",
        );
    }
    Some(Mold {
        name,
        cavities: cavities?,
        blank_weight: blank?.in_base(),
        derived,
        blank_weight_is,
    })
}

fn derived_blank(src: &mut Source, d: &RawDerived, blank: Option<Decimal>) -> Option<DerivedBlank> {
    let from = src.text(&d.from, "mold.derived.from");
    let units = src.count(&d.units, "mold.derived.units", 1, 100_000);
    let base = src.mass(&d.base, "mold.derived.base").map(|q| q.in_base());
    let mut ingredients = Vec::new();
    for (i, ing) in d.ingredient.iter().enumerate() {
        let key = format!("mold.derived.ingredient[{}]", i + 1);
        let r = ing.get_ref();
        let name = src.text(&r.name, &format!("{key}.name"));
        let amount = src.quantity(&r.amount, &format!("{key}.amount"));
        let density = r.density.as_ref().and_then(|n| density(src, n, &key));
        if let Some(q) = amount
            && q.dimension() == Dimension::Volume
            && r.density.is_none()
        {
            src.push(
                Some(r.amount.span()),
                &format!("{key}.amount"),
                format!("{q} is a volume; add density = \"... g/mL\""),
            );
        }
        let displacement = displacement(
            src,
            r.replacement_factor.as_ref(),
            r.density_factor.as_ref(),
            &key,
        );
        if displacement.is_none() && r.replacement_factor.is_none() && r.density_factor.is_none() {
            src.push(
                Some(r.name.span()),
                &key,
                "needs replacement_factor or density_factor: what it displaces is the point of \
                 the derivation",
            );
        }
        if let (Some(amount), Some(displacement)) = (amount, displacement) {
            ingredients.push(DerivedIngredient {
                name,
                amount,
                density,
                displacement,
            });
        }
    }
    let derived = DerivedBlank {
        from,
        units: units?,
        base: base?,
        ingredients,
    };
    // The stated blank must agree with the derivation to 1 %, or the file says two things.
    if let (Some(b), Some(implied)) = (blank, derived.blank_weight()) {
        let off = (b - implied).abs() * Decimal::ONE_HUNDRED;
        if off > implied {
            src.push(
                Some(d.base.span()),
                "mold.derived",
                format!(
                    "implies a plain-base blank of {} g ((base + displaced) ÷ units), but \
                     blank_weight is {} g; they must agree within 1 %",
                    quantity::show(implied),
                    b.normalize()
                ),
            );
        }
    }
    Some(derived)
}
