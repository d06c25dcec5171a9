//! The log's hash chain: every event is a link whose SHA-256 covers the link before it, the
//! event's own fields, and (for a batch's first event, written in the transaction that
//! entered the batch) everything stored about the batch: its row, its component lots, its
//! printed files' hashes and the bytes kept of them. The formula text a batch names is
//! covered through its SHA-256, which is the text's key. Rewriting any of it means
//! rewriting every link after it, and the seal printed on each worksheet (the head of the
//! chain when its lot was assigned) no longer matches.
//!
//! The pharmacy's other histories, people's events and policy decisions, are links of the same
//! chain ([`link_history`]): a link's `lot` names the table and its `seq` is minus the row's
//! number, which no batch's event (numbered from 1) can share.
//!
//! The serialization hashed is JSON arrays of the stored values in a fixed order: text is
//! escaped one way only, so the same rows always give the same bytes.

use std::collections::HashMap;

use serde_json::{Value as J, json};

use crate::error::{Error, Result};
use crate::store::{Db, Row, Transaction, Value};

use super::sha256_hex;

/// The link before the first: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many hex digits of the head a seal shows.
pub const SEAL_DIGITS: usize = 16;

/// The last link of the chain: its number and SHA-256 (0 and [`GENESIS`] for an empty log).
pub fn head(db: &mut dyn Db) -> Result<(i64, String)> {
    let rows = db.query("SELECT n, sha256 FROM chain ORDER BY n DESC LIMIT 1", &[])?;
    match rows.into_iter().next() {
        Some(mut r) => Ok((r.int("n")?, r.text("sha256")?)),
        None => Ok((0, GENESIS.to_string())),
    }
}

/// The seal of the batches a write transaction enters: the head as the transaction found it.
pub fn seal(tx: &mut Transaction<'_>) -> Result<String> {
    Ok(seal_of(&head(tx)?.1))
}

/// The seal of a head: its first [`SEAL_DIGITS`] hex digits.
pub fn seal_of(head: &str) -> String {
    head.chars().take(SEAL_DIGITS).collect()
}

/// The columns the log keeps as integers; all others are text.
const INTEGER_COLUMNS: [&str; 7] = [
    "seq",
    "lot_seq",
    "formula_version",
    "units",
    "recipe_entry",
    "position",
    "bytes",
];

/// Columns `names` of a row, as JSON values in that order.
fn cols(r: &mut Row, names: &[&str]) -> Result<Vec<J>> {
    row_values(r, names, &INTEGER_COLUMNS)
}

/// Columns `names` of a row as JSON values in that order, the ones in `integers` as numbers
/// and the rest as text: what a link of a chain hashes (this one, and the stock chain's).
pub(crate) fn row_values(r: &mut Row, names: &[&str], integers: &[&str]) -> Result<Vec<J>> {
    names
        .iter()
        .map(|n| {
            Ok(if integers.contains(n) {
                r.opt_int(n)?.map_or(J::Null, |v| json!(v))
            } else {
                r.opt_text(n)?.map_or(J::Null, J::String)
            })
        })
        .collect()
}

const EVENT_COLUMNS: [&str; 10] = [
    "lot",
    "seq",
    "at",
    "what",
    "status",
    "who",
    "meaning",
    "workstation",
    "os_user",
    "details",
];

/// The stored columns of a batch the chain covers: all but `status`, which is its latest
/// status event's (the database refuses any other).
const BATCH_COLUMNS: [&str; 25] = [
    "lot",
    "lot_prefix",
    "lot_seq",
    "kind",
    "compounding_date",
    "formula_id",
    "formula_version",
    "formula_sha256",
    "rx",
    "patient",
    "prescriber",
    "units",
    "bud",
    "bud_rule",
    "order_json",
    "settings_json",
    "record_json",
    "recipe",
    "recipe_entry",
    "fingerprint",
    "out_dir",
    "created_at",
    "workstation",
    "os_user",
    "seal",
];
const COMPONENT_COLUMNS: [&str; 6] = [
    "lot",
    "position",
    "name",
    "component_lot",
    "expiry",
    "manufacturer",
];
const FILE_COLUMNS: [&str; 5] = ["lot", "kind", "path", "sha256", "bytes"];

/// The histories chained beside the batches' events, with their columns (all of them).
const HISTORIES: [(&str, &[&str]); 2] = [
    (
        "people_events",
        &[
            "seq",
            "at",
            "initials",
            "what",
            "by_initials",
            "workstation",
            "os_user",
            "details",
        ],
    ),
    (
        "policies",
        &[
            "seq",
            "at",
            "name",
            "value",
            "by_initials",
            "workstation",
            "os_user",
        ],
    ),
];

