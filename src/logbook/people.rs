//! The pharmacy's people, whose PINs sign the log: who they are, their role, and whether they
//! may sign now. A PIN is kept only as an Argon2id hash (OWASP's parameters: 19 MiB, two
//! passes, one lane); five wrong PINs in a row lock a person until a pharmacist unlocks them.
//!
//! `people` holds each person's state now, written only here and only in the transaction of
//! the `people_events` row that changes it; that history is append-only.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde_json::json;

use crate::error::{Error, Result};
use crate::store::{Db, FromRow, Row, Transaction, Value};

use super::{Actor, next_seq, now};

/// Wrong PINs in a row that lock a person.
pub const LOCK_AFTER: i64 = 5;
/// The shortest PIN accepted.
pub const PIN_MIN: usize = 8;

/// What a person may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Releases and rejects batches, acknowledges deviations, adds and unlocks people, sets
    /// policies.
    Pharmacist,
    /// Prepares and records batches.
    Technician,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pharmacist => "pharmacist",
            Role::Technician => "technician",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pharmacist" => Some(Role::Pharmacist),
            "technician" => Some(Role::Technician),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person of the log.
#[derive(Debug, Clone)]
pub struct Person {
    pub initials: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub locked: bool,
    /// Wrong PINs since the last right one.
    pub failures: i64,
    pub added_at: String,
    pin_hash: String,
}

impl FromRow for Person {
    fn from_row(mut r: Row) -> Result<Person> {
        let initials = r.text("initials")?;
        let role = r.text("role")?;
        Ok(Person {
            role: Role::parse(&role).ok_or_else(|| {
                Error::stored(format!("person {initials} has the unknown role {role:?}"))
            })?,
            initials,
            name: r.text("name")?,
            active: r.int("active")? != 0,
            locked: r.int("locked")? != 0,
            failures: r.int("failures")?,
            added_at: r.text("added_at")?,
            pin_hash: r.text("pin_hash")?,
        })
    }
}

impl Person {
    pub fn is_pharmacist(&self) -> bool {
        self.role == Role::Pharmacist
    }

    /// What the person is now: "active", "locked" or "inactive".
    pub fn state(&self) -> &'static str {
        if !self.active {
            "inactive"
        } else if self.locked {
            "locked"
        } else {
            "active"
        }
    }
}

/// Initials as the log keeps them: upper case, 1 to 10 letters or digits. Anything else is
/// refused, naming `flag`.
pub fn initials(flag: &str, text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 10 || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::arg(
            flag,
            format!("\"{t}\" are not initials: give 1 to 10 letters or digits, e.g. JD"),
        ));
    }
    Ok(t.to_ascii_uppercase())
}

/// Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1).
fn hasher() -> Argon2<'static> {
    // The parameters are constants within Argon2's limits; `Params::DEFAULT` is the same set.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new PIN's hash (PHC string: algorithm, parameters, salt and hash), after checking its
/// length.
pub fn hash_pin(pin: &str) -> Result<String> {
    if pin.chars().count() < PIN_MIN {
        return Err(Error::arg(
            "PIN",
            format!("a PIN has at least {PIN_MIN} characters"),
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::internal("drawing a salt for the PIN's hash", e))?;
    // password-hash's errors are std errors only with its `std` feature, which is left off
    // (Cargo.toml says why): their text is the cause.
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::internal("encoding the salt", e.to_string()))?;
    hasher()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal("hashing the PIN", e.to_string()))
}

fn pin_matches(pin: &str, hash: &str) -> Result<bool> {
    let parsed = PasswordHash::new(hash)
        .map_err(|e| Error::stored(format!("a stored PIN hash cannot be read: {e}")))?;
    Ok(hasher().verify_password(pin.as_bytes(), &parsed).is_ok())
}

const COLUMNS: &str = "initials, name, role, pin_hash, active, failures, locked, added_at";

/// The person with these initials, if the log has one.
pub fn person(db: &mut dyn Db, initials: &str) -> Result<Option<Person>> {
    db.query_one(
        &format!("SELECT {COLUMNS} FROM people WHERE initials = $1"),
        &[Value::text(initials)],
    )
}

/// Whether the log has anyone yet (one indexed read).
pub fn any(db: &mut dyn Db) -> Result<bool> {
    Ok(!db
        .query("SELECT 1 AS found FROM people LIMIT 1", &[])?
        .is_empty())
}

/// Everyone, in the order they were added.
pub fn people(db: &mut dyn Db) -> Result<Vec<Person>> {
    db.query_as(
        &format!("SELECT {COLUMNS} FROM people ORDER BY added_at, initials"),
        &[],
    )
}

