//! The flags that define one batch and the prescription, shared by every command that computes
//! one, and their reading into an order (an order file first, flags over it).

use std::path::PathBuf;

use clap::Args;

use crate::batch_record::{self, Record};
use crate::calc::{self, Balance};
use crate::config::{self, Settings};
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::library;
use crate::order::{self, Order, Preparation};
use crate::prescription;
use crate::quantity;

use super::pins::SignArgs;
use super::{all, arg, today};

/// What defines one batch, shared by every command that computes one.
#[derive(Args)]
#[command(next_help_heading = "Order")]
pub(super) struct OrderArgs {
    /// Library id (see `troche formulas`) or path to a formula file; may be given in --order instead.
    #[arg(help_heading = Option::<&str>::None)]
    pub(super) formula: Option<String>,
    /// Order file (TOML) with the strength, quantity and prescription details (docs/order-format.md);
    /// flags given as well override its values.
    #[arg(long = "order", value_name = "FILE")]
    pub(super) order_file: Option<PathBuf>,
    /// Pharmacy settings file (default: ./troche.toml, else the user's config directory).
    #[arg(long, value_name = "FILE", help_heading = Option::<&str>::None)]
    pub(super) config: Option<PathBuf>,
    /// Prescribed strength per unit, e.g. "50 mg"; with several actives "NAME=50 mg", once each.
    #[arg(long, value_name = "[ACTIVE=]AMOUNT", allow_hyphen_values = true)]
    pub(super) strength: Vec<String>,
    /// Number of units dispensed.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub(super) quantity: Option<String>,
    /// Extra units to prepare for losses in pouring.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "overage",
        allow_hyphen_values = true
    )]
    pub(super) extra: Option<String>,
    /// Percent added to every ingredient amount instead of extra units.
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    pub(super) overage: Option<String>,
    /// Whether the strength is of the salt weighed or of the active moiety ("NAME=moiety" for
    /// one active of several). Needed for an active that has both forms unless the formula
    /// states how its strengths are written (its label basis); never assumed.
    #[arg(long, value_name = "[ACTIVE=]salt|moiety")]
    pub(super) basis: Vec<String>,
    /// Assay of the lot as-is, percent, from its certificate of analysis; "NAME=99.5" with several actives.
    #[arg(long, value_name = "[ACTIVE=]PERCENT", allow_hyphen_values = true)]
    pub(super) assay: Vec<String>,
    /// Balance readability, a mass with its unit ("1 mg", "0.001 g"); amounts to weigh are
    /// rounded to it.
    #[arg(
        long,
        value_name = "MASS",
        allow_hyphen_values = true,
        help_heading = "Balance"
    )]
    pub(super) readability: Option<String>,
    /// Balance sensitivity requirement, a mass with its unit ("6 mg" for a Class III balance).
    #[arg(
        long,
        value_name = "MASS",
        allow_hyphen_values = true,
        help_heading = "Balance"
    )]
    pub(super) sensitivity: Option<String>,
    /// Minimum weight of the balance from its USP <41> check, a mass with its unit ("20 mg");
    /// replaces sensitivity ÷ acceptable error as the minimum weighable quantity.
    #[arg(long, value_name = "MASS", allow_hyphen_values = true, conflicts_with_all = ["sensitivity", "acceptable_error"], help_heading = "Balance")]
    pub(super) minimum_weight: Option<String>,
    /// Acceptable weighing error in percent (minimum weighable quantity = sensitivity / error).
    #[arg(
        long,
        value_name = "PERCENT",
        allow_hyphen_values = true,
        help_heading = "Balance"
    )]
    pub(super) acceptable_error: Option<String>,
    /// How a strength outside the formula's usual range was confirmed with the prescriber
    /// ("NAME=REASON" for one active of several); recorded and printed on the worksheet.
    #[arg(long, value_name = "[ACTIVE=]REASON")]
    pub(super) confirm_strength: Vec<String>,
}

/// The particulars of the prescription and the batch, for the worksheet and the label.
#[derive(Args)]
#[command(next_help_heading = "Order")]
pub(super) struct PaperArgs {
    /// Compounding date, YYYY-MM-DD (default: today). Sets the BUD and the PDF dates.
    #[arg(long, value_name = "DATE")]
    pub(super) date: Option<String>,
    /// Internal lot number (default: the next free YYMMDD-NNN of the compounding log).
    #[arg(long, value_name = "LOT", help_heading = "Log")]
    pub(super) lot: Option<String>,
    /// Prescription (Rx) or order number.
    #[arg(long, value_name = "RX")]
    pub(super) rx: Option<String>,
    /// Patient's name, as it goes on the label and the worksheet.
    #[arg(long, value_name = "NAME")]
    pub(super) patient: Option<String>,
    /// Prescriber's name, as it goes on the label and the worksheet.
    #[arg(long, value_name = "NAME")]
    pub(super) prescriber: Option<String>,
    /// Directions for the label (default: the formula's).
    #[arg(long, value_name = "TEXT")]
    pub(super) directions: Option<String>,
    /// Refills authorised, 0 to 99, printed on the label (a controlled substance: none for
    /// Schedule II, at most 5 for III and IV).
    #[arg(long, value_name = "N")]
    pub(super) refills: Option<String>,
    /// The date the prescription was written, YYYY-MM-DD; required for a controlled substance.
    #[arg(long, value_name = "DATE")]
    pub(super) date_written: Option<String>,
    /// The prescriber's DEA registration number, e.g. AB1234563; required for a controlled
    /// substance.
    #[arg(long, value_name = "DEA")]
    pub(super) prescriber_dea: Option<String>,
    /// A component lot used: "NAME|LOT|EXPIRY[|MANUFACTURER]" (expiry YYYY-MM-DD); once per component.
    #[arg(long, value_name = "NAME|LOT|EXPIRY[|MFR]")]
    pub(super) component: Vec<String>,
    /// Replace output files that already exist.
    #[arg(long, help_heading = "Output")]
    pub(super) force: bool,
    /// Allow a compounding date more than 30 days before today or after it, and a BUD already
    /// past (a record typed up later, a label reprinted); each is still warned about.
    #[arg(long)]
    pub(super) backdate: bool,
}

