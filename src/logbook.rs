//! The compounding log: pharmacy-wide lots, and each batch's record from worksheet to
//! release, in a database (`crate::store`). docs/log.md describes the schema and the states.
//!
//! A batch's row is written in the same transaction that assigns its lot, with the SHA-256 of
//! every file to be printed; the files are written only after that transaction commits. The
//! history of a batch is its events, appended and never changed; the `status` column of a
//! batch is written only by [`append_event`], in the event's transaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::config::{LabelSize, MoldId, Paper, Pharmacy, Settings};
use crate::error::{Error, Result};
use crate::lots::Lots;
use crate::order::{self, Order, Preparation};
use crate::record::{Origin, Record};
use crate::store::{Db, Row, Value};

/// The states of a batch.
pub const PREPARED: &str = "prepared";
pub const RECORDED: &str = "recorded";
pub const RELEASED: &str = "released";
pub const REJECTED: &str = "rejected";
pub const VOID: &str = "void";

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Who did something, and from which workstation.
#[derive(Debug, Clone)]
pub struct Actor {
    pub workstation: String,
    pub os_user: String,
}

impl Actor {
    pub fn current() -> Actor {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .unwrap_or_else(|| "unknown".into());
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".into());
        Actor {
            workstation: host,
            os_user: user,
        }
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// `YYMMDD-NNN` split into its date prefix and number, for lots of that form.
pub fn lot_number(lot: &str) -> Option<(String, i64)> {
    let (p, n) = lot.split_once('-')?;
    if p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit()) && n.len() >= 3 && n.len() <= 9 {
        if !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some((p.to_string(), n.parse().ok()?));
    }
    None
}

fn prefix_of(date: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        date.year().rem_euclid(100),
        date.month(),
        date.day()
    )
}

/// Hands out lots inside one write transaction: the next number after the highest the log
/// ever gave for the date (a voided lot is never handed out again), skipping any whose files
/// already lie in the output directory from before the log.
pub struct LotCounter<'a> {
    next: HashMap<String, i64>,
    dir: &'a mut Lots,
}

impl<'a> LotCounter<'a> {
    pub fn new(dir: &'a mut Lots) -> LotCounter<'a> {
        LotCounter {
            next: HashMap::new(),
            dir,
        }
    }

    pub fn next(&mut self, db: &mut dyn Db, date: Date) -> Result<String> {
        let prefix = prefix_of(date);
        let mut n = if let Some(n) = self.next.get(&prefix) {
            *n
        } else {
            let rows = db.query(
                "SELECT max(lot_seq) FROM batches WHERE lot_prefix = $1",
                &[Value::text(prefix.clone())],
            )?;
            rows.first().and_then(|r| r.int(0)).unwrap_or(0) + 1
        };
        loop {
            let lot = format!("{prefix}-{n:03}");
            n += 1;
            if self.dir.claim(&lot, false).is_ok() {
                self.next.insert(prefix, n);
                return Ok(lot);
            }
        }
    }

    /// Without a log: the next free lot in the output directory alone.
    pub fn next_in_dir(&mut self, date: Date) -> Result<String> {
        self.dir.next(date)
    }

    /// Without a log: a lot given by the user, free in the output directory.
    pub fn claim_in_dir(&mut self, lot: &str, force: bool) -> Result<String> {
        self.dir.claim(lot, force)
    }

    /// A lot given by the user: free in the whole log, and in the output directory.
    pub fn claim(&mut self, db: &mut dyn Db, lot: &str, force: bool) -> Result<String> {
        if exists(db, lot)? {
            return Err(Error::arg(
                "lot",
                format!(
                    "lot \"{lot}\" is already in the compounding log; lots are unique across \
                     the pharmacy. Give a new lot, or `troche reprint {lot}` for its paperwork"
                ),
            ));
        }
        if let Some((p, n)) = lot_number(lot) {
            let e = self.next.entry(p).or_insert(0);
            *e = (*e).max(n + 1);
        }
        self.dir.claim(lot, force)
    }
}

pub fn exists(db: &mut dyn Db, lot: &str) -> Result<bool> {
    Ok(!db
        .query("SELECT 1 FROM batches WHERE lot = $1", &[Value::text(lot)])?
        .is_empty())
}

/// The text of a formula named by a library id or a file path, for the record.
pub fn formula_source(arg: &str) -> Result<String> {
    let p = Path::new(arg);
    if p.is_file() {
        return crate::library::read_text(p);
    }
    crate::library::get(arg)
        .map(str::to_string)
        .ok_or_else(|| Error::arg("FORMULA", format!("no formula \"{arg}\"")))
}

/// The settings a batch was made with, so its paperwork can be made again byte for byte.
#[derive(Serialize, Deserialize, Default)]
pub struct SettingsSnapshot {
    pharmacy: Option<(String, String, String)>,
    balance_id: Option<String>,
    readability: String,
    volume_readability: String,
    sensitivity: String,
    acceptable_error_percent: String,
    minimum_weight: Option<String>,
    paper: String,
    label: (f32, f32),
    diluent: Option<String>,
    molds: Vec<(String, String)>,
}

impl SettingsSnapshot {
    pub fn of(s: &Settings) -> SettingsSnapshot {
        let b = &s.balance;
        SettingsSnapshot {
            pharmacy: s
                .pharmacy
                .as_ref()
                .map(|p| (p.name.clone(), p.address.clone(), p.phone.clone())),
            balance_id: b.id.clone(),
            readability: b.readability.to_string(),
            volume_readability: b.volume_readability.to_string(),
            sensitivity: b.sensitivity.to_string(),
            acceptable_error_percent: b.acceptable_error_percent.to_string(),
            minimum_weight: b.minimum_weight.map(|d| d.to_string()),
            paper: match s.paper {
                Paper::Letter => "letter".into(),
                Paper::A4 => "a4".into(),
            },
            label: (s.label.width_pt, s.label.height_pt),
            diluent: s.diluent.clone(),
            molds: s
                .molds
                .iter()
                .map(|m| (m.id.clone(), m.name.clone()))
                .collect(),
        }
    }

