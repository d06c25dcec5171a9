//! The release record (`troche verify`): the pharmacist's decision on a batch and what it
//! rested on, on the worksheet's page flow. It names the bench record judged, every flag and
//! how it was handled (each acknowledged deviation with its reason, who accepted it and
//! when), the reconciliation of a controlled substance, the yield and unit-weight verdicts,
//! and who prepared, recorded, witnessed and released or rejected the batch. A rejection is
//! the same document, titled as one.
//!
//! Everything printed comes from the log as it stands inside the transaction that decides,
//! and the time printed is the time of the deciding event, so the same log gives the same
//! bytes.

use crate::batch_record::Record;
use crate::bench::BenchRecord;
use crate::config::Paper;
use crate::error::{Error, Result};
use crate::render::DocMeta;
use crate::render::metrics::Font;

use super::actuals::{spread, verdict};
use super::flow::Sheet;
use super::{BODY, LEAD, Run, bold, date, regular, schedule_name, stamp, strength_runs};

/// What the pharmacist decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Released,
    /// Rejected, with the reason given.
    Rejected(String),
}

/// A signature of the batch as the log holds it: its meaning ("prepared", "recorded",
/// "witnessed", "released", "rejected"), who and when (RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub meaning: String,
    pub initials: String,
    /// The person's name and role as the log's people hold them ("Rita Park, pharmacist").
    pub name: Option<String>,
    pub at: String,
}

/// A flag accepted as a deviation, with the reason, by whom and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    pub flag: String,
    pub reason: String,
    pub by: String,
    pub at: String,
}

/// The bench record a decision was made on.
#[derive(Debug, Clone, Copy)]
pub enum Judged<'a> {
    /// None was entered (a batch rejected before it was recorded).
    None,
    /// The record in force could not be read (only a rejection is made on it).
    Unreadable(&'a str),
    Record(&'a BenchRecord),
}

/// Everything the release record prints beside the batch's own record.
pub struct Decision<'a> {
    pub outcome: Outcome,
    pub judged: Judged<'a>,
    pub acknowledged: Vec<Acknowledged>,
    /// The hands before the decision, in the order they signed.
    pub signatures: Vec<Signed>,
    pub decided: Signed,
    /// The pharmacy's policy allowed a pharmacist who prepared or recorded the batch to decide.
    pub same_person: bool,
}

/// The kind its PDF is kept under in the log, and its file name's ending.
pub const RELEASE_KIND: &str = "release";

/// Renders the release (or rejection) record of the batch `record`.
///
/// # Errors
///
/// `Error::Render` if the PDF cannot be written.
pub fn release_record(record: &Record, paper: Paper, d: &Decision<'_>) -> Result<Vec<u8>> {
    let (width, height) = paper.size_pt();
    let f = &record.formula;
    let what = match d.outcome {
        Outcome::Released => "release record",
        Outcome::Rejected(_) => "rejection record",
    };
    let mut s = Sheet::new(
        (width, height),
        format!("{} — {what}, lot {} (continued)", f.name, record.lot),
    );
    title(&mut s, record, d);
    decision(&mut s, d);
    judged(&mut s, d);
    flags(&mut s, d);
    if let Judged::Record(b) = d.judged {
        quality(&mut s, b);
        reconciliation(&mut s, record, b);
    }
    signatures(&mut s, d);
    let mut canvas = s.finish(&format!(
        "Lot {} · {} version {} · {what}",
        record.lot, f.id, f.version
    ));
    stamp(&mut canvas, record);
    let title = match d.outcome {
        Outcome::Released => "Release record",
        Outcome::Rejected(_) => "Rejection record",
    };
    let meta = DocMeta {
        title: format!("{title} {} — {}", record.lot, f.name),
        subject: Some(format!(
            "{title} of lot {}, master formulation record {} version {}",
            record.lot, f.id, f.version
        )),
        author: record.pharmacy.as_ref().map(|p| p.name.clone()),
        date: date_of(&d.decided.at),
        document_id: format!(
            "troche/{}/{}/{}/{RELEASE_KIND}",
            f.id, f.version, record.lot
        ),
    };
    canvas.into_pdf(&meta).map_err(Error::Render)
}

