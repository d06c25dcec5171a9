//! The controlled-substance reconciliation: where every gram of a scheduled drug went.

use super::{Ingredient, Record, Sheet, blank, bold, cell1, grams, regular, schedule_name};

pub(super) fn reconciliation(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let scheduled: Vec<&Ingredient> = c
        .ingredients
        .iter()
        .filter(|i| i.active.as_ref().is_some_and(|a| a.schedule.is_some()))
        .collect();
    for (k, i) in scheduled.iter().enumerate() {
        let Some(a) = i.active.as_ref() else { continue };
        let sched = a.schedule.map_or("", schedule_name);
        let lot = record
            .component(&i.name)
            .map(|l| l.lot.clone())
            .unwrap_or_default();
        let amount = format!("{} {}", i.amount, i.dimension.base_unit());
        let per_unit = format!("{} {}", a.strength, a.strength_form);
        let rec = c.reconciliation.iter().find(|r| r.name == i.name);
        let g = |v: Option<rust_decimal::Decimal>| v.map_or_else(String::new, |v| grams(record, v));
        let block = |s: &mut Sheet| {
            s.cells(
                &[
                    cell1(format!("Drug, DEA {sched}"), bold(&i.name), 2.2),
                    cell1("Drug lot", regular(&lot), 1.0),
                    cell1(
                        if i.aliquot.is_some() {
                            "Bulk drug to weigh (theoretical, into the aliquot)"
                        } else {
                            "Bulk drug to weigh (theoretical)"
                        },
                        bold(&amount),
                        1.2,
                    ),
                ],
                28.0,
            );
            s.cells(
                &[
                    cell1(
                        "Into the batch (theoretical)",
                        regular(g(rec.map(|r| r.into_batch))),
                        1.1,
                    ),
                    cell1(
                        "Waste: aliquot remainder",
                        regular(g(rec.map(|r| r.aliquot_waste))),
                        1.0,
                    ),
                    cell1(
                        "Waste: overage left in beaker",
                        regular(g(rec.map(|r| r.beaker_waste))),
                        1.1,
                    ),
                    cell1(
                        "In the units poured",
                        regular(g(rec.map(|r| r.in_units))),
                        0.9,
                    ),
                    cell1(
                        "In the units dispensed",
                        regular(g(rec.map(|r| r.dispensed))),
                        0.9,
                    ),
                ],
                28.0,
            );
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
                            "{} units, {}",
                            c.units_prepared,
                            g(rec.map(|r| r.in_units))
                        )),
                        1.2,
                    ),
                    blank("Actual yield (units)", 1.0),
                ],
                30.0,
            );
            s.cells(
                &[
                    blank("Compounder (signature)", 1.0),
                    blank("Witness (name and signature)", 1.4),
                    blank("Date", 0.6),
                ],
                32.0,
            );
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
        s.section(&title, block);
    }
}
