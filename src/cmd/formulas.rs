//! `troche formulas`, `troche show` and `troche check`: the formula library and formula files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::calc_report::{self, plural};
use crate::error::Result;
use crate::order::Order;
use crate::{batch_record, calc, config, formula, library, order, recipe};

use super::print;

pub(super) fn formulas() -> Result<i32> {
    let all = library::all()?;
    let w = all.iter().map(|f| f.id.chars().count()).max().unwrap_or(2);
    let fw = all
        .iter()
        .map(|f| f.dosage_form.chars().count())
        .max()
        .unwrap_or(4);
    let header = format!("{:<w$}  {:<fw$}  NAME (ACTIVES)\n", "ID", "FORM");
    let rows = all.iter().map(|f| {
        let actives: Vec<&str> = f.actives.iter().map(|a| a.name.as_str()).collect();
        format!(
            "{:<w$}  {:<fw$}  {} ({})\n",
            f.id,
            f.dosage_form,
            f.name,
            actives.join(", ")
        )
    });
    let out: String = std::iter::once(header).chain(rows).collect();
    print(&out)?;
    Ok(0)
}

#[derive(clap::Args)]
pub(super) struct ShowArgs {
    /// Library id or path to a formula file.
    formula: String,
    /// Print the master formulation record as a PDF to this file, with its approval in the
    /// log, instead of the formula's text.
    #[arg(long, value_name = "OUT.pdf")]
    pdf: Option<PathBuf>,
    /// Replace an existing PDF.
    #[arg(long, requires = "pdf")]
    force: bool,
    /// Pharmacy settings file (for `database` and `paper`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(super) fn show(ctx: &super::context::Context, a: &ShowArgs) -> Result<i32> {
    let formula = a.formula.as_str();
    if let Some(out) = &a.pdf {
        let f = library::load(formula)?;
        let settings = config::load(a.config.as_deref())?;
        let mut db = ctx.read_with_config(a.config.as_deref())?;
        let (approval, state) = super::approve::state(db.as_mut(), &f)?;
        let approved = crate::render::worksheet::Approved {
            by_at: approval.as_ref().map(|ap| (ap.by.as_str(), ap.at.as_str())),
            why_not: state.strip_prefix("NOT APPROVED: "),
        };
        let bytes = crate::render::worksheet::master_record(&f, &approved, settings.paper)?;
        crate::publish::write(out, &bytes, a.force, settings.file_mode)?;
        crate::escape::eprintln(&format!(
            "{}: master formulation record of {} version {}, {state}",
            out.display(),
            f.id,
            f.version
        ));
        return Ok(0);
    }
    let text = if let Some(t) = library::get(formula) {
        t.to_string()
    } else {
        // Validate first, so `show` of a file never prints something unusable silently.
        library::load(formula)?;
        library::read_text(std::path::Path::new(&formula))?
    };
    print(&text)?;
    Ok(0)
}

/// What a file given to `troche check` is, told by its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Formula,
    Order,
    Recipe,
    Settings,
    /// What happened at the bench (`troche record --from`).
    BenchRecord,
}

/// The kind of file `text` holds, by the keys at its top. A file that is not TOML is checked
/// as a formula (the check names its syntax error).
fn kind_of(text: &str) -> FileKind {
    let Ok(doc) = toml::de::DeTable::parse(crate::formula::strip_bom(text)) else {
        return FileKind::Formula;
    };
    let has = |keys: &[&str]| {
        doc.get_ref()
            .iter()
            .any(|(k, _)| keys.contains(&k.get_ref().as_ref()))
    };
    if has(&["batch", "config"]) {
        FileKind::Recipe
    } else if has(&[
        "id",
        "dosage_form",
        "route",
        "version",
        "description",
        "active",
        "excipient",
        "bud",
        "procedure",
        "base",
    ]) {
        FileKind::Formula
    } else if has(&[
        "formula",
        "strength",
        "quantity",
        "extra",
        "overage",
        "basis",
        "assay",
        "patient",
        "prescriber",
        "rx",
        "refills",
        "component",
        "lot",
        "date",
        "directions",
    ]) {
        FileKind::Order
    } else if has(&[
        "by",
        "made",
        "tolerance",
        "weights",
        "unit_weights",
        "rejected",
        "deviations",
    ]) {
        FileKind::BenchRecord
    } else if has(&["pharmacy", "balance", "paper", "label", "aliquot", "mold"]) {
        FileKind::Settings
    } else {
        FileKind::Formula
    }
}

