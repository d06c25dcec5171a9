//! Which active of the formula each named value of an order (strength, assay, basis) is for.

use crate::error::{Error, Field, Result};
use crate::formula::Formula;
use crate::formula::names::Names;

/// For each active, the value the order gives for it: the first named one that answers to it
/// ([`Names::resolve`]), else the first unnamed one where `unnamed_ok`. The names have been
/// checked by [`check_names`].
pub(super) fn pick<'a, T>(
    index: &Names,
    items: &'a [T],
    name_of: impl Fn(&T) -> Option<&str>,
    unnamed_ok: bool,
) -> Vec<Option<&'a T>> {
    let mut out: Vec<Option<&'a T>> = vec![None; index.all().len()];
    let mut unnamed = None;
    for item in items {
        match name_of(item) {
            Some(n) => {
                if let Ok(i) = index.resolve(n) {
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

/// Checks that every named strength or assay refers to an active of the formula, and that
/// unnamed ones are used only with a single active.
pub(super) fn check_names<T>(
    items: &[T],
    name_of: impl Fn(&T) -> Option<&str>,
    formula: &Formula,
    index: &Names,
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
            Some(n) => match index.resolve(n) {
                Ok(i) => seen.push(i),
                Err(miss) => {
                    return Err(Error::order(
                        field,
                        index.refusal(&miss, &format!("\"{n}\""), "active", &formula.id),
                    ));
                }
            },
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
