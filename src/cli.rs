//! The command line: argument definitions and the dispatch to the library.
//!
//! Every argument that carries a number is taken as text and parsed by the library, so that a
//! bad value gets the same message here as in a file, naming the flag.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::calc::{self, Balance};
use crate::config::{self, Settings};
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::lots::Lots;
use crate::order::{self, Order, Preparation};
use crate::quantity::{self, ParseError};
use crate::record::{self, Record};
use crate::{batch, library, output, paperwork, recipe, render, report, trial};

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
    /// Print the compounding worksheet (the batch's compounding record) as a PDF.
    Worksheet(DocArgs),
    /// Print the container label as a PDF.
    Label(DocArgs),
    /// Write the worksheet, the label and the JSON record of one batch into a directory.
    Make(MakeArgs),
    /// Make every batch of a recipe file: worksheets, labels, records, a summary and a pick list.
    Batch(BatchArgs),
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
    /// Library id (see `troche formulas`) or path to a formula file; may be given in --order instead.
    formula: Option<String>,
    /// Order file (TOML) with the strength, quantity and prescription details (docs/order-format.md);
    /// flags given as well override its values.
    #[arg(long = "order", value_name = "FILE")]
    order_file: Option<PathBuf>,
    /// Pharmacy settings file (default: ./troche.toml, else the user's config directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
    /// Whether the strength is of the salt weighed or of the active moiety ("NAME=moiety" for
    /// one active of several). Needed for an active that has both forms unless the formula
    /// states how its strengths are written (its label basis); never assumed.
    #[arg(long, value_name = "[ACTIVE=]salt|moiety")]
    basis: Vec<String>,
    /// Assay of the lot as-is, percent, from its certificate of analysis; "NAME=99.5" with several actives.
    #[arg(long, value_name = "[ACTIVE=]PERCENT", allow_hyphen_values = true)]
    assay: Vec<String>,
    /// Balance readability, a mass with its unit ("1 mg", "0.001 g"); amounts to weigh are
    /// rounded to it.
    #[arg(long, value_name = "MASS")]
    readability: Option<String>,
    /// Balance sensitivity requirement, a mass with its unit ("6 mg" for a Class III balance).
    #[arg(long, value_name = "MASS")]
    sensitivity: Option<String>,
    /// Minimum weight of the balance from its USP <41> check ("20 mg"); replaces sensitivity ÷
    /// acceptable error as the minimum weighable quantity.
    #[arg(long, value_name = "MASS", conflicts_with_all = ["sensitivity", "acceptable_error"])]
    minimum_weight: Option<String>,
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

