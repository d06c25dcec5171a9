//! The record's header: prescription, batch, strength with its basis, mold, balance,
//! beyond-use date, storage and container.

use crate::formula::Unmeasured;

use super::{
    BasisSource, Cell, Font, Record, Run, Sheet, blank, bold, cell, cell1, date, or_value, regular,
    schedule_name, show, strength_runs, wrap_text,
};

/// The header, top to bottom: title lines, then rows of boxes for the prescription, the
/// people, the strength, the quantities, mold and balance, base, storage and the schedule.
pub(super) fn header(s: &mut Sheet, record: &Record) {
    title(s, record);
    prescription(s, record);
    s.cells(
        &[cell(
            "Strength per unit (with basis)",
            strengths(record),
            1.0,
        )],
        26.0,
    );
    quantities(s, record);
    equipment(s, record);
    storage(s, record);
}

/// The pharmacy and the formula's name, with the master record it comes from.
fn title(s: &mut Sheet, record: &Record) {
    let f = &record.formula;
    let (left, right, width) = (s.left, s.right, s.width());
    let top = s.y;
    if let Some(p) = &record.pharmacy {
        let name = wrap_text(Font::HelveticaBold, 9.0, &p.name, width - 160.0);
        s.text(
            left,
            top + 8.0,
            Font::HelveticaBold,
            9.0,
            name.first().map_or("", String::as_str),
        );
    }
    s.text_right(
        right,
        top + 8.0,
        Font::HelveticaBold,
        9.0,
        "COMPOUNDING RECORD",
    );
    s.y = top + 14.0;
    s.para(left, width, 17.0, 20.0, &[bold(&f.name)]);
    s.para(
        left,
        width,
        9.0,
        12.0,
        &[regular(format!(
            "Batch record prepared from master formulation record {}, version {}",
            f.id, f.version
        ))],
    );
    s.gap(6.0);
}

/// Rx, lot, date and times; patient, prescriber and pharmacy.
fn prescription(s: &mut Sheet, record: &Record) {
    let o = &record.order;
    s.cells(
        &[
            cell1("Rx / order number", regular(or_value(o.rx.as_deref())), 1.2),
            cell1("Lot number", bold(&record.lot), 1.2),
            cell1("Compounding date", regular(date(record.date)), 1.0),
            blank("Time started", 0.8),
            blank("Time finished", 0.8),
        ],
        28.0,
    );
    let mut people = vec![
        cell1("Patient", regular(or_value(o.patient.as_deref())), 1.0),
        cell1(
            "Prescriber",
            regular(or_value(record.prescriber_line().as_deref())),
            1.0,
        ),
    ];
    if let Some(p) = &record.pharmacy {
        people.push(cell1("Pharmacy", regular(&p.name), 1.0));
    }
    s.cells(&people, 28.0);
}

/// One line per active: which form the strength is of and who decided it, as the label
/// cannot say.
fn strengths(record: &Record) -> Vec<Vec<Run>> {
    let actives = record
        .calc
        .ingredients
        .iter()
        .filter_map(|i| i.active.as_ref());
    let mut strengths: Vec<Vec<Run>> = record
        .strength_lines()
        .iter()
        .zip(actives)
        .map(|(l, a)| {
            let mut runs = strength_runs(l);
            let decided = match a.basis_source {
                BasisSource::Order => Some("as ordered"),
                BasisSource::Formula => Some("as the formula prescribes"),
                BasisSource::Only => None,
            };
            if let Some(d) = decided {
                runs.push(regular(format!("· {} basis, {d}", a.basis.as_str())));
            }
            runs
        })
        .collect();
    if strengths.is_empty() {
        strengths.push(vec![regular("no active ingredient")]);
    }
    strengths
}

