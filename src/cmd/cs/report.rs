//! `troche cs report`: a drug's book by lot over a period, and the finished units of the
//! batches made from it; as a table, CSV or JSON, or as a PDF a pharmacist signs, the
//! signature entered in the stock chain with the file's SHA-256.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde_json::json;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::escape::eprintln;
use crate::logbook::{Actor, people};
use crate::render::cs_report::{Book, Line, Report, Signature};
use crate::stock::{self, NewEvent, cs, units};
use crate::store::Db;

use super::super::log::{ListFormat, emit};
use super::super::pins;
use super::super::{arg, context::Context, today};

/// What the stock event of a signed report is called.
pub(crate) const SIGNED: &str = "report signed";

/// The table's (and the CSV's) columns: the last three, for a stock trituration, are the
/// drug its in, out and balance hold, in the lot's unit.
const HEADERS: [&str; 16] = [
    "lot",
    "schedule",
    "unit",
    "event",
    "at",
    "what",
    "in",
    "out",
    "balance",
    "batch",
    "by",
    "witness",
    "note",
    "drug_in",
    "drug_out",
    "drug_balance",
];

/// A lot's book or a batch's units, with what each row of the table repeats.
struct Section {
    lot: String,
    schedule: String,
    unit: String,
    book: Book,
    /// For a stock trituration, the drug each line's in, out and balance hold; else empty.
    drug: Vec<[String; 3]>,
}

impl Section {
    /// The book as the PDF shows it: a trituration's drug beside each line, in its note.
    fn printed(&self) -> Book {
        let mut book = self.book.clone();
        for (l, [into, out, balance]) in book.lines.iter_mut().zip(&self.drug) {
            let moved = match (into.is_empty(), out.is_empty()) {
                (false, _) => format!("drug in {into} {}, ", self.unit),
                (_, false) => format!("drug out {out} {}, ", self.unit),
                _ => String::new(),
            };
            let held = format!("{moved}holds {balance} {} of drug", self.unit);
            l.note = if l.note.is_empty() {
                held
            } else {
                format!("{}; {held}", l.note)
            };
        }
        book
    }

    fn rows(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        let none: [String; 3] = Default::default();
        self.book.lines.iter().enumerate().map(move |(i, l)| {
            let drug = self.drug.get(i).unwrap_or(&none);
            vec![
                self.lot.clone(),
                self.schedule.clone(),
                self.unit.clone(),
                l.event.clone(),
                l.at.clone(),
                l.what.clone(),
                l.into.clone(),
                l.out.clone(),
                l.balance.clone(),
                l.batch.clone(),
                l.by.clone(),
                l.witness.clone(),
                l.note.clone(),
                drug[0].clone(),
                drug[1].clone(),
                drug[2].clone(),
            ]
        })
    }
}

/// The report over a period, as read in one transaction.
struct Drawn {
    lots: Vec<stock::StockLot>,
    books: Vec<Section>,
    units: Vec<Section>,
    open: usize,
}

/// The report's options as the command line gives them.
pub(super) struct Ask<'a> {
    pub(super) drug: &'a str,
    pub(super) from: &'a str,
    pub(super) to: &'a str,
    pub(super) format: ListFormat,
    pub(super) pdf: Option<&'a Path>,
    pub(super) force: bool,
    pub(super) by: Option<&'a str>,
}

fn period(from: &str, to: &str) -> Result<(Date, Date)> {
    let from = arg("--from", crate::order::parse_date(from))?;
    let to = arg("--to", crate::order::parse_date(to))?;
    if to < from {
        return Err(Error::arg("--to", format!("{to} is before --from {from}")));
    }
    Ok((from, to))
}