    pub fn settings(&self) -> Result<Settings> {
        let dec = |s: &str| {
            s.parse::<rust_decimal::Decimal>()
                .map_err(|e| Error::Database(format!("a stored setting {s:?} is unreadable: {e}")))
        };
        let mut s = Settings {
            origin: "the compounding log".into(),
            ..Settings::default()
        };
        s.pharmacy = self.pharmacy.as_ref().map(|(n, a, p)| Pharmacy {
            name: n.clone(),
            address: a.clone(),
            phone: p.clone(),
        });
        s.balance.id.clone_from(&self.balance_id);
        s.balance.readability = dec(&self.readability)?;
        s.balance.volume_readability = dec(&self.volume_readability)?;
        s.balance.sensitivity = dec(&self.sensitivity)?;
        s.balance.acceptable_error_percent = dec(&self.acceptable_error_percent)?;
        s.balance.minimum_weight = self.minimum_weight.as_deref().map(dec).transpose()?;
        s.paper = if self.paper == "a4" {
            Paper::A4
        } else {
            Paper::Letter
        };
        s.label = LabelSize {
            width_pt: self.label.0,
            height_pt: self.label.1,
        };
        s.diluent.clone_from(&self.diluent);
        s.molds = self
            .molds
            .iter()
            .map(|(id, name)| MoldId {
                id: id.clone(),
                name: name.clone(),
            })
            .collect();
        Ok(s)
    }
}

/// The order as stored: every value in the text the order file and flags accept.
#[derive(Serialize, Deserialize, Default)]
pub struct OrderSnapshot {
    strengths: Vec<String>,
    quantity: u32,
    extra: Option<u32>,
    overage: Option<String>,
    bases: Vec<String>,
    assays: Vec<String>,
    date: Option<String>,
    lot: Option<String>,
    rx: Option<String>,
    patient: Option<String>,
    prescriber: Option<String>,
    directions: Option<String>,
    refills: Option<u32>,
    components: Vec<(String, String, Option<String>, Option<String>)>,
    // Absent from orders stored before the prescription checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    confirm_strength: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date_written: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prescriber_dea: Option<String>,
}

fn named(active: Option<&String>, v: String) -> String {
    match active {
        Some(a) => format!("{a}={v}"),
        None => v,
    }
}

impl OrderSnapshot {
    pub fn of(o: &Order) -> OrderSnapshot {
        OrderSnapshot {
            strengths: o
                .strengths
                .iter()
                .map(|s| named(s.active.as_ref(), s.amount.to_string()))
                .collect(),
            quantity: o.quantity,
            extra: match o.preparation {
                Preparation::Extra(n) => Some(n),
                Preparation::Overage(_) => None,
            },
            overage: match o.preparation {
                Preparation::Overage(p) => Some(p.to_string()),
                Preparation::Extra(_) => None,
            },
            bases: o
                .bases
                .iter()
                .map(|b| named(b.active.as_ref(), b.basis.as_str().to_string()))
                .collect(),
            assays: o
                .assays
                .iter()
                .map(|a| named(a.active.as_ref(), a.percent.to_string()))
                .collect(),
            date: o.date.map(|d| d.to_string()),
            lot: o.lot.clone(),
            rx: o.rx.clone(),
            patient: o.patient.clone(),
            prescriber: o.prescriber.clone(),
            directions: o.directions.clone(),
            refills: o.refills,
            components: o
                .components
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.lot.clone(),
                        c.expiry.map(|d| d.to_string()),
                        c.manufacturer.clone(),
                    )
                })
                .collect(),
            confirm_strength: o.confirm_strength.clone(),
            date_written: o.date_written.map(|d| d.to_string()),
            prescriber_dea: o.prescriber_dea.clone(),
        }
    }

    pub fn order(&self) -> Result<Order> {
        let bad = |what: &str, e: crate::quantity::ParseError| {
            Error::Database(format!("the stored order's {what} is unreadable: {}", e.0))
        };
        let mut o = Order {
            quantity: self.quantity,
            ..Order::default()
        };
        for s in &self.strengths {
            o.strengths
                .push(order::parse_strength(s).map_err(|e| bad("strength", e))?);
        }
        o.preparation = match (&self.extra, &self.overage) {
            (_, Some(p)) => {
                Preparation::Overage(order::parse_overage(p).map_err(|e| bad("overage", e))?)
            }
            (Some(n), None) => Preparation::Extra(*n),
            (None, None) => Preparation::default(),
        };
        for b in &self.bases {
            o.bases
                .push(order::parse_basis(b).map_err(|e| bad("basis", e))?);
        }
        for a in &self.assays {
            o.assays
                .push(order::parse_assay(a).map_err(|e| bad("assay", e))?);
        }
        o.date = self
            .date
            .as_deref()
            .map(|d| order::parse_date(d).map_err(|e| bad("date", e)))
            .transpose()?;
        o.lot.clone_from(&self.lot);
        o.rx.clone_from(&self.rx);
        o.patient.clone_from(&self.patient);
        o.prescriber.clone_from(&self.prescriber);
        o.directions.clone_from(&self.directions);
        o.refills = self.refills;
        o.confirm_strength.clone_from(&self.confirm_strength);
        o.date_written = self
            .date_written
            .as_deref()
            .map(|d| order::parse_date(d).map_err(|e| bad("date written", e)))
            .transpose()?;
        o.prescriber_dea.clone_from(&self.prescriber_dea);
        for (name, lot, expiry, mfr) in &self.components {
            o.components.push(order::ComponentLot {
                name: name.clone(),
                lot: lot.clone(),
                expiry: expiry
                    .as_deref()
                    .map(|d| order::parse_date(d).map_err(|e| bad("component expiry", e)))
                    .transpose()?,
                manufacturer: mfr.clone(),
            });
        }
        Ok(o)
    }
}

