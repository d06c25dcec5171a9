//! The controlled-substance reconciliation: where every gram of a scheduled drug went, in
//! the form weighed with the moiety beside it: weighed = in the units dispensed + in the
//! extra units (retained or destroyed) + aliquot remainder + beaker waste.

use rust_decimal::Decimal;

use crate::calc::{ActiveDetail, Reconciliation};
use crate::formula::Moiety;

use super::{Ingredient, Record, Sheet, blank, bold, cell1, grams, regular, schedule_name};

/// One block a scheduled active, numbered when there are several.
pub(super) fn reconciliation(s: &mut Sheet, record: &Record) {
    let scheduled: Vec<&Ingredient> = record
        .calc
        .ingredients
        .iter()
        .filter(|i| i.active.as_ref().is_some_and(|a| a.schedule.is_some()))
        .collect();
    for (k, i) in scheduled.iter().enumerate() {
        let Some(drug) = Drug::new(record, i) else {
            continue;
        };
        let title = if scheduled.len() > 1 {
            format!(
                "Controlled-substance reconciliation ({} of {})",
                k + 1,
                scheduled.len()
            )
        } else {
            "Controlled-substance reconciliation".to_owned()
        };
        s.section(&title, |s| drug.block(s));
    }
}

/// A scheduled active and what its block prints: the theoretical figures are printed, the
/// actual ones are left blank for the bench.
struct Drug<'a> {
    record: &'a Record,
    ingredient: &'a Ingredient,
    active: &'a ActiveDetail,
    schedule: &'static str,
    lot: String,
    /// The amount to weigh with its unit.
    amount: String,
    /// The moiety and the molecular weight of the form weighed, where the active has one.
    moiety: Option<(&'a Moiety, Decimal)>,
    /// The theoretical reconciliation the calculation made for it.
    theoretical: Option<&'a Reconciliation>,
}

impl<'a> Drug<'a> {
    fn new(record: &'a Record, i: &'a Ingredient) -> Option<Drug<'a>> {
        let a = i.active.as_ref()?;
        Some(Drug {
            record,
            ingredient: i,
            active: a,
            schedule: a.schedule.map_or("", schedule_name),
            lot: record
                .component(&i.name)
                .map(|l| l.lot.clone())
                .unwrap_or_default(),
            amount: format!("{} {}", i.amount, i.dimension.base_unit()),
            moiety: record
                .formula
                .actives
                .iter()
                .find(|f| f.name == i.name)
                .and_then(|f| Some((f.moiety.as_ref()?, f.mw))),
            theoretical: record.calc.reconciliation.iter().find(|r| r.name == i.name),
        })
    }

    fn block(&self, s: &mut Sheet) {
        self.drug_row(s);
        self.theoretical_row(s);
        weighed_row(s);
        self.yield_row(s);
        signature_row(s);
    }

    /// Everything is in the form weighed; this is the moiety beside it.
    fn as_moiety(&self, v: Decimal) -> String {
        self.moiety
            .and_then(|(m, mw)| {
                let g = v.checked_mul(m.mw)?.checked_div(mw)?;
                Some(format!(
                    " (= {} {})",
                    grams(self.record, g),
                    m.name.to_lowercase()
                ))
            })
            .unwrap_or_default()
    }

    /// A theoretical figure, in grams; blank without the calculation's reconciliation.
    fn theoretical(&self, figure: impl Fn(&Reconciliation) -> Decimal) -> String {
        self.theoretical
            .map_or_else(String::new, |r| grams(self.record, figure(r)))
    }

    fn drug_row(&self, s: &mut Sheet) {
        let i = self.ingredient;
        s.cells(
            &[
                cell1(format!("Drug, DEA {}", self.schedule), bold(&i.name), 2.2),
                cell1("Drug lot", regular(&self.lot), 1.0),
                cell1(
                    if i.aliquot.is_some() {
                        "Bulk drug to weigh (theoretical, into the aliquot)"
                    } else {
                        "Bulk drug to weigh (theoretical)"
                    },
                    bold(&self.amount),
                    1.2,
                ),
            ],
            28.0,
        );
    }

    /// Where the weighed drug goes in theory: the batch, each kind of waste and the units.
    fn theoretical_row(&self, s: &mut Sheet) {
        let c = &self.record.calc;
        s.cells(
            &[
                cell1(
                    "Into the batch (theoretical)",
                    regular(self.theoretical(|r| r.into_batch)),
                    1.1,
                ),
                cell1(
                    "Waste: aliquot remainder",
                    regular(self.theoretical(|r| r.aliquot_waste)),
                    1.0,
                ),
                cell1(
                    "Waste: overage left in beaker",
                    regular(self.theoretical(|r| r.beaker_waste)),
                    1.1,
                ),
                if c.extra_units > 0 {
                    cell1(
                        format!(
                            "In the {} extra units (retained / destroyed: circle one)",
                            c.extra_units
                        ),
                        regular(self.theoretical(|r| r.in_extra)),
                        1.3,
                    )
                } else {
                    cell1(
                        "In the units poured",
                        regular(self.theoretical(|r| r.in_units)),
                        0.9,
                    )
                },
                cell1(
                    "In the units dispensed",
                    regular(self.theoretical(|r| r.dispensed)),
                    0.9,
                ),
            ],
            28.0,
        );
    }

    fn yield_row(&self, s: &mut Sheet) {
        let c = &self.record.calc;
        let per_unit = format!(
            "{}{}",
            grams(self.record, self.active.per_unit_weighed),
            self.as_moiety(self.active.per_unit_weighed)
        );
        s.cells(
            &[
                blank(
                    format!("Units made (theoretical {})", c.units_prepared),
                    1.2,
                ),
                blank(
                    format!("Quantity in finished form (units × {per_unit}) "),
                    2.0,
                ),
                cell1(
                    "Theoretical yield",
                    regular(format!(
                        "{} units, {}{}",
                        c.units_prepared,
                        self.theoretical(|r| r.in_units),
                        self.theoretical
                            .map(|r| self.as_moiety(r.in_units))
                            .unwrap_or_default()
                    )),
                    1.2,
                ),
                blank("Actual yield (units)", 1.0),
            ],
            30.0,
        );
    }
}

/// What the bench writes in: the drug weighed, where it went and why any was wasted.
fn weighed_row(s: &mut Sheet) {
    s.cells(
        &[
            blank("Bulk drug weighed (g)", 1.0),
            blank("Used in the batch (g)", 1.0),
            blank("Wasted (g)", 0.8),
            blank(
                "Reason for waste (aliquot remainder, beaker residue, spill)",
                2.0,
            ),
        ],
        30.0,
    );
}

fn signature_row(s: &mut Sheet) {
    s.cells(
        &[
            blank("Compounder (signature)", 1.0),
            blank("Witness (name and signature)", 1.4),
            blank("Date", 0.6),
        ],
        32.0,
    );
}
