//! Master formulation records under control: a formula's id and version name one text, and a
//! pharmacist approves each text before its first batch in a log that has people.
//!
//! An approval is a pharmacist's signed decision for the whole pharmacy, so it is kept where
//! the other such decisions are: a row of `policies` (append-only by trigger), named
//! `formula-approval:ID:VERSION`, its value the text's SHA-256. A log without people keeps
//! working unsigned, as `make` does there: nothing is approved and nothing is asked for.

use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::store::{Db, Transaction, Value};

use super::Actor;
use super::people::{self, Person, require_pharmacist};

/// The prefix of an approval's name among the policies.
const PREFIX: &str = "formula-approval";

fn name(id: &str, version: u32) -> String {
    format!("{PREFIX}:{id}:{version}")
}

/// Who approved a formula's text, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub sha256: String,
    pub by: String,
    pub at: String,
}

/// The approval of formula `id` at `version`, if a pharmacist gave one.
pub fn approval(db: &mut dyn Db, id: &str, version: u32) -> Result<Option<Approval>> {
    let Some(mut r) = db
        .query(
            "SELECT value, by_initials, at FROM policies WHERE name = $1 ORDER BY seq LIMIT 1",
            &[Value::text(name(id, version))],
        )?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    Ok(Some(Approval {
        sha256: r.text("value")?,
        by: r.text("by_initials")?,
        at: r.text("at")?,
    }))
}

/// What the log says about `formula`'s text: the approval, if any, of exactly this text.
/// A text whose id and version the log knows with another SHA-256 (a batch's, or an
/// approval's) is refused: a changed master formulation record is a new version.
pub fn of(db: &mut dyn Db, formula: &Formula) -> Result<Option<Approval>> {
    let sha = formula.text.sha256().to_string();
    let stored = db.query(
        "SELECT sha256 FROM formula_texts WHERE formula_id = $1 AND version = $2 AND sha256 <> $3 \
         ORDER BY sha256 LIMIT 1",
        &[
            Value::text(formula.id.clone()),
            Value::int(i64::from(formula.version)),
            Value::text(sha.clone()),
        ],
    )?;
    let approved = approval(db, &formula.id, formula.version)?;
    let other = match (stored.into_iter().next(), &approved) {
        (Some(mut r), _) => Some((r.text("sha256")?, "batches in the log were made from")),
        (None, Some(a)) if a.sha256 != sha => Some((a.sha256.clone(), "the approved text is")),
        _ => None,
    };
    if let Some((other, what)) = other {
        return Err(Error::Input {
            file: formula.origin.clone(),
            line: None,
            key: Some("version".into()),
            message: format!(
                "formula {} version {} is not the text the log knows under that id and \
                 version ({what} SHA-256 {}, this text is {}): a changed master formulation \
                 record needs a new version; bump the version (and have it approved)",
                formula.id,
                formula.version,
                short(&other),
                short(&sha)
            ),
        });
    }
    Ok(approved)
}

/// Refuses a formula the log cannot make a batch from: another text under its id and
/// version, or, in a log that has people, a text no pharmacist approved. Read inside the
/// transaction that enters the batch.
pub fn check(db: &mut dyn Db, formula: &Formula) -> Result<()> {
    if of(db, formula)?.is_some() || !people::any(db)? {
        return Ok(());
    }
    Err(Error::Input {
        file: formula.origin.clone(),
        line: None,
        key: None,
        message: format!(
            "formula {} version {} (SHA-256 {}) is NOT APPROVED in this log: a pharmacist \
             approves a master formulation record before its first batch: troche formula \
             approve {} --version {} --by INITIALS",
            formula.id,
            formula.version,
            short(formula.text.sha256()),
            formula.id,
            formula.version
        ),
    })
}

/// Approves `formula`'s text, signed by a pharmacist (authenticated; re-read here). Returns
/// the earlier approval instead when this text was approved already (nothing is written).
pub fn approve(
    tx: &mut Transaction<'_>,
    formula: &Formula,
    by: &Person,
    actor: &Actor,
) -> Result<Option<Approval>> {
    require_pharmacist(tx, "--by", by, "approves a formula")?;
    if let Some(earlier) = of(tx, formula)? {
        return Ok(Some(earlier));
    }
    super::policy::record(
        tx,
        &name(&formula.id, formula.version),
        formula.text.sha256(),
        by,
        actor,
    )?;
    Ok(None)
}

/// The first 16 hex digits of a SHA-256, as the seal prints them.
fn short(sha: &str) -> &str {
    sha.get(..16).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, actor};

    #[test]
    fn a_text_is_approved_once_and_another_text_of_its_version_is_refused() {
        let mut log = Log::new();
        let f = crate::library::load("progesterone-troche").unwrap();
        // No people: nothing is asked for.
        check(log.db(), &f).unwrap();
        let rp = log.pharmacist();
        let err = check(log.db(), &f).unwrap_err().to_string();
        assert!(err.contains("NOT APPROVED"), "{err}");
        assert_eq!(
            log.db().write(|tx| approve(tx, &f, &rp, &actor())).unwrap(),
            None
        );
        check(log.db(), &f).unwrap();
        let again = log.db().write(|tx| approve(tx, &f, &rp, &actor())).unwrap();
        assert_eq!(again.map(|a| a.by), Some("RP".to_string()));
        let text = format!("# a changed comment is a changed text\n{}", f.text.as_str());
        let changed =
            crate::formula::parse(&text, "changed.toml").expect("a formula with changed words");
        let err = check(log.db(), &changed).unwrap_err().to_string();
        assert!(err.contains("bump the version"), "{err}");
    }
}
