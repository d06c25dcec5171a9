//! The log on a PostgreSQL server, for a pharmacy with several workstations. The sync
//! `postgres` client (docs/log.md says why). Write transactions take one advisory transaction
//! lock, so lot assignment is serialised across workstations exactly as SQLite's
//! `BEGIN IMMEDIATE` serialises it across processes; the unique key on the lot stays as the
//! last line of defence.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls};

use super::{Db, Dialect, Row, Value, machine, redact};
use crate::error::{Error, Result};

/// The advisory lock key of the log's writers ("TROCHE" in ASCII, as a number).
const WRITE_LOCK: i64 = 0x5452_4F43_4845;

pub struct Postgres {
    client: Client,
    url: String,
}

impl Postgres {
    pub fn connect(url: &str) -> Result<Postgres> {
        let shown = redact(url);
        let mut config: Config = url
            .parse()
            .map_err(|e| Error::arg("database", format!("{shown}: not a PostgreSQL URL: {e}")))?;
        if config.get_password().is_none()
            && let Ok(p) = std::env::var("PGPASSWORD")
        {
            config.password(p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let client = config.connect(NoTls).map_err(|e| {
            Error::database(
                format!("cannot reach the PostgreSQL log at {shown} (nothing was changed)"),
                e,
            )
        })?;
        Ok(Postgres { client, url: shown })
    }

    fn err(&self, e: postgres::Error) -> Error {
        machine(&self.url, e)
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
            .map_err(|e| machine(format!("{}: {}", self.url, super::doing(sql)), e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let rows = self
            .client
            .query(sql, bind(params).as_slice())
            .map_err(|e| machine(format!("{}: {}", self.url, super::doing(sql)), e))?;
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
