//! The master formulation record: what a preparation is made of, read from TOML.
//!
//! Loading is two steps. Serde reads the file into raw structs that keep each value's place in
//! the source (so numbers are re-read from their text, never through `f64`, and every message
//! can name its line). Validation then turns the raw structs into the domain types below and
//! collects every problem rather than stopping at the first, so `troche check` can list them.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use crate::bud::BudCategory;
use crate::error::{Error, Result};
use crate::order::Basis;
use crate::quantity::{self, Dimension, ParseError, Quantity};

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

/// Whether `given` names the ingredient `full`: the full name, or its short form (up to the
/// first comma or parenthesis: "Estriol" for "Estriol, USP (micronized)"), ignoring case.
pub fn name_matches(full: &str, given: &str) -> bool {
    let given = given.trim();
    let short = full.split([',', '(']).next().unwrap_or("").trim();
    given.eq_ignore_ascii_case(full.trim())
        || (!short.is_empty() && given.eq_ignore_ascii_case(short))
}

// ---------------------------------------------------------------------------------------------
// Raw file shape

/// A number as it appears in the file: a quoted string, or a bare TOML number whose exact text
/// is re-read from the source (its parsed value is thrown away, since it went through f64).
#[derive(Debug)]
pub(crate) enum RawNum {
    Text(String),
    Bare,
}

impl<'de> Deserialize<'de> for RawNum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawNum;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or an amount in quotes such as \"0.892 g\"")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Text(v.to_string()))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Bare)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Bare)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Bare)
            }
        }
        d.deserialize_any(V)
    }
}

type Num = Spanned<RawNum>;

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
// Source-located validation, shared with the order and recipe loaders.

/// Validation state for one source file: the text (to re-read numbers and find lines) and every
/// problem found so far.
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub errors: Vec<Error>,
    /// Lines of the file before `text` (a recipe entry is read on its own).
    line_offset: usize,
}

impl<'a> Source<'a> {
    pub(crate) fn new(text: &'a str, file: &'a str) -> Self {
        Source {
            text,
            file,
            errors: Vec::new(),
            line_offset: 0,
        }
    }

