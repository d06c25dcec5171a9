//! Beyond-use dates under USP <795> (official 1 November 2023).
//!
//! Without preparation-specific stability data the category of the preparation sets the
//! longest BUD; a formula may shorten it, and no BUD may be later than the expiry of any
//! component lot used.

use jiff::civil::Date;

use crate::error::{Error, Result};

/// The USP <795> categories for nonsterile preparations without a monograph or stability data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BudCategory {
    /// Water activity ≥ 0.6, no preservative: 14 days refrigerated.
    AqueousUnpreserved,
    /// Water activity ≥ 0.6, preserved: 35 days.
    AqueousPreserved,
    /// Water activity < 0.6, oral liquid: 90 days.
    NonaqueousOralLiquid,
    /// Water activity < 0.6, all other forms (troches, capsules, suppositories): 180 days.
    Nonaqueous,
}

impl BudCategory {
    pub const ALLOWED: &'static str =
        "aqueous-unpreserved, aqueous-preserved, nonaqueous-oral-liquid, nonaqueous";

    pub fn parse(text: &str) -> Option<BudCategory> {
        Some(
            match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                "aqueous-unpreserved" => BudCategory::AqueousUnpreserved,
                "aqueous-preserved" => BudCategory::AqueousPreserved,
                "nonaqueous-oral-liquid" => BudCategory::NonaqueousOralLiquid,
                "nonaqueous" => BudCategory::Nonaqueous,
                _ => return None,
            },
        )
    }

    pub fn key(self) -> &'static str {
        match self {
            BudCategory::AqueousUnpreserved => "aqueous-unpreserved",
            BudCategory::AqueousPreserved => "aqueous-preserved",
            BudCategory::NonaqueousOralLiquid => "nonaqueous-oral-liquid",
            BudCategory::Nonaqueous => "nonaqueous",
        }
    }

    pub fn max_days(self) -> u32 {
        match self {
            BudCategory::AqueousUnpreserved => 14,
            BudCategory::AqueousPreserved => 35,
            BudCategory::NonaqueousOralLiquid => 90,
            BudCategory::Nonaqueous => 180,
        }
    }

    /// The rule as it is cited on a worksheet.
    pub fn reference(self) -> &'static str {
        match self {
            BudCategory::AqueousUnpreserved => {
                "USP <795> (2023), aqueous preparation, not preserved (aw >= 0.6): 14 days, refrigerated 2-8 °C"
            }
            BudCategory::AqueousPreserved => {
                "USP <795> (2023), aqueous preparation, preserved (aw >= 0.6): 35 days"
            }
            BudCategory::NonaqueousOralLiquid => {
                "USP <795> (2023), nonaqueous oral liquid (aw < 0.6): 90 days"
            }
            BudCategory::Nonaqueous => {
                "USP <795> (2023), other nonaqueous preparation (aw < 0.6): 180 days"
            }
        }
    }
}

/// A component lot whose expiry may cap the BUD.
#[derive(Debug, Clone)]
pub struct Expiry<'a> {
    pub component: &'a str,
    pub lot: &'a str,
    pub date: Date,
}

/// A beyond-use date and the rule that set it, for the worksheet and the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bud {
    pub date: Date,
    /// How the date was reached, in words a pharmacist can check.
    pub rule: String,
}

/// Compounding date + the formula's days (day of compounding is day 0), capped by the earliest
/// component expiry. A component already expired on the compounding date is an error.
pub fn compute(compounded: Date, days: u32, reference: &str, expiries: &[Expiry]) -> Result<Bud> {
    let by_days = compounded
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .map_err(|e| {
            Error::calc_caused(
                format!("{compounded} + {days} days is beyond the calendar"),
                e,
            )
        })?;
    let mut bud = Bud {
        date: by_days,
        rule: format!(
            "{compounded} + {days} days = {by_days} (compounding date counted as day 0; {reference})"
        ),
    };
    let earliest = expiries.iter().min_by_key(|e| (e.date, e.component));
    if let Some(e) = earliest {
        if e.date <= compounded {
            return Err(Error::calc(format!(
                "{} lot {} expired on {}, on or before the compounding date {compounded}; it cannot be used",
                e.component, e.lot, e.date
            )));
        }
        if e.date < by_days {
            bud = Bud {
                date: e.date,
                rule: format!(
                    "{} (expiry of {} lot {}), earlier than {compounded} + {days} days = {by_days} ({reference}); \
                     a BUD is never later than a component's expiry",
                    e.date, e.component, e.lot
                ),
            };
        }
    }
    Ok(bud)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn counts_compounding_day_as_day_zero() {
        let b = compute(date(2026, 11, 23), 180, "USP", &[]).unwrap();
        assert_eq!(b.date, date(2027, 5, 22));
        let b = compute(date(2026, 11, 23), 14, "USP", &[]).unwrap();
        assert_eq!(b.date, date(2026, 12, 7));
    }

    #[test]
    fn earliest_expiry_caps() {
        let e = [
            Expiry {
                component: "PEG",
                lot: "A1",
                date: date(2027, 3, 1),
            },
            Expiry {
                component: "Ketamine",
                lot: "K9",
                date: date(2027, 2, 1),
            },
        ];
        let b = compute(date(2026, 11, 23), 180, "USP", &e).unwrap();
        assert_eq!(b.date, date(2027, 2, 1));
        assert!(b.rule.contains("Ketamine lot K9"));
    }

    #[test]
    fn expired_component_refused() {
        let e = [Expiry {
            component: "PEG",
            lot: "A1",
            date: date(2026, 11, 23),
        }];
        assert!(compute(date(2026, 11, 23), 180, "USP", &e).is_err());
    }
}
