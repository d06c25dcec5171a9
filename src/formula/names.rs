//! The one way a command turns a name someone typed into an ingredient of a formula: order
//! strengths and assays, `confirm_strength`, component lots, bench weights and the flags a
//! pharmacist acknowledges all resolve here, so the same words name the same ingredient
//! everywhere, and a word that names none is refused, never guessed.
//!
//! An ingredient answers to its full name, its short name (up to the first comma or
//! parenthesis: "Estriol" for "Estriol, USP (micronized)") and, for an active weighed as a salt
//! or hydrate, its moiety's name and short name ("Ketamine" for ketamine hydrochloride),
//! compared without regard to case, spacing or Unicode composition. A full name wins over
//! another ingredient's short name. A name that answers to two ingredients is refused naming
//! both; one that is close to a name (a typo, a prefix) is refused with "did you mean".

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization as _;

use super::model::{Formula, short_name};

/// How close (Jaro-Winkler, on the compared form) a name must be to one an ingredient
/// answers to before it is taken for a typo of it and named in "did you mean".
const NEAR: f64 = 0.85;

/// The ingredients a command may name, by every name each answers to.
#[derive(Debug, Clone)]
pub struct Names {
    /// Each ingredient's full name, as the formula writes it, in the formula's order.
    full: Vec<String>,
    /// Every name an ingredient answers to, as written, with its ingredient and whether it is
    /// the full name (which wins over another's short or moiety name).
    aliases: Vec<(String, usize, bool)>,
    /// The compared form of each alias, to the aliases (indices into `aliases`) that have it.
    by_key: HashMap<String, Vec<usize>>,
}

/// Why a name resolved to no single ingredient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// Close to none: the caller lists what is allowed.
    Unknown,
    /// Close to these names (as the formula writes them), best first: a typo or a prefix.
    Near(Vec<String>),
    /// Answers to each of these ingredients (full names).
    Ambiguous(Vec<String>),
}

impl Names {
    /// The actives of `formula`: what an order's strengths, assays, bases and strength
    /// confirmations name.
    pub fn actives(formula: &Formula) -> Names {
        Names::new(
            formula
                .actives
                .iter()
                .map(|a| (a.name.as_str(), a.moiety.as_ref().map(|m| m.name.as_str()))),
        )
    }

    /// Every ingredient of `formula` a lot may be recorded for: actives, excipients, the base
    /// and its components, and the aliquot diluent.
    pub fn ingredients(formula: &Formula) -> Names {
        let diluent = formula.diluent();
        Names::new(
            formula
                .actives
                .iter()
                .map(|a| (a.name.as_str(), a.moiety.as_ref().map(|m| m.name.as_str())))
                .chain(formula.excipients.iter().map(|e| (e.name.as_str(), None)))
                .chain(std::iter::once((formula.base.name.as_str(), None)))
                .chain(
                    formula
                        .base
                        .components
                        .iter()
                        .map(|c| (c.name.as_str(), None)),
                )
                .chain(std::iter::once((diluent.name.as_str(), None)))
                .collect::<Vec<_>>(),
        )
    }

