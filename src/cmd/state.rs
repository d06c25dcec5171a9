//! The states after release: `troche quarantine LOT` and `troche recall-batch LOT` (a
//! pharmacist's, with the reason) and `troche dispense LOT` (who handed it over). Each checks
//! the batch's state inside its own write transaction (`logbook::transition`).

use clap::Args;
use serde_json::json;

use crate::error::{Error, Result};
use crate::escape::eprintln;
use crate::logbook::{self, Actor, NewEvent, people};

use super::context::Context;
use super::pins;

#[derive(Args)]
pub(super) struct HoldArgs {
    /// The batch's lot.
    lot: String,
    /// The pharmacist signing (PIN on standard input when it is not a terminal).
    #[arg(long, value_name = "INITIALS")]
    by: Option<String>,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    reason: String,
    #[command(flatten)]
    config: super::SigningConfig,
}

#[derive(Args)]
pub(super) struct DispenseArgs {
    /// The batch's lot.
    lot: String,
    /// Who hands it over (PIN on standard input when it is not a terminal).
    #[arg(long, value_name = "INITIALS")]
    by: Option<String>,
    /// Units handed over (default: every unit not yet dispensed).
    #[arg(long, value_name = "N")]
    units: Option<u32>,
    #[command(flatten)]
    config: super::SigningConfig,
}

pub(super) fn quarantine(ctx: &Context, a: &HoldArgs) -> Result<i32> {
    hold(
        ctx,
        a,
        "quarantined",
        logbook::QUARANTINED,
        &[logbook::RELEASED, logbook::DISPENSED],
    )
}

pub(super) fn recall(ctx: &Context, a: &HoldArgs) -> Result<i32> {
    hold(
        ctx,
        a,
        "recalled",
        logbook::RECALLED,
        &[logbook::RELEASED, logbook::DISPENSED, logbook::QUARANTINED],
    )
}

fn hold(ctx: &Context, a: &HoldArgs, what: &str, status: &str, from: &[&str]) -> Result<i32> {
    let reason = a.reason.trim();
    if reason.is_empty() {
        return Err(Error::arg("--reason", "say why"));
    }
    let lot = &super::lot(&a.lot);
    let settings = a.config.load()?;
    let by = pins::by(a.by.as_deref(), settings.user.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let actor = Actor::current();
    let signer = pins::sign(db.as_mut(), &mut ctx.pins(&settings), "--by", &by, &actor)?;
    db.write(|tx| {
        people::require_pharmacist(tx, "--by", &signer, &format!("signs a batch {what}"))?;
        logbook::transition(
            tx,
            from,
            &format!("marking it {what}"),
            &NewEvent {
                lot,
                what,
                status: Some(status),
                who: Some(&by),
                meaning: Some(what),
                details: &json!({ "reason": reason }),
            },
            &actor,
        )
    })?;
    eprintln(&format!("lot {lot} {what} by {by}"));
    Ok(0)
}

pub(super) fn dispense(ctx: &Context, a: &DispenseArgs) -> Result<i32> {
    let lot = &super::lot(&a.lot);
    if a.units == Some(0) {
        return Err(Error::arg("--units", "give at least 1"));
    }
    let settings = a.config.load()?;
    let by = pins::by(a.by.as_deref(), settings.user.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let actor = Actor::current();
    let signer = pins::sign(db.as_mut(), &mut ctx.pins(&settings), "--by", &by, &actor)?;
    let (units, left) = db.write(|tx| {
        people::require_signer(tx, "--by", &signer.initials)?;
        // What is on hand to dispense: made less dispensed, and, for a controlled
        // preparation, less what was kept or destroyed (docs/stock.md).
        let (_, held, _) = crate::stock::units::of(tx, lot)?;
        let (made, before, left) = (held.made, held.dispensed, held.on_hand.max(0));
        let units = a.units.map_or(left, i64::from);
        if units == 0 || units > left {
            return Err(Error::arg(
                "--units",
                format!(
                    "lot {lot} has {left} of its {made} units left to dispense ({before} \
                     dispensed)"
                ),
            ));
        }
        logbook::transition(
            tx,
            &[logbook::RELEASED, logbook::DISPENSED],
            "dispensing",
            &NewEvent {
                lot,
                what: "dispensed",
                status: Some(logbook::DISPENSED),
                who: Some(&by),
                meaning: Some("dispensed"),
                details: &json!({ "units": units }),
            },
            &actor,
        )?;
        Ok((units, left - units))
    })?;
    eprintln(&format!(
        "lot {lot}: {units} units dispensed by {by}; {left} left"
    ));
    Ok(0)
}
