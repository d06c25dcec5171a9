//! The filled-in record's own pages (`troche record`): what was measured at the bench, after
//! the worksheet. Every line wraps to the page and the pages flow like the worksheet's.

use serde_json::Value;

use super::{BODY, LEAD, Piece, Run, Sheet, bold, regular};

/// The actual values recorded for `lot` (the details `troche record` logs): weights with their
/// flags, unit weights, units made and rejected, deviations, the flags to resolve.
pub(super) fn actuals(s: &mut Sheet, lot: &str, d: &Value) {
    s.break_page();
    s.section(&format!("Actual values, lot {lot}"), |s| {
        line(
            s,
            &[regular(format!(
                "Recorded by {}; tolerance {} %; unit weight range {} g to {} g",
                text(&d["by"]),
                text(&d["tolerance_percent"]),
                text(&d["unit_weight_range_g"][0]),
                text(&d["unit_weight_range_g"][1])
            ))],
        );
    });
    s.section("Ingredient weights (g): theoretical, actual, off", |s| {
        for w in list(&d["weights"]) {
            let entry = format!(
                "{}: {} / {} ({} %)",
                text(&w["ingredient"]),
                text(&w["theoretical_g"]),
                text(&w["actual_g"]),
                text(&w["off_percent"])
            );
            if flagged(w) {
                line(s, &[bold(entry), bold("  ** FLAG **")]);
            } else {
                line(s, &[regular(entry)]);
            }
        }
    });
    s.section("Unit weights (g)", |s| {
        for u in list(&d["unit_weights"]) {
            let mut runs = vec![regular(format!(
                "unit {}: {}",
                text(&u["unit"]),
                text(&u["weight_g"])
            ))];
            if flagged(u) {
                runs.push(regular("  ** FLAG: outside range **"));
            }
            line(s, &runs);
        }
    });
    s.section("Units made and rejected", |s| {
        line(s, &[bold("Units made: "), regular(text(&d["made"]))]);
        for r in list(&d["rejected"]) {
            let why = format!("{} ({})", text(&r["count"]), text(&r["reason"]));
            line(s, &[bold("Rejected: "), regular(why)]);
        }
    });
    if list(&d["deviations"]).len() > 0 {
        s.section("Deviations", |s| {
            for dv in list(&d["deviations"]) {
                line(s, &[bold("Deviation: "), regular(text(dv))]);
            }
        });
    }
    let flags: Vec<String> = list(&d["flags"]).map(text).collect();
    s.section("Flags", |s| {
        if flags.is_empty() {
            line(s, &[regular("None")]);
        } else {
            line(
                s,
                &[
                    bold("To resolve before release: "),
                    regular(flags.join(", ")),
                ],
            );
        }
        s.gap(4.0);
        s.form(&[
            vec![Piece::Bold("Verified by:".into()), Piece::Blank(110.0)],
            vec![Piece::Bold("Date:".into()), Piece::Blank(70.0)],
        ]);
    });
}

/// One entry, wrapped to the page's width.
fn line(s: &mut Sheet, runs: &[Run]) {
    let (left, width) = (s.left, s.width());
    s.para(left, width, BODY, LEAD, runs);
}

fn list(v: &Value) -> impl ExactSizeIterator<Item = &Value> {
    v.as_array().map_or(&[][..], Vec::as_slice).iter()
}

fn flagged(v: &Value) -> bool {
    v["flagged"].as_bool() == Some(true)
}

/// A value as printed: a string as it is, anything else (a number, null) as JSON.
fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), String::from)
}
