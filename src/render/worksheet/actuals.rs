//! The filled-in record's own pages (`troche record`): what was measured at the bench, after
//! the worksheet, each value beside the limit it was judged by (the value printed is the
//! value judged). Every line wraps to the page and the pages flow like the worksheet's.

use crate::bench::{BenchRecord, Dec, Reconciled, UnitStats};

use super::{Piece, Run, Sheet, bold, regular};

/// The bench record `b` of `lot`: amounts, component lots, unit weights with their figures,
/// units made and the yield, the reconciliation, deviations, flags and what is missing.
pub(super) fn actuals(s: &mut Sheet, lot: &str, b: &BenchRecord) {
    s.break_page();
    identity(s, lot, b);
    amounts(s, b);
    component_lots(s, b);
    units(s, b);
    for r in &b.reconciliation {
        reconciliation(s, b, r);
    }
    deviations(s, b);
    before_release(s, b);
}

/// Which record this is, who made it and under what tolerances: a correction says what it
/// supersedes and why, so a reader never takes it for the first.
fn identity(s: &mut Sheet, lot: &str, b: &BenchRecord) {
    let title = if b.number == 1 {
        format!("Actual values, lot {lot}")
    } else {
        format!("Actual values, lot {lot}: record {}", b.number)
    };
    s.section(&title, |s| {
        if b.number > 1 {
            s.body(&[
                bold(format!("Supersedes record {}. ", b.number - 1)),
                regular(format!(
                    "Reason for the correction: {}",
                    b.reason.as_deref().unwrap_or("")
                )),
            ]);
        }
        let who = match &b.witness {
            Some(w) => format!(
                "Recorded by {}; weighing of the controlled substance witnessed by {w}",
                b.by
            ),
            None => format!("Recorded by {}", b.by),
        };
        s.body(&[regular(who)]);
        if let Some(t) = b.narrowed_to_percent {
            s.body(&[regular(format!(
                "Weighing tolerances narrowed at the bench to {} %",
                t.0.normalize()
            ))]);
        }
    });
}

/// Each amount beside the limits it was judged by, so the reader can check the verdict.
fn amounts(s: &mut Sheet, b: &BenchRecord) {
    s.section(
        "Amounts: worksheet, accepted (tolerance), actual, off",
        |s| {
            for a in &b.amounts {
                let unit = a.measure.unit();
                let actual = a
                    .actual
                    .map_or_else(|| "not recorded".to_owned(), |v| format!("{v} {unit}"));
                let off = a
                    .off_percent
                    .map(|o| format!(" ({} %)", signed(o)))
                    .unwrap_or_default();
                let entry = format!(
                    "{}: {} {unit}; accepted {} to {} {unit} (± {} %, {}); actual {actual}{off}",
                    a.ingredient,
                    a.expected,
                    a.low,
                    a.high,
                    a.tolerance_percent.0.normalize(),
                    a.tolerance_from
                );
                match a.within() {
                    Some(false) => s.body(&[bold(entry), bold("  ** FLAG **")]),
                    _ => s.body(&[regular(entry)]),
                }
            }
        },
    );
}

/// The lots entered at the bench, which a recall is traced through.
fn component_lots(s: &mut Sheet, b: &BenchRecord) {
    s.section("Component lots", |s| {
        if b.components.is_empty() {
            s.body(&[regular("None entered")]);
        }
        for c in &b.components {
            let maker = c
                .manufacturer
                .as_ref()
                .map(|m| format!(", {m}"))
                .unwrap_or_default();
            let entry = format!(
                "{}: lot {}, expiry {}{maker} (entered at {})",
                c.ingredient,
                c.lot,
                c.expiry.as_deref().unwrap_or("not given"),
                c.entered_at
            );
            s.body(&[regular(entry)]);
        }
    });
}

/// Where every gram of one controlled substance went, with the verdict the witness signs.
fn reconciliation(s: &mut Sheet, b: &BenchRecord, rec: &Reconciled) {
    let title = format!("Controlled-substance reconciliation: {}", rec.active);
    s.section(&title, |s| {
        let basis = if rec.from_actual {
            "from the actual weight"
        } else {
            "theoretical: no actual weight recorded"
        };
        let moiety = |g: Option<Dec>| match (&rec.moiety, g) {
            (Some(m), Some(g)) => format!(" (= {g} g {})", m.to_lowercase()),
            _ => String::new(),
        };
        let witness = b
            .witness
            .as_ref()
            .map(|w| format!("; weighing and waste witnessed by {w}"))
            .unwrap_or_default();
        s.body(&[
            bold(format!("Weighed: {} g", rec.weighed.grams)),
            regular(format!(
                "{} ({basis}){witness}",
                moiety(rec.weighed.moiety_grams)
            )),
        ]);
        for p in &rec.parts {
            let units = p
                .units
                .map(|n| format!(", {n} unit{}", if n == 1 { "" } else { "s" }))
                .unwrap_or_default();
            s.body(&[regular(format!(
                "{}{units}: {} g{}",
                p.what,
                p.grams,
                moiety(p.moiety_grams)
            ))]);
        }
        let verdict = if rec.balances {
            format!(
                "Balances: weighed minus the above = {} g (within the balance's {} g)",
                rec.difference, rec.readability
            )
        } else {
            format!(
                "DOES NOT BALANCE: {} g not accounted for (more than the balance's {} g)",
                rec.difference, rec.readability
            )
        };
        s.body(&[bold(verdict)]);
    });
}

