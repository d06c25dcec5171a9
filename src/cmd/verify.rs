//! `troche verify LOT --by INITIALS` releases a batch; `--reject REASON` rejects it. Release
//! reads the lot's bench record in force (typed, `bench::BenchRecord`): an incomplete or
//! unreadable record is refused, an active out of tolerance is never acknowledged, and every
//! other flag is acknowledged by the releasing pharmacist with a reason, printed as a
//! deviation.
//! Both are signed with the pharmacist's PIN, and by a pharmacist who neither prepared nor
//! recorded the batch, unless the pharmacy's `same-person-release` policy is on.
//!
//! Either prints the release record, LOT-release.pdf (a rejection titled as one): the
//! decision and what it rested on, rendered inside the deciding transaction from the log as
//! it stands there, staged before the commit and kept in the log with the deciding event
//! (whose details hold its SHA-256), so a failed write changes nothing and `reprint` writes
//! it again byte for byte.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::bench::{BenchRecord, Flag};
use crate::error::{Error, Result};
use crate::formula::name_matches;
use crate::formula::names::Names;
use crate::logbook::people::{self, Person};
use crate::logbook::{self, Actor, NewEvent, Rebuilt, policy};
use crate::render::worksheet::{Acknowledged, Decision, Judged, Outcome, RELEASE_KIND, Signed};
use crate::store::Transaction;
use crate::{config, lots, publish, render};

use super::context::Context;
use super::pins;

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
    /// The release record PDF (default: LOT-release.pdf in the batch's folder).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// The shortest reason a flag is accepted with: it is printed as a deviation.
const MIN_REASON: usize = 10;

/// The lot's bench record in force (its latest, which supersedes those before), read
/// strictly inside the release's transaction; refuses release while it lacks anything,
/// listing all of it.
fn current_record(tx: &mut Transaction<'_>, lot: &str) -> Result<BenchRecord> {
    let recorded = logbook::events(tx, lot)?
        .into_iter()
        .rev()
        .find(|e| e.what == "recorded")
        .ok_or_else(|| {
            Error::arg(
                "LOT",
                format!("lot {lot} has no bench record; enter it with `troche record {lot}`"),
            )
        })?;
    let bench = BenchRecord::read(lot, &recorded.details)?;
    if !bench.missing.is_empty() {
        return Err(Error::arg(
            "LOT",
            format!(
                "lot {lot} cannot be released: its record (record {}) is incomplete; it lacks \
                 {}. Enter them with a correction: troche record {lot} --reason TEXT ...",
                bench.number,
                bench.missing.join("; ")
            ),
        ));
    }
    Ok(bench)
}

/// Which flag of `bench` an acknowledgement names: its id exactly ("unit:3"), else
/// "weight:NAME" with the ingredient's full or short name, in any letter case.
fn flag_named<'a>(bench: &'a BenchRecord, named: &str) -> Option<&'a Flag> {
    bench
        .flags
        .iter()
        .find(|f| f.id.eq_ignore_ascii_case(named))
        .or_else(|| {
            let (kind, name) = named.split_once(':')?;
            bench.flags.iter().find(|f| {
                f.id.split_once(':').is_some_and(|(k, full)| {
                    k.eq_ignore_ascii_case(kind.trim()) && name_matches(full, name)
                })
            })
        })
}

