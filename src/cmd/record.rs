//! `troche record LOT`: what happened at the bench, entered by the compounder (flags or a
//! small TOML file): the actual weight of each ingredient, flagged when it is off the
//! theoretical amount by more than the tolerance; each unit's weight, flagged outside the
//! accepted range; units made and rejected; deviations; initials. It appends a `recorded`
//! event and prints the filled-in compounding record: the worksheet with the actual values.

use std::path::PathBuf;

use clap::Args;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::formula::names::Names;
use crate::logbook::{self, Actor, NewEvent, people};
use crate::quantity::{self, round_to};
use crate::{library, lots, publish, render};

use super::arg;
use super::context::Context;
use super::pins::{self, Pins};

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
    /// Actual weight of an ingredient: "NAME=1.846 g", once per ingredient.
    #[arg(long, value_name = "NAME=MASS")]
    weight: Vec<String>,
    /// Each unit's weight: "0.975 g" (repeat, or separate with commas).
    #[arg(long, value_name = "MASS")]
    unit_weight: Vec<String>,
    /// Units made.
    #[arg(long, value_name = "N")]
    made: Option<u32>,
    /// Units rejected, with the reason: "N=REASON".
    #[arg(long, value_name = "N=REASON")]
    rejected: Vec<String>,
    /// A deviation from the master formulation record.
    #[arg(long, value_name = "TEXT")]
    deviation: Vec<String>,
    /// Percent an actual weight may be off the theoretical amount before it is flagged.
    #[arg(long, value_name = "PERCENT", default_value = "5")]
    tolerance: String,
    /// The same values from a TOML file (docs/log.md: by, made, tolerance, weights, unit
    /// weights, rejected, deviations); flags add to it.
    #[arg(long = "from", value_name = "FILE")]
    from: Option<PathBuf>,
    /// The filled-in compounding record PDF (default: LOT-record.pdf in the batch's folder).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the PDF if it exists.
    #[arg(long)]
    force: bool,
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
    #[serde(default)]
    weights: std::collections::BTreeMap<String, String>,
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

fn mass(flag: &str, text: &str) -> Result<Decimal> {
    Ok(arg(flag, quantity::parse_mass(text.trim()))?.in_base())
}

fn percent_off(actual: Decimal, want: Decimal) -> Option<Decimal> {
    if want.is_zero() {
        return None;
    }
    let d = actual
        .checked_sub(want)?
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(want)?;
    round_to(d, Decimal::new(1, 2))
}

