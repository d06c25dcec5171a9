//! The as-is potency of a lot from its certificate of analysis. A certificate may give the
//! assay as is, or on the dried (loss on drying) or anhydrous (water content) basis; the
//! calculation needs what the powder weighed holds, so the program works it out and shows the
//! step: as is = assay × (100 − water) / 100.

use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// The basis a certificate states its assay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    AsIs,
    Dried,
    Anhydrous,
}

impl Basis {
    pub fn parse(text: &str) -> Result<Basis> {
        match text.trim().to_ascii_lowercase().as_str() {
            "as-is" | "asis" | "as is" => Ok(Basis::AsIs),
            "dried" => Ok(Basis::Dried),
            "anhydrous" => Ok(Basis::Anhydrous),
            other => Err(Error::arg(
                "--assay-basis",
                format!(
                    "\"{}\" is not a basis; write dried (loss on drying), anhydrous (water \
                     content) or as-is",
                    crate::escape::escape(other)
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::AsIs => "as-is",
            Basis::Dried => "dried",
            Basis::Anhydrous => "anhydrous",
        }
    }
}

/// The as-is potency and the step that reached it. Percentages are 0-100 exclusive of 0.
pub fn as_is(assay: Decimal, basis: Basis, water: Option<Decimal>) -> Result<(Decimal, String)> {
    let hundred = Decimal::ONE_HUNDRED;
    match (basis, water) {
        (Basis::AsIs, None) => Ok((assay, format!("{} % as is", assay.normalize()))),
        (Basis::AsIs, Some(_)) => Err(Error::arg(
            "--water",
            "an as-is assay already holds the water; give --assay-basis dried or anhydrous \
             with --water, or leave --water out",
        )),
        (_, None) => Err(Error::arg(
            "--water",
            format!(
                "an assay on the {} basis needs the {} from the certificate (--water PERCENT) to \
                 work out the as-is potency",
                basis.as_str(),
                if basis == Basis::Dried {
                    "loss on drying"
                } else {
                    "water content"
                }
            ),
        )),
        (_, Some(w)) => {
            if w < Decimal::ZERO || w >= hundred {
                return Err(Error::arg(
                    "--water",
                    format!(
                        "{} % is not a water content: give 0 to below 100",
                        w.normalize()
                    ),
                ));
            }
            let v = assay
                .checked_mul(hundred - w)
                .and_then(|x| x.checked_div(hundred))
                .ok_or_else(|| crate::error::overflow("the as-is potency"))?
                .normalize();
            Ok((
                v,
                format!(
                    "{} % ({} basis) × (100 − {} % water) / 100 = {} % as is",
                    assay.normalize(),
                    basis.as_str(),
                    w.normalize(),
                    v
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_hydrate_on_the_dried_basis_is_brought_to_as_is() {
        let (v, step) = as_is(d("98.1"), Basis::Dried, Some(d("12"))).unwrap();
        assert_eq!(v, d("86.328"));
        assert_eq!(
            step,
            "98.1 % (dried basis) × (100 − 12 % water) / 100 = 86.328 % as is"
        );
        assert_eq!(as_is(d("99.5"), Basis::AsIs, None).unwrap().0, d("99.5"));
        assert!(as_is(d("99"), Basis::Anhydrous, None).is_err());
        assert!(as_is(d("99"), Basis::AsIs, Some(d("1"))).is_err());
        assert!(as_is(d("99"), Basis::Dried, Some(d("100"))).is_err());
    }
}