/// Dosage form, route, and the quantities dispensed and prepared.
fn quantities(s: &mut Sheet, record: &Record) {
    let (f, c) = (&record.formula, &record.calc);
    let prepared = match c.overage_percent {
        Some(p) => format!(
            "{} units + {} % overage on every ingredient ({} unit-equivalents)",
            c.units_prepared,
            p.normalize(),
            show(c.unit_equivalents)
        ),
        None if c.extra_units > 0 => format!(
            "{} units ({} + {} extra)",
            c.units_prepared, c.units_dispensed, c.extra_units
        ),
        None => format!("{} units", c.units_prepared),
    };
    s.cells(
        &[
            cell1("Dosage form", regular(&f.dosage_form), 0.8),
            cell1("Route", regular(&f.route), 0.7),
            cell1(
                "Quantity dispensed",
                regular(format!("{} units", c.units_dispensed)),
                0.9,
            ),
            cell1("Quantity prepared", regular(prepared), 1.5),
        ],
        26.0,
    );
}

/// The mold with its blank weight, and the balance.
fn equipment(s: &mut Sheet, record: &Record) {
    let (f, c) = (&record.formula, &record.calc);
    s.cells(
        &[
            cell1(
                "Mold",
                regular(format!(
                    "{} × {} ({} cavities)",
                    c.molds, f.mold.name, c.cavities
                )),
                1.9,
            ),
            mold_id_cell(record),
            cell1(
                match (&f.mold.blank_weight_is, &f.mold.derived) {
                    (Some(st), _) if st.is == Unmeasured::Nominal => {
                        "Blank weight (NOMINAL, not calibrated: calibrate below)"
                    }
                    (Some(_), _) => "Blank weight (ESTIMATED, not measured: calibrate below)",
                    (None, Some(_)) => "Blank weight (DERIVED, not measured: calibrate below)",
                    (None, None) => "Calibrated blank weight",
                },
                regular(format!("{} g per unit", show(c.blank_weight))),
                0.9,
            ),
        ],
        26.0,
    );
    let b = &c.balance;
    s.cells(
        &[
            match &b.id {
                Some(id) => cell1("Balance id", bold(id), 0.9),
                None => blank("Balance id (write the balance used)", 0.9),
            },
            cell1(
                "Readability",
                regular(format!("{} g", b.readability.normalize())),
                0.6,
            ),
            cell1(
                "Minimum weighable quantity (MWQ)",
                regular(b.mwq_rule()),
                2.2,
            ),
        ],
        26.0,
    );
}

/// The base, the beyond-use date with storage and container, and a controlled substance's
/// schedule.
fn storage(s: &mut Sheet, record: &Record) {
    let (f, c) = (&record.formula, &record.calc);
    let base = if c.base_rows().count() > 1 {
        format!(
            "{} (mixed from {} components, each weighed below)",
            f.base.name,
            c.base_rows().count()
        )
    } else {
        f.base.name.clone()
    };
    s.cells(&[cell1("Base", regular(base), 1.0)], 24.0);
    s.cells(
        &[
            cell1("Beyond-use date", bold(date(record.bud.date)), 0.6),
            cell1("Storage", regular(&f.bud.storage), 2.0),
            match &f.bud.container {
                Some(container) => cell1("Container-closure", regular(container), 1.2),
                None => blank(
                    "Container-closure used (the master formulation record names none: write it)",
                    1.2,
                ),
            },
        ],
        26.0,
    );
    s.cells(
        &[cell1(
            "How the beyond-use date was set",
            regular(&record.bud.rule),
            1.0,
        )],
        24.0,
    );
    if let Some(sched) = record.schedule() {
        s.cells(
            &[cell1(
                "Controlled substance",
                bold(format!(
                    "DEA {}: enter the drug in the controlled-substance record and complete the \
                     reconciliation below",
                    schedule_name(sched)
                )),
                1.0,
            )],
            24.0,
        );
    }
}

/// The pharmacy's id of the mold to use: the one it has, a choice among several with room to
/// write which, or a box to write it in.
pub(super) fn mold_id_cell(record: &Record) -> Cell {
    match record.mold_ids.as_slice() {
        [] => blank("Mold id (write the mold used)", 1.0),
        [one] => cell1("Mold id", bold(one), 1.0),
        many => cell(
            "Mold id (write which was used)",
            vec![
                vec![regular(format!("use one of: {}", many.join(", ")))],
                vec![regular("used: ________________")],
            ],
            1.0,
        ),
    }
}