/// An event of a person's history, in the transaction that changes their state.
fn append(
    tx: &mut Transaction<'_>,
    initials: &str,
    what: &str,
    by: Option<&str>,
    details: &serde_json::Value,
    actor: &Actor,
) -> Result<()> {
    let seq = next_seq(tx, "people_events")?;
    tx.execute(
        "INSERT INTO people_events (seq, at, initials, what, by_initials, workstation, os_user, \
         details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Value::int(seq),
            Value::text(now()),
            Value::text(initials),
            Value::text(what),
            Value::opt(by),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
            Value::text(details.to_string()),
        ],
    )?;
    super::chain::link_history(tx, "people_events", seq)
}

/// Who may sign: known, active and not locked. Checked again inside the transaction a
/// signature goes into, since another workstation may have deactivated the person since.
pub fn require_signer(db: &mut dyn Db, flag: &str, initials: &str) -> Result<Person> {
    let p = person(db, initials)?.ok_or_else(|| {
        Error::arg(
            flag,
            format!("no person {initials} in the compounding log (troche user list)"),
        )
    })?;
    if !p.active {
        return Err(Error::arg(
            flag,
            format!("{initials} is inactive and cannot sign"),
        ));
    }
    if p.locked {
        return Err(Error::arg(
            flag,
            format!(
                "{initials} is locked after {LOCK_AFTER} wrong PINs in a row; a pharmacist \
                 unlocks them with `troche user unlock {initials} --by INITIALS`"
            ),
        ));
    }
    Ok(p)
}

/// Checks a person's PIN. A wrong one is counted (an event), and the fifth in a row locks the
/// person (another event), in a write transaction of its own that commits although the
/// command is refused: the count must survive the refusal. A right one after wrong ones
/// resets the count.
pub fn authenticate(
    db: &mut dyn Db,
    flag: &str,
    initials: &str,
    pin: &str,
    actor: &Actor,
) -> Result<Person> {
    let p = require_signer(db, flag, initials)?;
    let right = pin_matches(pin, &p.pin_hash)?;
    if right && p.failures == 0 {
        return Ok(p);
    }
    let failures = db.write(|tx| {
        // Read again under the write lock: wrong PINs typed at two workstations both count.
        let p = require_signer(tx, flag, initials)?;
        if right {
            tx.execute(
                "UPDATE people SET failures = 0 WHERE initials = $1",
                &[Value::text(initials)],
            )?;
            return Ok(0);
        }
        let failures = p.failures + 1;
        append(
            tx,
            initials,
            "wrong-pin",
            None,
            &json!({ "in_a_row": failures }),
            actor,
        )?;
        let locked = failures >= LOCK_AFTER;
        if locked {
            append(tx, initials, "locked", None, &json!({}), actor)?;
        }
        tx.execute(
            "UPDATE people SET failures = $1, locked = $2 WHERE initials = $3",
            &[
                Value::int(failures),
                Value::int(i64::from(locked)),
                Value::text(initials),
            ],
        )?;
        Ok(failures)
    })?;
    if right {
        return Ok(Person { failures: 0, ..p });
    }
    let left = LOCK_AFTER - failures;
    Err(Error::arg(
        flag,
        if left > 0 {
            format!("wrong PIN for {initials}; {left} more wrong in a row locks them")
        } else {
            format!(
                "wrong PIN for {initials}; {initials} is now locked until a pharmacist unlocks \
                 them (troche user unlock {initials} --by INITIALS)"
            )
        },
    ))
}

/// A person to add.
pub struct NewPerson<'a> {
    pub initials: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub pin_hash: &'a str,
}

