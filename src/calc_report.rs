//! The calculation as text for the terminal and as JSON for other programs.
//!
//! The table shows each amount with the steps that produced it. The JSON keeps every exact
//! value as a string so that no reader has to pass it through a float.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::calc::{
    BasisSource, Calculation, DisplacementSource, Ingredient, Reconciliation, Role, StrengthStyle,
};
use crate::formula::{Formula, Schedule};
use crate::quantity::{round_to, show, show_mass};

/// "1 batch", "2 batches": a count with its noun.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn exact(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Whether a value carries a rounded quotient: every division that does not terminate is
/// carried to [`crate::quantity::QUOTIENT_DP`] (18) places, so a value with that many places is
/// taken as rounded. An exact value gets there only from amounts written to 9 or more decimal
/// places, which no balance or formula needs (then the flag errs on the side of caution).
fn is_rounded(d: Decimal) -> bool {
    d.normalize().scale() >= crate::quantity::QUOTIENT_DP
}

/// Prints the calculation for a pharmacist: header, ingredient table with steps, totals and
/// warnings.
pub fn table(formula: &Formula, calc: &Calculation) -> String {
    let mut out = String::new();
    let w = &mut out;
    // Writing to a `String` cannot fail: each `let _ =` below drops an `Ok(())`.
    let _ = writeln!(
        w,
        "{} ({} v{}; {}, {})",
        formula.name, formula.id, formula.version, formula.dosage_form, formula.route
    );
    for a in calc.ingredients.iter().filter_map(|i| i.active.as_ref()) {
        let sched = a
            .schedule
            .map(|s| format!(" [{}]", s.as_str()))
            .unwrap_or_default();
        let _ = writeln!(
            w,
            "Strength: {}{sched}",
            a.strength_text(StrengthStyle::Calculation)
        );
    }
    let _ = writeln!(
        w,
        "Mold: {} ({} cavities, blank weight {} g{})",
        formula.mold.name,
        calc.cavities,
        show(calc.blank_weight),
        match (&formula.mold.blank_weight_is, &formula.mold.derived) {
            (Some(st), _) => format!(", {}: calibrate the mold", st.is.as_str()),
            (None, Some(_)) => ", derived: calibrate the mold".to_string(),
            (None, None) => String::new(),
        }
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "{:>14}   Ingredient", "Amount");
    let rule = "-".repeat(78);
    let _ = writeln!(w, "{rule}");
    for i in &calc.ingredients {
        let mut tags = vec![i.role.as_str()];
        if let Some(s) = i.active.as_ref().and_then(|a| a.schedule) {
            tags.push(s.as_str());
        }
        let _ = writeln!(
            w,
            "{:>11} {:<2}   {} [{}]",
            i.amount.to_string(),
            i.dimension.base_unit(),
            i.name,
            tags.join(", ")
        );
        for s in &i.steps {
            let _ = writeln!(w, "{:17}{s}", "");
        }
        if let Some(a) = &i.aliquot {
            let _ = writeln!(
                w,
                "{:17}aliquot: weigh {}, dilute with {} of diluent to {}, take {} into the batch",
                "",
                show_mass(a.weigh),
                show_mass(a.diluent),
                show_mass(a.total),
                show_mass(a.portion)
            );
        }
    }
    let _ = writeln!(w, "{rule}");
    let _ = writeln!(
        w,
        "{:>11} g    Batch weight (theoretical)",
        round_to(calc.batch_weight, calc.balance.readability)
            .unwrap_or(calc.batch_weight)
            .to_string()
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "Calculation:");
    let label_width = calc
        .steps
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(10);
    for (k, v) in &calc.steps {
        let _ = writeln!(w, "  {k:<label_width$}  {v}");
    }
    if calc.schedule().is_some() {
        let _ = writeln!(w);
        let _ = writeln!(w, "Controlled-substance reconciliation (theoretical):");
        for r in &calc.reconciliation {
            let _ = writeln!(w, "  {}", reconciliation_line(r));
        }
    }
    if !calc.warnings.is_empty() {
        let _ = writeln!(w);
        let _ = writeln!(w, "Warnings:");
        for warn in &calc.warnings {
            let _ = writeln!(w, "  ! {warn}");
        }
    }
    out
}

/// An order's calculation in a few lines, for `troche check`: what to weigh, the batch and
/// unit weights to the balance's readability, and the warnings; `indent` before each line.
pub fn summary(calc: &Calculation, indent: &str) -> String {
    let mut out = String::new();
    let grams = |g: Decimal| {
        round_to(g, calc.balance.readability).map_or_else(|| show(g), |r| r.to_string())
    };
    // Writing to a `String` cannot fail: each `let _ =` below drops an `Ok(())`.
    for i in &calc.ingredients {
        let _ = writeln!(
            out,
            "{indent}{:>11} {:<2}  {}",
            i.amount.to_string(),
            i.dimension.base_unit(),
            i.name
        );
    }
    let _ = writeln!(
        out,
        "{indent}batch {} g for {} units, unit weight {} g (accepted {} g to {} g)",
        grams(calc.batch_weight),
        calc.units_prepared,
        grams(calc.unit_weight),
        grams(calc.unit_weight_low),
        grams(calc.unit_weight_high)
    );
    for w in &calc.warnings {
        let _ = writeln!(out, "{indent}! {w}");
    }
    out
}