    /// The rows of a calculated batch (`rows`, the ingredients weighed or measured), each
    /// answering also to its moiety's name where it is an active of `formula`.
    pub fn rows<'a>(formula: &Formula, rows: impl IntoIterator<Item = &'a str>) -> Names {
        let moieties: HashMap<&str, &str> = formula
            .actives
            .iter()
            .filter_map(|a| Some((a.name.as_str(), a.moiety.as_ref()?.name.as_str())))
            .collect();
        let rows: Vec<(&str, Option<&str>)> = rows
            .into_iter()
            .map(|r| (r, moieties.get(r).copied()))
            .collect();
        Names::new(rows)
    }

    /// Ingredients by full name, each with its moiety's name if it has one. A full name given
    /// twice is one ingredient.
    pub fn new<'a>(ingredients: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Names {
        let mut names = Names {
            full: Vec::new(),
            aliases: Vec::new(),
            by_key: HashMap::new(),
        };
        // One look-up per name, not a scan: a formula may have thousands of actives.
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (name, moiety) in ingredients {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let i = *seen.entry(name).or_insert_with(|| {
                names.full.push(name.to_owned());
                names.full.len() - 1
            });
            names.alias(name, i, true);
            names.alias(short_name(name), i, false);
            if let Some(m) = moiety.map(str::trim).filter(|m| !m.is_empty()) {
                names.alias(m, i, false);
                names.alias(short_name(m), i, false);
            }
        }
        names
    }

    fn alias(&mut self, alias: &str, i: usize, full: bool) {
        let k = key(alias);
        if k.is_empty() {
            return;
        }
        let at = self.by_key.entry(k).or_default();
        if at.iter().any(|&a| self.aliases[a].1 == i) {
            return;
        }
        at.push(self.aliases.len());
        self.aliases.push((alias.trim().to_owned(), i, full));
    }

    /// The full names, in the formula's order.
    pub fn all(&self) -> &[String] {
        &self.full
    }

    /// The full name of ingredient `i` (an index [`Names::resolve`] gave).
    pub fn full(&self, i: usize) -> &str {
        &self.full[i]
    }

    /// The ingredient (index into [`Names::all`]) that `given` names.
    ///
    /// # Errors
    ///
    /// A [`Miss`] when it names none or several.
    pub fn resolve(&self, given: &str) -> Result<usize, Miss> {
        let k = key(given);
        let Some(at) = self.by_key.get(&k) else {
            return Err(self.near(&k));
        };
        // A full name wins; otherwise every ingredient with this name is a candidate.
        let full = at.iter().any(|&a| self.aliases[a].2);
        let mut found = at
            .iter()
            .filter(|&&a| !full || self.aliases[a].2)
            .map(|&a| self.aliases[a].1);
        match (found.next(), found.next()) {
            (Some(i), None) => Ok(i),
            _ => Err(Miss::Ambiguous(
                at.iter()
                    .filter(|&&a| !full || self.aliases[a].2)
                    .map(|&a| self.full[self.aliases[a].1].clone())
                    .collect(),
            )),
        }
    }

    /// The names `k` (a compared form that answers to nothing) is close to: the closest
    /// alias of each ingredient, best first, as close as the best within a little.
    fn near(&self, k: &str) -> Miss {
        if k.chars().count() < 3 {
            return Miss::Unknown;
        }
        let mut best: Vec<(f64, usize, &str)> = Vec::new();
        for (alias, i, _) in &self.aliases {
            let a = key(alias);
            let mut score = strsim::jaro_winkler(k, &a);
            // A prefix of a name ("keta", "gelatin" for "gelatin powder") is as good as a typo.
            if a.starts_with(k) || k.starts_with(a.as_str()) {
                score = score.max(NEAR);
            }
            if score < NEAR {
                continue;
            }
            match best.iter_mut().find(|b| b.1 == *i) {
                Some(b) if b.0 >= score => {}
                Some(b) => *b = (score, *i, alias),
                None => best.push((score, *i, alias)),
            }
        }
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let Some(top) = best.first().map(|b| b.0) else {
            return Miss::Unknown;
        };
        Miss::Near(
            best.iter()
                .filter(|b| b.0 >= top - 0.05)
                .take(3)
                .map(|b| b.2.to_owned())
                .collect(),
        )
    }

    /// The ingredient `given` names, as a command's flag gives it; else the refusal (exit 2)
    /// naming `flag`, with what was meant and what `owner` ("lot 261130-001") holds.
    ///
    /// # Errors
    ///
    /// `Error::Argument` when `given` names no single ingredient.
    pub fn resolve_arg(&self, flag: &str, given: &str, owner: &str) -> crate::error::Result<usize> {
        self.resolve(given).map_err(|miss| {
            crate::error::Error::arg(
                flag,
                self.refusal(&miss, &format!("\"{}\"", given.trim()), "ingredient", owner),
            )
        })
    }

    /// The refusal of `given` (shown as `shown`, e.g. quoted, with its lot), which is not one
    /// of `owner`'s `noun`s ("active", "ingredient"): what was close or ambiguous, then what
    /// is allowed, each full name once, separated by semicolons (names hold commas).
    pub fn refusal(&self, miss: &Miss, shown: &str, noun: &str, owner: &str) -> String {
        let allowed = self.full.join("; ");
        let a = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        match miss {
            Miss::Unknown => format!("{shown} is not {a} {noun} of {owner}; {noun}s: {allowed}"),
            Miss::Near(close) => format!(
                "{shown} is not {a} {noun} of {owner}; did you mean {}? {noun}s: {allowed}",
                close
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Miss::Ambiguous(many) => format!(
                "{shown} names more than one {noun} of {owner} ({}); write the full name",
                many.join("; ")
            ),
        }
    }
}

