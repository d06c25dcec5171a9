//! The checks a pharmacist makes of a prescription before compounding it, beyond its
//! strengths (those are the calculation's, see `calc`): what a controlled-substance order
//! must carry and how often it may be refilled (21 CFR 1306), and the plausibility warnings
//! that name an unusual quantity, overage or beyond-use date. The rules are in docs/method.md.

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::batch_record::Record;
use crate::bud::Bud;
use crate::calc::Calculation;
use crate::error::{Error, Field, Result};
use crate::formula::{Formula, Schedule};
use crate::logbook::EarlierFill;
use crate::logbook::policy::RefillLimit;
use crate::order::Order;
use crate::store::Db;

/// Most refills of a Schedule III or IV prescription (21 CFR 1306.22(a)).
pub const MAX_REFILLS_III_IV: u32 = 5;

/// Months after the date written within which a Schedule III or IV prescription may be filled
/// or refilled (21 CFR 1306.22(a)).
pub const MONTHS_III_IV: i64 = 6;

/// A controlled-substance batch larger than this is warned of when the formula states no
/// usual quantity of its own: a 90-day supply at one unit a day.
pub const USUAL_QUANTITY: u32 = 90;

/// An overage above this percent is warned of (suppliers suggest 5 to 10).
pub const MAX_USUAL_OVERAGE: Decimal = Decimal::TEN;

/// A BUD sooner than this many days after compounding is warned of.
pub const MIN_USUAL_BUD_DAYS: i64 = 7;

/// Refuses an order of a scheduled formula that lacks what 21 CFR 1306.05 asks of the
/// prescription, or whose refills or fill date the schedule does not allow; `date` is the
/// compounding (fill) date. An order of a formula that is not scheduled is not checked here,
/// except that a prescription cannot be written after it is filled.
pub fn check(formula: &Formula, order: &Order, date: Date) -> Result<()> {
    if let Some(written) = order.date_written
        && written > date
    {
        return Err(Error::order(
            Field::DateWritten,
            format!(
                "the prescription is dated {written}, after the compounding date {date}; a \
                 prescription is filled on or after the day it is written: check both dates"
            ),
        ));
    }
    // A stock trituration is made for the pharmacy's stock, not for a patient: its controlled
    // drug is accounted for in the book, and each batch that weighs it needs its prescription.
    if formula.kind == crate::formula::FormulaKind::Trituration {
        return Ok(());
    }
    let Some(schedule) = formula.schedule() else {
        return Ok(());
    };
    let s = schedule.as_str();
    let missing: Vec<(Field, &str)> = [
        (Field::Rx, order.rx.is_none(), "the Rx number"),
        (Field::Patient, order.patient.is_none(), "the patient"),
        (
            Field::Prescriber,
            order.prescriber.is_none(),
            "the prescriber",
        ),
        (
            Field::DateWritten,
            order.date_written.is_none(),
            "the date written",
        ),
        (
            Field::PrescriberDea,
            order.prescriber_dea.is_none(),
            "the prescriber's DEA number",
        ),
    ]
    .into_iter()
    .filter(|(_, absent, _)| *absent)
    .map(|(f, _, what)| (f, what))
    .collect();
    if let Some((first, _)) = missing.first() {
        let whats: Vec<&str> = missing.iter().map(|(_, w)| *w).collect();
        let flags: Vec<&str> = missing.iter().map(|(f, _)| f.flag()).collect();
        let keys: Vec<&str> = missing.iter().map(|(f, _)| f.key()).collect();
        return Err(Error::order(
            *first,
            format!(
                "{} is a {s} controlled substance: its prescription must give the Rx number, \
                 the patient, the prescriber, the date written and the prescriber's DEA \
                 number (21 CFR 1306.05); missing: {}. Give {} ({} in an order or recipe \
                 file)",
                formula.id,
                whats.join(", "),
                flags.join(", "),
                keys.join(", ")
            ),
        ));
    }
    let refills = order.refills.unwrap_or(0);
    match schedule {
        Schedule::CII if refills > 0 => {
            return Err(Error::order(
                Field::Refills,
                format!(
                    "{refills} refills on a Schedule II prescription: it cannot be refilled \
                     (21 CFR 1306.12); each fill needs a new prescription. Give --refills 0 or \
                     leave refills out"
                ),
            ));
        }
        Schedule::CIII | Schedule::CIV if refills > MAX_REFILLS_III_IV => {
            return Err(Error::order(
                Field::Refills,
                format!(
                    "{refills} refills on a {s} prescription: at most {MAX_REFILLS_III_IV} are \
                     allowed, within {MONTHS_III_IV} months of the date written (21 CFR \
                     1306.22); check the prescription"
                ),
            ));
        }
        _ => {}
    }
    if matches!(schedule, Schedule::CIII | Schedule::CIV)
        && let Some(written) = order.date_written
    {
        let last = written
            .checked_add(jiff::Span::new().months(MONTHS_III_IV))
            .map_err(|e| {
                Error::calc_caused(format!("{written} + 6 months is beyond the calendar"), e)
            })?;
        if date > last {
            return Err(Error::order(
                Field::DateWritten,
                format!(
                    "the prescription was written on {written}; a {s} prescription may be \
                     filled or refilled only within {MONTHS_III_IV} months of that date (21 \
                     CFR 1306.22), until {last}, and this fill is dated {date}: a new \
                     prescription is needed"
                ),
            ));
        }
    }
    Ok(())
}