fn history_columns(table: &str) -> Result<&'static [&'static str]> {
    HISTORIES
        .iter()
        .find(|(t, _)| *t == table)
        .map(|(_, c)| *c)
        .ok_or_else(|| Error::stored(format!("{table} is not a history of the log")))
}

/// The SHA-256 of a link: the link before, the event, and what the event covers.
fn link_sha(prev: &str, n: i64, event: &[J], covered: &J) -> String {
    let text = json!(["troche-chain-1", prev, n, event, covered]).to_string();
    sha256_hex(text.as_bytes())
}

/// The files and kept documents a batch's first event covers: those printed when it was
/// entered. A document printed later (a filled-in record, kind "record-N"; the release
/// record, kind "release") is covered by the event that printed it (`recorded`; `released`
/// or `rejected`), whose details hold its SHA-256.
const FIRST_FILES: &str =
    "(SELECT * FROM files WHERE kind NOT LIKE 'record-%' AND kind <> 'release')";
const FIRST_DOCUMENTS: &str =
    "(SELECT * FROM documents WHERE kind NOT LIKE 'record-%' AND kind <> 'release')";
/// The kinds of [`later_files`], as a condition on `kind`.
const LATER_KINDS: &str = "(kind LIKE 'record-%' OR kind = 'release')";

/// What a batch's first event covers: its row, component lots, files and kept documents.
#[derive(Default)]
struct Covered {
    batch: Option<Vec<J>>,
    components: Vec<J>,
    files: Vec<J>,
    documents: Vec<J>,
}

impl Covered {
    fn json(self) -> J {
        json!([self.batch, self.components, self.files, self.documents])
    }
}

/// Reads what the first events of the lots named by `clause` cover, by lot. `clause` selects
/// from `chain c` joined to each table as `t` on the lot.
fn covered(db: &mut dyn Db, clause: &str, params: &[Value]) -> Result<HashMap<String, Covered>> {
    let mut by_lot: HashMap<String, Covered> = HashMap::new();
    let select = |table: &str, columns: &[&str], order: &str| {
        let list: Vec<String> = columns.iter().map(|c| format!("t.{c}")).collect();
        format!(
            "SELECT {} FROM chain c JOIN {table} t ON t.lot = c.lot AND c.seq = 1 \
             WHERE {clause} ORDER BY c.n{order}",
            list.join(", ")
        )
    };
    for mut r in db.query(&select("batches", &BATCH_COLUMNS, ""), params)? {
        let v = cols(&mut r, &BATCH_COLUMNS)?;
        let lot = v[0].as_str().unwrap_or_default().to_string();
        by_lot.entry(lot).or_default().batch = Some(v);
    }
    for mut r in db.query(
        &select("components", &COMPONENT_COLUMNS, ", t.position"),
        params,
    )? {
        let v = cols(&mut r, &COMPONENT_COLUMNS)?;
        let lot = v[0].as_str().unwrap_or_default().to_string();
        by_lot.entry(lot).or_default().components.push(J::Array(v));
    }
    for mut r in db.query(&select(FIRST_FILES, &FILE_COLUMNS, ", t.kind"), params)? {
        let v = cols(&mut r, &FILE_COLUMNS)?;
        let lot = v[0].as_str().unwrap_or_default().to_string();
        by_lot.entry(lot).or_default().files.push(J::Array(v));
    }
    // A kept document's bytes are covered through their SHA-256, which its `files` row
    // holds ([`verify_documents`] compares them); the chain covers which were kept.
    for mut r in db.query(
        &select(FIRST_DOCUMENTS, &["lot", "kind"], ", t.kind"),
        params,
    )? {
        let lot = r.text("lot")?;
        let kind = r.text("kind")?;
        by_lot
            .entry(lot)
            .or_default()
            .documents
            .push(J::String(kind));
    }
    Ok(by_lot)
}

