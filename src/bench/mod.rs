//! The bench record of a batch: what `troche record` stores in the log and `troche verify`
//! releases from. It is one typed, versioned structure, read back strictly (every field,
//! no field unknown, every number a decimal written as text): a record that cannot be read
//! so refuses release instead of passing for one without flags.
//!
//! A record is judged when it is entered ([`judge`]), against the limits of the master
//! formulation record (`[qc]`, docs/formula-format.md) rounded once, to what the balance
//! reads: what is printed is what was judged. A second record of a lot is a correction: it
//! supersedes the one before and is printed as a document of its own.

mod judge;
mod limits;
mod reconcile;
mod stats;

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use self::judge::{Entered, judge};
pub use self::limits::narrowest;

/// The version of the structure below. A record of another version is not read as this one.
pub const VERSION: u32 = 1;

/// A decimal stored as its exact text ("0.902"), never as a floating-point number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dec(pub Decimal);

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Dec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Dec, D::Error> {
        let text = String::deserialize(d)?;
        Decimal::from_str(&text)
            .map(Dec)
            .map_err(|_| serde::de::Error::custom(format!("\"{text}\" is not a decimal")))
    }
}

/// How an amount is measured at the bench, as the worksheet's row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// On the balance, in grams.
    #[serde(rename = "g")]
    Mass,
    /// By volume ("measure by volume"), in millilitres.
    #[serde(rename = "mL")]
    Volume,
}

impl Measure {
    pub fn unit(self) -> &'static str {
        match self {
            Measure::Mass => "g",
            Measure::Volume => "mL",
        }
    }
}

/// One component's amount: what the worksheet says to weigh or measure, its limits, and
/// what was put in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub ingredient: String,
    /// "active", "excipient", "diluent" or "base".
    pub role: String,
    pub measure: Measure,
    /// The worksheet's amount, in `measure`'s unit.
    pub expected: Dec,
    pub actual: Option<Dec>,
    pub tolerance_percent: Dec,
    /// Where the tolerance comes from, in words ("the formula's", "default: ...").
    pub tolerance_from: String,
    /// The limits, rounded to the balance (or the graduation) as printed.
    pub low: Dec,
    pub high: Dec,
    pub off_percent: Option<Dec>,
}

impl Amount {
    pub fn within(&self) -> Option<bool> {
        self.actual.map(|a| a.0 >= self.low.0 && a.0 <= self.high.0)
    }
}

/// A component's lot, from the order at `make` or entered with the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentLot {
    pub ingredient: String,
    pub lot: String,
    pub expiry: Option<String>,
    pub manufacturer: Option<String>,
    /// "make" or "record".
    pub entered_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejected {
    pub count: u32,
    pub reason: String,
}

/// What became of the extra units poured beyond those dispensed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtraUnits {
    /// Kept as retained samples.
    Retained,
    Destroyed,
}

impl ExtraUnits {
    pub fn parse(text: &str) -> Option<ExtraUnits> {
        match text.trim().to_ascii_lowercase().as_str() {
            "retained" => Some(ExtraUnits::Retained),
            "destroyed" => Some(ExtraUnits::Destroyed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExtraUnits::Retained => "retained",
            ExtraUnits::Destroyed => "destroyed",
        }
    }
}

/// The unit weights in figures, each judged against the formula's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitStats {
    pub count: u32,
    pub mean: Dec,
    pub lightest: Dec,
    pub heaviest: Dec,
    /// Relative standard deviation (of the sample), in percent.
    pub rsd_percent: Dec,
    pub rsd_limit_percent: Dec,
    pub mean_within: bool,
    pub all_within: bool,
    pub rsd_within: bool,
}

/// Units made against units poured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Yield {
    pub made: u32,
    pub poured: u32,
    pub percent: Dec,
    pub minimum_percent: Dec,
    pub within: bool,
}

/// One line of a reconciliation: grams of the form weighed, the moiety's beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub what: String,
    pub units: Option<u32>,
    pub grams: Dec,
    pub moiety_grams: Option<Dec>,
}

/// Where every gram of a scheduled active went: weighed = in the units dispensed + in the
/// extra units + in the rejected units + aliquot remainder + beaker waste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reconciled {
    pub active: String,
    pub moiety: Option<String>,
    /// From the actual weight, or the theoretical one while none is recorded.
    pub from_actual: bool,
    pub weighed: Part,
    pub parts: Vec<Part>,
    /// Weighed − the parts, exactly; it balances within the balance's readability.
    pub difference: Dec,
    pub readability: Dec,
    pub balances: bool,
}

