//! The actives: names, molecular weights, moiety, schedule, strengths, basis and assay range.

use rust_decimal::Decimal;
use toml::Spanned;

use crate::formula::raw::RawActive;
use crate::formula::{Active, AssayBasis, DEFAULT_ASSAY_RANGE, Moiety, Schedule};
use crate::input::toml::Source;
use crate::order::Basis;
use crate::quantity::{self, Quantity};

use super::{Names, displacement, factor_stated};

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
    // A schedule written but not readable has been refused already.
    let unreadable = a.schedule.is_some() && schedule.is_none();
    if !name.is_empty()
        && !unreadable
        && let Some(why) = crate::controlled::check(&name, schedule)
    {
        let span = a.schedule.as_ref().map_or(a.name.span(), Spanned::span);
        src.push(Some(span), &format!("{key}.schedule"), why);
    }
    let (max_strength, default_strength) = strengths(src, a, key);
    let displacement = displacement(
        src,
        a.replacement_factor.as_ref(),
        a.density_factor.as_ref(),
        key,
    );
    let factor_is = factor_stated(
        src,
        a.factor_is.as_ref(),
        a.factor_source.as_ref(),
        a.replacement_factor.is_some() || a.density_factor.is_some(),
        key,
    );
    let label_basis = label_basis(src, a, key, moiety.is_some());
    let assay_range = assay_range(src, a, key);
    let assay_basis = assay_basis(src, a, key);
    let (form, accepts_forms) = forms(src, a, key);
    let usual_strength = usual_strength(src, a, key, max_strength);
    Active {
        name,
        mw: mw.unwrap_or(Decimal::ONE),
        moiety,
        schedule,
        max_strength,
        default_strength,
        displacement,
        factor_is,
        label_basis,
        assay_range,
        assay_basis,
        usual_strength,
        form,
        accepts_forms,
    }
}

/// The usual strengths: two masses, the lower first, the upper not above `max_strength`.
fn usual_strength(
    src: &mut Source,
    a: &RawActive,
    key: &str,
    max: Option<Quantity>,
) -> Option<(Quantity, Quantity)> {
    let raw = a.usual_strength.as_ref()?;
    let k = format!("{key}.usual_strength");
    let [low, high] = raw.get_ref().as_slice() else {
        src.push(
            Some(raw.span()),
            &k,
            "must be two strengths, the lowest and the highest usually prescribed, e.g. \
             usual_strength = [\"25 mg\", \"200 mg\"]",
        );
        return None;
    };
    let mut mass = |s: &Spanned<String>| match quantity::parse_mass(s.get_ref()) {
        Ok(q) if q.value > Decimal::ZERO => Some(q),
        Ok(_) => {
            src.push(Some(s.span()), &k, "a usual strength must be above zero");
            None
        }
        Err(e) => {
            src.push(Some(s.span()), &k, e.0);
            None
        }
    };
    let (low, high) = (mass(low)?, mass(high)?);
    if low.in_base() > high.in_base() {
        src.push(
            Some(raw.span()),
            &k,
            format!(
                "{low} comes first but is above {high}; write the lower strength first: \
                 usual_strength = [\"{high}\", \"{low}\"]"
            ),
        );
        return None;
    }
    if let Some(max) = max
        && high.in_base() > max.in_base()
    {
        src.push(
            Some(raw.span()),
            &k,
            format!("the upper usual strength {high} is above max_strength {max}"),
        );
        return None;
    }
    Some((low, high))
}

/// A fixed ratio of the actives' strengths, "80:20": one positive number per active, in the
/// order of the `[[active]]` tables.
pub(super) fn ratio(
    src: &mut Source,
    raw: &Spanned<String>,
    actives: usize,
) -> Option<Vec<Decimal>> {
    let text = src.text(raw, "ratio");
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    let mut out = Vec::with_capacity(parts.len());
    for p in &parts {
        match quantity::parse_decimal(p) {
            Ok(v) if v > Decimal::ZERO => out.push(v),
            _ => {
                src.push(
                    Some(raw.span()),
                    "ratio",
                    format!(
                        "{} is not a ratio; write one positive number per active, in the \
                         order of the [[active]] tables, separated by colons, e.g. \"80:20\"",
                        quantity::echo(&text)
                    ),
                );
                return None;
            }
        }
    }
    if out.len() != actives || actives < 2 {
        src.push(
            Some(raw.span()),
            "ratio",
            format!(
                "gives {} parts for {actives} actives; a ratio has one part per active and \
                 needs at least two actives",
                out.len()
            ),
        );
        return None;
    }
    Some(out)
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

/// The basis of the accepted assay range, as the monograph states its limits; as is when
/// the formula says nothing.
fn assay_basis(src: &mut Source, a: &RawActive, key: &str) -> AssayBasis {
    let Some(b) = a.assay_basis.as_ref() else {
        return AssayBasis::AsIs;
    };
    AssayBasis::from_text(b.get_ref()).unwrap_or_else(|| {
        src.push(
            Some(b.span()),
            &format!("{key}.assay_basis"),
            format!(
                "\"{}\" is not a basis; write \"dried\" (the monograph's limits are on the dried \
                 substance, with a loss on drying), \"anhydrous\" (with a water content) or \
                 \"as-is\"",
                b.get_ref()
            ),
        );
        AssayBasis::AsIs
    })
}

/// The form weighed and the other forms allowed, each from the stock's forms; another form
/// needs its molecular weight, and the form weighed stated.
fn forms(src: &mut Source, a: &RawActive, key: &str) -> (Option<String>, Vec<(String, Decimal)>) {
    let allowed = crate::stock::form::FORMS.join(", ");
    let read = |src: &mut Source, f: &Spanned<String>, k: &str| {
        let v = crate::stock::form::parse(f.get_ref());
        if v.is_none() {
            src.push(
                Some(f.span()),
                k,
                format!("\"{}\" is not a form; write one of {allowed}", f.get_ref()),
            );
        }
        v
    };
    let form = a
        .form
        .as_ref()
        .and_then(|f| read(src, f, &format!("{key}.form")));
    let mut accepts = Vec::new();
    for (i, raw) in a.accepts_forms.iter().enumerate() {
        let k = format!("{key}.accepts_forms[{}]", i + 1);
        let r = raw.get_ref();
        let Some(f) = read(src, &r.form, &format!("{k}.form")) else {
            continue;
        };
        let Some(mw) = src.positive(&r.mw, &format!("{k}.mw")) else {
            continue;
        };
        if a.form.is_none() {
            src.push(
                Some(raw.span()),
                &k,
                "allows a form other than the one weighed, but the active does not say which \
                 form it weighs: add form = \"...\" (the form its mw is of)",
            );
        } else if form.as_deref() == Some(f.as_str()) {
            src.push(
                Some(r.form.span()),
                &format!("{k}.form"),
                format!("is the form the active weighs already ({f})"),
            );
        } else {
            accepts.push((f, mw));
        }
    }
    (form, accepts)
}
