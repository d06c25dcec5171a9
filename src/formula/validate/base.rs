//! The base, its components, and the diluent of aliquots.

use rust_decimal::Decimal;
use toml::Spanned;

use crate::formula::raw::{RawAliquot, RawBase, RawBaseComponent};
use crate::formula::{Base, BaseComponent, Diluent};
use crate::input::toml::Source;

use super::{displacement, factor_stated};

pub(super) fn base(src: &mut Source, raw: &RawBase) -> Base {
    Base {
        name: src.text(&raw.name, "base.name"),
        default_displacement: displacement(
            src,
            raw.replacement_factor.as_ref(),
            raw.density_factor.as_ref(),
            "base",
        ),
        factor_is: factor_stated(
            src,
            raw.factor_is.as_ref(),
            raw.factor_source.as_ref(),
            raw.replacement_factor.is_some() || raw.density_factor.is_some(),
            "base",
        ),
        components: base_components(src, &raw.component),
    }
}

pub(super) fn diluent(src: &mut Source, a: &RawAliquot) -> Diluent {
    Diluent {
        name: src.text(&a.diluent, "aliquot.diluent"),
        displacement: displacement(
            src,
            a.replacement_factor.as_ref(),
            a.density_factor.as_ref(),
            "aliquot",
        ),
    }
}

fn base_components(src: &mut Source, raw: &[Spanned<RawBaseComponent>]) -> Vec<BaseComponent> {
    let mut out = Vec::new();
    let mut sum = Decimal::ZERO;
    for (i, c) in raw.iter().enumerate() {
        let key = format!("base.component[{}]", i + 1);
        let name = src.text(&c.get_ref().name, &format!("{key}.name"));
        if let Some(p) = src.positive(&c.get_ref().percent, &format!("{key}.percent")) {
            sum = sum.checked_add(p).unwrap_or(Decimal::MAX);
            out.push(BaseComponent { name, percent: p });
        }
    }
    if raw.len() == 1 {
        src.push(
            Some(raw[0].span()),
            "base.component",
            "a base of one component is the base itself; name it in [base] and drop \
             [[base.component]], or list every component",
        );
    } else if !raw.is_empty() && out.len() == raw.len() && sum != Decimal::ONE_HUNDRED {
        src.push(
            Some(raw[0].span()),
            "base.component",
            format!(
                "the components' percents add up to {} %; they are proportions of the base by \
                 mass and must add up to exactly 100",
                sum.normalize()
            ),
        );
    }
    out
}