/// Appends the link of event (`lot`, `seq`), just inserted, inside the event's transaction.
pub(super) fn link(tx: &mut Transaction<'_>, lot: &str, seq: i64) -> Result<()> {
    let (last, prev) = head(tx)?;
    let rows = tx.query(
        &format!(
            "SELECT {} FROM events WHERE lot = $1 AND seq = $2",
            EVENT_COLUMNS.join(", ")
        ),
        &[Value::text(lot), Value::int(seq)],
    )?;
    let mut r = rows
        .into_iter()
        .next()
        .ok_or_else(|| Error::stored(format!("lot {lot}: event {seq} to chain is missing")))?;
    let event = cols(&mut r, &EVENT_COLUMNS)?;
    let n = last + 1;
    let covered_json = if seq == 1 {
        fresh_covered(tx, lot)?.json()
    } else {
        J::Null
    };
    let sha = link_sha(&prev, n, &event, &covered_json);
    tx.execute(
        "INSERT INTO chain (n, lot, seq, prev_sha256, sha256) VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::int(n),
            Value::text(lot),
            Value::int(seq),
            Value::text(prev),
            Value::text(sha),
        ],
    )?;
    Ok(())
}

/// Appends the link of row `seq` of `table` (`people_events`, `policies`), just inserted,
/// inside its transaction.
pub(super) fn link_history(tx: &mut Transaction<'_>, table: &str, seq: i64) -> Result<()> {
    let columns = history_columns(table)?;
    let (last, prev) = head(tx)?;
    let rows = tx.query(
        &format!("SELECT {} FROM {table} WHERE seq = $1", columns.join(", ")),
        &[Value::int(seq)],
    )?;
    let mut r = rows
        .into_iter()
        .next()
        .ok_or_else(|| Error::stored(format!("row {seq} of {table} to chain is missing")))?;
    let row = cols(&mut r, columns)?;
    let n = last + 1;
    let sha = link_sha(&prev, n, &row, &J::String(table.to_string()));
    tx.execute(
        "INSERT INTO chain (n, lot, seq, prev_sha256, sha256) VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::int(n),
            Value::text(table),
            Value::int(-seq),
            Value::text(prev),
            Value::text(sha),
        ],
    )?;
    Ok(())
}

/// Chains the rows of people's events and policy decisions written before they were chained,
/// in the order they were written: run by the migration that chains them.
pub fn link_histories(tx: &mut Transaction<'_>) -> Result<()> {
    let mut todo = Vec::new();
    for (table, _) in HISTORIES {
        let rows = tx.query(
            &format!(
                "SELECT t.at, t.seq FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM chain c \
                 WHERE c.lot = '{table}' AND c.seq = -t.seq)"
            ),
            &[],
        )?;
        for mut r in rows {
            todo.push((r.text("at")?, table, r.int("seq")?));
        }
    }
    todo.sort();
    for (_, table, seq) in todo {
        link_history(tx, table, seq)?;
    }
    Ok(())
}

/// The rows of the histories the links named by `clause` chain, by (table, link seq).
fn histories(
    db: &mut dyn Db,
    clause: &str,
    params: &[Value],
) -> Result<HashMap<(String, i64), Vec<J>>> {
    let mut rows_by_link = HashMap::new();
    for (table, columns) in HISTORIES {
        let list: Vec<String> = columns.iter().map(|c| format!("t.{c}")).collect();
        let rows = db.query(
            &format!(
                "SELECT {} FROM chain c JOIN {table} t ON c.lot = '{table}' AND t.seq = -c.seq \
                 WHERE {clause}",
                list.join(", ")
            ),
            params,
        )?;
        for mut r in rows {
            let row = cols(&mut r, columns)?;
            let seq = row[0].as_i64().unwrap_or_default();
            rows_by_link.insert((table.to_string(), -seq), row);
        }
    }
    Ok(rows_by_link)
}

/// What a batch's first event covers, read before its link exists.
fn fresh_covered(db: &mut dyn Db, lot: &str) -> Result<Covered> {
    let mut c = Covered::default();
    let q = |table: &str, columns: &[&str], order: &str| {
        format!(
            "SELECT {} FROM {table} WHERE lot = $1{order}",
            columns.join(", ")
        )
    };
    let p = [Value::text(lot)];
    if let Some(mut r) = db
        .query(&q("batches", &BATCH_COLUMNS, ""), &p)?
        .into_iter()
        .next()
    {
        c.batch = Some(cols(&mut r, &BATCH_COLUMNS)?);
    }
    for mut r in db.query(
        &q("components", &COMPONENT_COLUMNS, " ORDER BY position"),
        &p,
    )? {
        c.components
            .push(J::Array(cols(&mut r, &COMPONENT_COLUMNS)?));
    }
    for mut r in db.query(&q("files", &FILE_COLUMNS, " ORDER BY kind"), &p)? {
        c.files.push(J::Array(cols(&mut r, &FILE_COLUMNS)?));
    }
    for mut r in db.query(&q("documents", &["kind"], " ORDER BY kind"), &p)? {
        c.documents.push(J::String(r.text("kind")?));
    }
    Ok(c)
}

