//! The actives: names, molecular weights, moiety, schedule, strengths, basis and assay range.

use rust_decimal::Decimal;
use toml::Spanned;

use crate::formula::raw::RawActive;
use crate::formula::{Active, DEFAULT_ASSAY_RANGE, Moiety, Schedule};
use crate::order::Basis;
use crate::quantity::{self, Quantity};
use crate::source::Source;

use super::{Names, displacement};

pub(super) fn actives(
    src: &mut Source,
    raw: &[Spanned<RawActive>],
    names: &mut Names,
) -> Vec<Active> {
    if raw.is_empty() {
        src.push(
            None,
            "active",
            "a formula needs at least one [[active]] ingredient",
        );
    }
    raw.iter()
        .enumerate()
        .map(|(i, a)| active(src, a.get_ref(), &format!("active[{}]", i + 1), names))
        .collect()
}

fn active(src: &mut Source, a: &RawActive, key: &str, names: &mut Names) -> Active {
    let name = names.check(src, &a.name, &format!("{key}.name"));
    let mw = src.positive(&a.mw, &format!("{key}.mw"));
    let moiety = moiety(src, a, key, mw);
    let schedule = schedule(src, a, key);
    let (max_strength, default_strength) = strengths(src, a, key);
    let displacement = displacement(
        src,
        a.replacement_factor.as_ref(),
        a.density_factor.as_ref(),
        key,
    );
    let label_basis = label_basis(src, a, key, moiety.is_some());
    let assay_range = assay_range(src, a, key);
    Active {
        name,
        mw: mw.unwrap_or(Decimal::ONE),
        moiety,
        schedule,
        max_strength,
        default_strength,
        displacement,
        label_basis,
        assay_range,
    }
}

/// The moiety a strength may be written as: a name and a molecular weight, given together,
/// and lighter than the form weighed.
fn moiety(src: &mut Source, a: &RawActive, key: &str, mw: Option<Decimal>) -> Option<Moiety> {
    let moiety = match (&a.moiety, &a.moiety_mw) {
        (Some(m), Some(mmw)) => {
            let mname = src.text(m, &format!("{key}.moiety"));
            src.positive(mmw, &format!("{key}.moiety_mw"))
                .map(|mw| Moiety { name: mname, mw })
        }
        (Some(m), None) => {
            src.push(
                Some(m.span()),
                &format!("{key}.moiety"),
                "needs moiety_mw (the molecular weight of the moiety)",
            );
            None
        }
        (None, Some(mmw)) => {
            src.push(
                Some(mmw.span()),
                &format!("{key}.moiety_mw"),
                "needs moiety (the name of the form)",
            );
            None
        }
        (None, None) => None,
    };
    if let (Some(mw), Some(m)) = (mw, &moiety)
        && m.mw > mw
    {
        src.push(
            Some(a.mw.span()),
            &format!("{key}.mw"),
            format!(
                "the weighed form's mw ({}) is smaller than the moiety's ({}); a salt or hydrate is heavier than its moiety",
                mw, m.mw
            ),
        );
    }
    moiety
}

fn schedule(src: &mut Source, a: &RawActive, key: &str) -> Option<Schedule> {
    a.schedule.as_ref().and_then(|s| {
        let parsed = Schedule::parse(s.get_ref());
        if parsed.is_none() {
            src.push(
                Some(s.span()),
                &format!("{key}.schedule"),
                format!(
                    "unknown schedule {}; allowed: CII, CIII, CIV, CV (or C2 to C5); leave \
                     schedule out for a drug that is not controlled",
                    quantity::echo(s.get_ref())
                ),
            );
        }
        parsed
    })
}

/// The maximum and the default strength per unit; the default may not exceed the maximum.
fn strengths(src: &mut Source, a: &RawActive, key: &str) -> (Option<Quantity>, Option<Quantity>) {
    let max_strength = a
        .max_strength
        .as_ref()
        .and_then(|n| src.mass(n, &format!("{key}.max_strength")));
    let default_strength = a
        .default_strength
        .as_ref()
        .and_then(|n| src.mass(n, &format!("{key}.default_strength")));
    if let (Some(max), Some(def)) = (max_strength, default_strength)
        && def.in_base() > max.in_base()
    {
        src.push(
            a.default_strength.as_ref().map(Spanned::span),
            &format!("{key}.default_strength"),
            format!("{def} is above max_strength {max}"),
        );
    }
    (max_strength, default_strength)
}

/// How the formula's prescriptions write this active's strength; "moiety" needs a moiety.
fn label_basis(src: &mut Source, a: &RawActive, key: &str, has_moiety: bool) -> Option<Basis> {
    a.label_basis.as_ref().and_then(|b| {
        let k = format!("{key}.label_basis");
        match Basis::parse(b.get_ref()) {
            Ok(basis) if basis == Basis::Moiety && !has_moiety => {
                src.push(
                    Some(b.span()),
                    &k,
                    "is \"moiety\" but the active names no moiety; add moiety and moiety_mw, \
                     or write label_basis = \"salt\"",
                );
                None
            }
            Ok(basis) => Some(basis),
            Err(e) => {
                src.push(Some(b.span()), &k, e.0);
                None
            }
        }
    })
}

/// The accepted assay range of an active: `assay_min` and `assay_max`, each defaulting to
/// [`DEFAULT_ASSAY_RANGE`]. A range must contain 100 % and stay within 50 to 200 %: beyond
/// that no drug substance is sold, and a wider window stops catching typed-in errors.
fn assay_range(src: &mut Source, a: &RawActive, key: &str) -> (Decimal, Decimal) {
    let (dlow, dhigh) = DEFAULT_ASSAY_RANGE;
    let low = a
        .assay_min
        .as_ref()
        .and_then(|n| {
            let k = format!("{key}.assay_min");
            let v = src.positive(n, &k)?;
            if v < Decimal::from(50) || v > Decimal::ONE_HUNDRED {
                src.push(
                    Some(n.span()),
                    &k,
                    format!(
                        "{v} % is not allowed; the lowest accepted assay must be from 50 to 100 %"
                    ),
                );
                return None;
            }
            Some(v)
        })
        .unwrap_or(dlow);
    let high = a
        .assay_max
        .as_ref()
        .and_then(|n| {
            let k = format!("{key}.assay_max");
            let v = src.positive(n, &k)?;
            if v < Decimal::ONE_HUNDRED || v > Decimal::from(200) {
                src.push(
                    Some(n.span()),
                    &k,
                    format!(
                        "{v} % is not allowed; the highest accepted assay must be from 100 to 200 %"
                    ),
                );
                return None;
            }
            Some(v)
        })
        .unwrap_or(dhigh);
    (low, high)
}
