//! What a calculation gives: every ingredient with its amounts and the steps that reached
//! them, the batch's totals, and where every gram of each active goes.

use rust_decimal::Decimal;

use crate::formula::{Displacement, Schedule, short_name};
use crate::order::Basis;
use crate::quantity::{Dimension, Quantity, round_to};

use super::Balance;

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
    pub(super) fn factor(self) -> Displacement {
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
    /// The stock trituration weighed in place of the drug, whose concentration is
    /// `assay_percent`.
    pub trituration: Option<String>,
    /// The same strength in the other form, per unit (name, grams), when the active has a
    /// distinct moiety: the moiety's equivalent of a salt strength, or the salt weighed for a
    /// moiety strength.
    pub equivalent: Option<(String, Decimal)>,
    /// Grams of the weighed form per unit (strength × salt factor × potency factor).
    pub per_unit_weighed: Decimal,
    pub schedule: Option<Schedule>,
}

/// Who reads a strength, which decides how it is written. Every document and report writes it
/// through [`ActiveDetail::strength_text`], so a change of wording is made once.
#[derive(Debug, Clone, Copy)]
pub enum StrengthStyle<'a> {
    /// The calculation for the pharmacist: the amount, the form's full name, per unit, and how
    /// the basis was decided: "50 mg Ketamine per unit (moiety basis, as ordered)".
    Calculation,
    /// A cell of a batch's summary: the amount and the form's full name,
    /// "50 mg Ketamine hydrochloride, USP".
    Summary,
    /// The worksheet and the label, for the patient: the short name first, per dosage form,
    /// with the same strength in the other form in the strength's unit: "Sildenafil 100 mg per
    /// troche (as sildenafil citrate 140.5 mg)", "Ketamine hydrochloride 50 mg per troche
    /// (= ketamine 43.35 mg)". The grade ("USP", "micronized") is for the bench.
    Document { dosage_form: &'a str },
}

impl ActiveDetail {
    /// The strength of this active, written for `style`'s reader.
    pub fn strength_text(&self, style: StrengthStyle<'_>) -> String {
        match style {
            StrengthStyle::Calculation => {
                let basis = match self.basis_source {
                    BasisSource::Only => String::new(),
                    BasisSource::Order => format!(" ({} basis, as ordered)", self.basis.as_str()),
                    BasisSource::Formula => format!(
                        " ({} basis, as the formula prescribes)",
                        self.basis.as_str()
                    ),
                };
                format!("{} {} per unit{basis}", self.strength, self.strength_form)
            }
            StrengthStyle::Summary => format!("{} {}", self.strength, self.strength_form),
            StrengthStyle::Document { dosage_form } => {
                let other = self.equivalent.as_ref().and_then(|(n, g)| {
                    let amount = self.strength.same_unit(*g)?;
                    let n = short_name(n).to_lowercase();
                    Some(match self.basis {
                        Basis::Moiety => format!(" (as {n} {amount})"),
                        Basis::Salt => format!(" (= {n} {amount})"),
                    })
                });
                format!(
                    "{} {} per {dosage_form}{}",
                    short_name(&self.strength_form),
                    self.strength,
                    other.unwrap_or_default()
                )
            }
        }
    }
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
    /// In the extra units poured beyond those dispensed (kept as retained samples or
    /// destroyed): in the units poured − in the units dispensed.
    pub in_extra: Decimal,
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

    /// The accepted unit weight range as the worksheet prints it, rounded to the balance:
    /// the limits every unit is judged by, so paper and program never disagree at the edge.
    pub fn accepted_range(&self) -> (Decimal, Decimal) {
        let r = self.balance.readability;
        (
            round_to(self.unit_weight_low, r).unwrap_or(self.unit_weight_low),
            round_to(self.unit_weight_high, r).unwrap_or(self.unit_weight_high),
        )
    }

    /// The base rows: one, or one per component.
    pub fn base_rows(&self) -> impl Iterator<Item = &Ingredient> {
        self.ingredients.iter().filter(|i| i.role == Role::Base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{Order, parse_strength};

    /// One strength, as each reader is given it.
    #[test]
    fn one_strength_is_written_for_each_reader() {
        let formula = crate::library::load("ketamine-hcl-troche").unwrap();
        let order = Order {
            quantity: 30,
            strengths: vec![parse_strength("50 mg").unwrap()],
            ..Order::default()
        };
        let calc = crate::calc::calculate(&formula, &order, &Balance::default()).unwrap();
        let a = calc.ingredients[0].active.as_ref().unwrap();
        assert_eq!(
            a.strength_text(StrengthStyle::Calculation),
            "50 mg Ketamine hydrochloride, USP per unit (salt basis, as the formula prescribes)"
        );
        assert_eq!(
            a.strength_text(StrengthStyle::Summary),
            "50 mg Ketamine hydrochloride, USP"
        );
        assert_eq!(
            a.strength_text(StrengthStyle::Document {
                dosage_form: "troche"
            }),
            "Ketamine hydrochloride 50 mg per troche (= ketamine 43.35 mg)"
        );
    }
}