/// One batch to enter in the log.
pub struct NewBatch<'a> {
    pub record: &'a Record,
    /// "batch" (make, batch), "worksheet" or "label" (one document), "imported".
    pub kind: &'a str,
    /// The formula's own text, when it is known (not for imported records).
    pub formula_text: Option<&'a str>,
    pub settings: &'a Settings,
    pub out_dir: Option<&'a Path>,
    /// The files that will be printed, with their bytes (hashed here).
    pub files: &'a [(PathBuf, Vec<u8>)],
    /// The record JSON (`report::record_json`).
    pub record_json: &'a str,
}

fn file_kind(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with("-worksheet.pdf") {
        "worksheet".into()
    } else if name.ends_with("-label.pdf") {
        "label".into()
    } else if Path::new(&name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        "json".into()
    } else {
        name
    }
}

/// Enters a batch with its `prepared` event. Call inside a write transaction, after its lot
/// was decided by a [`LotCounter`] in the same transaction.
pub fn insert(db: &mut dyn Db, b: &NewBatch<'_>, actor: &Actor) -> Result<()> {
    let r = b.record;
    let formula_sha = match b.formula_text {
        Some(text) => {
            let sha = sha256_hex(text.as_bytes());
            if db
                .query(
                    "SELECT 1 FROM formula_texts WHERE sha256 = $1",
                    &[Value::text(sha.clone())],
                )?
                .is_empty()
            {
                db.execute(
                    "INSERT INTO formula_texts (sha256, formula_id, version, text) VALUES ($1, $2, $3, $4)",
                    &[
                        Value::text(sha.clone()),
                        Value::text(r.formula.id.clone()),
                        Value::int(i64::from(r.formula.version)),
                        Value::text(text),
                    ],
                )?;
            }
            Some(sha)
        }
        None => None,
    };
    let number = lot_number(&r.lot);
    let origin = r.origin.as_ref();
    let order_json = serde_json::to_string(&OrderSnapshot::of(&r.order))
        .map_err(|e| Error::Database(e.to_string()))?;
    let settings_json = serde_json::to_string(&SettingsSnapshot::of(b.settings))
        .map_err(|e| Error::Database(e.to_string()))?;
    let at = now();
    db.execute(
        "INSERT INTO batches (lot, lot_prefix, lot_seq, kind, compounding_date, formula_id, \
         formula_version, formula_sha256, rx, patient, prescriber, units, bud, bud_rule, status, \
         order_json, settings_json, record_json, recipe, recipe_entry, fingerprint, out_dir, \
         created_at, workstation, os_user) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)",
        &[
            Value::text(r.lot.clone()),
            Value::Text(number.as_ref().map(|n| n.0.clone())),
            Value::Int(number.as_ref().map(|n| n.1)),
            Value::text(b.kind),
            Value::text(r.date.to_string()),
            Value::text(r.formula.id.clone()),
            Value::int(i64::from(r.formula.version)),
            Value::Text(formula_sha),
            Value::opt(r.order.rx.as_deref()),
            Value::opt(r.order.patient.as_deref()),
            Value::opt(r.order.prescriber.as_deref()),
            Value::int(i64::from(r.calc.units_dispensed)),
            Value::text(r.bud.date.to_string()),
            Value::text(r.bud.rule.clone()),
            Value::text(PREPARED),
            Value::text(order_json),
            Value::text(settings_json),
            Value::text(b.record_json),
            Value::opt(origin.map(|o| o.recipe.as_str())),
            Value::Int(origin.and_then(|o| i64::try_from(o.entry).ok())),
            Value::opt(origin.map(|o| o.fingerprint.as_str())),
            Value::Text(b.out_dir.map(|d| {
                std::path::absolute(d)
                    .unwrap_or_else(|_| d.to_path_buf())
                    .display()
                    .to_string()
            })),
            Value::text(at),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
        ],
    )?;
    for (i, c) in r.order.components.iter().enumerate() {
        db.execute(
            "INSERT INTO components (lot, position, name, component_lot, expiry, manufacturer) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::text(r.lot.clone()),
                Value::int(i64::try_from(i).unwrap_or(i64::MAX)),
                Value::text(c.name.clone()),
                Value::text(c.lot.clone()),
                Value::Text(c.expiry.map(|d| d.to_string())),
                Value::opt(c.manufacturer.as_deref()),
            ],
        )?;
    }
    let mut files = Vec::new();
    for (p, bytes) in b.files {
        let sha = sha256_hex(bytes);
        let kind = file_kind(p);
        db.execute(
            "INSERT INTO files (lot, kind, path, sha256, bytes) VALUES ($1, $2, $3, $4, $5)",
            &[
                Value::text(r.lot.clone()),
                Value::text(kind.clone()),
                Value::text(p.display().to_string()),
                Value::text(sha.clone()),
                Value::int(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            ],
        )?;
        files.push(json!({"kind": kind, "path": p.display().to_string(), "sha256": sha}));
    }
    append_event(
        db,
        &r.lot,
        "prepared",
        Some(PREPARED),
        None,
        &json!({"kind": b.kind, "files": files}),
        actor,
    )
}

