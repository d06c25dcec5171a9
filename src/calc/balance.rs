//! The balance (step 6 of docs/method.md): how finely amounts can be weighed, and the
//! minimum weighable quantity that follows.

use rust_decimal::Decimal;

use crate::error::{Error, Field, Result, overflow};
use crate::quantity::{self, show_mass};

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

/// The minimum weighable quantity, refused when it is zero or finer than the balance reads.
pub(super) fn minimum_weighable(balance: &Balance) -> Result<Decimal> {
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
    Ok(mwq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
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
}
