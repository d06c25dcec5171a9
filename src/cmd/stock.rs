//! `troche stock`: the components on hand (docs/stock.md); `stock receive`, `release`,
//! `reject`, `adjust` and `recall`, each signed, each a stock event.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rust_decimal::Decimal;
use serde_json::json;

use crate::config::{self, Settings};
use crate::error::{Error, Result};
use crate::escape::eprintln;
use crate::logbook::{self, Actor, people};
use crate::quantity::{self, Dimension};
use crate::stock::{self, NewEvent, Receipt, potency};

use super::context::Context;
use super::log::{ListFormat, emit};
use super::pins;
use super::{arg, today};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct StockArgs {
    #[command(subcommand)]
    action: Option<Action>,
    /// Output format of the list: a table to read, JSON or CSV for other programs.
    #[arg(long, value_enum, default_value_t)]
    format: ListFormat,
    /// Every lot, the empty ones too.
    #[arg(long)]
    all: bool,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// The signer and the settings file, shared by every action.
#[derive(Args)]
struct Signed {
    /// Who signs (PIN on standard input when it is not a terminal); default `user` in
    /// troche.toml.
    #[arg(long, value_name = "INITIALS")]
    by: Option<String>,
    /// Pharmacy settings file (for `database` and `user`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Action {
    /// Enter a lot received, with its certificate of analysis; it starts in quarantine.
    Receive(Box<ReceiveArgs>),
    /// Make a quarantined lot usable, signed by a pharmacist.
    Release {
        /// The lot.
        lot: String,
        #[command(flatten)]
        signed: Signed,
    },
    /// Refuse a quarantined lot, signed by a pharmacist, with the reason.
    Reject {
        /// The lot.
        lot: String,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        signed: Signed,
    },
    /// Add to or take from a lot (spill, found, count correction), with the reason.
    Adjust {
        /// The lot.
        lot: String,
        /// The change, signed: "-0.5 g", "+2 g".
        #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true)]
        quantity: String,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        signed: Signed,
    },
    /// One lot: its receipt and every movement, with the running balance.
    Show {
        /// The lot.
        lot: String,
        /// Output format of the movements: a table to read, JSON or CSV for other programs.
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
        /// Pharmacy settings file (for `database`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Block a lot, quarantine every batch made with it not yet dispensed, and list them all.
    Recall {
        /// The lot.
        lot: String,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Output format of the batches: a table to read, JSON or CSV for other programs.
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
        #[command(flatten)]
        signed: Signed,
    },
}

#[derive(Args)]
struct ReceiveArgs {
    /// The component's name as the formulas write it (the link to their ingredients).
    name: String,
    /// The manufacturer's lot.
    #[arg(long, value_name = "LOT")]
    lot: String,
    /// Expiry (or retest) date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    expiry: String,
    /// The manufacturer.
    #[arg(long, value_name = "NAME")]
    manufacturer: String,
    /// The quantity received: "25 g", "500 mL".
    #[arg(long, value_name = "QUANTITY")]
    quantity: String,
    /// The certificate's assay, percent (as is, unless --assay-basis says otherwise).
    #[arg(long, value_name = "PERCENT")]
    assay: Option<String>,
    /// The basis of the certificate's assay: as-is, dried or anhydrous.
    #[arg(long, value_name = "BASIS", requires = "assay")]
    assay_basis: Option<String>,
    /// Water content or loss on drying, percent, for an assay on the dried or anhydrous basis.
    #[arg(long, value_name = "PERCENT", requires = "assay")]
    water: Option<String>,
    /// The form received: anhydrous, a hydrate (hemihydrate, monohydrate, sesquihydrate,
    /// dihydrate, trihydrate, or hydrate when the certificate does not say which) or salt.
    #[arg(long, value_name = "FORM")]
    form: Option<String>,
    /// The supplier (a controlled substance: required).
    #[arg(long, value_name = "NAME")]
    supplier: Option<String>,
    /// The supplier's invoice number (a controlled substance: required).
    #[arg(long, value_name = "NO")]
    invoice: Option<String>,
    /// The DEA Form 222 or CSOS order number (Schedule II: required).
    #[arg(long, value_name = "NO")]
    order_form: Option<String>,
    /// The certificate of analysis, kept by its SHA-256.
    #[arg(long, value_name = "FILE")]
    certificate: Option<PathBuf>,
    #[command(flatten)]
    signed: Signed,
}

pub(super) fn run(ctx: &Context, a: &StockArgs) -> Result<i32> {
    match &a.action {
        None => list(ctx, a),
        Some(Action::Receive(r)) => receive(ctx, r),
        Some(Action::Release { lot, signed }) => state(
            ctx,
            signed,
            lot,
            None,
            ("released", stock::RELEASED, &[stock::QUARANTINED]),
        ),
        Some(Action::Reject {
            lot,
            reason,
            signed,
        }) => state(
            ctx,
            signed,
            lot,
            Some(reason),
            ("rejected", stock::REJECTED, &[stock::QUARANTINED]),
        ),
        Some(Action::Adjust {
            lot,
            quantity,
            reason,
            signed,
        }) => adjust(ctx, signed, lot, quantity, reason),
        Some(Action::Show {
            lot,
            format,
            config,
        }) => show(ctx, lot, *format, config.as_deref()),
        Some(Action::Recall {
            lot,
            reason,
            format,
            signed,
        }) => recall(ctx, signed, lot, reason, *format),
    }
}

/// Text typed for the record: trimmed, not empty, no control characters.
pub(super) fn text(flag: &str, v: &str) -> Result<String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(Error::arg(flag, "must not be empty"));
    }
    crate::escape::check(t, false).map_err(|m| Error::arg(flag, m))?;
    Ok(t.to_string())
}

