//! The master formulation record: what a preparation is made of, read from TOML.
//!
//! Loading is two steps. The file is read into raw structs that keep each value's place in the
//! source ([`crate::source`], which also reports every key that is unknown, missing or of the
//! wrong kind). Validation then turns the raw structs into the domain types below and collects
//! every problem rather than stopping at the first, so `troche check` can list them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use crate::bud::BudCategory;
use crate::error::{Error, Result};
use crate::order::Basis;
use crate::quantity::{self, Dimension, Quantity};
use crate::source::{Field, Kind, Num, Source, opt, req};
// The input layer's helpers, where the loaders of other formats have long imported them.
pub(crate) use crate::source::{count_newlines, is_empty_toml, strip_bom};

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
    fn parse(text: &str) -> Option<Schedule> {
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

#[derive(Debug, Clone)]
pub struct Mold {
    pub name: String,
    pub cavities: u32,
    /// Average weight of one unit of plain base from this mold, in grams.
    pub blank_weight: Decimal,
    /// How the blank weight was derived from a published formula, when it was not measured.
    pub derived: Option<DerivedBlank>,
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
    /// How prescriptions write this active's strength, when the formula says: an order that
    /// states no basis takes it. An active with a distinct moiety and no `label_basis` needs
    /// the basis on every order.
    pub label_basis: Option<Basis>,
    /// Accepted as-is assay, in percent (low, high).
    pub assay_range: (Decimal, Decimal),
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

/// One master formulation record.
#[derive(Debug, Clone)]
pub struct Formula {
    pub id: String,
    pub name: String,
    pub dosage_form: String,
    pub route: String,
    pub version: u32,
    pub description: String,
    pub mold: Mold,
    pub base: Base,
    pub actives: Vec<Active>,
    pub excipients: Vec<Excipient>,
    pub bud: BudRule,
    pub label: LabelText,
    pub procedure: Procedure,
    /// Accepted deviation of each unit's weight from the theoretical, in percent.
    pub weight_tolerance_percent: Decimal,
    /// The aliquot diluent the formula names; `None` takes the pharmacy's or the default.
    pub diluent: Option<Diluent>,
    /// Where the formula was read from: a path, or "library:ID" for an embedded one.
    pub origin: String,
    /// The text this formula was parsed from: the log stores it, so what is stored is by
    /// construction what was calculated.
    pub text: SourceText,
}

/// The exact text of a formula file as read (a byte-order mark included) and its SHA-256.
/// Shared, not copied, by the clones of a formula a batch makes.
#[derive(Clone)]
pub struct SourceText {
    text: Arc<str>,
    sha256: String,
}

impl SourceText {
    pub fn new(text: &str) -> SourceText {
        use sha2::Digest as _;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = sha2::Sha256::digest(text.as_bytes());
        let mut sha256 = String::with_capacity(64);
        for b in digest {
            sha256.push(char::from(HEX[usize::from(b >> 4)]));
            sha256.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        SourceText {
            text: text.into(),
            sha256,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The SHA-256 of the text's UTF-8 bytes, in lowercase hexadecimal.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The text is long and says nothing its hash does not identify.
impl fmt::Debug for SourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceText(sha256 {})", self.sha256)
    }
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
/// ignoring case.
pub fn name_matches(full: &str, given: &str) -> bool {
    let given = given.trim();
    let short = short_name(full);
    given.eq_ignore_ascii_case(full.trim())
        || (!short.is_empty() && given.eq_ignore_ascii_case(short))
}

// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormula {
    id: Spanned<String>,
    name: Spanned<String>,
    dosage_form: Spanned<String>,
    route: Spanned<String>,
    version: Num,
    description: Spanned<String>,
    mold: RawMold,
    base: RawBase,
    #[serde(default)]
    active: Vec<Spanned<RawActive>>,
    #[serde(default)]
    excipient: Vec<Spanned<RawExcipient>>,
    bud: RawBud,
    label: RawLabel,
    procedure: RawProcedure,
    qc: Option<RawQc>,
    aliquot: Option<RawAliquot>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAliquot {
    diluent: Spanned<String>,
    replacement_factor: Option<Num>,
    density_factor: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDerived {
    from: Spanned<String>,
    units: Num,
    base: Num,
    #[serde(default)]
    ingredient: Vec<Spanned<RawDerivedIngredient>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDerivedIngredient {
    name: Spanned<String>,
    amount: Num,
    density: Option<Num>,
    replacement_factor: Option<Num>,
    density_factor: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseComponent {
    name: Spanned<String>,
    percent: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMold {
    name: Spanned<String>,
    cavities: Num,
    blank_weight: Num,
    derived: Option<RawDerived>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBase {
    name: Spanned<String>,
    replacement_factor: Option<Num>,
    density_factor: Option<Num>,
    #[serde(default)]
    component: Vec<Spanned<RawBaseComponent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActive {
    name: Spanned<String>,
    mw: Num,
    moiety: Option<Spanned<String>>,
    moiety_mw: Option<Num>,
    schedule: Option<Spanned<String>>,
    max_strength: Option<Num>,
    default_strength: Option<Num>,
    replacement_factor: Option<Num>,
    density_factor: Option<Num>,
    label_basis: Option<Spanned<String>>,
    assay_min: Option<Num>,
    assay_max: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExcipient {
    name: Spanned<String>,
    per_unit: Option<Num>,
    percent_of_blank: Option<Num>,
    density: Option<Num>,
    replacement_factor: Option<Num>,
    density_factor: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBud {
    category: Spanned<String>,
    storage: Spanned<String>,
    days: Option<Num>,
    reference: Option<Spanned<String>>,
    container: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabel {
    directions: Spanned<String>,
    #[serde(default)]
    warnings: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcedure {
    #[serde(default)]
    equipment: Vec<Spanned<String>>,
    #[serde(default)]
    steps: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQc {
    weight_tolerance_percent: Option<Num>,
}

// ---------------------------------------------------------------------------------------------
/// The keys of a formula file, checked before it is read (see [`crate::source`]); the
/// same keys as the raw structs below (a test holds them together).
const DISPLACEMENT: [Field; 2] = [
    opt("replacement_factor", Kind::Num),
    opt("density_factor", Kind::Num),
];
const DERIVED_INGREDIENT_KEYS: &[Field] = &[
    req("name", Kind::Text),
    req("amount", Kind::Num),
    opt("density", Kind::Num),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
];
const DERIVED_KEYS: &[Field] = &[
    req("from", Kind::Text),
    req("units", Kind::Num),
    req("base", Kind::Num),
    opt("ingredient", Kind::Tables(DERIVED_INGREDIENT_KEYS)),
];
const MOLD_KEYS: &[Field] = &[
    req("name", Kind::Text),
    req("cavities", Kind::Num),
    req("blank_weight", Kind::Num),
    opt("derived", Kind::Table(DERIVED_KEYS)),
];
const BASE_KEYS: &[Field] = &[
    req("name", Kind::Text),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
    opt(
        "component",
        Kind::Tables(&[req("name", Kind::Text), req("percent", Kind::Num)]),
    ),
];
const ACTIVE_KEYS: &[Field] = &[
    req("name", Kind::Text),
    req("mw", Kind::Num),
    opt("moiety", Kind::Text),
    opt("moiety_mw", Kind::Num),
    opt("schedule", Kind::Text),
    opt("max_strength", Kind::Num),
    opt("default_strength", Kind::Num),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
    opt("label_basis", Kind::Text),
    opt("assay_min", Kind::Num),
    opt("assay_max", Kind::Num),
];
const EXCIPIENT_KEYS: &[Field] = &[
    req("name", Kind::Text),
    opt("per_unit", Kind::Num),
    opt("percent_of_blank", Kind::Num),
    opt("density", Kind::Num),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
];
const BUD_KEYS: &[Field] = &[
    req("category", Kind::Text),
    req("storage", Kind::Text),
    opt("days", Kind::Num),
    opt("reference", Kind::Text),
    opt("container", Kind::Text),
];
const LABEL_KEYS: &[Field] = &[
    req("directions", Kind::Text),
    opt("warnings", Kind::TextList),
];
const PROCEDURE_KEYS: &[Field] = &[
    opt("equipment", Kind::TextList),
    opt("steps", Kind::TextList),
];
const ALIQUOT_KEYS: &[Field] = &[req("diluent", Kind::Text), DISPLACEMENT[0], DISPLACEMENT[1]];
pub(crate) const KEYS: &[Field] = &[
    req("id", Kind::Text),
    req("name", Kind::Text),
    req("dosage_form", Kind::Text),
    req("route", Kind::Text),
    req("version", Kind::Num),
    req("description", Kind::Text),
    req("mold", Kind::Table(MOLD_KEYS)),
    req("base", Kind::Table(BASE_KEYS)),
    opt("active", Kind::Tables(ACTIVE_KEYS)),
    opt("excipient", Kind::Tables(EXCIPIENT_KEYS)),
    req("bud", Kind::Table(BUD_KEYS)),
    req("label", Kind::Table(LABEL_KEYS)),
    req("procedure", Kind::Table(PROCEDURE_KEYS)),
    opt(
        "qc",
        Kind::Table(&[opt("weight_tolerance_percent", Kind::Num)]),
    ),
    opt("aliquot", Kind::Table(ALIQUOT_KEYS)),
];

/// Reads the pair of displacement keys; stating both is refused.
fn displacement(
    src: &mut Source,
    replacement: Option<&Num>,
    density: Option<&Num>,
    key: &str,
) -> Option<Displacement> {
    match (replacement, density) {
        (Some(r), Some(d)) => {
            src.push(
                Some(d.span()),
                key,
                "both replacement_factor and density_factor are given; they are reciprocal \
                 conventions, state only one",
            );
            let _ = r;
            None
        }
        (Some(r), None) => src
            .positive(r, &format!("{key}.replacement_factor"))
            .map(Displacement::Replacement),
        (None, Some(d)) => src
            .positive(d, &format!("{key}.density_factor"))
            .map(Displacement::Density),
        (None, None) => None,
    }
}

/// Checks each of the formula's key lists against its raw struct (see `source`'s tests).
#[cfg(test)]
pub(crate) fn check_key_lists(table: impl Fn(&'static [Field], &str) -> &'static [Field]) {
    use crate::source::serde_fields;
    let names = |f: &[Field]| f.iter().map(|f| f.name).collect::<Vec<_>>();
    let mold = table(KEYS, "mold");
    let base = table(KEYS, "base");
    let derived = table(mold, "derived");
    for (fields, serde) in [
        (KEYS, serde_fields::<RawFormula>()),
        (mold, serde_fields::<RawMold>()),
        (derived, serde_fields::<RawDerived>()),
        (
            table(derived, "ingredient"),
            serde_fields::<RawDerivedIngredient>(),
        ),
        (base, serde_fields::<RawBase>()),
        (table(base, "component"), serde_fields::<RawBaseComponent>()),
        (table(KEYS, "active"), serde_fields::<RawActive>()),
        (table(KEYS, "excipient"), serde_fields::<RawExcipient>()),
        (table(KEYS, "bud"), serde_fields::<RawBud>()),
        (table(KEYS, "label"), serde_fields::<RawLabel>()),
        (table(KEYS, "procedure"), serde_fields::<RawProcedure>()),
        (table(KEYS, "qc"), serde_fields::<RawQc>()),
        (table(KEYS, "aliquot"), serde_fields::<RawAliquot>()),
    ] {
        assert_eq!(names(fields), serde);
    }
}

/// Parses and validates a formula. `file` names the source in messages.
pub fn parse(text: &str, file: &str) -> Result<Formula> {
    let source = SourceText::new(text);
    let text = strip_bom(text);
    if is_empty_toml(text) {
        return Err(Error::Input {
            file: file.to_string(),
            line: None,
            key: None,
            message: "holds no formula: the file is empty or has only comments. A formula needs \
                      id, name, dosage_form, route, version, description and the tables [mold], \
                      [base], [[active]], [bud], [label] and [procedure] \
                      (see docs/formula-format.md)"
                .into(),
        });
    }
    let mut src = Source::new(text, file);
    let formula = src
        .read::<RawFormula>(KEYS)?
        .and_then(|raw| validate(&mut src, &raw, source));
    src.finish()?;
    formula.ok_or_else(|| Error::calc("formula invalid"))
}

fn validate(src: &mut Source, raw: &RawFormula, text: SourceText) -> Option<Formula> {
    let id = src.text(&raw.id, "id");
    if !id.is_empty()
        && !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        src.push(
            Some(raw.id.span()),
            "id",
            "may hold only lowercase letters, digits and hyphens",
        );
    }
    let name = src.text(&raw.name, "name");
    let dosage_form = src.text(&raw.dosage_form, "dosage_form");
    let route = src.text(&raw.route, "route");
    let version = src.count(&raw.version, "version", 1, 1_000_000);
    let description = src.text(&raw.description, "description");

    let mold_name = src.text(&raw.mold.name, "mold.name");
    let cavities = src.count(&raw.mold.cavities, "mold.cavities", 1, 100_000);
    let blank = src.mass(&raw.mold.blank_weight, "mold.blank_weight");
    let derived = raw
        .mold
        .derived
        .as_ref()
        .and_then(|d| derived_blank(src, d, blank.map(|b| b.in_base())));

    let base = Base {
        name: src.text(&raw.base.name, "base.name"),
        default_displacement: displacement(
            src,
            raw.base.replacement_factor.as_ref(),
            raw.base.density_factor.as_ref(),
            "base",
        ),
        components: base_components(src, &raw.base.component),
    };
    let diluent = raw.aliquot.as_ref().map(|a| Diluent {
        name: src.text(&a.diluent, "aliquot.diluent"),
        displacement: displacement(
            src,
            a.replacement_factor.as_ref(),
            a.density_factor.as_ref(),
            "aliquot",
        ),
    });

    let mut names = BTreeSet::new();
    let mut check_name = |src: &mut Source, name: &Spanned<String>, key: &str| {
        let n = src.text(name, key);
        if !n.is_empty() && !names.insert(n.to_lowercase()) {
            src.push(
                Some(name.span()),
                key,
                format!("\"{n}\" appears twice; every ingredient needs its own name"),
            );
        }
        n
    };
    if raw.active.is_empty() {
        src.push(
            None,
            "active",
            "a formula needs at least one [[active]] ingredient",
        );
    }
    let mut actives = Vec::new();
    for (i, a) in raw.active.iter().enumerate() {
        let a = a.get_ref();
        let key = format!("active[{}]", i + 1);
        let name = check_name(src, &a.name, &format!("{key}.name"));
        let mw = src.positive(&a.mw, &format!("{key}.mw"));
        let moiety = match (&a.moiety, &a.moiety_mw) {
            (Some(m), Some(mmw)) => {
                let mname = src.text(m, &format!("{key}.moiety"));
                src.positive(mmw, &format!("{key}.moiety_mw"))
                    .map(|mw| Moiety { name: mname, mw })
            }
            (Some(m), None) => {
                src.push(
                    Some(m.span()),
                    &format!("{key}.moiety"),
                    "needs moiety_mw (the molecular weight of the moiety)",
                );
                None
            }
            (None, Some(mmw)) => {
                src.push(
                    Some(mmw.span()),
                    &format!("{key}.moiety_mw"),
                    "needs moiety (the name of the form)",
                );
                None
            }
            (None, None) => None,
        };
        if let (Some(mw), Some(m)) = (mw, &moiety)
            && m.mw > mw
        {
            src.push(
                Some(a.mw.span()),
                &format!("{key}.mw"),
                format!(
                    "the weighed form's mw ({}) is smaller than the moiety's ({}); a salt or hydrate is heavier than its moiety",
                    mw, m.mw
                ),
            );
        }
        let schedule = a.schedule.as_ref().and_then(|s| {
            let parsed = Schedule::parse(s.get_ref());
            if parsed.is_none() {
                src.push(
                    Some(s.span()),
                    &format!("{key}.schedule"),
                    format!(
                        "unknown schedule {}; allowed: CII, CIII, CIV, CV (or C2 to C5); leave \
                         schedule out for a drug that is not controlled",
                        quantity::echo(s.get_ref())
                    ),
                );
            }
            parsed
        });
        let max_strength = a
            .max_strength
            .as_ref()
            .and_then(|n| src.mass(n, &format!("{key}.max_strength")));
        let default_strength = a
            .default_strength
            .as_ref()
            .and_then(|n| src.mass(n, &format!("{key}.default_strength")));
        if let (Some(max), Some(def)) = (max_strength, default_strength)
            && def.in_base() > max.in_base()
        {
            src.push(
                a.default_strength.as_ref().map(Spanned::span),
                &format!("{key}.default_strength"),
                format!("{def} is above max_strength {max}"),
            );
        }
        let displacement = displacement(
            src,
            a.replacement_factor.as_ref(),
            a.density_factor.as_ref(),
            &key,
        );
        let label_basis = a.label_basis.as_ref().and_then(|b| {
            let k = format!("{key}.label_basis");
            match Basis::parse(b.get_ref()) {
                Ok(basis) if basis == Basis::Moiety && moiety.is_none() => {
                    src.push(
                        Some(b.span()),
                        &k,
                        "is \"moiety\" but the active names no moiety; add moiety and moiety_mw, \
                         or write label_basis = \"salt\"",
                    );
                    None
                }
                Ok(basis) => Some(basis),
                Err(e) => {
                    src.push(Some(b.span()), &k, e.0);
                    None
                }
            }
        });
        let assay_range = assay_range(src, a, &key);
        actives.push(Active {
            name,
            mw: mw.unwrap_or(Decimal::ONE),
            moiety,
            schedule,
            max_strength,
            default_strength,
            displacement,
            label_basis,
            assay_range,
        });
    }

    let mut excipients = Vec::new();
    for (i, e) in raw.excipient.iter().enumerate() {
        let e = e.get_ref();
        let key = format!("excipient[{}]", i + 1);
        let name = check_name(src, &e.name, &format!("{key}.name"));
        let amount = match (&e.per_unit, &e.percent_of_blank) {
            (Some(q), None) => src
                .quantity(q, &format!("{key}.per_unit"))
                .map(ExcipientAmount::PerUnit),
            (None, Some(p)) => {
                let p = src.positive(p, &format!("{key}.percent_of_blank"));
                if let Some(v) = p
                    && v >= Decimal::ONE_HUNDRED
                {
                    let span = e.percent_of_blank.as_ref().map(Spanned::span);
                    src.push(span, &format!("{key}.percent_of_blank"), format!("{v} % of the blank weight leaves no room for base; it must be below 100"));
                }
                p.map(ExcipientAmount::PercentOfBlank)
            }
            (Some(_), Some(p)) => {
                src.push(
                    Some(p.span()),
                    &key,
                    "give either per_unit or percent_of_blank, not both",
                );
                None
            }
            (None, None) => {
                src.push(
                    Some(e.name.span()),
                    &key,
                    "needs per_unit (e.g. \"10 mg\") or percent_of_blank (e.g. \"1\")",
                );
                None
            }
        };
        let density = e.density.as_ref().and_then(|d| {
            let text = src.num_text(d);
            match quantity::parse_density(&text) {
                Ok(v) => Some(v),
                Err(err) => {
                    src.push(Some(d.span()), &format!("{key}.density"), err.0);
                    None
                }
            }
        });
        if let Some(ExcipientAmount::PerUnit(q)) = &amount
            && q.dimension() == Dimension::Volume
            && density.is_none()
            && e.density.is_none()
        {
            let span = e.per_unit.as_ref().map(Spanned::span);
            src.push(
                span,
                &format!("{key}.per_unit"),
                format!("{q} is a volume; add density = \"... g/mL\" so its weight can be counted"),
            );
        }
        if let (Some(d), Some(q)) = (&e.density, &amount) {
            let is_volume =
                matches!(q, ExcipientAmount::PerUnit(q) if q.dimension() == Dimension::Volume);
            if !is_volume {
                src.push(Some(d.span()), &format!("{key}.density"), "a density is only used for an amount given as a volume (mL); remove it, or give per_unit in mL");
            }
        }
        let displacement = displacement(
            src,
            e.replacement_factor.as_ref(),
            e.density_factor.as_ref(),
            &key,
        );
        if let Some(amount) = amount {
            excipients.push(Excipient {
                name,
                amount,
                density,
                displacement,
            });
        }
    }

    let category = BudCategory::parse(raw.bud.category.get_ref());
    if category.is_none() {
        src.push(
            Some(raw.bud.category.span()),
            "bud.category",
            format!(
                "unknown category {}; allowed: {} (PEG and fat-based troches, lozenges and \
                 suppositories are nonaqueous)",
                quantity::echo(raw.bud.category.get_ref()),
                BudCategory::ALLOWED
            ),
        );
    }
    let storage = src.text(&raw.bud.storage, "bud.storage");
    let days = match (&raw.bud.days, category) {
        (Some(d), Some(c)) => match src.whole(d, "bud.days") {
            Some(v) if v > i64::from(c.max_days()) => {
                src.push(
                    Some(d.span()),
                    "bud.days",
                    format!(
                        "{v} days is longer than USP <795> allows for the \"{}\" category ({} \
                         days); a formula may only shorten it",
                        c.key(),
                        c.max_days()
                    ),
                );
                None
            }
            Some(_) => src.count(d, "bud.days", 1, i64::from(c.max_days())),
            None => None,
        },
        (None, Some(c)) => Some(c.max_days()),
        _ => None,
    };
    let reference = raw.bud.reference.as_ref().map_or_else(
        || {
            category
                .map(|c| c.reference().to_string())
                .unwrap_or_default()
        },
        |r| src.text(r, "bud.reference"),
    );
    let container = raw
        .bud
        .container
        .as_ref()
        .map(|c| src.text(c, "bud.container"));

    let directions = src.text(&raw.label.directions, "label.directions");
    let warnings = raw
        .label
        .warnings
        .iter()
        .map(|w| src.text(w, "label.warnings"))
        .collect();
    let equipment = raw
        .procedure
        .equipment
        .iter()
        .map(|w| src.text(w, "procedure.equipment"))
        .collect();
    let steps = raw
        .procedure
        .steps
        .iter()
        .map(|w| src.text(w, "procedure.steps"))
        .collect();
    let tolerance = match raw
        .qc
        .as_ref()
        .and_then(|q| q.weight_tolerance_percent.as_ref())
    {
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
    };

    Some(Formula {
        id,
        name,
        dosage_form,
        route,
        version: version?,
        description,
        mold: Mold {
            name: mold_name,
            cavities: cavities?,
            blank_weight: blank?.in_base(),
            derived,
        },
        base,
        actives,
        excipients,
        bud: BudRule {
            category: category?,
            storage,
            days: days?,
            reference,
            container,
        },
        label: LabelText {
            directions,
            warnings,
        },
        procedure: Procedure { equipment, steps },
        weight_tolerance_percent: tolerance?,
        diluent,
        origin: src.file.to_string(),
        text,
    })
}

/// The accepted assay range of an active: `assay_min` and `assay_max`, each defaulting to
/// [`DEFAULT_ASSAY_RANGE`]. A range must contain 100 % and stay within 50 to 200 %: beyond
/// that no drug substance is sold, and a wider window stops catching typed-in errors.
fn assay_range(src: &mut Source, a: &RawActive, key: &str) -> (Decimal, Decimal) {
    let (dlow, dhigh) = DEFAULT_ASSAY_RANGE;
    let low = a
        .assay_min
        .as_ref()
        .and_then(|n| {
            let k = format!("{key}.assay_min");
            let v = src.positive(n, &k)?;
            if v < Decimal::from(50) || v > Decimal::ONE_HUNDRED {
                src.push(
                    Some(n.span()),
                    &k,
                    format!(
                        "{v} % is not allowed; the lowest accepted assay must be from 50 to 100 %"
                    ),
                );
                return None;
            }
            Some(v)
        })
        .unwrap_or(dlow);
    let high = a
        .assay_max
        .as_ref()
        .and_then(|n| {
            let k = format!("{key}.assay_max");
            let v = src.positive(n, &k)?;
            if v < Decimal::ONE_HUNDRED || v > Decimal::from(200) {
                src.push(
                    Some(n.span()),
                    &k,
                    format!(
                        "{v} % is not allowed; the highest accepted assay must be from 100 to 200 %"
                    ),
                );
                return None;
            }
            Some(v)
        })
        .unwrap_or(dhigh);
    (low, high)
}

fn base_components(src: &mut Source, raw: &[Spanned<RawBaseComponent>]) -> Vec<BaseComponent> {
    let mut out = Vec::new();
    let mut sum = Decimal::ZERO;
    for (i, c) in raw.iter().enumerate() {
        let key = format!("base.component[{}]", i + 1);
        let name = src.text(&c.get_ref().name, &format!("{key}.name"));
        if let Some(p) = src.positive(&c.get_ref().percent, &format!("{key}.percent")) {
            sum = sum.checked_add(p).unwrap_or(Decimal::MAX);
            out.push(BaseComponent { name, percent: p });
        }
    }
    if raw.len() == 1 {
        src.push(
            Some(raw[0].span()),
            "base.component",
            "a base of one component is the base itself; name it in [base] and drop \
             [[base.component]], or list every component",
        );
    } else if !raw.is_empty() && out.len() == raw.len() && sum != Decimal::ONE_HUNDRED {
        src.push(
            Some(raw[0].span()),
            "base.component",
            format!(
                "the components' percents add up to {} %; they are proportions of the base by \
                 mass and must add up to exactly 100",
                sum.normalize()
            ),
        );
    }
    out
}

fn derived_blank(src: &mut Source, d: &RawDerived, blank: Option<Decimal>) -> Option<DerivedBlank> {
    let from = src.text(&d.from, "mold.derived.from");
    let units = src.count(&d.units, "mold.derived.units", 1, 100_000);
    let base = src.mass(&d.base, "mold.derived.base").map(|q| q.in_base());
    let mut ingredients = Vec::new();
    for (i, ing) in d.ingredient.iter().enumerate() {
        let key = format!("mold.derived.ingredient[{}]", i + 1);
        let r = ing.get_ref();
        let name = src.text(&r.name, &format!("{key}.name"));
        let amount = src.quantity(&r.amount, &format!("{key}.amount"));
        let density = r.density.as_ref().and_then(|n| {
            let text = src.num_text(n);
            match quantity::parse_density(&text) {
                Ok(v) => Some(v),
                Err(err) => {
                    src.push(Some(n.span()), &format!("{key}.density"), err.0);
                    None
                }
            }
        });
        if let Some(q) = amount
            && q.dimension() == Dimension::Volume
            && r.density.is_none()
        {
            src.push(
                Some(r.amount.span()),
                &format!("{key}.amount"),
                format!("{q} is a volume; add density = \"... g/mL\""),
            );
        }
        let displacement = displacement(
            src,
            r.replacement_factor.as_ref(),
            r.density_factor.as_ref(),
            &key,
        );
        if displacement.is_none() && r.replacement_factor.is_none() && r.density_factor.is_none() {
            src.push(
                Some(r.name.span()),
                &key,
                "needs replacement_factor or density_factor: what it displaces is the point of \
                 the derivation",
            );
        }
        if let (Some(amount), Some(displacement)) = (amount, displacement) {
            ingredients.push(DerivedIngredient {
                name,
                amount,
                density,
                displacement,
            });
        }
    }
    let derived = DerivedBlank {
        from,
        units: units?,
        base: base?,
        ingredients,
    };
    // The stated blank must agree with the derivation to 1 %, or the file says two things.
    if let (Some(b), Some(implied)) = (blank, derived.blank_weight()) {
        let off = (b - implied).abs() * Decimal::ONE_HUNDRED;
        if off > implied {
            src.push(
                Some(d.base.span()),
                "mold.derived",
                format!(
                    "implies a plain-base blank of {} g ((base + displaced) ÷ units), but \
                     blank_weight is {} g; they must agree within 1 %",
                    quantity::show(implied),
                    b.normalize()
                ),
            );
        }
    }
    Some(derived)
}