/// One active's reconciliation in a line: weighed = into units + wasted.
pub fn reconciliation_line(r: &Reconciliation) -> String {
    let mut waste = Vec::new();
    if r.aliquot_waste > Decimal::ZERO {
        waste.push(format!(
            "{} in the aliquot remainder",
            show_mass(r.aliquot_waste)
        ));
    }
    if r.beaker_waste > Decimal::ZERO {
        waste.push(format!(
            "{} of overage left in the beaker",
            show_mass(r.beaker_waste)
        ));
    }
    format!(
        "{}: weighed {}; into the batch {}; in the units poured {}; in the units dispensed {}; \
         wasted {}{}",
        r.name,
        show_mass(r.weighed),
        show_mass(r.into_batch),
        show_mass(r.in_units),
        show_mass(r.dispensed),
        show_mass(r.wasted()),
        if waste.is_empty() {
            String::new()
        } else {
            format!(" ({})", waste.join(", "))
        }
    )
}

#[derive(Serialize)]
struct StrengthJson {
    strength: String,
    basis: &'static str,
    basis_source: BasisSource,
    form: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    equivalent: Option<EquivalentJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    salt_factor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assay_percent: Option<String>,
    per_unit_weighed: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<&'static str>,
}

#[derive(Serialize)]
struct EquivalentJson {
    form: String,
    per_unit: String,
}

#[derive(Serialize)]
struct AliquotJson {
    multiple: u32,
    weigh: String,
    diluent: String,
    diluent_name: String,
    total: String,
    portion: String,
    delivers: String,
    diluent_in_portion: String,
    remainder: String,
}

#[derive(Serialize)]
struct ReconciliationJson {
    name: String,
    weighed: String,
    aliquot_waste: String,
    into_batch: String,
    in_units: String,
    beaker_waste: String,
    dispensed: String,
}

#[derive(Serialize)]
struct IngredientJson {
    name: String,
    role: Role,
    amount: String,
    unit: &'static str,
    exact: String,
    /// Whether `exact` went through a division that does not terminate (a salt factor, a
    /// density factor): carried to `QUOTIENT_DP` places, so its last digit is rounded. The
    /// text marks such a value "≈". docs/json-format.md.
    exact_is_rounded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mass: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    displaced: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    displacement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<StrengthJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aliquot: Option<AliquotJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diluent_for: Option<String>,
    steps: Vec<String>,
}

#[derive(Serialize)]
struct StepJson {
    step: String,
    work: String,
}

#[derive(Serialize)]
struct CalcJson {
    formula: String,
    version: u32,
    units_dispensed: u32,
    units_prepared: u32,
    extra_units: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    overage_percent: Option<String>,
    unit_equivalents: String,
    cavities: u32,
    molds: u64,
    blank_weight: String,
    blank_total: String,
    ingredients: Vec<IngredientJson>,
    base_total: String,
    added_mass: String,
    load_percent: String,
    displaced_total: String,
    batch_weight: String,
    unit_weight: String,
    unit_weight_low: String,
    unit_weight_high: String,
    readability: String,
    minimum_weighable_quantity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<String>,
    reconciliation: Vec<ReconciliationJson>,
    steps: Vec<StepJson>,
    warnings: Vec<String>,
}

fn ingredient_json(i: &Ingredient) -> IngredientJson {
    IngredientJson {
        name: i.name.clone(),
        role: i.role,
        amount: i.amount.to_string(),
        unit: i.dimension.base_unit(),
        exact: exact(i.exact),
        exact_is_rounded: is_rounded(i.exact),
        mass: Some(exact(i.mass)),
        displaced: i.displaced.map(exact),
        displacement: i.displacement.map(|d| match d {
            DisplacementSource::Stated(f) => f.describe(),
            DisplacementSource::BaseDefault(f) => format!("{} (base default)", f.describe()),
            DisplacementSource::AssumedOneToOne => "1:1 assumed (negligible load)".to_string(),
        }),
        active: i.active.as_ref().map(|a| StrengthJson {
            strength: a.strength.to_string(),
            basis: a.basis.as_str(),
            basis_source: a.basis_source,
            form: a.strength_form.clone(),
            equivalent: a.equivalent.as_ref().map(|(n, g)| EquivalentJson {
                form: n.clone(),
                per_unit: exact(*g),
            }),
            salt_factor: a
                .salt_factor
                .map(|(n, d)| format!("{}/{}", n.normalize(), d.normalize())),
            assay_percent: a.assay_percent.map(exact),
            per_unit_weighed: exact(a.per_unit_weighed),
            schedule: a.schedule.map(Schedule::as_str),
        }),
        aliquot: i.aliquot.as_ref().map(|a| AliquotJson {
            multiple: a.multiple,
            weigh: exact(a.weigh),
            diluent: exact(a.diluent),
            total: exact(a.total),
            portion: exact(a.portion),
            delivers: exact(a.delivers),
            diluent_name: a.diluent_name.clone(),
            diluent_in_portion: exact(a.diluent_in_portion),
            remainder: exact(a.remainder),
        }),
        diluent_for: i.diluent_for.clone(),
        steps: i.steps.clone(),
    }
}

