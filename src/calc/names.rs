//! Which active of the formula each named value of an order (strength, assay, basis) is for.

use std::collections::HashMap;

use crate::error::{Error, Field, Result};
#[cfg(test)]
use crate::formula::{Active, name_matches};
use crate::formula::{Formula, short_name};

/// The name an order may use for an active: its full name, its moiety's name, or the short
/// form of either (up to the first comma or parenthesis: "Estriol" for "Estriol, USP
/// (micronized)", "Estradiol" for a moiety "Estradiol (anhydrous)"). [`ActiveNames`] is its
/// index; this is the rule it is tested against.
#[cfg(test)]
fn answers_to(active: &Active, n: &str) -> bool {
    name_matches(&active.name, n)
        || active
            .moiety
            .as_ref()
            .is_some_and(|m| name_matches(&m.name, n))
}

/// The actives of a formula by every name an order may use for them (see [`answers_to`]),
/// so that matching an order's named values to actives takes one look-up each instead of a
/// scan of every active (quadratic in the actives; docs/performance.md has the figures).
pub(super) struct ActiveNames {
    by_name: HashMap<String, Vec<usize>>,
}

impl ActiveNames {
    pub(super) fn new(formula: &Formula) -> ActiveNames {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut add = |name: &str, i: usize| {
            // The keys `name_matches` compares with: the full name and its short form.
            let full = name.trim();
            let short = short_name(full);
            for key in [full, short] {
                if key.is_empty() {
                    continue;
                }
                let v = by_name.entry(key.to_ascii_lowercase()).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        };
        for (i, a) in formula.actives.iter().enumerate() {
            add(&a.name, i);
            if let Some(m) = &a.moiety {
                add(&m.name, i);
            }
        }
        ActiveNames { by_name }
    }

    /// The actives (indices, ascending) that answer to `given`.
    pub(super) fn matching(&self, given: &str) -> &[usize] {
        self.by_name
            .get(&given.trim().to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// For each active, the value the order gives for it: the first named one that answers
    /// to it, else the first unnamed one where `unnamed_ok`.
    pub(super) fn pick<'a, T>(
        &self,
        n_actives: usize,
        items: &'a [T],
        name_of: impl Fn(&T) -> Option<&str>,
        unnamed_ok: bool,
    ) -> Vec<Option<&'a T>> {
        let mut out: Vec<Option<&'a T>> = vec![None; n_actives];
        let mut unnamed = None;
        for item in items {
            match name_of(item) {
                Some(n) => {
                    for &i in self.matching(n) {
                        out[i].get_or_insert(item);
                    }
                }
                None => {
                    unnamed = unnamed.or(Some(item));
                }
            }
        }
        if unnamed_ok && let Some(u) = unnamed {
            for o in &mut out {
                o.get_or_insert(u);
            }
        }
        out
    }
}

/// Checks that every named strength or assay refers to an active of the formula, and that
/// unnamed ones are used only with a single active.
pub(super) fn check_names<T>(
    items: &[T],
    name_of: impl Fn(&T) -> Option<&str>,
    formula: &Formula,
    index: &ActiveNames,
    field: Field,
    unnamed_for_all: bool,
) -> Result<()> {
    let names: Vec<&str> = formula.actives.iter().map(|a| a.name.as_str()).collect();
    let single = formula.actives.len() == 1 || unnamed_for_all;
    let mut seen = Vec::new();
    for item in items {
        match name_of(item) {
            None if !single => {
                return Err(Error::order(
                    field,
                    format!(
                        "this formula has {} actives; name each one, e.g. \"{}=50 mg\" (actives: {})",
                        names.len(),
                        names[0],
                        names.join(", ")
                    ),
                ));
            }
            None => seen.push(if formula.actives.len() == 1 {
                0
            } else {
                usize::MAX
            }),
            Some(n) => {
                let matching = index.matching(n);
                if matching.len() > 1 {
                    return Err(Error::order(
                        field,
                        format!(
                            "\"{n}\" matches more than one active; write the full name (actives: {})",
                            names.join(", ")
                        ),
                    ));
                }
                match matching.first() {
                    Some(&i) => seen.push(i),
                    None => {
                        return Err(Error::order(
                            field,
                            format!(
                                "\"{n}\" is not an active of {}; actives: {}",
                                formula.id,
                                names.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
    }
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        let which = names.get(w[0]).copied().unwrap_or("the value");
        return Err(Error::order(
            field,
            format!("{which} is given more than once"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_index_agrees_with_the_matching_rule() {
        for id in [
            "bi-est-troche",
            "ketamine-hcl-troche",
            "sildenafil-citrate-troche",
        ] {
            let f = crate::library::load(id).unwrap();
            let index = ActiveNames::new(&f);
            let mut names: Vec<String> = vec![" ESTRIOL ".into(), "estradiol".into(), "x".into()];
            for a in &f.actives {
                names.push(a.name.clone());
                names.push(a.name.to_uppercase());
                names.push(a.name.split(',').next().unwrap().to_string());
                if let Some(m) = &a.moiety {
                    names.push(m.name.clone());
                    names.push(m.name.split('(').next().unwrap().to_lowercase());
                }
            }
            for n in &names {
                let want: Vec<usize> = (0..f.actives.len())
                    .filter(|&i| answers_to(&f.actives[i], n))
                    .collect();
                assert_eq!(index.matching(n), want.as_slice(), "{id}: {n}");
            }
        }
    }
}
