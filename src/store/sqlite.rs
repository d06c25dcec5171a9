//! The log in an embedded SQLite file: WAL, a busy timeout, foreign keys on; write
//! transactions are `BEGIN IMMEDIATE`, so two processes never both read "the next free lot"
//! and then collide: the second waits (up to the busy timeout) for the first to commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, ToSql};

use super::{Db, Dialect, Row, Value, machine, qmarks};
use crate::error::{Error, Result};

/// How long a writer waits for another before giving up: long enough for sixteen processes
/// writing at once, short enough that a stuck one is reported.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Sqlite {
    conn: Connection,
    path: PathBuf,
}

fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(f.code, ErrorCode::NotADatabase)
    {
        return Error::Input {
            file: path.display().to_string(),
            line: None,
            key: None,
            message: "is not a troche compounding log (not an SQLite database); give another \
                      --db, or move this file away. Nothing was changed."
                .into(),
        };
    }
    machine(path.display(), e)
}

/// A statement that failed, said as what it was doing.
fn failed(path: &Path, sql: &str, e: rusqlite::Error) -> Error {
    match sql_error(path, e) {
        Error::Database { message, source } => Error::Database {
            message: format!("{message}: {}", super::doing(sql)),
            source,
        },
        other => other,
    }
}

/// Creates the log file readable by its owner only (0600), and its folder (0700), before
/// SQLite opens it: SQLite gives its `-wal` and `-shm` files the same permissions.
fn create_private(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).map_err(|e| Error::io(path, e))
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite> {
        if path.is_dir() {
            return Err(Error::arg(
                "--db",
                format!("{} is a directory; give a file name", path.display()),
            ));
        }
        create_private(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_error(path, e))?;
        // WAL: readers never wait for the writer. synchronous=FULL: a committed record
        // survives a power cut, since its lot may already be printed.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| sql_error(path, e))?;
        Ok(Sqlite {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        sql_error(&self.path, e)
    }

    fn failed(&self, sql: &str, e: rusqlite::Error) -> Error {
        failed(&self.path, sql, e)
    }
}

fn bind(params: &[Value]) -> Vec<&dyn ToSql> {
    params
        .iter()
        .map(|v| match v {
            Value::Int(i) => i as &dyn ToSql,
            Value::Text(t) => t as &dyn ToSql,
        })
        .collect()
}

impl Db for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut st = self
            .conn
            .prepare_cached(&qmarks(sql))
            .map_err(|e| self.failed(sql, e))?;
        st.execute(bind(params).as_slice())
            .map(|n| n as u64)
            .map_err(|e| self.failed(sql, e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut st = self
            .conn
            .prepare_cached(&qmarks(sql))
            .map_err(|e| self.failed(sql, e))?;
        let columns: Arc<[String]> = st.column_names().into_iter().map(String::from).collect();
        let mut rows = st
            .query(bind(params).as_slice())
            .map_err(|e| failed(&self.path, sql, e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| failed(&self.path, sql, e))? {
            let mut v = Vec::with_capacity(columns.len());
            for (i, name) in columns.iter().enumerate() {
                v.push(match r.get_ref(i).map_err(|e| sql_error(&self.path, e))? {
                    ValueRef::Null => Value::Text(None),
                    ValueRef::Integer(x) => Value::Int(Some(x)),
                    ValueRef::Text(t) => {
                        Value::Text(Some(String::from_utf8(t.to_vec()).map_err(|e| {
                            machine(format!("{}: column `{name}`", self.path.display()), e)
                        })?))
                    }
                    // The log writes only integers and text: anything else was put there by
                    // another program, and is reported rather than guessed at.
                    ValueRef::Real(_) | ValueRef::Blob(_) => {
                        return Err(Error::stored(format!(
                            "{}: column `{name}` holds a real number or a blob, which the log \
                             never writes",
                            self.path.display()
                        )));
                    }
                });
            }
            out.push(Row::new(columns.clone(), v));
        }
        Ok(out)
    }

    fn begin_write(&mut self) -> Result<()> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        // A commit that failed may have ended the transaction already: nothing to undo.
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.batch("ROLLBACK")
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn backup(&mut self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(Error::Exists(to.to_path_buf()));
        }
        create_private(to)?;
        let mut dst = Connection::open(to).map_err(|e| sql_error(to, e))?;
        let b =
            rusqlite::backup::Backup::new(&self.conn, &mut dst).map_err(|e| sql_error(to, e))?;
        b.run_to_completion(256, Duration::from_millis(10), None)
            .map_err(|e| sql_error(to, e))
    }

    fn integrity_check(&mut self) -> Result<Vec<String>> {
        let rows = self.query("PRAGMA integrity_check", &[])?;
        let mut out = rows
            .into_iter()
            .map(|mut r| r.text("integrity_check"))
            .collect::<Result<Vec<String>>>()?;
        for mut r in self.query("PRAGMA foreign_key_check", &[])? {
            out.push(format!(
                "foreign key: {} row {}",
                r.text("table")?,
                r.opt_int("rowid")?.unwrap_or_default()
            ));
        }
        Ok(out)
    }
}
