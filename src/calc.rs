//! The batch calculation: from a formula and an order to every amount to weigh.
//!
//! The arithmetic follows docs/method.md step by step, one function per step, and records each
//! step in words with its numbers, because the pharmacist signs the worksheet on the strength
//! of being able to check them. Every operation is checked; products are formed before the one
//! division each amount needs, so no factor is rounded before it is multiplied.
//!
//! What the worksheet calls "amount to weigh" is what is really put on the balance: an amount
//! below the minimum weighable quantity is replaced by its aliquot weighings, and the portion of
//! the aliquot that enters the melt (drug and diluent) is what counts in displacement, batch
//! weight and unit weight.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result, overflow};
use crate::formula::{
    Active, Diluent, Displacement, ExcipientAmount, Formula, Schedule, name_matches, short_name,
};
use crate::order::{Basis, Order, Preparation};
use crate::quantity::{self, Dimension, Quantity, round_to, show, show_mass};

/// Load of added ingredients, in percent of the blank total, up to which displacement is
/// negligible and 1:1 may be assumed (a published rule for molded forms).
const NEGLIGIBLE_LOAD_PERCENT: i64 = 5;

/// The balance and measuring devices of the pharmacy: how finely amounts can be weighed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The pharmacy's name for the balance (asset tag), printed on the worksheet.
    pub id: Option<String>,
    /// Smallest increment the balance shows, in grams; printed amounts are rounded to it.
    pub readability: Decimal,
    /// Smallest graduation used for liquids, in mL.
    pub volume_readability: Decimal,
    /// Sensitivity requirement, in grams (6 mg for a Class III prescription balance).
    pub sensitivity: Decimal,
    /// Largest acceptable weighing error, in percent.
    pub acceptable_error_percent: Decimal,
    /// A minimum weight established for this balance by its USP <41> check, in grams; when
    /// given it is the minimum weighable quantity instead of sensitivity ÷ error.
    pub minimum_weight: Option<Decimal>,
}

impl Default for Balance {
    fn default() -> Self {
        Balance {
            id: None,
            readability: Decimal::new(1, 3),
            volume_readability: Decimal::new(1, 2),
            sensitivity: Decimal::new(6, 3),
            acceptable_error_percent: Decimal::from(5),
            minimum_weight: None,
        }
    }
}

impl Balance {
    /// Minimum weighable quantity: the stated minimum weight, else sensitivity ÷ error.
    pub fn mwq(&self) -> Option<Decimal> {
        if let Some(m) = self.minimum_weight {
            return Some(m);
        }
        quantity::div(
            self.sensitivity.checked_mul(Decimal::ONE_HUNDRED)?,
            self.acceptable_error_percent,
        )
    }

    /// How the minimum weighable quantity was reached, in words with its numbers.
    pub fn mwq_rule(&self) -> String {
        match (self.minimum_weight, self.mwq()) {
            (Some(m), _) => format!("{} (minimum weight of the balance, USP <41>)", show_mass(m)),
            (None, Some(m)) => format!(
                "{} sensitivity ÷ {} % acceptable error = {}",
                show_mass(self.sensitivity),
                self.acceptable_error_percent.normalize(),
                show_mass(m)
            ),
            (None, None) => "cannot be computed".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Active,
    Excipient,
    /// The inert powder an aliquot is diluted with: a real component of the batch.
    Diluent,
    Base,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Excipient => "excipient",
            Role::Diluent => "diluent",
            Role::Base => "base",
        }
    }
}

/// Where an ingredient's displacement came from, so the worksheet can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplacementSource {
    Stated(Displacement),
    BaseDefault(Displacement),
    /// No factor anywhere and a load small enough that 1:1 is acceptable.
    AssumedOneToOne,
}

impl DisplacementSource {
    fn factor(self) -> Displacement {
        match self {
            DisplacementSource::Stated(d) | DisplacementSource::BaseDefault(d) => d,
            DisplacementSource::AssumedOneToOne => Displacement::Replacement(Decimal::ONE),
        }
    }
}

/// The aliquot method for an amount too small to weigh accurately: weigh `weigh` (k times the
/// amount), mix with `diluent` grams of an inert powder to `total`, and take `portion`, which
/// holds one k-th of both. Every one of the three weighings is at least the minimum weighable
/// quantity; the rest of the mixture is waste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aliquot {
    pub multiple: u32,
    pub weigh: Decimal,
    pub diluent: Decimal,
    pub diluent_name: String,
    pub total: Decimal,
    pub portion: Decimal,
    /// Drug in the portion: weigh ÷ multiple (equal to the amount needed unless rounding the
    /// weighing to the balance changed it, by at most half the readability ÷ multiple).
    pub delivers: Decimal,
    /// Diluent in the portion: diluent ÷ multiple.
    pub diluent_in_portion: Decimal,
    /// Mixture left over and discarded: total − portion.
    pub remainder: Decimal,
}

impl Aliquot {
    /// Drug discarded with the remainder: weigh − delivers.
    pub fn drug_wasted(&self) -> Decimal {
        self.weigh - self.delivers
    }
}

/// How the basis of an active's strength was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BasisSource {
    /// The order said it.
    Order,
    /// The formula states how this active is prescribed (`label_basis`).
    Formula,
    /// The active has no other form: the strength is of the substance weighed.
    Only,
}

/// The salt and potency conversion of an active, kept as the fractions they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveDetail {
    pub strength: Quantity,
    pub basis: Basis,
    pub basis_source: BasisSource,
    /// The form the strength is written in (the salt's or the moiety's name).
    pub strength_form: String,
    /// (MW weighed, MW of the moiety), when the strength is of the moiety.
    pub salt_factor: Option<(Decimal, Decimal)>,
    pub assay_percent: Option<Decimal>,
    /// The same strength in the other form, per unit (name, grams), when the active has a
    /// distinct moiety: the moiety's equivalent of a salt strength, or the salt weighed for a
    /// moiety strength.
    pub equivalent: Option<(String, Decimal)>,
    /// Grams of the weighed form per unit (strength × salt factor × potency factor).
    pub per_unit_weighed: Decimal,
    pub schedule: Option<Schedule>,
}