/// The form names are compared in: composed (NFC), lower case, runs of white space as one
/// space, trimmed.
pub(super) fn key(name: &str) -> String {
    // Most names are ASCII, trimmed and singly spaced: lower case is all they need.
    // (White space as `split_whitespace` takes it, the vertical tab included.)
    let ws = |c: &u8| c.is_ascii_whitespace() || *c == 0x0b;
    let b = name.as_bytes();
    if name.is_ascii()
        && !b.first().is_some_and(ws)
        && !b.last().is_some_and(ws)
        && !b
            .windows(2)
            .any(|w| ws(&w[0]) && (ws(&w[1]) || w[0] != b' '))
    {
        return name.to_ascii_lowercase();
    }
    // ASCII is composed already.
    let composed: std::borrow::Cow<'_, str> = if name.is_ascii() {
        name.into()
    } else {
        name.nfc().collect::<String>().into()
    };
    let mut out = String::with_capacity(composed.len());
    for word in composed.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ketamine() -> Formula {
        crate::library::load("ketamine-hcl-troche").unwrap()
    }

    #[test]
    fn full_short_and_moiety_names_in_any_case_name_one_ingredient() {
        let f = ketamine();
        let names = Names::ingredients(&f);
        let ketamine = names.resolve("Ketamine hydrochloride, USP").unwrap();
        for given in [
            "ketamine hydrochloride, usp",
            "Ketamine hydrochloride",
            "KETAMINE",
            "  ketamine  ",
            "Ketamine   Hydrochloride",
        ] {
            assert_eq!(names.resolve(given), Ok(ketamine), "{given}");
        }
        let peg = names.resolve("Polyethylene glycol 400").unwrap();
        assert_eq!(names.full(peg), "Polyethylene glycol 400, NF");
    }

    #[test]
    fn a_near_miss_is_refused_with_what_was_meant() {
        let f = crate::library::load("progesterone-troche").unwrap();
        let names = Names::ingredients(&f);
        let miss = names.resolve("Progesteron").unwrap_err();
        assert_eq!(miss, Miss::Near(vec!["Progesterone".into()]));
        let text = names.refusal(&miss, "\"Progesteron\"", "ingredient", &f.id);
        assert!(text.contains("did you mean \"Progesterone\"?"), "{text}");
        assert!(text.contains("Progesterone, USP (micronized); "), "{text}");
        // A prefix is a near miss, not a match.
        assert!(matches!(names.resolve("Progest"), Err(Miss::Near(_))));
        assert_eq!(names.resolve("Lidocaine"), Err(Miss::Unknown));
        assert_eq!(names.resolve(""), Err(Miss::Unknown));
    }

    #[test]
    fn a_name_of_two_ingredients_names_both_and_a_full_name_wins() {
        let names = Names::new([
            ("Gelatin", None),
            ("Gelatin, 250 bloom", None),
            ("Drug hydrochloride", Some("Drug")),
            ("Drug sulfate", Some("Drug")),
        ]);
        assert_eq!(names.resolve("gelatin"), Ok(0));
        let Err(miss) = names.resolve("Drug") else {
            panic!("ambiguous")
        };
        assert_eq!(
            miss,
            Miss::Ambiguous(vec!["Drug hydrochloride".into(), "Drug sulfate".into()])
        );
        let text = names.refusal(&miss, "\"Drug\"", "active", "f");
        assert_eq!(
            text,
            "\"Drug\" names more than one active of f (Drug hydrochloride; Drug sulfate); \
             write the full name"
        );
    }

    #[test]
    fn the_compared_form_is_the_same_on_the_fast_path_and_the_slow_one() {
        for (given, want) in [
            ("Ketamine HCl", "ketamine hcl"),
            (" Ketamine  HCl\t", "ketamine hcl"),
            ("Ketamine\tHCl", "ketamine hcl"),
            ("Ketamine\u{b}HCl", "ketamine hcl"),
            ("", ""),
            ("   ", ""),
            ("CRE\u{300}ME", "cr\u{e8}me"),
        ] {
            assert_eq!(key(given), want, "{given:?}");
        }
    }

    #[test]
    fn names_are_compared_composed() {
        let names = Names::new([("Cr\u{e8}me base", None)]);
        assert_eq!(names.resolve("CRE\u{300}ME BASE"), Ok(0));
    }

    #[test]
    fn every_library_ingredient_answers_to_its_own_names_only() {
        for f in crate::library::all().unwrap() {
            let id = &f.id;
            let names = Names::ingredients(&f);
            for (i, full) in names.all().iter().enumerate() {
                assert_eq!(names.resolve(full), Ok(i), "{id}: {full}");
                assert_eq!(names.resolve(&full.to_uppercase()), Ok(i), "{id}: {full}");
            }
            let actives = Names::actives(&f);
            for a in &f.actives {
                let i = actives.resolve(&a.name).unwrap();
                if let Some(m) = &a.moiety {
                    assert_eq!(actives.resolve(&m.name), Ok(i), "{id}: {}", m.name);
                }
            }
        }
    }
}
