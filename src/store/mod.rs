//! The compounding log's database: one small trait, [`Db`], over SQL that both SQLite and
//! PostgreSQL understand, with a thin implementation for each (docs/log.md says why).
//!
//! Everything above this module (lots, records, events, queries: `crate::logbook`) is written
//! once against the trait. The SQL it sends uses `$1`, `$2` ... for parameters; the SQLite
//! implementation rewrites them to `?1`, `?2`.

mod backup;
#[cfg(feature = "postgres")]
mod pgpass;
mod schema;
pub mod sqlite;
mod transaction;

#[cfg(feature = "postgres")]
pub mod postgres;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

pub use backup::{Staged, stage_backup};
#[cfg(test)]
pub(crate) use schema::migrate_to;
pub use schema::{SCHEMA_VERSION, migrate, version as migrate_version};
pub use transaction::Transaction;

/// A parameter or a column value: the log stores only integers and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(Some(s.into()))
    }
    pub fn opt(s: Option<&str>) -> Value {
        Value::Text(s.map(String::from))
    }
    pub fn int(i: i64) -> Value {
        Value::Int(Some(i))
    }
}

/// One row of a query's result, read by column name: a query's columns can be reordered or
/// added to without any reader changing, and a column a reader expects but the query lacks,
/// or holding another type, is an error naming it. Reading a column moves its value out of
/// the row (a row is read once, into a type: [`FromRow`]), so no text is copied twice; a
/// column read a second time is an error, never a NULL.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    /// `None` once read.
    values: Vec<Option<Value>>,
}

impl Row {
    /// A row of `values` under `columns` (the same length, in the same order).
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        debug_assert_eq!(columns.len(), values.len());
        Row {
            columns,
            values: values.into_iter().map(Some).collect(),
        }
    }

    fn take(&mut self, name: &str) -> Result<Value> {
        let missing = || Error::stored(format!("a query of the log has no column `{name}`"));
        let i = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(missing)?;
        self.values
            .get_mut(i)
            .ok_or_else(missing)?
            .take()
            .ok_or_else(|| Error::stored(format!("column `{name}` was read twice")))
    }

    /// Column `name` as text, which may be NULL; an integer there is an error.
    pub fn opt_text(&mut self, name: &str) -> Result<Option<String>> {
        match self.take(name)? {
            Value::Text(t) => Ok(t),
            Value::Int(None) => Ok(None),
            Value::Int(Some(n)) => Err(Error::stored(format!(
                "column `{name}` holds the integer {n} where the log keeps text"
            ))),
        }
    }

    /// Column `name` as text that must be there.
    pub fn text(&mut self, name: &str) -> Result<String> {
        self.opt_text(name)?.ok_or_else(|| {
            Error::stored(format!("column `{name}` is NULL where the log keeps text"))
        })
    }

    /// Column `name` as an integer, which may be NULL; text there is an error.
    pub fn opt_int(&mut self, name: &str) -> Result<Option<i64>> {
        match self.take(name)? {
            Value::Int(n) => Ok(n),
            Value::Text(None) => Ok(None),
            Value::Text(Some(t)) => Err(Error::stored(format!(
                "column `{name}` holds the text {t:?} where the log keeps an integer"
            ))),
        }
    }

    /// Column `name` as an integer that must be there.
    pub fn int(&mut self, name: &str) -> Result<i64> {
        self.opt_int(name)?.ok_or_else(|| {
            Error::stored(format!(
                "column `{name}` is NULL where the log keeps an integer"
            ))
        })
    }
}

/// A type read from a row of the log, by column name.
pub trait FromRow: Sized {
    fn from_row(row: Row) -> Result<Self>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// What the log needs from a database: statements with parameters, and write transactions
/// that exclude every other writer (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL an advisory
/// transaction lock), so that "the next free lot" is decided by one writer at a time.
pub trait Db {
    fn dialect(&self) -> Dialect;
    /// Several statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<()>;
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Starts a transaction that holds the log's write lock until commit or rollback. Called
    /// by [`Transaction`] only, which makes sure the transaction ends.
    fn begin_write(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
    /// Where the log is, for messages (a path, or a URL without its password).
    fn describe(&self) -> String;
    /// SQLite only: an online copy of the database into `to`.
    fn backup(&mut self, to: &Path) -> Result<()>;
    /// The database's own consistency check: "ok" or what it found.
    fn integrity_check(&mut self) -> Result<Vec<String>>;
    /// Opened read-only (a log the user may only read): nothing can be written.
    fn read_only(&self) -> bool {
        false
    }
}

impl dyn Db + '_ {
    /// Runs `f` in a write transaction: committed if it returns `Ok`, rolled back otherwise
    /// (by the transaction's drop, which reports a rollback that fails).
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut tx = Transaction::begin(self)?;
        let v = f(&mut tx)?;
        tx.commit()?;
        Ok(v)
    }

