//! The command line: argument definitions and the dispatch to the library.
//!
//! Every argument that carries a number is taken as text and parsed by the library, so that a
//! bad value gets the same message here as in a file, naming the flag.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::calc::{self, Balance};
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::order::{self, Order, Preparation};
use crate::quantity::{self, ParseError};
use crate::{library, report, trial};

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
}

#[derive(Subcommand)]
enum Command {
    /// Work out every ingredient to weigh for one batch.
    Calc(CalcArgs),
    /// Derive displacement factors from trial units (blank and medicated average weights).
    Factor(FactorArgs),
    /// List the formulas embedded in the program.
    Formulas,
    /// Print one formula (library id or file) as its master record.
    Show {
        /// Library id or path to a formula file.
        formula: String,
    },
    /// Validate formula files and report every problem found.
    Check {
        /// Formula files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum, Default)]
enum Format {
    #[default]
    Table,
    Json,
}

/// What defines one batch, shared by every command that computes one.
#[derive(Args)]
struct OrderArgs {
    /// Library id (see `troche formulas`) or path to a formula file.
    formula: String,
    /// Prescribed strength per unit, e.g. "50 mg"; with several actives "NAME=50 mg", once each.
    #[arg(long, value_name = "[ACTIVE=]AMOUNT", allow_hyphen_values = true)]
    strength: Vec<String>,
    /// Number of units dispensed.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    quantity: Option<String>,
    /// Extra units to prepare for losses in pouring.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "overage",
        allow_hyphen_values = true
    )]
    extra: Option<String>,
    /// Percent added to every ingredient amount instead of extra units.
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    overage: Option<String>,
    /// Whether strengths are of the form weighed (salt, the default) or of the active moiety;
    /// "NAME=moiety" for one active of several.
    #[arg(long, value_name = "[ACTIVE=]salt|moiety")]
    basis: Vec<String>,
    /// Assay of the lot as-is, percent, from its certificate of analysis; "NAME=99.5" with several actives.
    #[arg(long, value_name = "[ACTIVE=]PERCENT", allow_hyphen_values = true)]
    assay: Vec<String>,
    /// Balance readability in grams; amounts to weigh are rounded to it.
    #[arg(long, value_name = "GRAMS")]
    readability: Option<String>,
    /// Balance sensitivity requirement, e.g. "6 mg".
    #[arg(long, value_name = "MASS")]
    sensitivity: Option<String>,
    /// Acceptable weighing error in percent (minimum weighable quantity = sensitivity / error).
    #[arg(long, value_name = "PERCENT")]
    acceptable_error: Option<String>,
}

#[derive(Args)]
struct CalcArgs {
    #[command(flatten)]
    order: OrderArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Args)]