/// The checks of a batch against the log, made in the transaction that assigns its lot (the
/// log is the truth). Refused: a formula whose text the log knows under another SHA-256, or
/// that no pharmacist approved in a log with people; one that leaves out or lowers the
/// schedule of a substance the pharmacy's state lists; refills above the pharmacy's own limit.
/// Warned of: a batch of the same Rx number and formula still within its BUD (in the log, or
/// in `this_run`: batches the same transaction enters before this one). The warning is added
/// to the record's notes, which the worksheet prints, and returned for the terminal.
pub fn check_in_log(
    db: &mut dyn Db,
    record: &mut Record,
    this_run: &[Fill],
) -> Result<Option<String>> {
    // A practice batch (stamped so on every page) needs no approved formula: a technician in
    // training walks the whole life of a batch without a pharmacist's approval first.
    if !record
        .stamps
        .contains(&crate::batch_record::Stamp::Practice)
    {
        crate::logbook::approval::check(db, &record.formula)?;
    }
    let listings = crate::logbook::policy::state_listings(db)?;
    crate::controlled::check_state(&record.formula, &listings)?;
    if let Some(schedule) = record.formula.schedule() {
        let limit = crate::logbook::policy::refill_limit(db, schedule)?;
        check_refill_limit(&record.order, limit.as_ref())?;
    }
    let Some(rx) = record.order.rx.clone() else {
        return Ok(None);
    };
    let (formula, date) = (record.formula.id.clone(), record.date);
    let in_run = this_run
        .iter()
        .filter(|f| f.rx == rx && f.formula == formula && f.bud >= date)
        .max_by_key(|f| f.bud)
        .map(|f| EarlierFill {
            lot: f.lot.clone(),
            bud: f.bud,
        });
    let earlier = match in_run {
        Some(f) => Some(f),
        None => crate::logbook::earlier_fill(db, &rx, &formula, date)?,
    };
    let Some(earlier) = earlier else {
        return Ok(None);
    };
    let warning = duplicate_warning(&rx, &formula, date, &earlier);
    record.calc.warnings.push(warning.clone());
    Ok(Some(warning))
}

/// A batch entered in the same transaction, for [`check_in_log`].
#[derive(Debug, Clone)]
pub struct Fill {
    pub rx: String,
    pub formula: String,
    pub lot: String,
    pub bud: Date,
}

impl Fill {
    /// The fill a record is, once its lot is assigned; none without an Rx number.
    pub fn of(record: &Record) -> Option<Fill> {
        Some(Fill {
            rx: record.order.rx.clone()?,
            formula: record.formula.id.clone(),
            lot: record.lot.clone(),
            bud: record.bud.date,
        })
    }
}

fn duplicate_warning(rx: &str, formula: &str, date: Date, earlier: &EarlierFill) -> String {
    format!(
        "Rx {rx}: lot {} of {formula} was compounded for the same Rx number and its BUD {} is \
         on or after this compounding date {date}: this is a duplicate or an early refill. \
         Check the prescription's fills before dispensing.",
        earlier.lot, earlier.bud
    )
}

/// Refuses refills above the lower limit the pharmacy set for its state as a signed policy
/// in the log (`logbook::policy`), naming the policy, its value and who set it. Checked where
/// the lot is assigned, so the log read is the one the batch is entered in.
pub fn check_refill_limit(order: &Order, limit: Option<&RefillLimit>) -> Result<()> {
    let refills = order.refills.unwrap_or(0);
    match limit {
        Some(l) if refills > l.refills => Err(Error::order(
            Field::Refills,
            format!(
                "{refills} refills: the pharmacy's policy {} allows at most {} (set by {} at \
                 {}); give --refills {} or fewer, or ask a pharmacist to change the policy",
                l.policy.name(),
                l.refills,
                l.set_by,
                l.at,
                l.refills
            ),
        )),
        _ => Ok(()),
    }
}

/// What is unusual about a batch without being wrong: each warning names the value and the
/// rule. They go on the terminal and into the worksheet's notes.
pub fn warnings(
    formula: &Formula,
    order: &Order,
    calc: &Calculation,
    date: Date,
    bud: &Bud,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(schedule) = formula.schedule() {
        let (usual, whose) = match formula.usual_quantity {
            Some(q) => (q, format!("the usual quantity {} states", formula.id)),
            None => (
                USUAL_QUANTITY,
                "a 90-day supply at one a day, taken where the formula states no usual quantity"
                    .to_string(),
            ),
        };
        if order.quantity > usual {
            out.push(format!(
                "Quantity: {} units of a {} controlled substance is more than {usual} units \
                 ({whose}); check the quantity against the prescription.",
                order.quantity,
                schedule.as_str()
            ));
        }
    }
    if let Some(p) = calc.overage_percent
        && p > MAX_USUAL_OVERAGE
    {
        out.push(format!(
            "Overage: {} % is above the usual {} % at most; every ingredient is prepared {} % \
             in excess. Check the overage.",
            p.normalize(),
            MAX_USUAL_OVERAGE,
            p.normalize()
        ));
    }
    // Both dates lie in 2000-2099 (see `order::YEARS`): the span between them always exists.
    let days = bud.date.since(date).map_or(i32::MAX, |s| s.get_days());
    if i64::from(days) < MIN_USUAL_BUD_DAYS {
        out.push(format!(
            "Beyond-use date: {} is {days} day{} after the compounding date {date}, fewer than \
             {MIN_USUAL_BUD_DAYS} ({}); the patient may not finish the supply before it: check \
             the component lots' expiry.",
            bud.date,
            if days == 1 { "" } else { "s" },
            bud.rule
        ));
    }
    out
}
