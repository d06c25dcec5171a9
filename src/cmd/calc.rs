//! `troche calc`: one batch's amounts, with the work shown.

use clap::Args;

use crate::calc_report;
use crate::error::Result;

use super::order::{OrderArgs, compute};
use super::{Format, print};

#[derive(Args)]
pub(super) struct CalcArgs {
    #[command(flatten)]
    pub(super) order: OrderArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t, help_heading = "Output")]
    pub(super) format: Format,
}

pub(super) fn run(a: &CalcArgs) -> Result<i32> {
    let (formula, calc) = compute(&a.order)?;
    print(&match a.format {
        Format::Table => calc_report::table(&formula, &calc),
        Format::Json => calc_report::json(&formula, &calc),
    })?;
    Ok(0)
}