    /// A part of a file whose first line is line `offset + 1` of the file.
    pub(crate) fn part(text: &'a str, file: &'a str, offset: usize) -> Self {
        Source {
            line_offset: offset,
            ..Source::new(text, file)
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        count_newlines(&self.text.as_bytes()[..end]) + 1 + self.line_offset
    }

    pub(crate) fn error_at(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        msg: impl Into<String>,
    ) -> Error {
        Error::Input {
            file: self.file.to_string(),
            line: span.map(|s| self.line_of(s.start)),
            key: (!key.is_empty()).then(|| key.to_string()),
            message: msg.into(),
        }
    }

    pub(crate) fn push(
        &mut self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        msg: impl Into<String>,
    ) {
        let e = self.error_at(span, key, msg);
        self.errors.push(e);
    }

    /// Turns a TOML syntax or shape error into a located message with advice, in the words of
    /// the format documents (keys and tables, whole numbers, quoted text), never serde's.
    pub(crate) fn toml_error(&self, e: &toml::de::Error) -> Error {
        // The key path ("mold.cavities") is only in the error's display without its source.
        let mut plain = e.clone();
        plain.set_input(None);
        let path = plain.to_string().lines().find_map(|l| {
            l.strip_prefix("in `")
                .and_then(|k| k.strip_suffix('`'))
                .map(String::from)
        });
        let span = e.span();
        let at = span.as_ref().map_or(0, |s| s.start.min(self.text.len()));
        let at = if self.text.is_char_boundary(at) {
            at
        } else {
            0
        };
        let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        let line = &self.text[line_start..line_end];
        let spanned = span
            .as_ref()
            .and_then(|s| self.text.get(s.clone()))
            .unwrap_or("");
        let (key, message, whole_file) =
            explain_toml(e.message().trim(), path.as_deref(), spanned, line);
        let span = if whole_file || span.as_ref().is_some_and(|s| s.end == 0) {
            None
        } else {
            span
        };
        self.error_at(span, &key, message)
    }

    /// The text of a number field as typed: the string, or the source text of a bare number.
    pub(crate) fn num_text(&self, n: &Num) -> String {
        match n.get_ref() {
            RawNum::Text(t) => t.clone(),
            RawNum::Bare => self.text.get(n.span()).unwrap_or("").replace('_', ""),
        }
    }

    fn parsed<T>(
        &mut self,
        n: &Num,
        key: &str,
        f: impl Fn(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        match f(&self.num_text(n)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(Some(n.span()), key, e.0);
                None
            }
        }
    }

    /// A dimensionless number that must be positive (a factor, a molecular weight, a percent).
    pub(crate) fn positive(&mut self, n: &Num, key: &str) -> Option<Decimal> {
        self.parsed(n, key, |t| {
            let v = quantity::parse_decimal(t)?;
            if v <= Decimal::ZERO {
                return Err(ParseError(format!(
                    "must be greater than zero, got {}",
                    quantity::echo(t.trim())
                )));
            }
            Ok(v)
        })
    }

    pub(crate) fn mass(&mut self, n: &Num, key: &str) -> Option<Quantity> {
        self.parsed(n, key, quantity::parse_mass)
    }

    pub(crate) fn quantity(&mut self, n: &Num, key: &str) -> Option<Quantity> {
        self.parsed(n, key, quantity::parse_quantity)
    }

    pub(crate) fn text(&mut self, s: &Spanned<String>, key: &str) -> String {
        let t = s.get_ref().trim();
        let limit = text_limit(key);
        let n = t.chars().count();
        if t.is_empty() {
            self.push(Some(s.span()), key, "must not be empty");
        } else if n > limit {
            self.push(
                Some(s.span()),
                key,
                format!(
                    "is {n} characters long; at most {limit} are allowed here (was something \
                     pasted by mistake?)"
                ),
            );
        } else if let Err(m) = crate::printable::check(t, limit > 200) {
            self.push(Some(s.span()), key, m);
        }
        t.to_string()
    }

    /// A count written as a bare whole number (`cavities = 30`). A quoted or fractional one is
    /// refused with what to write instead.
    fn whole(&mut self, n: &Num, key: &str) -> Option<i64> {
        let name = key.rsplit('.').next().unwrap_or(key);
        let text = self.num_text(n);
        let t = text.trim();
        if let RawNum::Text(_) = n.get_ref() {
            let msg = if !t.is_empty() && t.len() <= 10 && t.chars().all(|c| c.is_ascii_digit()) {
                format!("must be a whole number without quotes: write {name} = {t}")
            } else {
                format!(
                    "must be a whole number written without quotes, e.g. {name} = 30; got {}",
                    quantity::echo(t)
                )
            };
            self.push(Some(n.span()), key, msg);
            return None;
        }
        let v = match quantity::parse_decimal(t) {
            Ok(v) => v,
            Err(e) => {
                self.push(Some(n.span()), key, e.0);
                return None;
            }
        };
        if !v.fract().is_zero() {
            self.push(
                Some(n.span()),
                key,
                format!("must be a whole number, e.g. {name} = 2; got {t}"),
            );
            return None;
        }
        rust_decimal::prelude::ToPrimitive::to_i64(&v)
    }

    pub(crate) fn count(&mut self, n: &Num, key: &str, min: i64, max: i64) -> Option<u32> {
        let v = self.whole(n, key)?;
        if v < min || v > max {
            self.push(
                Some(n.span()),
                key,
                format!("must be a whole number from {min} to {max}, got {v}"),
            );
            return None;
        }
        u32::try_from(v).ok()
    }

    /// Reads the pair of displacement keys; stating both is refused.
    fn displacement(
        &mut self,
        replacement: Option<&Num>,
        density: Option<&Num>,
        key: &str,
    ) -> Option<Displacement> {
        match (replacement, density) {
            (Some(r), Some(d)) => {
                self.push(
                    Some(d.span()),
                    key,
                    "both replacement_factor and density_factor are given; they are reciprocal \
                     conventions, state only one",
                );
                let _ = r;
                None
            }
            (Some(r), None) => self
                .positive(r, &format!("{key}.replacement_factor"))
                .map(Displacement::Replacement),
            (None, Some(d)) => self
                .positive(d, &format!("{key}.density_factor"))
                .map(Displacement::Density),
            (None, None) => None,
        }
    }

    pub(crate) fn finish(self) -> Result<()> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(self.errors.into_iter().next().expect("one error")),
            _ => Err(Error::Many(self.errors)),
        }
    }
}

/// Tables of the file formats, so a missing one is named as a table rather than a key.
const TABLES: &[&str] = &[
    "mold",
    "base",
    "bud",
    "label",
    "procedure",
    "qc",
    "aliquot",
    "pharmacy",
    "balance",
    "paper",
];

