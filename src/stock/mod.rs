//! Component stock: lots received with their certificate values, quarantined until a
//! pharmacist releases them, drawn on by batches (first expiry, first out), and, for a
//! controlled substance, a perpetual inventory whose balance is the sum of its movements.
//! docs/stock.md describes it. Every movement and state change is a stock event, appended
//! and hash-chained ([`chain`]); nothing is edited in place.

pub mod chain;
pub mod cs;
mod events;
pub mod form;
pub mod identity;
mod lots;
pub mod pick;
pub mod potency;
pub mod trituration;
pub mod units;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::formula::name_matches;

pub use events::{NewEvent, append};
pub use lots::{
    Receipt, StockLot, any, by_name, find, get, list, move_quantity, receive, scheduled, transition,
};

/// The states of a stock lot.
pub const QUARANTINED: &str = "quarantined";
pub const RELEASED: &str = "released";
pub const REJECTED: &str = "rejected";
pub const RECALLED: &str = "recalled";

/// Millionths of a unit per unit: quantities are kept as whole µg (or µL).
const MICRO: i64 = 1_000_000;

/// A quantity in grams (or mL) as whole millionths, refusing finer ones.
pub fn to_micro(flag: &str, v: Decimal) -> Result<i64> {
    let m = v
        .checked_mul(Decimal::from(MICRO))
        .ok_or_else(|| crate::error::overflow(flag))?;
    if m.fract() != Decimal::ZERO {
        return Err(Error::arg(
            flag,
            format!(
                "{} is finer than a microgram (or microlitre); stock is kept to 0.000001 g",
                v.normalize()
            ),
        ));
    }
    i64::try_from(m).map_err(|_| crate::error::overflow(flag))
}

/// A quantity rounded up to whole millionths: what a batch needs from a lot.
pub fn to_micro_up(flag: &str, v: Decimal) -> Result<i64> {
    let m = v
        .checked_mul(Decimal::from(MICRO))
        .ok_or_else(|| crate::error::overflow(flag))?
        .ceil();
    i64::try_from(m).map_err(|_| crate::error::overflow(flag))
}

/// Millionths back to the unit, written as short as it is exact.
pub fn from_micro(m: i64) -> Decimal {
    Decimal::new(m, 6).normalize()
}

/// Whether a stock name is linked to a formula's ingredient: the ingredient's name as the
/// formula writes it, or its short name (before the grade), in any case; the rule `--component
/// NAME` follows. Nothing else is matched: no guess at a similar name.
pub fn names_match(ingredient: &str, stock_name: &str) -> bool {
    name_matches(ingredient, stock_name)
}