/// Deviations in bold, so none is read past; no section when there are none.
fn deviations(s: &mut Sheet, b: &BenchRecord) {
    if !b.deviations.is_empty() {
        s.section("Deviations", |s| {
            for dv in &b.deviations {
                s.body(&[bold("Deviation: "), regular(dv.as_str())]);
            }
        });
    }
}

/// What still stands between the record and its release, and where the verifier signs.
fn before_release(s: &mut Sheet, b: &BenchRecord) {
    s.section("Before release", |s| {
        if b.missing.is_empty() {
            s.body(&[regular("The record is complete.")]);
        } else {
            s.body(&[bold("INCOMPLETE: cannot be released until it has:")]);
            for m in &b.missing {
                s.body(&[regular(format!("- {m}"))]);
            }
        }
        if b.flags.is_empty() {
            s.body(&[regular("Flags: none")]);
        } else {
            s.body(&[bold("Flags to resolve before release:")]);
            for f in &b.flags {
                let how = if f.acknowledgeable() {
                    " (a pharmacist acknowledges it with a reason)"
                } else {
                    ""
                };
                s.body(&[
                    bold(format!("{}: ", f.id)),
                    regular(format!("{}{how}", f.text)),
                ]);
            }
        }
        s.gap(4.0);
        s.form(&[
            vec![Piece::Bold("Verified by:".into()), Piece::Blank(110.0)],
            vec![Piece::Bold("Date:".into()), Piece::Blank(70.0)],
        ]);
    });
}

/// Unit weights with their figures, units made and rejected, and the yield.
fn units(s: &mut Sheet, b: &BenchRecord) {
    unit_weights(s, b);
    units_made(s, b);
}

/// Each unit weighed, flagged where it falls outside the range, then the figures the
/// uniformity is judged by.
fn unit_weights(s: &mut Sheet, b: &BenchRecord) {
    let (low, high) = b.unit_range;
    s.section(
        &format!("Unit weights (g): accepted {low} to {high}"),
        |s| {
            let weighed = b.unit_weights.len();
            s.body(&[regular(format!(
                "{weighed} weighed of {} to weigh one by one ({} poured)",
                b.unit_sample, b.units_poured
            ))]);
            let mut runs: Vec<Run> = Vec::new();
            for (k, w) in b.unit_weights.iter().enumerate() {
                let text = format!("{}: {w}", k + 1);
                if *w < low || *w > high {
                    runs.push(bold(format!("{text} (FLAG)")));
                } else {
                    runs.push(regular(text));
                }
                runs.push(regular(if k + 1 < weighed { ";  " } else { "" }));
            }
            if !runs.is_empty() {
                s.body(&runs);
            }
            if let Some(st) = &b.unit_stats {
                s.body(&[regular(format!(
                    "Mean {} g ({} the range); {}",
                    st.mean,
                    verdict(st.mean_within),
                    spread(st)
                ))]);
            }
        },
    );
}

/// What the batch gave: units made and rejected, extra units and the yield against the
/// formula's minimum.
fn units_made(s: &mut Sheet, b: &BenchRecord) {
    s.section("Units made and rejected", |s| {
        let made = b
            .made
            .map_or_else(|| "not recorded".to_owned(), |m| m.to_string());
        s.body(&[
            bold("Units made: "),
            regular(format!("{made} of {} poured", b.units_poured)),
        ]);
        for r in &b.rejected {
            s.body(&[
                bold("Rejected: "),
                regular(format!("{} ({})", r.count, r.reason)),
            ]);
        }
        if b.extra_units > 0 {
            let were = b
                .extra_units_were
                .map_or("not said whether retained or destroyed", |e| e.as_str());
            s.body(&[regular(format!(
                "Extra units beyond the {} dispensed: {} ({were})",
                b.units_dispensed, b.extra_units
            ))]);
        }
        if let Some(y) = &b.yields {
            s.body(&[
                bold("Yield: "),
                regular(format!(
                    "{} of {} = {} % ({} the formula's minimum {} %)",
                    y.made,
                    y.poured,
                    y.percent,
                    if y.within { "meets" } else { "BELOW" },
                    y.minimum_percent.0.normalize()
                )),
            ]);
        }
    });
}

/// A percent with its sign: "+3.13", "-1.20".
/// "within" or "OUTSIDE" a limit, as the record and the release record say it.
pub(super) fn verdict(ok: bool) -> &'static str {
    if ok { "within" } else { "OUTSIDE" }
}

/// The unit weights' spread and RSD, each judged: "lightest 1.004 g, heaviest 1.009 g (all
/// within the range); RSD 0.09 % (within the formula's 5 %)".
pub(super) fn spread(st: &UnitStats) -> String {
    format!(
        "lightest {} g, heaviest {} g ({}); RSD {} % ({} the formula's {} %)",
        st.lightest,
        st.heaviest,
        if st.all_within {
            "all within the range"
        } else {
            "NOT all within the range"
        },
        st.rsd_percent,
        verdict(st.rsd_within),
        st.rsd_limit_percent.0.normalize()
    )
}

fn signed(d: Dec) -> String {
    if d.0.is_sign_negative() {
        format!("-{}", d.0.abs())
    } else {
        format!("+{}", d.0)
    }
}