pub(super) fn run(ctx: &Context, config: Option<&Path>, a: &Ask<'_>) -> Result<i32> {
    let (from, to) = period(a.from, a.to)?;
    let Some(pdf) = a.pdf else {
        let mut db = ctx.read_with_config(config)?;
        let d = draw(db.as_mut(), a.drug, from, to)?;
        let rows: Vec<Vec<String>> = d
            .books
            .iter()
            .chain(&d.units)
            .flat_map(Section::rows)
            .collect();
        emit(&HEADERS, &rows, a.format)?;
        summary(a.drug, &d, from, to);
        return Ok(0);
    };
    let settings = crate::config::load(config)?;
    signed_pdf(ctx, &settings, a, pdf, from, to)
}

fn summary(drug: &str, d: &Drawn, from: Date, to: Date) {
    eprintln(&format!(
        "{drug}: {} lots and {} batches made from them, {from} to {to}{}",
        d.lots.len(),
        d.units.len(),
        if d.open > 0 {
            format!("; {} unresolved discrepancies", d.open)
        } else {
            String::new()
        }
    ));
}

/// Writes the report as a PDF signed by a pharmacist: the signature is a stock event on each
/// lot of the report, carrying the file's SHA-256, written in the transaction that read the
/// report; the file is published in it too, so that either both exist or neither does.
fn signed_pdf(
    ctx: &Context,
    settings: &Settings,
    a: &Ask<'_>,
    pdf: &Path,
    from: Date,
    to: Date,
) -> Result<i32> {
    let dir = crate::publish::parent_of(pdf);
    if !dir.is_dir() {
        return Err(Error::arg(
            "--pdf",
            format!(
                "the folder {} does not exist; create it first, or write the file somewhere \
                 else",
                dir.display()
            ),
        ));
    }
    if !a.force && pdf.exists() {
        return Err(Error::Exists(pdf.to_path_buf()));
    }
    let mut db = ctx.open_existing(settings)?;
    let actor = Actor::current();
    let by = pins::by(a.by, settings.user.as_deref())?;
    let signer = pins::sign(db.as_mut(), &mut ctx.pins(settings), "--by", &by, &actor)?;
    let mut published: Option<PathBuf> = None;
    let done = db.write(|tx| {
        let p =
            people::require_pharmacist(tx, "--by", &signer, "signs a controlled-substance report")?;
        let d = draw(tx, a.drug, from, to)?;
        let (stock_seq, stock_head) = cs::chain_head(tx)?;
        let (log_n, log_head) = crate::logbook::chain::head(tx)?;
        let schedule = d
            .lots
            .iter()
            .find_map(|l| l.schedule.clone())
            .unwrap_or_default();
        let report = Report {
            pharmacy: settings.pharmacy.as_ref().map(|p| p.name.clone()),
            drug: drug_name(&d.lots, a.drug),
            schedule: schedule.trim_start_matches('C').to_string(),
            from: from.to_string(),
            to: to.to_string(),
            lots: d.books.iter().map(Section::printed).collect(),
            units: d.units.iter().map(Section::printed).collect(),
            facts: vec![
                (
                    "stock chain, last event".into(),
                    format!("{stock_seq} {stock_head}"),
                ),
                (
                    "compounding log chain, last link".into(),
                    format!("{log_n} {log_head}"),
                ),
                (
                    "lots of the drug".into(),
                    d.lots
                        .iter()
                        .map(|l| l.lot.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
            open_discrepancies: d.open,
            signature: Signature {
                initials: p.initials.clone(),
                name: p.name.clone(),
                role: p.role.to_string(),
                date: today(),
            },
            practice: ctx.practice(settings),
        };
        let bytes = crate::render::cs_report::cs_report(&report, settings.paper.size_pt())?;
        let sha = crate::logbook::sha256_hex(&bytes);
        let file = pdf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut first = None;
        for l in &d.lots {
            let seq = stock::append(
                tx,
                &NewEvent {
                    lot: &l.lot,
                    what: SIGNED,
                    who: Some(&p.initials),
                    meaning: Some("signed the report"),
                    details: json!({
                        "drug": report.drug,
                        "from": report.from,
                        "to": report.to,
                        "sha256": sha,
                        "file": file,
                        "stock_chain_seq": stock_seq,
                    }),
                    ..NewEvent::default()
                },
                &actor,
            )?;
            first.get_or_insert(seq);
        }
        let staged =
            crate::publish::stage_all(&[(pdf.to_path_buf(), bytes)], a.force, settings.file_mode)?;
        staged.publish()?;
        published = Some(pdf.to_path_buf());
        Ok((sha, first.unwrap_or(0), d.lots.len(), p.initials))
    });
    let (sha, first, n, who) = match done {
        Ok(v) => v,
        Err(e) => {
            // A file whose signature the log does not hold must not stay behind.
            if let Some(p) = published {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
    };
    crate::escape::print(&format!("wrote {}\nsha256 {sha}\n", pdf.display()))?;
    eprintln(&format!(
        "report of {} for {from} to {to} signed by {who}: stock events {first}..{} ({n} lots)",
        a.drug.trim(),
        first + i64::try_from(n).unwrap_or(1) - 1
    ));
    Ok(0)
}

/// The drug as its lots name it, when they all name it alike; else as asked for.
fn drug_name(lots: &[stock::StockLot], asked: &str) -> String {
    match lots.first() {
        Some(l) if lots.iter().all(|o| o.name == l.name) => l.name.clone(),
        _ => asked.trim().to_string(),
    }
}

/// An event's time to the second, as a report shows it: "2026-12-05T18:46:12Z".
fn seconds(at: &str) -> String {
    match at.get(..19) {
        Some(s) if at.ends_with('Z') => format!("{s}Z"),
        _ => at.to_string(),
    }
}

fn day(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

fn draw(db: &mut dyn Db, drug: &str, from: Date, to: Date) -> Result<Drawn> {
    let lots = cs::lots_of(db, drug)?;
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let show = |v: i64| stock::from_micro(v).to_string();
    let mut books = Vec::new();
    let mut open = 0;
    for l in &lots {
        let moves = cs::movements(db, &l.lot)?;
        let mut balance: i64 = 0;
        for m in moves.iter().filter(|m| day(&m.at) < from_s.as_str()) {
            balance = balance
                .checked_add(m.quantity.unwrap_or(0))
                .ok_or_else(|| crate::error::overflow("the stock balance"))?;
        }
        // In and out as two columns of positive numbers: a spreadsheet sums them, where a
        // cell starting with "-" is kept as text (the CSV writer's guard against formulas).
        let line = |event: String, at: String, what: &str, change: Option<i64>, balance: i64| {
            let (into, out) = match change {
                Some(c) if c > 0 => (show(c), String::new()),
                Some(c) if c < 0 => (String::new(), show(-c)),
                _ => (String::new(), String::new()),
            };
            Line {
                event,
                at,
                what: what.to_string(),
                into,
                out,
                balance: show(balance),
                ..Line::default()
            }
        };
        let mut lines = vec![Line {
            total: true,
            ..line(
                String::new(),
                from_s.clone(),
                "opening balance",
                None,
                balance,
            )
        }];
        for m in moves
            .iter()
            .filter(|m| day(&m.at) >= from_s.as_str() && day(&m.at) <= to_s.as_str())
        {
            if m.what == "reserved" {
                continue;
            }
            balance = balance
                .checked_add(m.quantity.unwrap_or(0))
                .ok_or_else(|| crate::error::overflow("the stock balance"))?;
            lines.push(Line {
                batch: m.batch.clone().unwrap_or_default(),
                by: m.who.clone().unwrap_or_default(),
                witness: m.witness.clone().unwrap_or_default(),
                note: m.note(),
                ..line(
                    m.seq.to_string(),
                    seconds(&m.at),
                    &m.what,
                    m.quantity,
                    balance,
                )
            });
        }
        lines.push(Line {
            total: true,
            ..line(
                String::new(),
                to_s.clone(),
                "closing balance",
                None,
                balance,
            )
        });
        for d in cs::open_discrepancies(&moves) {
            open += 1;
            lines.push(Line {
                by: d.who.clone().unwrap_or_default(),
                witness: d.witness.clone().unwrap_or_default(),
                note: d.note(),
                flagged: true,
                ..line(
                    d.seq.to_string(),
                    seconds(&d.at),
                    "UNRESOLVED DISCREPANCY",
                    None,
                    balance,
                )
            });
        }
        let drug = match l.potency().filter(|_| l.is_trituration()) {
            Some(p) => {
                if let Some(first) = lines.first_mut() {
                    first.note = format!(
                        "a trituration of {} at {} %: the drug it holds = {} of trituration \
                         × {} / 100",
                        l.name,
                        p.normalize(),
                        l.unit,
                        p.normalize()
                    );
                }
                drug_held(&lines, p)?
            }
            None => Vec::new(),
        };
        books.push(Section {
            lot: l.lot.clone(),
            schedule: l.schedule.clone().unwrap_or_default(),
            unit: l.unit.clone(),
            drug,
            book: Book {
                title: format!(
                    "Lot {}: {}, {}, expires {} ({})",
                    l.lot, l.name, l.manufacturer, l.expiry, l.unit
                ),
                lines,
            },
        });
    }
    let (units, open_units) = finished_units(db, &lots, &from_s, &to_s)?;
    Ok(Drawn {
        lots,
        books,
        units,
        open: open + open_units,
    })
}

/// The drug a trituration's lines hold: each line's in, out and balance (exact decimals of
/// the lot's unit, as the book writes them) × the potency / 100, exactly.
fn drug_held(lines: &[Line], potency: rust_decimal::Decimal) -> Result<Vec<[String; 3]>> {
    let of = |grams: &str| -> Result<String> {
        if grams.is_empty() {
            return Ok(String::new());
        }
        let g: rust_decimal::Decimal = grams
            .parse()
            .map_err(|_| Error::stored(format!("a book's quantity {grams} is no number")))?;
        g.checked_mul(potency)
            .and_then(|d| d.checked_div(rust_decimal::Decimal::ONE_HUNDRED))
            .map(|d| d.normalize().to_string())
            .ok_or_else(|| crate::error::overflow("the drug a trituration holds"))
    };
    lines
        .iter()
        .map(|l| Ok([of(&l.into)?, of(&l.out)?, of(&l.balance)?]))
        .collect()
}

/// The finished units of every batch made from the drug's lots and compounded by `to`, in
/// units: made, dispensed, kept as retained samples, destroyed, returned, and what the batch
/// holds (`crate::stock::units`; the batch's lot in the lot column); and how many of the
/// batches' inventories counted units that differ from the book, unresolved (each shown).
fn finished_units(
    db: &mut dyn Db,
    lots: &[stock::StockLot],
    from: &str,
    to: &str,
) -> Result<(Vec<Section>, usize)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let mut open = 0;
    for l in lots {
        for r in crate::logbook::recall(db, &l.lot, &crate::logbook::Filter::default())? {
            // A stock trituration's batch is in the book as its stock lot, in grams.
            let trituration = lots.iter().any(|s| s.lot == r.lot && s.is_trituration());
            if r.date.as_str() > to || trituration || !seen.insert(r.lot.clone()) {
                continue;
            }
            let (b, _, events) = units::of(db, &r.lot)?;
            let made = units::made(&b);
            let line = |event: String, at: String, what: &str, into: String, out: String| Line {
                event,
                at,
                what: what.to_string(),
                into,
                out,
                batch: b.lot.clone(),
                ..Line::default()
            };
            let moves = |e: &crate::logbook::Event| {
                [
                    crate::logbook::DISPENSED,
                    units::KEPT,
                    units::DESTROYED,
                    units::RETURNED,
                ]
                .contains(&e.what.as_str())
            };
            let mut held = units::Units::default();
            let apply = |held: &units::Units, e: &crate::logbook::Event| {
                let (n, pool) = units::units_of(e);
                held.apply(&e.what, n, pool)
                    .ok_or_else(|| crate::error::overflow("the units of a batch"))
            };
            if r.date.as_str() < from {
                held.made = made;
                held.on_hand = made;
            }
            for e in events.iter().filter(|e| moves(e) && day(&e.at) < from) {
                held = apply(&held, e)?;
            }
            let mut lines = vec![Line {
                balance: held.balance().to_string(),
                note: format!("{} from lot {}, now {}", r.formula, l.lot, r.status),
                total: true,
                ..line(
                    String::new(),
                    from.to_string(),
                    "finished units, opening",
                    String::new(),
                    String::new(),
                )
            }];
            if r.date.as_str() >= from {
                held.made = made;
                held.on_hand = held
                    .on_hand
                    .checked_add(made)
                    .ok_or_else(|| crate::error::overflow("the units of a batch"))?;
                lines.push(Line {
                    balance: held.balance().to_string(),
                    note: format!(
                        "Rx {} for {}",
                        r.rx.clone().unwrap_or_default(),
                        r.patient.clone().unwrap_or_default()
                    ),
                    ..line(
                        String::new(),
                        r.date.clone(),
                        "units made",
                        made.to_string(),
                        String::new(),
                    )
                });
            }
            for e in events
                .iter()
                .filter(|e| moves(e) && day(&e.at) >= from && day(&e.at) <= to)
            {
                let (n, pool) = units::units_of(e);
                held = apply(&held, e)?;
                let d: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let (what, into, out, note) = match e.what.as_str() {
                    units::KEPT => (
                        "units kept".to_string(),
                        String::new(),
                        String::new(),
                        format!(
                            "{n} set aside as retained samples ({} retained)",
                            held.retained
                        ),
                    ),
                    units::DESTROYED => (
                        "units destroyed".to_string(),
                        String::new(),
                        n.to_string(),
                        format!("from {}", pool.as_str()),
                    ),
                    units::RETURNED => (
                        "units returned".to_string(),
                        n.to_string(),
                        String::new(),
                        "held for destruction".to_string(),
                    ),
                    _ => (
                        "units dispensed".to_string(),
                        String::new(),
                        n.to_string(),
                        String::new(),
                    ),
                };
                let reason = d["reason"].as_str().unwrap_or_default();
                lines.push(Line {
                    balance: held.balance().to_string(),
                    by: e.who.clone().unwrap_or_default(),
                    witness: d["witness"].as_str().unwrap_or_default().to_string(),
                    note: [reason, note.as_str()]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join("; "),
                    ..line(e.seq.to_string(), seconds(&e.at), &what, into, out)
                });
            }
            lines.push(Line {
                balance: held.balance().to_string(),
                note: format!(
                    "{} on hand, {} retained, {} returned",
                    held.on_hand, held.retained, held.held_returns
                ),
                total: true,
                ..line(
                    String::new(),
                    to.to_string(),
                    "finished units, closing",
                    String::new(),
                    String::new(),
                )
            });
            for d in units::open_discrepancies(&events) {
                open += 1;
                lines.push(Line {
                    balance: held.balance().to_string(),
                    by: d.who.clone().unwrap_or_default(),
                    note: format!(
                        "{}; resolve: troche cs resolve {} --batch {}",
                        units::count_note(d),
                        d.seq,
                        b.lot
                    ),
                    flagged: true,
                    ..line(
                        d.seq.to_string(),
                        seconds(&d.at),
                        "UNRESOLVED DISCREPANCY",
                        String::new(),
                        String::new(),
                    )
                });
            }
            out.push(Section {
                lot: b.lot.clone(),
                schedule: l.schedule.clone().unwrap_or_default(),
                unit: "units".into(),
                drug: Vec::new(),
                book: Book {
                    title: format!(
                        "Batch {}: {}, made {} from stock lot {} (units)",
                        b.lot, r.formula, r.date, l.lot
                    ),
                    lines,
                },
            });
        }
    }
    Ok((out, open))
}
