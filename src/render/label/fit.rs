//! Choosing the sizes a label prints at and what it carries besides the required text, and
//! the message of a label that cannot fit.

use crate::config::LabelSize;

use super::content::{Content, Prepared};
use super::layout::{main_flow, main_label};
use super::{
    BUD_STEP_PT, COMMON_STOCK, DETAIL_SIZES, KEY_SIZES_ALL_WARNINGS, MIN_BUD_PT, MIN_DETAIL_PT,
    MIN_KEY_PT,
};

/// The sizes of a main label and what, beyond the required text, it carries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) key: f32,
    pub(super) detail: f32,
    /// How many of the formula's warnings, from the first, are on the main label.
    pub(super) warnings: usize,
    /// Whether the description of the unit is on the main label.
    pub(super) description: bool,
}

impl Plan {
    /// The plan with only the required text, at the smallest sizes.
    pub(super) const SMALLEST: Plan = Plan {
        key: MIN_KEY_PT,
        detail: MIN_DETAIL_PT,
        warnings: 0,
        description: false,
    };

    /// Whether anything has to go on an auxiliary label.
    pub(super) fn needs_aux(&self, text: &Prepared) -> bool {
        self.warnings < text.warnings.len() || (!self.description && text.description.is_some())
    }
}

/// The best main label that fits: every warning and the description with the key fields
/// as large as possible; failing that, the key fields at 11 pt and the other fields at the
/// largest size that fits with the description, filled up with as many of the formula's
/// warnings as still fit; then the same without the description. `None` when the required
/// text does not fit even at the smallest sizes.
pub(super) fn choose(text: &Prepared, size: LabelSize) -> Option<Plan> {
    let all = text.warnings.len();
    let fits = |plan: &Plan| main_label(text, size, plan, false).is_some();
    for key in KEY_SIZES_ALL_WARNINGS {
        let plan = Plan {
            key,
            detail: DETAIL_SIZES[0],
            warnings: all,
            description: true,
        };
        if fits(&plan) {
            return Some(plan);
        }
    }
    let descriptions: &[bool] = if text.description.is_some() {
        &[true, false]
    } else {
        &[false]
    };
    for &description in descriptions {
        for detail in DETAIL_SIZES {
            let mut plan = Plan {
                key: MIN_KEY_PT,
                detail,
                warnings: 0,
                description,
            };
            if !fits(&plan) {
                continue;
            }
            while plan.warnings < all
                && fits(&Plan {
                    warnings: plan.warnings + 1,
                    ..plan
                })
            {
                plan.warnings += 1;
            }
            return Some(plan);
        }
    }
    None
}

/// The pharmacy's line: a step below the other particulars, but never below the minimum.
pub(super) fn pharmacy_size(detail: f32) -> f32 {
    (detail - 0.5).max(MIN_DETAIL_PT)
}

/// The beyond-use date: bold, a step and a half above the other particulars.
pub(super) fn bud_size(detail: f32) -> f32 {
    (detail + BUD_STEP_PT).max(MIN_BUD_PT)
}

/// Inches with at most two decimals, as a pharmacist would write the stock size.
pub(super) fn inches(pt: f32) -> String {
    let s = format!("{:.2}", pt / 72.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A stock size as a pharmacist writes it: "4 × 2 in".
pub(super) fn stock(width_pt: f32, height_pt: f32) -> String {
    format!("{} × {} in", inches(width_pt), inches(height_pt))
}

/// Names in a sentence: "a", "a and b", "a, b and c".
pub(super) fn listed(names: &[String], last: &str) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., final_one] => format!("{} {last} {final_one}", rest.join(", ")),
    }
}

/// Why the main label cannot fit: what runs off it at the smallest sizes, the common label
/// sizes that take it, and the longest text the user controls.
pub(super) fn refusal(content: &Content, text: &Prepared, size: LabelSize) -> String {
    let here = stock(size.width_pt, size.height_pt);
    let larger: Vec<String> = COMMON_STOCK
        .iter()
        .filter(|&&(w, h)| {
            let bigger = w >= size.width_pt - 0.5 && h >= size.height_pt - 0.5;
            let same = (w - size.width_pt).abs() < 0.5 && (h - size.height_pt).abs() < 0.5;
            bigger && !same
        })
        .filter(|&&(w, h)| {
            let candidate = LabelSize {
                width_pt: w,
                height_pt: h,
            };
            choose(text, candidate).is_some()
        })
        .map(|&(w, h)| stock(w, h))
        .collect();
    let larger = if larger.is_empty() {
        "No common label size up to 4 × 6 in takes it".to_owned()
    } else {
        format!(
            "A {} label takes it ([label] width and height in troche.toml)",
            listed(&larger, "or")
        )
    };
    let Some(flow) = main_flow(text, size, &Plan::SMALLEST, false) else {
        return format!(
            "a {here} label has no room for text inside its margins; {larger}",
            larger = larger.to_lowercase()
        );
    };
    let mut off: Vec<String> = Vec::new();
    for &(name, y) in &flow.marks {
        if y > flow.frame.bottom && !off.iter().any(|n| n == name) {
            off.push(name.to_owned());
        }
    }
    let needed = flow.frame.y - flow.frame.top;
    let room = flow.frame.height();
    let strength: usize = content.strengths.iter().map(|s| s.chars().count()).sum();
    let chars = |s: &str| s.chars().count();
    let mut fields = [
        ("directions", chars(&content.directions)),
        (
            "storage text in the formula's [bud]",
            chars(&content.storage),
        ),
        ("strength line (drug names)", strength),
        ("patient name", chars(content.patient_or_blank())),
        ("prescriber name", chars(&content.prescriber)),
        ("pharmacy address", chars(&content.pharmacy_contact)),
        ("pharmacy name", chars(&content.pharmacy_name)),
        ("Rx number", chars(&content.rx)),
        ("lot number", chars(&content.lot)),
    ];
    fields.sort_by_key(|f| std::cmp::Reverse(f.1));
    let [(first, n1), (second, n2), ..] = fields;
    format!(
        "what the law requires on the label does not fit on a {here} label even at the smallest \
         sizes (the patient, drug and strength, and directions at {MIN_KEY_PT} pt, the \
         beyond-use date at {MIN_BUD_PT} pt bold, the rest at {MIN_DETAIL_PT} pt, with the \
         description and the formula's warnings moved to an auxiliary label): the {off} \
         run off its bottom edge ({needed:.0} pt of text for {room:.0} pt). {larger}; or \
         shorten the {first} ({n1} characters) or the {second} ({n2} characters)",
        off = listed(&off, "and"),
    )
}
