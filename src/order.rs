//! The order: what one batch needs beyond the formula (strengths, quantity, the prescription's
//! particulars). The same checks apply whether it comes from flags or a file.

use jiff::civil::Date;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::quantity::{self, ParseError, Quantity};

/// Largest batch accepted. Far above any compounding batch; it bounds the arithmetic.
pub const MAX_UNITS: u32 = 1_000_000;

/// Whether a strength is written as the form that is weighed (the salt) or as the moiety.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    #[default]
    Salt,
    Moiety,
}

impl Basis {
    pub fn parse(text: &str) -> Result<Basis, ParseError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "salt" => Ok(Basis::Salt),
            "moiety" | "base" => Ok(Basis::Moiety),
            other => Err(ParseError(format!(
                "unknown basis \"{other}\"; allowed: salt (the strength is of the form weighed) or \
                 moiety (the strength is of the active moiety)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Salt => "salt",
            Basis::Moiety => "moiety",
        }
    }
}

/// "Make a couple more" or "add a percent to everything": both styles are in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preparation {
    Extra(u32),
    Overage(Decimal),
}

impl Default for Preparation {
    fn default() -> Self {
        Preparation::Extra(0)
    }
}

/// A prescribed strength per unit, optionally naming the active it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrengthSpec {
    pub active: Option<String>,
    pub amount: Quantity,
}

/// The basis of the strengths: for one named active, or (unnamed) for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisSpec {
    pub active: Option<String>,
    pub basis: Basis,
}

/// An assay (percent, as-is basis) from a lot's certificate of analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssaySpec {
    pub active: Option<String>,
    pub percent: Decimal,
}

/// A component lot pulled from stock, for the record and for capping the BUD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentLot {
    pub name: String,
    pub manufacturer: Option<String>,
    pub lot: String,
    pub expiry: Option<Date>,
}

#[derive(Debug, Clone, Default)]
pub struct Order {
    pub strengths: Vec<StrengthSpec>,
    pub quantity: u32,
    pub preparation: Preparation,
    /// Empty means every strength is of the salt (the form weighed).
    pub bases: Vec<BasisSpec>,
    pub assays: Vec<AssaySpec>,
    pub date: Option<Date>,
    pub lot: Option<String>,
    pub rx: Option<String>,
    pub patient: Option<String>,
    pub prescriber: Option<String>,
    pub directions: Option<String>,
    pub refills: Option<u32>,
    pub components: Vec<ComponentLot>,
}

/// Parses a count of units: a whole positive number, no fractions ("30.5 troches" is a typo).
pub fn parse_count(text: &str, what: &str, allow_zero: bool) -> Result<u32, ParseError> {
    let t = text.trim();
    let v = quantity::parse_decimal(t).map_err(|e| ParseError(format!("{what}: {e}")))?;
    if !v.fract().is_zero() {
        return Err(ParseError(format!(
            "{what} must be a whole number of units, got \"{t}\""
        )));
    }
    let min = u32::from(!allow_zero);
    let n = v.to_u32().filter(|n| *n >= min && *n <= MAX_UNITS);
    n.ok_or_else(|| {
        ParseError(format!(
            "{what} must be a whole number from {min} to {MAX_UNITS}, got \"{t}\""
        ))
    })
}

/// Splits "Name=value" into its parts; a bare value has no name.
fn split_named(text: &str) -> (Option<String>, &str) {
    match text.rsplit_once('=') {
        Some((name, value)) => (Some(name.trim().to_string()), value),
        None => (None, text),
    }
}

/// Parses "50 mg" or "Ketamine hydrochloride=50 mg". A strength is a mass per unit.
pub fn parse_strength(text: &str) -> Result<StrengthSpec, ParseError> {
    let (active, value) = split_named(text);
    let amount = quantity::parse_quantity(value)?;
    if amount.dimension() != quantity::Dimension::Mass {
        return Err(ParseError(format!(
            "\"{}\" is a volume; a strength is the mass of drug in one unit, e.g. \"50 mg\"",
            value.trim()
        )));
    }
    Ok(StrengthSpec { active, amount })
}

/// Parses "moiety" or "Name=moiety".
pub fn parse_basis(text: &str) -> Result<BasisSpec, ParseError> {
    let (active, value) = split_named(text);
    Ok(BasisSpec {
        active,
        basis: Basis::parse(value)?,
    })
}

/// Parses "99.5" or "Name=99.5": an assay percent in (0, 110].
pub fn parse_assay(text: &str) -> Result<AssaySpec, ParseError> {
    let (active, value) = split_named(text);
    let v = quantity::parse_decimal(value.trim().trim_end_matches('%'))?;
    if v <= Decimal::ZERO || v > Decimal::from(110) {
        return Err(ParseError(format!(
            "assay {v} % is outside (0, 110]; enter the lot's assay from its certificate of \
             analysis as a percent, e.g. 99.5"
        )));
    }
    Ok(AssaySpec { active, percent: v })
}

/// Parses an overage percent: more than 0, at most 100.
pub fn parse_overage(text: &str) -> Result<Decimal, ParseError> {
    let v = quantity::parse_decimal(text.trim().trim_end_matches('%'))?;
    if v <= Decimal::ZERO || v > Decimal::ONE_HUNDRED {
        return Err(ParseError(format!(
            "overage {v} % is outside (0, 100]; suppliers suggest 5 to 10"
        )));
    }
    Ok(v)
}

/// Parses an ISO date (YYYY-MM-DD).
pub fn parse_date(text: &str) -> Result<Date, ParseError> {
    text.trim().parse::<Date>().map_err(|_| {
        ParseError(format!(
            "\"{}\" is not a date; write it as YYYY-MM-DD, e.g. 2026-11-23",
            text.trim()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_whole_and_positive() {
        assert_eq!(parse_count("30", "q", false).unwrap(), 30);
        assert_eq!(parse_count("30.0", "q", false).unwrap(), 30);
        assert_eq!(parse_count("0", "q", true).unwrap(), 0);
        for bad in ["30.5", "0", "-3", "abc", "", "1e3", "99999999999"] {
            assert!(parse_count(bad, "q", false).is_err(), "{bad}");
        }
    }

    #[test]
    fn strengths_may_name_their_active() {
        let s = parse_strength("Ketamine hydrochloride=50 mg").unwrap();
        assert_eq!(s.active.as_deref(), Some("Ketamine hydrochloride"));
        assert_eq!(s.amount.to_string(), "50 mg");
        assert!(parse_strength("5 mL").is_err());
        assert!(parse_strength("5 mg/mL").is_err());
    }

    #[test]
    fn assay_range() {
        assert!(parse_assay("0").is_err());
        assert!(parse_assay("110.1").is_err());
        assert_eq!(parse_assay("110").unwrap().percent, Decimal::from(110));
        assert_eq!(parse_assay("X=99.5%").unwrap().active.as_deref(), Some("X"));
    }
}