    /// The rows of a query, each read into `T` by column name.
    pub fn query_as<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        self.query(sql, params)?
            .into_iter()
            .map(T::from_row)
            .collect()
    }

    /// The first row of a query read into `T`, if there is one.
    pub fn query_one<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        self.query(sql, params)?
            .into_iter()
            .next()
            .map(T::from_row)
            .transpose()
    }
}

/// Where the log lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The environment variable that names the log (a path or a URL, password allowed).
pub const ENV_URL: &str = "TROCHE_DATABASE_URL";

/// The URL schemes of a PostgreSQL log, compared without regard to case.
const SCHEMES: [&str; 2] = ["postgres", "postgresql"];

/// The keywords of a libpq connection string (`host=... dbname=...`), which the log does not
/// take: a string of them would otherwise become the name of a new, empty SQLite file.
const LIBPQ_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "options",
    "application_name",
    "service",
    "target_session_attrs",
];

/// What a `database` setting is, decided before anything is opened or created.
fn classify(s: &str, whence: &str) -> Result<Location> {
    // A scheme: letters, digits, `+ - .` before a colon, at least two of them (so a Windows
    // drive letter is a path).
    let scheme = s.split_once(':').map(|(head, _)| head).filter(|h| {
        h.len() >= 2
            && h.starts_with(|c: char| c.is_ascii_alphabetic())
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if let Some(scheme) = scheme {
        let rest = &s[scheme.len() + 1..];
        if SCHEMES.iter().any(|k| scheme.eq_ignore_ascii_case(k)) && rest.starts_with("//") {
            // The client knows the schemes in lower case only.
            return Ok(Location::Postgres(format!(
                "{}:{rest}",
                scheme.to_ascii_lowercase()
            )));
        }
        if rest.starts_with("//") || SCHEMES.iter().any(|k| scheme.eq_ignore_ascii_case(k)) {
            return Err(Error::arg(
                whence,
                // Only the scheme is quoted back: the rest may hold a password.
                format!(
                    "`{scheme}:...` is not a PostgreSQL URL: the log is a file path or a URL \
                     that begins postgres:// or postgresql://. Nothing was opened or created."
                ),
            ));
        }
    }
    let keyword = s.split_whitespace().any(|w| {
        w.split_once('=')
            .is_some_and(|(k, _)| LIBPQ_KEYS.iter().any(|x| k.eq_ignore_ascii_case(x)))
    });
    if keyword {
        // Not quoted back: it may hold a password.
        return Err(Error::arg(
            whence,
            "looks like a libpq connection string (host=... dbname=...), which troche does not \
             take: give the log as a URL, postgres://USER@HOST/DBNAME (the password in \
             PGPASSWORD or ~/.pgpass). Nothing was opened or created.",
        ));
    }
    Ok(Location::Sqlite(PathBuf::from(s)))
}

/// A URL's user information (`user:password`) and the rest: everything before the last `@`,
/// wherever a `/` or `?` stands (a password may hold either, unescaped).
fn userinfo(url: &str) -> (&str, Option<&str>, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    match rest.rfind('@') {
        Some(i) => (scheme, Some(&rest[..i]), &rest[i + 1..]),
        None => (scheme, None, rest),
    }
}

/// Whether a URL carries a password (`user:password@host`, or `password=` in its query).
fn url_has_password(url: &str) -> bool {
    let (_, user, _) = userinfo(url);
    user.is_some_and(|u| u.contains([':', '/', '?'])) || url.contains("password=")
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    if !url.contains("://") {
        return url.to_string();
    }
    let (scheme, user, rest) = userinfo(url);
    let user = match user {
        Some(u) => {
            let name = u.split([':', '/', '?']).next().unwrap_or_default();
            if name.len() == u.len() {
                format!("{u}@")
            } else {
                format!("{name}:***@")
            }
        }
        None => String::new(),
    };
    let rest = match rest.find("password=") {
        Some(i) => format!("{}password=***", &rest[..i]),
        None => rest.to_string(),
    };
    format!("{scheme}://{user}{rest}")
}

/// The log's default place: the user's data directory (`$XDG_DATA_HOME/troche/log.sqlite3`,
/// `~/.local/share/troche/log.sqlite3` on Linux).
pub fn default_path() -> Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join("troche").join("log.sqlite3"))
        .ok_or_else(|| {
            Error::arg(
                "--db",
                "no data directory is known for this user (HOME is not set); give the log's \
                 place with --db FILE or database = \"...\" in troche.toml",
            )
        })
}

