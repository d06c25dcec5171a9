//! A write transaction that cannot be left open: it rolls back when dropped unless committed,
//! so every early return (`?`) inside a write leaves the log as it was.

use std::ops::{Deref, DerefMut};
use std::path::Path;

use super::{Db, Dialect, Row, Value};
use crate::error::{Error, Result};

/// The log's write lock and transaction, held until [`commit`](Transaction::commit),
/// [`rollback`](Transaction::rollback) or drop. Reads and writes go through it (it derefs to
/// the database); code that must run inside a write takes `&mut Transaction<'_>`, so the type
/// says so.
pub struct Transaction<'a> {
    db: &'a mut dyn Db,
    /// Committed or rolled back: nothing left for drop to do.
    finished: bool,
}

impl<'a> Transaction<'a> {
    /// Takes the log's write lock and starts a transaction (SQLite's `BEGIN IMMEDIATE`, a
    /// PostgreSQL advisory transaction lock).
    pub fn begin(db: &'a mut dyn Db) -> Result<Transaction<'a>> {
        db.begin_write()?;
        Ok(Transaction {
            db,
            finished: false,
        })
    }

    /// Makes the transaction's writes durable. If the commit itself fails, the transaction
    /// is rolled back by drop.
    pub fn commit(mut self) -> Result<()> {
        self.db.commit()?;
        self.finished = true;
        Ok(())
    }

    /// Undoes the transaction's writes, and says whether that worked.
    pub fn rollback(mut self) -> Result<()> {
        self.finished = true;
        self.db.rollback()
    }
}

impl<'a> Deref for Transaction<'a> {
    type Target = dyn Db + 'a;
    fn deref(&self) -> &Self::Target {
        self.db
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.db
    }
}

/// A transaction is a database to the code inside it (so functions that only read take
/// `&mut dyn Db` and are given one), except that it cannot start, commit or roll back another
/// transaction: its owner ends it.
impl Db for Transaction<'_> {
    fn dialect(&self) -> Dialect {
        self.db.dialect()
    }
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.db.batch(sql)
    }
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.db.execute(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.db.query(sql, params)
    }
    fn begin_write(&mut self) -> Result<()> {
        Err(nested("start another transaction"))
    }
    fn commit(&mut self) -> Result<()> {
        Err(nested("commit"))
    }
    fn rollback(&mut self) -> Result<()> {
        Err(nested("roll back"))
    }
    fn describe(&self) -> String {
        self.db.describe()
    }
    fn backup(&mut self, to: &Path) -> Result<()> {
        self.db.backup(to)
    }
    fn integrity_check(&mut self) -> Result<Vec<String>> {
        self.db.integrity_check()
    }
    fn read_only(&self) -> bool {
        self.db.read_only()
    }
}

fn nested(what: &str) -> Error {
    Error::bug(format!(
        "code inside a write transaction tried to {what}; only the transaction's owner ends it"
    ))
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Drop cannot return an error, and it runs while an earlier error is already on its
        // way to the user: the failed rollback is told on standard error beside it. (The
        // database ends the transaction when the connection closes, which follows at once.)
        if let Err(e) = self.db.rollback() {
            crate::escape::eprintln(&format!(
                "warning: the compounding log's transaction could not be rolled back: {e}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Location, Value, open};

    fn count(db: &mut dyn Db) -> i64 {
        db.query("SELECT count(*) AS n FROM formula_texts", &[])
            .unwrap()[0]
            .int("n")
            .unwrap()
    }

    fn insert(db: &mut dyn Db, sha: &str) {
        db.execute(
            "INSERT INTO formula_texts (sha256, formula_id, version, text) VALUES ($1, 'f', 1, 't')",
            &[Value::text(sha)],
        )
        .unwrap();
    }

    /// A database whose commit and rollback fail, as a lost connection's do.
    struct Lost;

    impl Db for Lost {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        fn batch(&mut self, _: &str) -> Result<()> {
            Ok(())
        }
        fn execute(&mut self, _: &str, _: &[Value]) -> Result<u64> {
            Ok(0)
        }
        fn query(&mut self, _: &str, _: &[Value]) -> Result<Vec<Row>> {
            Ok(Vec::new())
        }
        fn begin_write(&mut self) -> Result<()> {
            Ok(())
        }
        fn commit(&mut self) -> Result<()> {
            Err(Error::stored("connection lost"))
        }
        fn rollback(&mut self) -> Result<()> {
            Err(Error::stored("connection lost"))
        }
        fn describe(&self) -> String {
            "lost".into()
        }
        fn backup(&mut self, _: &Path) -> Result<()> {
            Ok(())
        }
        fn integrity_check(&mut self) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_failed_rollback_is_reported_and_code_inside_cannot_end_the_transaction() {
        let mut lost = Lost;
        let e = Transaction::begin(&mut lost)
            .unwrap()
            .rollback()
            .unwrap_err();
        assert!(e.to_string().contains("connection lost"), "{e}");
        // A failed commit is returned; the rollback that drop then tries fails too, and is
        // told on standard error, never a panic.
        assert!(Transaction::begin(&mut lost).unwrap().commit().is_err());
        let mut tx = Transaction::begin(&mut lost).unwrap();
        let inner: &mut dyn Db = &mut tx;
        assert!(inner.commit().is_err());
        assert!(inner.begin_write().is_err());
        assert!(inner.rollback().is_err());
    }

    #[test]
    fn rolls_back_on_drop_and_commits_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&Location::Sqlite(dir.path().join("log.sqlite3"))).unwrap();
        {
            let mut tx = Transaction::begin(db.as_mut()).unwrap();
            insert(&mut tx, "a");
            assert_eq!(count(&mut tx), 1);
        }
        assert_eq!(count(db.as_mut()), 0, "dropped without commit: rolled back");
        let mut tx = Transaction::begin(db.as_mut()).unwrap();
        insert(&mut tx, "b");
        tx.rollback().unwrap();
        assert_eq!(count(db.as_mut()), 0);
        let mut tx = Transaction::begin(db.as_mut()).unwrap();
        insert(&mut tx, "c");
        tx.commit().unwrap();
        assert_eq!(count(db.as_mut()), 1);
        // `write` rolls back on an error from its closure.
        let r: crate::Result<()> = db.write(|tx| {
            insert(tx, "d");
            Err(crate::Error::stored("stop"))
        });
        assert!(r.is_err());
        assert_eq!(count(db.as_mut()), 1);
    }
}