/// The calculation as one JSON object (pretty-printed, stable key order).
pub fn json(formula: &Formula, calc: &Calculation) -> String {
    to_json(&calc_json(formula, calc))
}

fn to_json(doc: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(doc).expect("plain structs serialize");
    s.push('\n');
    s
}

#[derive(Serialize)]
struct ComponentJson<'a> {
    name: &'a str,
    manufacturer: Option<&'a str>,
    lot: &'a str,
    expiry: Option<String>,
}

#[derive(Serialize)]
struct RecordJson<'a> {
    lot: &'a str,
    compounding_date: String,
    beyond_use_date: String,
    beyond_use_rule: &'a str,
    storage: &'a str,
    rx: Option<&'a str>,
    patient: Option<&'a str>,
    prescriber: Option<&'a str>,
    directions: &'a str,
    refills: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_written: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prescriber_dea: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    confirm_strength: &'a [String],
    formula_name: &'a str,
    dosage_form: &'a str,
    schedule: Option<&'static str>,
    strengths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    mold: &'a str,
    mold_ids: &'a [String],
    components: Vec<ComponentJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a crate::batch_record::Origin>,
    calculation: CalcJson,
}

/// The whole compounding record of a batch as JSON: what the worksheet holds, machine-readable,
/// with every exact value.
pub fn record_json(r: &crate::batch_record::Record) -> String {
    to_json(&RecordJson {
        lot: &r.lot,
        compounding_date: r.date.to_string(),
        beyond_use_date: r.bud.date.to_string(),
        beyond_use_rule: &r.bud.rule,
        storage: &r.formula.bud.storage,
        rx: r.order.rx.as_deref(),
        patient: r.order.patient.as_deref(),
        prescriber: r.order.prescriber.as_deref(),
        directions: &r.directions,
        refills: r.order.refills,
        date_written: r.order.date_written.map(|d| d.to_string()),
        prescriber_dea: r.order.prescriber_dea.as_deref(),
        confirm_strength: &r.order.confirm_strength,
        formula_name: &r.formula.name,
        dosage_form: &r.formula.dosage_form,
        schedule: r.schedule().map(Schedule::as_str),
        strengths: r.strength_lines(),
        container: r.formula.bud.container.as_deref(),
        mold: &r.formula.mold.name,
        mold_ids: &r.mold_ids,
        components: r
            .order
            .components
            .iter()
            .map(|c| ComponentJson {
                name: &c.name,
                manufacturer: c.manufacturer.as_deref(),
                lot: &c.lot,
                expiry: c.expiry.map(|d| d.to_string()),
            })
            .collect(),
        origin: r.origin.as_ref(),
        calculation: calc_json(&r.formula, &r.calc),
    })
}

fn calc_json(formula: &Formula, calc: &Calculation) -> CalcJson {
    CalcJson {
        formula: formula.id.clone(),
        version: formula.version,
        units_dispensed: calc.units_dispensed,
        units_prepared: calc.units_prepared,
        extra_units: calc.extra_units,
        overage_percent: calc.overage_percent.map(exact),
        unit_equivalents: exact(calc.unit_equivalents),
        cavities: calc.cavities,
        molds: calc.molds,
        blank_weight: exact(calc.blank_weight),
        blank_total: exact(calc.blank_total),
        ingredients: calc.ingredients.iter().map(ingredient_json).collect(),
        base_total: exact(calc.base_total),
        added_mass: exact(calc.added_mass),
        load_percent: exact(calc.load_percent),
        displaced_total: exact(calc.displaced_total),
        batch_weight: exact(calc.batch_weight),
        unit_weight: exact(calc.unit_weight),
        unit_weight_low: exact(calc.unit_weight_low),
        unit_weight_high: exact(calc.unit_weight_high),
        readability: exact(calc.balance.readability),
        minimum_weighable_quantity: exact(calc.mwq),
        balance: calc.balance.id.clone(),
        reconciliation: calc
            .reconciliation
            .iter()
            .map(|r| ReconciliationJson {
                name: r.name.clone(),
                weighed: exact(r.weighed),
                aliquot_waste: exact(r.aliquot_waste),
                into_batch: exact(r.into_batch),
                in_units: exact(r.in_units),
                beaker_waste: exact(r.beaker_waste),
                dispensed: exact(r.dispensed),
            })
            .collect(),
        steps: calc
            .steps
            .iter()
            .map(|(s, w)| StepJson {
                step: s.clone(),
                work: w.clone(),
            })
            .collect(),
        warnings: calc.warnings.clone(),
    }
}