/// Decides where the log is: `--db` (a path, or a URL without a password), else
/// `TROCHE_DATABASE_URL`, else `database` in the settings, else the user's data directory.
pub fn locate(flag: Option<&str>, settings_db: Option<&str>) -> Result<Location> {
    if let Some(f) = flag.map(str::trim) {
        if f.is_empty() {
            return Err(Error::arg("--db", "must not be empty"));
        }
        let loc = classify(f, "--db")?;
        if let Location::Postgres(url) = &loc
            && url_has_password(url)
        {
            return Err(Error::arg(
                "--db",
                "a password on the command line is visible to every user of this machine \
                 (ps, shell history); put it in PGPASSWORD, ~/.pgpass, TROCHE_DATABASE_URL \
                 or database = \"...\" in troche.toml",
            ));
        }
        return Ok(loc);
    }
    if let Ok(v) = std::env::var(ENV_URL)
        && !v.trim().is_empty()
    {
        return classify(v.trim(), ENV_URL);
    }
    if let Some(s) = settings_db.map(str::trim) {
        if s.is_empty() {
            return Err(Error::arg("database", "must not be empty"));
        }
        return classify(s, "database");
    }
    Ok(Location::Sqlite(default_path()?))
}

/// What a command may do to the log when it opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Make batches: the one access that may create a log, and only where no file is yet or
    /// an empty one.
    Create,
    /// Add to an existing log (events, records): it must be there and writable.
    Write,
    /// Read an existing log: one the user may only read (an inspector's copy, a backup) is
    /// opened read-only.
    Read,
}

/// Opens the log, creating a SQLite one on first use, and brings its schema up to date.
pub fn open(loc: &Location) -> Result<Box<dyn Db>> {
    open_as(loc, Access::Create)
}

/// Opens the log for `access`: only [`Access::Create`] makes a new one; a log opened
/// read-only is read as it is, never migrated.
pub fn open_as(loc: &Location, access: Access) -> Result<Box<dyn Db>> {
    open_with(loc, access, None)
}

/// As [`open_as`], with the settings' CA certificate for a PostgreSQL server (`ca_file`).
pub fn open_with(loc: &Location, access: Access, ca_file: Option<&Path>) -> Result<Box<dyn Db>> {
    let mut db: Box<dyn Db> = match loc {
        Location::Sqlite(p) => Box::new(sqlite::Sqlite::open_as(p, access)?),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => Box::new(postgres::Postgres::connect_with(url, ca_file)?),
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => {
            let _ = ca_file;
            return Err(Error::arg(
                "--db",
                "this troche was built without PostgreSQL (cargo feature `postgres`)",
            ));
        }
    };
    if access != Access::Create && !schema::has_log(db.as_mut())? {
        return Err(not_a_log(
            &db.describe(),
            "holds no compounding log (no troche schema); it is made by the first make or \
             batch",
        ));
    }
    if db.read_only() {
        schema::require_current(db.as_mut())?;
    } else {
        migrate(db.as_mut())?;
    }
    Ok(db)
}

/// A database that is not a troche log: a mistake in the setting, exit 2.
pub(crate) fn not_a_log(what: &str, why: &str) -> Error {
    Error::Input {
        file: what.to_string(),
        line: None,
        key: None,
        message: format!("{why}. Nothing was changed."),
    }
}

/// A failure of the database itself (exit 1: the machine, not the input): what was being
/// done, and the client's error as its source.
pub fn machine(
    what: impl std::fmt::Display,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    Error::database(what.to_string(), e)
}

/// What a statement does, in words, for the message of its failure: "inserting into
/// batches", "reading events".
pub(crate) fn doing(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let after = |w: &str| {
        words
            .iter()
            .position(|x| x.eq_ignore_ascii_case(w))
            .and_then(|i| words.get(i + 1))
            .copied()
            .unwrap_or("the log")
    };
    match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
        Some("INSERT") => format!("inserting into {}", after("INTO")),
        Some("UPDATE") => format!("updating {}", after("UPDATE")),
        Some("DELETE") => format!("deleting from {}", after("FROM")),
        Some("SELECT") => format!("reading {}", after("FROM")),
        Some(w) => format!("running {}", w.to_ascii_lowercase()),
        None => "running an empty statement".into(),
    }
}