/// Appends an event, and sets the batch's status when the event changes it. The only code
/// that writes `batches.status`; call inside a write transaction.
pub fn append_event(
    db: &mut dyn Db,
    lot: &str,
    what: &str,
    status: Option<&str>,
    who: Option<&str>,
    details: &serde_json::Value,
    actor: &Actor,
) -> Result<()> {
    let seq = db
        .query(
            "SELECT max(seq) FROM events WHERE lot = $1",
            &[Value::text(lot)],
        )?
        .first()
        .and_then(|r| r.int(0))
        .unwrap_or(0)
        + 1;
    db.execute(
        "INSERT INTO events (lot, seq, at, what, status, who, workstation, os_user, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            Value::text(lot),
            Value::int(seq),
            Value::text(now()),
            Value::text(what),
            Value::opt(status),
            Value::opt(who),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
            Value::text(details.to_string()),
        ],
    )?;
    if let Some(s) = status {
        db.execute(
            "UPDATE batches SET status = $1 WHERE lot = $2",
            &[Value::text(s), Value::text(lot)],
        )?;
    }
    Ok(())
}

/// Marks a batch void (its files could not be written): its lot stays taken for good.
pub fn void(db: &mut dyn Db, lot: &str, reason: &str, actor: &Actor) -> Result<()> {
    db.write(|db| {
        append_event(
            db,
            lot,
            "void",
            Some(VOID),
            None,
            &json!({ "reason": reason }),
            actor,
        )
    })
}