/// Chains the events written before the log had a chain, in the order they were written:
/// run by the migration that adds the chain (and by the generator of made-up logs, which
/// writes its events directly).
pub fn link_unchained(tx: &mut Transaction<'_>) -> Result<()> {
    let rows = tx.query(
        "SELECT e.lot, e.seq FROM events e WHERE NOT EXISTS (SELECT 1 FROM chain c \
         WHERE c.lot = e.lot AND c.seq = e.seq) ORDER BY e.at, e.lot, e.seq",
        &[],
    )?;
    let mut todo = Vec::with_capacity(rows.len());
    for mut r in rows {
        todo.push((r.text("lot")?, r.int("seq")?));
    }
    for (lot, seq) in todo {
        link(tx, &lot, seq)?;
    }
    Ok(())
}

/// The first link that does not hold, in words: which link, which lot and event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub n: i64,
    pub lot: String,
    pub seq: i64,
    pub why: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.seq < 0 {
            // A link of a history: its table and row.
            return write!(
                f,
                "link {} ({} row {}): {}",
                self.n, self.lot, -self.seq, self.why
            );
        }
        write!(
            f,
            "link {} (lot {}, event {}): {}",
            self.n, self.lot, self.seq, self.why
        )
    }
}

/// What verifying the chain found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub links: i64,
    pub head: String,
    /// The first link that does not hold, if any.
    pub broken: Option<Broken>,
}

/// How many links are verified per round of queries.
const PAGE: i64 = 2000;

/// Verifies the links numbered `from..=to` (all, or one lot's with `lot`), each against the
/// link before it. Returns the first that does not hold.
fn verify_links(
    db: &mut dyn Db,
    from: i64,
    to: i64,
    lot: Option<&str>,
    prev: &mut Option<(i64, String)>,
) -> Result<(i64, Option<Broken>)> {
    let (clause, mut params) = match lot {
        Some(l) => ("c.lot = $1 AND c.seq > 0".to_string(), vec![Value::text(l)]),
        None => (
            "c.n BETWEEN $1 AND $2".to_string(),
            vec![Value::int(from), Value::int(to)],
        ),
    };
    let mut covered = covered(db, &clause, &params)?;
    let mut history = if lot.is_none() {
        histories(db, &clause, &params)?
    } else {
        HashMap::new()
    };
    let event_list: Vec<String> = EVENT_COLUMNS.iter().map(|c| format!("e.{c}")).collect();
    let rows = db.query(
        &format!(
            "SELECT c.n, c.lot AS chain_lot, c.seq AS chain_seq, c.prev_sha256, c.sha256, {} \
             FROM chain c LEFT JOIN events e ON e.lot = c.lot AND e.seq = c.seq \
             WHERE {clause} ORDER BY c.n",
            event_list.join(", ")
        ),
        &params,
    )?;
    params.clear();
    let mut count = 0;
    for mut r in rows {
        count += 1;
        let n = r.int("n")?;
        let chain_lot = r.text("chain_lot")?;
        let chain_seq = r.int("chain_seq")?;
        let stored_prev = r.text("prev_sha256")?;
        let stored = r.text("sha256")?;
        let broken = |why: String| Broken {
            n,
            lot: chain_lot.clone(),
            seq: chain_seq,
            why,
        };
        let mut event = cols(&mut r, &EVENT_COLUMNS)?;
        if chain_seq < 0 {
            match history.remove(&(chain_lot.clone(), chain_seq)) {
                Some(row) => event = row,
                None => {
                    return Ok((
                        count,
                        Some(broken(format!("its row of {chain_lot} is missing"))),
                    ));
                }
            }
        } else if event[0].is_null() {
            return Ok((count, Some(broken("its event is missing".into()))));
        }
        // The link before: the previous row when walking the whole chain, else read.
        let expected_prev = match prev.take() {
            Some((p, sha)) if p + 1 == n => sha,
            _ if n == 1 => GENESIS.to_string(),
            _ => {
                let rows = db.query(
                    "SELECT sha256 FROM chain WHERE n = $1",
                    &[Value::int(n - 1)],
                )?;
                match rows.into_iter().next() {
                    Some(mut r) => r.text("sha256")?,
                    None => {
                        return Ok((count, Some(broken(format!("link {} is missing", n - 1)))));
                    }
                }
            }
        };
        if stored_prev != expected_prev {
            return Ok((
                count,
                Some(broken("it does not follow the link before it".into())),
            ));
        }
        let covered_json = if chain_seq == 1 {
            covered.remove(&chain_lot).unwrap_or_default().json()
        } else if chain_seq < 0 {
            J::String(chain_lot.clone())
        } else {
            J::Null
        };
        if link_sha(&stored_prev, n, &event, &covered_json) != stored {
            let what = if chain_seq == 1 {
                "the event or the batch's stored record differs from what was chained"
            } else if chain_seq < 0 {
                "the row differs from what was chained"
            } else {
                "the event differs from what was chained"
            };
            return Ok((count, Some(broken(what.into()))));
        }
        *prev = Some((n, stored));
    }
    Ok((count, None))
}

