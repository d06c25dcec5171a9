//! The master formulation record as the program uses it, once read and validated.

use rust_decimal::Decimal;

use crate::bud::BudCategory;
use crate::order::Basis;
use crate::quantity::{self, Dimension, Quantity};
pub use crate::stock::potency::Basis as AssayBasis;

use super::SourceText;

/// How an ingredient's mass is converted into the mass of base it pushes out of the mold.
///
/// The two conventions are reciprocal and are named by the same loose word ("factor") in the
/// literature, so a formula must say which one it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Displacement {
    /// Grams of base displaced by 1 g of ingredient (troche-base suppliers): displaced = m × f.
    Replacement(Decimal),
    /// Grams of ingredient that displace 1 g of base (suppository tables): displaced = m ÷ DF.
    Density(Decimal),
}

impl Displacement {
    /// The mass of base displaced by `mass` grams of this ingredient.
    pub fn displaced(self, mass: Decimal) -> Option<Decimal> {
        match self {
            Displacement::Replacement(f) => mass.checked_mul(f),
            Displacement::Density(df) => quantity::div(mass, df),
        }
    }

    /// A short description for a worksheet step, e.g. "× 0.7 (replacement factor)".
    pub fn describe(self) -> String {
        match self {
            Displacement::Replacement(f) => format!("× {} (replacement factor)", f.normalize()),
            Displacement::Density(df) => format!("÷ {} (density factor)", df.normalize()),
        }
    }
}

/// DEA controlled-substance schedule of an active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Schedule {
    CII,
    CIII,
    CIV,
    CV,
}

impl Schedule {
    pub fn parse(text: &str) -> Option<Schedule> {
        let t: String = text
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect();
        // "C3" can only mean CIII: arabic numerals are read as the roman ones.
        Some(match t.to_ascii_uppercase().as_str() {
            "CII" | "C2" => Schedule::CII,
            "CIII" | "C3" => Schedule::CIII,
            "CIV" | "C4" => Schedule::CIV,
            "CV" | "C5" => Schedule::CV,
            _ => return None,
        })
    }

    /// Schedules II–IV carry the federal transfer warning (21 CFR 290.5).
    pub fn needs_transfer_warning(self) -> bool {
        matches!(self, Schedule::CII | Schedule::CIII | Schedule::CIV)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::CII => "CII",
            Schedule::CIII => "CIII",
            Schedule::CIV => "CIV",
            Schedule::CV => "CV",
        }
    }
}

/// A number the formula states without having measured it: the worksheet prints it as what it
/// is, with the step that measures it and a box for the value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmeasured {
    /// The maker's stated capacity or unit weight of a mold, not a calibration.
    Nominal,
    /// Worked out from densities, a general rule or a similar preparation.
    Estimated,
}

impl Unmeasured {
    pub fn as_str(self) -> &'static str {
        match self {
            Unmeasured::Nominal => "nominal",
            Unmeasured::Estimated => "estimated",
        }
    }
}

/// What an unmeasured number is and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    pub is: Unmeasured,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Mold {
    pub name: String,
    pub cavities: u32,
    /// Average weight of one unit of plain base from this mold, in grams.
    pub blank_weight: Decimal,
    /// How the blank weight was derived from a published formula, when it was not measured.
    pub derived: Option<DerivedBlank>,
    /// A nominal or estimated blank weight; `None` when it is a calibration (or derived).
    pub blank_weight_is: Option<Stated>,
}

impl Mold {
    /// Whether the blank weight is a calibration with this mold and base: neither nominal,
    /// estimated nor derived from a published formula.
    pub fn is_calibrated(&self) -> bool {
        self.blank_weight_is.is_none() && self.derived.is_none()
    }
}

/// A blank weight derived from a supplier's or a journal's formula that already holds
/// excipients: the plain-base blank is (its base + what its other ingredients displace) ÷ its
/// units. Kept in the formula so the derivation can be shown and checked, since taking that
/// formula's base ÷ units as the blank counts the excipients' displacement twice.
#[derive(Debug, Clone)]
pub struct DerivedBlank {
    pub from: String,
    pub units: u32,
    /// The published formula's base, in grams, for `units` units.
    pub base: Decimal,
    pub ingredients: Vec<DerivedIngredient>,
}

#[derive(Debug, Clone)]
pub struct DerivedIngredient {
    pub name: String,
    /// As published: a mass, or a volume with its density.
    pub amount: Quantity,
    pub density: Option<Decimal>,
    pub displacement: Displacement,
}

impl DerivedIngredient {
    /// Mass in grams.
    pub fn mass(&self) -> Option<Decimal> {
        match self.amount.dimension() {
            Dimension::Mass => Some(self.amount.in_base()),
            Dimension::Volume => self.amount.in_base().checked_mul(self.density?),
        }
    }

    /// Grams of base it displaces.
    pub fn displaced(&self) -> Option<Decimal> {
        self.displacement.displaced(self.mass()?)
    }
}

