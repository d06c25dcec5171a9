//! `troche record LOT`: what happened at the bench, entered by the compounder (flags or a
//! small TOML file): the actual amount of each component in the unit the worksheet measures
//! it, component lots, each unit's weight, units made and rejected, what became of the extra
//! units, deviations. The record is judged against the master formulation record's limits
//! (`bench::judge`), stored as a typed bench record in a signed `recorded` event, and printed
//! as the filled-in compounding record.
//!
//! A second `record` of a lot is a correction: it gives its reason, supersedes the one before
//! and prints LOT-record-2.pdf; nothing is overwritten. The PDF is rendered and staged before
//! the log is written, kept in the log with the event, and named after the commit, so a
//! command that fails changes nothing and a record can always be printed again.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;
use serde_json::json;

use crate::bench::{self, BenchRecord, Entered, ExtraUnits, Printed};
use crate::error::{Error, Result};
use crate::logbook::{self, Actor, NewEvent, people};
use crate::store::Db;
use crate::{library, lots, order, publish, quantity, render};

use super::arg;
use super::context::Context;
use super::pins;

/// The shortest reason a correction is entered with: a word or two says nothing.
const MIN_REASON: usize = 10;

#[derive(Args)]
pub(super) struct RecordArgs {
    /// The batch's lot.
    lot: String,
    /// The compounder's initials (default: `user` in troche.toml); their PIN is read from the
    /// terminal, or a line of standard input.
    #[arg(long, value_name = "INITIALS")]
    by: Option<String>,
    /// The second person who witnessed the weighing of a controlled substance (required for
    /// a scheduled active); their PIN is read after the compounder's.
    #[arg(long, value_name = "INITIALS")]
    witness: Option<String>,
    /// Actual amount of a component, in the unit the worksheet measures it: "NAME=1.846 g",
    /// or "NAME=0.32 mL" where it says "measure by volume"; once per component.
    #[arg(long, value_name = "NAME=AMOUNT")]
    weight: Vec<String>,
    /// A component's lot not given at make: "NAME|LOT|EXPIRY[|MANUFACTURER]".
    #[arg(long, value_name = "NAME|LOT|EXPIRY")]
    component: Vec<String>,
    /// Each unit's weight: "0.975 g" (repeat, or separate with commas).
    #[arg(long, value_name = "MASS")]
    unit_weight: Vec<String>,
    /// Units made.
    #[arg(long, value_name = "N")]
    made: Option<u32>,
    /// Units rejected, with the reason: "N=REASON".
    #[arg(long, value_name = "N=REASON")]
    rejected: Vec<String>,
    /// What became of the extra units poured beyond those dispensed: retained (kept as
    /// retained samples) or destroyed.
    #[arg(long, value_name = "retained|destroyed")]
    extra_units: Option<String>,
    /// A deviation from the master formulation record.
    #[arg(long, value_name = "TEXT")]
    deviation: Vec<String>,
    /// Narrows the formula's weighing tolerances to PERCENT (it may never widen them).
    #[arg(long, value_name = "PERCENT")]
    tolerance: Option<String>,
    /// Why this record corrects the one before (every record of a lot after the first).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// The same values from a TOML file (docs/log.md); flags add to it.
    #[arg(long = "from", value_name = "FILE")]
    from: Option<PathBuf>,
    /// The filled-in compounding record PDF (default: LOT-record.pdf in the batch's folder,
    /// LOT-record-2.pdf for the first correction, ...).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RecordFile {
    by: Option<String>,
    made: Option<u32>,
    tolerance: Option<String>,
    reason: Option<String>,
    extra_units: Option<String>,
    #[serde(default)]
    weights: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    components: Vec<String>,
    #[serde(default)]
    unit_weights: Vec<String>,
    #[serde(default)]
    rejected: Vec<Rejected>,
    #[serde(default)]
    deviations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rejected {
    count: u32,
    reason: String,
}

/// The number of records `lot` has.
fn records(db: &mut dyn Db, lot: &str) -> Result<u32> {
    let n = logbook::events(db, lot)?
        .iter()
        .filter(|e| e.what == "recorded")
        .count();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Everything typed, read and checked before anyone signs.
fn entered(
    a: &RecordArgs,
    file: RecordFile,
    by: String,
    witness: Option<String>,
) -> Result<Entered> {
    let mut e = Entered {
        by,
        witness,
        made: a.made.or(file.made),
        reason: a
            .reason
            .clone()
            .or(file.reason)
            .map(|r| r.trim().to_string()),
        ..Entered::default()
    };
    if let Some(t) = a.tolerance.as_deref().or(file.tolerance.as_deref()) {
        e.tolerance = Some(arg(
            "--tolerance",
            quantity::parse_positive(t.trim_end_matches('%').trim(), "tolerance"),
        )?);
    }
    if let Some(x) = a.extra_units.as_deref().or(file.extra_units.as_deref()) {
        e.extra_were = Some(ExtraUnits::parse(x).ok_or_else(|| {
            Error::arg(
                "--extra-units",
                format!("\"{x}\": write retained (kept as retained samples) or destroyed"),
            )
        })?);
    }
    let typed = file
        .weights
        .iter()
        .map(|(n, m)| ("weights", n.clone(), m.clone()))
        .chain(a.weight.iter().map(|w| {
            let (n, m) = w.split_once('=').unwrap_or((w, ""));
            ("--weight", n.to_string(), m.to_string())
        }));
    for (flag, name, amount) in typed {
        if name.trim().is_empty() || amount.trim().is_empty() {
            return Err(Error::arg(
                flag,
                "give NAME=AMOUNT, e.g. \"Gelatin=0.320 g\", or \"PEG 400=0.32 mL\" for a \
                 liquid measured by volume",
            ));
        }
        let q = arg(flag, quantity::parse_quantity(amount.trim()))?;
        e.amounts.push((flag, name.trim().to_string(), q));
    }
    for c in file.components.iter().chain(&a.component) {
        e.components
            .push(arg("--component", order::parse_component(c))?);
    }
    for w in file
        .unit_weights
        .iter()
        .chain(&a.unit_weight)
        .flat_map(|s| s.split(','))
        .filter(|s| !s.trim().is_empty())
    {
        e.unit_weights
            .push(arg("--unit-weight", quantity::parse_mass(w.trim()))?.in_base());
    }
    e.rejected = file
        .rejected
        .into_iter()
        .map(|r| (r.count, r.reason))
        .collect();
    for r in &a.rejected {
        let (n, why) = r
            .split_once('=')
            .ok_or_else(|| Error::arg("--rejected", "give N=REASON"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| Error::arg("--rejected", "N must be a whole number"))?;
        if why.trim().is_empty() {
            return Err(Error::arg("--rejected", "give the reason: N=REASON"));
        }
        e.rejected.push((n, why.trim().to_string()));
    }
    e.deviations = file
        .deviations
        .into_iter()
        .chain(a.deviation.iter().cloned())
        .collect();
    Ok(e)
}

/// A correction's reason: required from the second record on, and only then.
fn check_reason(lot: &str, number: u32, reason: Option<&str>) -> Result<()> {
    match (number, reason) {
        (1, Some(_)) => Err(Error::arg(
            "--reason",
            format!("lot {lot} has no record yet; --reason is for a correction of one"),
        )),
        (1, None) => Ok(()),
        (_, Some(r)) if r.chars().count() >= MIN_REASON => Ok(()),
        (n, _) => Err(Error::arg(
            "--reason",
            format!(
                "lot {lot} has record {} already; another record is a correction of it: give \
                 why with --reason TEXT (at least {MIN_REASON} characters). It supersedes \
                 record {} and prints a PDF of its own; nothing is overwritten",
                n - 1,
                n - 1
            ),
        )),
    }
}

/// Reads a `--from` file (`troche check` reads it the same way): what it holds, in a line.
pub(super) fn check_file(text: &str, file: &str) -> Result<String> {
    let r = parse_file(text, file)?;
    // Every value as `record` reads it, named by its key in the file.
    let at = |key: String| {
        move |e: Error| match e {
            Error::Argument { message, .. } => Error::Input {
                file: file.to_string(),
                line: None,
                key: Some(key),
                message,
            },
            e => e,
        }
    };
    for (name, w) in &r.weights {
        arg("weights", quantity::parse_quantity(w.trim()))
            .map_err(at(format!("weights.\"{name}\"")))?;
    }
    for w in r.unit_weights.iter().flat_map(|s| s.split(',')) {
        arg("unit_weights", quantity::parse_mass(w.trim())).map_err(at("unit_weights".into()))?;
    }
    if let Some(t) = &r.tolerance {
        arg(
            "tolerance",
            quantity::parse_positive(t.trim_end_matches('%').trim(), "tolerance"),
        )
        .map_err(at("tolerance".into()))?;
    }
    Ok(format!(
        "a bench record: {} ingredient weights, {} unit weights{}{}",
        r.weights.len(),
        r.unit_weights.len(),
        r.made.map(|n| format!(", {n} made")).unwrap_or_default(),
        r.by.map(|b| format!(", by {b}")).unwrap_or_default()
    ))
}

fn parse_file(text: &str, file: &str) -> Result<RecordFile> {
    toml::from_str(text).map_err(|e| Error::Input {
        file: file.to_string(),
        line: e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| before.matches('\n').count() + 1),
        key: None,
        message: e.message().to_string(),
    })
}

pub(super) fn run(ctx: &Context, a: &RecordArgs) -> Result<i32> {
    let file: RecordFile = match &a.from {
        Some(p) => parse_file(&library::read_text(p)?, &p.display().to_string())?,
        None => RecordFile::default(),
    };
    let settings = crate::config::load(a.config.as_deref())?;
    let by = pins::by(
        a.by.as_deref().or(file.by.as_deref()),
        settings.user.as_deref(),
    )?;
    let witness = a
        .witness
        .as_deref()
        .map(|w| people::initials("--witness", w))
        .transpose()?;
    if witness.as_deref() == Some(by.as_str()) {
        return Err(Error::arg(
            "--witness",
            "the witness is a second person, not the compounder",
        ));
    }
    let mut entered = entered(a, file, by.clone(), witness.clone())?;
    let lot = &super::lot(&a.lot);
    let mut db = ctx.open_existing(&settings)?;
    logbook::require_status(
        db.as_mut(),
        lot,
        &[logbook::PREPARED, logbook::RECORDED],
        "recording",
    )?;
    let rebuilt = logbook::rebuild(db.as_mut(), lot)?;
    let record = &rebuilt.record;
    if let (Some(schedule), None) = (record.schedule(), &witness) {
        return Err(Error::arg(
            "--witness",
            format!(
                "lot {lot} holds a controlled substance ({schedule:?}): a second person \
                 witnesses its weighing and signs with --witness INITIALS (their PIN after \
                 the compounder's)"
            ),
        ));
    }
    let number = records(db.as_mut(), lot)?.saturating_add(1);
    check_reason(lot, number, entered.reason.as_deref())?;
    entered.number = number;
    let mut bench = bench::judge(record, entered)?;

    let out = a.output.clone().unwrap_or_else(|| {
        rebuilt
            .out_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(BenchRecord::file_name(&lots::file_stem(lot), number))
    });
    if out.exists() {
        return Err(Error::Exists(out));
    }
    let pdf = render::worksheet::filled_record(record, rebuilt.settings.paper, lot, &bench)?;
    let kind = BenchRecord::kind(number);
    bench.printed = Some(Printed {
        kind: kind.clone(),
        path: out.display().to_string(),
        sha256: logbook::sha256_hex(&pdf),
        bytes: u64::try_from(pdf.len()).unwrap_or(u64::MAX),
    });
    let details = bench.to_json()?;
    // Signed last, once everything typed has been read: a mistake in it is told before
    // anyone types a PIN.
    let actor = Actor::current();
    let mut pins = ctx.pins(&settings);
    let signer = pins::sign(db.as_mut(), &mut pins, "--by", &by, &actor)?;
    let witnessed = match &witness {
        Some(w) => Some(pins::sign(db.as_mut(), &mut pins, "--witness", w, &actor)?),
        None => None,
    };
    // Written and flushed under a temporary name before the log is: a record in the log
    // always has its PDF, and a failure here leaves the log as it was.
    let staged = publish::stage_file(&out, &pdf, settings.file_mode)?;
    db.write(|tx| {
        // The state and the record's number are checked again inside the write: another
        // command may have moved the batch on, or entered a record, since they were read.
        people::require_signer(tx, "--by", &signer.initials)?;
        logbook::require_status(
            tx,
            lot,
            &[logbook::PREPARED, logbook::RECORDED],
            "recording",
        )?;
        let now = records(tx, lot)?.saturating_add(1);
        if now != number {
            return Err(Error::arg(
                "LOT",
                format!(
                    "record {} of lot {lot} was entered while this one was typed; nothing \
                     was written: run the command again (as a correction, with --reason)",
                    now - 1
                ),
            ));
        }
        logbook::keep_document(tx, lot, &kind, &out, &pdf)?;
        logbook::transition(
            tx,
            &[logbook::PREPARED, logbook::RECORDED],
            "recording",
            &NewEvent {
                lot,
                what: "recorded",
                status: Some(logbook::RECORDED),
                who: Some(&by),
                meaning: Some("recorded"),
                details: &details,
            },
            &actor,
        )?;
        // What stock takes off: each ingredient's actual amount, in the unit it was measured
        // (the unit its stock lot is kept in).
        let used: serde_json::Value = details["amounts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| serde_json::json!({"ingredient": a["ingredient"], "actual_g": a["actual"]}))
            .collect();
        crate::stock::pick::take_off(tx, lot, &used, &by, &actor)?;
        if let Some(w) = &witnessed {
            people::require_signer(tx, "--witness", &w.initials)?;
            logbook::append_event(
                tx,
                &NewEvent {
                    lot,
                    what: "witnessed",
                    status: None,
                    who: Some(&w.initials),
                    meaning: Some("witnessed"),
                    details: &json!({"witnessed": "the weighing of the controlled substance, recorded by the event before", "record": number}),
                },
                &actor,
            )?;
        }
        Ok(())
    })?;
    staged.publish().map_err(|e| {
        Error::stored(format!(
            "record {number} of lot {lot} is in the log, but its PDF could not be written: \
             {e}; `troche reprint {lot}` writes it from the log"
        ))
    })?;
    report(lot, &by, &out, &bench);
    Ok(0)
}

/// What the terminal is told: the file, then what stands between the record and release.
fn report(lot: &str, by: &str, out: &std::path::Path, b: &BenchRecord) {
    let supersedes = if b.number > 1 {
        format!(" (record {}, supersedes record {})", b.number, b.number - 1)
    } else {
        String::new()
    };
    crate::escape::eprintln(&format!(
        "lot {lot} recorded by {by}{supersedes}; wrote {}",
        out.display()
    ));
    if !b.missing.is_empty() {
        crate::escape::eprintln(&format!(
            "incomplete, not releasable until it has: {}",
            b.missing.join("; ")
        ));
    }
    if b.flags.is_empty() {
        crate::escape::eprintln("no flags");
    } else {
        let ids: Vec<&str> = b.flags.iter().map(|f| f.id.as_str()).collect();
        crate::escape::eprintln(&format!(
            "flags to resolve before release: {}",
            ids.join(", ")
        ));
        for f in b.flags.iter().filter(|f| !f.acknowledgeable()) {
            crate::escape::eprintln(&format!("troche: {}", f.text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correction_needs_a_reason_and_a_first_record_none() {
        assert!(check_reason("L", 1, None).is_ok());
        assert!(check_reason("L", 1, Some("re-weighed the base")).is_err());
        let e = check_reason("L", 2, None).unwrap_err().to_string();
        assert!(e.contains("has record 1 already"), "{e}");
        assert!(check_reason("L", 2, Some("typo")).is_err());
        assert!(check_reason("L", 2, Some("unit 3 was typed as 9.75 g")).is_ok());
    }
}
