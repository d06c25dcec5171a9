//! `troche user`: the pharmacy's people, who sign with their PINs (docs/log.md). Adding,
//! deactivating and unlocking are a pharmacist's acts; each is an event of the log.

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::escape::{eprintln, print};
use crate::logbook::Actor;
use crate::logbook::people::{self, NewPerson, Role};

use super::context::Context;
use super::pins;

#[derive(Args)]
pub(super) struct UserArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    config: super::SigningConfig,
}

#[derive(Subcommand)]
enum Action {
    /// Add a person. Reads their new PIN, then the signing pharmacist's (--by), one line each
    /// on standard input when it is not a terminal. The log's first person is a pharmacist,
    /// who adds themself without --by.
    Add {
        /// The person's initials: 1 to 10 letters or digits, theirs for good.
        initials: String,
        /// Their full name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// pharmacist or technician.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// The pharmacist adding them (not for the log's first person).
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// List the people of the log, with their role and state.
    List,
    /// Deactivate a person for good (their signatures stay). Signed by a pharmacist.
    Deactivate {
        /// The person's initials.
        initials: String,
        /// The pharmacist deactivating them.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// Change one's own PIN: reads the old PIN, then the new one.
    Pin {
        /// Your initials.
        initials: String,
    },
    /// Unlock a person locked after five wrong PINs. Signed by a pharmacist.
    Unlock {
        /// The person's initials.
        initials: String,
        /// The pharmacist unlocking them.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
}

pub(super) fn run(ctx: &Context, a: &UserArgs) -> Result<i32> {
    let settings = a.config.load()?;
    // The first pharmacist starts a new pharmacy's log with `user add`; the other actions
    // need a log that exists.
    let mut db = if matches!(a.action, Action::Add { .. }) {
        ctx.open(&settings)?
    } else {
        ctx.open_existing(&settings)?
    };
    let actor = Actor::current();
    let mut pins = ctx.pins(&settings);
    let settings_user = settings.user.as_deref();
    match &a.action {
        Action::Add {
            initials,
            name,
            role,
            by,
        } => {
            let initials = people::initials("INITIALS", initials)?;
            let name = name.trim();
            if name.is_empty() {
                return Err(crate::Error::arg("--name", "give the person's full name"));
            }
            crate::escape::check(name, false).map_err(|m| crate::Error::arg("--name", m))?;
            let role = Role::parse(role)
                .ok_or_else(|| crate::Error::arg("--role", "pharmacist or technician"))?;
            let hash = pins.new_pin_hash(&format!("new PIN of {initials}"))?;
            // The first person adds themself; `user` of a fresh workstation's settings does
            // not sign for them.
            let by = match by {
                Some(b) => Some(people::initials("--by", b)?),
                None if !people::any(db.as_mut())? => None,
                None => Some(pins::by(None, settings_user).map_err(|_| {
                    crate::Error::arg(
                        "--by",
                        "the log has people: a pharmacist adds the next, with --by INITIALS \
                         (their PIN is the second line)",
                    )
                })?),
            };
            let signer = match &by {
                Some(b) => Some(pins::sign(db.as_mut(), &mut pins, "--by", b, &actor)?),
                None => None,
            };
            db.write(|tx| {
                people::add(
                    tx,
                    &NewPerson {
                        initials: &initials,
                        name,
                        role,
                        pin_hash: &hash,
                    },
                    signer.as_ref(),
                    &actor,
                )
            })?;
            eprintln(&format!("added {initials} ({name}), {role}"));
        }
        Action::List => {
            let mut out = String::from("initials  role        state     name\n");
            for p in people::people(db.as_mut())? {
                let line = format!(
                    "{:<9} {:<11} {:<9} {}\n",
                    p.initials,
                    p.role.as_str(),
                    p.state(),
                    p.name
                );
                out.push_str(&line);
            }
            print(&out)?;
        }
        Action::Deactivate { initials, by } => {
            let initials = people::initials("INITIALS", initials)?;
            let by = pins::by(by.as_deref(), settings_user)?;
            let signer = pins::sign(db.as_mut(), &mut pins, "--by", &by, &actor)?;
            db.write(|tx| people::deactivate(tx, &initials, &signer, &actor))?;
            eprintln(&format!("{initials} deactivated by {by}"));
        }
        Action::Unlock { initials, by } => {
            let initials = people::initials("INITIALS", initials)?;
            let by = pins::by(by.as_deref(), settings_user)?;
            let signer = pins::sign(db.as_mut(), &mut pins, "--by", &by, &actor)?;
            db.write(|tx| people::unlock(tx, &initials, &signer, &actor))?;
            eprintln(&format!("{initials} unlocked by {by}"));
        }
        Action::Pin { initials } => {
            let initials = people::initials("INITIALS", initials)?;
            if pins.practice() {
                return Err(crate::Error::arg(
                    "pin",
                    "the practice log has no PINs: its people sign with their initials alone",
                ));
            }
            let who = pins::sign(db.as_mut(), &mut pins, "INITIALS", &initials, &actor)?;
            let hash = pins.new_pin_hash(&format!("new PIN of {initials}"))?;
            db.write(|tx| people::change_pin(tx, &who, &hash, &actor))?;
            eprintln(&format!("PIN of {initials} changed"));
        }
    }
    Ok(0)
}
