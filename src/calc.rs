//! The batch calculation: from a formula and an order to every amount to weigh.
//!
//! The arithmetic follows DOMAIN.md step by step and records each step in words with its
//! numbers, because the pharmacist signs the worksheet on the strength of being able to check
//! them. Every operation is checked; products are formed before the one division each amount
//! needs, so no factor is rounded before it is multiplied.

use rust_decimal::Decimal;

use crate::error::{Error, Result, overflow};
use crate::formula::{Active, Displacement, ExcipientAmount, Formula, Schedule, name_matches};
use crate::order::{Basis, Order, Preparation};
use crate::quantity::{self, Dimension, round_to, show, show_mass};

/// Load of added ingredients, in percent of the blank total, up to which displacement is
/// negligible and 1:1 may be assumed (a published rule for molded forms).
const NEGLIGIBLE_LOAD_PERCENT: i64 = 5;

/// The balance and measuring devices of the pharmacy: how finely amounts can be weighed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Smallest increment the balance shows, in grams; printed amounts are rounded to it.
    pub readability: Decimal,
    /// Smallest graduation used for liquids, in mL.
    pub volume_readability: Decimal,
    /// Sensitivity requirement, in grams (6 mg for a Class III prescription balance).
    pub sensitivity: Decimal,
    /// Largest acceptable weighing error, in percent.
    pub acceptable_error_percent: Decimal,
}

impl Default for Balance {
    fn default() -> Self {
        Balance {
            readability: Decimal::new(1, 3),
            volume_readability: Decimal::new(1, 2),
            sensitivity: Decimal::new(6, 3),
            acceptable_error_percent: Decimal::from(5),
        }
    }
}

