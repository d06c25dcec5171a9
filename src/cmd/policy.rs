//! `troche policy`: the pharmacy's decisions kept in the log, each signed by a pharmacist
//! (docs/log.md), never a workstation's setting.

use clap::{Args, Subcommand};

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
    #[command(flatten)]
    config: super::SigningConfig,
}

#[derive(Subcommand)]
enum Action {
    /// Set a policy, signed by a pharmacist (PIN on standard input when not a terminal).
    Set {
        /// The policy: same-person-release, refill-limit-CIII, refill-limit-CIV,
        /// refill-limit-CV or controlled-substance.
        policy: String,
        /// Its value: on or off (same-person-release); a number of refills no higher than
        /// the federal limit, or federal (refill-limit-*); SUBSTANCE=SCHEDULE, a substance
        /// the state controls and its schedule, or SUBSTANCE=none (controlled-substance).
        value: String,
        /// The pharmacist deciding it.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// Every policy, with its value and who set it.
    List,
}

pub(super) fn run(ctx: &Context, a: &PolicyArgs) -> Result<i32> {
    let settings = a.config.load()?;
    let mut db = ctx.open_existing(&settings)?;
    match &a.action {
        Action::Set { policy, value, by }
            if policy.trim().eq_ignore_ascii_case(policy::STATE_SUBSTANCE) =>
        {
            let (substance, schedule) = policy::state_listing_value(value)?;
            let by = pins::by(by.as_deref(), settings.user.as_deref())?;
            let actor = Actor::current();
            let signer = pins::sign(db.as_mut(), &mut ctx.pins(&settings), "--by", &by, &actor)?;
            db.write(|tx| policy::set_state_listing(tx, &substance, schedule, &signer, &actor))?;
            let value = schedule.map_or(policy::UNLISTED, |s| s.as_str());
            eprintln(&format!(
                "{}:{substance} {value}, set by {by}",
                policy::STATE_SUBSTANCE
            ));
        }
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
            for l in policy::state_listings(db.as_mut())? {
                let line = format!(
                    "{} = {} (set by {} at {}): a substance this pharmacy's state controls\n",
                    l.policy_name(),
                    l.schedule.as_str(),
                    l.set_by,
                    l.at
                );
                out.push_str(&line);
            }
            print(&out)?;
        }
    }
    Ok(0)
}
