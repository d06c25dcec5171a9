//! The calculation, step by step, and the notes under it.

use super::{
    BODY, Font, Ingredient, LEAD, Piece, Record, Sheet, baseline, bold, metrics, regular, wrap_runs,
};

pub(super) fn calculation(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let indent = 12.0;
    let ingredient_block = |i: &Ingredient| {
        let name = i.name.clone();
        let steps = i.steps.clone();
        move |s: &mut Sheet| {
            let (left, width) = (s.left, s.width());
            s.para(left, width, BODY, LEAD, &[bold(&name)]);
            for step in &steps {
                s.hanging(
                    |s, b| {
                        s.text(s.left + 3.0, b, Font::Helvetica, BODY, "–");
                    },
                    indent,
                    &[regular(step)],
                );
            }
            s.gap(3.0);
        }
    };
    let mut blocks = c.ingredients.iter().map(ingredient_block);
    match blocks.next() {
        Some(first) => s.section("Calculation, step by step (verify every line)", first),
        None => s.heading("Calculation, step by step (verify every line)", 0.0),
    }
    for b in blocks {
        s.keep(b);
    }

    s.gap(4.0);
    let mut rows: Vec<(String, String)> = c.steps.clone();
    rows.push(("Beyond-use date".to_owned(), record.bud.rule.clone()));
    // Wide enough for the longest step name on one line, but never most of the page.
    let key_w = rows
        .iter()
        .map(|(k, _)| metrics::text_width(Font::HelveticaBold, BODY, k) + 12.0)
        .fold(90.0, f32::max)
        .min(s.width() * 0.35);
    s.keep(|s| {
        let (left, width) = (s.left, s.width());
        s.para(left, width, BODY, LEAD, &[bold("Batch")]);
    });
    for (k, v) in &rows {
        s.keep(|s| {
            let key = wrap_runs(&[bold(k.as_str())], BODY, key_w - 6.0);
            let val = wrap_runs(&[regular(v.as_str())], BODY, s.width() - key_w - indent);
            let n = key.len().max(val.len());
            let y = s.y;
            for (j, l) in key.iter().enumerate() {
                s.runs(
                    s.left + indent,
                    baseline(y + metrics::count(j) * LEAD, BODY, LEAD),
                    BODY,
                    l,
                );
            }
            for (j, l) in val.iter().enumerate() {
                s.runs(
                    s.left + indent + key_w,
                    baseline(y + metrics::count(j) * LEAD, BODY, LEAD),
                    BODY,
                    l,
                );
            }
            s.y += metrics::count(n) * LEAD;
        });
    }
    s.gap(2.0);
    s.keep(|s| {
        s.form(&[
            vec![
                Piece::Bold("Calculations checked by (pharmacist):".into()),
                Piece::Blank(120.0),
            ],
            vec![Piece::Bold("Date:".into()), Piece::Blank(70.0)],
        ]);
    });
}

pub(super) fn notes(s: &mut Sheet, record: &Record) {
    let warnings = &record.calc.warnings;
    if warnings.is_empty() {
        return;
    }
    let item = |w: &String| {
        let w = w.clone();
        move |s: &mut Sheet| {
            s.hanging(
                |s, b| {
                    s.text(s.left + 2.0, b, Font::HelveticaBold, BODY, "!");
                },
                12.0,
                &[regular(&w)],
            );
            s.gap(2.0);
        }
    };
    let mut items = warnings.iter().map(item);
    if let Some(first) = items.next() {
        s.section("Notes and warnings", first);
    }
    for i in items {
        s.keep(i);
    }
}
