//! The form a lot was received in (anhydrous, a hydrate, a salt) against the form a formula
//! weighs. The formula's molecular weight is of the form it weighs, water of hydration
//! included, so a lot of another form would be weighed wrong by the water's share: it is
//! refused unless the formula allows that form with its molecular weight, and then the amount
//! is converted (× MW of the lot's form / MW of the form the strength is of).

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::formula::Active;

/// The forms a lot may be received in and a formula may weigh. "hydrate" is a hydrate that
/// does not say which; "salt" says nothing of the water.
pub const FORMS: [&str; 8] = [
    "anhydrous",
    "hydrate",
    "hemihydrate",
    "monohydrate",
    "sesquihydrate",
    "dihydrate",
    "trihydrate",
    "salt",
];

/// A form as written, in lower case, if it is one of [`FORMS`].
pub fn parse(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    FORMS.contains(&t.as_str()).then_some(t)
}

fn is_hydrate(form: &str) -> bool {
    form.ends_with("hydrate") && form != "anhydrous"
}

/// Whether forms `a` and `b` are the same as far as both say: equal, or a hydrate that does
/// not say which against a named one.
fn same(a: &str, b: &str) -> bool {
    a == b || (is_hydrate(a) && is_hydrate(b) && (a == "hydrate" || b == "hydrate"))
}

/// What a lot of `form` is weighed as for `active`: `Ok(None)` when it is the form weighed
/// (or nothing says otherwise), `Ok(Some(mw))` when the formula allows it converted by its
/// molecular weight, and a refusal naming the lot, its form, what the formula weighs and how
/// to allow it otherwise. `ingredient` is the name the formula weighs; `flag` names the
/// argument the refusal belongs to.
pub fn fits(
    flag: &str,
    lot: &str,
    form: Option<&str>,
    ingredient: &str,
    active: Option<&Active>,
    formula: &str,
) -> Result<Option<Decimal>> {
    let Some(form) = form.filter(|f| *f != "salt" && *f != super::trituration::FORM) else {
        return Ok(None);
    };
    let Some((active, weighed)) = active.and_then(|a| a.form.as_deref().map(|w| (a, w))) else {
        return by_name(flag, lot, form, ingredient);
    };
    if weighed == "salt" || same(form, weighed) {
        return Ok(None);
    }
    if let Some((_, mw)) = active.accepts_forms.iter().find(|(f, _)| same(form, f)) {
        return Ok(Some(*mw));
    }
    Err(Error::arg(
        flag,
        format!(
            "stock lot {lot} was received {form}, and {formula} weighs {ingredient} as the \
             {weighed} (MW {}): weighed as it is, the amount would be wrong by the water of \
             hydration. Use a lot of the {weighed}, or allow this form in a new version of the \
             formula, with its molecular weight so that the amount is converted: \
             accepts_forms = [{{ form = \"{form}\", mw = \"...\" }}] on this active",
            active.mw.normalize()
        ),
    ))
}

/// The judgement of a formula that states no form: as far as the ingredient's name says one.
/// A name that says a hydrate ("monohydrate", "hemihydrate") takes no lot received anhydrous,
/// one that says "anhydrous" no hydrate; a name that says neither is not judged.
fn by_name(flag: &str, lot: &str, form: &str, ingredient: &str) -> Result<Option<Decimal>> {
    let name = ingredient.to_ascii_lowercase();
    let says_anhydrous = name.contains("anhydrous");
    let says_hydrate = !says_anhydrous && name.contains("hydrate");
    let clash = (says_hydrate && form == "anhydrous") || (says_anhydrous && is_hydrate(form));
    if clash {
        return Err(Error::arg(
            flag,
            format!(
                "stock lot {lot} was received {form}, and the formula weighs {ingredient}: \
                 the amounts would be wrong by the water of hydration. Use a lot of the form \
                 the formula weighs, or a formula written for this form (its active's `form` \
                 and `accepts_forms` allow a conversion)"
            ),
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hydrates_that_do_not_say_which_match_any_hydrate() {
        assert!(same("hydrate", "hemihydrate"));
        assert!(same("hemihydrate", "hemihydrate"));
        assert!(!same("hemihydrate", "monohydrate"));
        assert!(!same("anhydrous", "hydrate"));
        assert_eq!(parse(" Hemihydrate "), Some("hemihydrate".to_string()));
        assert_eq!(parse("wet"), None);
    }
}
