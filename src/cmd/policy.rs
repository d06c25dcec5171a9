//! `troche policy`: the pharmacy's decisions kept in the log, each signed by a pharmacist
//! (docs/log.md), never a workstation's setting.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::config;
use crate::error::Result;
use crate::escape::{eprintln, print};
use crate::logbook::Actor;
use crate::logbook::policy::{self, Policy};

use super::context::Context;
use super::pins;

#[derive(Args)]
pub(super) struct PolicyArgs {
    #[command(subcommand)]
    action: Action,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Action {
    /// Set a policy, signed by a pharmacist (PIN on standard input when not a terminal).
    Set {
        /// The policy: same-person-release, refill-limit-CIII, refill-limit-CIV or
        /// refill-limit-CV.
        policy: String,
        /// Its value: on or off (same-person-release); a number of refills no higher than
        /// the federal limit, or federal (refill-limit-*).
        value: String,
        /// The pharmacist deciding it.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// Every policy, with its value and who set it.
    List,
}

pub(super) fn run(ctx: &Context, a: &PolicyArgs) -> Result<i32> {
    let settings = config::load(a.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    match &a.action {
        Action::Set { policy, value, by } => {
            let p = Policy::parse(policy)?;
            let value = p.value(value)?;
            let by = pins::by(by.as_deref(), settings.user.as_deref())?;
            let actor = Actor::current();
            let signer = pins::sign(db.as_mut(), &mut ctx.pins(&settings), "--by", &by, &actor)?;
            db.write(|tx| policy::set(tx, p, &value, &signer, &actor))?;
            eprintln(&format!("{} {value}, set by {by}", p.name()));
        }
        Action::List => {
            let mut out = String::new();
            for &p in Policy::ALL {
                let f = policy::get(db.as_mut(), p)?;
                let set = match (&f.set_by, &f.at) {
                    (Some(by), Some(at)) => format!("set by {by} at {at}"),
                    _ => "never set".into(),
                };
                let line = format!("{} = {} ({set}): {}\n", p.name(), f.value, p.describe());
                out.push_str(&line);
            }
            print(&out)?;
        }
    }
    Ok(0)
}
