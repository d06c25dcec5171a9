//! The log in an embedded SQLite file: WAL, a busy timeout, foreign keys on; write
//! transactions are `BEGIN IMMEDIATE`, so two processes never both read "the next free lot"
//! and then collide: the second waits (up to the busy timeout) for the first to commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, ToSql};

use super::{Access, Db, Dialect, Row, Value, machine, not_a_log, qmarks};
use crate::error::{Error, Result};

/// How long a writer waits for another before giving up: long enough for sixteen processes
/// writing at once, short enough that a stuck one is reported.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Sqlite {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
}

/// Opens a log the user may only read. A WAL log needs its `-shm` file, which a read-only
/// folder cannot hold: when there is no `-wal` file beside it (a copy, a backup: every commit
/// is in the file itself), it is opened as immutable instead.
fn open_read_only(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let plain = Connection::open_with_flags(path, flags).and_then(|c| {
        c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(c)
    });
    match plain {
        Ok(c) => Ok(c),
        Err(e) => {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            if Path::new(&wal).exists() {
                return Err(sql_error(path, e));
            }
            let uri = format!("file:{}?immutable=1", uri_path(path));
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(|e| sql_error(path, e))
        }
    }
}

/// A path as the path of a `file:` URI: `?`, `#` and `%` escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
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

/// Makes a new, empty log file readable by its owner only (0600), and its folder (0700),
/// before SQLite opens it: SQLite gives its `-wal` and `-shm` files the same permissions.
/// Created exclusively: a file another process made first is that process's log.
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
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Whether this user may write the file: asked of the file itself (opening a regular file
/// for writing neither blocks nor changes it), so permissions, ACLs and read-only mounts all
/// count.
fn writable(path: &Path) -> Result<bool> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(_) => Ok(true),
        Err(e)
            if e.kind() == std::io::ErrorKind::PermissionDenied
                || e.kind() == std::io::ErrorKind::ReadOnlyFilesystem =>
        {
            Ok(false)
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The tables of a database that are not SQLite's own.
fn tables(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let mut st = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .map_err(|e| sql_error(path, e))?;
    st.query_map([], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect)
        .map_err(|e| sql_error(path, e))
}

impl Sqlite {
    /// Opens (or, to make batches, creates) the log at `path` (see [`Access`]).
    pub fn open_as(path: &Path, access: Access) -> Result<Sqlite> {
        let shown = path.display().to_string();
        // Looked at before anything opens it: a FIFO or a device would block the open, a
        // directory is no log.
        let meta = match std::fs::metadata(path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(path, e)),
        };
        match &meta {
            None if access != Access::Create => {
                return Err(not_a_log(
                    &shown,
                    "no such file: no compounding log is there (only make and batch create \
                     one); check --db, TROCHE_DATABASE_URL or database in troche.toml",
                ));
            }
            None => create_private(path)?,
            Some(m) if !m.is_file() => {
                let what = if m.is_dir() {
                    "a directory"
                } else {
                    "not a regular file (a FIFO, a socket or a device)"
                };
                return Err(not_a_log(
                    &shown,
                    &format!("is {what}, not a compounding log; give the log's file"),
                ));
            }
            Some(m) if m.len() == 0 && access != Access::Create => {
                return Err(not_a_log(
                    &shown,
                    "is an empty file, not a compounding log (only make and batch start one)",
                ));
            }
            Some(_) => {}
        }
        let read_only = match access {
            Access::Create | Access::Write => {
                if !writable(path)? {
                    return Err(not_a_log(
                        &shown,
                        "may only be read by this user; this command writes to the log: run it \
                         as the log's owner, or give a log you may write",
                    ));
                }
                false
            }
            Access::Read => !writable(path)?,
        };
        let conn = if read_only {
            open_read_only(path)?
        } else {
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| sql_error(path, e))?
        };
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_error(path, e))?;
        // Another application's database is refused before anything is written to it (even
        // the journal mode is written into the file).
        let found = tables(&conn, path)?;
        if !found.is_empty() && !found.iter().any(|t| t == "schema_migrations") {
            let mut names = found.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if found.len() > 5 {
                names.push_str(", ...");
            }
            return Err(not_a_log(
                &shown,
                &format!(
                    "is an SQLite database of another program (its tables: {names}), not a \
                     troche compounding log; give another --db"
                ),
            ));
        }
        if !read_only {
            // WAL: readers never wait for the writer. synchronous=FULL: a committed record
            // survives a power cut, since its lot may already be printed.
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| sql_error(path, e))?;
        }
        Ok(Sqlite {
            conn,
            path: path.to_path_buf(),
            read_only,
        })
    }

    /// A backup's copy at `path`, read-only, named `shown` in messages: never migrated or
    /// written, whatever its permissions.
    pub(crate) fn open_copy(path: &Path, shown: &Path) -> Result<Sqlite> {
        let conn = open_read_only(path)?;
        let mut db = Sqlite {
            conn,
            path: shown.to_path_buf(),
            read_only: true,
        };
        if !super::schema::has_log(&mut db)? {
            return Err(not_a_log(
                &db.describe(),
                "the copy holds no compounding log",
            ));
        }
        super::schema::require_current(&mut db)?;
        Ok(db)
    }

    /// Opens the log at `path`, creating it on first use.
    pub fn open(path: &Path) -> Result<Sqlite> {
        Sqlite::open_as(path, Access::Create)
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

    fn read_only(&self) -> bool {
        self.read_only
    }

    /// One step of SQLite's online backup: a consistent copy of the log as it stood when the
    /// step began, which writers in other processes (WAL) neither block nor restart. The
    /// copy is turned from WAL into a single self-contained file, so it can be read where no
    /// `-shm` file can be made (a read-only folder, a USB stick).
    fn backup(&mut self, to: &Path) -> Result<()> {
        use rusqlite::backup::{Backup, StepResult};
        let mut dst = Connection::open(to).map_err(|e| sql_error(to, e))?;
        {
            let b = Backup::new(&self.conn, &mut dst).map_err(|e| sql_error(to, e))?;
            let started = std::time::Instant::now();
            loop {
                match b.step(-1).map_err(|e| sql_error(to, e))? {
                    StepResult::Done => break,
                    StepResult::More | StepResult::Busy | StepResult::Locked
                        if started.elapsed() < BUSY_TIMEOUT =>
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        return Err(Error::stored(format!(
                            "the backup of {} could not finish within {} s: the log stayed \
                             locked",
                            self.path.display(),
                            BUSY_TIMEOUT.as_secs()
                        )));
                    }
                }
            }
        }
        dst.execute_batch("PRAGMA journal_mode = DELETE")
            .map_err(|e| sql_error(to, e))?;
        dst.close().map_err(|(_, e)| sql_error(to, e))
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
