//! The pharmacy's signed policies: decisions a pharmacist makes for the whole pharmacy, kept
//! in the log (never in a workstation's settings file, which anyone at that workstation can
//! edit), each a signed, append-only row; the latest row of a policy is in force.
//!
//! A new policy is a variant of [`Policy`] with its name, its meaning and the values it
//! takes; `troche policy set` and `list` need nothing else.

use crate::error::{Error, Result};
use crate::formula::Schedule;
use crate::store::{Db, Transaction, Value};

use super::people::{Person, require_pharmacist};
use super::{Actor, next_seq, now};

/// A policy the log knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// A batch may be released or rejected by the pharmacist who prepared or recorded it
    /// (a pharmacy with one pharmacist); "on" or "off", off until set.
    SamePersonRelease,
    /// The most refills of a Schedule III, IV or V prescription the pharmacy's state allows,
    /// where it allows fewer than federal law (21 CFR 1306.22, 1306.23); "federal" until set.
    /// Schedule II has none: it cannot be refilled at all.
    RefillLimit(Schedule),
}

/// The value of a refill limit that leaves the federal limit in force.
pub const FEDERAL: &str = "federal";

impl Policy {
    pub const ALL: &[Policy] = &[
        Policy::SamePersonRelease,
        Policy::RefillLimit(Schedule::CIII),
        Policy::RefillLimit(Schedule::CIV),
        Policy::RefillLimit(Schedule::CV),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::SamePersonRelease => "same-person-release",
            Policy::RefillLimit(Schedule::CII) => "refill-limit-CII",
            Policy::RefillLimit(Schedule::CIII) => "refill-limit-CIII",
            Policy::RefillLimit(Schedule::CIV) => "refill-limit-CIV",
            Policy::RefillLimit(Schedule::CV) => "refill-limit-CV",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Policy::SamePersonRelease => {
                "the pharmacist who prepared or recorded a batch may release or reject it"
            }
            Policy::RefillLimit(Schedule::CII) => "Schedule II prescriptions are never refilled",
            Policy::RefillLimit(Schedule::CIII) => {
                "the most refills of a Schedule III prescription (federal: 5)"
            }
            Policy::RefillLimit(Schedule::CIV) => {
                "the most refills of a Schedule IV prescription (federal: 5)"
            }
            Policy::RefillLimit(Schedule::CV) => {
                "the most refills of a Schedule V prescription (federal: as the prescriber \
                 authorizes)"
            }
        }
    }

    /// The value in force when the policy was never set.
    pub fn default_value(self) -> &'static str {
        match self {
            Policy::SamePersonRelease => "off",
            Policy::RefillLimit(_) => FEDERAL,
        }
    }

    pub fn parse(name: &str) -> Result<Policy> {
        Policy::ALL
            .iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                Error::arg(
                    "POLICY",
                    format!(
                        "no policy {:?}; the policies: {}, {STATE_SUBSTANCE}",
                        name.trim(),
                        Policy::ALL
                            .iter()
                            .map(|p| p.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// A value as stored, or a refusal naming the values allowed.
    pub fn value(self, text: &str) -> Result<String> {
        match self {
            Policy::SamePersonRelease => match text.trim().to_ascii_lowercase().as_str() {
                "on" => Ok("on".into()),
                "off" => Ok("off".into()),
                _ => Err(Error::arg("VALUE", format!("{} is on or off", self.name()))),
            },
            Policy::RefillLimit(schedule) => refill_limit_value(self, schedule, text),
        }
    }
}

/// A refill limit as stored: "federal", or a whole number of refills no higher than the
/// federal limit of the schedule (a state may only lower it).
fn refill_limit_value(policy: Policy, schedule: Schedule, text: &str) -> Result<String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case(FEDERAL) {
        return Ok(FEDERAL.into());
    }
    let federal = federal_refills(schedule);
    let allowed = match federal {
        Some(most) => format!(
            "a whole number of refills from 0 to {most} (the federal limit; a state may only \
             lower it), or {FEDERAL}"
        ),
        None => format!("a whole number of refills, or {FEDERAL}"),
    };
    let refuse =
        |why: String| Error::arg("VALUE", format!("{why}; {} is {allowed}", policy.name()));
    let n: u32 = text.parse().map_err(|_| {
        refuse(format!(
            "\"{}\" is not a number of refills",
            crate::escape::escape(text)
        ))
    })?;
    if let Some(most) = federal
        && n > most
    {
        return Err(refuse(format!(
            "{n} refills is above the federal limit of {most} for {} (21 CFR 1306.22)",
            schedule.as_str()
        )));
    }
    Ok(n.to_string())
}

/// The most refills federal law allows a schedule, `None` for Schedule V (as the prescriber
/// authorizes).
pub fn federal_refills(schedule: Schedule) -> Option<u32> {
    match schedule {
        Schedule::CII => Some(0),
        Schedule::CIII | Schedule::CIV => Some(crate::prescription::MAX_REFILLS_III_IV),
        Schedule::CV => None,
    }
}

/// A pharmacy's own refill limit for a schedule, as set in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefillLimit {
    pub policy: Policy,
    pub refills: u32,
    pub set_by: String,
    pub at: String,
}

/// The refill limit the pharmacy set for `schedule`, if it set one.
pub fn refill_limit(db: &mut dyn Db, schedule: Schedule) -> Result<Option<RefillLimit>> {
    if schedule == Schedule::CII {
        return Ok(None);
    }
    let policy = Policy::RefillLimit(schedule);
    let f = get(db, policy)?;
    let (Some(set_by), Some(at)) = (f.set_by, f.at) else {
        return Ok(None);
    };
    if f.value == FEDERAL {
        return Ok(None);
    }
    let refills = f.value.parse().map_err(|_| {
        Error::stored(format!(
            "the log holds {:?} as the value of {}, which is not a number of refills",
            f.value,
            policy.name()
        ))
    })?;
    Ok(Some(RefillLimit {
        policy,
        refills,
        set_by,
        at,
    }))
}

/// A policy as set: its value, and who set it when (none when never set).
#[derive(Debug, Clone)]
pub struct InForce {
    pub policy: Policy,
    pub value: String,
    pub set_by: Option<String>,
    pub at: Option<String>,
}

/// The value in force of `policy`: its latest row, else its default.
pub fn get(db: &mut dyn Db, policy: Policy) -> Result<InForce> {
    let row = db
        .query(
            "SELECT value, by_initials, at FROM policies WHERE name = $1 ORDER BY seq DESC LIMIT 1",
            &[Value::text(policy.name())],
        )?
        .into_iter()
        .next();
    Ok(match row {
        Some(mut r) => InForce {
            policy,
            value: r.text("value")?,
            set_by: Some(r.text("by_initials")?),
            at: Some(r.text("at")?),
        },
        None => InForce {
            policy,
            value: policy.default_value().into(),
            set_by: None,
            at: None,
        },
    })
}

/// Whether the same pharmacist may prepare or record and release a batch.
pub fn same_person_release(db: &mut dyn Db) -> Result<bool> {
    Ok(get(db, Policy::SamePersonRelease)?.value == "on")
}

/// Sets a policy, signed by a pharmacist (authenticated; re-read here).
pub fn set(
    tx: &mut Transaction<'_>,
    policy: Policy,
    value: &str,
    by: &Person,
    actor: &Actor,
) -> Result<()> {
    require_pharmacist(tx, "--by", by, "sets a policy")?;
    let value = policy.value(value)?;
    record(tx, policy.name(), &value, by, actor)
}

/// Writes one decision of the pharmacy (a policy, a state's listing, a formula's approval)
/// as the next row of `policies`, linked into the hash chain in the same transaction.
pub(super) fn record(
    tx: &mut Transaction<'_>,
    name: &str,
    value: &str,
    by: &Person,
    actor: &Actor,
) -> Result<()> {
    let seq = next_seq(tx, "policies")?;
    tx.execute(
        "INSERT INTO policies (seq, at, name, value, by_initials, workstation, os_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Value::int(seq),
            Value::text(now()),
            Value::text(name),
            Value::text(value),
            Value::text(by.initials.as_str()),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
        ],
    )?;
    super::chain::link_history(tx, "policies", seq)
}