/// The batch a recipe entry made earlier, by the entry's fingerprint: lot, date, status.
pub fn by_fingerprint(
    db: &mut dyn Db,
    fingerprint: &str,
) -> Result<Option<(String, Date, String)>> {
    let rows = db.query(
        "SELECT lot, compounding_date, status FROM batches WHERE fingerprint = $1 \
         AND status <> 'void' ORDER BY created_at DESC LIMIT 1",
        &[Value::text(fingerprint)],
    )?;
    Ok(rows
        .first()
        .and_then(|r| Some((r.text(0), r.text(1).parse().ok()?, r.text(2)))))
}

/// A batch's row, or a clear "no such lot" (exit 2).
pub fn batch_row(db: &mut dyn Db, lot: &str) -> Result<Row> {
    let rows = db.query(
        "SELECT lot, kind, compounding_date, formula_id, formula_version, formula_sha256, rx, \
         patient, prescriber, units, bud, bud_rule, status, order_json, settings_json, \
         record_json, recipe, recipe_entry, fingerprint, out_dir, created_at, workstation, \
         os_user FROM batches WHERE lot = $1",
        &[Value::text(lot)],
    )?;
    rows.into_iter().next().ok_or_else(|| {
        Error::arg(
            "LOT",
            format!(
                "no lot \"{lot}\" in the compounding log ({}); `troche log` lists the batches",
                db.describe()
            ),
        )
    })
}

/// Column positions of [`batch_row`].
pub mod col {
    pub const LOT: usize = 0;
    pub const KIND: usize = 1;
    pub const DATE: usize = 2;
    pub const FORMULA: usize = 3;
    pub const VERSION: usize = 4;
    pub const FORMULA_SHA: usize = 5;
    pub const RX: usize = 6;
    pub const PATIENT: usize = 7;
    pub const PRESCRIBER: usize = 8;
    pub const UNITS: usize = 9;
    pub const BUD: usize = 10;
    pub const BUD_RULE: usize = 11;
    pub const STATUS: usize = 12;
    pub const ORDER: usize = 13;
    pub const SETTINGS: usize = 14;
    pub const RECORD: usize = 15;
    pub const RECIPE: usize = 16;
    pub const ENTRY: usize = 17;
    pub const FINGERPRINT: usize = 18;
    pub const OUT_DIR: usize = 19;
    pub const CREATED: usize = 20;
    pub const WORKSTATION: usize = 21;
    pub const OS_USER: usize = 22;
}

/// A batch rebuilt from the log: its record made again from the stored formula text, order
/// and settings, whatever has happened to the formula file since.
pub struct Rebuilt {
    pub record: Record,
    pub settings: Settings,
    pub out_dir: Option<PathBuf>,
    /// Stored file hashes: kind, path, SHA-256.
    pub files: Vec<(String, String, String)>,
}