#[derive(Debug, Clone)]
pub struct Ingredient {
    pub name: String,
    pub role: Role,
    /// Exact amount needed, in `dimension`'s base unit (g or mL).
    pub exact: Decimal,
    pub dimension: Dimension,
    /// What is put on the balance (or measured), rounded to the balance or the graduation:
    /// for an aliquot, the drug weighing.
    pub amount: Decimal,
    /// Mass in grams that enters the batch (the exact amount, volume × density, or what an
    /// aliquot portion holds).
    pub mass: Decimal,
    /// Grams of base this ingredient displaces (none for the base itself).
    pub displaced: Option<Decimal>,
    pub displacement: Option<DisplacementSource>,
    pub active: Option<ActiveDetail>,
    pub aliquot: Option<Aliquot>,
    /// For a diluent row, the ingredient whose aliquot it dilutes.
    pub diluent_for: Option<String>,
    /// How the amount was reached, one line per step, with its numbers.
    pub steps: Vec<String>,
}

/// Where every gram of one active goes: weighed, into the batch, into the units, waste. A
/// controlled substance must be accounted for to the milligram (21 CFR 1304).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    pub name: String,
    /// Put on the balance (the amount to weigh, or the aliquot's drug weighing).
    pub weighed: Decimal,
    /// Left in the aliquot mixture and discarded.
    pub aliquot_waste: Decimal,
    /// Entering the melt.
    pub into_batch: Decimal,
    /// In the units poured (units poured × per unit).
    pub in_units: Decimal,
    /// The overage left in the beaker and discarded.
    pub beaker_waste: Decimal,
    /// In the units dispensed.
    pub dispensed: Decimal,
}

impl Reconciliation {
    pub fn wasted(&self) -> Decimal {
        self.aliquot_waste + self.beaker_waste
    }
}

#[derive(Debug, Clone)]
pub struct Calculation {
    pub formula_id: String,
    pub units_dispensed: u32,
    /// Units poured into cavities: dispensed + extra units. An overage fills no cavity.
    pub units_prepared: u32,
    pub extra_units: u32,
    pub overage_percent: Option<Decimal>,
    /// n in the formulas: units prepared, times (1 + overage) when an overage is used.
    pub unit_equivalents: Decimal,
    pub cavities: u32,
    /// ceil(units poured ÷ cavities).
    pub molds: u64,
    pub blank_weight: Decimal,
    pub blank_total: Decimal,
    /// Actives, excipients and aliquot diluents in formula order, then the base (one row, or
    /// one per component of a composite base).
    pub ingredients: Vec<Ingredient>,
    /// Base to weigh in all (the sum of the base rows).
    pub base_total: Decimal,
    pub added_mass: Decimal,
    pub load_percent: Decimal,
    pub displaced_total: Decimal,
    pub batch_weight: Decimal,
    pub unit_weight: Decimal,
    pub unit_weight_low: Decimal,
    pub unit_weight_high: Decimal,
    pub tolerance_percent: Decimal,
    pub balance: Balance,
    pub mwq: Decimal,
    /// One per active, in formula order.
    pub reconciliation: Vec<Reconciliation>,
    /// (what, how) for the steps that are not one ingredient's.
    pub steps: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

impl Calculation {
    pub fn schedule(&self) -> Option<Schedule> {
        self.ingredients
            .iter()
            .filter_map(|i| i.active.as_ref()?.schedule)
            .min()
    }

