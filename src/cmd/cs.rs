//! `troche cs`: the controlled-substance perpetual inventory (docs/stock.md): waste and
//! loss (taken off the book, signed, waste witnessed), counts against the book, their
//! resolution, the dated inventory, and the report of a drug's movements by lot.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use serde_json::json;

use crate::config;
use crate::error::{Error, Result};
use crate::escape::eprintln;
use crate::logbook::{Actor, people};
use crate::stock::{self, NewEvent, cs};

use super::context::Context;
use super::log::{ListFormat, emit};
use super::pins;
use super::stock::{signed_quantity, text};
use super::{arg, today};

mod report;
mod units;

use crate::stock::units::{DESTROYED, KEPT, Pool, RETURNED};

#[derive(Args)]
pub(super) struct CsArgs {
    #[command(subcommand)]
    action: Action,
    /// Pharmacy settings file (for `database`, `user` and the balance's readability).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct Which {
    /// The drug: its name in stock, or the controlled substance ("ketamine").
    #[arg(long, value_name = "NAME")]
    drug: String,
    /// The stock lot.
    #[arg(long, value_name = "LOT")]
    lot: String,
}

/// Where destroyed units come from.
#[derive(Clone, Copy, Default, ValueEnum)]
enum PoolArg {
    /// Units on hand to dispense.
    #[default]
    Stock,
    /// Retained samples (`cs keep`).
    Retained,
    /// Units a patient returned (`cs return`).
    Returned,
}

#[derive(Clone, Copy, ValueEnum)]
enum At {
    Opening,
    Closing,
}

