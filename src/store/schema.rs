//! The log's schema and its versioned migrations, run on first use in a write transaction.
//! A database whose schema is newer than this program is refused, never written to.

use super::{Db, Dialect, Value};
use crate::error::{Error, Result};

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = 1;

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

fn migration(version: i64, dialect: Dialect) -> String {
    match version {
        1 => {
            let extra = match dialect {
                Dialect::Sqlite => V1_SQLITE,
                Dialect::Postgres => V1_POSTGRES,
            };
            format!("{V1}{extra}")
        }
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
    if let Ok(Some(v)) = current(db) {
        refuse_newer(db, v)?;
        if v == SCHEMA_VERSION {
            return Ok(());
        }
    }
    let dialect = db.dialect();
    db.write(|db| {
        db.batch(VERSION_TABLE)?;
        let v = current(db)?.unwrap_or(0);
        refuse_newer(db, v)?;
        for next in (v + 1)..=SCHEMA_VERSION {
            db.batch(&migration(next, dialect))?;
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