/// The policy that lists a substance the pharmacy's state controls beyond federal law, or in a
/// stricter schedule; one row per substance, stored under `controlled-substance:NAME`, the
/// latest in force.
pub const STATE_SUBSTANCE: &str = "controlled-substance";

/// The value that withdraws a state listing (federal law alone then applies).
pub const UNLISTED: &str = "none";

/// A substance the pharmacy's state lists, as set in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateListing {
    /// Lower case letters and digits, found in an ingredient's name as a word or the start of
    /// one, as the federal table is (`controlled::lookup`).
    pub substance: String,
    pub schedule: Schedule,
    pub set_by: String,
    pub at: String,
}

impl StateListing {
    /// The policy's name as stored and shown.
    pub fn policy_name(&self) -> String {
        format!("{STATE_SUBSTANCE}:{}", self.substance)
    }
}

/// Reads `NAME=SCHEDULE` (or `NAME=none` to withdraw a listing): the substance as one word of
/// letters and digits, the schedule CII to CV. A state may add a substance or list a federal
/// one in a stricter schedule, never a laxer one, and cannot list what federal law puts in
/// Schedule I as a bulk substance.
pub fn state_listing_value(text: &str) -> Result<(String, Option<Schedule>)> {
    let shape = "the value is SUBSTANCE=SCHEDULE, e.g. \"gabapentin=CV\" (a schedule CII to CV, \
                 or none to withdraw the state's listing)";
    let refuse = |why: String| Error::arg("VALUE", format!("{why}; {shape}"));
    let Some((name, schedule)) = text.split_once('=') else {
        return Err(refuse(format!(
            "\"{}\" names no schedule",
            crate::escape::escape(text.trim())
        )));
    };
    let substance = name.trim().to_lowercase();
    let ok_name = (3..=40).contains(&substance.chars().count())
        && substance.starts_with(|c: char| c.is_ascii_lowercase())
        && substance
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok_name {
        return Err(refuse(format!(
            "\"{}\" is not a substance's name: one word of 3 to 40 letters and digits, \
             starting with a letter, as it begins in the ingredient's name (\"gabapentin\" \
             for \"Gabapentin, USP\")",
            crate::escape::escape(name.trim())
        )));
    }
    let schedule = schedule.trim();
    if schedule.eq_ignore_ascii_case(UNLISTED) {
        return Ok((substance, None));
    }
    let Some(schedule) = Schedule::parse(schedule) else {
        return Err(refuse(format!(
            "\"{}\" is not a schedule",
            crate::escape::escape(schedule)
        )));
    };
    if let Some(federal) = crate::controlled::lookup(&substance) {
        match federal.control {
            crate::controlled::Control::ScheduleOne(why) => {
                return Err(refuse(format!(
                    "{substance} is federally in Schedule I as a bulk substance ({why}; {}) \
                     and is refused as an active whatever a state lists",
                    federal.source
                )));
            }
            crate::controlled::Control::Scheduled(f) if schedule > f => {
                return Err(refuse(format!(
                    "{substance} is federally in {} ({}); a state listing may only add a \
                     substance or raise its schedule, never lower it, so {} is not allowed: \
                     give {} or stricter",
                    f.as_str(),
                    federal.source,
                    schedule.as_str(),
                    f.as_str()
                )));
            }
            crate::controlled::Control::Scheduled(_) => {}
        }
    }
    Ok((substance, Some(schedule)))
}