/// The key a `key = value` line sets (its last dotted part), for syntax errors that carry no
/// key path of their own.
fn key_of_line(line: &str) -> String {
    let Some((k, _)) = line.split_once('=') else {
        return String::new();
    };
    let k = k.trim();
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c));
    if ok {
        k.trim_matches(['"', '\'']).to_string()
    } else {
        String::new()
    }
}

/// The backticked words of a serde message ("expected one of `a`, `b`").
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The allowed key closest to a misspelt one, if it is close enough to be a typo.
fn closest<'a>(given: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(given, a), *a))
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a)
}

/// What a serde "invalid type" found, in words ("the quoted text \"30\"").
fn found_words(found: &str) -> String {
    let ticked = backticked(found).first().copied();
    if let Some(s) = found.strip_prefix("string ") {
        format!("the quoted text {}", quantity::echo(s.trim_matches('"')))
    } else if found.starts_with("integer") || found.starts_with("floating point") {
        format!("the number {}", ticked.unwrap_or(found))
    } else if found.starts_with("boolean") {
        ticked.unwrap_or(found).to_string()
    } else if found == "sequence" {
        "a list".to_string()
    } else if found == "map" {
        "a table".to_string()
    } else {
        found.replace('`', "")
    }
}

/// A TOML or shape error in a pharmacist's words: (key, message, whether it concerns the
/// whole file rather than a line). `msg` is the parser's message, `path` the key path it
/// carries, `spanned` the source text it points at and `line` the whole line there.
fn explain_toml(
    msg: &str,
    path: Option<&str>,
    spanned: &str,
    line: &str,
) -> (String, String, bool) {
    let join = |k: &str| match path {
        Some(p) if !p.is_empty() => format!("{p}.{k}"),
        _ => k.to_string(),
    };
    let path_key = path.unwrap_or("").to_string();
    let last = path_key.rsplit('.').next().unwrap_or("").to_string();
    let line_key = key_of_line(line);

    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let whole = path.is_none();
        return if TABLES.contains(&field) {
            let needs = match field {
                "mold" => " with name, cavities and blank_weight",
                "base" => " with the base's name",
                "bud" => " with category and storage",
                "label" => " with directions",
                "procedure" => " with equipment and steps",
                "pharmacy" => " with name, address and phone",
                _ => "",
            };
            (
                field.to_string(),
                format!("the [{field}] table is missing; add it{needs}"),
                whole,
            )
        } else {
            let under = path.map(|p| format!(" under [{p}]")).unwrap_or_default();
            (
                join(field),
                format!("is required; add {field} = ...{under}"),
                whole,
            )
        };
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let allowed: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, a)| backticked(a))
            .unwrap_or_default();
        let place = path.map_or_else(
            || "at the top of the file".to_string(),
            |p| format!("in [{p}]"),
        );
        let message = if field == "factor" || field == "displacement_factor" {
            format!(
                "a bare `{field}` is ambiguous: write `replacement_factor` (grams of base \
                 displaced by 1 g of ingredient) or `density_factor` (grams of ingredient that \
                 displace 1 g of base)"
            )
        } else if field.starts_with("batch") && allowed.contains(&"config") {
            "each order is a [[batch]] table, with double brackets, one per order".to_string()
        } else if (field == "overage" || field == "extra") && allowed.contains(&"dosage_form") {
            format!(
                "`{field}` belongs to the order (or a recipe's [[batch]]), not the formula; \
                 remove it here"
            )
        } else {
            let hint = closest(field, &allowed)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            if allowed.is_empty() {
                format!("unknown key; {hint}no keys are allowed {place}")
            } else {
                format!("unknown key; {hint}allowed {place}: {}", allowed.join(", "))
            }
        };
        return (join(field), message, false);
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
        let name = if last.is_empty() {
            "key"
        } else {
            last.as_str()
        };
        if found.contains(" as i128") {
            return (
                path_key,
                "is too large; write a whole number from the range allowed here".to_string(),
                false,
            );
        }
        let want = match expected {
            "i64" | "i32" | "u32" | "u64" | "usize" => {
                format!("a whole number without quotes, e.g. {name} = 30")
            }
            "a string" => format!("text in double quotes, e.g. {name} = \"...\""),
            "a sequence" => format!("a list in square brackets, e.g. {name} = [\"...\", \"...\"]"),
            e if e.starts_with("struct ") || e == "a map" => {
                format!("a table, written as a [{name}] section with its keys below it")
            }
            e => e.to_string(),
        };
        return (
            path_key,
            format!("must be {want}, not {}", found_words(found)),
            false,
        );
    }
    if msg == "duplicate key" {
        let k = spanned.trim().trim_matches(['"', '\'']);
        return if line.trim_start().starts_with('[') {
            (
                k.to_string(),
                format!("the table [{k}] appears twice; keep one [{k}] with all its keys"),
                false,
            )
        } else {
            (
                k.to_string(),
                "is given twice in the same table; keep only one".to_string(),
                false,
            )
        };
    }
    if msg.contains("number overflowed") {
        return (
            if path_key.is_empty() {
                line_key
            } else {
                path_key
            },
            "this number is too large; write it with digits and a decimal point (no exponent), \
             at most 1000000000"
                .to_string(),
            false,
        );
    }
    if msg.starts_with("string values must be quoted") {
        let message = if line.contains(['“', '”', '‘', '’', '„', '«', '»']) {
            let k = if line_key.is_empty() {
                "key"
            } else {
                line_key.as_str()
            };
            format!(
                "has curly quotes (“ ”), as a word processor types them; use straight quotes: \
                 {k} = \"...\" (save the file as plain text)"
            )
        } else {
            "this value cannot be read: write text in double quotes (name = \"...\"), numbers \
             with digits only, and one value per key"
                .to_string()
        };
        return (line_key, message, false);
    }
    if msg.starts_with("unexpected key or value") {
        return (
            line_key,
            "unexpected text after the value; write one key = value per line (no comma at the \
             end; a list goes in square brackets)"
                .to_string(),
            false,
        );
    }
    if msg.starts_with("invalid basic string") || msg.starts_with("invalid literal string") {
        let q = if msg.contains("literal") { "'" } else { "\"" };
        return (
            line_key,
            format!("the quoted text is not closed; end it with {q} on the same line"),
            false,
        );
    }
    if msg.starts_with("unclosed array table") || msg.starts_with("unclosed table") {
        let name = line
            .trim()
            .trim_matches(['[', ']'])
            .split('#')
            .next()
            .unwrap_or("")
            .trim();
        let name = if name.is_empty() { "name" } else { name };
        let header = if msg.contains("array") {
            format!("[[{name}]]")
        } else {
            format!("[{name}]")
        };
        return (
            String::new(),
            format!("this table header is not closed; write {header}"),
            false,
        );
    }
    if msg.starts_with("invalid date") || msg.starts_with("invalid time") {
        return (
            line_key,
            format!(
                "{} is not a real date ({}); write an existing date as YYYY-MM-DD, e.g. 2026-11-23",
                spanned.trim(),
                msg.replace("invalid date, ", "")
                    .replace("invalid time, ", "")
            ),
            false,
        );
    }
    if msg.starts_with("key with no value") {
        return (
            String::new(),
            "a key with no value; write key = value".to_string(),
            false,
        );
    }
    (line_key, msg.to_string(), false)
}