#[derive(Subcommand)]
enum Action {
    /// Waste of a controlled drug, signed by who wasted it and a witness.
    Waste {
        #[command(flatten)]
        which: Which,
        /// The quantity wasted: "0.12 g".
        #[arg(long, value_name = "QUANTITY")]
        quantity: String,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who wasted it (first PIN).
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
        /// Who saw it done (second PIN).
        #[arg(long, value_name = "INITIALS")]
        witness: String,
    },
    /// A theft or significant loss, with its DEA Form 106 number, signed by a pharmacist.
    Loss {
        #[command(flatten)]
        which: Which,
        /// The quantity lost.
        #[arg(long, value_name = "QUANTITY")]
        quantity: String,
        /// The DEA Form 106 number.
        #[arg(long, value_name = "NO")]
        form_106: String,
        /// What happened.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// The pharmacist signing.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// A physical count of a lot, against the book, signed and witnessed.
    Count {
        #[command(flatten)]
        which: Which,
        /// What was counted (weighed): "12.345 g".
        #[arg(long, value_name = "QUANTITY")]
        counted: String,
        /// Who counted (first PIN).
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
        /// Who saw it done (second PIN).
        #[arg(long, value_name = "INITIALS")]
        witness: String,
    },
    /// Resolve a flagged count, with the reason; --adjust also brings the book to the count.
    Resolve {
        /// The count's event number (shown by `cs count` and `cs report`).
        count: i64,
        /// Why the book and the count differed.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Adjust the book to what was counted.
        #[arg(long, conflicts_with = "batch")]
        adjust: bool,
        /// The count is a dated inventory of this batch's finished units (its event number
        /// in the batch's history), not of a stock lot.
        #[arg(long, value_name = "LOT")]
        batch: Option<String>,
        /// The pharmacist signing.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// A dated inventory of every controlled lot: the book, and what was counted.
    Inventory {
        /// The inventory's date, YYYY-MM-DD (default today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// Taken at the opening or the close of business.
        #[arg(long, value_enum)]
        at: At,
        /// What was counted of a lot, "LOT=12.345 g"; once per lot counted.
        #[arg(long, value_name = "LOT=QUANTITY")]
        counted: Vec<String>,
        /// The finished units counted of a controlled batch, "BATCH=9"; once per batch.
        #[arg(long, value_name = "BATCH=N")]
        units: Vec<String>,
        /// Who takes it.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// The finished units of a controlled batch: made, dispensed, kept, destroyed, returned,
    /// and what it holds.
    Units {
        /// The batch's lot.
        lot: String,
        /// A table to read, JSON or CSV for other programs.
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
    },
    /// Units of a controlled batch set aside as retained samples, signed.
    Keep {
        /// The batch's lot.
        lot: String,
        /// How many units.
        #[arg(long, value_name = "N")]
        units: u32,
        /// Why (e.g. "retained sample").
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who sets them aside.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// Units of a controlled batch destroyed, signed by who destroyed them and a witness.
    Destroy {
        /// The batch's lot.
        lot: String,
        /// How many units.
        #[arg(long, value_name = "N")]
        units: u32,
        /// Which units: on hand, retained samples, or a patient's return.
        #[arg(long, value_enum, default_value_t)]
        pool: PoolArg,
        /// Why, and how.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who destroyed them (first PIN).
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
        /// Who saw it done (second PIN).
        #[arg(long, value_name = "INITIALS")]
        witness: String,
    },
    /// Units of a dispensed controlled batch a patient brought back, received by a
    /// pharmacist; held for destruction, never dispensed again.
    Return {
        /// The batch's lot.
        lot: String,
        /// How many units.
        #[arg(long, value_name = "N")]
        units: u32,
        /// Why they came back.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// The pharmacist receiving them.
        #[arg(long, value_name = "INITIALS")]
        by: Option<String>,
    },
    /// A drug's movements by lot between two dates: opening balance, each movement, closing.
    Report {
        /// The drug: its name in stock, or the controlled substance ("ketamine").
        #[arg(long, value_name = "NAME")]
        drug: String,
        /// First day, YYYY-MM-DD (UTC dates of the events).
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// A table to read, JSON or CSV for other programs.
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
        /// Write the report as a PDF to FILE instead, signed by the pharmacist `--by`: the
        /// signature is entered in the log with the file's SHA-256.
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        /// Replace FILE if it exists.
        #[arg(long, requires = "pdf")]
        force: bool,
        /// The pharmacist signing the PDF (their PIN is asked for).
        #[arg(long, value_name = "INITIALS", requires = "pdf")]
        by: Option<String>,
    },
}

pub(super) fn run(ctx: &Context, args: &CsArgs) -> Result<i32> {
    if let Action::Report {
        drug,
        from,
        to,
        format,
        pdf,
        force,
        by,
    } = &args.action
    {
        return report::run(
            ctx,
            args.config.as_deref(),
            &report::Ask {
                drug,
                from,
                to,
                format: *format,
                pdf: pdf.as_deref(),
                force: *force,
                by: by.as_deref(),
            },
        );
    }
    if let Action::Units { lot, format } = &args.action {
        let mut db = ctx.read_with_config(args.config.as_deref())?;
        return units::show(db.as_mut(), lot, *format);
    }
    let settings = config::load(args.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let actor = Actor::current();
    let user = settings.user.as_deref();
    let mut pins = ctx.pins(&settings);
    let mut sign = |db: &mut dyn crate::store::Db, flag: &str, who: Option<&str>| {
        let who = match flag {
            "--by" => pins::by(who, user)?,
            _ => people::initials(flag, who.unwrap_or_default())?,
        };
        pins::sign(db, &mut pins, flag, &who, &actor)
    };
    let readability = settings.balance.readability;
    match &args.action {
        Action::Report { .. } | Action::Units { .. } => Ok(0),
        Action::Keep {
            lot,
            units: n,
            reason,
            by,
        }
        | Action::Return {
            lot,
            units: n,
            reason,
            by,
        } => {
            let reason = text("--reason", reason)?;
            let what = if matches!(args.action, Action::Keep { .. }) {
                KEPT
            } else {
                RETURNED
            };
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            units::enter(
                db.as_mut(),
                &units::Asked {
                    lot,
                    what,
                    units: *n,
                    pool: Pool::Stock,
                    reason: &reason,
                },
                &p,
                None,
                &actor,
            )
        }
        Action::Destroy {
            lot,
            units: n,
            pool,
            reason,
            by,
            witness,
        } => {
            let reason = text("--reason", reason)?;
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let w = sign(db.as_mut(), "--witness", Some(witness))?;
            distinct(&p.initials, &w.initials)?;
            units::enter(
                db.as_mut(),
                &units::Asked {
                    lot,
                    what: DESTROYED,
                    units: *n,
                    pool: match pool {
                        PoolArg::Stock => Pool::Stock,
                        PoolArg::Retained => Pool::Retained,
                        PoolArg::Returned => Pool::Returned,
                    },
                    reason: &reason,
                },
                &p,
                Some(&w),
                &actor,
            )
        }
        Action::Waste {
            which,
            quantity,
            reason,
            by,
            witness,
        } => {
            let reason = text("--reason", reason)?;
            let l = cs::lot_of(db.as_mut(), &which.drug, &which.lot)?;
            let qty = signed_quantity("--quantity", quantity, &l.unit)?;
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let w = sign(db.as_mut(), "--witness", Some(witness))?;
            distinct(&p.initials, &w.initials)?;
            let (_, after) = db.write(|tx| {
                people::require_signer(tx, "--by", &p.initials)?;
                people::require_signer(tx, "--witness", &w.initials)?;
                stock::move_quantity(
                    tx,
                    "--quantity",
                    &l.lot,
                    &NewEvent {
                        what: "wasted",
                        quantity: Some(-qty.abs()),
                        who: Some(&p.initials),
                        meaning: Some("wasted"),
                        witness: Some(&w.initials),
                        details: json!({ "reason": reason }),
                        ..NewEvent::default()
                    },
                    &actor,
                )
            })?;
            eprintln(&format!(
                "{} of lot {} wasted by {}, witnessed by {}; book balance {}",
                l.show(qty.abs()),
                l.lot,
                p.initials,
                w.initials,
                l.show(after)
            ));
            Ok(0)
        }
        Action::Loss {
            which,
            quantity,
            form_106,
            reason,
            by,
        } => {
            let reason = text("--reason", reason)?;
            let form = text("--form-106", form_106)?;
            let l = cs::lot_of(db.as_mut(), &which.drug, &which.lot)?;
            let q = signed_quantity("--quantity", quantity, &l.unit)?;
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let (_, after) = db.write(|tx| {
                people::require_pharmacist(tx, "--by", &p, "reports a loss")?;
                stock::move_quantity(
                    tx,
                    "--quantity",
                    &l.lot,
                    &NewEvent {
                        what: "loss",
                        quantity: Some(-q.abs()),
                        who: Some(&p.initials),
                        meaning: Some("reported a loss"),
                        details: json!({ "reason": reason, "form_106": form }),
                        ..NewEvent::default()
                    },
                    &actor,
                )
            })?;
            eprintln(&format!(
                "loss of {} from lot {} (DEA Form 106 {form}) reported by {}; book balance {}",
                l.show(q.abs()),
                l.lot,
                p.initials,
                l.show(after)
            ));
            Ok(0)
        }
        Action::Count {
            which,
            counted,
            by,
            witness,
        } => {
            let l = cs::lot_of(db.as_mut(), &which.drug, &which.lot)?;
            let found = signed_quantity("--counted", counted, &l.unit)?.abs();
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let w = sign(db.as_mut(), "--witness", Some(witness))?;
            distinct(&p.initials, &w.initials)?;
            let (seq, book, flagged) = db.write(|tx| {
                people::require_signer(tx, "--by", &p.initials)?;
                people::require_signer(tx, "--witness", &w.initials)?;
                let l = stock::identity::by_id(tx, &l.lot)?.ok_or_else(|| {
                    Error::stored(format!("stock lot {} is not in the log", l.lot))
                })?;
                let (details, flagged) = compared(&l, found, readability)?;
                let seq = stock::append(
                    tx,
                    &NewEvent {
                        lot: &l.lot,
                        what: "counted",
                        who: Some(&p.initials),
                        meaning: Some("counted"),
                        witness: Some(&w.initials),
                        details,
                        ..NewEvent::default()
                    },
                    &actor,
                )?;
                Ok((seq, l.on_hand, flagged))
            })?;
            let diff = found - book;
            eprintln(&format!(
                "count {seq}: lot {} counted {} against a book balance of {}: {}{}",
                l.lot,
                l.show(found),
                l.show(book),
                if diff == 0 {
                    "no discrepancy".to_string()
                } else {
                    format!("discrepancy {}", l.show(diff))
                },
                if flagged {
                    format!(
                        "; FLAGGED (beyond the balance's readability {} g) until resolved: \
                         `troche cs resolve {seq} --reason ...`",
                        readability.normalize()
                    )
                } else {
                    String::new()
                }
            ));
            Ok(0)
        }
        Action::Resolve {
            count,
            reason,
            adjust,
            batch,
            by,
        } => {
            let reason = text("--reason", reason)?;
            if let Some(batch) = batch {
                let lot = crate::logbook::normalize_lot(batch)?;
                let p = sign(db.as_mut(), "--by", by.as_deref())?;
                db.write(|tx| {
                    people::require_pharmacist(tx, "--by", &p, "resolves a count's discrepancy")?;
                    let (_, _, events) = crate::stock::units::of(tx, &lot)?;
                    if !crate::stock::units::open_discrepancies(&events)
                        .iter()
                        .any(|e| e.seq == *count)
                    {
                        return Err(Error::arg(
                            "COUNT",
                            format!(
                                "event {count} of batch {lot} is no inventory with an open \
                                 discrepancy"
                            ),
                        ));
                    }
                    crate::stock::units::append(
                        tx,
                        &crate::logbook::NewEvent {
                            lot: &lot,
                            what: crate::stock::units::RESOLVED,
                            status: None,
                            who: Some(&p.initials),
                            meaning: Some("resolved"),
                            details: &json!({ "reason": reason, "count": count }),
                        },
                        &actor,
                    )
                })?;
                eprintln(&format!(
                    "the count of event {count} of batch {lot} resolved by {}",
                    p.initials
                ));
                return Ok(0);
            }
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let lot = db.write(|tx| {
                people::require_pharmacist(tx, "--by", &p, "resolves a count's discrepancy")?;
                let rows = tx.query(
                    "SELECT lot FROM stock_events WHERE seq = $1 AND what IN ('counted', \
                     'inventory')",
                    &[crate::store::Value::int(*count)],
                )?;
                let Some(mut r) = rows.into_iter().next() else {
                    return Err(Error::arg(
                        "COUNT",
                        format!("stock event {count} is not a count"),
                    ));
                };
                let lot = r.text("lot")?;
                let moves = cs::movements(tx, &lot)?;
                let Some(c) = cs::open_discrepancies(&moves)
                    .into_iter()
                    .find(|m| m.seq == *count)
                    .cloned()
                else {
                    return Err(Error::arg(
                        "COUNT",
                        format!("count {count} of lot {lot} has no open discrepancy"),
                    ));
                };
                if *adjust {
                    let diff = c.details["discrepancy_micro"].as_i64().unwrap_or(0);
                    stock::move_quantity(
                        tx,
                        "--adjust",
                        &lot,
                        &NewEvent {
                            what: "adjusted",
                            quantity: Some(diff),
                            who: Some(&p.initials),
                            meaning: Some("adjusted"),
                            details: json!({ "reason": reason, "count": count }),
                            ..NewEvent::default()
                        },
                        &actor,
                    )?;
                }
                stock::append(
                    tx,
                    &NewEvent {
                        lot: &lot,
                        what: "resolved",
                        who: Some(&p.initials),
                        meaning: Some("resolved"),
                        details: json!({ "reason": reason, "count": count }),
                        ..NewEvent::default()
                    },
                    &actor,
                )?;
                Ok(lot)
            })?;
            eprintln(&format!(
                "count {count} of lot {lot} resolved by {}{}",
                p.initials,
                if *adjust { ", book adjusted" } else { "" }
            ));
            Ok(0)
        }
        Action::Inventory {
            date,
            at,
            counted,
            units: units_counted,
            by,
        } => {
            let date = match date {
                Some(d) => arg("--date", crate::order::parse_date(d))?,
                None => today(),
            };
            let at = match at {
                At::Opening => "opening",
                At::Closing => "closing",
            };
            let mut counts = Vec::new();
            for c in counted {
                let (lot, q) = c.split_once('=').ok_or_else(|| {
                    Error::arg("--counted", "give LOT=QUANTITY, e.g. K-78=12.5 g")
                })?;
                let l = stock::get(db.as_mut(), "--counted", lot)?;
                if l.schedule.is_none() {
                    return Err(Error::arg(
                        "--counted",
                        format!("lot {} ({}) is not a controlled substance", l.lot, l.name),
                    ));
                }
                counts.push((
                    l.lot.clone(),
                    signed_quantity("--counted", q, &l.unit)?.abs(),
                ));
            }
            let mut unit_counts: Vec<(String, i64)> = Vec::new();
            for c in units_counted {
                let (lot, n) = c
                    .split_once('=')
                    .ok_or_else(|| Error::arg("--units", "give BATCH=N, e.g. 261130-001=9"))?;
                let lot = crate::logbook::normalize_lot(lot)?;
                let n: u32 = n.trim().parse().map_err(|_| {
                    Error::arg(
                        "--units",
                        format!(
                            "{}: the units counted are a whole number, 0 or more",
                            crate::escape::escape(c)
                        ),
                    )
                })?;
                if unit_counts.iter().any(|(l, _)| *l == lot) {
                    return Err(Error::arg(
                        "--units",
                        format!("batch {lot} is counted twice; give each batch once"),
                    ));
                }
                unit_counts.push((lot, i64::from(n)));
            }
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let mut flagged_batches = Vec::new();
            let rows = db.write(|tx| {
                people::require_signer(tx, "--by", &p.initials)?;
                let batches = crate::stock::units::controlled_batches(tx)?;
                if let Some((lot, _)) = unit_counts
                    .iter()
                    .find(|(lot, _)| !batches.iter().any(|(b, _)| b == lot))
                {
                    return Err(Error::arg(
                        "--units",
                        format!(
                            "batch {lot} is no controlled preparation (made from no \
                             controlled stock lot); finished units are counted for those"
                        ),
                    ));
                }
                let mut rows = Vec::new();
                for l in cs::controlled(tx)? {
                    let count = counts.iter().find(|(lot, _)| *lot == l.lot).map(|c| c.1);
                    if l.on_hand == 0 && count.is_none() {
                        continue;
                    }
                    let (mut details, flagged) = match count {
                        Some(c) => compared(&l, c, readability)?,
                        None => (
                            json!({ "book": stock::from_micro(l.on_hand).to_string() }),
                            false,
                        ),
                    };
                    details["date"] = json!(date.to_string());
                    details["at"] = json!(at);
                    let seq = stock::append(
                        tx,
                        &NewEvent {
                            lot: &l.lot,
                            what: "inventory",
                            who: Some(&p.initials),
                            meaning: Some("inventoried"),
                            details: details.clone(),
                            ..NewEvent::default()
                        },
                        &actor,
                    )?;
                    rows.push(vec![
                        seq.to_string(),
                        l.lot.clone(),
                        l.name.clone(),
                        l.schedule.clone().unwrap_or_default(),
                        l.show(l.on_hand),
                        count.map(|c| l.show(c)).unwrap_or_default(),
                        details["discrepancy"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        if flagged {
                            "FLAGGED".into()
                        } else {
                            String::new()
                        },
                    ]);
                }
                // The finished units of every controlled batch that holds any (or was
                // counted): an event of the batch records the book and what was counted; a
                // batch not counted is recorded from its book, as a lot is.
                for (lot, schedule) in batches {
                    let (b, u, _) = crate::stock::units::of(tx, &lot)?;
                    let count = unit_counts.iter().find(|(l, _)| *l == lot).map(|c| c.1);
                    if u.balance() == 0 && count.is_none() {
                        continue;
                    }
                    let mut details = json!({
                        "date": date.to_string(),
                        "at": at,
                        "units": u.balance(),
                        "on_hand": u.on_hand,
                        "retained": u.retained,
                        "returned": u.held_returns,
                    });
                    let diff = match count {
                        Some(n) => {
                            let diff = n
                                .checked_sub(u.balance())
                                .ok_or_else(|| crate::error::overflow("the units of a batch"))?;
                            details["counted"] = json!(n);
                            details["book"] = json!(u.balance());
                            details["discrepancy"] = json!(diff);
                            details["flagged"] = json!(diff != 0);
                            Some(diff)
                        }
                        None => None,
                    };
                    let seq = crate::stock::units::append(
                        tx,
                        &crate::logbook::NewEvent {
                            lot: &lot,
                            what: crate::stock::units::INVENTORY,
                            status: None,
                            who: Some(&p.initials),
                            meaning: Some("inventoried"),
                            details: &details,
                        },
                        &actor,
                    )?;
                    let flagged = diff.is_some_and(|d| d != 0);
                    if flagged {
                        flagged_batches.push((lot.clone(), seq));
                    }
                    rows.push(vec![
                        seq.to_string(),
                        lot,
                        b.formula_id,
                        schedule,
                        format!("{} units", u.balance()),
                        count.map(|n| format!("{n} units")).unwrap_or_default(),
                        diff.map(|d| d.to_string()).unwrap_or_default(),
                        if flagged {
                            "FLAGGED".into()
                        } else {
                            String::new()
                        },
                    ]);
                }
                Ok(rows)
            })?;
            emit(
                &[
                    "event",
                    "lot",
                    "name",
                    "schedule",
                    "book",
                    "counted",
                    "discrepancy",
                    "flag",
                ],
                &rows,
                ListFormat::Table,
            )?;
            let uncounted = rows.iter().filter(|r| r[5].is_empty()).count();
            eprintln(&format!(
                "{at} inventory of {date}: {} controlled lots and batches, taken by {}{}",
                rows.len(),
                p.initials,
                if uncounted > 0 {
                    format!(
                        "; {uncounted} not counted, recorded from the book (--counted for a \
                         lot, --units for a batch)"
                    )
                } else {
                    String::new()
                }
            ));
            for (lot, seq) in &flagged_batches {
                eprintln(&format!(
                    "batch {lot}: the units counted differ from the book; FLAGGED until \
                     resolved: `troche cs resolve {seq} --batch {lot} --reason ...`"
                ));
            }
            Ok(0)
        }
    }
}

/// A second signer must be a second person.
fn distinct(by: &str, witness: &str) -> Result<()> {
    if by == witness {
        return Err(Error::arg(
            "--witness",
            format!("{witness} cannot witness their own act; a second person witnesses"),
        ));
    }
    Ok(())
}

/// A count against the book: the event's details, and whether the discrepancy is beyond
/// the balance's readability.
fn compared(
    l: &stock::StockLot,
    counted: i64,
    readability: Decimal,
) -> Result<(serde_json::Value, bool)> {
    let diff = counted - l.on_hand;
    let limit = stock::to_micro_up("--counted", readability)?;
    let flagged = diff.abs() > limit;
    Ok((
        json!({
            "counted": stock::from_micro(counted).to_string(),
            "book": stock::from_micro(l.on_hand).to_string(),
            "discrepancy": stock::from_micro(diff).to_string(),
            "discrepancy_micro": diff,
            "readability": readability.normalize().to_string(),
            "flagged": flagged,
        }),
        flagged,
    ))
}