    /// The base rows: one, or one per component.
    pub fn base_rows(&self) -> impl Iterator<Item = &Ingredient> {
        self.ingredients.iter().filter(|i| i.role == Role::Base)
    }
}

fn mul(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(|| overflow(what))
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(|| overflow(what))
}

fn sub(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_sub(b).ok_or_else(|| overflow(what))
}

fn div(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    quantity::div(a, b).ok_or_else(|| overflow(what))
}

/// Units that belong to no ingredient in particular, formatted for steps.
fn units(n: Decimal) -> String {
    if n.fract().is_zero() {
        format!("{} units", n.normalize())
    } else {
        format!("{} unit-equivalents", show(n))
    }
}

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
struct ActiveNames {
    by_name: HashMap<String, Vec<usize>>,
}

impl ActiveNames {
    fn new(formula: &Formula) -> ActiveNames {
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
    fn matching(&self, given: &str) -> &[usize] {
        self.by_name
            .get(&given.trim().to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// For each active, the value the order gives for it: the first named one that answers
    /// to it, else the first unnamed one where `unnamed_ok`.
    fn pick<'a, T>(
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
fn check_names<T>(
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

/// Runs the whole calculation, step by step.
pub fn calculate(formula: &Formula, order: &Order, balance: &Balance) -> Result<Calculation> {
    check_order(formula, order, balance)?;
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mwq = balance
        .mwq()
        .ok_or_else(|| overflow("the minimum weighable quantity"))?;
    if mwq <= Decimal::ZERO {
        return Err(Error::order(
            Field::Balance,
            "the minimum weighable quantity must be greater than zero",
        ));
    }
    if mwq < balance.readability {
        return Err(Error::order(
            Field::Balance,
            format!(
                "the minimum weighable quantity ({}) is smaller than the balance's readability \
                 ({}): nothing that small can be weighed on it to the stated error; check the \
                 balance's readability, sensitivity and error (or minimum weight)",
                show_mass(mwq),
                show_mass(balance.readability)
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
    let u = units_step(formula, order, &mut steps)?;
    let n = u.n;
    let blank_total = mul(formula.mold.blank_weight, n, "the blank total")?;
    steps.push((
        "Blank total".into(),
        format!(
            "{} g blank weight × {} = {} g",
            show(formula.mold.blank_weight),
            units(n),
            show(blank_total)
        ),
    ));

    let mut ingredients = actives_step(formula, order, n, &mut warnings)?;
    ingredients.extend(excipients_step(formula, n)?);
    steps.push((
        "Minimum weighable quantity".into(),
        format!(
            "{}{}",
            balance
                .id
                .as_ref()
                .map(|id| format!("balance {id}: "))
                .unwrap_or_default(),
            balance.mwq_rule()
        ),
    ));
    let ingredients = aliquots_step(formula, ingredients, mwq, balance, &mut warnings)?;
    let (mut ingredients, added_mass, load_percent) =
        displacement_step(formula, ingredients, blank_total, &mut steps, &mut warnings)?;
    let (base_total, displaced_total) = base_step(formula, &mut ingredients, blank_total)?;
    round_step(&mut ingredients, balance, mwq, &mut warnings)?;

    // 7. Totals.
    let batch_weight = add(base_total, added_mass, "the batch weight")?;
    steps.push((
        "Batch weight".into(),
        format!(
            "{} g base + {} added = {} g",
            show(base_total),
            show_mass(added_mass),
            show(batch_weight)
        ),
    ));
    if batch_weight > Decimal::from(MAX_BATCH_GRAMS) {
        return Err(Error::order(
            Field::Quantity,
            format!(
                "this batch would weigh {} kg; troche makes batches of at most {} kg (a \
                 compounding batch, not a manufacturing run): check the quantity and extra units",
                show(batch_weight / Decimal::ONE_THOUSAND),
                MAX_BATCH_GRAMS / 1000
            ),
        ));
    }
    if batch_weight > Decimal::from(WARN_BATCH_GRAMS) {
        warnings.push(format!(
            "a large batch: {} kg in all; check the quantity and extra units before weighing",
            show(batch_weight / Decimal::ONE_THOUSAND)
        ));
    }
    let unit_weight = div(batch_weight, n, "the unit weight")?;
    steps.push((
        "Unit weight".into(),
        format!(
            "{} g ÷ {} = {} g (theoretical)",
            show(batch_weight),
            units(n),
            show(unit_weight)
        ),
    ));
    let tol = formula.weight_tolerance_percent;
    let delta = div(
        mul(unit_weight, tol, "the weight range")?,
        Decimal::ONE_HUNDRED,
        "the weight range",
    )?;
    let low = sub(unit_weight, delta, "the weight range")?;
    let high = add(unit_weight, delta, "the weight range")?;
    steps.push((
        "Accepted unit weight".into(),
        format!(
            "{} g ± {} % = {} g to {} g",
            show(unit_weight),
            tol.normalize(),
            round_to(low, balance.readability).unwrap_or(low),
            round_to(high, balance.readability).unwrap_or(high)
        ),
    ));

    let reconciliation = reconciliation_step(&ingredients, &u)?;
    if let Some(o) = u.overage {
        let wasted: Vec<String> = reconciliation
            .iter()
            .filter(|r| r.beaker_waste > Decimal::ZERO)
            .map(|r| format!("{} of {}", show_mass(r.beaker_waste), r.name))
            .collect();
        steps.push((
            "Overage left in the beaker".into(),
            format!(
                "{} % overage makes up for melt left behind; it fills no cavity, so {} stays in \
                 the beaker and is waste",
                o.normalize(),
                wasted.join(", ")
            ),
        ));
    }

    Ok(Calculation {
        formula_id: formula.id.clone(),
        units_dispensed: order.quantity,
        units_prepared: u.poured,
        extra_units: u.extra,
        overage_percent: u.overage,
        unit_equivalents: n,
        cavities: formula.mold.cavities,
        molds: u.molds,
        blank_weight: formula.mold.blank_weight,
        blank_total,
        ingredients,
        base_total,
        added_mass,
        load_percent,
        displaced_total,
        batch_weight,
        unit_weight,
        unit_weight_low: low,
        unit_weight_high: high,
        tolerance_percent: tol,
        balance: balance.clone(),
        mwq,
        reconciliation,
        steps,
        warnings,
    })
}

/// The heaviest batch computed, in grams: 25 kg, past any compounding vessel.
pub const MAX_BATCH_GRAMS: u32 = 25_000;
/// A batch heavier than this (1 kg) gets a warning to check the quantity.
pub const WARN_BATCH_GRAMS: u32 = 1_000;
/// The most extra units poured: the quantity itself, and never more than 100. Extra units
/// make up for what is lost in pouring, not for a second batch.
pub const MAX_EXTRA_UNITS: u32 = 100;

/// What must hold before anything is computed: units, component lots that belong to the
/// formula, a balance that can round.
fn check_order(formula: &Formula, order: &Order, balance: &Balance) -> Result<()> {
    if order.quantity == 0 {
        return Err(Error::order(Field::Quantity, "must be at least 1 unit"));
    }
    if let Preparation::Extra(e) = order.preparation {
        let max = order.quantity.min(MAX_EXTRA_UNITS);
        if e > max {
            return Err(Error::order(
                Field::Extra,
                format!(
                    "{e} extra units for {} dispensed is not plausible: extra units make up for \
                     pouring losses, at most the quantity and at most {MAX_EXTRA_UNITS} ({max} \
                     here); for a larger batch raise the quantity",
                    order.quantity
                ),
            ));
        }
    }
    // A component lot must be an ingredient, so a typo cannot leave a lot unrecorded.
    let diluent = formula.diluent();
    let names: Vec<&str> = formula
        .actives
        .iter()
        .map(|a| a.name.as_str())
        .chain(formula.excipients.iter().map(|e| e.name.as_str()))
        .chain(std::iter::once(formula.base.name.as_str()))
        .chain(formula.base.components.iter().map(|c| c.name.as_str()))
        .chain(std::iter::once(diluent.name.as_str()))
        .collect();
    if let Some(c) = order
        .components
        .iter()
        .find(|c| !names.iter().any(|n| name_matches(n, &c.name)))
    {
        return Err(Error::order(
            Field::Component,
            format!(
                "\"{}\" (lot {}) is not an ingredient of {}; ingredients: {}",
                c.name,
                c.lot,
                formula.id,
                names.join("; ")
            ),
        ));
    }
    if balance.readability <= Decimal::ZERO || balance.volume_readability <= Decimal::ZERO {
        return Err(Error::order(
            Field::Readability,
            "must be greater than zero",
        ));
    }
    Ok(())
}

/// Step 2: units to pour, unit-equivalents for the amounts, molds.
struct UnitsStep {
    poured: u32,
    extra: u32,
    overage: Option<Decimal>,
    n: Decimal,
    molds: u64,
}

fn units_step(
    formula: &Formula,
    order: &Order,
    steps: &mut Vec<(String, String)>,
) -> Result<UnitsStep> {
    let q = Decimal::from(order.quantity);
    let (poured, extra, overage, n) = match order.preparation {
        Preparation::Extra(e) => {
            let prepared = order
                .quantity
                .checked_add(e)
                .ok_or_else(|| overflow("the units to prepare"))?;
            steps.push((
                "Units prepared".into(),
                format!(
                    "{} dispensed + {e} extra = {prepared} units",
                    order.quantity
                ),
            ));
            (prepared, e, None, Decimal::from(prepared))
        }
        Preparation::Overage(o) => {
            let n = div(
                mul(
                    q,
                    add(Decimal::ONE_HUNDRED, o, "the overage")?,
                    "the overage",
                )?,
                Decimal::ONE_HUNDRED,
                "the overage",
            )?;
            steps.push((
                "Units prepared".into(),
                format!(
                    "{} units poured; amounts for {} × (100 + {} %) / 100 = {} (an overage of {} % \
                     on every ingredient, for melt left in the beaker)",
                    order.quantity,
                    order.quantity,
                    o.normalize(),
                    units(n),
                    o.normalize()
                ),
            ));
            (order.quantity, 0, Some(o), n)
        }
    };
    let molds = u64::from(poured.div_ceil(formula.mold.cavities));
    steps.push((
        "Molds".into(),
        format!(
            "ceil({poured} units poured / {} cavities) = {molds}",
            formula.mold.cavities
        ),
    ));
    Ok(UnitsStep {
        poured,
        extra,
        overage,
        n,
        molds,
    })
}

/// Step 3: every active, with its basis decided (never assumed) and its assay checked.
fn actives_step(
    formula: &Formula,
    order: &Order,
    n: Decimal,
    warnings: &mut Vec<String>,
) -> Result<Vec<Ingredient>> {
    let index = ActiveNames::new(formula);
    check_names(
        &order.strengths,
        |s| s.active.as_deref(),
        formula,
        &index,
        Field::Strength,
        false,
    )?;
    check_names(
        &order.assays,
        |s| s.active.as_deref(),
        formula,
        &index,
        Field::Assay,
        false,
    )?;
    check_names(
        &order.bases,
        |s| s.active.as_deref(),
        formula,
        &index,
        Field::Basis,
        true,
    )?;
    let single = formula.actives.len() == 1;
    let n_actives = formula.actives.len();
    let strengths = index.pick(n_actives, &order.strengths, |s| s.active.as_deref(), single);
    let assays = index.pick(n_actives, &order.assays, |s| s.active.as_deref(), single);
    let basis_given = index.pick(n_actives, &order.bases, |s| s.active.as_deref(), true);
    // Every strength first: a missing one is the more basic mistake than a missing basis.
    let mut specs = Vec::with_capacity(formula.actives.len());
    for (active, spec) in formula.actives.iter().zip(&strengths) {
        let spec = spec.ok_or_else(|| {
            Error::order(
                Field::Strength,
                if single {
                    format!(
                        "the strength per unit of {} is required, e.g. \"50 mg\"",
                        active.name
                    )
                } else {
                    format!(
                        "no strength given for {}; add one as \"{}=...\"",
                        active.name, active.name
                    )
                },
            )
        })?;
        specs.push(spec);
    }
    let mut out = Vec::new();
    for (i, (active, spec)) in formula.actives.iter().zip(specs).enumerate() {
        let assay = assays[i].map(|a| a.percent);
        let (basis, source) = match basis_given[i] {
            Some(b) => (b.basis, BasisSource::Order),
            None => match active.label_basis {
                Some(b) => (b, BasisSource::Formula),
                None if active.has_distinct_moiety() => {
                    return Err(basis_required(formula, active, spec.amount));
                }
                None => (Basis::Salt, BasisSource::Only),
            },
        };
        out.push(active_ingredient(
            formula,
            active,
            spec.amount,
            (basis, source),
            assay,
            n,
            warnings,
        )?);
    }
    Ok(out)
}

/// The refusal for a strength that could mean two masses.
fn basis_required(formula: &Formula, active: &Active, strength: Quantity) -> Error {
    let moiety = active
        .moiety
        .as_ref()
        .map_or("the moiety", |m| m.name.as_str());
    let factor = active
        .moiety
        .as_ref()
        .and_then(|m| quantity::div(active.mw, m.mw))
        .map_or_else(String::new, |f| format!(" (factor {})", show(f)));
    Error::order(
        Field::Basis,
        format!(
            "{strength} of {} may be written as the salt weighed ({}) or as {moiety}; the two \
             differ by the salt factor{factor}, and {} does not state which its prescriptions \
             use. Say which: salt or moiety, or set label_basis for this active in the \
             formula",
            active.name, active.name, formula.id
        ),
    )
}

/// Step 4: excipients, by a fixed amount per unit or a percent of the blank weight.
fn excipients_step(formula: &Formula, n: Decimal) -> Result<Vec<Ingredient>> {
    let b = formula.mold.blank_weight;
    let mut out = Vec::new();
    for e in &formula.excipients {
        let mut steps = Vec::new();
        let (exact, dimension, mass) = match &e.amount {
            ExcipientAmount::PerUnit(qty) => {
                let per = qty.in_base();
                let total = mul(per, n, &e.name)?;
                match qty.dimension() {
                    Dimension::Mass => {
                        steps.push(format!("{qty} × {} = {}", units(n), show_mass(total)));
                        (total, Dimension::Mass, total)
                    }
                    Dimension::Volume => {
                        let density = e.density.ok_or_else(|| {
                            Error::calc(format!(
                                "{} is a volume; the formula must give its density",
                                e.name
                            ))
                        })?;
                        steps.push(format!("{qty} × {} = {} mL", units(n), show(total)));
                        let m = mul(total, density, &e.name)?;
                        steps.push(format!(
                            "weight: {} mL × {} g/mL (density) = {}",
                            show(total),
                            density.normalize(),
                            show_mass(m)
                        ));
                        (total, Dimension::Volume, m)
                    }
                }
            }
            ExcipientAmount::PercentOfBlank(p) => {
                let total = div(
                    mul(mul(*p, b, &e.name)?, n, &e.name)?,
                    Decimal::ONE_HUNDRED,
                    &e.name,
                )?;
                steps.push(format!(
                    "{} % × {} g blank weight × {} = {}",
                    p.normalize(),
                    show(b),
                    units(n),
                    show_mass(total)
                ));
                (total, Dimension::Mass, total)
            }
        };
        out.push(Ingredient {
            name: e.name.clone(),
            role: Role::Excipient,
            exact,
            dimension,
            amount: exact,
            mass,
            displaced: None,
            displacement: e.displacement.map(DisplacementSource::Stated),
            active: None,
            aliquot: None,
            diluent_for: None,
            steps,
        });
    }
    Ok(out)
}

/// Step 10, done before displacement because its diluent enters the batch: every mass below
/// the minimum weighable quantity is replaced by an aliquot, and the diluent weighed for it
/// becomes a component row of its own, right after it.
fn aliquots_step(
    formula: &Formula,
    ingredients: Vec<Ingredient>,
    mwq: Decimal,
    balance: &Balance,
    warnings: &mut Vec<String>,
) -> Result<Vec<Ingredient>> {
    let diluent: Diluent = formula.diluent();
    let mut out = Vec::with_capacity(ingredients.len() + 1);
    for mut i in ingredients {
        if i.dimension != Dimension::Mass || i.exact >= mwq {
            out.push(i);
            continue;
        }
        let plan = aliquot(i.exact, mwq, balance.readability, &diluent.name)?;
        i.steps.push(format!(
            "{} is below the minimum weighable quantity of {}: aliquot ×{}: weigh {}, mix with {} \
             of {} to {}, and take {} into the batch; that portion holds {} of {} (exact need {}) \
             and {} of diluent; the remaining {} of mixture is waste",
            show_mass(i.exact),
            show_mass(mwq),
            plan.multiple,
            show_mass(plan.weigh),
            show_mass(plan.diluent),
            diluent.name,
            show_mass(plan.total),
            show_mass(plan.portion),
            show_mass(plan.delivers),
            i.name,
            show_mass(i.exact),
            show_mass(plan.diluent_in_portion),
            show_mass(plan.remainder),
        ));
        warnings.push(format!(
            "{}: {} is below the minimum weighable quantity of {}; it is made by aliquot: weigh \
             {}, dilute with {} of {} to {}, and put {} of the mixture into the batch (the rest \
             is waste).",
            i.name,
            show_mass(i.exact),
            show_mass(mwq),
            show_mass(plan.weigh),
            show_mass(plan.diluent),
            diluent.name,
            show_mass(plan.total),
            show_mass(plan.portion),
        ));
        i.amount = plan.weigh;
        i.mass = plan.delivers;
        let row = Ingredient {
            name: diluent.name.clone(),
            role: Role::Diluent,
            exact: plan.diluent,
            dimension: Dimension::Mass,
            amount: plan.diluent,
            mass: plan.diluent_in_portion,
            displaced: None,
            displacement: diluent.displacement.map(DisplacementSource::Stated),
            active: None,
            aliquot: None,
            diluent_for: Some(i.name.clone()),
            steps: vec![format!(
                "aliquot diluent for {}: {} × {} − {} weighed = {}; the {} portion taken holds {} \
                 of it",
                i.name,
                plan.multiple,
                show_mass(plan.portion),
                show_mass(plan.weigh),
                show_mass(plan.diluent),
                show_mass(plan.portion),
                show_mass(plan.diluent_in_portion)
            )],
        };
        i.aliquot = Some(plan);
        out.push(i);
        out.push(row);
    }
    Ok(out)
}

/// Step 5: what each added ingredient displaces, by its own factor, the base's default, or 1:1
/// when the load is negligible.
fn displacement_step(
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

/// Step 6: base = blank total − Σ displaced, checked, then split into its components.
/// Returns (base, Σ displaced) and appends the base rows.
fn base_step(
    formula: &Formula,
    ingredients: &mut Vec<Ingredient>,
    blank_total: Decimal,
) -> Result<(Decimal, Decimal)> {
    let mut displaced_total = Decimal::ZERO;
    for i in ingredients.iter() {
        displaced_total = add(
            displaced_total,
            i.displaced.unwrap_or_default(),
            "the displacement",
        )?;
    }
    let base = sub(blank_total, displaced_total, "the base")?;
    let displaced_terms: Vec<String> = ingredients
        .iter()
        .map(|i| show(i.displaced.unwrap_or_default()))
        .collect();
    let base_step = format!(
        "{} g blank total − ({}) g displaced = {} g",
        show(blank_total),
        displaced_terms.join(" + "),
        show(base)
    );
    if base <= Decimal::ZERO {
        return Err(Error::calc(format!(
            "the base comes out at {} g ({base_step}): the ingredients displace more than the whole \
             mold holds. Lower the strength or use a larger mold.",
            show(base)
        )));
    }
    // base ≥ ⅔ × blank total, compared without dividing: 3 × base ≥ 2 × blank total.
    if mul(base, Decimal::from(3), "the base")? < mul(blank_total, Decimal::TWO, "the base")? {
        return Err(Error::calc(format!(
            "the base is {} g, {} % of the blank total {} g; at least two thirds is needed for sound \
             units (powder load too high). Lower the strength, split the dose or use a larger mold.",
            show(base),
            show(div(
                mul(base, Decimal::ONE_HUNDRED, "the base")?,
                blank_total,
                "the base"
            )?),
            show(blank_total)
        )));
    }
    let row = |name: &str, exact: Decimal, steps: Vec<String>| Ingredient {
        name: name.to_string(),
        role: Role::Base,
        exact,
        dimension: Dimension::Mass,
        amount: exact,
        mass: exact,
        displaced: None,
        displacement: None,
        active: None,
        aliquot: None,
        diluent_for: None,
        steps,
    };
    let components = &formula.base.components;
    if components.is_empty() {
        ingredients.push(row(&formula.base.name, base, vec![base_step]));
    } else {
        // The last component takes what the others leave, so the rows add up to the base
        // exactly whatever the last digit of each product.
        let mut left = base;
        for (k, c) in components.iter().enumerate() {
            let amount = if k + 1 == components.len() {
                left
            } else {
                div(
                    mul(base, c.percent, &c.name)?,
                    Decimal::ONE_HUNDRED,
                    &c.name,
                )?
            };
            left = sub(left, amount, &c.name)?;
            ingredients.push(row(
                &c.name,
                amount,
                vec![
                    base_step.clone(),
                    format!(
                        "{} % of the {} g of {}: {}",
                        c.percent.normalize(),
                        show(base),
                        formula.base.name,
                        show_mass(amount)
                    ),
                ],
            ));
        }
    }
    Ok((base, displaced_total))
}

/// Step 9: round what is printed to weigh; flag base components below the MWQ.
fn round_step(
    ingredients: &mut [Ingredient],
    balance: &Balance,
    mwq: Decimal,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for i in ingredients {
        if i.aliquot.is_some() || i.role == Role::Diluent {
            // Already weighings on the balance's scale.
            continue;
        }
        let step = match i.dimension {
            Dimension::Mass => balance.readability,
            Dimension::Volume => balance.volume_readability,
        };
        i.amount = round_to(i.exact, step).ok_or_else(|| overflow(&i.name))?;
        if i.amount != i.exact.normalize() {
            i.steps.push(format!(
                "rounded half away from zero to {} {}: {} {}",
                step.normalize(),
                i.dimension.base_unit(),
                i.amount,
                i.dimension.base_unit()
            ));
        }
        if i.role == Role::Base && i.exact < mwq {
            warnings.push(format!(
                "{}: {} is below the minimum weighable quantity of {}; prepare a larger amount of \
                 the base mixture in its proportions and weigh the base from it.",
                i.name,
                show_mass(i.exact),
                show_mass(mwq)
            ));
        }
    }
    Ok(())
}

/// Where every gram of each active goes.
fn reconciliation_step(ingredients: &[Ingredient], u: &UnitsStep) -> Result<Vec<Reconciliation>> {
    let mut out = Vec::new();
    for i in ingredients.iter().filter(|i| i.role == Role::Active) {
        let (weighed, aliquot_waste, into_batch) = match &i.aliquot {
            Some(a) => (a.weigh, a.drug_wasted(), a.delivers),
            None => (i.amount, Decimal::ZERO, i.amount),
        };
        let what = "the reconciliation";
        let in_units = div(mul(into_batch, Decimal::from(u.poured), what)?, u.n, what)?;
        let beaker_waste = sub(into_batch, in_units, what)?;
        let dispensed = div(
            mul(into_batch, Decimal::from(u.poured - u.extra), what)?,
            u.n,
            what,
        )?;
        out.push(Reconciliation {
            name: i.name.clone(),
            weighed,
            aliquot_waste,
            into_batch,
            in_units,
            beaker_waste,
            dispensed,
        });
    }
    Ok(out)
}

/// The equivalent of `strength` in the active's other form, per unit: the moiety for a salt
/// strength, the salt for a moiety strength.
fn equivalent(active: &Active, s: Decimal, basis: Basis) -> Result<Option<(String, Decimal)>> {
    let Some(m) = active
        .moiety
        .as_ref()
        .filter(|_| active.has_distinct_moiety())
    else {
        return Ok(None);
    };
    Ok(Some(match basis {
        Basis::Salt => (
            m.name.clone(),
            div(mul(s, m.mw, "the equivalent")?, active.mw, "the equivalent")?,
        ),
        Basis::Moiety => (
            active.name.clone(),
            div(mul(s, active.mw, "the equivalent")?, m.mw, "the equivalent")?,
        ),
    }))
}

/// One active: strength × units × salt factor × potency factor, as one product over one
/// divisor so that neither factor is rounded first. The assay is checked against the
/// formula's range, and the limit against what is actually weighed per unit.
fn active_ingredient(
    formula: &Formula,
    active: &Active,
    strength: Quantity,
    (basis, basis_source): (Basis, BasisSource),
    assay: Option<Decimal>,
    n: Decimal,
    warnings: &mut Vec<String>,
) -> Result<Ingredient> {
    let s = strength.in_base();
    let (salt, strength_form) = match basis {
        Basis::Salt => (None, active.name.clone()),
        Basis::Moiety => {
            let m = active.moiety.as_ref().ok_or_else(|| {
                Error::order(Field::Basis,
                    format!(
                        "{} in {} names no moiety, so a strength of the moiety cannot be converted; \
                         give the basis as salt (the strength is of {} as weighed)",
                        active.name, formula.id, active.name
                    ),
                )
            })?;
            (Some((active.mw, m.mw)), m.name.clone())
        }
    };
    let (num_salt, den_salt) = salt.unwrap_or((Decimal::ONE, Decimal::ONE));

    if let Some(a) = assay {
        let (low, high) = active.assay_range;
        if a < low || a > high {
            return Err(Error::order(
                Field::Assay,
                format!(
                    "an assay of {} % for {} is outside the {}-{} % that {} accepts. A certificate \
                     of analysis gives the as-is assay of a USP drug substance, usually 98-102 %; a \
                     value this far off is a typing error until shown otherwise{}. \
                     If the lot truly assays so, the master formulation record must say it: set \
                     assay_min or assay_max for this active in a new version of the formula",
                    a.normalize(),
                    active.name,
                    low.normalize(),
                    high.normalize(),
                    formula.id,
                    likely_assay(a).map_or_else(String::new, |l| format!(" (was {l} meant?)"))
                ),
            ));
        }
    }
    let (num_pot, den_pot) = match assay {
        Some(a) => (Decimal::ONE_HUNDRED, a),
        None => (Decimal::ONE, Decimal::ONE),
    };
    let denominator = mul(den_salt, den_pot, &active.name)?;
    let per_unit = div(
        mul(mul(s, num_salt, &active.name)?, num_pot, &active.name)?,
        denominator,
        &active.name,
    )?;

    if let Some(max) = active.max_strength
        && per_unit > max.in_base()
    {
        let (field, why, advice) = match assay {
            Some(a)
                if div(mul(s, num_salt, "the limit")?, den_salt, "the limit")? <= max.in_base() =>
            {
                (
                    Field::Assay,
                    format!(
                        ", because the assay of {} % raises what is weighed",
                        a.normalize()
                    ),
                    "check the assay against the certificate of analysis; if both are right, \
                     the master formulation record's max_strength must allow for the potency \
                     correction",
                )
            }
            _ => (
                Field::Strength,
                String::new(),
                "check for a decimal or ten-fold error",
            ),
        };
        return Err(Error::order(
            field,
            format!(
                "{strength} of {strength_form} per unit means weighing {} of {} per unit{why}, \
                 above the maximum of {max} per unit that {} allows; {advice}",
                show_mass(per_unit),
                active.name,
                formula.id
            ),
        ));
    }

    let numerator = mul(
        mul(mul(s, n, &active.name)?, num_salt, &active.name)?,
        num_pot,
        &active.name,
    )?;
    let exact = div(numerator, denominator, &active.name)?;

    let salt_text = match salt {
        Some((mw, mmw)) => format!(
            " × {}/{} (salt factor {})",
            mw.normalize(),
            mmw.normalize(),
            show(div(mw, mmw, "the salt factor")?)
        ),
        None => String::new(),
    };
    let potency_text = match assay {
        Some(a) => format!(
            " × 100/{} (potency factor {}, assay {} %)",
            a.normalize(),
            show(div(Decimal::ONE_HUNDRED, a, "the potency factor")?),
            a.normalize()
        ),
        None => String::new(),
    };
    let written_as = match basis {
        Basis::Salt => "the salt weighed".to_string(),
        Basis::Moiety => short_name(&strength_form).to_string(),
    };
    let basis_text = match basis_source {
        BasisSource::Order => format!(" [strength written as {written_as}, as ordered]"),
        BasisSource::Formula => {
            format!(" [strength written as {written_as}, the formula's label basis]")
        }
        BasisSource::Only => String::new(),
    };
    let mut steps = vec![format!(
        "{strength} {strength_form} × {}{salt_text}{potency_text} = {}{basis_text}",
        units(n),
        show_mass(exact)
    )];
    if salt.is_some() || assay.is_some() {
        steps.push(format!(
            "per unit: {} of {} as weighed",
            show_mass(per_unit),
            active.name
        ));
    }
    if let Some(a) = assay.filter(|a| *a != Decimal::ONE_HUNDRED) {
        let change = div(
            mul(
                sub(Decimal::ONE_HUNDRED, a, "the assay")?,
                Decimal::ONE_HUNDRED,
                "the assay",
            )?,
            a,
            "the assay",
        )?;
        warnings.push(format!(
            "{}: the assay of {} % makes the amount weighed {} % {} than the strength{} alone \
             gives ({} per unit for a labelled {strength} of {strength_form}); check the assay \
             against the lot's certificate of analysis.",
            active.name,
            a.normalize(),
            show(
                change.abs().round_dp_with_strategy(
                    2,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero
                )
            ),
            if change > Decimal::ZERO {
                "more"
            } else {
                "less"
            },
            if salt.is_some() {
                " and the salt factor"
            } else {
                ""
            },
            show_mass(per_unit)
        ));
    }

    Ok(Ingredient {
        name: active.name.clone(),
        role: Role::Active,
        exact,
        dimension: Dimension::Mass,
        amount: exact,
        mass: exact,
        displaced: None,
        displacement: active.displacement.map(DisplacementSource::Stated),
        active: Some(ActiveDetail {
            strength,
            basis,
            basis_source,
            strength_form,
            salt_factor: salt,
            assay_percent: assay,
            equivalent: equivalent(active, s, basis)?,
            per_unit_weighed: per_unit,
            schedule: active.schedule,
        }),
        aliquot: None,
        diluent_for: None,
        steps,
    })
}

/// The assay most likely meant by an implausible one: a misplaced decimal point (9.85 for
/// 98.5) or a fraction typed for a percent (0.995 for 99.5).
fn likely_assay(a: Decimal) -> Option<String> {
    let mut v = a;
    while v < Decimal::from(50) && v > Decimal::ZERO {
        v *= Decimal::TEN;
    }
    while v > Decimal::from(200) {
        v /= Decimal::TEN;
    }
    (v != a).then(|| format!("{} %", v.normalize()))
}

/// Granularity the aliquot portion is rounded up to: a round figure is easier to weigh and
/// check. With the usual 120 mg MWQ this gives the textbook 125 mg portion.
const PORTION_STEP_MG: i64 = 25;

/// Plans an aliquot of `amount` grams, below the minimum weighable quantity `mwq`, diluted
/// with `diluent_name`.
///
/// k = ceil(mwq / amount), so k × amount reaches the MWQ; the drug weighing is k × amount
/// rounded to the balance (raising k by one if rounding fell below the MWQ). The portion is
/// the larger of the MWQ and (MWQ + weighing) ÷ k, rounded up to 25 mg (or to the balance's
/// readability where that is coarser), so that the diluent weighing, k × portion − weighing,
/// is itself at least the MWQ. One portion delivers weighing ÷ k of drug, which differs from
/// the amount by at most half the readability ÷ k (reported, never hidden).
pub fn aliquot(
    amount: Decimal,
    mwq: Decimal,
    readability: Decimal,
    diluent_name: &str,
) -> Result<Aliquot> {
    if amount <= Decimal::ZERO {
        return Err(Error::calc("an aliquot needs an amount greater than zero"));
    }
    let what = "the aliquot";
    // The tolerance keeps a quotient's last digit (36.000…0004) from costing a whole extra
    // multiple; the check below still guarantees the weighing reaches the MWQ.
    let mut k = (div(mwq, amount, what)? - Decimal::new(1, 9))
        .ceil()
        .max(Decimal::TWO);
    let mut weigh = round_to(mul(k, amount, what)?, readability).ok_or_else(|| overflow(what))?;
    if weigh < mwq {
        k += Decimal::ONE;
        weigh = round_to(mul(k, amount, what)?, readability).ok_or_else(|| overflow(what))?;
    }
    if weigh < mwq {
        // Rounding to a coarse balance step can still fall short (found by fuzzing): rounding
        // half away from zero loses at most half a step, so k × amount ≥ MWQ + half a step
        // always reaches the MWQ.
        let half = div(readability, Decimal::TWO, what)?;
        k = div(add(mwq, half, what)?, amount, what)?.ceil();
        weigh = round_to(mul(k, amount, what)?, readability).ok_or_else(|| overflow(what))?;
    }
    let multiple: u32 = k.try_into().map_err(|_| overflow(what))?;
    let step = mul(
        div(Decimal::new(PORTION_STEP_MG, 3), readability, what)?.ceil(),
        readability,
        what,
    )?;
    let need = mwq.max(div(add(mwq, weigh, what)?, k, what)?);
    let portion = mul(div(need, step, what)?.ceil(), step, what)?;
    let total = mul(k, portion, what)?;
    let diluent = sub(total, weigh, what)?;
    Ok(Aliquot {
        multiple,
        weigh,
        diluent,
        diluent_name: diluent_name.to_string(),
        total,
        portion,
        delivers: div(weigh, k, what)?,
        diluent_in_portion: div(diluent, k, what)?,
        remainder: sub(total, portion, what)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    /// The textbook aliquot: 2 mg needed, weigh 120 mg, make 7500 mg with 7380 mg lactose, take
    /// 125 mg.
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

    #[test]
    fn classic_aliquot() {
        let a = aliquot(d("0.002"), d("0.120"), d("0.001"), "Lactose").unwrap();
        assert_eq!(a.multiple, 60);
        assert_eq!(a.weigh, d("0.120"));
        assert_eq!(a.total, d("7.500"));
        assert_eq!(a.diluent, d("7.380"));
        assert_eq!(a.portion, d("0.125"));
        assert_eq!(a.delivers, d("0.002"));
        assert_eq!(a.remainder, d("7.375"));
    }

    #[test]
    fn aliquot_of_an_unweighable_quotient_reports_what_it_delivers() {
        let amount = quantity::div(d("0.01"), Decimal::from(3)).unwrap(); // 3.333… mg
        let a = aliquot(amount, d("0.120"), d("0.001"), "Lactose").unwrap();
        assert_eq!(a.multiple, 36);
        assert_eq!(a.weigh, d("0.120"));
        assert!((a.delivers - amount).abs() <= d("0.0005") / Decimal::from(36));
        assert_eq!(a.weigh.scale(), 3);
    }

    /// Regression: 96 mg of methylcobalamin (4 mg × 24) used to be "mixed with 58 mg", a
    /// diluent weighing below the 120 mg MWQ.
    #[test]
    fn every_aliquot_weighing_reaches_the_mwq() {
        let mwq = d("0.120");
        for mg in 1..120 {
            let amount = Decimal::new(mg, 3);
            let a = aliquot(amount, mwq, d("0.001"), "Lactose").unwrap();
            assert!(a.weigh >= mwq, "{mg} mg: drug {}", a.weigh);
            assert!(a.diluent >= mwq, "{mg} mg: diluent {}", a.diluent);
            assert!(a.portion >= mwq, "{mg} mg: portion {}", a.portion);
            assert_eq!(a.weigh + a.diluent, a.total);
        }
        let a = aliquot(d("0.096"), mwq, d("0.001"), "Lactose").unwrap();
        assert_eq!((a.multiple, a.weigh), (2, d("0.192")));
        assert_eq!((a.portion, a.diluent), (d("0.175"), d("0.158")));
    }

    /// Regression (found by fuzzing the calculation): rounding the drug weighing to a coarse
    /// balance step fell short of the MWQ twice in a row, and the plan weighed below it.
    #[test]
    fn a_coarse_balance_step_never_leaves_the_weighing_below_the_mwq() {
        let a = aliquot(d("0.0034"), d("0.0101"), d("0.01"), "Lactose").unwrap();
        assert!(a.weigh >= d("0.0101"), "{a:?}");
        assert!(
            a.diluent >= d("0.0101") && a.portion >= d("0.0101"),
            "{a:?}"
        );
        for mg in 1..40 {
            let amount = Decimal::new(mg, 4);
            let a = aliquot(amount, d("0.0101"), d("0.01"), "Lactose").unwrap();
            assert!(a.weigh >= d("0.0101"), "{amount}: {a:?}");
        }
    }

    #[test]
    fn mwq_is_sensitivity_over_error_or_the_stated_minimum_weight() {
        let b = Balance::default();
        assert_eq!(b.mwq().unwrap(), d("0.120"));
        let b = Balance {
            acceptable_error_percent: Decimal::ONE,
            ..Balance::default()
        };
        assert_eq!(b.mwq().unwrap(), d("0.600"));
        let b = Balance {
            minimum_weight: Some(d("0.020")),
            ..Balance::default()
        };
        assert_eq!(b.mwq().unwrap(), d("0.020"));
        assert!(b.mwq_rule().contains("USP <41>"));
    }

    #[test]
    fn likely_assay_moves_the_decimal_point() {
        assert_eq!(likely_assay(d("9.85")).unwrap(), "98.5 %");
        assert_eq!(likely_assay(d("0.995")).unwrap(), "99.5 %");
        assert_eq!(likely_assay(d("985")).unwrap(), "98.5 %");
        assert_eq!(likely_assay(d("50")), None);
    }
}