/// Whether a file holds nothing but blank lines and comments.
pub(crate) fn is_empty_toml(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#')
    })
}

/// Longest text a field may hold: names are printed on one line of a label, the rest
/// (directions, steps, warnings) wraps. Past it, something was pasted by mistake.
fn text_limit(key: &str) -> usize {
    let field = key.rsplit('.').next().unwrap_or(key);
    match field {
        "id" | "name" | "dosage_form" | "route" | "moiety" | "category" | "lot" | "rx"
        | "patient" | "prescriber" | "manufacturer" | "formula" => 200,
        _ => 2000,
    }
}

/// Newlines in a byte string: the line of an offset is one more.
// Input files are kilobytes; a SIMD byte-counting crate would not pay for itself.
#[allow(clippy::naive_bytecount)]
pub(crate) fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Strips a UTF-8 byte-order mark, which word processors and Windows editors add and which
/// carries no meaning.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses and validates a formula. `file` names the source in messages.
pub fn parse(text: &str, file: &str) -> Result<Formula> {
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
    let raw: RawFormula = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    let formula = validate(&mut src, &raw);
    src.finish()?;
    formula.ok_or_else(|| Error::calc("formula invalid"))
}

fn validate(src: &mut Source, raw: &RawFormula) -> Option<Formula> {
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
        default_displacement: src.displacement(
            raw.base.replacement_factor.as_ref(),
            raw.base.density_factor.as_ref(),
            "base",
        ),
        components: base_components(src, &raw.base.component),
    };
    let diluent = raw.aliquot.as_ref().map(|a| Diluent {
        name: src.text(&a.diluent, "aliquot.diluent"),
        displacement: src.displacement(
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
        let displacement = src.displacement(
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
        let displacement = src.displacement(
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
        let displacement = src.displacement(
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
