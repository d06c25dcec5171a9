//! The compounding record of one batch: the formula, the order, the calculation, the lot and
//! the beyond-use date together: everything the worksheet and the label print, decided before
//! any layout starts so both documents say the same thing.

use jiff::civil::Date;

use crate::bud::{self, Bud, Expiry};
use crate::calc::{self, Calculation, StrengthStyle};
use crate::config::{Pharmacy, Settings};
use crate::error::Result;
use crate::formula::names::Names;
use crate::formula::{Formula, Schedule};
use crate::order::{ComponentLot, Order};

/// The federal transfer warning for Schedule II–IV drugs, word for word (21 CFR 290.5).
pub const FEDERAL_TRANSFER_WARNING: &str = "Caution: Federal law prohibits the transfer of this drug to any person other than the patient for whom it was prescribed.";

#[derive(Debug, Clone)]
pub struct Record {
    pub formula: Formula,
    pub order: Order,
    pub calc: Calculation,
    /// Date of compounding (also the PDF metadata date, so output is reproducible).
    pub date: Date,
    /// Internal lot number of this batch.
    pub lot: String,
    pub bud: Bud,
    pub pharmacy: Option<Pharmacy>,
    /// Directions for the label: the order's, else the formula's.
    pub directions: String,
    /// The pharmacy's ids of molds of the formula's kind (settings `[[mold]]` whose name is the
    /// formula's mold name), so the worksheet can name the one to use.
    pub mold_ids: Vec<String>,
    /// The recipe entry this batch was made from, so a rerun of the recipe recognises it.
    pub origin: Option<Origin>,
    /// The seal of a batch entered in the log: the first digits of the log's hash chain as it
    /// stood when the transaction that assigned the lot began (`logbook::chain`), for the
    /// worksheet's footer. `None` without a log.
    pub seal: Option<String>,
    /// What is written across every page of the batch's documents when they are not a
    /// compounding record to dispense from; empty for the documents of a batch as made.
    pub stamps: Vec<Stamp>,
}

/// A statement written across every page (`render::canvas::Canvas::stamp`), so that a page
/// printed for another purpose cannot be taken for the batch's own paperwork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// Printed to look at an order before it is made: no lot is taken.
    Preview,
    /// Made in the practice log, for training.
    Practice,
    /// Reprinted while the batch may not be dispensed: its state, as the log names it
    /// (rejected, void, quarantined, recalled).
    NotReleasable(String),
}

impl Stamp {
    /// The words written across the page.
    pub fn text(&self) -> String {
        match self {
            Stamp::Preview => "PREVIEW - NOT A COMPOUNDING RECORD".to_owned(),
            Stamp::Practice => "PRACTICE - NOT FOR DISPENSING".to_owned(),
            Stamp::NotReleasable(state) => {
                format!("{} - DO NOT DISPENSE", state.to_uppercase())
            }
        }
    }
}

impl Record {
    /// The lines of every stamp the record carries, for `Canvas::stamp`.
    pub fn stamp_lines(&self) -> Vec<String> {
        self.stamps.iter().map(Stamp::text).collect()
    }
}

/// Where a batch came from in a recipe file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub recipe: String,
    pub entry: usize,
    pub fingerprint: String,
}

/// How many days before today a batch may be dated without `--backdate`.
pub const MAX_DAYS_BACK: i32 = 30;

/// Refuses dates that cannot be meant for a batch compounded now: a compounding date after
/// today or more than [`MAX_DAYS_BACK`] days before it, and a BUD already past. With
/// `backdate` (a record typed up later, a label reprinted) they are allowed, and the warnings
/// returned say so.
pub fn check_dates(
    date: Date,
    bud: Option<Date>,
    today: Date,
    backdate: bool,
) -> std::result::Result<Vec<String>, String> {
    let earliest = today
        .checked_sub(jiff::Span::new().days(MAX_DAYS_BACK))
        .unwrap_or(today);
    let mut problems = Vec::new();
    if date > today {
        problems.push(format!(
            "the compounding date {date} is after today ({today})"
        ));
    } else if date < earliest {
        problems.push(format!(
            "the compounding date {date} is more than {MAX_DAYS_BACK} days before today \
             ({today})"
        ));
    }
    if let Some(bud) = bud
        && bud < today
    {
        problems.push(format!(
            "the beyond-use date {bud} is already past: the batch could not be dispensed"
        ));
    }
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    if backdate {
        return Ok(problems
            .into_iter()
            .map(|p| format!("{p} (allowed by --backdate)"))
            .collect());
    }
    Err(format!(
        "{}; a batch is dated from {earliest} to today ({today}) and its BUD must not be past. \
         To date a record outside that on purpose (typed up later, reprinted), pass --backdate",
        problems.join("; ")
    ))
}