impl Balance {
    /// Minimum weighable quantity: sensitivity ÷ acceptable error.
    pub fn mwq(&self) -> Option<Decimal> {
        quantity::div(
            self.sensitivity.checked_mul(Decimal::ONE_HUNDRED)?,
            self.acceptable_error_percent,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Active,
    Excipient,
    Base,
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

/// The plan for an amount too small to weigh accurately: weigh `weigh` (k times the amount),
/// dilute to `total` with `diluent` of an inert powder, and take `portion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aliquot {
    pub multiple: u32,
    pub weigh: Decimal,
    pub diluent: Decimal,
    pub total: Decimal,
    pub portion: Decimal,
    /// What one portion holds: weigh ÷ multiple (equal to the amount unless rounding to the
    /// balance changed the weighing).
    pub delivers: Decimal,
}

/// The salt and potency conversion of an active, kept as the fractions they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveDetail {
    pub strength: quantity::Quantity,
    pub basis: Basis,
    /// The form the strength is written in (the salt's or the moiety's name).
    pub strength_form: String,
    /// (MW weighed, MW of the moiety), when the strength is of the moiety.
    pub salt_factor: Option<(Decimal, Decimal)>,
    pub assay_percent: Option<Decimal>,
    /// Grams of the weighed form per unit (strength × salt factor × potency factor).
    pub per_unit_weighed: Decimal,
    pub schedule: Option<Schedule>,
}

#[derive(Debug, Clone)]
pub struct Ingredient {
    pub name: String,
    pub role: Role,
    /// Exact amount in `dimension`'s base unit (g or mL).
    pub exact: Decimal,
    pub dimension: Dimension,
    /// The amount to weigh or measure, rounded to the balance or the graduation.
    pub amount: Decimal,
    /// Mass in grams (the exact amount, or volume × density).
    pub mass: Decimal,
    /// Grams of base this ingredient displaces (none for the base itself).
    pub displaced: Option<Decimal>,
    pub displacement: Option<DisplacementSource>,
    pub active: Option<ActiveDetail>,
    pub aliquot: Option<Aliquot>,
    /// How the amount was reached, one line per step, with its numbers.
    pub steps: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Calculation {
    pub formula_id: String,
    pub units_dispensed: u32,
    pub units_prepared: u32,
    pub extra_units: u32,
    pub overage_percent: Option<Decimal>,
    /// n in the formulas: units prepared, times (1 + overage) when an overage is used.
    pub unit_equivalents: Decimal,
    pub cavities: u32,
    pub molds: u64,
    pub blank_weight: Decimal,
    pub blank_total: Decimal,
    /// Actives and excipients in formula order, then the base.
    pub ingredients: Vec<Ingredient>,
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
    /// (what, how) for the steps that are not one ingredient's.
    pub steps: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

impl Calculation {
    /// The base: `calculate` always ends the ingredients with it.
    ///
    /// # Panics
    /// Only on a `Calculation` built by hand without ingredients.
    pub fn base(&self) -> &Ingredient {
        self.ingredients
            .last()
            .expect("the base is always the last ingredient")
    }

    pub fn schedule(&self) -> Option<Schedule> {
        self.ingredients
            .iter()
            .filter_map(|i| i.active.as_ref()?.schedule)
            .min()
    }
}

fn mul(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(|| overflow(what))
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(|| overflow(what))
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
/// (micronized)", "Estradiol" for a moiety "Estradiol (anhydrous)").
fn answers_to(active: &Active, n: &str) -> bool {
    name_matches(&active.name, n)
        || active
            .moiety
            .as_ref()
            .is_some_and(|m| name_matches(&m.name, n))
}

/// Finds the strength (or assay, or basis) the order gives for one active: a named one first,
/// else an unnamed one where `unnamed_ok`.
fn pick<'a, T>(
    items: &'a [T],
    name_of: impl Fn(&T) -> Option<&str>,
    active: &Active,
    unnamed_ok: bool,
) -> Option<&'a T> {
    items
        .iter()
        .find(|s| name_of(s).is_some_and(|n| answers_to(active, n)))
        .or_else(|| items.iter().find(|s| unnamed_ok && name_of(s).is_none()))
}

/// Checks that every named strength or assay refers to an active of the formula, and that
/// unnamed ones are used only with a single active.
fn check_names<T>(
    items: &[T],
    name_of: impl Fn(&T) -> Option<&str>,
    formula: &Formula,
    arg: &str,
    unnamed_for_all: bool,
) -> Result<()> {
    let names: Vec<&str> = formula.actives.iter().map(|a| a.name.as_str()).collect();
    let single = formula.actives.len() == 1 || unnamed_for_all;
    let mut seen = Vec::new();
    for item in items {
        match name_of(item) {
            None if !single => {
                return Err(Error::arg(
                    arg,
                    format!(
                        "this formula has {} actives; name each one, e.g. {arg} \"{}=50 mg\" (actives: {})",
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
                let matching: Vec<usize> = (0..formula.actives.len())
                    .filter(|&i| answers_to(&formula.actives[i], n))
                    .collect();
                if matching.len() > 1 {
                    return Err(Error::arg(
                        arg,
                        format!(
                            "\"{n}\" matches more than one active; write the full name (actives: {})",
                            names.join(", ")
                        ),
                    ));
                }
                let idx = matching.first().copied();
                match idx {
                    Some(i) => seen.push(i),
                    None => {
                        return Err(Error::arg(
                            arg,
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
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        let which = names.get(w[0]).copied().unwrap_or("the value");
        return Err(Error::arg(arg, format!("{which} is given more than once")));
    }
    Ok(())
}

/// Runs the whole calculation.
pub fn calculate(formula: &Formula, order: &Order, balance: &Balance) -> Result<Calculation> {
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();

    if order.quantity == 0 {
        return Err(Error::arg("--quantity", "must be at least 1 unit"));
    }
    // A component lot must be an ingredient, so a typo cannot leave a lot unrecorded.
    let names: Vec<&str> = formula
        .actives
        .iter()
        .map(|a| a.name.as_str())
        .chain(formula.excipients.iter().map(|e| e.name.as_str()))
        .chain(std::iter::once(formula.base.name.as_str()))
        .collect();
    if let Some(c) = order
        .components
        .iter()
        .find(|c| !names.iter().any(|n| name_matches(n, &c.name)))
    {
        return Err(Error::arg(
            "component",
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
        return Err(Error::arg("--readability", "must be greater than zero"));
    }

    // 2. Units to prepare.
    let q = Decimal::from(order.quantity);
    let (units_prepared, extra, overage, n) = match order.preparation {
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
                    "{} units × (100 + {} %) / 100 = {} (overage of {} % on every ingredient)",
                    order.quantity,
                    o.normalize(),
                    units(n),
                    o.normalize()
                ),
            ));
            (order.quantity, 0, Some(o), n)
        }
    };

    let cavities = Decimal::from(formula.mold.cavities);
    let molds_exact = div(n, cavities, "the molds")?;
    let molds = molds_exact
        .ceil()
        .try_into()
        .map_err(|_| overflow("the molds"))?;
    steps.push((
        "Molds".into(),
        format!(
            "ceil({} / {} cavities) = {molds}",
            show(n),
            formula.mold.cavities
        ),
    ));

    let b = formula.mold.blank_weight;
    let blank_total = mul(b, n, "the blank total")?;
    steps.push((
        "Blank total".into(),
        format!(
            "{} g blank weight × {} = {} g",
            show(b),
            units(n),
            show(blank_total)
        ),
    ));

    // 3. Actives.
    check_names(
        &order.strengths,
        |s| s.active.as_deref(),
        formula,
        "--strength",
        false,
    )?;
    check_names(
        &order.assays,
        |s| s.active.as_deref(),
        formula,
        "--assay",
        false,
    )?;
    check_names(
        &order.bases,
        |s| s.active.as_deref(),
        formula,
        "--basis",
        true,
    )?;
    let single = formula.actives.len() == 1;
    let mut ingredients = Vec::new();
    for active in &formula.actives {
        let spec =
            pick(&order.strengths, |s| s.active.as_deref(), active, single).ok_or_else(|| {
                Error::arg(
                    "--strength",
                    if single {
                        format!(
                            "the strength per unit of {} is required, e.g. --strength \"50 mg\"",
                            active.name
                        )
                    } else {
                        format!(
                            "no strength given for {}; add --strength \"{}=...\"",
                            active.name, active.name
                        )
                    },
                )
            })?;
        let assay = pick(&order.assays, |s| s.active.as_deref(), active, single).map(|a| a.percent);
        let basis = pick(&order.bases, |s| s.active.as_deref(), active, true)
            .map_or(Basis::Salt, |b| b.basis);
        ingredients.push(active_ingredient(
            formula,
            active,
            spec.amount,
            basis,
            assay,
            n,
        )?);
    }

    // 4. Excipients.
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
        ingredients.push(Ingredient {
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
            steps,
        });
    }

    // 5. Displacement.
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
                     to the ingredient or to [base] in {}",
                    i.name,
                    formula.base.name,
                    show(load_percent),
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
        i.steps.push(format!(
            "displaces {} {}{whence} = {} of base",
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

    // 6. Base.
    let mut displaced_total = Decimal::ZERO;
    for i in &ingredients {
        displaced_total = add(
            displaced_total,
            i.displaced.unwrap_or_default(),
            "the displacement",
        )?;
    }
    let base = blank_total
        .checked_sub(displaced_total)
        .ok_or_else(|| overflow("the base"))?;
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
    ingredients.push(Ingredient {
        name: formula.base.name.clone(),
        role: Role::Base,
        exact: base,
        dimension: Dimension::Mass,
        amount: base,
        mass: base,
        displaced: None,
        displacement: None,
        active: None,
        aliquot: None,
        steps: vec![base_step],
    });

    // 7. Totals.
    let batch_weight = add(base, added_mass, "the batch weight")?;
    steps.push((
        "Batch weight".into(),
        format!(
            "{} g base + {} added = {} g",
            show(base),
            show_mass(added_mass),
            show(batch_weight)
        ),
    ));
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
    let low = unit_weight - delta;
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

    // 9–10. Rounding and the minimum weighable quantity.
    let mwq = balance
        .mwq()
        .ok_or_else(|| overflow("the minimum weighable quantity"))?;
    steps.push((
        "Minimum weighable quantity".into(),
        format!(
            "{} sensitivity ÷ {} % acceptable error = {}",
            show_mass(balance.sensitivity),
            balance.acceptable_error_percent.normalize(),
            show_mass(mwq)
        ),
    ));
    for i in &mut ingredients {
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
        if i.dimension == Dimension::Mass && i.exact < mwq {
            let plan = aliquot(i.exact, mwq, balance.readability)?;
            warnings.push(format!(
                "{}: {} is below the minimum weighable quantity of {} ({} ÷ {} %). Aliquot: weigh {} \
                 ({} × the amount), mix with {} of an inert diluent (e.g. lactose) to {}, and take {}, \
                 which holds {}.",
                i.name,
                show_mass(i.exact),
                show_mass(mwq),
                show_mass(balance.sensitivity),
                balance.acceptable_error_percent.normalize(),
                show_mass(plan.weigh),
                plan.multiple,
                show_mass(plan.diluent),
                show_mass(plan.total),
                show_mass(plan.portion),
                show_mass(plan.delivers),
            ));
            i.aliquot = Some(plan);
        }
    }

    Ok(Calculation {
        formula_id: formula.id.clone(),
        units_dispensed: order.quantity,
        units_prepared,
        extra_units: extra,
        overage_percent: overage,
        unit_equivalents: n,
        cavities: formula.mold.cavities,
        molds,
        blank_weight: b,
        blank_total,
        ingredients,
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
        steps,
        warnings,
    })
}

/// One active: strength × units × salt factor × potency factor, as one product over one
/// divisor so that neither factor is rounded first.
fn active_ingredient(
    formula: &Formula,
    active: &Active,
    strength: quantity::Quantity,
    basis: Basis,
    assay: Option<Decimal>,
    n: Decimal,
) -> Result<Ingredient> {
    let s = strength.in_base();
    let (salt, strength_form) = match basis {
        Basis::Salt => (None, active.name.clone()),
        Basis::Moiety => {
            let m = active.moiety.as_ref().ok_or_else(|| {
                Error::arg(
                    "--basis",
                    format!(
                        "{} in {} names no moiety, so a strength of the moiety cannot be converted; \
                         use --basis salt (the strength is of {} as weighed)",
                        active.name, formula.id, active.name
                    ),
                )
            })?;
            (Some((active.mw, m.mw)), m.name.clone())
        }
    };
    let (num_salt, den_salt) = salt.unwrap_or((Decimal::ONE, Decimal::ONE));

    if let Some(max) = active.max_strength {
        // Weighed-form strength per unit > max, compared as s × mw > max × moiety_mw.
        let lhs = mul(s, num_salt, "the strength check")?;
        let rhs = mul(max.in_base(), den_salt, "the strength check")?;
        if lhs > rhs {
            let as_salt = div(lhs, den_salt, "the strength check")?;
            return Err(Error::arg(
                "--strength",
                format!(
                    "{strength} of {strength_form} per unit ({} of {} as weighed) is above the \
                     maximum of {max} per unit that {} allows; check for a decimal or ten-fold error",
                    show_mass(as_salt),
                    active.name,
                    formula.id
                ),
            ));
        }
    }

    let (num_pot, den_pot) = match assay {
        Some(a) => (Decimal::ONE_HUNDRED, a),
        None => (Decimal::ONE, Decimal::ONE),
    };
    let numerator = mul(
        mul(mul(s, n, &active.name)?, num_salt, &active.name)?,
        num_pot,
        &active.name,
    )?;
    let denominator = mul(den_salt, den_pot, &active.name)?;
    let exact = div(numerator, denominator, &active.name)?;
    let per_unit = div(
        mul(mul(s, num_salt, &active.name)?, num_pot, &active.name)?,
        denominator,
        &active.name,
    )?;

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
    let line = format!(
        "{strength} {strength_form} × {}{salt_text}{potency_text} = {}",
        units(n),
        show_mass(exact)
    );
    let mut steps = vec![line];
    if salt.is_some() || assay.is_some() {
        steps.push(format!(
            "per unit: {} of {} as weighed",
            show_mass(per_unit),
            active.name
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
            strength_form,
            salt_factor: salt,
            assay_percent: assay,
            per_unit_weighed: per_unit,
            schedule: active.schedule,
        }),
        aliquot: None,
        steps,
    })
}

/// Granularity the aliquot portion is rounded up to: a round figure is easier to weigh and
/// check. With the usual 120 mg MWQ this gives the textbook 125 mg portion.
const PORTION_STEP_MG: i64 = 25;

/// Plans an aliquot for `amount` grams below the minimum weighable quantity `mwq`.
///
/// k = ceil(mwq / amount), so k × amount reaches the MWQ; the weighing is k × amount rounded
/// to the balance (raising k by one if rounding fell below the MWQ). The portion taken is the
/// MWQ rounded up to 25 mg; the mixture is k portions, so one portion delivers weighed ÷ k,
/// which differs from the amount by at most half the readability ÷ k (reported, never hidden).
pub fn aliquot(amount: Decimal, mwq: Decimal, readability: Decimal) -> Result<Aliquot> {
    if amount <= Decimal::ZERO {
        return Err(Error::calc("an aliquot needs an amount greater than zero"));
    }
    // The tolerance keeps a quotient's last digit (36.000…0004) from costing a whole extra
    // multiple; the check below still guarantees the weighing reaches the MWQ.
    let mut k = (div(mwq, amount, "the aliquot")? - Decimal::new(1, 9))
        .ceil()
        .max(Decimal::ONE);
    let mut weigh = round_to(mul(k, amount, "the aliquot")?, readability)
        .ok_or_else(|| overflow("the aliquot"))?;
    if weigh < mwq {
        k += Decimal::ONE;
        weigh = round_to(mul(k, amount, "the aliquot")?, readability)
            .ok_or_else(|| overflow("the aliquot"))?;
    }
    let multiple: u32 = k.try_into().map_err(|_| overflow("the aliquot"))?;
    let step = Decimal::new(PORTION_STEP_MG, 3);
    let portion = mul(div(mwq, step, "the aliquot")?.ceil(), step, "the aliquot")?;
    let total = mul(k, portion, "the aliquot")?;
    let delivers = div(weigh, k, "the aliquot")?;
    Ok(Aliquot {
        multiple,
        weigh,
        diluent: total - weigh,
        total,
        portion,
        delivers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook aliquot: 2 mg needed, weigh 120 mg, make 7500 mg with 7380 mg lactose, take
    /// 125 mg.
    #[test]
    fn classic_aliquot() {
        let a = aliquot(Decimal::new(2, 3), Decimal::new(120, 3), Decimal::new(1, 3)).unwrap();
        assert_eq!(a.multiple, 60);
        assert_eq!(a.weigh, Decimal::new(120, 3));
        assert_eq!(a.total, Decimal::new(7500, 3));
        assert_eq!(a.diluent, Decimal::new(7380, 3));
        assert_eq!(a.portion, Decimal::new(125, 3));
        assert_eq!(a.delivers, Decimal::new(2, 3));
    }

    #[test]
    fn aliquot_of_an_unweighable_quotient_reports_what_it_delivers() {
        let amount = quantity::div(Decimal::new(1, 2), Decimal::from(3)).unwrap(); // 3.333… mg
        let a = aliquot(amount, Decimal::new(120, 3), Decimal::new(1, 3)).unwrap();
        assert_eq!(a.multiple, 36);
        assert_eq!(a.weigh, Decimal::new(120, 3));
        assert!((a.delivers - amount).abs() <= Decimal::new(5, 4) / Decimal::from(36));
        assert_eq!(a.weigh.scale(), 3);
    }

    #[test]
    fn mwq_is_sensitivity_over_error() {
        let b = Balance::default();
        assert_eq!(b.mwq().unwrap(), Decimal::new(120, 3));
        let b = Balance {
            acceptable_error_percent: Decimal::ONE,
            ..Balance::default()
        };
        assert_eq!(b.mwq().unwrap(), Decimal::new(600, 3));
    }
}