/// Checks one file as what it is; returns what to say of it when it is sound, and the
/// calculation of each order it holds.
fn check_one(path: &Path) -> Result<(String, String)> {
    let text = library::read_text(path)?;
    let file = path.display().to_string();
    match kind_of(&text) {
        FileKind::Formula => {
            let f = formula::parse(&text, &file)?;
            Ok((format!("formula {} v{}", f.id, f.version), String::new()))
        }
        FileKind::BenchRecord => Ok((super::record::check_file(&text, &file)?, String::new())),
        FileKind::Settings => {
            let s = config::parse(&text, &file)?;
            let what = match s.pharmacy {
                Some(p) => format!("pharmacy settings of {}", p.name),
                None => "pharmacy settings, without a [pharmacy] (labels need it)".into(),
            };
            Ok((what, String::new()))
        }
        FileKind::Order => {
            let (named, order) = order::parse_file(&text, &file)?;
            let Some(named) = named else {
                return Ok((
                    "an order; it names no formula: run it with troche calc FORMULA --order FILE"
                        .into(),
                    String::new(),
                ));
            };
            let formula = library::load(&library::relative_to(path, &named))?;
            let calc = check_order(&formula, &order, &file)?;
            Ok((
                format!("an order of {} units of {}", order.quantity, formula.id),
                calc_report::summary(&calc, "    "),
            ))
        }
        FileKind::Recipe => {
            let recipe = recipe::parse(&text, path)?;
            let mut problems = Vec::new();
            let mut calcs = String::new();
            for e in &recipe.entries {
                // An entry that cannot be read says so with its own line already.
                let order = match &e.order {
                    Ok(o) => o,
                    Err(message) => {
                        problems.push(crate::Error::calc(message.clone()));
                        continue;
                    }
                };
                let named = e.formula.as_deref().unwrap_or_default();
                let checked = library::load(&library::relative_to(path, named))
                    .and_then(|formula| check_order(&formula, order, &file));
                match checked {
                    Ok(calc) => {
                        // Writing to a `String` cannot fail.
                        let _ = writeln!(
                            calcs,
                            "  [[batch]] {} (line {}): {} units of {named}",
                            e.index, e.line, order.quantity
                        );
                        calcs.push_str(&calc_report::summary(&calc, "    "));
                    }
                    Err(err) => problems.push(crate::Error::calc(format!(
                        "{file}:{}: [[batch]] {}: {err}",
                        e.line, e.index
                    ))),
                }
            }
            match problems.len() {
                0 => Ok((
                    format!(
                        "a recipe of {}",
                        plural(recipe.entries.len(), "batch", "batches")
                    ),
                    calcs,
                )),
                1 => Err(problems.remove(0)),
                _ => Err(crate::Error::Many(problems)),
            }
        }
    }
}

/// An order is sound when its batch can be calculated with the pharmacy's balance (or the
/// default one) and no component has expired; returns its calculation.
fn check_order(formula: &formula::Formula, order: &Order, file: &str) -> Result<calc::Calculation> {
    let settings = config::load(None)?;
    let formula = formula
        .clone()
        .with_pharmacy_diluent(settings.diluent.as_deref());
    let place = |e: crate::Error| match e {
        crate::Error::Argument { arg, message } => crate::Error::Input {
            file: file.to_string(),
            line: None,
            key: Some(arg.trim_start_matches("--").to_string()),
            message,
        },
        e => e,
    };
    let calc = calc::calculate(&formula, order, &settings.balance).map_err(place)?;
    if let Some(date) = order.date {
        batch_record::beyond_use_date(&formula, order, date).map_err(place)?;
    }
    Ok(calc)
}

pub(super) fn check(files: &[PathBuf]) -> Result<i32> {
    let mut failed = 0;
    for f in files {
        match check_one(f) {
            Ok((what, calcs)) => print(&format!("ok: {} ({what})\n{calcs}", f.display()))?,
            Err(e) => {
                failed += 1;
                crate::escape::eprintln(&e.to_string());
            }
        }
    }
    if failed > 0 {
        crate::escape::eprintln(&format!(
            "error: {failed} of {} {} problems",
            plural(files.len(), "file", "files"),
            if failed == 1 { "has" } else { "have" }
        ));
        return Ok(crate::error::Kind::Input.exit_code());
    }
    Ok(0)
}
