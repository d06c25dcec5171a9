//! The log on a PostgreSQL server, for a pharmacy with several workstations. The sync
//! `postgres` client (docs/log.md says why). Write transactions take one advisory transaction
//! lock, so lot assignment is serialised across workstations exactly as SQLite's
//! `BEGIN IMMEDIATE` serialises it across processes; the unique key on the lot stays as the
//! last line of defence.
//!
//! The connection is encrypted with the system's OpenSSL as the URL's `sslmode` says (`disable`, `prefer`,
//! the client's default, or `require`); with a CA certificate (`sslrootcert` in the URL, else
//! `ca_file` in the settings) the server's certificate must be signed by it and name the host
//! connected to. The password comes from the URL, `PGPASSWORD` or the password file
//! ([`pgpass`](super::pgpass)).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::{X509, X509VerifyResult};

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Config};
use postgres_openssl::MakeTlsConnector;

use super::pgpass;
use super::{Db, Dialect, Row, Value, machine, redact};
use crate::error::{Error, Result};

/// The advisory lock key of the log's writers ("TROCHE" in ASCII, as a number).
const WRITE_LOCK: i64 = 0x5452_4F43_4845;

/// How long a writer waits for another's lock, as SQLite's busy timeout: a stuck writer is
/// reported rather than waited for forever.
const LOCK_TIMEOUT: &str = "30s";

/// How long one statement may run: far above any the log sends (`db check` of 100,000
/// batches included), so only a server that has stopped answering reaches it.
const STATEMENT_TIMEOUT: &str = "300s";

pub struct Postgres {
    client: Client,
    url: String,
}

/// A URL's `sslrootcert`, which troche reads itself (the client does not know it), and the
/// URL without it.
fn take_sslrootcert(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut ca = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("sslrootcert=") {
            Some(v) => {
                ca = Some(PathBuf::from(percent_decode(v)));
                false
            }
            None => true,
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, ca)
}

/// `%XX` escapes of a URL's query value.
fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The CA certificates of `path` (PEM), which the server's certificate must chain to: the
/// only ones trusted (not the system's).
fn roots(path: &Path) -> Result<X509Store> {
    let bad = |m: String| {
        Error::arg(
            "ca_file",
            format!(
                "{}: {m}; give the PEM file of the CA that signed the server's certificate",
                path.display()
            ),
        )
    };
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let certs = X509::stack_from_pem(&bytes)
        .map_err(|e| bad(format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(bad("holds no certificate".into()));
    }
    let mut store = X509StoreBuilder::new().map_err(setup_failed)?;
    for c in certs {
        store
            .add_cert(c)
            .map_err(|e| bad(format!("a certificate in it cannot be used ({e})")))?;
    }
    Ok(store.build())
}

fn setup_failed(e: openssl::error::ErrorStack) -> Error {
    Error::internal("cannot set up TLS", e)
}

/// Why the server's certificate was refused, as the check found it: OpenSSL's handshake
/// error says only that verification failed.
#[derive(Clone, Default)]
struct Verdict(Arc<Mutex<Option<X509VerifyResult>>>);

impl Verdict {
    fn get(&self) -> Option<X509VerifyResult> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The TLS connector: TLS 1.2 or later, verifying the server against `ca` when one is given
/// (signed by it, and naming the host connected to). Without a CA it is what libpq's
/// `sslmode=require` gives: encryption without authentication. The handshake's signatures
/// are still checked (the session is the certificate holder's); who holds the certificate
/// is not.
fn connector(ca: Option<&Path>) -> Result<(MakeTlsConnector, Verdict)> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup_failed)?;
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(setup_failed)?;
    let verdict = Verdict::default();
    match ca {
        Some(ca) => {
            builder.set_cert_store(roots(ca)?);
            let seen = verdict.clone();
            builder.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
                if !ok {
                    seen.0
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(ctx.error());
                }
                ok
            });
        }
        None => builder.set_verify(SslVerifyMode::NONE),
    }
    let mut make = MakeTlsConnector::new(builder.build());
    if ca.is_none() {
        make.set_callback(|config, _| {
            config.set_verify_hostname(false);
            Ok(())
        });
    }
    Ok((make, verdict))
}