/// Adds a person. The log's first person adds themself and must be a pharmacist; everyone
/// after is added by a pharmacist (`by`, already authenticated).
pub fn add(
    tx: &mut Transaction<'_>,
    new: &NewPerson<'_>,
    by: Option<&Person>,
    actor: &Actor,
) -> Result<()> {
    let first = !any(tx)?;
    match (first, by) {
        (true, None) if new.role != Role::Pharmacist => {
            return Err(Error::arg(
                "--role",
                "the first person of a compounding log is a pharmacist, who then adds the others",
            ));
        }
        (true, None) => {}
        (true, Some(_)) => {
            return Err(Error::arg(
                "--by",
                "the log has no one yet to sign for a new person: the first pharmacist adds \
                 themself, without --by",
            ));
        }
        (false, None) => {
            return Err(Error::arg(
                "--by",
                "a pharmacist adds people: give their initials with --by (their PIN is the \
                 second line)",
            ));
        }
        (false, Some(by)) => {
            require_pharmacist(tx, "--by", by, "adds people")?;
        }
    }
    if person(tx, new.initials)?.is_some() {
        return Err(Error::arg(
            "INITIALS",
            format!(
                "the log already has {}; initials name one person for good (a person who left \
                 is deactivated, never reused)",
                new.initials
            ),
        ));
    }
    let at = now();
    tx.execute(
        "INSERT INTO people (initials, name, role, pin_hash, active, failures, locked, added_at) \
         VALUES ($1, $2, $3, $4, 1, 0, 0, $5)",
        &[
            Value::text(new.initials),
            Value::text(new.name),
            Value::text(new.role.as_str()),
            Value::text(new.pin_hash),
            Value::text(at),
        ],
    )?;
    append(
        tx,
        new.initials,
        "added",
        by.map(|p| p.initials.as_str()),
        &json!({ "name": new.name, "role": new.role.as_str() }),
        actor,
    )
}

/// Refuses anyone but an active, unlocked pharmacist, re-read inside the transaction.
pub fn require_pharmacist(tx: &mut dyn Db, flag: &str, by: &Person, what: &str) -> Result<Person> {
    let p = require_signer(tx, flag, &by.initials)?;
    if !p.is_pharmacist() {
        return Err(Error::arg(
            flag,
            format!("{} is a {}; only a pharmacist {what}", p.initials, p.role),
        ));
    }
    Ok(p)
}

/// Deactivates a person for good (their past signatures stay); a pharmacist's act, and never
/// the last active pharmacist.
pub fn deactivate(
    tx: &mut Transaction<'_>,
    initials: &str,
    by: &Person,
    actor: &Actor,
) -> Result<()> {
    require_pharmacist(tx, "--by", by, "deactivates people")?;
    let p = known(tx, initials)?;
    if !p.active {
        return Err(Error::arg(
            "INITIALS",
            format!("{initials} is already inactive"),
        ));
    }
    if p.is_pharmacist() {
        let others = people(tx)?
            .iter()
            .filter(|o| o.active && o.is_pharmacist() && o.initials != p.initials)
            .count();
        if others == 0 {
            return Err(Error::arg(
                "INITIALS",
                format!("{initials} is the last active pharmacist; add another first"),
            ));
        }
    }
    tx.execute(
        "UPDATE people SET active = 0 WHERE initials = $1",
        &[Value::text(initials)],
    )?;
    append(
        tx,
        initials,
        "deactivated",
        Some(&by.initials),
        &json!({}),
        actor,
    )
}

/// Unlocks a person locked by wrong PINs; a pharmacist's act.
pub fn unlock(tx: &mut Transaction<'_>, initials: &str, by: &Person, actor: &Actor) -> Result<()> {
    require_pharmacist(tx, "--by", by, "unlocks people")?;
    let p = known(tx, initials)?;
    if !p.locked {
        return Err(Error::arg("INITIALS", format!("{initials} is not locked")));
    }
    tx.execute(
        "UPDATE people SET locked = 0, failures = 0 WHERE initials = $1",
        &[Value::text(initials)],
    )?;
    append(
        tx,
        initials,
        "unlocked",
        Some(&by.initials),
        &json!({}),
        actor,
    )
}

/// Replaces a person's PIN hash; the person has just signed with the old PIN.
pub fn change_pin(
    tx: &mut Transaction<'_>,
    who: &Person,
    new_hash: &str,
    actor: &Actor,
) -> Result<()> {
    require_signer(tx, "INITIALS", &who.initials)?;
    tx.execute(
        "UPDATE people SET pin_hash = $1, failures = 0 WHERE initials = $2",
        &[Value::text(new_hash), Value::text(who.initials.as_str())],
    )?;
    append(
        tx,
        &who.initials,
        "pin-changed",
        Some(&who.initials),
        &json!({}),
        actor,
    )
}

fn known(db: &mut dyn Db, initials: &str) -> Result<Person> {
    person(db, initials)?.ok_or_else(|| {
        Error::arg(
            "INITIALS",
            format!("no person {initials} in the compounding log (troche user list)"),
        )
    })
}

