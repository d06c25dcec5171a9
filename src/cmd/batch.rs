//! `troche batch`: every batch of a recipe file, with a summary and a pick list.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::{batch, input, library, output, recipe};

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
    /// Worker threads (default: one per core). Output is identical for any number.
    #[arg(long, value_name = "N")]
    pub(super) jobs: Option<usize>,
    /// Replace existing files of a batch whose lot is given explicitly.
    #[arg(long)]
    pub(super) force: bool,
    /// Pharmacy settings file (default: the recipe's `config`, else ./troche.toml, else the user's).
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
}

pub(super) fn run(a: &BatchArgs) -> Result<i32> {
    let recipe = recipe::parse(
        &library::read_text_limited(&a.recipes, input::MAX_RECIPE_BYTES, "recipe file")?,
        &a.recipes,
    )?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("."));
    let opts = batch::Options {
        out: out.clone(),
        check_only: a.check,
        jobs: a.jobs,
        force: a.force,
        config: a.config.clone(),
        today: today(),
    };
    let report = batch::run(
        &recipe,
        &opts,
        batch::progress_reporter(recipe.entries.len()),
    )?;
    if !a.check {
        output::write(
            &out.join("summary.csv"),
            batch::summary_csv(&report).as_bytes(),
            true,
        )?;
        output::write(
            &out.join("picklist.csv"),
            batch::picklist_csv(&report).as_bytes(),
            true,
        )?;
    }
    print(&batch::text(&report))?;
    Ok(if report.failed() > 0 { 2 } else { 0 })
}
