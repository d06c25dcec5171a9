//! The command line: argument definitions and the dispatch to the library, one file per
//! subcommand.
//!
//! Every argument that carries a number is taken as text and parsed by the library, so that a
//! bad value gets the same message here as in a file, naming the flag.

mod approve;
mod batch;
mod calc;
mod completions;
mod context;
mod cs;
mod db;
mod document;
mod factor;
mod formulas;
mod init;
mod log;
mod logged;
mod lot;
mod make;
mod man;
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
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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
    /// The compounding log, for the command that follows (which may take it after its name
    /// too): a SQLite file, or a PostgreSQL URL without a password.
    #[arg(long, value_name = "FILE|URL", help_heading = "Log")]
    db: Option<String>,
    /// When to colour help and messages: auto (a terminal, unless `NO_COLOR` is set), always,
    /// never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    color: clap::ColorChoice,
    /// Work in the practice log (practice.sqlite3 beside the log): no PINs, lots marked P-,
    /// every page stamped "PRACTICE - NOT FOR DISPENSING" (also `practice = true` in
    /// troche.toml).
    #[arg(long, global = true, help_heading = "Log")]
    practice: bool,
}

/// `--db`, on the commands that open the compounding log and only on them.
#[derive(clap::Args)]
struct LogOption {
    /// The compounding log: a SQLite file, or a PostgreSQL URL without a password (default:
    /// the environment's `TROCHE_DATABASE_URL`, else `database` in troche.toml, else the user's
    /// data directory).
    #[arg(long, global = true, value_name = "FILE|URL", help_heading = "Log")]
    db: Option<String>,
}