pub(super) fn balance_from(args: &OrderArgs, mut b: Balance) -> Result<Balance> {
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
pub(super) fn order_from(args: &OrderArgs, paper: Option<&PaperArgs>) -> Result<(Formula, Order)> {
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
    if !args.confirm_strength.is_empty() {
        order.confirm_strength = all(
            "--confirm-strength",
            &args.confirm_strength,
            order::parse_confirmation,
        )?;
    }
    if let Some(p) = paper {
        if let Some(d) = &p.date {
            order.date = Some(arg("--date", order::parse_date(d))?);
        }
        let text = |flag: &str, v: &Option<String>| -> Result<Option<String>> {
            match v.as_deref().map(str::trim) {
                Some("") => Err(Error::arg(flag, "must not be empty")),
                Some(t) => {
                    crate::escape::check(t, flag == "--directions")
                        .map_err(|m| Error::arg(flag, m))?;
                    Ok(Some(t.to_string()))
                }
                None => Ok(None),
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
        if let Some(d) = &p.date_written {
            order.date_written = Some(arg("--date-written", order::parse_date(d))?);
        }
        if let Some(d) = &p.prescriber_dea {
            order.prescriber_dea = Some(arg("--prescriber-dea", order::parse_dea(d))?);
        }
        for c in &p.component {
            order
                .components
                .push(arg("--component", order::parse_component(c))?);
        }
    }
    Ok((formula, order))
}

/// A calculation error about an order value, placed in the order file when the order came
/// from one and the file sets that value: the calculation names values by what they are, a
/// file by its keys, the command line by its flags.
pub(super) fn place_in_order_file(e: Error, args: &OrderArgs) -> Error {
    let (Error::Order { field, message }, Some(file)) = (&e, &args.order_file) else {
        return e;
    };
    let key = field.key();
    // The line where the file sets the key, when it does (a flag may have set it instead).
    let line = library::read_text(file).ok().and_then(|text| {
        text.lines().position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key).is_some_and(|rest| {
                rest.trim_start().starts_with(['=', '.']) || rest.starts_with(']')
            }) || l.starts_with(&format!("[{key}"))
                || l.starts_with(&format!("[[{key}"))
        })
    });
    Error::Input {
        file: file.display().to_string(),
        line: line.map(|l| l + 1),
        key: Some(key.to_string()),
        message: message.clone(),
    }
}

pub(super) fn compute(args: &OrderArgs) -> Result<(Formula, calc::Calculation)> {
    let settings = config::load(args.config.as_deref())?;
    let (formula, order) = order_from(args, None)?;
    let formula = formula.with_pharmacy_diluent(settings.diluent.as_deref());
    let balance = balance_from(args, settings.balance.clone())?;
    let mut calc =
        calc::calculate(&formula, &order, &balance).map_err(|e| place_in_order_file(e, args))?;
    // The amounts do not depend on the date, but a component already expired must still be
    // refused here rather than first at the worksheet.
    let date = order.date.unwrap_or_else(today);
    let bud = batch_record::beyond_use_date(&formula, &order, date)?;
    let notes = prescription::warnings(&formula, &order, &calc, date, &bud);
    calc.warnings.extend(notes);
    Ok((formula, calc))
}

/// One batch's order, the particulars of its paper and who signs: what `make`, `worksheet`
/// and `label` each take.
#[derive(Args)]
pub(super) struct OneBatchArgs {
    #[command(flatten)]
    pub(super) order: OrderArgs,
    #[command(flatten)]
    pub(super) paper: PaperArgs,
    #[command(flatten)]
    pub(super) sign: SignArgs,
}

/// Builds the batch record without its lot (the compounding log gives it, see `logged`).
pub(super) fn prepare_record(batch: &OneBatchArgs) -> Result<(Settings, Record)> {
    let (args, paper) = (&batch.order, &batch.paper);
    let mut settings = config::load(args.config.as_deref())?;
    settings.balance = balance_from(args, settings.balance.clone())?;
    let (formula, order) = order_from(args, Some(paper))?;
    let date = order.date.unwrap_or_else(today);
    let record = Record::new(formula, order, &settings, date, String::new())
        .map_err(|e| place_in_order_file(e, args))?;
    prescription::check(&record.formula, &record.order, record.date)
        .map_err(|e| place_in_order_file(e, args))?;
    let warnings =
        batch_record::check_dates(record.date, Some(record.bud.date), today(), paper.backdate)
            .map_err(|m| match (&paper.date, &args.order_file) {
                (None, Some(f)) => Error::Input {
                    file: f.display().to_string(),
                    line: None,
                    key: Some("date".into()),
                    message: m,
                },
                _ => Error::arg("--date", m),
            })?;
    let notes = prescription::warnings(
        &record.formula,
        &record.order,
        &record.calc,
        record.date,
        &record.bud,
    );
    for w in warnings.iter().chain(&notes) {
        crate::escape::eprintln(&format!("warning: {w}"));
    }
    Ok((settings, record))
}