/// The particulars of the prescription and the batch, for the worksheet and the label.
#[derive(Args)]
struct PaperArgs {
    /// Compounding date, YYYY-MM-DD (default: today). Sets the BUD and the PDF dates.
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Internal lot number (default: the next free YYMMDD-NNN in the output directory).
    #[arg(long)]
    lot: Option<String>,
    /// Prescription (Rx) or order number.
    #[arg(long)]
    rx: Option<String>,
    #[arg(long)]
    patient: Option<String>,
    #[arg(long)]
    prescriber: Option<String>,
    /// Directions for the label (default: the formula's).
    #[arg(long)]
    directions: Option<String>,
    #[arg(long, value_name = "N")]
    refills: Option<String>,
    /// A component lot used: "NAME|LOT|EXPIRY[|MANUFACTURER]" (expiry YYYY-MM-DD); once per component.
    #[arg(long, value_name = "NAME|LOT|EXPIRY[|MFR]")]
    component: Vec<String>,
    /// Replace output files that already exist.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct DocArgs {
    #[command(flatten)]
    order: OrderArgs,
    #[command(flatten)]
    paper: PaperArgs,
    /// The PDF file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Args)]
struct MakeArgs {
    #[command(flatten)]
    order: OrderArgs,
    #[command(flatten)]
    paper: PaperArgs,
    /// Directory for LOT-worksheet.pdf, LOT-label.pdf and LOT.json (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args)]
struct BatchArgs {
    /// Recipe file (docs/recipe-format.md).
    recipes: PathBuf,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "check")]
    out: Option<PathBuf>,
    /// Validate every entry (and lay out its documents) without writing anything.
    #[arg(long)]
    check: bool,
    /// Worker threads (default: one per core). Output is identical for any number.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Replace existing files of a batch whose lot is given explicitly.
    #[arg(long)]
    force: bool,
    /// Pharmacy settings file (default: the recipe's `config`, else ./troche.toml, else the user's).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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

/// Parses every value of a repeatable flag.
fn all<T>(
    flag: &str,
    values: &[String],
    parse: fn(&str) -> std::result::Result<T, ParseError>,
) -> Result<Vec<T>> {
    values.iter().map(|v| arg(flag, parse(v))).collect()
}

fn balance_from(args: &OrderArgs, mut b: Balance) -> Result<Balance> {
    if let Some(r) = &args.readability {
        b.readability = arg("--readability", quantity::parse_mass(r))?.in_base();
    }
    if let Some(s) = &args.sensitivity {
        b.sensitivity = arg("--sensitivity", quantity::parse_mass(s))?.in_base();
        b.minimum_weight = None;
    }
    if let Some(m) = &args.minimum_weight {
        b.minimum_weight = Some(arg("--minimum-weight", quantity::parse_mass(m))?.in_base());
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
        b.minimum_weight = None;
    }
    Ok(b)
}

/// The order: from the order file if one is given, with flags overriding its values. Returns
/// the formula argument too (flag, else the file's `formula`).
fn order_from(args: &OrderArgs, paper: Option<&PaperArgs>) -> Result<(Formula, Order)> {
    let (file_formula, mut order) = match &args.order_file {
        Some(p) => {
            let (f, o) = order::parse_file(&library::read_text(p)?, &p.display().to_string())?;
            // A formula path in an order file is relative to the order file.
            let f = f.map(|f| library::relative_to(p, &f));
            (f, o)
        }
        None => (None, Order::default()),
    };
    let order_file = args.order_file.as_ref().map(|p| p.display().to_string());
    let formula = match (&args.formula, file_formula) {
        (Some(f), _) => library::load(f)?,
        // Named in the order file: say so, since the user never typed it.
        (None, Some(f)) => library::load(&f).map_err(|e| match e {
            Error::Argument { message, .. } => Error::Input {
                file: order_file.clone().unwrap_or_default(),
                line: None,
                key: Some("formula".into()),
                message,
            },
            other => other,
        })?,
        (None, None) => {
            return Err(Error::arg(
                "FORMULA",
                "name a formula (a library id or a file), or set formula = \"...\" in the --order file",
            ));
        }
    };
    if let Some(q) = &args.quantity {
        order.quantity = arg("--quantity", order::parse_count(q, "quantity", false))?;
    }
    if order.quantity == 0 {
        return Err(match &order_file {
            Some(f) => Error::Input {
                file: f.clone(),
                line: None,
                key: Some("quantity".into()),
                message: "the number of units to dispense is required: add quantity = 30 (or \
                          pass --quantity)"
                    .into(),
            },
            None => Error::arg(
                "--quantity",
                "the number of units to dispense is required, e.g. --quantity 30",
            ),
        });
    }
    match (&args.extra, &args.overage) {
        (Some(e), None) => {
            order.preparation =
                Preparation::Extra(arg("--extra", order::parse_count(e, "extra units", true))?);
        }
        (None, Some(o)) => {
            order.preparation = Preparation::Overage(arg("--overage", order::parse_overage(o))?);
        }
        _ => {}
    }
    // Repeatable flags replace the file's values when given at all.
    if !args.strength.is_empty() {
        order.strengths = all("--strength", &args.strength, order::parse_strength)?;
    }
    if !args.basis.is_empty() {
        order.bases = all("--basis", &args.basis, order::parse_basis)?;
    }
    if !args.assay.is_empty() {
        order.assays = all("--assay", &args.assay, order::parse_assay)?;
    }
    if let Some(p) = paper {
        if let Some(d) = &p.date {
            order.date = Some(arg("--date", order::parse_date(d))?);
        }
        let text = |flag: &str, v: &Option<String>| -> Result<Option<String>> {
            match v.as_deref().map(str::trim) {
                Some("") => Err(Error::arg(flag, "must not be empty")),
                other => Ok(other.map(String::from)),
            }
        };
        order.lot = text("--lot", &p.lot)?.or(order.lot);
        order.rx = text("--rx", &p.rx)?.or(order.rx);
        order.patient = text("--patient", &p.patient)?.or(order.patient);
        order.prescriber = text("--prescriber", &p.prescriber)?.or(order.prescriber);
        order.directions = text("--directions", &p.directions)?.or(order.directions);
        if let Some(r) = &p.refills {
            order.refills = Some(arg("--refills", order::parse_count(r, "refills", true))?);
        }
        for c in &p.component {
            order
                .components
                .push(arg("--component", order::parse_component(c))?);
        }
    }
    Ok((formula, order))
}

/// Component lots come only from the order file (calc has no --component flag), so an error
/// about one names that file.
/// A calculation error about an order value, placed in the order file when the order came
/// from one: the calculation names values by their flags, which a file spells as keys.
fn components_in_file(e: Error, args: &OrderArgs) -> Error {
    match (e, &args.order_file) {
        (Error::Argument { arg, message }, Some(file)) => {
            let key = arg.trim_start_matches("--").to_string();
            if !["component", "strength", "assay", "basis", "quantity"].contains(&key.as_str()) {
                return Error::Argument { arg, message };
            }
            // The line where the file sets the key, when it does (flags may also set it).
            let line = std::fs::read_to_string(file).ok().and_then(|text| {
                text.lines().position(|l| {
                    let l = l.trim_start();
                    l.strip_prefix(key.as_str()).is_some_and(|rest| {
                        rest.trim_start().starts_with(['=', '.']) || rest.starts_with(']')
                    }) || l.starts_with(&format!("[{key}"))
                        || l.starts_with(&format!("[[{key}"))
                })
            });
            Error::Input {
                file: file.display().to_string(),
                line: line.map(|l| l + 1),
                key: Some(key),
                message,
            }
        }
        (e, _) => e,
    }
}

fn compute(args: &OrderArgs) -> Result<(Formula, calc::Calculation)> {
    let settings = config::load(args.config.as_deref())?;
    let (formula, order) = order_from(args, None)?;
    let formula = formula.with_pharmacy_diluent(settings.diluent.as_deref());
    let balance = balance_from(args, settings.balance.clone())?;
    let calc =
        calc::calculate(&formula, &order, &balance).map_err(|e| components_in_file(e, args))?;
    // The amounts do not depend on the date, but a component already expired must still be
    // refused here rather than first at the worksheet.
    record::beyond_use_date(&formula, &order, order.date.unwrap_or_else(today))?;
    Ok((formula, calc))
}

/// Builds the batch record for the paperwork commands: settings, order, formula, date, and a
/// lot that is free in `dir`.
fn prepare(
    args: &OrderArgs,
    paper: &PaperArgs,
    dir: &std::path::Path,
) -> Result<(Settings, Record, String)> {
    let mut settings = config::load(args.config.as_deref())?;
    settings.balance = balance_from(args, settings.balance.clone())?;
    let (formula, order) = order_from(args, Some(paper))?;
    let date = order.date.unwrap_or_else(today);
    let mut lots = Lots::scan(dir)?;
    let (lot, stem) = if let Some(l) = &order.lot {
        (l.clone(), lots.claim(l, paper.force)?)
    } else {
        let l = lots.next(date)?;
        (l.clone(), l)
    };
    let record = Record::new(formula, order, &settings, date, lot)?;
    Ok((settings, record, stem))
}

/// Prepares the batch, renders one document with `render` and writes it to `-o`.
fn one_document(
    a: &DocArgs,
    render: impl Fn(&Record, &Settings) -> Result<Vec<u8>>,
) -> Result<i32> {
    let (settings, record, _) = prepare(&a.order, &a.paper, output::parent_of(&a.output))?;
    let pdf = render(&record, &settings)?;
    output::write(&a.output, &pdf, a.paper.force)?;
    eprintln!(
        "wrote {} (lot {}, BUD {})",
        a.output.display(),
        record.lot,
        record.bud.date
    );
    Ok(0)
}

/// Today in the machine's time zone: the pharmacy's date, not UTC's.
fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
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
        Command::Worksheet(a) => one_document(&a, |record, settings| {
            render::worksheet::worksheet(record, settings.paper)
        }),
        Command::Label(a) => one_document(&a, |record, settings| {
            settings.require_pharmacy()?;
            render::label::label(record, settings.label)
        }),
        Command::Make(a) => {
            std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
            let (settings, record, stem) = prepare(&a.order, &a.paper, &a.out)?;
            let files = paperwork::render_all(&record, &settings, &a.out, &stem)?;
            output::write_all(&files, a.paper.force)?;
            for (p, _) in &files {
                eprintln!("wrote {}", p.display());
            }
            eprintln!("lot {}, BUD {}", record.lot, record.bud.date);
            Ok(0)
        }
        Command::Batch(a) => {
            let recipe = recipe::parse(&library::read_text(&a.recipes)?, &a.recipes)?;
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
            let _ = writeln!(out, "{:<w$}  {:<12}  NAME (ACTIVES)", "ID", "FORM");
            for f in &all {
                let actives: Vec<&str> = f.actives.iter().map(|a| a.name.as_str()).collect();
                let _ = writeln!(
                    out,
                    "{:<w$}  {:<12}  {} ({})",
                    f.id,
                    f.dosage_form,
                    f.name,
                    actives.join(", ")
                );
            }
            print(&out)?;
            Ok(0)
        }
        Command::Show { formula } => {
            let text = if let Some(t) = library::get(&formula) {
                t.to_string()
            } else {
                // Validate first, so `show` of a file never prints something unusable silently.
                library::load(&formula)?;
                library::read_text(std::path::Path::new(&formula))?
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