/// Where the client connects: the first host and port, for messages and the password file.
fn endpoint(config: &Config) -> (String, u16) {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

impl Postgres {
    /// Connects to the log at `url` (see the module's documentation), without a CA
    /// certificate from the settings.
    pub fn connect(url: &str) -> Result<Postgres> {
        Postgres::connect_with(url, None)
    }

    /// Connects to the log at `url`; `ca_file` (the settings') is the CA certificate when the
    /// URL names none.
    pub fn connect_with(url: &str, ca_file: Option<&Path>) -> Result<Postgres> {
        let shown = redact(url);
        let (url, url_ca) = take_sslrootcert(url);
        let ca = url_ca.or_else(|| ca_file.map(Path::to_path_buf));
        let mut config: Config = url
            .parse()
            .map_err(|e| Error::arg("database", format!("{shown}: not a PostgreSQL URL: {e}")))?;
        if ca.is_some() && config.get_ssl_mode() == SslMode::Disable {
            return Err(Error::arg(
                "database",
                format!(
                    "{shown}: a CA certificate is given but sslmode=disable: the connection \
                     would be neither encrypted nor verified; remove sslmode=disable (or the CA)"
                ),
            ));
        }
        // A CA certificate means a verified server: never a quiet fall back to plain text
        // when the server offers no TLS (the client's default, `prefer`, would).
        if ca.is_some() {
            config.ssl_mode(SslMode::Require);
        }
        let (host, port) = endpoint(&config);
        let user = config.get_user().unwrap_or_default().to_string();
        let database = config.get_dbname().unwrap_or(&user).to_string();
        if config.get_password().is_none() {
            if let Ok(p) = std::env::var("PGPASSWORD") {
                config.password(p);
            } else if let Some(p) = pgpass::lookup(
                &pgpass::Wanted {
                    host: &host,
                    port,
                    database: &database,
                    user: &user,
                },
                &mut |m| crate::escape::eprintln(&format!("warning: {m}")),
            ) {
                config.password(p);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let (tls, verdict) = connector(ca.as_deref())?;
        let mut client = config.connect(tls).map_err(|e| {
            connect_error(
                &e,
                &Endpoint {
                    shown: &shown,
                    host: &host,
                    port,
                    user: &user,
                    database: &database,
                    refused: verdict.get(),
                },
            )
        })?;
        // The URL's `options` (`-c lock_timeout=...`) may set either for this site.
        let given = config.get_options().unwrap_or_default();
        let set = [
            ("lock_timeout", LOCK_TIMEOUT),
            ("statement_timeout", STATEMENT_TIMEOUT),
        ]
        .into_iter()
        .filter(|(name, _)| !given.contains(name))
        .map(|(name, value)| format!("SET {name} = '{value}';"))
        .collect::<Vec<_>>()
        .join(" ");
        if !set.is_empty() {
            client.batch_execute(&set).map_err(|e| machine(&shown, e))?;
        }
        Ok(Postgres { client, url: shown })
    }

    fn err(&self, e: postgres::Error) -> Error {
        statement_error(&self.url, "", e)
    }
}

/// What a failed connection was to, for its message.
struct Endpoint<'a> {
    shown: &'a str,
    host: &'a str,
    port: u16,
    user: &'a str,
    database: &'a str,
    /// Why the server's certificate was refused, if it was.
    refused: Option<X509VerifyResult>,
}

/// Tells apart why a connection failed: a wrong or missing password, a server that cannot
/// be reached, a TLS handshake refused, a certificate not trusted, a database that does not
/// exist. Each says what to check; the client's error stays the source.
fn connect_error(e: &postgres::Error, at: &Endpoint<'_>) -> Error {
    let (host, port) = (at.host, at.port);
    let why = if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            format!(
                "the server at {host}:{port} refused the password of user {:?} (or has no \
                 such user); check PGPASSWORD, {} or the URL",
                at.user,
                pgpass::describe()
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!(
                "the server at {host}:{port} has no database {:?}; check the URL's database \
                 name",
                at.database
            )
        } else {
            format!("the server at {host}:{port} refused the connection")
        }
    } else {
        let chain = chain(e);
        if let Some(c) = at.refused {
            format!(
                "the server's certificate at {host}:{port} is not trusted: {}; check the CA \
                 certificate (ca_file, sslrootcert) and that the certificate names the host \
                 connected to",
                cert_problem(c)
            )
        } else if let Some(t) = tls_error(e) {
            format!("the TLS handshake with {host}:{port} failed: {t}")
        } else if chain.contains("server does not support TLS") {
            format!(
                "the server at {host}:{port} refused TLS, and the URL asks for it \
                 (sslmode=require, or a CA certificate): turn on ssl in the server, or \
                 (on a trusted network only) sslmode=disable"
            )
        } else if chain.contains("password missing") {
            format!(
                "the server at {host}:{port} asks for a password and none was given: put it \
                 in PGPASSWORD or {}",
                pgpass::describe()
            )
        } else if io_error(e).is_some() || chain.contains("timeout") || chain.contains("timed out")
        {
            format!(
                "cannot reach the server at {host}:{port} (is it running, and is the host \
                 name and port right?)"
            )
        } else {
            format!("cannot connect to the server at {host}:{port}")
        }
    };
    Error::Database {
        message: format!("{}: {why} (nothing was changed)", at.shown),
        source: Some(Box::new(Plain(chain_text(e)))),
    }
}

/// The client's error in words, as one source (its own chain flattened).
#[derive(Debug)]
struct Plain(String);

impl std::fmt::Display for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Plain {}

/// A cause that repeats what is already said (OpenSSL's error is its handshake error's
/// text and its own source's) is said once.
fn chain_text(e: &postgres::Error) -> String {
    let mut out = e.to_string();
    for s in sources(e) {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn chain(e: &postgres::Error) -> String {
    chain_text(e)
}

fn sources(e: &postgres::Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(e), |s| s.source())
}

fn tls_error(e: &postgres::Error) -> Option<&openssl::ssl::Error> {
    sources(e).find_map(|s| s.downcast_ref::<openssl::ssl::Error>())
}

fn io_error(e: &postgres::Error) -> Option<&std::io::Error> {
    sources(e).find_map(|s| s.downcast_ref::<std::io::Error>())
}

fn cert_problem(c: X509VerifyResult) -> String {
    use openssl_sys as ffi;
    match c.as_raw() {
        ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
        | ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
        | ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
        | ffi::X509_V_ERR_CERT_UNTRUSTED => "it is not signed by the CA given".into(),
        ffi::X509_V_ERR_HOSTNAME_MISMATCH | ffi::X509_V_ERR_IP_ADDRESS_MISMATCH => {
            "it does not name the host connected to".into()
        }
        ffi::X509_V_ERR_CERT_HAS_EXPIRED => "it has expired".into(),
        ffi::X509_V_ERR_CERT_NOT_YET_VALID => "it is not valid yet".into(),
        _ => c.error_string().to_owned(),
    }
}

/// A failed statement: a lock held too long and a statement cancelled by its timeout are
/// said as what they are.
fn statement_error(url: &str, doing: &str, e: postgres::Error) -> Error {
    let what = if doing.is_empty() {
        url.to_string()
    } else {
        format!("{url}: {doing}")
    };
    match e.code() {
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE => machine(
            format!(
                "{what}: another workstation held the log's lock longer than the lock timeout \
                 ({LOCK_TIMEOUT} unless the URL's options set lock_timeout); try again, and if \
                 it persists look for a stuck troche or session on the server \
                 (pg_stat_activity)"
            ),
            e,
        ),
        Some(c) if *c == SqlState::QUERY_CANCELED => machine(
            format!("{what}: the server did not answer within {STATEMENT_TIMEOUT}"),
            e,
        ),
        _ => machine(what, e),
    }
}

fn bind(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|v| match v {
            Value::Int(i) => i as &(dyn ToSql + Sync),
            Value::Text(t) => t as &(dyn ToSql + Sync),
        })
        .collect()
}

impl Db for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.client
            .execute(sql, bind(params).as_slice())
            .map_err(|e| statement_error(&self.url, &super::doing(sql), e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = self
            .client
            .query(sql, bind(params).as_slice())
            .map_err(|e| statement_error(&self.url, &super::doing(sql), e))?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let columns: Arc<[String]> = first
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut v = Vec::with_capacity(columns.len());
            for (i, c) in r.columns().iter().enumerate() {
                let read = |e| machine(format!("{}: column `{}`", self.url, c.name()), e);
                v.push(match *c.type_() {
                    Type::INT8 => Value::Int(r.try_get(i).map_err(read)?),
                    Type::INT4 => {
                        Value::Int(r.try_get::<_, Option<i32>>(i).map_err(read)?.map(i64::from))
                    }
                    Type::INT2 => {
                        Value::Int(r.try_get::<_, Option<i16>>(i).map_err(read)?.map(i64::from))
                    }
                    Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                        Value::Text(r.try_get(i).map_err(read)?)
                    }
                    // The log's schema has only integers and text: another type is a schema
                    // changed by hand, reported rather than read as NULL.
                    ref other => {
                        return Err(Error::stored(format!(
                            "{}: column `{}` has the type {other}, which the log does not use",
                            self.url,
                            c.name()
                        )));
                    }
                });
            }
            out.push(Row::new(columns.clone(), v));
        }
        Ok(out)
    }

    fn begin_write(&mut self) -> Result<()> {
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        ))
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        self.batch("ROLLBACK")
    }

    fn describe(&self) -> String {
        self.url.clone()
    }

    fn backup(&mut self, _to: &Path) -> Result<()> {
        Err(Error::arg(
            "db backup",
            format!(
                "the log is on PostgreSQL ({}); back it up on the server with pg_dump, e.g. \
                 `pg_dump --format=custom --file=troche-$(date +%F).dump DBNAME`, and test a \
                 restore with pg_restore (docs/log.md)",
                self.url
            ),
        ))
    }

    fn integrity_check(&mut self) -> Result<Vec<String>> {
        // The server checks its own pages; what can be checked from here is that every
        // table answers.
        for t in ["batches", "components", "files", "events", "formula_texts"] {
            self.query(&format!("SELECT count(*) FROM {t}"), &[])?;
        }
        Ok(vec!["ok".into()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// troche reads `sslrootcert` itself; the client is given the URL without it.
    #[test]
    fn sslrootcert_is_taken_out_of_the_url() {
        assert_eq!(
            take_sslrootcert(
                "postgres://h/db?sslmode=require&sslrootcert=%2Fetc%2Fca%20x.crt&options=-c"
            ),
            (
                "postgres://h/db?sslmode=require&options=-c".to_string(),
                Some(PathBuf::from("/etc/ca x.crt"))
            )
        );
        assert_eq!(
            take_sslrootcert("postgres://h/db?sslrootcert=ca.pem"),
            ("postgres://h/db".to_string(), Some(PathBuf::from("ca.pem")))
        );
        assert_eq!(
            take_sslrootcert("postgres://h/db"),
            ("postgres://h/db".to_string(), None)
        );
    }

    /// A CA with sslmode=disable is a contradiction, refused; a CA file that holds no
    /// certificate is refused naming it.
    #[test]
    fn a_ca_needs_tls_and_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate\n").unwrap();
        let e = Postgres::connect_with("postgres://u@127.0.0.1:1/x?sslmode=disable", Some(&ca))
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode=disable"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let e = Postgres::connect_with("postgres://u@127.0.0.1:1/x", Some(&ca))
            .err()
            .unwrap();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
    }
}
