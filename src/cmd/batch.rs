//! `troche batch`: every batch of a recipe file, with a summary and a pick list. The running
//! is `crate::batch`'s; what the run shows is here: the progress on standard error, the
//! summary and pick list on the terminal, and `summary.csv` and `picklist.csv`.

use std::fmt;
use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::Args;
use rust_decimal::Decimal;

use crate::batch::{self, Pick, Report, Row, Status};
use crate::calc_report::plural;
use crate::error::{Error, Kind, Result};
use crate::formula::Schedule;
use crate::logbook::Actor;
use crate::quantity::round_to;
use crate::{batch_record, escape, input, library, publish, recipe, spreadsheet};

use super::context::Context;
use super::pins::{self, SignArgs};
use super::{print, today};

#[derive(Args)]
// The usage line says that one of the two is required: `<--out <DIR>|--check>`.
#[group(id = "run", required = true, multiple = true, args = ["out", "check"])]
pub(super) struct BatchArgs {
    /// Recipe file (docs/recipe-format.md).
    pub(super) recipes: PathBuf,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR", help_heading = "Output")]
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
    #[arg(long, help_heading = "Order")]
    pub(super) backdate: bool,
    /// Replace existing files of a batch whose lot is given explicitly.
    #[arg(long, help_heading = "Output")]
    pub(super) force: bool,
    /// Pharmacy settings file (default: the recipe's `config`, else ./troche.toml, else the user's).
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
    /// Output format of the run's report (the table, or JSON: docs/json-format.md).
    #[arg(long, value_enum, default_value_t)]
    pub(super) format: super::Format,
    /// Make an entry again that the log holds as this lot (a rejected batch, say): a new lot,
    /// linked to the old one in the log. Repeat for more lots.
    #[arg(long, value_name = "LOT", value_parser = remake_lot)]
    pub(super) remake: Vec<String>,
    #[command(flatten)]
    pub(super) sign: SignArgs,
}

/// A `--remake` lot, as the log keeps lots.
fn remake_lot(text: &str) -> std::result::Result<String, String> {
    crate::logbook::normalize_lot(text).map_err(|e| match e {
        Error::Argument { message, .. } => message,
        other => other.to_string(),
    })
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
        && let Err(m) = batch_record::check_dates(d, None, today(), a.backdate)
    {
        return Err(Error::Input {
            file: a.recipes.display().to_string(),
            line: recipe.shared.date_line,
            key: Some("date".into()),
            message: m,
        });
    }
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut opts = batch::Options {
        out: out.clone(),
        check_only: a.check,
        jobs: a.jobs,
        force: a.force,
        config: a.config.clone(),
        today: today(),
        backdate: a.backdate,
        prepared_by: None,
        stamps: Vec::new(),
        remake: a.remake.clone(),
    };
    // `--check` writes nothing anywhere: it reads the log, when there is one, for the lots it
    // would give now.
    let mut mode = crate::publish::FileMode::default();
    let mut log = if a.check {
        // Settings that cannot be read are reported by the run, as the recipe's.
        match crate::config::load(a.config.as_deref().or(recipe.shared.config.as_deref())) {
            Ok(settings) => ctx.read_if_there(&settings)?,
            Err(_) => None,
        }
    } else {
        let settings =
            crate::config::load(a.config.as_deref().or(recipe.shared.config.as_deref()))?;
        mode = settings.file_mode;
        if ctx.practice(&settings) {
            opts.stamps.push(crate::batch_record::Stamp::Practice);
        }
        let mut db = ctx.open(&settings)?;
        // One signature for the whole run: every batch's `prepared` event names the signer.
        let signer = pins::preparer(
            db.as_mut(),
            &mut ctx.pins(&settings),
            a.sign.by.as_deref(),
            settings.user.as_deref(),
            &Actor::current(),
        )?;
        opts.prepared_by = signer.map(|p| p.initials);
        Some(db)
    };
    let report = batch::run_logged(
        &recipe,
        &opts,
        log.as_deref_mut(),
        progress_reporter(recipe.entries.len()),
    )?;
    // Every entry's outcome and the pick list reach the terminal first, whatever the disk does
    // with the files below.
    print(&match a.format {
        super::Format::Table => Text(&report).to_string(),
        super::Format::Json => report_json(&report)?,
    })?;
    let mut code = if report.io_failures > 0 {
        Kind::Io.exit_code()
    } else if report.failed() > 0 {
        Kind::Input.exit_code()
    } else {
        0
    };
    if !a.check {
        // The previous run's files were removed when this run started; on a failure here the
        // run has none, never a stale one.
        let [summary, picklist] = batch::RUN_FILES.map(|n| out.join(n));
        for (path, text) in [
            (summary, summary_csv(&report)?),
            (picklist, picklist_csv(&report)?),
        ] {
            if let Err(e) = publish::write(&path, text.as_bytes(), true, mode) {
                escape::eprintln(&format!("error: {e}"));
                code = Kind::Io.exit_code();
            }
        }
    }
    Ok(code)
}

