//! `troche recall COMPONENT-LOT`: every batch that used a component lot, for a recall.

use clap::Args;

use crate::error::Result;
use crate::logbook;

use super::context::Context;
use super::log::{FilterArgs, emit};

#[derive(Args)]
pub(super) struct RecallArgs {
    /// The component's lot number (as given in --component NAME|LOT|EXPIRY): a number finds
    /// every stock lot received under it (K-78, K-78.2, ...), an id (K-78.2) only that one.
    component_lot: String,
    #[command(flatten)]
    filters: FilterArgs,
}

pub(super) fn run(ctx: &Context, a: &RecallArgs) -> Result<i32> {
    let f = a.filters.filter()?;
    let mut db = ctx.read_with_config(a.filters.config.as_deref())?;
    let (rows, ids) = logbook::recall_by_number(db.as_mut(), &a.component_lot, &f)?;
    let rows: Vec<Vec<String>> = rows.into_iter().map(logbook::Recalled::cells).collect();
    emit(&logbook::RECALL_COLUMNS, &rows, a.filters.format)?;
    let asked = a.component_lot.trim();
    crate::escape::eprintln(&format!(
        "{} batches used component lot {asked}{}",
        rows.len(),
        if ids.len() == 1 && ids[0] == asked {
            String::new()
        } else {
            format!(" (stock ids {})", ids.join(", "))
        }
    ));
    Ok(0)
}