/// Turns `$1`, `$2` ... into SQLite's `?1`, `?2` ...
pub(crate) fn qmarks(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_off_the_command_line() {
        assert!(url_has_password("postgres://u:secret@h/db"));
        assert!(url_has_password("postgres://u@h/db?password=x"));
        assert!(!url_has_password("postgres://u@h:5432/db"));
        assert!(locate(Some("postgres://u:p@h/db"), None).is_err());
        assert_eq!(
            locate(Some("postgres://u@h/db"), None).unwrap(),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        // A password with `/` or `?` in it, unescaped, is still hidden.
        assert_eq!(
            redact("postgres://u:se/c?ret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact("postgres://u?secret@h/db"), "postgres://u:***@h/db");
        assert!(url_has_password("postgres://u:a/b@h/db"));
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redact("postgres://h/db?user=u&password=s"),
            "postgres://h/db?user=u&password=***"
        );
    }

    /// A setting is a path, or a PostgreSQL URL in any case of its scheme; what looks like
    /// another URL or a libpq connection string is refused, not made a file name.
    #[test]
    fn settings_are_paths_or_postgresql_urls() {
        for (s, url) in [
            ("POSTGRES://u@h/db", "postgres://u@h/db"),
            ("PostgreSQL://h/db", "postgresql://h/db"),
        ] {
            assert_eq!(classify(s, "x").unwrap(), Location::Postgres(url.into()));
        }
        for s in [
            "log.sqlite3",
            "/var/lib/troche/log",
            "C:\\logs\\log.sqlite3",
            "a b.db",
        ] {
            assert_eq!(classify(s, "x").unwrap(), Location::Sqlite(s.into()));
        }
        for s in [
            "postgresq://u:pw@h/db",
            "http://h/db",
            "postgres:u:pw@h/db",
            "host=h dbname=d password=pw",
            "  dbname=d",
        ] {
            let e = classify(s, "database").unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(!e.to_string().contains("pw"), "{e}");
        }
    }

    #[test]
    fn failures_say_what_was_being_done() {
        assert_eq!(
            doing("INSERT INTO batches (lot) VALUES ($1)"),
            "inserting into batches"
        );
        assert_eq!(
            doing("SELECT max(seq) AS seq FROM events WHERE lot = $1"),
            "reading events"
        );
        assert_eq!(doing("UPDATE batches SET status = $1"), "updating batches");
        assert_eq!(doing("PRAGMA integrity_check"), "running pragma");
    }

    #[test]
    fn a_failed_statement_keeps_the_databases_error_as_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&Location::Sqlite(dir.path().join("log.sqlite3"))).unwrap();
        let e = db
            .execute("INSERT INTO nowhere (x) VALUES ($1)", &[Value::int(1)])
            .unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let text = e.to_string();
        assert!(
            text.contains("inserting into nowhere") && text.contains("no such table"),
            "{text}"
        );
        let source = std::error::Error::source(&e).expect("the client's error");
        assert!(source.downcast_ref::<rusqlite::Error>().is_some());
    }

    #[test]
    fn rows_are_read_by_name() {
        let columns: Arc<[String]> = ["lot", "seq", "who"].map(String::from).into();
        let row = Row::new(
            columns,
            vec![Value::text("L1"), Value::int(3), Value::Text(None)],
        );
        let mut read = row.clone();
        assert_eq!(read.text("lot").unwrap(), "L1");
        assert_eq!(read.int("seq").unwrap(), 3);
        assert_eq!(read.opt_text("who").unwrap(), None);
        let e = read.opt_text("who").unwrap_err();
        assert!(e.to_string().contains("`who` was read twice"), "{e}");
        for (e, names) in [
            (row.clone().text("nope").unwrap_err(), "`nope`"),
            (row.clone().int("lot").unwrap_err(), "`lot`"),
            (row.clone().text("seq").unwrap_err(), "`seq`"),
            (row.clone().text("who").unwrap_err(), "`who`"),
        ] {
            assert!(e.to_string().contains(names), "{e}");
        }
    }

    #[test]
    fn placeholders() {
        assert_eq!(qmarks("a = $1 AND b = $12"), "a = ?1 AND b = ?12");
    }
}
