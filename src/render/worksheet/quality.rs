//! Quality control: theoretical unit weight and range, a box for every unit, inspection and
//! yield.

use super::{
    BODY, CHECK, Font, LEAD, Piece, Record, Sheet, UNIT_BOX_H, UNIT_BOX_MIN_W, UNIT_GRID_LIMIT,
    blank, bold, cell1, grams, metrics, regular,
};

pub(super) fn quality(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    // The limits as `troche record` judges them: one rounding for paper and program.
    let (low, high) = c.accepted_range();
    let (low, high) = (format!("{low} g"), format!("{high} g"));
    let unit = grams(record, c.unit_weight);
    let tol = c.tolerance_percent.normalize();
    let range = format!("{low} to {high}");
    s.section("Quality control", |s| {
        s.cells(
            &[
                cell1("Theoretical unit weight", bold(&unit), 1.0),
                cell1(format!("Accepted range (± {tol} %)"), bold(&range), 1.3),
                blank("Mean unit weight (g)", 1.0),
                blank("Units outside the range", 1.0),
            ],
            28.0,
        );
    });
    unit_grid(s, record, &range);
    s.gap(4.0);
    s.keep(|s| {
        s.hanging(
            |s, b| s.check(s.left + 1.0, b - CHECK + 1.0),
            16.0,
            &[
                bold("Visual inspection passed:"),
                regular(
                    "uniform color and surface; no cracks, chips, air pockets or settled \
                     powder; matches the description above",
                ),
            ],
        );
        s.form(&[
            vec![Piece::Bold("Inspected by:".into()), Piece::Blank(90.0)],
            vec![Piece::Bold("Units rejected:".into()), Piece::Blank(50.0)],
            vec![Piece::Bold("Reason:".into()), Piece::Blank(150.0)],
        ]);
        s.gap(4.0);
        s.cells(
            &[
                cell1(
                    "Theoretical yield",
                    bold(format!("{} units", c.units_prepared)),
                    1.0,
                ),
                blank("Actual yield (units)", 1.0),
                cell1(
                    "Units dispensed",
                    regular(format!("{} units", c.units_dispensed)),
                    1.0,
                ),
                blank("Percent yield (actual ÷ theoretical × 100)", 1.4),
            ],
            30.0,
        );
    });
}

/// One box per unit, numbered, so every unit is weighed on its own (group weighing is an
/// inspection finding). Batches above [`UNIT_GRID_LIMIT`] units get a note instead: tens of
/// pages of boxes are no longer a usable form, and such batches are weighed with a printing
/// balance whose printout is attached.
pub(super) fn unit_grid(s: &mut Sheet, record: &Record, range: &str) {
    let n = record.calc.units_prepared;
    let caption = format!(
        "Weigh each unit individually and write its weight in grams (accepted {range}); \
         circle any outside the range."
    );
    if n > UNIT_GRID_LIMIT {
        s.keep(|s| {
            let (left, width) = (s.left, s.width());
            s.gap(4.0);
            s.para(
                left,
                width,
                BODY,
                LEAD,
                &[
                    bold("Individual unit weights:"),
                    regular(format!(
                        "this batch has {n} units, more than the {UNIT_GRID_LIMIT} boxes this \
                         record prints. Weigh every unit individually on a printing balance or \
                         on continuation sheets numbered 1 to {n}, and attach them to this record."
                    )),
                ],
            );
            s.form(&[
                vec![
                    Piece::Check,
                    Piece::Text("balance printout attached".into()),
                ],
                vec![
                    Piece::Check,
                    Piece::Text("continuation sheets attached, pages:".into()),
                    Piece::Blank(60.0),
                ],
            ]);
        });
        return;
    }
    if n == 0 {
        return;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a page holds a few hundred boxes a row at most; `as` saturates, NaN is 0"
    )]
    let cols = ((s.width() / UNIT_BOX_MIN_W).floor() as u32).max(1);
    let box_w = s.width() / metrics::count(cols as usize);
    let rows = n.div_ceil(cols);
    let caption_block = |s: &mut Sheet, text: &str| {
        let (left, width) = (s.left, s.width());
        s.gap(4.0);
        s.para(left, width, 8.5, 11.0, &[regular(text)]);
        s.gap(2.0);
    };
    let cap_h = s.measure(&|s: &mut Sheet| caption_block(s, &caption));
    s.need(cap_h + UNIT_BOX_H);
    caption_block(s, &caption);
    let continued = format!("Individual unit weights (g), continued; accepted {range}");
    for r in 0..rows {
        if s.y + UNIT_BOX_H > s.bottom && !s.at_top() {
            s.break_page();
            caption_block(s, &continued);
        }
        let y = s.y;
        for k in 0..cols {
            let unit = r * cols + k + 1;
            if unit > n {
                break;
            }
            let x = s.left + metrics::count(k as usize) * box_w;
            s.rect(x, y, box_w, UNIT_BOX_H, 0.5);
            s.text(x + 2.5, y + 7.5, Font::Helvetica, 6.5, &unit.to_string());
            s.text_right(
                x + box_w - 3.0,
                y + UNIT_BOX_H - 3.5,
                Font::Helvetica,
                6.5,
                "g",
            );
        }
        s.y += UNIT_BOX_H;
    }
}