/// The run's report for a program: every entry with its outcome and the warnings of the
/// batch it made, the run's warnings and the pick list (docs/json-format.md, batch).
fn report_json(report: &Report) -> Result<String> {
    let entries: Vec<serde_json::Value> = report
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "entry": r.index,
                "line": r.line,
                "lot": r.lot,
                "rx": r.rx,
                "formula": r.formula,
                "strength": r.strength,
                "quantity": r.quantity,
                "bud": r.bud,
                "status": r.status.word(),
                "message": match &r.status {
                    Status::Failed(m) => Some(m.as_str()),
                    _ => None,
                },
                "warnings": r.warnings,
            })
        })
        .collect();
    let count = |s: &Status| report.rows.iter().filter(|r| r.status == *s).count();
    let picks: Vec<serde_json::Value> = report
        .picks
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "schedule": p.schedule.map(Schedule::as_str),
                "total": p.total.normalize().to_string(),
                "unit": p.unit,
                "batches": p.batches,
            })
        })
        .collect();
    let v = serde_json::json!({
        "entries": entries,
        "made": count(&Status::Made),
        "done_earlier": count(&Status::DoneEarlier),
        "made_earlier": report
            .rows
            .iter()
            .filter(|r| matches!(r.status, Status::MadeEarlier(_)))
            .count(),
        "valid": count(&Status::Valid),
        "failed": report.failed(),
        "warnings": report.warnings,
        "interrupted": report.interrupted,
        "picks": picks,
    });
    let mut text = serde_json::to_string_pretty(&v)
        .map_err(|e| Error::internal("writing the run's report as JSON", e))?;
    text.push('\n');
    Ok(text)
}

/// `summary.csv`: one line per entry, with its lot and outcome.
fn summary_csv(report: &Report) -> Result<String> {
    let header = [
        "entry", "line", "lot", "rx", "formula", "strength", "quantity", "status", "bud", "message",
    ]
    .map(String::from);
    let rows = report.rows.iter().map(|r| {
        let msg = match &r.status {
            Status::Failed(m) | Status::MadeEarlier(m) => m.as_str(),
            _ => "",
        };
        [
            r.index.to_string(),
            r.line.to_string(),
            r.lot.clone(),
            r.rx.clone(),
            r.formula.clone(),
            r.strength.clone(),
            r.quantity.clone(),
            r.status.word().to_string(),
            r.bud.clone(),
            msg.to_string(),
        ]
    });
    spreadsheet::csv(std::iter::once(header).chain(rows))
}

