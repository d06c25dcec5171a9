//! The compounding record of one batch: the formula, the order, the calculation, the lot and
//! the beyond-use date together: everything the worksheet and the label print, decided before
//! any layout starts so both documents say the same thing.

use jiff::civil::Date;

use crate::bud::{self, Bud, Expiry};
use crate::calc::{self, Calculation};
use crate::config::{Pharmacy, Settings};
use crate::error::Result;
use crate::formula::{Formula, Schedule, name_matches};
use crate::order::{Basis, ComponentLot, Order};

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
    /// The recipe entry this batch was made from, so a rerun of the recipe recognises it.
    pub origin: Option<Origin>,
}

/// Where a batch came from in a recipe file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub recipe: String,
    pub entry: usize,
    pub fingerprint: String,
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
        let calc = calc::calculate(&formula, &order, &settings.balance)?;
        let bud = beyond_use_date(&formula, &order, date)?;
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
            origin: None,
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

    /// The strength per unit for label and worksheet, with its basis said in words and the
    /// equivalent in the other form, e.g. "Ketamine 50 mg per troche (as the moiety; = 57.67 mg
    /// ketamine hydrochloride)". Short names: the grade ("USP", "micronized") is for the bench.
    pub fn strength_lines(&self) -> Vec<String> {
        let short = |name: &str| {
            name.split([',', '('])
                .next()
                .unwrap_or(name)
                .trim()
                .to_string()
        };
        let form = &self.formula.dosage_form;
        self.calc
            .ingredients
            .iter()
            .filter_map(|i| {
                let a = i.active.as_ref()?;
                let active = self.formula.actives.iter().find(|x| x.name == i.name)?;
                let mg = |grams: rust_decimal::Decimal| {
                    let v = (grams * rust_decimal::Decimal::ONE_THOUSAND).round_dp_with_strategy(
                        2,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    );
                    format!("{} mg", v.normalize())
                };
                let s = a.strength.in_base();
                let basis = match (a.basis, &active.moiety) {
                    (Basis::Salt, None) => "as weighed".to_string(),
                    (Basis::Salt, Some(m)) => format!(
                        "as the salt; = {} {}",
                        mg(s.checked_mul(m.mw)?.checked_div(active.mw)?),
                        short(&m.name).to_lowercase()
                    ),
                    (Basis::Moiety, _) => {
                        let (mw, mmw) = a.salt_factor?;
                        format!(
                            "as the moiety; = {} {}",
                            mg(s.checked_mul(mw)?.checked_div(mmw)?),
                            short(&i.name).to_lowercase()
                        )
                    }
                };
                let name = match a.basis {
                    Basis::Salt => short(&i.name),
                    Basis::Moiety => short(&a.strength_form),
                };
                Some(format!("{name} {} per {form} ({basis})", a.strength))
            })
            .collect()
    }

    /// The component lot recorded for an ingredient, if the order gave one.
    pub fn component(&self, name: &str) -> Option<&ComponentLot> {
        self.order
            .components
            .iter()
            .find(|c| name_matches(name, &c.name))
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