impl Record {
    /// Computes the batch and its BUD. `lot` must already be decided (see `lots`).
    pub fn new(
        formula: Formula,
        order: Order,
        settings: &Settings,
        date: Date,
        lot: String,
    ) -> Result<Record> {
        let formula = formula.with_pharmacy_diluent(settings.diluent.as_deref());
        let mut calc = calc::calculate(&formula, &order, &settings.balance)?;
        let bud = beyond_use_date(&formula, &order, date)?;
        let notes = crate::prescription::warnings(&formula, &order, &calc, date, &bud);
        calc.warnings.extend(notes);
        let directions = order
            .directions
            .clone()
            .unwrap_or_else(|| formula.label.directions.clone());
        let mold_ids = settings
            .molds
            .iter()
            .filter(|m| m.name.trim().eq_ignore_ascii_case(formula.mold.name.trim()))
            .map(|m| m.id.clone())
            .collect();
        Ok(Record {
            formula,
            order,
            calc,
            date,
            lot,
            bud,
            pharmacy: settings.pharmacy.clone(),
            mold_ids,
            directions,
            origin: None,
            seal: None,
            stamps: Vec::new(),
        })
    }

    pub fn schedule(&self) -> Option<Schedule> {
        self.calc.schedule()
    }

    /// Whether the label must carry the federal transfer warning.
    pub fn needs_transfer_warning(&self) -> bool {
        self.schedule()
            .is_some_and(Schedule::needs_transfer_warning)
    }

    /// The strength per unit for label and worksheet, in the form the prescription names,
    /// with the other form beside it where the active has one, e.g. "Sildenafil 100 mg per
    /// troche (as sildenafil citrate 140.5 mg)", "Ketamine hydrochloride 50 mg per troche
    /// (= ketamine 43.35 mg)", "Progesterone 100 mg per troche". Short names: the grade
    /// ("USP", "micronized") is for the bench, not the patient.
    pub fn strength_lines(&self) -> Vec<String> {
        let style = StrengthStyle::Document {
            dosage_form: &self.formula.dosage_form,
        };
        self.calc
            .ingredients
            .iter()
            .filter_map(|i| Some(i.active.as_ref()?.strength_text(style)))
            .collect()
    }

    /// The prescriber as the worksheet names them: with the DEA number and the date written
    /// when the order gives them.
    pub fn prescriber_line(&self) -> Option<String> {
        let o = &self.order;
        let mut parts: Vec<String> = o.prescriber.iter().cloned().collect();
        if let Some(d) = &o.prescriber_dea {
            parts.push(format!("DEA {d}"));
        }
        if let Some(d) = o.date_written {
            parts.push(format!("Rx written {d}"));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// The component lot recorded for an ingredient, if the order gave one.
    /// The order may name the ingredient any way [`Names`] resolves ("Ketamine" for
    /// ketamine hydrochloride).
    pub fn component(&self, name: &str) -> Option<&ComponentLot> {
        let components = &self.order.components;
        if components.is_empty() {
            return None;
        }
        if let Some(c) = components.iter().find(|c| c.name == name) {
            return Some(c);
        }
        let names = Names::ingredients(&self.formula);
        components.iter().find(|c| {
            names
                .resolve(&c.name)
                .is_ok_and(|i| names.full(i) == name.trim())
        })
    }
}

/// The BUD of a batch of `formula` compounded on `date` from the order's component lots; an
/// error if a component has expired by then.
pub fn beyond_use_date(formula: &Formula, order: &Order, date: Date) -> Result<Bud> {
    let expiries: Vec<Expiry> = order
        .components
        .iter()
        .filter_map(|c| {
            c.expiry.map(|d| Expiry {
                component: &c.name,
                lot: &c.lot,
                date: d,
            })
        })
        .collect();
    bud::compute(date, formula.bud.days, &formula.bud.reference, &expiries)
}
