//! `troche verify LOT --by INITIALS` releases a batch; `--reject REASON` rejects it. A batch
//! whose record has flags is released only when each flag is acknowledged with a reason.
//! Both are signed with the pharmacist's PIN, and by a pharmacist who neither prepared nor
//! recorded the batch, unless the pharmacy's `same-person-release` policy is on.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::config;
use crate::error::{Error, Result};
use crate::formula::names::Names;
use crate::logbook::people::{self, Person};
use crate::logbook::{self, Actor, NewEvent, policy};
use crate::store::Transaction;

use super::context::Context;
use super::pins::{self, Pins};

#[derive(Args)]
pub(super) struct VerifyArgs {
    /// The batch's lot.
    lot: String,
    /// The verifying pharmacist's initials (default: `user` in troche.toml); their PIN is
    /// read from the terminal, or a line of standard input.
    #[arg(long, value_name = "INITIALS")]
    by: Option<String>,
    /// Reject the batch, with the reason.
    #[arg(long, value_name = "REASON")]
    reject: Option<String>,
    /// Acknowledge a flag of the record: "FLAG=REASON" (FLAG as `troche lot` shows it), once
    /// per flag.
    #[arg(long, value_name = "FLAG=REASON")]
    acknowledge: Vec<String>,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Refuses a release or rejection by anyone but a pharmacist who neither prepared nor
/// recorded the batch, unless the policy allows the same pharmacist; says whether it did.
fn separate(tx: &mut Transaction<'_>, lot: &str, signer: &Person, what: &str) -> Result<bool> {
    let p = people::require_pharmacist(tx, "--by", signer, what)?;
    let hands = logbook::signed_by(tx, lot, &["prepared", "recorded"])?;
    if !hands.contains(&p.initials) {
        return Ok(false);
    }
    if policy::same_person_release(tx)? {
        return Ok(true);
    }
    Err(Error::arg(
        "--by",
        format!(
            "{} prepared or recorded lot {lot}; another pharmacist {what} (a pharmacy with one \
             pharmacist: troche policy set same-person-release on --by INITIALS)",
            p.initials
        ),
    ))
}

/// The ingredient an acknowledged weight flag ("weight:NAME") names, which resolves as every
/// command's ingredient names do ("weight:Ketamine" is ketamine hydrochloride's).
fn weight_flag(flag: &str) -> Option<&str> {
    flag.split_once(':')
        .filter(|(kind, _)| kind.trim().eq_ignore_ascii_case("weight"))
        .map(|(_, name)| name)
}

pub(super) fn run(ctx: &Context, a: &VerifyArgs) -> Result<i32> {
    let settings = config::load(a.config.as_deref())?;
    let by = pins::by(a.by.as_deref(), settings.user.as_deref())?;
    let by = by.as_str();
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
    if a.reject.as_ref().is_some_and(|r| r.trim().is_empty()) {
        return Err(Error::arg("--reject", "give the reason"));
    }
    let mut db = ctx.open_existing(&settings)?;
    if acks.iter().any(|(f, _)| weight_flag(f).is_some()) {
        let rebuilt = logbook::rebuild(db.as_mut(), lot)?;
        let calc = &rebuilt.record.calc;
        let names = Names::rows(
            &rebuilt.record.formula,
            calc.ingredients.iter().map(|i| i.name.as_str()),
        );
        for (f, _) in &mut acks {
            if let Some(name) = weight_flag(f) {
                let k = names.resolve_arg("--acknowledge", name, &format!("lot {lot}"))?;
                *f = format!("weight:{}", names.full(k));
            }
        }
    }
    let actor = Actor::current();
    let signer = pins::sign(db.as_mut(), &mut Pins::new(), "--by", by, &actor)?;
    let (status, same) = db.write(|tx| {
        if let Some(reason) = &a.reject {
            // The state first: a batch already released is named as such, whoever signs.
            logbook::require_status(
                tx,
                lot,
                &[logbook::PREPARED, logbook::RECORDED],
                "rejecting",
            )?;
            let same = separate(tx, lot, &signer, "rejects it")?;
            logbook::transition(
                tx,
                &[logbook::PREPARED, logbook::RECORDED],
                "rejecting",
                &NewEvent {
                    lot,
                    what: "rejected",
                    status: Some(logbook::REJECTED),
                    who: Some(by),
                    meaning: Some("rejected"),
                    details: &json!({"reason": reason.trim(), "same_person": same}),
                },
                &actor,
            )?;
            return Ok((logbook::REJECTED, same));
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
        let same = separate(tx, lot, &signer, "releases it")?;
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
        for (f, r) in &acks {
            logbook::append_event(
                tx,
                &NewEvent {
                    lot,
                    what: "acknowledged",
                    status: None,
                    who: Some(by),
                    meaning: Some("acknowledged"),
                    details: &json!({"flag": f, "reason": r}),
                },
                &actor,
            )?;
        }
        logbook::transition(
            tx,
            &[logbook::RECORDED],
            "release",
            &NewEvent {
                lot,
                what: "released",
                status: Some(logbook::RELEASED),
                who: Some(by),
                meaning: Some("released"),
                details: &json!({
                    "acknowledged": acks.iter().map(|(f, r)| json!({"flag": f, "reason": r})).collect::<Vec<_>>(),
                    "same_person": same,
                }),
            },
            &actor,
        )?;
        Ok((logbook::RELEASED, same))
    })?;
    crate::escape::eprintln(&format!("lot {lot} {status} by {by}"));
    if same {
        crate::escape::eprintln(&format!(
            "prepared and {status} by the same pharmacist (policy same-person-release)"
        ));
    }
    Ok(0)
}
