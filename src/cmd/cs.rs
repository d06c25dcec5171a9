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
        #[arg(long)]
        adjust: bool,
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
        /// Who takes it.
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
    },
}

pub(super) fn run(ctx: &Context, args: &CsArgs) -> Result<i32> {
    let settings = config::load(args.config.as_deref())?;
    if let Action::Report {
        drug,
        from,
        to,
        format,
    } = &args.action
    {
        let mut db = ctx.read_with_config(args.config.as_deref())?;
        return report(db.as_mut(), drug, from, to, *format);
    }
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
        Action::Report { .. } => Ok(0),
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
                let l = stock::get(tx, "--lot", &l.lot)?;
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
            by,
        } => {
            let reason = text("--reason", reason)?;
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
            let p = sign(db.as_mut(), "--by", by.as_deref())?;
            let rows = db.write(|tx| {
                people::require_signer(tx, "--by", &p.initials)?;
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
            eprintln(&format!(
                "{at} inventory of {date}: {} controlled lots, taken by {}",
                rows.len(),
                p.initials
            ));
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

fn report(
    db: &mut dyn crate::store::Db,
    drug: &str,
    from: &str,
    to: &str,
    format: ListFormat,
) -> Result<i32> {
    let from = arg("--from", crate::order::parse_date(from))?;
    let to = arg("--to", crate::order::parse_date(to))?;
    if to < from {
        return Err(Error::arg("--to", format!("{to} is before --from {from}")));
    }
    let lots = cs::lots_of(db, drug)?;
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let mut rows = Vec::new();
    let mut open = 0;
    for l in &lots {
        let moves = cs::movements(db, &l.lot)?;
        let day = |m: &cs::Movement| m.at.chars().take(10).collect::<String>();
        let mut balance: i64 = moves
            .iter()
            .filter(|m| day(m) < from_s)
            .filter_map(|m| m.quantity)
            .sum();
        let show = |v: i64| stock::from_micro(v).to_string();
        // In and out as two columns of positive numbers: a spreadsheet sums them, where a
        // cell starting with "-" is kept as text (the CSV writer's guard against formulas).
        let row = |event: String, at: String, what: &str, change: Option<i64>, balance: i64| {
            let (into, out) = match change {
                Some(c) if c > 0 => (show(c), String::new()),
                Some(c) if c < 0 => (String::new(), show(-c)),
                _ => (String::new(), String::new()),
            };
            vec![
                l.lot.clone(),
                l.schedule.clone().unwrap_or_default(),
                l.unit.clone(),
                event,
                at,
                what.to_string(),
                into,
                out,
                show(balance),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
        };
        rows.push(row(
            String::new(),
            from_s.clone(),
            "opening balance",
            None,
            balance,
        ));
        for m in moves.iter().filter(|m| day(m) >= from_s && day(m) <= to_s) {
            if m.what == "reserved" {
                continue;
            }
            balance += m.quantity.unwrap_or(0);
            let mut r = row(
                m.seq.to_string(),
                seconds(&m.at),
                &m.what,
                m.quantity,
                balance,
            );
            r[9] = m.batch.clone().unwrap_or_default();
            r[10] = m.who.clone().unwrap_or_default();
            r[11] = m.witness.clone().unwrap_or_default();
            r[12] = m.note();
            rows.push(r);
        }
        rows.push(row(
            String::new(),
            to_s.clone(),
            "closing balance",
            None,
            balance,
        ));
        for d in cs::open_discrepancies(&moves) {
            open += 1;
            let mut r = row(
                d.seq.to_string(),
                seconds(&d.at),
                "UNRESOLVED DISCREPANCY",
                None,
                balance,
            );
            r[10] = d.who.clone().unwrap_or_default();
            r[11] = d.witness.clone().unwrap_or_default();
            r[12] = d.note();
            rows.push(r);
        }
    }
    let batches = finished_units(db, &lots, &from_s, &to_s)?;
    let made = batches.len();
    rows.extend(batches.into_iter().flatten());
    emit(
        &[
            "lot", "schedule", "unit", "event", "at", "what", "in", "out", "balance", "batch",
            "by", "witness", "note",
        ],
        &rows,
        format,
    )?;
    eprintln(&format!(
        "{drug}: {} lots and {made} batches made from them, {from} to {to}{}",
        lots.len(),
        if open > 0 {
            format!("; {open} unresolved discrepancies")
        } else {
            String::new()
        }
    ));
    Ok(0)
}

/// An event's time to the second, as a report shows it: "2026-12-05T18:46:12Z".
fn seconds(at: &str) -> String {
    match at.get(..19) {
        Some(s) if at.ends_with('Z') => format!("{s}Z"),
        _ => at.to_string(),
    }
}

/// The finished units of every batch made from the drug's lots and compounded by `to`, in
/// units: made, each dispensing, and what is left, as rows of the report (the batch's lot in
/// the lot column).
fn finished_units(
    db: &mut dyn crate::store::Db,
    lots: &[stock::StockLot],
    from: &str,
    to: &str,
) -> Result<Vec<Vec<Vec<String>>>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for l in lots {
        for b in crate::logbook::recall(db, &l.lot, &crate::logbook::Filter::default())? {
            // A stock trituration's batch is in the book as its stock lot, in grams.
            let trituration = lots.iter().any(|s| s.lot == b.lot && s.is_trituration());
            if b.date.as_str() > to || trituration || !seen.insert(b.lot.clone()) {
                continue;
            }
            // A rejected or void batch was never stock to dispense.
            let made = match b.status.as_str() {
                "rejected" | "void" => 0,
                _ => b.units.unwrap_or(0),
            };
            let row = |event: String,
                       at: String,
                       what: &str,
                       into: String,
                       out: String,
                       balance: i64,
                       by: String,
                       note: String| {
                vec![
                    b.lot.clone(),
                    l.schedule.clone().unwrap_or_default(),
                    "units".to_string(),
                    event,
                    at,
                    what.to_string(),
                    into,
                    out,
                    balance.to_string(),
                    b.lot.clone(),
                    by,
                    String::new(),
                    note,
                ]
            };
            let events = crate::logbook::events(db, &b.lot)?;
            let day = |at: &str| at.chars().take(10).collect::<String>();
            let dispensed = |e: &crate::logbook::Event| {
                serde_json::from_str::<serde_json::Value>(&e.details)
                    .ok()
                    .and_then(|d| d["units"].as_i64())
                    .unwrap_or(0)
            };
            let mut balance = if b.date.as_str() < from { made } else { 0 };
            for e in events
                .iter()
                .filter(|e| e.what == "dispensed" && day(&e.at).as_str() < from)
            {
                balance -= dispensed(e);
            }
            let mut rows = vec![row(
                String::new(),
                from.to_string(),
                "finished units, opening",
                String::new(),
                String::new(),
                balance,
                String::new(),
                format!("{} from lot {}, now {}", b.formula, l.lot, b.status),
            )];
            if b.date.as_str() >= from {
                balance += made;
                rows.push(row(
                    String::new(),
                    b.date.clone(),
                    "units made",
                    made.to_string(),
                    String::new(),
                    balance,
                    String::new(),
                    format!(
                        "Rx {} for {}",
                        b.rx.clone().unwrap_or_default(),
                        b.patient.clone().unwrap_or_default()
                    ),
                ));
            }
            for e in events.iter().filter(|e| {
                e.what == "dispensed" && day(&e.at).as_str() >= from && day(&e.at).as_str() <= to
            }) {
                let n = dispensed(e);
                balance -= n;
                rows.push(row(
                    e.seq.to_string(),
                    seconds(&e.at),
                    "units dispensed",
                    String::new(),
                    n.to_string(),
                    balance,
                    e.who.clone().unwrap_or_default(),
                    String::new(),
                ));
            }
            rows.push(row(
                String::new(),
                to.to_string(),
                "finished units, closing",
                String::new(),
                String::new(),
                balance,
                String::new(),
                String::new(),
            ));
            out.push(rows);
        }
    }
    Ok(out)
}
