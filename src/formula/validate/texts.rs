//! The label's words, the procedure, and the unit weight's tolerance.

use rust_decimal::Decimal;

use crate::formula::raw::{RawLabel, RawProcedure, RawQc};
use crate::formula::{LabelText, Procedure};
use crate::source::Source;

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

pub(super) fn procedure(src: &mut Source, raw: &RawProcedure) -> Procedure {
    let equipment = raw
        .equipment
        .iter()
        .map(|w| src.text(w, "procedure.equipment"))
        .collect();
    let steps = raw
        .steps
        .iter()
        .map(|w| src.text(w, "procedure.steps"))
        .collect();
    Procedure { equipment, steps }
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
