//! Reading the log back: one batch with its component lots and files, a batch rebuilt from
//! what was stored, the log's list and a recall's, and the figures of `troche db check`.
//! Each row is read into a type by column name.

use std::path::PathBuf;

use jiff::civil::Date;

use crate::batch_record::{Origin, Record};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::store::{Db, FromRow, Row, Value};

use super::sha256_hex;
use super::snapshot::{OrderSnapshot, SettingsSnapshot};

/// A batch's row.
#[derive(Debug, Clone)]
pub struct Batch {
    pub lot: String,
    /// "batch", "worksheet", "label", "imported".
    pub kind: String,
    pub compounding_date: String,
    pub formula_id: String,
    pub formula_version: Option<i64>,
    /// The SHA-256 of the formula text it was calculated from (none when imported).
    pub formula_sha256: Option<String>,
    pub rx: Option<String>,
    pub patient: Option<String>,
    pub prescriber: Option<String>,
    pub units: Option<i64>,
    pub bud: Option<String>,
    pub bud_rule: Option<String>,
    pub status: String,
    /// The order and settings it was made with, as JSON ([`OrderSnapshot`],
    /// [`SettingsSnapshot`]).
    pub order_json: Option<String>,
    pub settings_json: Option<String>,
    /// `report::record_json`: every calculated value.
    pub record_json: String,
    pub recipe: Option<String>,
    pub recipe_entry: Option<i64>,
    pub fingerprint: Option<String>,
    pub out_dir: Option<String>,
    pub created_at: String,
    pub workstation: String,
    pub os_user: String,
    /// The head of the hash chain when its lot was assigned (`super::chain`).
    pub seal: Option<String>,
}

impl FromRow for Batch {
    fn from_row(mut r: Row) -> Result<Batch> {
        Ok(Batch {
            lot: r.text("lot")?,
            kind: r.text("kind")?,
            compounding_date: r.text("compounding_date")?,
            formula_id: r.text("formula_id")?,
            formula_version: r.opt_int("formula_version")?,
            formula_sha256: r.opt_text("formula_sha256")?,
            rx: r.opt_text("rx")?,
            patient: r.opt_text("patient")?,
            prescriber: r.opt_text("prescriber")?,
            units: r.opt_int("units")?,
            bud: r.opt_text("bud")?,
            bud_rule: r.opt_text("bud_rule")?,
            status: r.text("status")?,
            order_json: r.opt_text("order_json")?,
            settings_json: r.opt_text("settings_json")?,
            record_json: r.text("record_json")?,
            recipe: r.opt_text("recipe")?,
            recipe_entry: r.opt_int("recipe_entry")?,
            fingerprint: r.opt_text("fingerprint")?,
            out_dir: r.opt_text("out_dir")?,
            created_at: r.text("created_at")?,
            workstation: r.text("workstation")?,
            os_user: r.text("os_user")?,
            seal: r.opt_text("seal")?,
        })
    }
}

/// A component lot a batch used.
#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    pub component_lot: String,
    pub expiry: Option<String>,
    pub manufacturer: Option<String>,
}

impl FromRow for Component {
    fn from_row(mut r: Row) -> Result<Component> {
        Ok(Component {
            name: r.text("name")?,
            component_lot: r.text("component_lot")?,
            expiry: r.opt_text("expiry")?,
            manufacturer: r.opt_text("manufacturer")?,
        })
    }
}

/// A file printed for a batch, with the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub struct PrintedFile {
    /// "worksheet", "label", "json", or the file's name.
    pub kind: String,
    pub path: String,
    pub sha256: String,
    pub bytes: i64,
}

impl FromRow for PrintedFile {
    fn from_row(mut r: Row) -> Result<PrintedFile> {
        Ok(PrintedFile {
            kind: r.text("kind")?,
            path: r.text("path")?,
            sha256: r.text("sha256")?,
            bytes: r.int("bytes")?,
        })
    }
}

