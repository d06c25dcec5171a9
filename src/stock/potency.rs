//! The as-is potency of a lot from its certificate of analysis. A certificate may give the
//! assay as is, or on the dried (loss on drying) or anhydrous (water content) basis; the
//! calculation needs what the powder weighed holds, so the program works it out and shows the
//! step: as is = assay × (100 − water) / 100.

use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// What a basis may be written as, for refusals.
pub const ALLOWED: &str = "write dried (loss on drying), anhydrous (water content) or as-is";

/// The basis a certificate states its assay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    AsIs,
    Dried,
    Anhydrous,
}

impl Basis {
    pub fn parse(text: &str) -> Result<Basis> {
        Basis::from_text(text).ok_or_else(|| {
            Error::arg(
                "--assay-basis",
                format!(
                    "\"{}\" is not a basis; {ALLOWED}",
                    crate::escape::escape(text.trim())
                ),
            )
        })
    }

    /// The basis a text names, if any: "as-is" (or "as is"), "dried", "anhydrous".
    pub fn from_text(text: &str) -> Option<Basis> {
        match text.trim().to_ascii_lowercase().as_str() {
            "as-is" | "asis" | "as is" => Some(Basis::AsIs),
            "dried" => Some(Basis::Dried),
            "anhydrous" => Some(Basis::Anhydrous),
            _ => None,
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

/// A certificate's assay on a basis other than as is, with the water content or loss on
/// drying that brings it to as is: what an order keeps so that the formula's accepted range
/// can be applied on the basis its monograph uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certificate {
    pub assay: Decimal,
    pub basis: Basis,
    pub water: Decimal,
}

impl Certificate {
    /// As the order and the log write it: "98.1 % dried, 12 % water".
    pub fn text(&self) -> String {
        format!(
            "{} % {}, {} % water",
            self.assay.normalize(),
            self.basis.as_str(),
            self.water.normalize()
        )
    }

    /// The as-is potency it gives, and the step.
    pub fn as_is(&self) -> Result<(Decimal, String)> {
        as_is(self.assay, self.basis, Some(self.water))
    }
}

/// The figure of an assay on `basis`, from the as-is potency and, when the certificate
/// stated another basis, its figures; `None` when the conversion needs a figure the
/// certificate did not give (an as-is assay and no water, or water content where the
/// loss on drying is needed). Returns the figure and how it was reached.
pub fn on_basis(
    as_is: Decimal,
    certificate: Option<&Certificate>,
    basis: Basis,
) -> Option<(Decimal, String)> {
    match (basis, certificate) {
        (Basis::AsIs, None) => Some((as_is, format!("{} % as is", as_is.normalize()))),
        (Basis::AsIs, Some(c)) => c.as_is().ok(),
        (_, Some(c)) if c.basis == basis => Some((
            c.assay,
            format!(
                "{} % on the {} basis, as the certificate states it",
                c.assay.normalize(),
                basis.as_str()
            ),
        )),
        _ => None,
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

    #[test]
    fn an_assay_is_put_on_the_basis_asked_for_only_from_figures_given() {
        let c = Certificate {
            assay: d("98.1"),
            basis: Basis::Dried,
            water: d("12"),
        };
        assert_eq!(c.text(), "98.1 % dried, 12 % water");
        assert_eq!(
            on_basis(d("86.328"), Some(&c), Basis::Dried).unwrap().0,
            d("98.1")
        );
        assert_eq!(
            on_basis(d("86.328"), Some(&c), Basis::AsIs).unwrap().0,
            d("86.328")
        );
        // A loss on drying is not a water content, and an as-is figure has neither.
        assert!(on_basis(d("86.328"), Some(&c), Basis::Anhydrous).is_none());
        assert!(on_basis(d("88"), None, Basis::Dried).is_none());
        assert_eq!(on_basis(d("99.5"), None, Basis::AsIs).unwrap().0, d("99.5"));
    }
}
