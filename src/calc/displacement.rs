//! Step 8 of docs/method.md: what each added ingredient displaces.

use rust_decimal::Decimal;

use crate::error::{Error, Result, overflow};
use crate::formula::Formula;
use crate::quantity::{show, show_mass};

use super::{DisplacementSource, Ingredient, Role, add, div, mul};

/// Load of added ingredients, in percent of the blank total, up to which displacement is
/// negligible and 1:1 may be assumed (a published rule for molded forms).
const NEGLIGIBLE_LOAD_PERCENT: i64 = 5;

/// Step 8: what each added ingredient displaces, by its own factor, the base's default, or 1:1
/// when the load is negligible.
pub(super) fn displacement_step(
    formula: &Formula,
    mut ingredients: Vec<Ingredient>,
    blank_total: Decimal,
    steps: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Ingredient>, Decimal, Decimal)> {
    let mut added_mass = Decimal::ZERO;
    for i in &ingredients {
        added_mass = add(added_mass, i.mass, "the added ingredients")?;
    }
    let load_percent = div(
        mul(added_mass, Decimal::ONE_HUNDRED, "the load")?,
        blank_total,
        "the load",
    )?;
    let negligible = load_percent <= Decimal::from(NEGLIGIBLE_LOAD_PERCENT);
    let mut assumed = Vec::new();
    for i in &mut ingredients {
        let source = match (i.displacement, formula.base.default_displacement) {
            (Some(s), _) => s,
            (None, Some(d)) => DisplacementSource::BaseDefault(d),
            (None, None) if negligible => {
                assumed.push(i.name.clone());
                DisplacementSource::AssumedOneToOne
            }
            (None, None) => {
                return Err(Error::calc(format!(
                    "{} states no displacement factor and the base ({}) gives no default; the added \
                     ingredients are {} % of the blank total, more than {NEGLIGIBLE_LOAD_PERCENT} %, \
                     so displacement cannot be assumed 1:1. Add replacement_factor or density_factor \
                     to the ingredient{} or to [base] in {}",
                    i.name,
                    formula.base.name,
                    show(load_percent),
                    if i.role == Role::Diluent {
                        " (for an aliquot diluent: in the [aliquot] table)"
                    } else {
                        ""
                    },
                    formula.origin
                )));
            }
        };
        let displaced = source
            .factor()
            .displaced(i.mass)
            .ok_or_else(|| overflow(&i.name))?;
        let whence = match source {
            DisplacementSource::Stated(_) => "",
            DisplacementSource::BaseDefault(_) => ", the base's default",
            DisplacementSource::AssumedOneToOne => ", 1:1 assumed (negligible load)",
        };
        // An estimated factor says so wherever it is used.
        let stated = match source {
            DisplacementSource::Stated(_) => formula
                .actives
                .iter()
                .filter(|a| a.name == i.name)
                .find_map(|a| a.factor_is.as_ref())
                .or_else(|| {
                    formula
                        .excipients
                        .iter()
                        .filter(|e| e.name == i.name)
                        .find_map(|e| e.factor_is.as_ref())
                }),
            DisplacementSource::BaseDefault(_) => formula.base.factor_is.as_ref(),
            DisplacementSource::AssumedOneToOne => None,
        };
        let whence = match stated {
            Some(st) => format!("{whence}, {}, not measured", st.is.as_str()),
            None => whence.to_string(),
        };
        let what = if i.aliquot.is_some() || i.role == Role::Diluent {
            " (in the portion taken)"
        } else {
            ""
        };
        i.steps.push(format!(
            "displaces {}{what} {}{whence} = {} of base",
            show_mass(i.mass),
            source.factor().describe(),
            show_mass(displaced)
        ));
        i.displaced = Some(displaced);
        i.displacement = Some(source);
    }
    steps.push((
        "Load".into(),
        format!(
            "{} added ÷ {} g blank total = {} %{}",
            show_mass(added_mass),
            show(blank_total),
            show(load_percent),
            if negligible {
                " (at most 5 %: displacement negligible)"
            } else {
                ""
            }
        ),
    ));
    if negligible {
        warnings.push(if assumed.is_empty() {
            format!(
                "Added ingredients are {} % of the blank total (at most {NEGLIGIBLE_LOAD_PERCENT} %): \
                 displacement is negligible; the stated factors were applied.",
                show(load_percent)
            )
        } else {
            format!(
                "Added ingredients are {} % of the blank total (at most {NEGLIGIBLE_LOAD_PERCENT} %): \
                 displacement is negligible, so 1:1 was assumed for {}, which state no factor.",
                show(load_percent),
                assumed.join(", ")
            )
        });
    }
    Ok((ingredients, added_mass, load_percent))
}