pub fn rebuild(db: &mut dyn Db, lot: &str) -> Result<Rebuilt> {
    let row = batch_row(db, lot)?;
    let Some(sha) = row.opt_text(col::FORMULA_SHA) else {
        return Err(Error::arg(
            "LOT",
            format!("lot {lot} was imported without its formula text; it cannot be printed again"),
        ));
    };
    let text = db
        .query(
            "SELECT text FROM formula_texts WHERE sha256 = $1",
            &[Value::text(sha.clone())],
        )?
        .first()
        .map(|r| r.text(0))
        .ok_or_else(|| Error::Database(format!("lot {lot}: its formula text is missing")))?;
    if sha256_hex(text.as_bytes()) != sha {
        return Err(Error::Database(format!(
            "lot {lot}: the stored formula text does not match its SHA-256"
        )));
    }
    let formula = crate::formula::parse(&text, &format!("log:{lot}"))?;
    let order: OrderSnapshot = serde_json::from_str(&row.text(col::ORDER))
        .map_err(|e| Error::Database(format!("lot {lot}: stored order: {e}")))?;
    let settings: SettingsSnapshot = serde_json::from_str(&row.text(col::SETTINGS))
        .map_err(|e| Error::Database(format!("lot {lot}: stored settings: {e}")))?;
    let settings = settings.settings()?;
    let date: Date = row
        .text(col::DATE)
        .parse()
        .map_err(|e| Error::Database(format!("lot {lot}: stored date: {e}")))?;
    let mut record = Record::new(formula, order.order()?, &settings, date, lot.to_string())?;
    if let Some(fp) = row.opt_text(col::FINGERPRINT) {
        record.origin = Some(Origin {
            recipe: row.text(col::RECIPE),
            entry: row
                .int(col::ENTRY)
                .and_then(|e| usize::try_from(e).ok())
                .unwrap_or(0),
            fingerprint: fp,
        });
    }
    let files = db
        .query(
            "SELECT kind, path, sha256 FROM files WHERE lot = $1 ORDER BY kind",
            &[Value::text(lot)],
        )?
        .iter()
        .map(|r| (r.text(0), r.text(1), r.text(2)))
        .collect();
    Ok(Rebuilt {
        record,
        settings,
        out_dir: row.opt_text(col::OUT_DIR).map(PathBuf::from),
        files,
    })
}

/// Refuses an action on a batch not in one of the `allowed` states (exit 2).
pub fn require_status(
    db: &mut dyn Db,
    lot: &str,
    allowed: &[&str],
    action: &str,
) -> Result<String> {
    let row = batch_row(db, lot)?;
    let status = row.text(col::STATUS);
    if !allowed.contains(&status.as_str()) {
        return Err(Error::arg(
            "LOT",
            format!(
                "lot {lot} is {status}; {action} needs a batch that is {}",
                allowed.join(" or ")
            ),
        ));
    }
    Ok(status)
}

/// Filters of `troche log` and `troche recall`.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub formula: Option<String>,
    pub patient: Option<String>,
    pub rx: Option<String>,
    pub status: Option<String>,
    pub limit: Option<u64>,
}

impl Filter {
    /// `WHERE` clauses (prefixed with AND) and their parameters, numbered from `first`.
    fn clauses(&self, table: &str, first: usize) -> (String, Vec<Value>) {
        use std::fmt::Write as _;
        let mut sql = String::new();
        let mut params = Vec::new();
        let mut add = |clause: &str, v: Value| {
            let n = first + params.len();
            let _ = write!(sql, " AND {table}.{clause} ${n}");
            params.push(v);
        };
        if let Some(d) = self.from {
            add("compounding_date >=", Value::text(d.to_string()));
        }
        if let Some(d) = self.to {
            add("compounding_date <=", Value::text(d.to_string()));
        }
        if let Some(f) = &self.formula {
            add("formula_id =", Value::text(f.clone()));
        }
        if let Some(p) = &self.patient {
            add("patient =", Value::text(p.clone()));
        }
        if let Some(r) = &self.rx {
            add("rx =", Value::text(r.clone()));
        }
        if let Some(s) = &self.status {
            add("status =", Value::text(s.clone()));
        }
        (sql, params)
    }
}

/// Columns of [`list`]'s rows.
pub const LIST_COLUMNS: [&str; 11] = [
    "lot",
    "date",
    "formula",
    "version",
    "rx",
    "patient",
    "prescriber",
    "units",
    "bud",
    "status",
    "kind",
];

/// Batches matching `f`, newest first.
pub fn list(db: &mut dyn Db, f: &Filter) -> Result<Vec<Row>> {
    let (clauses, mut params) = f.clauses("batches", 1);
    let limit = match f.limit {
        Some(n) => {
            params.push(Value::int(i64::try_from(n).unwrap_or(i64::MAX)));
            format!(" LIMIT ${}", params.len())
        }
        None => String::new(),
    };
    db.query(
        &format!(
            "SELECT lot, compounding_date, formula_id, formula_version, rx, patient, prescriber, \
             units, bud, status, kind FROM batches WHERE 1 = 1{clauses} \
             ORDER BY compounding_date DESC, lot DESC{limit}"
        ),
        &params,
    )
}