fn opt_text(flag: &str, v: Option<&String>) -> Result<Option<String>> {
    v.map(|t| text(flag, t)).transpose()
}

/// The signer: initials and PIN, read before the write.
fn signer(
    ctx: &Context,
    settings: &Settings,
    db: &mut dyn crate::store::Db,
    s: &Signed,
) -> Result<(people::Person, Actor)> {
    let by = pins::by(s.by.as_deref(), settings.user.as_deref())?;
    let actor = Actor::current();
    let p = pins::sign(db, &mut ctx.pins(settings), "--by", &by, &actor)?;
    Ok((p, actor))
}

fn percent(flag: &str, v: &str) -> Result<Decimal> {
    arg(
        flag,
        quantity::parse_decimal(v.trim().trim_end_matches('%')),
    )
}

fn receive(ctx: &Context, r: &ReceiveArgs) -> Result<i32> {
    let name = text("NAME", &r.name)?;
    let lot = logbook::normalize_lot(&r.lot).map_err(|e| match e {
        Error::Argument { message, .. } => Error::arg("--lot", message),
        other => other,
    })?;
    let expiry = arg("--expiry", crate::order::parse_date(&r.expiry))?;
    let manufacturer = text("--manufacturer", &r.manufacturer)?;
    let q = arg("--quantity", quantity::parse_quantity(&r.quantity))?;
    let unit = match q.dimension() {
        Dimension::Mass => "g",
        Dimension::Volume => "mL",
    };
    let micro = stock::to_micro("--quantity", q.in_base())?;
    let (assay, basis, water, potency, step) = match &r.assay {
        None => (None, None, None, None, None),
        Some(a) => {
            let a = percent("--assay", a)?;
            if a <= Decimal::ZERO || a > Decimal::from(110) {
                return Err(Error::arg(
                    "--assay",
                    format!(
                        "{} % is not an assay; give the certificate's percent, e.g. 99.5",
                        a.normalize()
                    ),
                ));
            }
            let basis = match &r.assay_basis {
                Some(b) => potency::Basis::parse(b)?,
                None => potency::Basis::AsIs,
            };
            let water = r
                .water
                .as_deref()
                .map(|w| percent("--water", w))
                .transpose()?;
            let (v, step) = potency::as_is(a, basis, water)?;
            (
                Some(a),
                Some(basis.as_str().to_string()),
                water,
                Some(v),
                Some(step),
            )
        }
    };
    let form = match r.form.as_deref() {
        None => None,
        Some(f) => Some(crate::stock::form::parse(f).ok_or_else(|| {
            Error::arg(
                "--form",
                format!(
                    "\"{}\" is not a form; write one of {}",
                    crate::escape::escape(f.trim()),
                    crate::stock::form::FORMS.join(", ")
                ),
            )
        })?),
    };
    let schedule = crate::controlled::lookup(&name).and_then(|s| match s.control {
        crate::controlled::Control::Scheduled(s) => Some(s),
        crate::controlled::Control::ScheduleOne(_) => None,
    });
    let supplier = opt_text("--supplier", r.supplier.as_ref())?;
    let invoice = opt_text("--invoice", r.invoice.as_ref())?;
    let order_form = opt_text("--order-form", r.order_form.as_ref())?;
    if let Some(s) = schedule {
        for (flag, v) in [("--supplier", &supplier), ("--invoice", &invoice)] {
            if v.is_none() {
                return Err(Error::arg(
                    flag,
                    format!(
                        "{name} is a controlled substance (Schedule {}): its receipt names the \
                         supplier and the invoice (21 CFR 1304.22)",
                        s.as_str()
                    ),
                ));
            }
        }
        if s == crate::formula::Schedule::CII && order_form.is_none() {
            return Err(Error::arg(
                "--order-form",
                format!(
                    "{name} is in Schedule II: its receipt names the DEA Form 222 or CSOS order \
                     number (21 CFR 1305)"
                ),
            ));
        }
    }
    let certificate_sha256 = match &r.certificate {
        Some(p) => Some(logbook::sha256_hex(
            &std::fs::read(p).map_err(|e| Error::io(p, e))?,
        )),
        None => None,
    };
    let receipt = Receipt {
        name,
        lot,
        manufacturer,
        expiry,
        unit,
        quantity: micro,
        assay,
        assay_basis: basis,
        water,
        potency,
        form,
        schedule,
        supplier,
        invoice,
        order_form,
        certificate_sha256,
        potency_step: step.clone(),
    };
    let settings = config::load(r.signed.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let (p, actor) = signer(ctx, &settings, db.as_mut(), &r.signed)?;
    let id = db.write(|tx| {
        people::require_signer(tx, "--by", &p.initials)?;
        stock::receive(tx, &receipt, &p.initials, &actor)
    })?;
    if let Some(s) = step {
        eprintln(&format!("potency: {s}"));
    }
    eprintln(&format!(
        "lot {} of {}: {} {unit} received by {}, in quarantine until a pharmacist releases it",
        receipt.lot,
        receipt.name,
        stock::from_micro(micro),
        p.initials
    ));
    if id != receipt.lot {
        // Another ingredient's or manufacturer's lot has this number: this one is named apart.
        eprintln(&format!(
            "stock holds another lot numbered {} (`troche stock show {}.1`): this one's id is \
             {id}, which every command takes; the number alone names both and is refused",
            receipt.lot, receipt.lot
        ));
    }
    Ok(0)
}

fn state(
    ctx: &Context,
    s: &Signed,
    lot: &str,
    reason: Option<&String>,
    (what, status, from): (&str, &str, &[&str]),
) -> Result<i32> {
    let reason = opt_text("--reason", reason)?;
    let settings = config::load(s.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let (p, actor) = signer(ctx, &settings, db.as_mut(), s)?;
    let l = db.write(|tx| {
        people::require_pharmacist(tx, "--by", &p, &format!("signs a stock lot {what}"))?;
        stock::transition(
            tx,
            lot,
            from,
            &NewEvent {
                what,
                status: Some(status),
                who: Some(&p.initials),
                meaning: Some(what),
                details: json!({ "reason": reason }),
                ..NewEvent::default()
            },
            &actor,
        )
    })?;
    eprintln(&format!(
        "stock lot {} of {} {what} by {}",
        l.lot, l.name, p.initials
    ));
    Ok(0)
}

/// A signed quantity: "-0.5 g", "+2 g", "2 g", in the lot's unit.
pub(super) fn signed_quantity(flag: &str, v: &str, unit: &str) -> Result<i64> {
    // A count may find nothing: "0 g" (the quantity parser refuses zero as an amount).
    if flag == "--counted" {
        let t = v.trim();
        let number = t.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == ' ');
        if number != t && quantity::parse_decimal(number).is_ok_and(|n| n.is_zero()) {
            return Ok(0);
        }
    }
    let t = v.trim();
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let q = arg(flag, quantity::parse_quantity(rest))?;
    let q_unit = match q.dimension() {
        Dimension::Mass => "g",
        Dimension::Volume => "mL",
    };
    if q_unit != unit {
        return Err(Error::arg(
            flag,
            format!("the lot is kept in {unit}; give a quantity in {unit} (or its multiples)"),
        ));
    }
    Ok(sign * stock::to_micro(flag, q.in_base())?)
}

fn adjust(ctx: &Context, s: &Signed, lot: &str, quantity: &str, reason: &str) -> Result<i32> {
    let reason = text("--reason", reason)?;
    let settings = config::load(s.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let l = stock::get(db.as_mut(), "LOT", lot)?;
    let q = signed_quantity("--quantity", quantity, &l.unit)?;
    let (p, actor) = signer(ctx, &settings, db.as_mut(), s)?;
    let (l, after) = db.write(|tx| {
        people::require_signer(tx, "--by", &p.initials)?;
        if l.schedule.is_some() {
            people::require_pharmacist(tx, "--by", &p, "adjusts a controlled substance's stock")?;
        }
        stock::move_quantity(
            tx,
            "--quantity",
            &l.lot,
            &NewEvent {
                what: "adjusted",
                quantity: Some(q),
                who: Some(&p.initials),
                meaning: Some("adjusted"),
                details: json!({ "reason": reason }),
                ..NewEvent::default()
            },
            &actor,
        )
    })?;
    eprintln(&format!(
        "stock lot {}: {} by {}; {} on hand",
        l.lot,
        l.show(q),
        p.initials,
        l.show(after)
    ));
    Ok(0)
}

fn recall(ctx: &Context, s: &Signed, lot: &str, reason: &str, format: ListFormat) -> Result<i32> {
    let reason = text("--reason", reason)?;
    let settings = config::load(s.config.as_deref())?;
    let mut db = ctx.open_existing(&settings)?;
    let (p, actor) = signer(ctx, &settings, db.as_mut(), s)?;
    let (l, held, rows) = db.write(|tx| {
        people::require_pharmacist(tx, "--by", &p, "recalls a stock lot")?;
        let l = stock::transition(
            tx,
            lot,
            &[stock::QUARANTINED, stock::RELEASED],
            &NewEvent {
                what: "recalled",
                status: Some(stock::RECALLED),
                who: Some(&p.initials),
                meaning: Some("recalled"),
                details: json!({ "reason": reason }),
                ..NewEvent::default()
            },
            &actor,
        )?;
        let batches = logbook::recall(tx, &l.lot, &logbook::Filter::default())?;
        // A stock trituration made with the lot is recalled with it: no batch draws on it.
        for b in &batches {
            if stock::find(tx, &b.lot)?.is_some_and(|t| {
                t.is_trituration()
                    && [stock::QUARANTINED, stock::RELEASED].contains(&t.status.as_str())
            }) {
                stock::transition(
                    tx,
                    &b.lot,
                    &[stock::QUARANTINED, stock::RELEASED],
                    &NewEvent {
                        what: "recalled",
                        status: Some(stock::RECALLED),
                        who: Some(&p.initials),
                        meaning: Some("recalled"),
                        details: json!({ "reason": reason, "component_lot": l.lot }),
                        ..NewEvent::default()
                    },
                    &actor,
                )?;
            }
        }
        let mut held = Vec::new();
        let mut rows = Vec::new();
        for b in batches {
            let open = [logbook::PREPARED, logbook::RECORDED, logbook::RELEASED];
            if open.contains(&b.status.as_str()) {
                logbook::transition(
                    tx,
                    &open,
                    "quarantining it for a component's recall",
                    &logbook::NewEvent {
                        lot: &b.lot,
                        what: "quarantined",
                        status: Some(logbook::QUARANTINED),
                        who: Some(&p.initials),
                        meaning: Some("quarantined"),
                        details: &json!({ "reason": reason, "component_lot": l.lot }),
                    },
                    &actor,
                )?;
                held.push(b.lot.clone());
            }
            let dispensed: Vec<String> = logbook::events(tx, &b.lot)?
                .into_iter()
                .filter(|e| e.what == "dispensed")
                .map(|e| {
                    let units = serde_json::from_str::<serde_json::Value>(&e.details)
                        .ok()
                        .and_then(|d| d["units"].as_i64())
                        .map_or(String::new(), |u| format!(" {u} units"));
                    format!("{}{units} by {}", e.at, e.who.unwrap_or_default())
                })
                .collect();
            let status = if held.last() == Some(&b.lot) {
                logbook::QUARANTINED.to_string()
            } else {
                b.status.clone()
            };
            rows.push(vec![
                b.lot,
                b.date,
                b.formula,
                b.rx.unwrap_or_default(),
                b.patient.unwrap_or_default(),
                b.prescriber.unwrap_or_default(),
                b.units.map(|u| u.to_string()).unwrap_or_default(),
                status,
                dispensed.join("; "),
            ]);
        }
        Ok((l, held, rows))
    })?;
    emit(
        &[
            "lot",
            "date",
            "formula",
            "rx",
            "patient",
            "prescriber",
            "units",
            "status",
            "dispensed",
        ],
        &rows,
        format,
    )?;
    eprintln(&format!(
        "stock lot {} of {} recalled by {}; {} batches made with it, {} quarantined now",
        l.lot,
        l.name,
        p.initials,
        rows.len(),
        held.len()
    ));
    Ok(0)
}

fn list(ctx: &Context, a: &StockArgs) -> Result<i32> {
    let mut db = ctx.read_with_config(a.config.as_deref())?;
    let today = today();
    let soon = today
        .checked_add(jiff::Span::new().days(30))
        .unwrap_or(today);
    let lots = stock::list(db.as_mut(), a.all)?;
    // The lots are moved into the rows, not copied: a listing holds thousands of them.
    let rows: Vec<Vec<String>> = lots
        .into_iter()
        .map(|l| {
            let flag = if l.expiry < today {
                "EXPIRED".to_string()
            } else if l.expiry <= soon {
                format!("expires in {} days", (l.expiry - today).get_days())
            } else {
                String::new()
            };
            vec![
                l.lot,
                l.name,
                stock::from_micro(l.on_hand).to_string(),
                stock::from_micro(l.reserved).to_string(),
                l.unit,
                l.expiry.to_string(),
                l.status,
                flag,
                l.potency.unwrap_or_default(),
                l.schedule.unwrap_or_default(),
                l.manufacturer,
            ]
        })
        .collect();
    emit(
        &[
            "lot",
            "name",
            "on_hand",
            "reserved",
            "unit",
            "expiry",
            "status",
            "flag",
            "potency",
            "schedule",
            "manufacturer",
        ],
        &rows,
        a.format,
    )?;
    Ok(0)
}

fn show(
    ctx: &Context,
    lot: &str,
    format: ListFormat,
    config: Option<&std::path::Path>,
) -> Result<i32> {
    let mut db = ctx.read_with_config(config)?;
    let l = stock::get(db.as_mut(), "LOT", lot)?;
    let moves = stock::cs::movements(db.as_mut(), &l.lot)?;
    let mut balance: i64 = 0;
    let rows: Vec<Vec<String>> = moves
        .iter()
        .map(|m| {
            let q = m.quantity.unwrap_or(0);
            balance = balance.saturating_add(q);
            let show = |v: i64| stock::from_micro(v).to_string();
            vec![
                m.seq.to_string(),
                m.at.clone(),
                m.what.clone(),
                if q > 0 { show(q) } else { String::new() },
                if q < 0 { show(-q) } else { String::new() },
                show(balance),
                m.batch.clone().unwrap_or_default(),
                m.who.clone().unwrap_or_default(),
                m.witness.clone().unwrap_or_default(),
                m.note(),
            ]
        })
        .collect();
    if matches!(format, ListFormat::Table) {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        crate::escape::print(&format!(
            "lot {} of {}\nmanufacturer {}, expiry {}, {}\npotency {} % as is (assay {} %, {} \
             basis, water {} %), form {}\nschedule {}, supplier {}, invoice {}, order form {}\n\
             received {}\non hand {}, reserved {}\n\n",
            l.lot,
            l.name,
            l.manufacturer,
            l.expiry,
            l.status,
            opt(&l.potency),
            opt(&l.assay),
            opt(&l.assay_basis),
            opt(&l.water),
            opt(&l.form),
            opt(&l.schedule),
            opt(&l.supplier),
            opt(&l.invoice),
            opt(&l.order_form),
            l.received_at,
            l.show(l.on_hand),
            l.show(l.reserved),
        ))?;
    }
    emit(
        &[
            "event", "at", "what", "in", "out", "balance", "batch", "by", "witness", "note",
        ],
        &rows,
        format,
    )?;
    Ok(0)
}
