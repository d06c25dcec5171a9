//! The compounding record of one batch: the formula, the order, the calculation, the lot and
//! the beyond-use date together: everything the worksheet and the label print, decided before
//! any layout starts so both documents say the same thing.

use jiff::civil::Date;

use crate::bud::{self, Bud, Expiry};
use crate::calc::{self, Calculation};
use crate::config::{Pharmacy, Settings};
use crate::error::{Error, Result};
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
        check_components(&formula, &order.components)?;
        let calc = calc::calculate(&formula, &order, &settings.balance)?;
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
        let bud = bud::compute(date, formula.bud.days, &formula.bud.reference, &expiries)?;
        let directions = order
            .directions
            .clone()
            .unwrap_or_else(|| formula.label.directions.clone());
        Ok(Record {
            formula,
            order,
            calc,
            date,
            lot,
            bud,
            pharmacy: settings.pharmacy.clone(),
            directions,
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

    /// The strength line for label and worksheet, per unit with its basis, e.g.
    /// "Ketamine hydrochloride 50 mg per troche (as the hydrochloride salt)".
    pub fn strength_lines(&self) -> Vec<String> {
        self.calc
            .ingredients
            .iter()
            .filter_map(|i| {
                let a = i.active.as_ref()?;
                let basis = match a.basis {
                    crate::order::Basis::Salt => format!("strength of {} as weighed", i.name),
                    crate::order::Basis::Moiety => {
                        format!("strength as {}, weighed as {}", a.strength_form, i.name)
                    }
                };
                Some(format!(
                    "{} {} per {} ({basis})",
                    a.strength_form, a.strength, self.formula.dosage_form
                ))
            })
            .collect()
    }

    /// The component lot recorded for an ingredient, if the order gave one.
    pub fn component(&self, name: &str) -> Option<&ComponentLot> {
        self.order
            .components
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Every component lot must name an ingredient of the formula, so a typo cannot leave a lot
/// (and its expiry) silently unrecorded.
fn check_components(formula: &Formula, components: &[ComponentLot]) -> Result<()> {
    let names: Vec<&str> = formula
        .actives
        .iter()
        .map(|a| a.name.as_str())
        .chain(formula.excipients.iter().map(|e| e.name.as_str()))
        .chain(std::iter::once(formula.base.name.as_str()))
        .collect();
    for c in components {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&c.name)) {
            return Err(Error::arg(
                "component",
                format!(
                    "\"{}\" is not an ingredient of {}; ingredients: {}",
                    c.name,
                    formula.id,
                    names.join("; ")
                ),
            ));
        }
    }
    Ok(())
}
