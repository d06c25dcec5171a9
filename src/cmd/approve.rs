//! `troche formula`: master formulation records under a pharmacist's control. `approve`
//! signs a formula's text (its id, version and SHA-256) before its first batch; `list` shows
//! what the log has approved (docs/log.md, approvals).

use clap::{Args, Subcommand};

use crate::error::{Error, Result};
use crate::escape::{eprintln, print};
use crate::formula::Formula;
use crate::library;
use crate::logbook::{Actor, approval};

use super::context::Context;
use super::pins;

#[derive(Args)]
pub(super) struct FormulaArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    config: super::SigningConfig,
}

#[derive(Subcommand)]
enum Action {
    /// Approve a formula's text before its first batch, signed by a pharmacist (PIN on
    /// standard input when not a terminal).
    Approve {
        /// Library id or path to a formula file.
        #[arg(required_unless_present = "library", conflicts_with = "library")]
        formula: Option<String>,
        /// The version being approved: refused unless the formula states it.
        #[arg(long, value_name = "N")]
        version: Option<u32>,
        /// Every formula embedded in the program, at its version in this program.
        #[arg(long)]
        library: bool,
        /// The pharmacist approving it.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// The formulas embedded in the program, each with its version, SHA-256 and approval in
    /// this log.
    List,
}

pub(super) fn run(ctx: &Context, a: &FormulaArgs) -> Result<i32> {
    let settings = a.config.load()?;
    match &a.action {
        Action::Approve {
            formula,
            version,
            library: all,
            by,
        } => {
            let formulas = match formula {
                Some(f) => vec![library::load(f)?],
                None => library::all()?,
            };
            if let (Some(v), [f]) = (version, formulas.as_slice())
                && *v != f.version
            {
                return Err(Error::arg(
                    "--version",
                    format!(
                        "{} states version {}, not {v}; approve the text you reviewed",
                        f.id, f.version
                    ),
                ));
            }
            if *all && version.is_some() {
                return Err(Error::arg(
                    "--version",
                    "names one formula's version; --library approves each at its own",
                ));
            }
            let mut db = ctx.open_existing(&settings)?;
            let by = pins::by(by.as_deref(), settings.user.as_deref())?;
            let actor = Actor::current();
            let signer = pins::sign(db.as_mut(), &mut ctx.pins(&settings), "--by", &by, &actor)?;
            // One transaction: every formula is approved, or none.
            let outcomes = db.write(|tx| {
                formulas
                    .iter()
                    .map(|f| approval::approve(tx, f, &signer, &actor))
                    .collect::<Result<Vec<_>>>()
            })?;
            for (f, earlier) in formulas.iter().zip(outcomes) {
                let line = match earlier {
                    Some(e) => format!(
                        "{} version {}: approved earlier by {} at {}",
                        f.id, f.version, e.by, e.at
                    ),
                    None => format!(
                        "{} version {} (SHA-256 {}) approved by {by}",
                        f.id,
                        f.version,
                        f.text.sha256()
                    ),
                };
                eprintln(&line);
            }
        }
        Action::List => {
            let mut db = ctx.open_existing(&settings)?;
            let all = library::all()?;
            let w = all.iter().map(|f| f.id.chars().count()).max().unwrap_or(2);
            let mut out = format!("{:<w$}  VERSION  SHA-256           APPROVAL\n", "ID");
            for f in &all {
                let line = format!(
                    "{:<w$}  {:>7}  {}  {}\n",
                    f.id,
                    f.version,
                    f.text.sha256().get(..16).unwrap_or_default(),
                    state(db.as_mut(), f)?.1
                );
                out.push_str(&line);
            }
            print(&out)?;
        }
    }
    Ok(0)
}

/// A formula's approval, and in words: who and when, or NOT APPROVED (and why, when the log
/// knows another text under its id and version).
pub(super) fn state(
    db: &mut dyn crate::store::Db,
    f: &Formula,
) -> Result<(Option<approval::Approval>, String)> {
    Ok(match approval::of(db, f) {
        Ok(Some(a)) => {
            let words = format!("approved by {} at {}", a.by, a.at);
            (Some(a), words)
        }
        Ok(None) => (None, "NOT APPROVED".into()),
        Err(Error::Input { .. }) => (
            None,
            "NOT APPROVED: the log knows another text under this id and version; bump the \
             version"
                .into(),
        ),
        Err(e) => return Err(e),
    })
}