/// A batch's row, or a clear "no such lot" (exit 2).
pub fn batch(db: &mut dyn Db, lot: &str) -> Result<Batch> {
    let found = db.query_one(
        "SELECT lot, kind, compounding_date, formula_id, formula_version, formula_sha256, rx, \
         patient, prescriber, units, bud, bud_rule, status, order_json, settings_json, \
         record_json, recipe, recipe_entry, fingerprint, out_dir, created_at, workstation, \
         os_user, seal FROM batches WHERE lot = $1",
        &[Value::text(lot)],
    )?;
    found.ok_or_else(|| {
        Error::arg(
            "LOT",
            format!(
                "no lot \"{lot}\" in the compounding log ({}); `troche log` lists the batches",
                db.describe()
            ),
        )
    })
}

/// A batch's component lots, in the order's order.
pub fn components(db: &mut dyn Db, lot: &str) -> Result<Vec<Component>> {
    db.query_as(
        "SELECT name, component_lot, expiry, manufacturer FROM components WHERE lot = $1 \
         ORDER BY position",
        &[Value::text(lot)],
    )
}

/// A batch's printed files, by kind.
pub fn files(db: &mut dyn Db, lot: &str) -> Result<Vec<PrintedFile>> {
    db.query_as(
        "SELECT kind, path, sha256, bytes FROM files WHERE lot = $1 ORDER BY kind",
        &[Value::text(lot)],
    )
}

/// An earlier batch of the same prescription and formula still within its BUD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierFill {
    pub lot: String,
    pub bud: Date,
}

/// The latest batch in the log of the same Rx number and formula whose BUD is on or after
/// `date`: compounding it again now is a duplicate or an early refill. A voided batch was
/// never made and a rejected one never dispensed, so neither counts.
pub fn earlier_fill(
    db: &mut dyn Db,
    rx: &str,
    formula_id: &str,
    date: Date,
) -> Result<Option<EarlierFill>> {
    let rows = db.query(
        "SELECT lot, bud FROM batches WHERE rx = $1 AND formula_id = $2 AND bud >= $3 \
         AND status NOT IN ('void', 'rejected') ORDER BY bud DESC, created_at DESC LIMIT 1",
        &[
            Value::text(rx),
            Value::text(formula_id),
            Value::text(date.to_string()),
        ],
    )?;
    let Some(mut r) = rows.into_iter().next() else {
        return Ok(None);
    };
    let lot = r.text("lot")?;
    let bud = r.text("bud")?;
    let bud = bud
        .parse()
        .map_err(|e| Error::database(format!("lot {lot}: its stored BUD {bud:?}"), e))?;
    Ok(Some(EarlierFill { lot, bud }))
}

pub(super) fn stored_date(lot: &str, text: &str) -> Result<Date> {
    text.parse().map_err(|e| {
        Error::database(
            format!("lot {lot}: its stored compounding date {text:?}"),
            e,
        )
    })
}

/// A batch rebuilt from the log: its record made again from the stored formula text, order
/// and settings, whatever has happened to the formula file since.
pub struct Rebuilt {
    pub record: Record,
    pub settings: Settings,
    pub out_dir: Option<PathBuf>,
    pub files: Vec<PrintedFile>,
}