/// The pharmacy, what the document is, the preparation and the batch it names.
fn title(s: &mut Sheet, record: &Record, d: &Decision<'_>) {
    let f = &record.formula;
    let (left, right, width) = (s.left, s.right, s.width());
    let top = s.y;
    if let Some(p) = &record.pharmacy {
        s.text(left, top + 8.0, Font::HelveticaBold, 9.0, &p.name);
    }
    let corner = match d.outcome {
        Outcome::Released => "RELEASE RECORD",
        Outcome::Rejected(_) => "REJECTION RECORD",
    };
    s.text_right(right, top + 8.0, Font::HelveticaBold, 9.0, corner);
    s.y = top + 16.0;
    let headline = match d.outcome {
        Outcome::Released => "Batch released for dispensing",
        Outcome::Rejected(_) => "BATCH REJECTED - DO NOT DISPENSE",
    };
    s.para(left, width, 17.0, 21.0, &[bold(headline)]);
    s.para(left, width, 12.0, 16.0, &[bold(&f.name)]);
    s.gap(4.0);
    s.body(&[bold("Lot: "), bold(&record.lot)]);
    s.body(&[
        bold("Master formulation record: "),
        regular(format!("{} version {}", f.id, f.version)),
    ]);
    s.body(&[
        bold("SHA-256 of its text: "),
        regular(f.text.sha256().to_owned()),
    ]);
    for l in record.strength_lines() {
        let mut runs = vec![bold("Strength: ")];
        runs.extend(strength_runs(&l));
        s.body(&runs);
    }
    let calc = &record.calc;
    s.body(&[
        bold("Quantity: "),
        regular(format!(
            "{} units dispensed, {} prepared; compounded {}",
            calc.units_dispensed,
            calc.units_prepared,
            date(record.date)
        )),
    ]);
    let order = &record.order;
    let rx: Vec<String> = [("Rx", &order.rx), ("patient", &order.patient)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
    if !rx.is_empty() {
        s.body(&[bold("Prescription: "), regular(rx.join(", "))]);
    }
    if let Some(sc) = record.schedule() {
        s.body(&[bold("Controlled substance: "), regular(schedule_name(sc))]);
    }
    s.gap(4.0);
}

/// Who decided what, when, and why a rejection.
fn decision(s: &mut Sheet, d: &Decision<'_>) {
    let (heading, verb) = match d.outcome {
        Outcome::Released => ("Decision: released", "Released"),
        Outcome::Rejected(_) => ("Decision: rejected", "Rejected"),
    };
    s.section(heading, |s| {
        s.body(&[
            bold(format!("{verb} by {}", who(&d.decided))),
            regular(format!(
                " at {}, signed in the log with their PIN.",
                when(&d.decided.at)
            )),
        ]);
        if let Outcome::Rejected(reason) = &d.outcome {
            s.body(&[bold("Reason: "), regular(reason.clone())]);
        }
        if d.same_person {
            let what = match d.outcome {
                Outcome::Released => "released",
                Outcome::Rejected(_) => "rejected",
            };
            s.body(&[
                bold(format!("Prepared and {what} by the same pharmacist: ")),
                regular(
                    "allowed by the pharmacy's signed policy same-person-release (a \
                         pharmacy with one pharmacist).",
                ),
            ]);
        }
    });
}

/// The bench record the decision was made on, and whether it was complete.
fn judged(s: &mut Sheet, d: &Decision<'_>) {
    s.section("Bench record judged", |s| match d.judged {
        Judged::None => s.body(&[regular(
            "No bench record was entered: the batch was rejected before it was recorded.",
        )]),
        Judged::Unreadable(why) => s.body(&[
            bold("The bench record in force could not be read: "),
            regular(why.to_owned()),
        ]),
        Judged::Record(b) => {
            let file = b
                .printed
                .as_ref()
                .map(|p| {
                    let name = std::path::Path::new(&p.path)
                        .file_name()
                        .map_or_else(|| p.path.clone(), |n| n.to_string_lossy().into_owned());
                    format!(" ({name}, SHA-256 {})", p.sha256)
                })
                .unwrap_or_default();
            s.body(&[
                bold(format!("Record {}: ", b.number)),
                regular(format!("kept in the log as record-{}{file}", b.number)),
            ]);
            if b.number > 1 {
                s.body(&[
                    bold(format!("Supersedes record {}. ", b.number - 1)),
                    regular(format!(
                        "Reason for the correction: {}",
                        b.reason.as_deref().unwrap_or("")
                    )),
                ]);
            }
            if b.missing.is_empty() {
                s.body(&[regular(
                    "Complete: every amount, component lot and unit weight the record needs.",
                )]);
            } else {
                s.body(&[
                    bold("Incomplete: "),
                    regular(format!("it lacks {}", b.missing.join("; "))),
                ]);
            }
        }
    });
}

/// Every flag of the record judged and how it was handled: the heading kept with the first,
/// each flag kept on a page with its handling.
fn flags(s: &mut Sheet, d: &Decision<'_>) {
    let Judged::Record(b) = d.judged else {
        return;
    };
    let title = "Flags and how each was handled";
    let Some((first, rest)) = b.flags.split_first() else {
        s.section(title, |s| {
            s.body(&[regular(
                "None: every amount, unit weight and the yield within the master \
                     formulation record's limits.",
            )]);
        });
        return;
    };
    s.section(title, |s| flag(s, d, first));
    for f in rest {
        s.keep(|s| flag(s, d, f));
    }
    if !b.deviations.is_empty() {
        s.keep(|s| {
            s.gap(2.0);
            s.body(&[bold("Deviations entered at the bench:")]);
        });
        for dv in &b.deviations {
            s.keep(|s| indented(s, &[regular(dv.clone())]));
        }
    }
}

/// One flag, and how it was handled.
fn flag(s: &mut Sheet, d: &Decision<'_>, f: &crate::bench::Flag) {
    s.body(&[bold(format!("{}: ", f.id)), regular(f.text.clone())]);
    let how: Vec<Run> = match d.acknowledged.iter().find(|a| a.flag == f.id) {
        Some(a) => vec![
            bold("Deviation, acknowledged "),
            regular(format!("by {} at {}: ", a.by, when(&a.at))),
            regular(format!("\u{201c}{}\u{201d}", a.reason)),
        ],
        None if !f.acknowledgeable() => vec![bold(
            "An active outside its tolerance: never acknowledged; the batch is rejected or \
             remade.",
        )],
        None => vec![bold("Not acknowledged: open when the batch was rejected.")],
    };
    indented(s, &how);
}

/// The yield and the unit weights' figures, each with its verdict.
fn quality(s: &mut Sheet, b: &BenchRecord) {
    s.section("Yield and unit weights", |s| {
        match &b.yields {
            Some(y) => s.body(&[
                bold("Yield: "),
                regular(format!(
                    "{} of {} = {} %: {} the formula's minimum {} %",
                    y.made,
                    y.poured,
                    y.percent,
                    if y.within { "meets" } else { "BELOW" },
                    y.minimum_percent.0.normalize()
                )),
            ]),
            None => s.body(&[bold("Yield: "), regular("not recorded")]),
        }
        let (low, high) = b.unit_range;
        match &b.unit_stats {
            Some(st) => {
                s.body(&[
                    bold("Unit weights: "),
                    regular(format!(
                        "{} weighed; mean {} g ({} {low} to {high} g); {}",
                        st.count,
                        st.mean,
                        verdict(st.mean_within),
                        spread(st)
                    )),
                ]);
            }
            None => s.body(&[
                bold("Unit weights: "),
                regular(format!(
                    "{} weighed, too few for their figures",
                    b.unit_weights.len()
                )),
            ]),
        }
    });
}

/// The reconciliation of each scheduled active: weighed, where it went, and whether it
/// balances.
fn reconciliation(s: &mut Sheet, record: &Record, b: &BenchRecord) {
    if b.reconciliation.is_empty() {
        return;
    }
    let schedule = record.schedule().map(schedule_name).unwrap_or_default();
    s.section(
        &format!("Controlled-substance reconciliation, {schedule}"),
        |s| {
            for r in &b.reconciliation {
                let basis = if r.from_actual {
                    "the actual weight"
                } else {
                    "the theoretical weight: none recorded"
                };
                s.body(&[
                    bold(format!("{}: weighed {} g", r.active, r.weighed.grams)),
                    regular(format!(" (from {basis})")),
                ]);
                let parts: Vec<String> = r
                    .parts
                    .iter()
                    .map(|p| format!("{} {} g", p.what, p.grams))
                    .collect();
                indented(s, &[regular(format!("= {}", parts.join(" + ")))]);
                let verdict = if r.balances {
                    format!(
                        "Balances: difference {} g, within the balance's {} g",
                        r.difference, r.readability
                    )
                } else {
                    format!(
                        "DOES NOT BALANCE: {} g not accounted for (more than the balance's {} g)",
                        r.difference, r.readability
                    )
                };
                indented(s, &[bold(verdict)]);
            }
        },
    );
}

/// Every signature of the batch, the decision last.
fn signatures(s: &mut Sheet, d: &Decision<'_>) {
    s.section(
        "Signatures (each signed in the log with the person's PIN)",
        |s| {
            for g in d.signatures.iter().chain(std::iter::once(&d.decided)) {
                let meaning = capitalized(&g.meaning);
                s.body(&[
                    bold(format!("{meaning} by ")),
                    regular(format!("{} at {}", who(g), when(&g.at))),
                ]);
            }
            if !d.signatures.iter().any(|g| g.meaning == "prepared") {
                s.body(&[regular(
                    "Prepared: not signed (made before the log kept who prepared a batch).",
                )]);
            }
        },
    );
}
/// "RP (Rita Park, pharmacist)", or the initials alone.
fn who(g: &Signed) -> String {
    match &g.name {
        Some(n) => format!("{} ({n})", g.initials),
        None => g.initials.clone(),
    }
}

/// An event's time as printed: "2026-12-05 21:14:28 UTC".
pub fn when(at: &str) -> String {
    at.parse::<jiff::Timestamp>().map_or_else(
        |_| at.to_owned(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// The date of the decision, for the document's metadata.
fn date_of(at: &str) -> (i32, u8, u8) {
    at.parse::<jiff::Timestamp>().map_or((2000, 1, 1), |t| {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        (
            i32::from(d.year()),
            d.month().unsigned_abs(),
            d.day().unsigned_abs(),
        )
    })
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// An entry under the one before it.
fn indented(s: &mut Sheet, runs: &[Run]) {
    let (left, width) = (s.left + 14.0, s.width() - 14.0);
    s.para(left, width, BODY, LEAD, runs);
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::batch_record::Stamp;
    use crate::render::test_support::{bare, ketamine, pdf_text};

    fn signed(meaning: &str, initials: &str, at: &str) -> Signed {
        Signed {
            meaning: meaning.into(),
            initials: initials.into(),
            name: None,
            at: at.into(),
        }
    }

    /// A bench record with many deviations and units off: enough flags for a second page.
    fn flagged(record: &Record) -> BenchRecord {
        let deviation = "The water bath thermostat failed and the melt was held longer than \
                         allowed; each unit was inspected and weighed again.";
        let entered = crate::bench::Entered {
            number: 1,
            by: "TK".into(),
            witness: Some("PH".into()),
            unit_weights: vec![Decimal::TWO; 32],
            made: Some(32),
            deviations: vec![deviation.into(); 8],
            ..crate::bench::Entered::default()
        };
        crate::bench::judge(record, entered).unwrap()
    }

    /// The long release record of [`flagged`], every flag acknowledged.
    fn long_decision<'a>(bench: &'a BenchRecord, at: &str) -> Decision<'a> {
        Decision {
            outcome: Outcome::Released,
            judged: Judged::Record(bench),
            acknowledged: bench
                .flags
                .iter()
                .map(|f| Acknowledged {
                    flag: f.id.clone(),
                    reason: "inspected and weighed again, within the range".into(),
                    by: "RP".into(),
                    at: at.into(),
                })
                .collect(),
            signatures: vec![signed("prepared", "TK", "2026-12-05T20:00:00Z")],
            decided: signed("released", "RP", at),
            same_person: false,
        }
    }

    /// Writes a long release record for looking at:
    /// `TROCHE_SAMPLES=/tmp cargo test --lib release_samples -- --ignored`.
    #[test]
    #[ignore = "writes files for visual review"]
    fn release_samples() {
        let (dir, _tmp) = crate::render::test_support::samples_dir();
        let record = ketamine(30);
        let bench = flagged(&record);
        let decision = long_decision(&bench, "2026-12-05T21:14:28Z");
        let pdf = release_record(&record, Paper::Letter, &decision).unwrap();
        std::fs::write(dir.join("release-long.pdf"), pdf).unwrap();
    }

    #[test]
    fn a_long_release_record_flows_onto_numbered_pages_and_is_reproducible() {
        let mut record = ketamine(30);
        let bench = flagged(&record);
        let decision = long_decision(&bench, "2026-12-05T21:14:28.123456789Z");
        let pdf = release_record(&record, Paper::Letter, &decision).unwrap();
        assert_eq!(
            pdf,
            release_record(&record, Paper::Letter, &decision).unwrap(),
            "the same decision gives the same bytes"
        );
        let text = pdf_text(&pdf);
        let pages: Vec<&str> = text.split('\u{c}').collect();
        assert!(pages.len() >= 2, "{} pages: {text}", pages.len());
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.contains(&bare(&format!("Page {} of {}", i + 1, pages.len()))),
                "page {i}"
            );
        }
        assert!(text.contains(&bare("Released by RP at 2026-12-05 21:14:28 UTC")));
        assert!(text.contains(&bare("unit:1:")));
        assert_eq!(
            text.matches(&bare("Deviation, acknowledged by RP")).count(),
            bench.flags.len()
        );
        // The practice stamp crosses every page, as on the batch's other documents.
        record.stamps.push(Stamp::Practice);
        let stamped = pdf_text(&release_record(&record, Paper::Letter, &decision).unwrap());
        assert_eq!(
            stamped
                .matches(&bare("PRACTICE - NOT FOR DISPENSING"))
                .count(),
            pages.len()
        );
    }

    #[test]
    fn a_rejection_without_a_record_says_so() {
        let record = ketamine(30);
        let decision = Decision {
            outcome: Outcome::Rejected("mold cracked".into()),
            judged: Judged::None,
            acknowledged: Vec::new(),
            signatures: Vec::new(),
            decided: signed("rejected", "RP", "2026-12-05T21:14:28Z"),
            same_person: true,
        };
        let text = pdf_text(&release_record(&record, Paper::A4, &decision).unwrap());
        for expected in [
            "BATCH REJECTED - DO NOT DISPENSE",
            "Reason: mold cracked",
            "No bench record was entered",
            "Prepared and rejected by the same pharmacist:",
            "Prepared: not signed",
            "rejection record",
        ] {
            assert!(text.contains(&bare(expected)), "{expected}: {text}");
        }
    }

    #[test]
    fn times_are_printed_to_the_second_in_utc() {
        assert_eq!(
            when("2026-12-05T21:14:28.123456789Z"),
            "2026-12-05 21:14:28 UTC"
        );
        assert_eq!(when("not a time"), "not a time");
        assert_eq!(date_of("2026-12-05T23:59:59Z"), (2026, 12, 5));
    }
}
