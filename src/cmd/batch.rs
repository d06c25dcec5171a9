//! `troche batch`: every batch of a recipe file, with a summary and a pick list.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::{batch, input, library, output, recipe, record};

use super::context::Context;
use super::{print, today};

#[derive(Args)]
pub(super) struct BatchArgs {
    /// Recipe file (docs/recipe-format.md).
    pub(super) recipes: PathBuf,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "check")]
    pub(super) out: Option<PathBuf>,
    /// Validate every entry (and lay out its documents) without writing anything.
    #[arg(long)]
    pub(super) check: bool,
    /// Worker threads (default: one per core; never more than the cores or the entries).
    /// Output is identical for any number.
    #[arg(long, value_name = "N")]
    pub(super) jobs: Option<usize>,
    /// Allow compounding dates more than 30 days before today or after it, and BUDs already
    /// past.
    #[arg(long)]
    pub(super) backdate: bool,
    /// Replace existing files of a batch whose lot is given explicitly.
    #[arg(long)]
    pub(super) force: bool,
    /// Pharmacy settings file (default: the recipe's `config`, else ./troche.toml, else the user's).
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
}

pub(super) fn run(ctx: &Context, a: &BatchArgs) -> Result<i32> {
    let recipe = recipe::parse(
        &library::read_text_limited(&a.recipes, input::MAX_RECIPE_BYTES, "recipe file")?,
        &a.recipes,
    )?;
    if a.jobs == Some(0) {
        return Err(Error::arg("--jobs", "must be at least 1"));
    }
    // The shared date fails the whole run, at its line, before anything is made.
    if let Some(d) = recipe.shared.date
        && let Err(m) = record::check_dates(d, None, today(), a.backdate)
    {
        return Err(Error::Input {
            file: a.recipes.display().to_string(),
            line: recipe.shared.date_line,
            key: Some("date".into()),
            message: m,
        });
    }
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("."));
    let opts = batch::Options {
        out: out.clone(),
        check_only: a.check,
        jobs: a.jobs,
        force: a.force,
        config: a.config.clone(),
        today: today(),
        backdate: a.backdate,
    };
    // The log is opened only to make batches; `--check` writes nothing anywhere.
    let mut log = if a.check {
        None
    } else {
        let settings =
            crate::config::load(a.config.as_deref().or(recipe.shared.config.as_deref()))?;
        Some(ctx.open(settings.database.as_deref())?)
    };
    let report = batch::run_logged(
        &recipe,
        &opts,
        log.as_deref_mut(),
        batch::progress_reporter(recipe.entries.len()),
    )?;
    // Every entry's outcome and the pick list reach the terminal first, whatever the disk does
    // with the files below.
    print(&batch::text(&report))?;
    let mut code = if report.io_failures > 0 {
        1
    } else if report.failed() > 0 {
        2
    } else {
        0
    };
    if !a.check {
        // The previous run's files were removed when this run started; on a failure here the
        // run has none, never a stale one.
        let [summary, picklist] = batch::RUN_FILES.map(|n| out.join(n));
        for (path, text) in [
            (summary, batch::summary_csv(&report)),
            (picklist, batch::picklist_csv(&report)),
        ] {
            if let Err(e) = output::write(&path, text.as_bytes(), true) {
                crate::printable::eprintln(&format!("troche: error: {e}"));
                code = 1;
            }
        }
    }
    Ok(code)
}
