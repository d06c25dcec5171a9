//! The log's schema and its versioned migrations, run on first use in a write transaction.
//! A database whose schema is newer than this program is refused, never written to.

use super::{Db, Dialect, Value};
use crate::error::{Error, Result};

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = 5;

/// Version 1: batches, their component lots, printed files and events.
const V1: &str = "
CREATE TABLE formula_texts (
    sha256 TEXT PRIMARY KEY,
    formula_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE batches (
    lot TEXT PRIMARY KEY,
    lot_prefix TEXT,
    lot_seq BIGINT,
    kind TEXT NOT NULL,
    compounding_date TEXT NOT NULL,
    formula_id TEXT NOT NULL,
    formula_version BIGINT,
    formula_sha256 TEXT REFERENCES formula_texts (sha256),
    rx TEXT,
    patient TEXT,
    prescriber TEXT,
    units BIGINT,
    bud TEXT,
    bud_rule TEXT,
    status TEXT NOT NULL,
    order_json TEXT,
    settings_json TEXT,
    record_json TEXT NOT NULL,
    recipe TEXT,
    recipe_entry BIGINT,
    fingerprint TEXT,
    out_dir TEXT,
    created_at TEXT NOT NULL,
    workstation TEXT NOT NULL,
    os_user TEXT NOT NULL
);
CREATE UNIQUE INDEX batches_lot_number ON batches (lot_prefix, lot_seq);
CREATE INDEX batches_date ON batches (compounding_date);
CREATE INDEX batches_formula ON batches (formula_id, compounding_date);
CREATE INDEX batches_rx ON batches (rx);
CREATE INDEX batches_patient ON batches (patient);
CREATE INDEX batches_status ON batches (status, compounding_date);
CREATE INDEX batches_fingerprint ON batches (fingerprint);
CREATE TABLE components (
    lot TEXT NOT NULL REFERENCES batches (lot),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    component_lot TEXT NOT NULL,
    expiry TEXT,
    manufacturer TEXT,
    PRIMARY KEY (lot, position)
);
CREATE INDEX components_by_lot ON components (component_lot);
CREATE TABLE files (
    lot TEXT NOT NULL REFERENCES batches (lot),
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    PRIMARY KEY (lot, kind)
);
CREATE TABLE events (
    lot TEXT NOT NULL REFERENCES batches (lot),
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    what TEXT NOT NULL,
    status TEXT,
    who TEXT,
    workstation TEXT NOT NULL,
    os_user TEXT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (lot, seq)
);
";

/// History is append-only: the database itself refuses to change or delete an event, a
/// component lot or a printed file's hash.
const V1_SQLITE: &str = "
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER components_no_update BEFORE UPDATE ON components
    BEGIN SELECT RAISE(ABORT, 'component lots are append-only'); END;
CREATE TRIGGER files_no_update BEFORE UPDATE ON files
    BEGIN SELECT RAISE(ABORT, 'printed files are append-only'); END;
";

const V1_POSTGRES: &str = "
CREATE FUNCTION troche_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
CREATE TRIGGER components_append_only BEFORE UPDATE ON components
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
CREATE TRIGGER files_append_only BEFORE UPDATE ON files
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
";

/// Version 2: the pharmacy's people (whose PINs sign), their history, the signed policies,
/// and the meaning of each signed event. `people` holds each person's state now (like
/// `batches.status`, written only in the transaction of the event that changes it); what
/// happened to a person and every policy decision are append-only.
const V2: &str = "
CREATE TABLE people (
    initials TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    active BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    locked BIGINT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE people_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    initials TEXT NOT NULL REFERENCES people (initials),
    what TEXT NOT NULL,
    by_initials TEXT,
    workstation TEXT NOT NULL,
    os_user TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX people_events_by_person ON people_events (initials, seq);
CREATE TABLE policies (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    by_initials TEXT NOT NULL REFERENCES people (initials),
    workstation TEXT NOT NULL,
    os_user TEXT NOT NULL
);
CREATE INDEX policies_by_name ON policies (name, seq);
ALTER TABLE events ADD COLUMN meaning TEXT;
";

const V2_SQLITE: &str = "
CREATE TRIGGER people_events_no_update BEFORE UPDATE ON people_events
    BEGIN SELECT RAISE(ABORT, 'people_events are append-only'); END;
CREATE TRIGGER people_events_no_delete BEFORE DELETE ON people_events
    BEGIN SELECT RAISE(ABORT, 'people_events are append-only'); END;
CREATE TRIGGER policies_no_update BEFORE UPDATE ON policies
    BEGIN SELECT RAISE(ABORT, 'policies are append-only'); END;
CREATE TRIGGER policies_no_delete BEFORE DELETE ON policies
    BEGIN SELECT RAISE(ABORT, 'policies are append-only'); END;
CREATE TRIGGER people_no_delete BEFORE DELETE ON people
    BEGIN SELECT RAISE(ABORT, 'people are never deleted, only deactivated'); END;
";

const V2_POSTGRES: &str = "
CREATE TRIGGER people_events_append_only BEFORE UPDATE OR DELETE ON people_events
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
CREATE TRIGGER policies_append_only BEFORE UPDATE OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
CREATE TRIGGER people_no_delete BEFORE DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
";

/// Version 3: the hash chain over every event (`crate::logbook::chain`), the seal of each
/// batch, the bytes of every printed document, and a record nobody can change or delete: a
/// batch's status moves only to its latest status event's.
const V3: &str = "
CREATE TABLE chain (
    n BIGINT PRIMARY KEY,
    lot TEXT NOT NULL,
    seq BIGINT NOT NULL,
    prev_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    UNIQUE (lot, seq)
);
CREATE TABLE documents (
    lot TEXT NOT NULL REFERENCES batches (lot),
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (lot, kind)
);
ALTER TABLE batches ADD COLUMN seal TEXT;
CREATE INDEX batches_lot_upper ON batches (upper(lot));
";

/// The columns of `batches` that never change once written (all but `status`).
const BATCH_COLUMNS: &str = "lot, lot_prefix, lot_seq, kind, compounding_date, formula_id, \
    formula_version, formula_sha256, rx, patient, prescriber, units, bud, bud_rule, order_json, \
    settings_json, record_json, recipe, recipe_entry, fingerprint, out_dir, created_at, \
    workstation, os_user, seal";

/// The tables of the record, each append-only.
const RECORD_TABLES: [&str; 6] = [
    "formula_texts",
    "components",
    "files",
    "documents",
    "events",
    "chain",
];

fn v3_sqlite() -> String {
    let mut s = Vec::new();
    // Version 1 forbade some of these already.
    for t in RECORD_TABLES {
        for (op, verb) in [("UPDATE", "update"), ("DELETE", "delete")] {
            s.push(format!(
                "DROP TRIGGER IF EXISTS {t}_no_{verb};\n\
                 CREATE TRIGGER {t}_no_{verb} BEFORE {op} ON {t}\n    \
                 BEGIN SELECT RAISE(ABORT, '{t} are append-only'); END;\n"
            ));
        }
    }
    s.push(format!(
        "CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches\n    \
         BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;\n\
         CREATE TRIGGER batches_no_update BEFORE UPDATE OF {BATCH_COLUMNS} ON batches\n    \
         BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;\n\
         CREATE TRIGGER batches_status_with_event BEFORE UPDATE OF status ON batches\n    \
         WHEN NEW.status IS NOT (SELECT e.status FROM events e WHERE e.lot = OLD.lot \
         AND e.status IS NOT NULL ORDER BY e.seq DESC LIMIT 1)\n    \
         BEGIN SELECT RAISE(ABORT, 'a batch''s status moves only with its event'); END;\n"
    ));
    s.concat()
}

fn v3_postgres() -> String {
    let mut s = vec![String::from(
        "DROP TRIGGER IF EXISTS events_append_only ON events;\n\
         DROP TRIGGER IF EXISTS components_append_only ON components;\n\
         DROP TRIGGER IF EXISTS files_append_only ON files;\n",
    )];
    for t in RECORD_TABLES {
        s.push(format!(
            "CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}\n    \
             FOR EACH ROW EXECUTE FUNCTION troche_append_only();\n"
        ));
    }
    s.push(String::from(
        "CREATE FUNCTION troche_batch_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'batches are append-only'; END IF;
        IF (to_jsonb(NEW) - 'status') <> (to_jsonb(OLD) - 'status') THEN
            RAISE EXCEPTION 'batches are append-only';
        END IF;
        IF NEW.status IS DISTINCT FROM (SELECT e.status FROM events e WHERE e.lot = OLD.lot
                AND e.status IS NOT NULL ORDER BY e.seq DESC LIMIT 1) THEN
            RAISE EXCEPTION 'a batch''s status moves only with its event';
        END IF;
        RETURN NEW;
    END $$;
CREATE TRIGGER batches_append_only BEFORE UPDATE OR DELETE ON batches
    FOR EACH ROW EXECUTE FUNCTION troche_batch_status();
",
    ));
    s.concat()
}

/// Version 4: component stock. A stock lot's receipt (`stock_lots`, never changed but for
/// its status, which moves only with its status event) and every movement or state change of
/// it (`stock_events`, append-only, each a link of the stock chain in its own row:
/// `crate::stock::chain`). Quantities are whole millionths of the lot's unit (µg of a gram,
/// µL of a millilitre), so a balance is an exact integer sum in SQL.
fn v4(dialect: Dialect) -> String {
    let tables = "
CREATE TABLE stock_lots (
    lot TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    expiry TEXT NOT NULL,
    unit TEXT NOT NULL,
    assay TEXT,
    assay_basis TEXT,
    water TEXT,
    potency TEXT,
    form TEXT,
    schedule TEXT,
    supplier TEXT,
    invoice TEXT,
    order_form TEXT,
    certificate_sha256 TEXT,
    received_at TEXT NOT NULL,
    workstation TEXT NOT NULL,
    os_user TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX stock_lots_expiry ON stock_lots (expiry, lot);
CREATE INDEX stock_lots_upper ON stock_lots (upper(lot));
CREATE INDEX stock_lots_name ON stock_lots (lower(name));
CREATE INDEX stock_lots_scheduled ON stock_lots (schedule);
CREATE TABLE stock_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    lot TEXT NOT NULL REFERENCES stock_lots (lot),
    what TEXT NOT NULL,
    status TEXT,
    quantity BIGINT,
    reserved BIGINT,
    batch TEXT,
    who TEXT,
    meaning TEXT,
    witness TEXT,
    workstation TEXT NOT NULL,
    os_user TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX stock_events_lot ON stock_events (lot, seq);
CREATE INDEX stock_events_balance ON stock_events (lot, quantity, reserved, batch);
CREATE INDEX stock_events_batch ON stock_events (batch);
";
    let columns = "lot, name, manufacturer, expiry, unit, assay, assay_basis, water, potency, \
        form, schedule, supplier, invoice, order_form, certificate_sha256, received_at, \
        workstation, os_user";
    let guard = match dialect {
        Dialect::Sqlite => format!(
            "CREATE TRIGGER stock_events_no_update BEFORE UPDATE ON stock_events
    BEGIN SELECT RAISE(ABORT, 'stock_events are append-only'); END;
CREATE TRIGGER stock_events_no_delete BEFORE DELETE ON stock_events
    BEGIN SELECT RAISE(ABORT, 'stock_events are append-only'); END;
CREATE TRIGGER stock_lots_no_delete BEFORE DELETE ON stock_lots
    BEGIN SELECT RAISE(ABORT, 'stock_lots are append-only'); END;
CREATE TRIGGER stock_lots_no_update BEFORE UPDATE OF {columns} ON stock_lots
    BEGIN SELECT RAISE(ABORT, 'stock_lots are append-only'); END;
CREATE TRIGGER stock_lots_status_with_event BEFORE UPDATE OF status ON stock_lots
    WHEN NEW.status IS NOT (SELECT e.status FROM stock_events e WHERE e.lot = OLD.lot \
    AND e.status IS NOT NULL ORDER BY e.seq DESC LIMIT 1)
    BEGIN SELECT RAISE(ABORT, 'a stock lot''s status moves only with its event'); END;
"
        ),
        Dialect::Postgres => String::from(
            "CREATE TRIGGER stock_events_append_only BEFORE UPDATE OR DELETE ON stock_events
    FOR EACH ROW EXECUTE FUNCTION troche_append_only();
CREATE FUNCTION troche_stock_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'stock_lots are append-only'; END IF;
        IF (to_jsonb(NEW) - 'status') <> (to_jsonb(OLD) - 'status') THEN
            RAISE EXCEPTION 'stock_lots are append-only';
        END IF;
        IF NEW.status IS DISTINCT FROM (SELECT e.status FROM stock_events e WHERE e.lot = OLD.lot
                AND e.status IS NOT NULL ORDER BY e.seq DESC LIMIT 1) THEN
            RAISE EXCEPTION 'a stock lot''s status moves only with its event';
        END IF;
        RETURN NEW;
    END $$;
CREATE TRIGGER stock_lots_append_only BEFORE UPDATE OR DELETE ON stock_lots
    FOR EACH ROW EXECUTE FUNCTION troche_stock_status();
",
        ),
    };
    format!("{tables}{guard}")
}

/// Version 5: people's events and policy decisions join the hash chain. No table changes;
/// the rows written before are chained, in the order they were written, by
/// [`v5_chain_histories`] when the log migrates.
const V5: &str = "";

/// The step of version 5 after its SQL.
fn v5_chain_histories(tx: &mut super::Transaction<'_>) -> Result<()> {
    crate::logbook::chain::link_histories(tx)
}

fn migration(version: i64, dialect: Dialect) -> String {
    match version {
        1 => {
            let extra = match dialect {
                Dialect::Sqlite => V1_SQLITE,
                Dialect::Postgres => V1_POSTGRES,
            };
            format!("{V1}{extra}")
        }
        2 => {
            let extra = match dialect {
                Dialect::Sqlite => V2_SQLITE,
                Dialect::Postgres => V2_POSTGRES,
            };
            format!("{V2}{extra}")
        }
        3 => {
            let extra = match dialect {
                Dialect::Sqlite => v3_sqlite(),
                Dialect::Postgres => v3_postgres(),
            };
            format!("{V3}{extra}")
        }
        4 => v4(dialect),
        5 => V5.to_string(),
        _ => unreachable!("no migration {version}"),
    }
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)";

fn current(db: &mut dyn Db) -> Result<Option<i64>> {
    let rows = db.query("SELECT max(version) AS version FROM schema_migrations", &[])?;
    rows.into_iter()
        .next()
        .map_or(Ok(None), |mut r| r.opt_int("version"))
}

fn refuse_newer(db: &dyn Db, v: i64) -> Result<()> {
    if v > SCHEMA_VERSION {
        return Err(Error::Input {
            file: db.describe(),
            line: None,
            key: None,
            message: format!(
                "the compounding log has schema version {v}, newer than this troche knows \
                 ({SCHEMA_VERSION}); it was written by a newer troche: update this one. Nothing \
                 was changed."
            ),
        });
    }
    Ok(())
}

/// Whether the database holds a troche log: its table of migrations.
pub(super) fn has_log(db: &mut dyn Db) -> Result<bool> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        }
        Dialect::Postgres => {
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
        }
    };
    let n = db
        .query(sql, &[])?
        .into_iter()
        .next()
        .map_or(Ok(0), |mut r| r.int("n"))?;
    Ok(n > 0)
}