struct FactorArgs {
    /// Average weight of the blank (plain base) units, e.g. "2.000 g".
    #[arg(long)]
    blank: String,
    /// Average weight of the medicated units.
    #[arg(long)]
    medicated: String,
    /// Amount of the ingredient in each medicated unit, e.g. "250 mg".
    #[arg(long)]
    per_unit: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn arg<T>(flag: &str, r: std::result::Result<T, ParseError>) -> Result<T> {
    r.map_err(|e| Error::arg(flag, e.0))
}

fn balance_from(args: &OrderArgs) -> Result<Balance> {
    let mut b = Balance::default();
    if let Some(r) = &args.readability {
        b.readability = arg(
            "--readability",
            quantity::parse_positive(r.trim().trim_end_matches('g').trim(), "readability"),
        )?;
    }
    if let Some(s) = &args.sensitivity {
        b.sensitivity = arg("--sensitivity", quantity::parse_mass(s))?.in_base();
    }
    if let Some(e) = &args.acceptable_error {
        let v = arg(
            "--acceptable-error",
            quantity::parse_positive(e.trim().trim_end_matches('%'), "acceptable error"),
        )?;
        if v > rust_decimal::Decimal::ONE_HUNDRED {
            return Err(Error::arg(
                "--acceptable-error",
                "must be a percent from above 0 to 100",
            ));
        }
        b.acceptable_error_percent = v;
    }
    Ok(b)
}

fn order_from(args: &OrderArgs) -> Result<Order> {
    let quantity = match &args.quantity {
        Some(q) => arg("--quantity", order::parse_count(q, "quantity", false))?,
        None => {
            return Err(Error::arg(
                "--quantity",
                "the number of units to dispense is required, e.g. --quantity 30",
            ));
        }
    };
    let preparation = match (&args.extra, &args.overage) {
        (Some(e), None) => {
            Preparation::Extra(arg("--extra", order::parse_count(e, "extra units", true))?)
        }
        (None, Some(o)) => Preparation::Overage(arg("--overage", order::parse_overage(o))?),
        _ => Preparation::Extra(0),
    };
    Ok(Order {
        strengths: args
            .strength
            .iter()
            .map(|s| arg("--strength", order::parse_strength(s)))
            .collect::<Result<_>>()?,
        quantity,
        preparation,
        bases: args
            .basis
            .iter()
            .map(|b| arg("--basis", order::parse_basis(b)))
            .collect::<Result<_>>()?,
        assays: args
            .assay
            .iter()
            .map(|a| arg("--assay", order::parse_assay(a)))
            .collect::<Result<_>>()?,
        ..Order::default()
    })
}

fn compute(args: &OrderArgs) -> Result<(Formula, calc::Calculation)> {
    let formula = library::load(&args.formula)?;
    let order = order_from(args)?;
    let balance = balance_from(args)?;
    let calc = calc::calculate(&formula, &order, &balance)?;
    Ok((formula, calc))
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`troche ... | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::io("<stdout>", e)),
    }
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
            let _ = e.print();
            return Ok(code);
        }
    };
    match cli.command {
        Command::Calc(a) => {
            let (formula, calc) = compute(&a.order)?;
            print(&match a.format {
                Format::Table => report::table(&formula, &calc),
                Format::Json => report::json(&formula, &calc),
            })?;
            Ok(0)
        }
        Command::Factor(a) => {
            let t = trial::Trial {
                blank: arg("--blank", quantity::parse_mass(&a.blank))?.in_base(),
                medicated: arg("--medicated", quantity::parse_mass(&a.medicated))?.in_base(),
                per_unit: arg("--per-unit", quantity::parse_mass(&a.per_unit))?.in_base(),
            };
            let f = t.factors()?;
            print(&match a.format {
                Format::Table => f.table(),
                Format::Json => f.json(),
            })?;
            Ok(0)
        }
        Command::Formulas => {
            let all = library::all()?;
            let mut out = String::new();
            let w = all.iter().map(|f| f.id.len()).max().unwrap_or(2);
            out.push_str(&format!(
                "{:<w$}  {:<12}  {}\n",
                "ID", "FORM", "NAME (ACTIVES)"
            ));
            for f in &all {
                let actives: Vec<&str> = f.actives.iter().map(|a| a.name.as_str()).collect();
                out.push_str(&format!(
                    "{:<w$}  {:<12}  {} ({})\n",
                    f.id,
                    f.dosage_form,
                    f.name,
                    actives.join(", ")
                ));
            }
            print(&out)?;
            Ok(0)
        }
        Command::Show { formula } => {
            let text = match library::get(&formula) {
                Some(t) => t.to_string(),
                None => {
                    // Validate first, so `show` of a file never prints something unusable silently.
                    library::load(&formula)?;
                    library::read_text(std::path::Path::new(&formula))?
                }
            };
            print(&text)?;
            Ok(0)
        }
        Command::Check { files } => {
            let mut failed = 0;
            for f in &files {
                match library::load_file(f) {
                    Ok(formula) => print(&format!(
                        "ok: {} ({} v{})\n",
                        f.display(),
                        formula.id,
                        formula.version
                    ))?,
                    Err(e) => {
                        failed += 1;
                        eprintln!("{e}");
                    }
                }
            }
            if failed > 0 {
                eprintln!(
                    "troche: {failed} of {} formula files have problems",
                    files.len()
                );
                return Ok(2);
            }
            Ok(0)
        }
    }
}