/// Columns of [`recall`]'s rows.
pub const RECALL_COLUMNS: [&str; 10] = [
    "lot",
    "date",
    "formula",
    "rx",
    "patient",
    "prescriber",
    "units",
    "status",
    "component",
    "component_lot",
];

/// Every batch that used component lot `component_lot`, oldest first.
pub fn recall(db: &mut dyn Db, component_lot: &str, f: &Filter) -> Result<Vec<Row>> {
    let (clauses, mut params) = f.clauses("b", 2);
    params.insert(0, Value::text(component_lot));
    db.query(
        &format!(
            "SELECT b.lot, b.compounding_date, b.formula_id, b.rx, b.patient, b.prescriber, \
             b.units, b.status, c.name, c.component_lot FROM components c \
             JOIN batches b ON b.lot = c.lot WHERE c.component_lot = $1{clauses} \
             ORDER BY b.compounding_date, b.lot"
        ),
        &params,
    )
}

/// A batch's events, oldest first: seq, at, what, status, who, workstation, os user, details.
pub fn events(db: &mut dyn Db, lot: &str) -> Result<Vec<Row>> {
    db.query(
        "SELECT seq, at, what, status, who, workstation, os_user, details FROM events \
         WHERE lot = $1 ORDER BY seq",
        &[Value::text(lot)],
    )
}

/// The details of the latest event of kind `what`, if any.
pub fn latest_event(db: &mut dyn Db, lot: &str, what: &str) -> Result<Option<serde_json::Value>> {
    let rows = db.query(
        "SELECT details FROM events WHERE lot = $1 AND what = $2 ORDER BY seq DESC LIMIT 1",
        &[Value::text(lot), Value::text(what)],
    )?;
    Ok(rows
        .first()
        .and_then(|r| serde_json::from_str(&r.text(0)).ok()))
}

/// Enters a JSON record of a batch made before the log existed. Returns `false` when its lot
/// is in the log already (nothing is changed then).
pub fn import_record(db: &mut dyn Db, path: &Path, text: &str, actor: &Actor) -> Result<bool> {
    let bad = |m: &str| Error::Input {
        file: path.display().to_string(),
        line: None,
        key: None,
        message: m.to_string(),
    };
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(&format!("not JSON: {e}")))?;
    let s = |k: &str| v[k].as_str().map(str::to_string);
    let lot = s("lot").ok_or_else(|| bad("no `lot`: not a troche record"))?;
    let date = s("compounding_date")
        .and_then(|d| d.parse::<Date>().ok())
        .ok_or_else(|| bad("no valid `compounding_date`: not a troche record"))?;
    let formula = v["calculation"]["formula"]
        .as_str()
        .ok_or_else(|| bad("no `calculation.formula`: not a troche record"))?
        .to_string();
    if exists(db, &lot)? {
        return Ok(false);
    }
    let number = lot_number(&lot);
    db.execute(
        "INSERT INTO batches (lot, lot_prefix, lot_seq, kind, compounding_date, formula_id, \
         formula_version, rx, patient, prescriber, units, bud, bud_rule, status, record_json, \
         recipe, recipe_entry, fingerprint, out_dir, created_at, workstation, os_user) VALUES \
         ($1, $2, $3, 'imported', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21)",
        &[
            Value::text(lot.clone()),
            Value::Text(number.as_ref().map(|n| n.0.clone())),
            Value::Int(number.as_ref().map(|n| n.1)),
            Value::text(date.to_string()),
            Value::text(formula),
            Value::Int(v["calculation"]["version"].as_i64()),
            Value::Text(s("rx")),
            Value::Text(s("patient")),
            Value::Text(s("prescriber")),
            Value::Int(v["calculation"]["units_dispensed"].as_i64()),
            Value::Text(s("beyond_use_date")),
            Value::Text(s("beyond_use_rule")),
            Value::text(PREPARED),
            Value::text(text),
            Value::Text(v["origin"]["recipe"].as_str().map(String::from)),
            Value::Int(v["origin"]["entry"].as_i64()),
            Value::Text(v["origin"]["fingerprint"].as_str().map(String::from)),
            Value::Text(path.parent().map(|p| p.display().to_string())),
            Value::text(now()),
            Value::text(actor.workstation.clone()),
            Value::text(actor.os_user.clone()),
        ],
    )?;
    if let Some(cs) = v["components"].as_array() {
        for (i, c) in cs.iter().enumerate() {
            db.execute(
                "INSERT INTO components (lot, position, name, component_lot, expiry, \
                 manufacturer) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Value::text(lot.clone()),
                    Value::int(i64::try_from(i).unwrap_or(i64::MAX)),
                    Value::text(c["name"].as_str().unwrap_or_default()),
                    Value::text(c["lot"].as_str().unwrap_or_default()),
                    Value::Text(c["expiry"].as_str().map(String::from)),
                    Value::Text(c["manufacturer"].as_str().map(String::from)),
                ],
            )?;
        }
    }
    db.execute(
        "INSERT INTO files (lot, kind, path, sha256, bytes) VALUES ($1, 'json', $2, $3, $4)",
        &[
            Value::text(lot.clone()),
            Value::text(path.display().to_string()),
            Value::text(sha256_hex(text.as_bytes())),
            Value::int(i64::try_from(text.len()).unwrap_or(i64::MAX)),
        ],
    )?;
    append_event(
        db,
        &lot,
        "imported",
        Some(PREPARED),
        None,
        &json!({"file": path.display().to_string()}),
        actor,
    )?;
    Ok(true)
}