/// `--config` of the commands that sign in the log (and of their subcommands, where they
/// have some): the settings they read are the log's location and the workstation's user.
#[derive(clap::Args)]
struct SigningConfig {
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl SigningConfig {
    fn load(&self) -> Result<crate::config::Settings> {
        crate::config::load(self.config.as_deref())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Work out every ingredient to weigh for one batch.
    Calc(calc::CalcArgs),
    /// Print the compounding worksheet (the batch's compounding record) as a PDF.
    Worksheet {
        #[command(flatten)]
        args: document::DocArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Print the container label as a PDF.
    Label {
        #[command(flatten)]
        args: document::DocArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Write the worksheet, the label and the JSON record of one batch into a directory.
    Make {
        #[command(flatten)]
        args: make::MakeArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Make every batch of a recipe file: worksheets, labels, records, a summary and a pick list.
    Batch {
        #[command(flatten)]
        args: batch::BatchArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Derive displacement factors from trial units (blank and medicated average weights).
    Factor(factor::FactorArgs),
    /// List the formulas embedded in the program.
    Formulas,
    /// Print one formula (library id or file) as its master record; --pdf prints the master
    /// formulation record with its approval.
    Show {
        #[command(flatten)]
        args: formulas::ShowArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Master formulation records: approve (signed by a pharmacist), list.
    Formula {
        #[command(flatten)]
        args: approve::FormulaArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// List the batches in the compounding log, with filters.
    Log {
        #[command(flatten)]
        args: log::LogArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// One batch's whole record in the log, with its events.
    Lot {
        #[command(flatten)]
        args: lot::LotArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Every batch that used a component lot.
    Recall {
        #[command(flatten)]
        args: recall::RecallArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Enter what happened at the bench: actual weights, unit weights, units made and rejected.
    Record {
        #[command(flatten)]
        args: record::RecordArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Release a batch (--by INITIALS) or reject it (--reject REASON).
    Verify {
        #[command(flatten)]
        args: verify::VerifyArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Print a batch's worksheet and label again from its stored record, checked against the
    /// stored SHA-256.
    Reprint {
        #[command(flatten)]
        args: reprint::ReprintArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// The log's database: backup, check.
    Db {
        #[command(flatten)]
        args: db::DbArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// The pharmacy's people, who sign with their PINs: add, list, deactivate, pin, unlock.
    User {
        #[command(flatten)]
        args: user::UserArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// The pharmacy's signed policies: set, list.
    Policy {
        #[command(flatten)]
        args: policy::PolicyArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Hold a released batch back from dispensing, signed by a pharmacist.
    Quarantine {
        #[command(flatten)]
        args: state::HoldArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Recall a released batch, signed by a pharmacist.
    RecallBatch {
        #[command(flatten)]
        args: state::HoldArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Record that a released batch was handed over (all of it, or --units N).
    Dispense {
        #[command(flatten)]
        args: state::DispenseArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Components on hand; receive, release, reject, adjust and recall stock lots.
    Stock {
        #[command(flatten)]
        args: stock::StockArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// The controlled-substance perpetual inventory: waste, loss, count, resolve, inventory,
    /// report.
    Cs {
        #[command(flatten)]
        args: cs::CsArgs,
        #[command(flatten)]
        log: LogOption,
    },
    /// Validate formula, order, recipe, bench-record and settings files (told apart by their
    /// keys), report every problem found, and show each order's calculation.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a commented troche.toml (the pharmacy's settings) to fill in.
    Init(init::InitArgs),
    /// Print a completion script for a shell (bash, zsh, fish, powershell).
    Completions(completions::CompletionsArgs),
    /// Write a man page for troche and each of its commands into a directory.
    Man(man::ManArgs),
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

/// A lot as typed, as the log holds it: lots are upper-cased when given (`k240117` is
/// K240117), so a lookup compares upper-cased too.
pub(super) fn lot(typed: &str) -> String {
    typed.trim().to_ascii_uppercase()
}

/// Today in the machine's time zone: the pharmacy's date, not UTC's.
pub(super) fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

/// `--color WHEN` as given, read before the parser runs: the help and usage errors the
/// parser prints are coloured (or not) by it. `NO_COLOR` is honoured when it is `auto`.
fn color_choice(args: &[OsString]) -> clap::ColorChoice {
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    let mut choice = clap::ColorChoice::Auto;
    while let Some(w) = words.next() {
        let value = match w.strip_prefix("--color") {
            _ if w == "--" => break,
            Some("") => words.next(),
            Some(v) if v.starts_with('=') => Some(v[1..].to_string().into()),
            _ => continue,
        };
        if let Some(c) = value.and_then(|v| clap::ColorChoice::from_str(&v, true).ok()) {
            choice = c;
        }
    }
    choice
}

/// Runs the program on the given arguments; returns the exit status.
pub fn run<I, T>(args: I) -> Result<i32>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let command = Cli::command().color(color_choice(&args));
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
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
    // `--db` before the command name names the log for the command that follows, when it
    // opens one (as `TROCHE_DATABASE_URL` does); its own `--db` comes first.
    let ctx = &Context::new(cli.db, cli.practice);
    let log = |log: LogOption| ctx.with_db(log.db);
    let code = match cli.command {
        Command::Calc(a) => calc::run(&a),
        Command::Worksheet { args, log: l } => document::worksheet(&log(l), &args),
        Command::Label { args, log: l } => document::label(&log(l), &args),
        Command::Make { args, log: l } => make::run(&log(l), &args),
        Command::Batch { args, log: l } => batch::run(&log(l), &args),
        Command::Factor(a) => factor::run(&a),
        Command::Formulas => formulas::formulas(),
        Command::Show { args, log: l } => formulas::show(&log(l), &args),
        Command::Formula { args, log: l } => approve::run(&log(l), &args),
        Command::Check { files } => formulas::check(&files),
        Command::Log { args, log: l } => log::run(&log(l), &args),
        Command::Lot { args, log: l } => lot::run(&log(l), &args),
        Command::Recall { args, log: l } => recall::run(&log(l), &args),
        Command::Record { args, log: l } => record::run(&log(l), &args),
        Command::Verify { args, log: l } => verify::run(&log(l), &args),
        Command::Reprint { args, log: l } => reprint::run(&log(l), &args),
        Command::Db { args, log: l } => db::run(&log(l), &args),
        Command::User { args, log: l } => user::run(&log(l), &args),
        Command::Policy { args, log: l } => policy::run(&log(l), &args),
        Command::Quarantine { args, log: l } => state::quarantine(&log(l), &args),
        Command::RecallBatch { args, log: l } => state::recall(&log(l), &args),
        Command::Dispense { args, log: l } => state::dispense(&log(l), &args),
        Command::Stock { args, log: l } => stock::run(&log(l), &args),
        Command::Cs { args, log: l } => cs::run(&log(l), &args),
        Command::Init(a) => init::run(&a),
        Command::Completions(a) => completions::run(&a, &mut Cli::command()),
        Command::Man(a) => man::run(&a, &Cli::command()),
    };
    ctx.tell_anyway();
    code
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