impl DerivedBlank {
    /// Σ displaced by the published formula's own ingredients, in grams.
    pub fn displaced(&self) -> Option<Decimal> {
        self.ingredients
            .iter()
            .try_fold(Decimal::ZERO, |acc, i| acc.checked_add(i.displaced()?))
    }

    /// The plain-base blank the published formula implies: (base + displaced) ÷ units.
    pub fn blank_weight(&self) -> Option<Decimal> {
        quantity::div(
            self.base.checked_add(self.displaced()?)?,
            Decimal::from(self.units),
        )
    }
}

#[derive(Debug, Clone)]
pub struct Base {
    pub name: String,
    /// Applies to every ingredient that states no factor of its own.
    pub default_displacement: Option<Displacement>,
    /// An estimated default factor, and where it comes from.
    pub factor_is: Option<Stated>,
    /// A base mixed from several components in fixed proportions by mass (glycerinated
    /// gelatin), each weighed and recorded with its own lot; empty for a single substance.
    pub components: Vec<BaseComponent>,
}

#[derive(Debug, Clone)]
pub struct BaseComponent {
    pub name: String,
    pub percent: Decimal,
}

/// The inert powder an aliquot is diluted with.
#[derive(Debug, Clone)]
pub struct Diluent {
    pub name: String,
    /// How the portion's diluent displaces base; the base's default applies when `None`.
    pub displacement: Option<Displacement>,
}

/// Diluent of aliquots when neither the formula nor the pharmacy names one.
pub const DEFAULT_DILUENT: &str = "Lactose monohydrate, NF";

/// The as-is assay range accepted when a formula states none: the span of USP
/// drug-substance monographs (about 90 to 110 %). Outside it an entered assay is a typo until
/// the formula is changed to say otherwise.
pub const DEFAULT_ASSAY_RANGE: (Decimal, Decimal) = (
    Decimal::from_parts(90, 0, 0, false, 0),
    Decimal::from_parts(110, 0, 0, false, 0),
);

/// The form a strength may be written in when it is not the form weighed (e.g. ketamine base
/// for ketamine hydrochloride).
#[derive(Debug, Clone)]
pub struct Moiety {
    pub name: String,
    pub mw: Decimal,
}

#[derive(Debug, Clone)]
pub struct Active {
    pub name: String,
    /// Molecular weight of the form weighed, water of hydration included.
    pub mw: Decimal,
    pub moiety: Option<Moiety>,
    pub schedule: Option<Schedule>,
    /// Largest strength per unit, of the weighed form, that the formula allows.
    pub max_strength: Option<Quantity>,
    pub default_strength: Option<Quantity>,
    pub displacement: Option<Displacement>,
    /// An estimated factor, and where it comes from.
    pub factor_is: Option<Stated>,
    /// How prescriptions write this active's strength, when the formula says: an order that
    /// states no basis takes it. An active with a distinct moiety and no `label_basis` needs
    /// the basis on every order.
    pub label_basis: Option<Basis>,
    /// Accepted assay, in percent (low, high), on `assay_basis`.
    pub assay_range: (Decimal, Decimal),
    /// The basis the accepted range is on: the monograph's (as is unless the formula says
    /// dried or anhydrous). A certificate's assay is judged on it; the as-is potency is what
    /// corrects the amount weighed.
    pub assay_basis: AssayBasis,
    /// The strengths per unit usually prescribed (low, high), written as prescriptions write
    /// them: outside it a strength is a unit or decimal slip, or needs the prescriber's
    /// confirmation.
    pub usual_strength: Option<(Quantity, Quantity)>,
    /// The form weighed (anhydrous, hemihydrate, ...), which `mw` is of, when the formula
    /// states it: a stock lot of another form is refused unless `accepts_forms` allows it.
    pub form: Option<String>,
    /// Other forms a lot may be received in, each with its molecular weight: the amount is
    /// converted by it.
    pub accepts_forms: Vec<(String, Decimal)>,
}

impl Active {
    /// Whether a strength of this active can mean two different masses: it has a moiety
    /// lighter than the form weighed.
    pub fn has_distinct_moiety(&self) -> bool {
        self.moiety.as_ref().is_some_and(|m| m.mw != self.mw)
    }
}

#[derive(Debug, Clone)]
pub enum ExcipientAmount {
    /// A fixed amount per unit (mass, or volume with a density).
    PerUnit(Quantity),
    /// A percentage of the blank weight per unit.
    PercentOfBlank(Decimal),
}

#[derive(Debug, Clone)]
pub struct Excipient {
    pub name: String,
    pub amount: ExcipientAmount,
    /// g/mL; required for volumes.
    pub density: Option<Decimal>,
    pub displacement: Option<Displacement>,
    /// An estimated factor, and where it comes from.
    pub factor_is: Option<Stated>,
}

