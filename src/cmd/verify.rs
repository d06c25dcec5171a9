//! `troche verify LOT --by INITIALS` releases a batch; `--reject REASON` rejects it. A batch
//! whose record has flags is released only when each flag is acknowledged with a reason.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::error::{Error, Result};
use crate::logbook::{self, Actor, NewEvent};

use super::context::Context;

#[derive(Args)]
pub(super) struct VerifyArgs {
    /// The batch's lot.
    lot: String,
    /// The verifying pharmacist's initials.
    #[arg(long, value_name = "INITIALS")]
    by: String,
    /// Reject the batch, with the reason.
    #[arg(long, value_name = "REASON")]
    reject: Option<String>,
    /// Acknowledge a flag of the record: "FLAG=REASON" (FLAG as `troche lot` shows it), once
    /// per flag.
    #[arg(long, value_name = "FLAG=REASON")]
    acknowledge: Vec<String>,
    /// Pharmacy settings file (for `database`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(super) fn run(ctx: &Context, a: &VerifyArgs) -> Result<i32> {
    let by = a.by.trim();
    if by.is_empty() || by.chars().count() > 10 {
        return Err(Error::arg(
            "--by",
            "give the pharmacist's initials (1 to 10 characters)",
        ));
    }
    let lot = a.lot.trim();
    let mut acks = Vec::new();
    for s in &a.acknowledge {
        match s.split_once('=') {
            Some((f, r)) if !f.trim().is_empty() && !r.trim().is_empty() => {
                acks.push((f.trim().to_string(), r.trim().to_string()));
            }
            _ => {
                return Err(Error::arg(
                    "--acknowledge",
                    "give FLAG=REASON, e.g. \"weight:Gelatin=balance recalibrated, re-weighed\"",
                ));
            }
        }
    }
    let mut db = ctx.open_with_config(a.config.as_deref())?;
    let actor = Actor::current();
    let status = db.write(|tx| {
        if let Some(reason) = &a.reject {
            if reason.trim().is_empty() {
                return Err(Error::arg("--reject", "give the reason"));
            }
            logbook::transition(
                tx,
                &[logbook::PREPARED, logbook::RECORDED],
                "rejecting",
                &NewEvent {
                    lot,
                    what: "rejected",
                    status: Some(logbook::REJECTED),
                    who: Some(by),
                    details: &json!({"reason": reason.trim()}),
                },
                &actor,
            )?;
            return Ok(logbook::REJECTED);
        }
        logbook::require_status(tx, lot, &[logbook::RECORDED], "release")
            .map_err(|e| match e {
                Error::Argument { arg, message } => Error::Argument {
                    arg,
                    message: format!(
                        "{message}; enter what happened at the bench first with `troche record {lot}`"
                    ),
                },
                e => e,
            })?;
        let recorded = logbook::latest_event(tx, lot, "recorded")?.unwrap_or_default();
        let flags: Vec<String> = recorded["flags"]
            .as_array()
            .map(|v| v.iter().filter_map(|f| f.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let open: Vec<&String> = flags
            .iter()
            .filter(|f| !acks.iter().any(|(a, _)| a == *f))
            .collect();
        if !open.is_empty() {
            return Err(Error::arg(
                "--acknowledge",
                format!(
                    "lot {lot} has unresolved flags: {}; acknowledge each with --acknowledge \
                     \"FLAG=REASON\", or --reject REASON",
                    open.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if let Some((f, _)) = acks.iter().find(|(f, _)| !flags.contains(f)) {
            return Err(Error::arg(
                "--acknowledge",
                format!("lot {lot} has no flag {f}; its flags: {}", flags.join(", ")),
            ));
        }
        logbook::append_event(
            tx,
            &NewEvent {
                lot,
                what: "released",
                status: Some(logbook::RELEASED),
                who: Some(by),
                details: &json!({"acknowledged": acks.iter().map(|(f, r)| json!({"flag": f, "reason": r})).collect::<Vec<_>>()}),
            },
            &actor,
        )?;
        Ok(logbook::RELEASED)
    })?;
    crate::printable::eprintln(&format!("lot {lot} {status} by {by}"));
    Ok(0)
}
