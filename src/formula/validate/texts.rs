//! The label's words, the procedure, and the unit weight's tolerance.

use rust_decimal::Decimal;

use toml::Spanned;

use crate::formula::Qc;
use crate::formula::names::{Miss, Names};
use crate::formula::raw::{RawLabel, RawProcedure, RawQc};
use crate::formula::steps::{self, StepPart, StepProblem};
use crate::formula::{LabelText, Procedure, name_matches, short_name};
use crate::input::toml::{Num, Source};
use crate::quantity;

pub(super) fn label(src: &mut Source, raw: &RawLabel) -> LabelText {
    let directions = src.text(&raw.directions, "label.directions");
    let warnings = raw
        .warnings
        .iter()
        .map(|w| src.text(w, "label.warnings"))
        .collect();
    LabelText {
        directions,
        warnings,
    }
}

/// The equipment and the steps. A step may not carry a fixed amount: it would hold for one
/// batch size only, and disagree with the worksheet's rows for every other; an amount is a
/// placeholder naming one of `ingredients`, filled in for the batch.
pub(super) fn procedure(src: &mut Source, raw: &RawProcedure, ingredients: &[String]) -> Procedure {
    let equipment = raw
        .equipment
        .iter()
        .map(|w| src.text(w, "procedure.equipment"))
        .collect();
    let steps = raw
        .steps
        .iter()
        .enumerate()
        .map(|(n, w)| {
            let text = src.text(w, "procedure.steps");
            step_problems(src, w, n + 1, &text, ingredients);
            text
        })
        .collect();
    Procedure { equipment, steps }
}

fn step_problems(
    src: &mut Source,
    raw: &Spanned<String>,
    number: usize,
    text: &str,
    ingredients: &[String],
) {
    let key = "procedure.steps";
    let span = Some(raw.span());
    match steps::problem(text) {
        Some(StepProblem::FixedAmount(amount)) => src.push(
            span.clone(),
            key,
            format!(
                "step {number} carries a fixed amount, {}; it would hold for one batch size \
                 only. Write the amount as a placeholder the worksheet fills in for the batch, \
                 e.g. {{amount:{}}}, and name equipment without its size",
                quantity::echo(&amount),
                ingredients.first().map_or("INGREDIENT", |n| short_name(n))
            ),
        ),
        Some(StepProblem::BadPlaceholder(p)) => src.push(
            span.clone(),
            key,
            format!(
                "step {number}: {} is not a placeholder this format has; write \
                 {{amount:INGREDIENT}} (one of: {})",
                quantity::echo(&p),
                ingredients.join("; ")
            ),
        ),
        None => {}
    }
    let Ok(parts) = steps::parts(text) else {
        return;
    };
    for part in parts {
        let StepPart::Amount(name) = part else {
            continue;
        };
        if ingredients.iter().any(|i| name_matches(i, name)) {
            continue;
        }
        let hint = match closest(name, ingredients) {
            Some(c) => format!("did you mean {{amount:{c}}}? "),
            None => String::new(),
        };
        src.push(
            span.clone(),
            key,
            format!(
                "step {number}: {{amount:{name}}} names no ingredient of this formula; \
                 {hint}ingredients: {}",
                ingredients.join("; ")
            ),
        );
    }
}

/// The ingredient name (as a step would write it) closest to `given`, by the resolver every
/// command names ingredients with.
fn closest(given: &str, ingredients: &[String]) -> Option<String> {
    let names = Names::new(ingredients.iter().map(|i| (i.as_str(), None)));
    match names.resolve(given) {
        Err(Miss::Near(close)) => close.into_iter().next(),
        _ => None,
    }
}

/// Accepted deviation of a unit's weight, percent: 10 unless `[qc]` says otherwise.
pub(super) fn weight_tolerance(src: &mut Source, qc: Option<&RawQc>) -> Option<Decimal> {
    match qc.and_then(|q| q.weight_tolerance_percent.as_ref()) {
        Some(n) => {
            let t = src.positive(n, "qc.weight_tolerance_percent");
            if let Some(v) = t
                && v >= Decimal::ONE_HUNDRED
            {
                src.push(
                    Some(n.span()),
                    "qc.weight_tolerance_percent",
                    "must be below 100",
                );
            }
            t
        }
        None => Some(Decimal::TEN),
    }
}

/// The bench record's limits from `[qc]`, each a percent above 0 and below 100 (the yield's
/// up to 100), or the defaults of [`Qc`].
pub(super) fn qc(src: &mut Source, qc: Option<&RawQc>) -> Option<Qc> {
    let mut out = Qc::default();
    let Some(qc) = qc else {
        return Some(out);
    };
    let mut ok = true;
    let mut percent = |src: &mut Source, n: Option<&Num>, key: &str, max: Decimal| {
        let n = n?;
        let v = src.positive(n, key);
        match v {
            Some(v) if v > max => {
                src.push(
                    Some(n.span()),
                    key,
                    format!("must be above 0 and at most {max}"),
                );
                ok = false;
                None
            }
            None => {
                ok = false;
                None
            }
            v => v,
        }
    };
    let below = Decimal::from(99);
    out.active_weighing_percent = percent(
        src,
        qc.active_weighing_tolerance_percent.as_ref(),
        "qc.active_weighing_tolerance_percent",
        below,
    );
    if let Some(v) = percent(
        src,
        qc.weighing_tolerance_percent.as_ref(),
        "qc.weighing_tolerance_percent",
        below,
    ) {
        out.weighing_percent = v;
    }
    if let Some(v) = percent(
        src,
        qc.unit_weight_rsd_percent.as_ref(),
        "qc.unit_weight_rsd_percent",
        below,
    ) {
        out.unit_weight_rsd_percent = v;
    }
    if let Some(v) = percent(
        src,
        qc.minimum_yield_percent.as_ref(),
        "qc.minimum_yield_percent",
        Decimal::ONE_HUNDRED,
    ) {
        out.minimum_yield_percent = v;
    }
    if let Some(n) = &qc.unit_weight_sample {
        out.unit_weight_sample = src.count(
            n,
            "qc.unit_weight_sample",
            1,
            i64::from(crate::order::MAX_UNITS),
        );
        ok &= out.unit_weight_sample.is_some();
    }
    ok.then_some(out)
}
