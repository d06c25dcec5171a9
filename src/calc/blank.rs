//! Step 1 of docs/method.md: the blank weight, and the blank total it gives the batch.

use rust_decimal::Decimal;

use crate::error::Result;
use crate::formula::Formula;
use crate::quantity::show;

use super::{mul, units_text};

/// A blank weight that was not calibrated, printed as the first step: what it is and where it
/// comes from, or its derivation from a published formula that holds excipients.
pub(super) fn blank_weight_step(formula: &Formula, steps: &mut Vec<(String, String)>) {
    if let Some(st) = &formula.mold.blank_weight_is {
        steps.push((
            "Blank weight".into(),
            format!(
                "{} g, {} ({}), not calibrated with this mold and base",
                show(formula.mold.blank_weight),
                st.is.as_str(),
                st.source
            ),
        ));
    }
    if let Some(d) = &formula.mold.derived {
        let terms: Vec<String> = d
            .ingredients
            .iter()
            .map(|i| show(i.displaced().unwrap_or_default()))
            .collect();
        steps.push((
            "Blank weight".into(),
            format!(
                "{} g, the plain-base blank derived from {}: ({} g base + ({}) g displaced by its \
                 other ingredients) ÷ {} units = {} g",
                show(formula.mold.blank_weight),
                d.from,
                show(d.base),
                terms.join(" + "),
                d.units,
                d.blank_weight().map_or_else(|| "?".to_string(), show)
            ),
        ));
    }
}

/// The blank total: blank weight × unit-equivalents, the mass the mold holds for the batch.
pub(super) fn blank_total(
    formula: &Formula,
    n: Decimal,
    steps: &mut Vec<(String, String)>,
) -> Result<Decimal> {
    let blank_total = mul(formula.mold.blank_weight, n, "the blank total")?;
    steps.push((
        "Blank total".into(),
        format!(
            "{} g blank weight × {} = {} g",
            show(formula.mold.blank_weight),
            units_text(n),
            show(blank_total)
        ),
    ));
    Ok(blank_total)
}