/// Lists (or with `None` withdraws) a substance the pharmacy's state controls, signed by a
/// pharmacist (authenticated; re-read here).
pub fn set_state_listing(
    tx: &mut Transaction<'_>,
    substance: &str,
    schedule: Option<Schedule>,
    by: &Person,
    actor: &Actor,
) -> Result<()> {
    require_pharmacist(tx, "--by", by, "sets a policy")?;
    record(
        tx,
        &format!("{STATE_SUBSTANCE}:{substance}"),
        schedule.map_or(UNLISTED, Schedule::as_str),
        by,
        actor,
    )
}

/// The substances the pharmacy's state lists, as in force now: each one's latest row, those
/// withdrawn left out; in the order of their names.
pub fn state_listings(db: &mut dyn Db) -> Result<Vec<StateListing>> {
    let rows = db.query(
        "SELECT name, value, by_initials, at FROM policies WHERE name LIKE $1 ORDER BY seq",
        &[Value::text(format!("{STATE_SUBSTANCE}:%"))],
    )?;
    let mut latest = std::collections::BTreeMap::new();
    for mut r in rows {
        let name = r.text("name")?;
        let value = r.text("value")?;
        let substance = name
            .strip_prefix(STATE_SUBSTANCE)
            .and_then(|n| n.strip_prefix(':'))
            .unwrap_or(&name)
            .to_string();
        let schedule = if value == UNLISTED {
            None
        } else {
            Some(Schedule::parse(&value).ok_or_else(|| {
                Error::stored(format!(
                    "the log holds {value:?} as the schedule of the policy {name}, which is \
                     not a schedule"
                ))
            })?)
        };
        let (set_by, at) = (r.text("by_initials")?, r.text("at")?);
        latest.insert(
            substance.clone(),
            schedule.map(|schedule| StateListing {
                substance,
                schedule,
                set_by,
                at,
            }),
        );
    }
    Ok(latest.into_values().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, actor};

    #[test]
    fn a_policy_is_off_until_a_pharmacist_sets_it() {
        let mut log = Log::new();
        assert!(!same_person_release(log.db()).unwrap());
        let rp = log.pharmacist();
        assert!(Policy::parse("nope").is_err());
        let p = Policy::parse("same-person-release").unwrap();
        assert!(
            log.db()
                .write(|tx| set(tx, p, "maybe", &rp, &actor()))
                .is_err()
        );
        log.db()
            .write(|tx| set(tx, p, "ON", &rp, &actor()))
            .unwrap();
        assert!(same_person_release(log.db()).unwrap());
        assert_eq!(get(log.db(), p).unwrap().set_by.as_deref(), Some("RP"));
        log.db()
            .write(|tx| set(tx, p, "off", &rp, &actor()))
            .unwrap();
        assert!(!same_person_release(log.db()).unwrap());
        assert!(
            log.db()
                .execute("UPDATE policies SET value = 'on'", &[])
                .is_err()
        );
    }

    #[test]
    fn a_refill_limit_only_lowers_the_federal_one() {
        let iii = Policy::parse("REFILL-LIMIT-ciii").unwrap();
        assert_eq!(iii, Policy::RefillLimit(Schedule::CIII));
        assert_eq!(iii.value(" 2 ").unwrap(), "2");
        assert_eq!(iii.value("Federal").unwrap(), FEDERAL);
        assert!(iii.value("6").is_err());
        assert!(iii.value("1.5").is_err());
        let v = Policy::RefillLimit(Schedule::CV);
        assert_eq!(v.value("12").unwrap(), "12");
        assert!(Policy::parse("refill-limit-CII").is_err());
        let mut log = Log::new();
        assert_eq!(refill_limit(log.db(), Schedule::CIII).unwrap(), None);
        assert_eq!(refill_limit(log.db(), Schedule::CII).unwrap(), None);
    }

    #[test]
    fn a_state_listing_adds_or_raises_never_lowers() {
        assert_eq!(
            state_listing_value(" Gabapentin = cv ").unwrap(),
            ("gabapentin".into(), Some(Schedule::CV))
        );
        assert_eq!(
            state_listing_value("ketamine=CII").unwrap(),
            ("ketamine".into(), Some(Schedule::CII))
        );
        assert_eq!(
            state_listing_value("gabapentin=none").unwrap(),
            ("gabapentin".into(), None)
        );
        for bad in [
            "ketamine=CIV",
            "dronabinol=CIII",
            "gabapentin",
            "gabapentin=CVI",
            "gaba pentin=CV",
            "ga=CV",
        ] {
            assert!(state_listing_value(bad).is_err(), "{bad}");
        }
        let mut log = Log::new();
        assert!(state_listings(log.db()).unwrap().is_empty());
    }
}
