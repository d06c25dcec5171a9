//! The compounding log's database: one small trait, [`Db`], over SQL that both SQLite and
//! PostgreSQL understand, with a thin implementation for each (docs/log.md says why).
//!
//! Everything above this module (lots, records, events, queries: `crate::logbook`) is written
//! once against the trait. The SQL it sends uses `$1`, `$2` ... for parameters; the SQLite
//! implementation rewrites them to `?1`, `?2`.

mod schema;
pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use schema::{SCHEMA_VERSION, migrate, version as migrate_version};

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

/// One row of a query's result.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as text ("" for NULL; integers as their digits).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(t)) => t.clone(),
            Some(Value::Int(n)) => n.map(|n| n.to_string()),
            None => None,
        }
    }
    pub fn int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Int(n)) => *n,
            Some(Value::Text(t)) => t.as_deref().and_then(|t| t.parse().ok()),
            None => None,
        }
    }
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
    /// Starts a transaction that holds the log's write lock until commit or rollback.
    fn begin_write(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
    /// Where the log is, for messages (a path, or a URL without its password).
    fn describe(&self) -> String;
    /// SQLite only: an online copy of the database into `to`.
    fn backup(&mut self, to: &Path) -> Result<()>;
    /// The database's own consistency check: "ok" or what it found.
    fn integrity_check(&mut self) -> Result<Vec<String>>;
}

impl dyn Db + '_ {
    /// Runs `f` in a write transaction: committed if it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
        self.begin_write()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.rollback();
                Err(e)
            }
        }
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

fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Whether a URL carries a password (`user:password@host`).
fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        || url.contains("password=")
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest
        .find(['/', '?'])
        .map_or((rest, ""), |i| rest.split_at(i));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((u, _)) => format!("{u}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.find("password=") {
        Some(i) => format!("{}password=***", &tail[..i]),
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
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
        if is_url(f) {
            if url_has_password(f) {
                return Err(Error::arg(
                    "--db",
                    "a password on the command line is visible to every user of this machine \
                     (ps, shell history); put it in PGPASSWORD, ~/.pgpass, TROCHE_DATABASE_URL \
                     or database = \"...\" in troche.toml",
                ));
            }
            return Ok(Location::Postgres(f.to_string()));
        }
        return Ok(Location::Sqlite(PathBuf::from(f)));
    }
    let from = |s: &str| {
        if is_url(s) {
            Location::Postgres(s.to_string())
        } else {
            Location::Sqlite(PathBuf::from(s))
        }
    };
    if let Ok(v) = std::env::var(ENV_URL)
        && !v.trim().is_empty()
    {
        return Ok(from(v.trim()));
    }
    if let Some(s) = settings_db {
        return Ok(from(s));
    }
    Ok(Location::Sqlite(default_path()?))
}

/// Opens the log (creating a SQLite one on first use) and brings its schema up to date.
pub fn open(loc: &Location) -> Result<Box<dyn Db>> {
    let mut db: Box<dyn Db> = match loc {
        Location::Sqlite(p) => Box::new(sqlite::Sqlite::open(p)?),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => Box::new(postgres::Postgres::connect(url)?),
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => {
            return Err(Error::arg(
                "--db",
                "this troche was built without PostgreSQL (cargo feature `postgres`)",
            ));
        }
    };
    migrate(db.as_mut())?;
    Ok(db)
}

/// A failure of the database itself (exit 1: the machine, not the input).
pub fn machine(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
    Error::Database(format!("{what}: {e}"))
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
        assert_eq!(
            redact("postgres://h/db?user=u&password=s"),
            "postgres://h/db?user=u&password=***"
        );
    }

    #[test]
    fn placeholders() {
        assert_eq!(qmarks("a = $1 AND b = $12"), "a = ?1 AND b = ?12");
    }
}