/// Verifies the whole chain, link by link, and that every event and batch is in it.
pub fn verify(db: &mut dyn Db) -> Result<Verified> {
    let (last, head_sha) = head(db)?;
    let mut prev = None;
    let mut from = 1;
    let mut links = 0;
    while from <= last {
        let to = from.saturating_add(PAGE - 1).min(last);
        let (count, broken) = verify_links(db, from, to, None, &mut prev)?;
        links += count;
        if let Some(b) = broken {
            return Ok(Verified {
                links,
                head: head_sha,
                broken: Some(b),
            });
        }
        if count != to - from + 1 {
            let missing = missing_link(db, from, to)?;
            return Ok(Verified {
                links,
                head: head_sha,
                broken: Some(Broken {
                    n: missing,
                    lot: String::new(),
                    seq: 0,
                    why: "the link is missing".into(),
                }),
            });
        }
        from = to + 1;
    }
    let mut broken = None;
    // Every event is chained, and every batch has its first event.
    let unchained = db.query(
        "SELECT e.lot, e.seq FROM events e WHERE NOT EXISTS (SELECT 1 FROM chain c \
         WHERE c.lot = e.lot AND c.seq = e.seq) ORDER BY e.lot, e.seq LIMIT 1",
        &[],
    )?;
    if let Some(mut r) = unchained.into_iter().next() {
        broken = Some(Broken {
            n: last + 1,
            lot: r.text("lot")?,
            seq: r.int("seq")?,
            why: "an event outside the chain".into(),
        });
    }
    let orphans = db.query(
        "SELECT b.lot FROM batches b WHERE NOT EXISTS (SELECT 1 FROM chain c \
         WHERE c.lot = b.lot AND c.seq = 1) ORDER BY b.lot LIMIT 1",
        &[],
    )?;
    if let (None, Some(mut r)) = (&broken, orphans.into_iter().next()) {
        broken = Some(Broken {
            n: last + 1,
            lot: r.text("lot")?,
            seq: 1,
            why: "a batch outside the chain".into(),
        });
    }
    if broken.is_none() {
        broken = unlinked_rows(db, last)?;
    }
    if broken.is_none() {
        broken = later_files(db, None, last)?;
    }
    if broken.is_none() {
        broken = unchained_history(db, last)?;
    }
    Ok(Verified {
        links,
        head: head_sha,
        broken,
    })
}

/// Rows of components, files and documents whose lot has no batch (their content is chained
/// with the batch's, so one without a batch was never chained).
fn unlinked_rows(db: &mut dyn Db, last: i64) -> Result<Option<Broken>> {
    for table in ["components", "files", "documents"] {
        let rows = db.query(
            &format!(
                "SELECT t.lot FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM chain c \
                 WHERE c.lot = t.lot AND c.seq = 1) LIMIT 1"
            ),
            &[],
        )?;
        if let Some(mut r) = rows.into_iter().next() {
            return Ok(Some(Broken {
                n: last + 1,
                lot: r.text("lot")?,
                seq: 0,
                why: format!("a row of {table} outside the chain"),
            }));
        }
    }
    Ok(None)
}

