//! Displacement factors determined at the bench from trial units.
//!
//! Cast blanks (average A), then units each holding B of the ingredient (average C). The base
//! displaced per unit is A − (C − B), so DF = B / (A − C + B), and the replacement factor is
//! its reciprocal.

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::quantity::{self, show};

/// Average weights from a trial, in grams.
#[derive(Debug, Clone, Copy)]
pub struct Trial {
    pub blank: Decimal,
    pub medicated: Decimal,
    pub per_unit: Decimal,
}

#[derive(Debug, Clone)]
pub struct Factors {
    pub trial: Trial,
    /// Grams of base displaced per unit: A − C + B.
    pub displaced: Decimal,
    pub density_factor: Decimal,
    pub replacement_factor: Decimal,
}

impl Trial {
    pub fn factors(self) -> Result<Factors> {
        let Trial {
            blank: a,
            medicated: c,
            per_unit: b,
        } = self;
        let base_in_medicated = c - b;
        if base_in_medicated <= Decimal::ZERO {
            return Err(Error::arg(
                "--per-unit",
                format!(
                    "{} g per unit is not less than the medicated unit weight {} g; a medicated \
                     unit must also contain base",
                    show(b),
                    show(c)
                ),
            ));
        }
        let displaced = a - base_in_medicated;
        if displaced <= Decimal::ZERO {
            return Err(Error::arg(
                "--medicated",
                format!(
                    "the medicated units hold at least as much base ({} g) as the blanks ({} g), \
                     so the ingredient displaced nothing; check the weights",
                    show(base_in_medicated),
                    show(a)
                ),
            ));
        }
        let overflow = || Error::calc("the trial weights are too large to compute");
        Ok(Factors {
            trial: self,
            displaced,
            density_factor: quantity::div(b, displaced).ok_or_else(overflow)?,
            replacement_factor: quantity::div(displaced, b).ok_or_else(overflow)?,
        })
    }
}

impl Factors {
    pub fn table(&self) -> String {
        let Trial {
            blank: a,
            medicated: c,
            per_unit: b,
        } = self.trial;
        format!(
            "A = {a} g, the average weight of a blank (plain base) unit (--blank)\n\
             B = {b} g, the ingredient in each medicated unit (--per-unit)\n\
             C = {c} g, the average weight of a medicated unit (--medicated)\n\
             base displaced per unit = A - C + B = {a} g - {c} g + {b} g = {d} g\n\
             density factor     = B / (A - C + B) = {b} / {d} = {df}\n\
             replacement factor = (A - C + B) / B = {d} / {b} = {rf}\n\
             (density factor: grams of ingredient that displace 1 g of base; replacement factor: \
             grams of base displaced by 1 g of ingredient)\n",
            a = show(a),
            b = show(b),
            c = show(c),
            d = show(self.displaced),
            df = show(self.density_factor),
            rf = show(self.replacement_factor),
        )
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"density_factor\": \"{}\", \"replacement_factor\": \"{}\"}}\n",
            self.density_factor.normalize(),
            self.replacement_factor.normalize()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_example() {
        let t = Trial {
            blank: Decimal::new(2000, 3),
            medicated: Decimal::new(2100, 3),
            per_unit: Decimal::new(250, 3),
        };
        let f = t.factors().unwrap();
        assert_eq!(f.density_factor.round_dp(3), Decimal::new(1667, 3));
        assert_eq!(f.replacement_factor, Decimal::new(6, 1));
    }
}
