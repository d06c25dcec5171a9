//! `troche factor`: density and replacement factors from trial units.

use clap::Args;

use crate::error::Result;
use crate::{quantity, trial};

use super::{Format, arg, print};

#[derive(Args)]
pub(super) struct FactorArgs {
    /// Average weight of the blank (plain base) units, a mass with its unit ("2.000 g").
    #[arg(long, value_name = "MASS", allow_hyphen_values = true)]
    pub(super) blank: String,
    /// Average weight of the medicated units, a mass with its unit ("2.100 g").
    #[arg(long, value_name = "MASS", allow_hyphen_values = true)]
    pub(super) medicated: String,
    /// Amount of the ingredient in each medicated unit, a mass with its unit ("250 mg").
    #[arg(long, value_name = "MASS", allow_hyphen_values = true)]
    pub(super) per_unit: String,
    /// Output format: a table with the work shown, or JSON.
    #[arg(long, value_enum, default_value_t, help_heading = "Output")]
    pub(super) format: Format,
}

pub(super) fn run(a: &FactorArgs) -> Result<i32> {
    let t = trial::Trial {
        blank: arg("--blank", quantity::parse_mass(&a.blank))?.in_base(),
        medicated: arg("--medicated", quantity::parse_mass(&a.medicated))?.in_base(),
        per_unit: arg("--per-unit", quantity::parse_mass(&a.per_unit))?.in_base(),
    };
    let f = t.factors()?;
    print(&match a.format {
        Format::Table => f.table(),
        Format::Json => f.json(),
    })?;
    Ok(0)
}