#[derive(Debug, Clone)]
pub struct BudRule {
    pub category: BudCategory,
    pub storage: String,
    /// Days from compounding; never more than the category allows.
    pub days: u32,
    pub reference: String,
    /// Container-closure the preparation is packaged in (part of the record and the BUD).
    pub container: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LabelText {
    pub directions: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Procedure {
    pub equipment: Vec<String>,
    pub steps: Vec<String>,
}

/// The limits a batch's bench record is judged by. They belong to the master formulation
/// record, not to the bench: a command may narrow them, never widen them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qc {
    /// How far an active's actual weight may be off its amount, in percent; `None` takes
    /// the default, 2 % or the balance's sensitivity as a percent of the amount, whichever
    /// is larger.
    pub active_weighing_percent: Option<Decimal>,
    /// How far an excipient's, the diluent's or the base's actual amount may be off, in
    /// percent.
    pub weighing_percent: Decimal,
    /// Units weighed one by one; `None` weighs every unit poured.
    pub unit_weight_sample: Option<u32>,
    /// Largest relative standard deviation of the unit weights, in percent.
    pub unit_weight_rsd_percent: Decimal,
    /// Smallest yield, units made ÷ units poured, in percent.
    pub minimum_yield_percent: Decimal,
}

impl Default for Qc {
    fn default() -> Self {
        Qc {
            active_weighing_percent: None,
            weighing_percent: Decimal::from(5),
            unit_weight_sample: None,
            unit_weight_rsd_percent: Decimal::from(5),
            minimum_yield_percent: Decimal::from(90),
        }
    }
}

/// What a formula makes: a preparation for a patient, or a stock trituration (a drug diluted
/// in an inert powder, entered in stock at its release and weighed by other batches in place
/// of the drug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormulaKind {
    #[default]
    Preparation,
    Trituration,
}

/// One master formulation record.
#[derive(Debug, Clone)]
pub struct Formula {
    pub id: String,
    pub name: String,
    pub dosage_form: String,
    pub route: String,
    pub version: u32,
    pub description: String,
    /// What changed from the previous version, for the master formulation record.
    pub change_note: Option<String>,
    pub kind: FormulaKind,
    /// The fixed ratio of the actives' strengths, in the order of the actives (Bi-Est 80:20).
    pub ratio: Option<Vec<Decimal>>,
    /// The units a prescription usually asks for; more of a controlled substance is warned of.
    pub usual_quantity: Option<u32>,
    pub mold: Mold,
    pub base: Base,
    pub actives: Vec<Active>,
    pub excipients: Vec<Excipient>,
    pub bud: BudRule,
    pub label: LabelText,
    pub procedure: Procedure,
    /// Accepted deviation of each unit's weight from the theoretical, in percent.
    pub weight_tolerance_percent: Decimal,
    /// The limits the filled-in record is judged by (`[qc]`).
    pub qc: Qc,
    /// The aliquot diluent the formula names; `None` takes the pharmacy's or the default.
    pub diluent: Option<Diluent>,
    /// Where the formula was read from: a path, or "library:ID" for an embedded one.
    pub origin: String,
    /// The text this formula was parsed from: the log stores it, so what is stored is by
    /// construction what was calculated.
    pub text: SourceText,
}

impl Formula {
    /// The formula with the pharmacy's aliquot diluent, unless the formula names its own.
    #[must_use]
    pub fn with_pharmacy_diluent(mut self, name: Option<&str>) -> Formula {
        if self.diluent.is_none()
            && let Some(name) = name
        {
            self.diluent = Some(Diluent {
                name: name.to_string(),
                displacement: None,
            });
        }
        self
    }

    /// The diluent aliquots of this formula use.
    pub fn diluent(&self) -> Diluent {
        self.diluent.clone().unwrap_or_else(|| Diluent {
            name: DEFAULT_DILUENT.to_string(),
            displacement: None,
        })
    }

    /// Any scheduled active makes the whole preparation a controlled substance.
    pub fn schedule(&self) -> Option<Schedule> {
        self.actives.iter().filter_map(|a| a.schedule).min()
    }
}

/// A name without its grade or form notes, up to the first comma or parenthesis: "Estriol"
/// for "Estriol, USP (micronized)", "Estradiol" for "Estradiol (anhydrous)". Orders may name
/// an ingredient so, and documents for the patient print it so.
pub fn short_name(name: &str) -> &str {
    name.split([',', '(']).next().unwrap_or("").trim()
}

/// Whether `given` names the ingredient `full`: the full name, or its [`short_name`],
/// compared as [`super::names::Names`] compares them (a formula's own placeholders; what a
/// command names goes through `Names`, which knows moieties and near misses too).
pub fn name_matches(full: &str, given: &str) -> bool {
    let given = super::names::key(given);
    let short = short_name(full);
    given == super::names::key(full) || (!short.is_empty() && given == super::names::key(short))
}
