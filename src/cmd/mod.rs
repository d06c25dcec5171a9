//! The command line: argument definitions and the dispatch to the library, one file per
//! subcommand.
//!
//! Every argument that carries a number is taken as text and parsed by the library, so that a
//! bad value gets the same message here as in a file, naming the flag.

mod batch;
mod calc;
mod context;
mod cs;
mod db;
mod document;
mod factor;
mod formulas;
mod log;
mod logged;
mod lot;
mod make;
mod order;
mod pins;
mod policy;
mod recall;
mod record;
mod reprint;
mod state;
mod stock;
mod user;
mod verify;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::escape::{self, print};
use crate::quantity::ParseError;

use self::context::Context;

#[derive(Parser)]
#[command(
    name = "troche",
    version,
    about = "Exact batch calculations, worksheets and labels for troches, lozenges, lollipops and suppositories",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The compounding log: a SQLite file, or a PostgreSQL URL without a password (default:
    /// the environment's `TROCHE_DATABASE_URL`, else `database` in troche.toml, else the user's
    /// data directory).
    #[arg(long, global = true, value_name = "FILE|URL")]
    db: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Work out every ingredient to weigh for one batch.
    Calc(calc::CalcArgs),
    /// Print the compounding worksheet (the batch's compounding record) as a PDF.
    Worksheet(document::DocArgs),
    /// Print the container label as a PDF.
    Label(document::DocArgs),
    /// Write the worksheet, the label and the JSON record of one batch into a directory.
    Make(make::MakeArgs),
    /// Make every batch of a recipe file: worksheets, labels, records, a summary and a pick list.
    Batch(batch::BatchArgs),
    /// Derive displacement factors from trial units (blank and medicated average weights).
    Factor(factor::FactorArgs),
    /// List the formulas embedded in the program.
    Formulas,
    /// Print one formula (library id or file) as its master record.
    Show {
        /// Library id or path to a formula file.
        formula: String,
    },
    /// List the batches in the compounding log, with filters.
    Log(log::LogArgs),
    /// One batch's whole record in the log, with its events.
    Lot(lot::LotArgs),
    /// Every batch that used a component lot.
    Recall(recall::RecallArgs),
    /// Enter what happened at the bench: actual weights, unit weights, units made and rejected.
    Record(record::RecordArgs),
    /// Release a batch (--by INITIALS) or reject it (--reject REASON).
    Verify(verify::VerifyArgs),
    /// Print a batch's worksheet and label again from its stored record, checked against the
    /// stored SHA-256.
    Reprint(reprint::ReprintArgs),
    /// The log's database: backup, check.
    Db(db::DbArgs),
    /// The pharmacy's people, who sign with their PINs: add, list, deactivate, pin, unlock.
    User(user::UserArgs),
    /// The pharmacy's signed policies: set, list.
    Policy(policy::PolicyArgs),
    /// Hold a released batch back from dispensing, signed by a pharmacist.
    Quarantine(state::HoldArgs),
    /// Recall a released batch, signed by a pharmacist.
    RecallBatch(state::HoldArgs),
    /// Record that a released batch was handed over (all of it, or --units N).
    Dispense(state::DispenseArgs),
    /// Components on hand; receive, release, reject, adjust and recall stock lots.
    Stock(stock::StockArgs),
    /// The controlled-substance perpetual inventory: waste, loss, count, resolve, inventory,
    /// report.
    Cs(cs::CsArgs),
    /// Validate formula, order, recipe and settings files (told apart by their keys) and report
    /// every problem found.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum, Default)]
pub(super) enum Format {
    /// Text for a person, with the work shown.
    #[default]
    Table,
    /// JSON for a program (docs/json-format.md).
    Json,
}

pub(super) fn arg<T>(flag: &str, r: std::result::Result<T, ParseError>) -> Result<T> {
    r.map_err(|e| Error::arg(flag, e.0))
}

/// Parses every value of a repeatable flag.
pub(super) fn all<T>(
    flag: &str,
    values: &[String],
    parse: fn(&str) -> std::result::Result<T, ParseError>,
) -> Result<Vec<T>> {
    values.iter().map(|v| arg(flag, parse(v))).collect()
}

/// Today in the machine's time zone: the pharmacy's date, not UTC's.
pub(super) fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

/// Runs the program on the given arguments; returns the exit status.
pub fn run<I, T>(args: I) -> Result<i32>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            match e.kind() {
                // The program's own text, in colour on a terminal.
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => match e.print() {
                    Err(io) if io.kind() != std::io::ErrorKind::BrokenPipe => {
                        return Err(Error::io("<stdout>", io));
                    }
                    _ => {}
                },
                // A usage error quotes the argument as typed: escaped like every other line.
                _ => escape::eprintln(e.to_string().trim_end()),
            }
            return Ok(code);
        }
    };
    let ctx = &Context::new(cli.db);
    match cli.command {
        Command::Calc(a) => calc::run(&a),
        Command::Worksheet(a) => document::worksheet(ctx, &a),
        Command::Label(a) => document::label(ctx, &a),
        Command::Make(a) => make::run(ctx, &a),
        Command::Batch(a) => batch::run(ctx, &a),
        Command::Factor(a) => factor::run(&a),
        Command::Formulas => formulas::formulas(),
        Command::Show { formula } => formulas::show(&formula),
        Command::Check { files } => formulas::check(&files),
        Command::Log(a) => log::run(ctx, &a),
        Command::Lot(a) => lot::run(ctx, &a),
        Command::Recall(a) => recall::run(ctx, &a),
        Command::Record(a) => record::run(ctx, &a),
        Command::Verify(a) => verify::run(ctx, &a),
        Command::Reprint(a) => reprint::run(ctx, &a),
        Command::Db(a) => db::run(ctx, &a),
        Command::User(a) => user::run(ctx, &a),
        Command::Policy(a) => policy::run(ctx, &a),
        Command::Quarantine(a) => state::quarantine(ctx, &a),
        Command::RecallBatch(a) => state::recall(ctx, &a),
        Command::Dispense(a) => state::dispense(ctx, &a),
        Command::Stock(a) => stock::run(ctx, &a),
        Command::Cs(a) => cs::run(ctx, &a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every flag and argument of every subcommand says what it is for in `--help`, and every
    /// flag that takes a mass says so the same way (`<MASS>`).
    #[test]
    fn every_argument_has_help_and_masses_say_mass() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        for sub in cli.get_subcommands() {
            assert!(
                sub.get_about().is_some(),
                "{} has no description",
                sub.get_name()
            );
            for a in sub.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{} --{id}", sub.get_name()));
                }
                let mass = [
                    "readability",
                    "sensitivity",
                    "minimum_weight",
                    "blank",
                    "medicated",
                    "per_unit",
                ];
                if mass.contains(&id) {
                    let names: Vec<&str> = a
                        .get_value_names()
                        .unwrap_or_default()
                        .iter()
                        .map(clap::builder::Str::as_str)
                        .collect();
                    assert_eq!(names, ["MASS"], "{} --{id}", sub.get_name());
                }
            }
        }
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }
}