/// Why a record cannot be released as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    /// An active outside its tolerance: the batch is rejected or remade, never acknowledged.
    Active,
    /// Any other amount outside its tolerance.
    Amount,
    /// A unit outside the accepted range.
    Unit,
    /// The unit weights' mean or RSD outside the formula's limits.
    UnitWeights,
    Yield,
    Deviation,
}

/// A finding a pharmacist resolves before release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    /// What `--acknowledge` names: "weight:NAME", "unit:3", "rsd", "yield", "deviation".
    pub id: String,
    pub kind: FlagKind,
    pub text: String,
}

impl Flag {
    pub fn acknowledgeable(&self) -> bool {
        self.kind != FlagKind::Active
    }
}

/// The record's PDF as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Printed {
    pub kind: String,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A batch's bench record, as `record` stores it in its `recorded` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchRecord {
    pub version: u32,
    /// 1 for the first record of the lot, 2 for its first correction, ...
    pub number: u32,
    /// Why it corrects the one before (every record after the first).
    pub reason: Option<String>,
    pub by: String,
    pub witness: Option<String>,
    /// A `--tolerance` that narrowed the formula's.
    pub narrowed_to_percent: Option<Dec>,
    pub amounts: Vec<Amount>,
    pub components: Vec<ComponentLot>,
    pub unit_weights: Vec<Dec>,
    /// The accepted unit weight range, as the worksheet prints it.
    pub unit_range: (Dec, Dec),
    /// Units to weigh one by one: all poured, or the formula's sample.
    pub unit_sample: u32,
    pub units_poured: u32,
    pub units_dispensed: u32,
    pub extra_units: u32,
    pub extra_units_were: Option<ExtraUnits>,
    pub made: Option<u32>,
    pub rejected: Vec<Rejected>,
    pub unit_stats: Option<UnitStats>,
    #[serde(rename = "yield")]
    pub yields: Option<Yield>,
    pub reconciliation: Vec<Reconciled>,
    pub deviations: Vec<String>,
    pub flags: Vec<Flag>,
    /// What the record still lacks; release is refused until it is empty.
    pub missing: Vec<String>,
    /// The PDF printed for it (set once rendered).
    pub printed: Option<Printed>,
}

impl BenchRecord {
    /// The record a `recorded` event holds, read strictly: a record of another version, or
    /// one missing a field or holding one unknown, is an error naming the lot, never a record
    /// without flags.
    pub fn read(lot: &str, details: &str) -> Result<BenchRecord> {
        let unreadable = |why: String| {
            Error::stored(format!(
                "lot {lot}: its bench record cannot be read ({why}); it cannot be released \
                 from it. Enter the record again with `troche record {lot} --reason TEXT`"
            ))
        };
        let v: serde_json::Value =
            serde_json::from_str(details).map_err(|e| unreadable(e.to_string()))?;
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == u64::from(VERSION) => {}
            Some(n) => {
                return Err(unreadable(format!(
                    "version {n}, this troche reads {VERSION}"
                )));
            }
            None => return Err(unreadable("it has no version".into())),
        }
        serde_json::from_value(v).map_err(|e| unreadable(e.to_string()))
    }

    /// The event details: the record as JSON.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| Error::database("storing the bench record", e))
    }

    /// The file kind its PDF is kept under in the log ("record-1", "record-2", ...).
    pub fn kind(number: u32) -> String {
        format!("record-{number}")
    }

    /// The PDF's file name: LOT-record.pdf, then LOT-record-2.pdf, ...
    pub fn file_name(stem: &str, number: u32) -> String {
        if number == 1 {
            format!("{stem}-record.pdf")
        } else {
            format!("{stem}-record-{number}.pdf")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_stored_as_exact_text_and_read_strictly() {
        let d = Dec(Decimal::new(902, 3));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"0.902\"");
        assert_eq!(serde_json::from_str::<Dec>("\"0.902\"").unwrap(), d);
        assert!(serde_json::from_str::<Dec>("0.902").is_err());
        assert!(serde_json::from_str::<Dec>("\"about 1\"").is_err());
    }

    #[test]
    fn a_record_without_its_version_or_with_an_unknown_key_is_unreadable() {
        let e = BenchRecord::read("L1", r#"{"flags": []}"#).unwrap_err();
        assert!(e.to_string().contains("has no version"), "{e}");
        let e = BenchRecord::read("L1", r#"{"version": 7}"#).unwrap_err();
        assert!(e.to_string().contains("version 7"), "{e}");
        let e = BenchRecord::read("L1", r#"{"version": 1, "flagz": []}"#).unwrap_err();
        assert!(e.to_string().contains("cannot be released"), "{e}");
    }
}