/// Fills the log with `n` made-up batches (for measuring `log` and `recall`): 1,000 a
/// transaction, dates over three years, two component lots each from a pool of 5,000.
pub fn generate(db: &mut dyn Db, n: u64) -> Result<()> {
    const FORMULAS: [&str; 6] = [
        "ketamine-hcl-troche",
        "progesterone-troche",
        "bi-est-troche",
        "sildenafil-troche",
        "testosterone-troche",
        "hydrocortisone-suppository",
    ];
    let actor = Actor {
        workstation: "generator".into(),
        os_user: "generator".into(),
    };
    let start = jiff::civil::date(2024, 1, 1);
    let existing = db
        .query("SELECT count(*) FROM batches", &[])?
        .first()
        .and_then(|r| r.int(0))
        .unwrap_or(0);
    let mut i = 0u64;
    while i < n {
        let end = (i + 1000).min(n);
        db.write(|db| {
            for k in i..end {
                let g = i64::try_from(k).unwrap_or(0) + existing;
                let date = start
                    .checked_add(jiff::Span::new().days(g % 1095))
                    .map_err(|e| Error::calc(e.to_string()))?;
                let prefix = prefix_of(date);
                let seq = g / 1095 + 1;
                let lot = format!("G{prefix}-{seq:03}");
                let status = [PREPARED, RECORDED, RELEASED, RELEASED, RELEASED, REJECTED]
                    [usize::try_from(g % 6).unwrap_or(0)];
                db.execute(
                    "INSERT INTO batches (lot, kind, compounding_date, formula_id, \
                     formula_version, rx, patient, prescriber, units, bud, bud_rule, status, \
                     record_json, created_at, workstation, os_user) VALUES ($1, 'generated', \
                     $2, $3, 1, $4, $5, $6, 30, $7, 'USP <795>', $8, '{}', $9, $10, $11)",
                    &[
                        Value::text(lot.clone()),
                        Value::text(date.to_string()),
                        Value::text(FORMULAS[usize::try_from(g % 6).unwrap_or(0)]),
                        Value::text(format!("RX{g:07}")),
                        Value::text(format!("Patient {}", g % 20_000)),
                        Value::text(format!("Dr. {}", g % 300)),
                        Value::text(date.to_string()),
                        Value::text(status),
                        Value::text(now()),
                        Value::text(actor.workstation.clone()),
                        Value::text(actor.os_user.clone()),
                    ],
                )?;
                for (p, c) in [(0, g % 5000), (1, (g * 7 + 3) % 5000)] {
                    db.execute(
                        "INSERT INTO components (lot, position, name, component_lot, expiry, \
                         manufacturer) VALUES ($1, $2, $3, $4, '2030-01-01', 'Generated')",
                        &[
                            Value::text(lot.clone()),
                            Value::int(p),
                            Value::text(if p == 0 { "Active" } else { "Base" }),
                            Value::text(format!("CL-{c:05}")),
                        ],
                    )?;
                }
                db.execute(
                    "INSERT INTO events (lot, seq, at, what, status, who, workstation, os_user, \
                     details) VALUES ($1, 1, $2, 'prepared', $3, NULL, $4, $5, '{}')",
                    &[
                        Value::text(lot),
                        Value::text(now()),
                        Value::text(status),
                        Value::text(actor.workstation.clone()),
                        Value::text(actor.os_user.clone()),
                    ],
                )?;
            }
            Ok(())
        })?;
        i = end;
    }
    Ok(())
}