pub(super) fn run(ctx: &Context, a: &RecordArgs) -> Result<i32> {
    let file: RecordFile = match &a.from {
        Some(p) => toml::from_str(&library::read_text(p)?).map_err(|e| Error::Input {
            file: p.display().to_string(),
            line: None,
            key: None,
            message: e.message().to_string(),
        })?,
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
    let tolerance = arg(
        "--tolerance",
        quantity::parse_positive(
            file.tolerance
                .as_deref()
                .unwrap_or(&a.tolerance)
                .trim_end_matches('%')
                .trim(),
            "tolerance",
        ),
    )?;
    let lot = a.lot.trim();
    let mut db = ctx.open_existing(&settings)?;
    logbook::require_status(
        db.as_mut(),
        lot,
        &[logbook::PREPARED, logbook::RECORDED],
        "recording",
    )?;
    let rebuilt = logbook::rebuild(db.as_mut(), lot)?;
    let record = &rebuilt.record;
    let calc = &record.calc;
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

    let mut weights: Vec<(String, Decimal)> = Vec::new();
    for (name, m) in &file.weights {
        weights.push((name.clone(), mass("weights", m)?));
    }
    for w in &a.weight {
        let (n, m) = w
            .split_once('=')
            .ok_or_else(|| Error::arg("--weight", "give NAME=MASS, e.g. \"Gelatin=0.320 g\""))?;
        weights.push((n.trim().to_string(), mass("--weight", m)?));
    }
    let mut flags = Vec::new();
    let mut rows = Vec::new();
    let names = Names::rows(
        &record.formula,
        calc.ingredients.iter().map(|i| i.name.as_str()),
    );
    for (name, actual) in &weights {
        let k = names.resolve_arg("--weight", name, &format!("lot {lot}"))?;
        let Some(i) = calc.ingredients.iter().find(|i| i.name == names.full(k)) else {
            return Err(Error::arg(
                "--weight",
                format!("no ingredient \"{name}\" in lot {lot}"),
            ));
        };
        let off = percent_off(*actual, i.amount);
        let flagged = off.is_some_and(|o| o.abs() > tolerance);
        if flagged {
            flags.push(format!("weight:{}", i.name));
        }
        rows.push(json!({"ingredient": i.name, "theoretical_g": i.amount.to_string(),
            "actual_g": actual.to_string(), "off_percent": off.map(|o| o.to_string()), "flagged": flagged}));
    }
    let mut units = Vec::new();
    for (k, w) in file
        .unit_weights
        .iter()
        .chain(&a.unit_weight)
        .flat_map(|s| s.split(','))
        .filter(|s| !s.trim().is_empty())
        .enumerate()
    {
        let m = mass("--unit-weight", w)?;
        let flagged = m < calc.unit_weight_low || m > calc.unit_weight_high;
        if flagged {
            flags.push(format!("unit:{}", k + 1));
        }
        units.push(json!({"unit": k + 1, "weight_g": m.to_string(), "flagged": flagged}));
    }
    let mut rejected: Vec<(u32, String)> = file
        .rejected
        .iter()
        .map(|r| (r.count, r.reason.clone()))
        .collect();
    for r in &a.rejected {
        let (n, why) = r
            .split_once('=')
            .ok_or_else(|| Error::arg("--rejected", "give N=REASON"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| Error::arg("--rejected", "N must be a whole number"))?;
        rejected.push((n, why.trim().to_string()));
    }
    let made = a.made.or(file.made);
    let deviations: Vec<String> = file
        .deviations
        .iter()
        .chain(&a.deviation)
        .cloned()
        .collect();
    if !deviations.is_empty() {
        flags.push("deviation".into());
    }
    let details = json!({
        "by": by, "tolerance_percent": tolerance.to_string(),
        "unit_weight_range_g": [calc.unit_weight_low.to_string(), calc.unit_weight_high.to_string()],
        "weights": rows, "unit_weights": units, "made": made,
        "rejected": rejected.iter().map(|(n, r)| json!({"count": n, "reason": r})).collect::<Vec<_>>(),
        "deviations": deviations, "flags": flags,
    });

    // The filled-in record: the worksheet, then a page of what was measured.
    let pdf = render::worksheet::filled_record(record, rebuilt.settings.paper, lot, &details)?;
    let out = a.output.clone().unwrap_or_else(|| {
        rebuilt
            .out_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(format!("{}-record.pdf", lots::file_stem(lot)))
    });
    // Signed last, once everything typed has been read: a mistake in it is told before
    // anyone types a PIN.
    let actor = Actor::current();
    let mut pins = Pins::new();
    let signer = pins::sign(db.as_mut(), &mut pins, "--by", &by, &actor)?;
    let witnessed = match &witness {
        Some(w) => Some(pins::sign(db.as_mut(), &mut pins, "--witness", w, &actor)?),
        None => None,
    };
    let mut details = details;
    details["witness"] = json!(witness);
    details["file"] =
        json!({"path": out.display().to_string(), "sha256": logbook::sha256_hex(&pdf)});
    db.write(|tx| {
        // The state is checked again inside the write: another command may have moved the
        // batch on (released, rejected) since it was read above.
        people::require_signer(tx, "--by", &signer.initials)?;
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
                    details: &json!({"witnessed": "the weighing of the controlled substance, recorded by the event before"}),
                },
                &actor,
            )?;
        }
        Ok(())
    })?;
    let file_mode = crate::config::load(a.config.as_deref())?.file_mode;
    publish::write(&out, &pdf, a.force, file_mode)?;
    crate::escape::eprintln(&format!(
        "lot {lot} recorded by {by}; wrote {}",
        out.display()
    ));
    if flags.is_empty() {
        crate::escape::eprintln("no flags");
    } else {
        crate::escape::eprintln(&format!(
            "flags to resolve before release: {}",
            flags.join(", ")
        ));
    }
    Ok(0)
}