/// The files printed after a batch was entered (kinds "record-N" and "release") against the
/// events that printed them: each `files` row (path, SHA-256, size) is what its chained
/// event's `printed` says, so a row changed outside troche is found although the batch's
/// first event does not cover it. Of one lot, or of the whole log.
fn later_files(db: &mut dyn Db, lot: Option<&str>, last: i64) -> Result<Option<Broken>> {
    let rows = match lot {
        Some(l) => db.query(
            &format!(
                "SELECT lot, kind, path, sha256, bytes FROM files WHERE {LATER_KINDS} \
                 AND lot = $1 ORDER BY lot, kind"
            ),
            &[Value::text(l)],
        )?,
        None => db.query(
            &format!(
                "SELECT lot, kind, path, sha256, bytes FROM files WHERE {LATER_KINDS} \
                 ORDER BY lot, kind"
            ),
            &[],
        )?,
    };
    for mut r in rows {
        let (lot, kind) = (r.text("lot")?, r.text("kind")?);
        let (path, sha, bytes) = (r.text("path")?, r.text("sha256")?, r.int("bytes")?);
        let mut printed = None;
        for e in db.query(
            "SELECT details FROM events WHERE lot = $1 AND what IN ('recorded', 'released', \
             'rejected') ORDER BY seq",
            &[Value::text(lot.clone())],
        )? {
            let mut e = e;
            let d: J = serde_json::from_str(&e.text("details")?).unwrap_or(J::Null);
            if d["printed"]["kind"] == kind.as_str() {
                printed = Some(d["printed"].clone());
            }
        }
        let same = printed.is_some_and(|p| {
            p["path"] == path.as_str() && p["sha256"] == sha.as_str() && p["bytes"] == bytes
        });
        if !same {
            return Ok(Some(Broken {
                n: last + 1,
                lot,
                seq: 0,
                why: format!("the {kind} file row differs from the event that printed it"),
            }));
        }
    }
    Ok(None)
}

/// A row of people's events or policy decisions outside the chain.
fn unchained_history(db: &mut dyn Db, last: i64) -> Result<Option<Broken>> {
    for (table, _) in HISTORIES {
        let rows = db.query(
            &format!(
                "SELECT t.seq FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM chain c \
                 WHERE c.lot = '{table}' AND c.seq = -t.seq) ORDER BY t.seq LIMIT 1"
            ),
            &[],
        )?;
        if let Some(mut r) = rows.into_iter().next() {
            return Ok(Some(Broken {
                n: last + 1,
                lot: table.to_string(),
                seq: -r.int("seq")?,
                why: format!("a row of {table} outside the chain"),
            }));
        }
    }
    Ok(None)
}

fn missing_link(db: &mut dyn Db, from: i64, to: i64) -> Result<i64> {
    let rows = db.query(
        "SELECT n FROM chain WHERE n BETWEEN $1 AND $2 ORDER BY n",
        &[Value::int(from), Value::int(to)],
    )?;
    let mut want = from;
    for mut r in rows {
        if r.int("n")? != want {
            return Ok(want);
        }
        want += 1;
    }
    Ok(want)
}