/// A person's history, oldest first: (at, what, by).
pub fn history(db: &mut dyn Db, initials: &str) -> Result<Vec<(String, String, Option<String>)>> {
    db.query(
        "SELECT at, what, by_initials FROM people_events WHERE initials = $1 ORDER BY seq",
        &[Value::text(initials)],
    )?
    .into_iter()
    .map(|mut r| Ok((r.text("at")?, r.text("what")?, r.opt_text("by_initials")?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, actor};

    fn add_one(log: &mut Log, initials: &str, role: Role, by: Option<&Person>) -> Result<()> {
        let hash = hash_pin("correct horse")?;
        log.db().write(|tx| {
            add(
                tx,
                &NewPerson {
                    initials,
                    name: "Someone",
                    role,
                    pin_hash: &hash,
                },
                by,
                &actor(),
            )
        })
    }

    #[test]
    fn a_pin_is_hashed_with_argon2id_and_short_ones_are_refused() {
        let h = hash_pin("12345678").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(pin_matches("12345678", &h).unwrap());
        assert!(!pin_matches("12345679", &h).unwrap());
        assert_ne!(hash_pin("12345678").unwrap(), h, "salted");
        assert!(hash_pin("1234567").is_err());
        assert_eq!(initials("--by", " jd ").unwrap(), "JD");
        assert!(initials("--by", "J D").is_err());
        assert!(initials("--by", "").is_err());
    }

    #[test]
    fn the_first_is_a_pharmacist_who_then_adds_the_others() {
        let mut log = Log::new();
        let e = add_one(&mut log, "TK", Role::Technician, None).unwrap_err();
        assert!(e.to_string().contains("first person"), "{e}");
        add_one(&mut log, "RP", Role::Pharmacist, None).unwrap();
        let e = add_one(&mut log, "TK", Role::Technician, None).unwrap_err();
        assert!(e.to_string().contains("--by"), "{e}");
        let rp = person(log.db(), "RP").unwrap().unwrap();
        add_one(&mut log, "TK", Role::Technician, Some(&rp)).unwrap();
        let tk = person(log.db(), "TK").unwrap().unwrap();
        let e = add_one(&mut log, "T2", Role::Technician, Some(&tk)).unwrap_err();
        assert!(e.to_string().contains("only a pharmacist"), "{e}");
        let e = add_one(&mut log, "TK", Role::Technician, Some(&rp)).unwrap_err();
        assert!(e.to_string().contains("already has TK"), "{e}");
        let e = log
            .db()
            .write(|tx| deactivate(tx, "RP", &rp, &actor()))
            .unwrap_err();
        assert!(e.to_string().contains("last active pharmacist"), "{e}");
        log.db()
            .write(|tx| deactivate(tx, "TK", &rp, &actor()))
            .unwrap();
        let e = authenticate(log.db(), "--by", "TK", "correct horse", &actor()).unwrap_err();
        assert!(e.to_string().contains("inactive"), "{e}");
        let whats: Vec<String> = history(log.db(), "TK")
            .unwrap()
            .into_iter()
            .map(|(_, w, _)| w)
            .collect();
        assert_eq!(whats, ["added", "deactivated"]);
        assert!(log.db().execute("DELETE FROM people_events", &[]).is_err());
        assert!(log.db().execute("DELETE FROM people", &[]).is_err());
    }

    #[test]
    fn five_wrong_pins_in_a_row_lock_until_a_pharmacist_unlocks() {
        let mut log = Log::new();
        add_one(&mut log, "RP", Role::Pharmacist, None).unwrap();
        let rp = person(log.db(), "RP").unwrap().unwrap();
        add_one(&mut log, "TK", Role::Technician, Some(&rp)).unwrap();
        // A right PIN resets the count.
        for _ in 0..4 {
            assert!(authenticate(log.db(), "--by", "TK", "wrong pin", &actor()).is_err());
        }
        authenticate(log.db(), "--by", "TK", "correct horse", &actor()).unwrap();
        for k in 1..=LOCK_AFTER {
            let e = authenticate(log.db(), "--by", "TK", "wrong pin", &actor()).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            if k == LOCK_AFTER {
                assert!(e.to_string().contains("now locked"), "{e}");
            }
        }
        let e = authenticate(log.db(), "--by", "TK", "correct horse", &actor()).unwrap_err();
        assert!(e.to_string().contains("is locked"), "{e}");
        log.db()
            .write(|tx| unlock(tx, "TK", &rp, &actor()))
            .unwrap();
        authenticate(log.db(), "--by", "TK", "correct horse", &actor()).unwrap();
        let wrong = history(log.db(), "TK")
            .unwrap()
            .iter()
            .filter(|(_, w, _)| w == "wrong-pin")
            .count();
        assert_eq!(wrong, 9);
    }
}