/// Each acknowledgement resolved to the flag it names; refuses one that names no flag, an
/// active out of tolerance (never acknowledged: rejected or remade), and any flag left open.
fn resolve(
    lot: &str,
    bench: &BenchRecord,
    acks: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let ids = || {
        bench
            .flags
            .iter()
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (named, reason) in acks {
        let Some(flag) = flag_named(bench, named) else {
            return Err(Error::arg(
                "--acknowledge",
                format!("lot {lot} has no flag {named}; its flags: {}", ids()),
            ));
        };
        if !flag.acknowledgeable() {
            return Err(Error::arg(
                "--acknowledge",
                format!("{} cannot be acknowledged: {}", flag.id, flag.text),
            ));
        }
        out.push((flag.id.clone(), reason.clone()));
    }
    if let Some(active) = bench.flags.iter().find(|f| !f.acknowledgeable()) {
        return Err(Error::arg(
            "--reject",
            format!("lot {lot} cannot be released: {}", active.text),
        ));
    }
    let open: Vec<&str> = bench
        .flags
        .iter()
        .filter(|f| !out.iter().any(|(id, _)| *id == f.id))
        .map(|f| f.id.as_str())
        .collect();
    if !open.is_empty() {
        return Err(Error::arg(
            "--acknowledge",
            format!(
                "lot {lot} has unresolved flags: {}; a pharmacist acknowledges each with \
                 --acknowledge \"FLAG=REASON\" (at least {MIN_REASON} characters, printed as a \
                 deviation), or rejects the batch with --reject REASON",
                open.join(", ")
            ),
        ));
    }
    Ok(out)
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

/// The signatures of the batch before its release or rejection, as the log holds them: who
/// prepared it, who entered the bench record judged (`number`) and who witnessed that one.
fn hands(tx: &mut Transaction<'_>, lot: &str, number: Option<u32>) -> Result<Vec<Signed>> {
    let events = logbook::events(tx, lot)?;
    let mut recorded = 0;
    let mut hands = Vec::new();
    for e in events {
        let Some(who) = &e.who else { continue };
        let judged = match e.what.as_str() {
            "prepared" => true,
            "recorded" => {
                recorded += 1;
                number == Some(recorded)
            }
            "witnessed" => number == Some(recorded),
            _ => false,
        };
        if judged {
            hands.push(signed(tx, &e.what, who, &e.at)?);
        }
    }
    Ok(hands)
}

/// A signature, with the person's name and role as the log's people hold them.
fn signed(tx: &mut Transaction<'_>, meaning: &str, initials: &str, at: &str) -> Result<Signed> {
    let name = people::person(tx, initials)?.map(|p| format!("{}, {}", p.name, p.role.as_str()));
    Ok(Signed {
        meaning: meaning.to_string(),
        initials: initials.to_string(),
        name,
        at: at.to_string(),
    })
}

/// Renders the release record and stages it beside `out`, keeping its bytes in the log;
/// returns the file staged and what the deciding event says was printed.
fn print(
    tx: &mut Transaction<'_>,
    lot: &str,
    rebuilt: &Rebuilt,
    decision: &Decision<'_>,
    out: &std::path::Path,
    mode: publish::FileMode,
) -> Result<(publish::Staged, serde_json::Value)> {
    let pdf = render::worksheet::release_record(&rebuilt.record, rebuilt.settings.paper, decision)?;
    let staged = publish::stage_file(out, &pdf, mode)?;
    let sha = logbook::keep_document(tx, lot, RELEASE_KIND, out, &pdf)?;
    let printed = json!({
        "kind": RELEASE_KIND,
        "path": out.display().to_string(),
        "sha256": sha,
        "bytes": pdf.len(),
    });
    Ok((staged, printed))
}

/// What a release or rejection did, for its messages.
struct Decided {
    status: &'static str,
    same: bool,
    deviations: Vec<(String, String)>,
    staged: publish::Staged,
    /// What a stock trituration's release put into stock, to say so.
    stocked: Option<String>,
}

pub(super) fn run(ctx: &Context, a: &VerifyArgs) -> Result<i32> {
    let settings = config::load(a.config.as_deref())?;
    let by = pins::by(a.by.as_deref(), settings.user.as_deref())?;
    let by = by.as_str();
    let lot = &super::lot(&a.lot);
    let mut acks = Vec::new();
    for s in &a.acknowledge {
        match s.split_once('=') {
            Some((f, r)) if !f.trim().is_empty() && r.trim().chars().count() >= MIN_REASON => {
                acks.push((f.trim().to_string(), r.trim().to_string()));
            }
            Some((f, _)) if !f.trim().is_empty() => {
                return Err(Error::arg(
                    "--acknowledge",
                    format!(
                        "the reason for accepting {} is printed as a deviation: give it in at \
                         least {MIN_REASON} characters, e.g. \"{}=re-weighed on balance 2, \
                         within range\"",
                        f.trim(),
                        f.trim()
                    ),
                ));
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
    // The batch's own record, for the release record's pages and the names it resolves.
    let rebuilt = logbook::rebuild(db.as_mut(), lot)?;
    if acks.iter().any(|(f, _)| weight_flag(f).is_some()) {
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
    let out = a.output.clone().unwrap_or_else(|| {
        rebuilt
            .out_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(format!("{}-release.pdf", lots::file_stem(lot)))
    });
    // A file in the way is refused where it is staged, inside the transaction, once the
    // batch's state has been checked: a batch released already is named as such.
    let actor = Actor::current();
    let signer = pins::sign(db.as_mut(), &mut ctx.pins(&settings), "--by", by, &actor)?;
    let mode = settings.file_mode;
    let done = db.write(|tx| {
        // One time for every event of the decision, the one its record prints.
        let at = logbook::now();
        if let Some(reason) = &a.reject {
            // The state first: a batch already released is named as such, whoever signs.
            logbook::require_status(
                tx,
                lot,
                &[logbook::PREPARED, logbook::RECORDED],
                "rejecting",
            )?;
            let same = separate(tx, lot, &signer, "rejects it")?;
            // The record in force, if any, as it is: a rejection needs none, nor a readable one.
            let latest = logbook::events(tx, lot)?
                .into_iter()
                .rev()
                .find(|e| e.what == "recorded")
                .map(|e| BenchRecord::read(lot, &e.details).map_err(|e| e.to_string()));
            let judged = match &latest {
                None => Judged::None,
                Some(Ok(b)) => Judged::Record(b),
                Some(Err(why)) => Judged::Unreadable(why),
            };
            let number = match &latest {
                Some(Ok(b)) => Some(b.number),
                _ => None,
            };
            let decision = Decision {
                outcome: Outcome::Rejected(reason.trim().to_string()),
                judged,
                acknowledged: Vec::new(),
                signatures: hands(tx, lot, number)?,
                decided: signed(tx, "rejected", by, &at)?,
                same_person: same,
            };
            let (staged, printed) = print(tx, lot, &rebuilt, &decision, &out, mode)?;
            logbook::append_event_at(
                tx,
                &NewEvent {
                    lot,
                    what: "rejected",
                    status: Some(logbook::REJECTED),
                    who: Some(by),
                    meaning: Some("rejected"),
                    details: &json!({
                        "reason": reason.trim(),
                        "same_person": same,
                        "printed": printed,
                    }),
                },
                &actor,
                &at,
            )?;
            return Ok(Decided {
                status: logbook::REJECTED,
                same,
                deviations: Vec::new(),
                staged,
                stocked: None,
            });
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
        let bench = current_record(tx, lot)?;
        let acks = resolve(lot, &bench, &acks)?;
        for (f, r) in &acks {
            logbook::append_event_at(
                tx,
                &NewEvent {
                    lot,
                    what: "acknowledged",
                    status: None,
                    who: Some(by),
                    meaning: Some("acknowledged"),
                    details: &json!({"flag": f, "reason": r, "deviation": true}),
                },
                &actor,
                &at,
            )?;
        }
        let decision = Decision {
            outcome: Outcome::Released,
            judged: Judged::Record(&bench),
            acknowledged: acks
                .iter()
                .map(|(f, r)| Acknowledged {
                    flag: f.clone(),
                    reason: r.clone(),
                    by: by.to_string(),
                    at: at.clone(),
                })
                .collect(),
            signatures: hands(tx, lot, Some(bench.number))?,
            decided: signed(tx, "released", by, &at)?,
            same_person: same,
        };
        let (staged, printed) = print(tx, lot, &rebuilt, &decision, &out, mode)?;
        logbook::append_event_at(
            tx,
            &NewEvent {
                lot,
                what: "released",
                status: Some(logbook::RELEASED),
                who: Some(by),
                meaning: Some("released"),
                details: &json!({
                    "record": bench.number,
                    "acknowledged": acks.iter().map(|(f, r)| json!({"flag": f, "reason": r})).collect::<Vec<_>>(),
                    "same_person": same,
                    "printed": printed,
                }),
            },
            &actor,
            &at,
        )?;
        // A stock trituration enters stock with its release.
        let stocked = crate::stock::trituration::enter(tx, lot, &bench, by, &actor)?;
        Ok(Decided {
            status: logbook::RELEASED,
            same,
            deviations: acks,
            staged,
            stocked,
        })
    })?;
    let status = done.status;
    done.staged.publish().map_err(|e| {
        Error::stored(format!(
            "lot {lot} is {status} in the log, but its release record could not be written: \
             {e}; `troche reprint {lot}` writes it from the log"
        ))
    })?;
    crate::escape::eprintln(&format!(
        "lot {lot} {status} by {by}; wrote {}",
        out.display()
    ));
    for (f, r) in &done.deviations {
        crate::escape::eprintln(&format!("deviation: {f}, acknowledged by {by}: {r}"));
    }
    if let Some(s) = &done.stocked {
        crate::escape::eprintln(s);
    }
    if done.same {
        crate::escape::eprintln(&format!(
            "prepared and {status} by the same pharmacist (policy same-person-release)"
        ));
    }
    Ok(0)
}
