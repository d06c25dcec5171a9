//! The controlled-substance reconciliation: where every gram of a scheduled drug went, in
//! the form weighed with the moiety beside it: weighed = in the units dispensed + in the
//! extra units (retained or destroyed) + aliquot remainder + beaker waste.

use rust_decimal::Decimal;

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
        // Everything in the form weighed; the moiety beside it where the active has one.
        let moiety = record
            .formula
            .actives
            .iter()
            .find(|f| f.name == i.name)
            .and_then(|f| Some((f.moiety.as_ref()?, f.mw)));
        let as_moiety = |v: Decimal| {
            moiety
                .and_then(|(m, mw)| {
                    let g = v.checked_mul(m.mw)?.checked_div(mw)?;
                    Some(format!(
                        " (= {} {})",
                        grams(record, g),
                        m.name.to_lowercase()
                    ))
                })
                .unwrap_or_default()
        };
        let per_unit = format!(
            "{}{}",
            grams(record, a.per_unit_weighed),
            as_moiety(a.per_unit_weighed)
        );
        let rec = c.reconciliation.iter().find(|r| r.name == i.name);
        let g = |v: Option<Decimal>| v.map_or_else(String::new, |v| grams(record, v));
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
                    if c.extra_units > 0 {
                        cell1(
                            format!(
                                "In the {} extra units (retained / destroyed: circle one)",
                                c.extra_units
                            ),
                            regular(g(rec.map(|r| r.in_extra))),
                            1.3,
                        )
                    } else {
                        cell1(
                            "In the units poured",
                            regular(g(rec.map(|r| r.in_units))),
                            0.9,
                        )
                    },
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
                            "{} units, {}{}",
                            c.units_prepared,
                            g(rec.map(|r| r.in_units)),
                            rec.map(|r| as_moiety(r.in_units)).unwrap_or_default()
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