pub fn rebuild(db: &mut dyn Db, lot: &str) -> Result<Rebuilt> {
    let b = batch(db, lot)?;
    let Some(sha) = b.formula_sha256 else {
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
        .into_iter()
        .next()
        .map(|mut r| r.text("text"))
        .transpose()?
        .ok_or_else(|| Error::stored(format!("lot {lot}: its formula text is missing")))?;
    if sha256_hex(text.as_bytes()) != sha {
        return Err(Error::stored(format!(
            "lot {lot}: the stored formula text does not match its SHA-256"
        )));
    }
    let formula = crate::formula::parse(&text, &format!("log:{lot}"))?;
    let snapshot = |what: &str, json: Option<String>| {
        json.ok_or_else(|| Error::stored(format!("lot {lot}: no stored {what}")))
    };
    let order: OrderSnapshot = serde_json::from_str(&snapshot("order", b.order_json)?)
        .map_err(|e| Error::database(format!("lot {lot}: reading its stored order"), e))?;
    let settings: SettingsSnapshot = serde_json::from_str(&snapshot("settings", b.settings_json)?)
        .map_err(|e| Error::database(format!("lot {lot}: reading its stored settings"), e))?;
    let settings = settings.settings()?;
    let date = stored_date(lot, &b.compounding_date)?;
    let mut record = Record::new(formula, order.order()?, &settings, date, lot.to_string())?;
    // A practice lot's pages were stamped when printed: its lot says so.
    if super::lots::is_practice(lot) {
        record.stamps.push(crate::batch_record::Stamp::Practice);
    }
    // What the log said of the batch when it was entered (an Rx filled again within the BUD
    // of an earlier batch) is not recomputed from today's log: it is read back as printed.
    for w in stored_warnings(&b.record_json) {
        if !record.calc.warnings.contains(&w) {
            record.calc.warnings.push(w);
        }
    }
    // A batch `make` entered holds a claim too (`super::claim`), but came from no recipe.
    if let (Some(fingerprint), Some(recipe)) = (b.fingerprint, b.recipe) {
        record.origin = Some(Origin {
            recipe,
            entry: b
                .recipe_entry
                .and_then(|e| usize::try_from(e).ok())
                .unwrap_or(0),
            fingerprint,
        });
    }
    Ok(Rebuilt {
        record,
        settings,
        out_dir: b.out_dir.map(PathBuf::from),
        files: files(db, lot)?,
    })
}

/// The warnings of a stored record JSON (`calculation.warnings`); none where it has none.
fn stored_warnings(record_json: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Stored {
        calculation: Option<Calculation>,
    }
    #[derive(serde::Deserialize)]
    struct Calculation {
        #[serde(default)]
        warnings: Vec<String>,
    }
    serde_json::from_str::<Stored>(record_json)
        .ok()
        .and_then(|s| s.calculation)
        .map(|c| c.warnings)
        .unwrap_or_default()
}

/// Refuses an action on a batch not in one of the `allowed` states (exit 2).
pub fn require_status(
    db: &mut dyn Db,
    lot: &str,
    allowed: &[&str],
    action: &str,
) -> Result<String> {
    let status = batch(db, lot)?.status;
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
    pub prescriber: Option<String>,
    pub rx: Option<String>,
    pub status: Option<String>,
    pub limit: Option<u64>,
}

impl Filter {
    /// `WHERE` clauses (prefixed with AND) and their parameters, numbered from `first`.
    fn clauses(&self, table: &str, first: usize) -> (String, Vec<Value>) {
        let mut sql = Vec::new();
        let mut params = Vec::new();
        let mut add = |clause: &str, v: Value| {
            let n = first + params.len();
            // `lower(`: names and numbers as typed at the counter, "robert smith" finding
            // Robert Smith.
            sql.push(match clause.strip_prefix("lower(") {
                Some(column) => format!(" AND lower({table}.{column}) = lower(${n})"),
                None => format!(" AND {table}.{clause} ${n}"),
            });
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
            add("lower(patient", Value::text(p.clone()));
        }
        if let Some(p) = &self.prescriber {
            add("lower(prescriber", Value::text(p.clone()));
        }
        if let Some(r) = &self.rx {
            add("lower(rx", Value::text(r.clone()));
        }
        if let Some(s) = &self.status {
            add("status =", Value::text(s.clone()));
        }
        (sql.concat(), params)
    }
}

/// An optional number as `troche log` shows it: empty when NULL.
fn cell(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Columns of [`list`]'s rows, as [`Listed::cells`] gives them.
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

/// A batch as `troche log` lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub lot: String,
    pub date: String,
    pub formula: String,
    pub version: Option<i64>,
    pub rx: Option<String>,
    pub patient: Option<String>,
    pub prescriber: Option<String>,
    pub units: Option<i64>,
    pub bud: Option<String>,
    pub status: String,
    pub kind: String,
}

impl FromRow for Listed {
    fn from_row(mut r: Row) -> Result<Listed> {
        Ok(Listed {
            lot: r.text("lot")?,
            date: r.text("compounding_date")?,
            formula: r.text("formula_id")?,
            version: r.opt_int("formula_version")?,
            rx: r.opt_text("rx")?,
            patient: r.opt_text("patient")?,
            prescriber: r.opt_text("prescriber")?,
            units: r.opt_int("units")?,
            bud: r.opt_text("bud")?,
            status: r.text("status")?,
            kind: r.text("kind")?,
        })
    }
}

impl Listed {
    /// The row's values as text, in the order of [`LIST_COLUMNS`].
    pub fn cells(self) -> Vec<String> {
        vec![
            self.lot,
            self.date,
            self.formula,
            cell(self.version),
            self.rx.unwrap_or_default(),
            self.patient.unwrap_or_default(),
            self.prescriber.unwrap_or_default(),
            cell(self.units),
            self.bud.unwrap_or_default(),
            self.status,
            self.kind,
        ]
    }
}

/// Batches matching `f`, newest first.
pub fn list(db: &mut dyn Db, f: &Filter) -> Result<Vec<Listed>> {
    let (clauses, mut params) = f.clauses("batches", 1);
    let limit = match f.limit {
        Some(n) => {
            params.push(Value::int(i64::try_from(n).unwrap_or(i64::MAX)));
            format!(" LIMIT ${}", params.len())
        }
        None => String::new(),
    };
    db.query_as(
        &format!(
            "SELECT lot, compounding_date, formula_id, formula_version, rx, patient, prescriber, \
             units, bud, status, kind FROM batches WHERE 1 = 1{clauses} \
             ORDER BY compounding_date DESC, lot DESC{limit}"
        ),
        &params,
    )
}

/// Columns of [`recall`]'s rows, as [`Recalled::cells`] gives them.
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

/// A batch that used a recalled component lot.
#[derive(Debug, Clone)]
pub struct Recalled {
    pub lot: String,
    pub date: String,
    pub formula: String,
    pub rx: Option<String>,
    pub patient: Option<String>,
    pub prescriber: Option<String>,
    pub units: Option<i64>,
    pub status: String,
    pub component: String,
    pub component_lot: String,
}

impl FromRow for Recalled {
    fn from_row(mut r: Row) -> Result<Recalled> {
        Ok(Recalled {
            lot: r.text("lot")?,
            date: r.text("compounding_date")?,
            formula: r.text("formula_id")?,
            rx: r.opt_text("rx")?,
            patient: r.opt_text("patient")?,
            prescriber: r.opt_text("prescriber")?,
            units: r.opt_int("units")?,
            status: r.text("status")?,
            component: r.text("name")?,
            component_lot: r.text("component_lot")?,
        })
    }
}

impl Recalled {
    /// The row's values as text, in the order of [`RECALL_COLUMNS`].
    pub fn cells(self) -> Vec<String> {
        vec![
            self.lot,
            self.date,
            self.formula,
            self.rx.unwrap_or_default(),
            self.patient.unwrap_or_default(),
            self.prescriber.unwrap_or_default(),
            cell(self.units),
            self.status,
            self.component,
            self.component_lot,
        ]
    }
}

/// Every batch that used component lot `component_lot`, oldest first.
pub fn recall(db: &mut dyn Db, component_lot: &str, f: &Filter) -> Result<Vec<Recalled>> {
    let (clauses, mut params) = f.clauses("b", 2);
    params.insert(0, Value::text(component_lot));
    let mut found: Vec<Recalled> = db.query_as(
        &format!(
            "SELECT b.lot, b.compounding_date, b.formula_id, b.rx, b.patient, b.prescriber, \
             b.units, b.status, c.name, c.component_lot FROM components c \
             JOIN batches b ON b.lot = c.lot WHERE upper(c.component_lot) = upper($1){clauses} \
             ORDER BY b.compounding_date, b.lot"
        ),
        &params,
    )?;
    // Component lots entered at the bench (`record`) are in the bench records, the events
    // that hold them, not in `components` (whose rows the batch's first event covers): a
    // batch any record of which names the lot is found too. The text match only narrows;
    // each record's components are read and compared exactly.
    params[0] = Value::text(format!("%{}%", component_lot.to_uppercase()));
    let rows = db.query(
        &format!(
            "SELECT b.lot, b.compounding_date, b.formula_id, b.rx, b.patient, b.prescriber, \
             b.units, b.status, '' AS name, '' AS component_lot, e.details \
             FROM events e JOIN batches b ON b.lot = e.lot \
             WHERE e.what = 'recorded' AND upper(e.details) LIKE $1{clauses} \
             ORDER BY b.compounding_date, b.lot, e.seq"
        ),
        &params,
    )?;
    for mut r in rows {
        let details: serde_json::Value =
            serde_json::from_str(&r.text("details")?).unwrap_or_default();
        let named = details["components"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["entered_at"] == "record")
            .find(|c| {
                c["lot"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(component_lot))
            });
        let Some(c) = named else { continue };
        let mut batch = Recalled::from_row(r)?;
        c["ingredient"]
            .as_str()
            .unwrap_or_default()
            .clone_into(&mut batch.component);
        c["lot"]
            .as_str()
            .unwrap_or_default()
            .clone_into(&mut batch.component_lot);
        if !found
            .iter()
            .any(|f| f.lot == batch.lot && f.component == batch.component)
        {
            found.push(batch);
        }
    }
    // A stock trituration made with the lot carries it into every batch that weighs it.
    let mut via = Vec::new();
    for b in &found {
        if crate::stock::find(db, &b.lot)?.is_some_and(|t| t.is_trituration()) {
            via.push(b.lot.clone());
        }
    }
    for t in via {
        for b in recall(db, &t, f)? {
            if !found.iter().any(|x| x.lot == b.lot) {
                found.push(b);
            }
        }
    }
    found.sort_by(|a, b| (&a.date, &a.lot).cmp(&(&b.date, &b.lot)));
    Ok(found)
}

/// Every batch that used a component lot written `text`, and every stock lot received under
/// it: a bare lot number (`K-78`) finds the batches of each stock id under the number
/// (`K-78`, `K-78.2`, ...), an id (`K-78.2`) only that stock lot's. Returns the batches,
/// oldest first, and the lots looked for (the ids, or `text` when stock holds none).
pub fn recall_by_number(
    db: &mut dyn Db,
    text: &str,
    f: &Filter,
) -> Result<(Vec<Recalled>, Vec<String>)> {
    let text = text.trim();
    let under = crate::stock::identity::received_as(db, text)?;
    let mut ids: Vec<String> = if text.contains('.') {
        crate::stock::identity::one_of("COMPONENT_LOT", text, under)?
            .map_or_else(|| vec![text.to_string()], |l| vec![l.lot])
    } else {
        let mut ids: Vec<String> = under.into_iter().map(|l| l.lot).collect();
        // A lot written by hand under the number, never received into stock.
        if !ids.iter().any(|i| i.eq_ignore_ascii_case(text)) {
            ids.insert(0, text.to_string());
        }
        ids
    };
    ids.sort_by_key(|i| crate::stock::identity::place(i));
    let mut found: Vec<Recalled> = Vec::new();
    for id in &ids {
        for b in recall(db, id, f)? {
            if !found
                .iter()
                .any(|x| x.lot == b.lot && x.component_lot == b.component_lot)
            {
                found.push(b);
            }
        }
    }
    found.sort_by(|a, b| (&a.date, &a.lot).cmp(&(&b.date, &b.lot)));
    Ok((found, ids))
}

/// What `troche db check` reports of the log's records (beside the database's own check).
#[derive(Debug, Clone)]
pub struct Check {
    pub batches: i64,
    /// Lots whose status column is not their latest status event's.
    pub status_differs: Vec<String>,
}

pub fn check(db: &mut dyn Db) -> Result<Check> {
    let status_differs = db
        .query(
            "SELECT b.lot FROM batches b WHERE b.status <> (SELECT e.status FROM events e \
             WHERE e.lot = b.lot AND e.status IS NOT NULL ORDER BY e.seq DESC LIMIT 1) \
             ORDER BY b.lot",
            &[],
        )?
        .into_iter()
        .map(|mut r| r.text("lot"))
        .collect::<Result<_>>()?;
    let batches = db.query("SELECT count(*) AS n FROM batches", &[])?[0].int("n")?;
    Ok(Check {
        batches,
        status_differs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, enter};
    use crate::logbook::{PREPARED, RELEASED, void};

    #[test]
    fn an_earlier_fill_is_the_latest_live_batch_of_the_rx_and_formula_within_its_bud() {
        let mut log = Log::new();
        let (d1, d2) = (
            jiff::civil::date(2026, 11, 30),
            jiff::civil::date(2026, 12, 1),
        );
        let first = enter(log.db(), "261130-001", d1);
        enter(log.db(), "261201-001", d2);
        let bud = first.bud.date;
        let f = earlier_fill(log.db(), "RX-1", "ketamine-hcl-troche", d2)
            .unwrap()
            .unwrap();
        assert_eq!(f.lot, "261201-001");
        assert!(f.bud >= bud);
        assert_eq!(
            earlier_fill(log.db(), "RX-2", "ketamine-hcl-troche", d2).unwrap(),
            None
        );
        assert_eq!(
            earlier_fill(log.db(), "RX-1", "progesterone-troche", d2).unwrap(),
            None
        );
        // On its BUD it still counts; the day after, no longer.
        assert!(
            earlier_fill(log.db(), "RX-1", "ketamine-hcl-troche", f.bud)
                .unwrap()
                .is_some()
        );
        let after = f.bud.tomorrow().unwrap();
        assert_eq!(
            earlier_fill(log.db(), "RX-1", "ketamine-hcl-troche", after).unwrap(),
            None
        );
        // A voided batch was never made.
        let actor = crate::logbook::testing::actor();
        void(log.db(), "261201-001", "test", &actor).unwrap();
        void(log.db(), "261130-001", "test", &actor).unwrap();
        assert_eq!(
            earlier_fill(log.db(), "RX-1", "ketamine-hcl-troche", d2).unwrap(),
            None
        );
    }

    #[test]
    fn list_recall_and_check() {
        let mut log = Log::new();
        enter(log.db(), "261130-001", jiff::civil::date(2026, 11, 30));
        enter(log.db(), "261201-001", jiff::civil::date(2026, 12, 1));
        let all = list(log.db(), &Filter::default()).unwrap();
        assert_eq!(
            all.iter().map(|b| b.lot.as_str()).collect::<Vec<_>>(),
            ["261201-001", "261130-001"],
            "newest first"
        );
        let cells = all[0].clone().cells();
        assert_eq!(cells.len(), LIST_COLUMNS.len());
        assert_eq!(cells[7], "30");
        let one = list(
            log.db(),
            &Filter {
                to: Some(jiff::civil::date(2026, 11, 30)),
                status: Some(PREPARED.into()),
                limit: Some(5),
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        let r = recall(log.db(), "K-77", &Filter::default()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].lot, "261130-001", "oldest first");
        assert_eq!(r[0].clone().cells()[8], "Ketamine hydrochloride, USP");
        assert!(
            recall(log.db(), "K-78", &Filter::default())
                .unwrap()
                .is_empty()
        );

        void(
            log.db(),
            "261130-001",
            "disk full",
            &crate::logbook::testing::actor(),
        )
        .unwrap();
        let c = check(log.db()).unwrap();
        assert_eq!((c.batches, c.status_differs.len()), (2, 0));
        // A status changed behind the events' back is refused by the database.
        let e = log
            .db()
            .execute(
                "UPDATE batches SET status = $1 WHERE lot = '261201-001'",
                &[Value::text(RELEASED)],
            )
            .unwrap_err();
        assert!(e.to_string().contains("updating batches"), "{e}");
        assert!(check(log.db()).unwrap().status_differs.is_empty());
    }

    #[test]
    fn rebuild_makes_the_same_record_from_what_was_stored() {
        let mut log = Log::new();
        let first = enter(log.db(), "261130-001", jiff::civil::date(2026, 11, 30));
        let again = rebuild(log.db(), "261130-001").unwrap();
        assert_eq!(
            crate::calc_report::record_json(&again.record),
            crate::calc_report::record_json(&first)
        );
        assert_eq!(again.out_dir, Some(PathBuf::from("/out")));
        assert_eq!(again.files.len(), 1);
        let e = rebuild(log.db(), "261130-404").map(drop).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(require_status(log.db(), "261130-001", &[RELEASED], "reprinting").is_err());
        assert_eq!(
            require_status(log.db(), "261130-001", &[PREPARED], "recording").unwrap(),
            PREPARED
        );
    }
}
