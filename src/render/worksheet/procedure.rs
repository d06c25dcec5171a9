//! Equipment and compounding steps, ticked as done.

use crate::formula::{name_matches, steps};

use super::{BODY, CHECK, Font, LEAD, Piece, Record, Role, Sheet, bold, grams, regular};

/// The amount of the ingredient a step's placeholder names, as the components table gives it
/// for this batch: its row's amount and unit (mL for a liquid measured by volume), or the
/// whole base when a step names a base mixed from components.
pub(super) fn amount_of(record: &Record, name: &str) -> Option<String> {
    let c = &record.calc;
    if let Some(i) = c.ingredients.iter().find(|i| name_matches(&i.name, name)) {
        return Some(format!("{} {}", i.amount, i.dimension.base_unit()));
    }
    (name_matches(&record.formula.base.name, name) && c.base_rows().any(|i| i.role == Role::Base))
        .then(|| grams(record, c.base_total))
}

pub(super) fn procedure(s: &mut Sheet, record: &Record) {
    let p = &record.formula.procedure;
    let checked_item = |text: &str, number: Option<usize>| {
        let text = text.to_owned();
        move |s: &mut Sheet| {
            let indent = if number.is_some() { 32.0 } else { 16.0 };
            s.hanging(
                |s, b| {
                    s.check(s.left + 1.0, b - CHECK + 1.0);
                    if let Some(n) = number {
                        s.text(
                            s.left + 14.0,
                            b,
                            Font::HelveticaBold,
                            BODY,
                            &format!("{n}."),
                        );
                    }
                },
                indent,
                &[regular(&text)],
            );
            s.gap(1.5);
        }
    };
    // Equipment items are short: packed several to a line, each with its own tick box.
    let equipment: Vec<Vec<Piece>> = p
        .equipment
        .iter()
        .map(|e| vec![Piece::Check, Piece::Text(e.clone())])
        .collect();
    if !equipment.is_empty() {
        s.section("Equipment (tick when clean and ready)", |s| {
            s.form(&equipment);
        });
    }
    let filled: Vec<String> = p
        .steps
        .iter()
        .map(|t| steps::fill(t, |name| amount_of(record, name)))
        .collect();
    let mut steps = filled
        .iter()
        .enumerate()
        .map(|(n, t)| checked_item(t, Some(n + 1)));
    if let Some(first) = steps.next() {
        s.section("Compounding procedure (tick each step as done)", first);
        for st in steps {
            s.keep(st);
        }
    }

    let description = record.formula.description.clone();
    s.section("Physical description of the finished preparation", |s| {
        let (left, width) = (s.left, s.width());
        s.para(
            left,
            width,
            BODY,
            LEAD,
            &[bold("Expected:"), regular(&description)],
        );
        s.form(&[
            vec![
                Piece::Bold("Observed:".into()),
                Piece::Check,
                Piece::Text("conforms".into()),
            ],
            vec![Piece::Check, Piece::Text("does not conform".into())],
            vec![Piece::Bold("Comments:".into()), Piece::Blank(180.0)],
        ]);
    });
}