/// A log opened read-only is read as it is: one of an older schema cannot be brought up to
/// date, and is refused rather than misread.
pub(super) fn require_current(db: &mut dyn Db) -> Result<()> {
    let v = current(db)?.unwrap_or(0);
    refuse_newer(db, v)?;
    if v < SCHEMA_VERSION {
        return Err(Error::Input {
            file: db.describe(),
            line: None,
            key: None,
            message: format!(
                "the compounding log has schema version {v}, older than this troche's \
                 ({SCHEMA_VERSION}), and may only be read; open a writable copy once to bring \
                 it up to date. Nothing was changed."
            ),
        });
    }
    Ok(())
}

/// The schema version of the log, reading only.
pub fn version(db: &mut dyn Db) -> Result<Option<i64>> {
    current(db)
}

/// Brings the schema up to date. The common case (already current) is one read.
pub fn migrate(db: &mut dyn Db) -> Result<()> {
    migrate_to(db, SCHEMA_VERSION)
}

/// Brings the schema up to version `last` (older versions only in tests: a log written
/// by an earlier troche).
pub(crate) fn migrate_to(db: &mut dyn Db, last: i64) -> Result<()> {
    if let Ok(Some(v)) = current(db) {
        refuse_newer(db, v)?;
        if v >= last {
            return Ok(());
        }
    }
    let dialect = db.dialect();
    db.write(|db| {
        db.batch(VERSION_TABLE)?;
        let v = current(db)?.unwrap_or(0);
        refuse_newer(db, v)?;
        for next in (v + 1)..=last {
            let sql = migration(next, dialect);
            if !sql.is_empty() {
                db.batch(&sql)?;
            }
            if next == 3 {
                // The events written before the chain are chained in the order they were
                // written.
                crate::logbook::chain::link_unchained(db)?;
            }
            if next == 5 {
                v5_chain_histories(db)?;
            }
            db.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[
                    Value::int(next),
                    Value::text(jiff::Timestamp::now().to_string()),
                ],
            )?;
        }
        Ok(())
    })
}
