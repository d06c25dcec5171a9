//! The pharmacy's signed policies: decisions a pharmacist makes for the whole pharmacy, kept
//! in the log (never in a workstation's settings file, which anyone at that workstation can
//! edit), each a signed, append-only row; the latest row of a policy is in force.
//!
//! A new policy is a variant of [`Policy`] with its name, its meaning and the values it
//! takes; `troche policy set` and `list` need nothing else.

use crate::error::{Error, Result};
use crate::store::{Db, Transaction, Value};

use super::people::{Person, require_pharmacist};
use super::{Actor, now};

/// A policy the log knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// A batch may be released or rejected by the pharmacist who prepared or recorded it
    /// (a pharmacy with one pharmacist); "on" or "off", off until set.
    SamePersonRelease,
}

impl Policy {
    pub const ALL: &[Policy] = &[Policy::SamePersonRelease];

    pub fn name(self) -> &'static str {
        match self {
            Policy::SamePersonRelease => "same-person-release",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Policy::SamePersonRelease => {
                "the pharmacist who prepared or recorded a batch may release or reject it"
            }
        }
    }

    /// The value in force when the policy was never set.
    pub fn default_value(self) -> &'static str {
        match self {
            Policy::SamePersonRelease => "off",
        }
    }

    pub fn parse(name: &str) -> Result<Policy> {
        Policy::ALL
            .iter()
            .copied()
            .find(|p| p.name() == name.trim())
            .ok_or_else(|| {
                Error::arg(
                    "POLICY",
                    format!(
                        "no policy {:?}; the policies: {}",
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
        }
    }
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
    let seq = tx
        .query("SELECT max(seq) AS seq FROM policies", &[])?
        .into_iter()
        .next()
        .map_or(Ok(None), |mut r| r.opt_int("seq"))?
        .unwrap_or(0)
        + 1;
    tx.execute(
        "INSERT INTO policies (seq, at, name, value, by_initials, workstation, os_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Value::int(seq),
            Value::text(now()),
            Value::text(policy.name()),
            Value::text(value),
            Value::text(by.initials.as_str()),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::people::{self, NewPerson, Role};
    use crate::logbook::testing::{Log, actor};

    #[test]
    fn a_policy_is_off_until_a_pharmacist_sets_it() {
        let mut log = Log::new();
        assert!(!same_person_release(log.db()).unwrap());
        let hash = people::hash_pin("correct horse").unwrap();
        log.db()
            .write(|tx| {
                people::add(
                    tx,
                    &NewPerson {
                        initials: "RP",
                        name: "R P",
                        role: Role::Pharmacist,
                        pin_hash: &hash,
                    },
                    None,
                    &actor(),
                )
            })
            .unwrap();
        let rp = people::person(log.db(), "RP").unwrap().unwrap();
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
}