/// `picklist.csv`: what to pull from stock for the batches made, and, where the log keeps
/// stock, the stock lots to pull it from: one row per lot, the ingredient's totals on its
/// first row only, so that a spreadsheet's sum of `total` counts each ingredient once.
fn picklist_csv(report: &Report) -> Result<String> {
    let header = [
        "ingredient",
        "schedule",
        "total",
        "unit",
        "exact",
        "batches",
        "stock_lot",
        "lot_quantity",
        "lot_unit",
        "lot_batches",
    ]
    .map(String::from);
    let mut rows = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    let lot_cells = |lot: &str, unit: &str, micro: i64, batches: usize| {
        [
            lot.to_string(),
            crate::stock::from_micro(micro).to_string(),
            unit.to_string(),
            batches.to_string(),
        ]
    };
    for p in &report.picks {
        let totals = [
            p.name.clone(),
            p.schedule.map_or("", Schedule::as_str).to_string(),
            pick_amount(p, report.readability),
            p.unit.to_string(),
            p.total.normalize().to_string(),
            p.batches.to_string(),
        ];
        let lots: Vec<_> = report
            .stock_lots
            .iter()
            .filter(|((ingredient, _, _), _)| *ingredient == p.name)
            .collect();
        if lots.is_empty() {
            rows.push(
                totals
                    .iter()
                    .cloned()
                    .chain(std::iter::repeat_n(String::new(), 4))
                    .collect::<Vec<_>>(),
            );
        }
        for (i, (key, (micro, batches))) in lots.into_iter().enumerate() {
            listed.insert(key.clone());
            let (_, lot, unit) = key;
            let mut first = totals.clone();
            if i > 0 {
                for cell in &mut first[2..] {
                    cell.clear();
                }
            }
            rows.push(
                first
                    .into_iter()
                    .chain(lot_cells(lot, unit, *micro, *batches))
                    .collect(),
            );
        }
    }
    // A lot drawn on for an ingredient the pick list names otherwise: still named.
    for (key, (micro, batches)) in &report.stock_lots {
        if listed.contains(key) {
            continue;
        }
        let (ingredient, lot, unit) = key;
        rows.push(
            [
                ingredient.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
            .into_iter()
            .chain(lot_cells(lot, unit, *micro, *batches))
            .collect(),
        );
    }
    spreadsheet::csv(std::iter::once(header.to_vec()).chain(rows))
}

/// A pick's total as weighed: a mass to the balance's readability, anything else to 0.01.
fn pick_amount(p: &Pick, readability: Decimal) -> String {
    let step = if p.unit == "g" {
        readability
    } else {
        Decimal::new(1, 2)
    };
    round_to(p.total, step).map_or_else(|| p.total.to_string(), |d| d.to_string())
}

/// The summary and pick list for the terminal.
struct Text<'a>(&'a Report);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.0;
        writeln!(
            f,
            "{:>5}  {:<12} {:<14} {:<30} {:>5}  {:<12} {:<10}",
            "ENTRY", "LOT", "RX", "FORMULA", "QTY", "STATUS", "BUD"
        )?;
        for r in &report.rows {
            writeln!(
                f,
                "{:>5}  {:<12} {:<14} {:<30} {:>5}  {:<12} {:<10}",
                r.index,
                r.lot,
                truncate(&r.rx, 14),
                truncate(&r.formula, 30),
                r.quantity,
                r.status.word(),
                r.bud
            )?;
            if let Status::Failed(m) | Status::MadeEarlier(m) = &r.status {
                writeln!(f, "       {m}")?;
            }
        }
        let count = |status: &Status| report.rows.iter().filter(|r| r.status == *status).count();
        let elsewhere = report
            .rows
            .iter()
            .filter(|r| matches!(r.status, Status::MadeEarlier(_)))
            .count();
        // Shown only when there are some, so the usual line stays as it was.
        let elsewhere = if elsewhere > 0 {
            format!(", {elsewhere} made earlier")
        } else {
            String::new()
        };
        writeln!(
            f,
            "\n{}: {} made, {} done earlier{elsewhere}, {} valid, {} failed",
            plural(report.rows.len(), "entry", "entries"),
            count(&Status::Made),
            count(&Status::DoneEarlier),
            count(&Status::Valid),
            report.failed()
        )?;
        // A check's lots are the next free ones now; the log gives them only when the batches
        // are made, and a batch made in between takes one first.
        if let Some(first) = report
            .rows
            .iter()
            .find(|r| r.status == Status::Valid && !r.lot.is_empty())
        {
            writeln!(
                f,
                "Lots are provisional (next free: {} ...): the log gives them when the batches \
                 are made.",
                first.lot
            )?;
        }
        if !report.warnings.is_empty() {
            writeln!(f, "\nWarnings:")?;
            for w in &report.warnings {
                writeln!(f, "  ! {w}")?;
            }
        }
        if !report.interrupted.is_empty() {
            writeln!(
                f,
                "\nPDFs without a record, left by an interrupted run (not batches; their lots \
                 stay taken): {}",
                report.interrupted.join(", ")
            )?;
        }
        if !report.picks.is_empty() {
            writeln!(f, "\nPick list (controlled substances first):")?;
            for p in &report.picks {
                writeln!(
                    f,
                    "  {:>14} {:<2}  {}{}  ({})",
                    pick_amount(p, report.readability),
                    p.unit,
                    p.name,
                    p.schedule
                        .map(|s| format!(" [{}]", s.as_str()))
                        .unwrap_or_default(),
                    plural(p.batches, "batch", "batches")
                )?;
            }
        }
        if !report.stock_lots.is_empty() {
            writeln!(f, "\nStock lots to pull:")?;
            for ((ingredient, lot, unit), (micro, batches)) in &report.stock_lots {
                writeln!(
                    f,
                    "  {:>14} {unit:<2}  {ingredient}: lot {lot}  ({})",
                    crate::stock::from_micro(*micro),
                    plural(*batches, "batch", "batches")
                )?;
            }
        }
        Ok(())
    }
}

/// At most `n` characters, the last one `~` when cut.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('~')).collect()
    }
}

/// A progress reporter: a bar on a terminal, plain lines otherwise.
fn progress_reporter(total: usize) -> impl FnMut(&Row, usize, usize) {
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(total as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    move |row: &Row, index: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_position(index as u64);
            if index == total {
                b.finish_and_clear();
            }
            return;
        }
        escape::eprintln(&format!(
            "[{index}/{total}] {} {} {}",
            row.status.word(),
            row.lot,
            row.rx
        ));
    }
}