/// Verifies one lot's links, each against the link before it: what `lot` and `reprint` do
/// before they show anything. A broken link is an error naming it (exit 1).
pub fn verify_lot(db: &mut dyn Db, lot: &str) -> Result<()> {
    let mut prev = None;
    let (count, broken) = verify_links(db, 0, 0, Some(lot), &mut prev)?;
    let events = db.query(
        "SELECT count(*) AS n FROM events WHERE lot = $1",
        &[Value::text(lot)],
    )?;
    let events = events
        .into_iter()
        .next()
        .map_or(Ok(0), |mut r| r.int("n"))?;
    let broken = match broken {
        None => later_files(db, Some(lot), 0)?,
        b => b,
    };
    let broken = broken.or_else(|| {
        (count != events || count == 0).then(|| Broken {
            n: 0,
            lot: lot.to_string(),
            seq: 0,
            why: format!("{events} events, of which {count} are chained"),
        })
    });
    match broken {
        Some(b) => Err(Error::stored(format!(
            "the compounding log's hash chain is broken at {b}; nothing was printed. \
             `troche db check` verifies the whole log"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing::{Log, actor, enter};

    fn date() -> jiff::civil::Date {
        jiff::civil::date(2026, 11, 30)
    }

    #[test]
    fn every_event_is_a_link_of_one_chain_and_verifies() {
        let mut log = Log::new();
        assert_eq!(head(log.db()).unwrap(), (0, GENESIS.to_string()));
        enter(log.db(), "261130-001", date());
        let (n, first) = head(log.db()).unwrap();
        assert_eq!(n, 1);
        enter(log.db(), "261130-002", date());
        crate::logbook::void(log.db(), "261130-001", "disk full", &actor()).unwrap();
        let v = verify(log.db()).unwrap();
        assert_eq!((v.links, v.broken), (3, None));
        let rows = log
            .db()
            .query("SELECT prev_sha256 FROM chain WHERE n = 2", &[])
            .unwrap();
        assert_eq!(rows[0].clone().text("prev_sha256").unwrap(), first);
        verify_lot(log.db(), "261130-001").unwrap();
        assert_eq!(seal_of(&v.head).len(), SEAL_DIGITS);
    }

    #[test]
    fn the_record_cannot_be_changed_or_deleted() {
        let mut log = Log::new();
        enter(log.db(), "261130-001", date());
        for sql in [
            "UPDATE batches SET patient = 'X'",
            "UPDATE batches SET record_json = '{}'",
            "DELETE FROM batches",
            "UPDATE components SET component_lot = 'X'",
            "DELETE FROM components",
            "UPDATE files SET sha256 = 'X'",
            "DELETE FROM files",
            "UPDATE documents SET content = 'X'",
            "DELETE FROM documents",
            "UPDATE formula_texts SET text = 'X'",
            "DELETE FROM formula_texts",
            "UPDATE events SET details = '{}'",
            "DELETE FROM events",
            "UPDATE chain SET sha256 = 'X'",
            "DELETE FROM chain",
            "UPDATE batches SET status = 'released'",
        ] {
            assert!(log.db().execute(sql, &[]).is_err(), "{sql} was allowed");
        }
        assert_eq!(verify(log.db()).unwrap().broken, None);
    }

    /// A log edited with a database tool (triggers dropped): every kind of edit is found,
    /// naming the link.
    #[test]
    fn an_edit_behind_the_triggers_back_breaks_the_chain() {
        for (table, sql) in [
            ("batches", "UPDATE batches SET patient = 'Other Patient'"),
            ("batches", "UPDATE batches SET order_json = '{}'"),
            ("batches", "UPDATE batches SET seal = 'x'"),
            ("components", "UPDATE components SET component_lot = 'K-78'"),
            ("components", "DELETE FROM components"),
            ("files", "UPDATE files SET sha256 = 'ab'"),
            ("files", "DELETE FROM files"),
            ("events", "UPDATE events SET details = '{}'"),
            ("events", "DELETE FROM events WHERE seq = 2"),
            ("chain", "DELETE FROM chain WHERE n = 2"),
            ("chain", "UPDATE chain SET sha256 = 'ab' WHERE n = 3"),
        ] {
            let mut log = Log::new();
            enter(log.db(), "261130-001", date());
            crate::logbook::void(log.db(), "261130-001", "disk full", &actor()).unwrap();
            enter(log.db(), "261130-002", date());
            let triggers = log
                .db()
                .query(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1",
                    &[Value::text(table)],
                )
                .unwrap();
            for mut t in triggers {
                let name = t.text("name").unwrap();
                log.db().batch(&format!("DROP TRIGGER {name}")).unwrap();
            }
            log.db().execute(sql, &[]).unwrap();
            let v = verify(log.db()).unwrap();
            assert!(v.broken.is_some(), "{sql} was not found");
            if table != "chain" {
                assert!(
                    verify_lot(log.db(), "261130-001").is_err()
                        || verify_lot(log.db(), "261130-002").is_err(),
                    "{sql}"
                );
            }
        }
    }

    #[test]
    fn a_changed_formula_text_or_kept_document_is_found() {
        let mut log = Log::new();
        enter(log.db(), "261130-001", date());
        assert_eq!(
            crate::logbook::audit::stored_hashes(log.db()).unwrap(),
            None
        );
        assert_eq!(
            crate::logbook::document(log.db(), "261130-001", "worksheet")
                .unwrap()
                .unwrap(),
            b"%PDF"
        );
        log.db()
            .batch("DROP TRIGGER documents_no_update; DROP TRIGGER formula_texts_no_update")
            .unwrap();
        log.db()
            .execute("UPDATE documents SET content = 'JVBERi0='", &[])
            .unwrap();
        let m = crate::logbook::audit::stored_hashes(log.db())
            .unwrap()
            .unwrap();
        assert!(m.contains("worksheet kept in the log"), "{m}");
        assert!(crate::logbook::document(log.db(), "261130-001", "worksheet").is_err());
        log.db()
            .execute("UPDATE formula_texts SET text = text || ' '", &[])
            .unwrap();
        let m = crate::logbook::audit::stored_hashes(log.db())
            .unwrap()
            .unwrap();
        assert!(m.contains("formula text"), "{m}");
    }

    /// People's events and policy decisions are links of the chain: an edit behind the
    /// triggers' back, a deleted row or one slipped in unchained is found, naming the table.
    #[test]
    fn peoples_events_and_policies_are_chained() {
        let tampered = |sql: &str| {
            let mut log = Log::new();
            let rp = log.pharmacist();
            enter(log.db(), "261130-001", date());
            let p = crate::logbook::policy::Policy::parse("same-person-release").unwrap();
            log.db()
                .write(|tx| crate::logbook::policy::set(tx, p, "on", &rp, &actor()))
                .unwrap();
            let v = verify(log.db()).unwrap();
            assert_eq!((v.links, v.broken), (3, None));
            let order = log
                .db()
                .query("SELECT lot, seq FROM chain ORDER BY n", &[])
                .unwrap()
                .into_iter()
                .map(|mut r| format!("{}/{}", r.text("lot").unwrap(), r.int("seq").unwrap()))
                .collect::<Vec<_>>();
            assert_eq!(order, ["people_events/-1", "261130-001/1", "policies/-1"]);
            for t in [
                "people_events_no_update",
                "people_events_no_delete",
                "policies_no_update",
                "policies_no_delete",
            ] {
                log.db().batch(&format!("DROP TRIGGER {t}")).unwrap();
            }
            log.db().batch(sql).unwrap();
            verify(log.db()).unwrap().broken
        };
        for (sql, says) in [
            (
                "UPDATE people_events SET details = '{}'",
                "link 1 (people_events row 1): the row differs",
            ),
            (
                "UPDATE people_events SET by_initials = 'PH'",
                "link 1 (people_events row 1)",
            ),
            (
                "UPDATE policies SET value = 'off'",
                "link 3 (policies row 1): the row differs",
            ),
            (
                "DELETE FROM policies",
                "link 3 (policies row 1): its row of policies is missing",
            ),
            (
                "INSERT INTO policies (seq, at, name, value, by_initials, workstation, os_user) \
                 VALUES (2, 't', 'same-person-release', 'off', 'RP', 'w', 'u')",
                "link 4 (policies row 2): a row of policies outside the chain",
            ),
        ] {
            let broken = tampered(sql).unwrap_or_else(|| panic!("{sql} was not found"));
            assert!(broken.to_string().starts_with(says), "{sql}: {broken}");
        }
    }

    /// A log written before the chain: its events are chained, in the order they were
    /// written, by the migration, and new events follow them.
    #[test]
    fn a_log_from_before_the_chain_is_chained_by_its_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        let mut raw = crate::store::sqlite::Sqlite::open(&path).unwrap();
        crate::store::migrate_to(&mut raw, 1).unwrap();
        raw.batch(
            "INSERT INTO batches (lot, kind, compounding_date, formula_id, status, record_json, \
             created_at, workstation, os_user) VALUES ('261130-001', 'batch', '2026-11-30', \
             'f', 'recorded', '{}', 't', 'w', 'u'), ('261129-001', 'batch', '2026-11-29', 'f', \
             'prepared', '{}', 't', 'w', 'u');
             INSERT INTO events (lot, seq, at, what, status, workstation, os_user, details) \
             VALUES ('261130-001', 1, '2026-11-30T10:00:00Z', 'prepared', 'prepared', 'w', 'u', \
             '{}'), ('261130-001', 2, '2026-11-30T12:00:00Z', 'recorded', 'recorded', 'w', 'u', \
             '{}'), ('261129-001', 1, '2026-11-29T10:00:00Z', 'prepared', 'prepared', 'w', 'u', \
             '{}');",
        )
        .unwrap();
        drop(raw);
        let mut db = crate::store::open(&crate::store::Location::Sqlite(path)).unwrap();
        let v = verify(db.as_mut()).unwrap();
        assert_eq!((v.links, v.broken), (3, None));
        let order = db
            .query("SELECT lot, seq FROM chain ORDER BY n", &[])
            .unwrap()
            .into_iter()
            .map(|mut r| format!("{}/{}", r.text("lot").unwrap(), r.int("seq").unwrap()))
            .collect::<Vec<_>>();
        assert_eq!(order, ["261129-001/1", "261130-001/1", "261130-001/2"]);
        crate::logbook::void(db.as_mut(), "261129-001", "gone", &actor()).unwrap();
        assert_eq!(verify(db.as_mut()).unwrap().broken, None);
        verify_lot(db.as_mut(), "261129-001").unwrap();
    }
}
