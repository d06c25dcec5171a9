//! `troche recall COMPONENT-LOT`: every batch that used a component lot, for a recall.

use clap::Args;

use crate::error::Result;
use crate::logbook;

use super::context::Context;
use super::log::{FilterArgs, emit};

#[derive(Args)]
pub(super) struct RecallArgs {
    /// The component's lot number (as given in --component NAME|LOT|EXPIRY).
    component_lot: String,
    #[command(flatten)]
    filters: FilterArgs,
}

pub(super) fn run(ctx: &Context, a: &RecallArgs) -> Result<i32> {
    let f = a.filters.filter()?;
    let mut db = ctx.read_with_config(a.filters.config.as_deref())?;
    let rows = logbook::recall(db.as_mut(), a.component_lot.trim(), &f)?;
    let rows: Vec<Vec<String>> = rows.into_iter().map(logbook::Recalled::cells).collect();
    emit(&logbook::RECALL_COLUMNS, &rows, a.filters.format)?;
    crate::escape::eprintln(&format!(
        "{} batches used component lot {}",
        rows.len(),
        a.component_lot.trim()
    ));
    Ok(0)
}
