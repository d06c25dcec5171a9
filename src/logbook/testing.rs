//! What the logbook's unit tests share: a log in a temporary SQLite file, and batches to
//! enter in it.

use std::path::PathBuf;

use jiff::civil::Date;

use crate::batch_record::Record;
use crate::config::{Pharmacy, Settings};
use crate::order::{self, ComponentLot, Order};
use crate::store::{self, Db, Location, Transaction};

use super::{Actor, NewBatch, insert};

pub(super) struct Log {
    dir: tempfile::TempDir,
    db: Box<dyn Db>,
}

impl Log {
    pub(super) fn new() -> Log {
        let dir = tempfile::tempdir().unwrap();
        let db = store::open(&Location::Sqlite(dir.path().join("log.sqlite3"))).unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        Log { dir, db }
    }

    pub(super) fn db(&mut self) -> &mut dyn Db {
        self.db.as_mut()
    }

    /// The output folder of the log's batches.
    pub(super) fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Adds the pharmacist RP (PIN "correct horse") as the log's first person.
    pub(super) fn pharmacist(&mut self) -> super::people::Person {
        use super::people::{self, NewPerson, Role};
        let hash = people::hash_pin("correct horse").unwrap();
        self.db()
            .write(|tx| {
                people::add(
                    tx,
                    &NewPerson {
                        initials: "RP",
                        name: "R P",
                        role: Role::Pharmacist,
                        pin_hash: &hash,
                    },
                    None,
                    &actor(),
                )
            })
            .unwrap();
        people::person(self.db(), "RP").unwrap().unwrap()
    }
}

pub(super) fn actor() -> Actor {
    Actor {
        workstation: "bench-1".into(),
        os_user: "jd".into(),
    }
}

pub(super) fn settings() -> Settings {
    Settings {
        pharmacy: Some(Pharmacy {
            name: "Main Street Compounding Pharmacy".into(),
            address: "100 Main Street".into(),
            phone: "(217) 555-0100".into(),
        }),
        ..Settings::default()
    }
}

pub(super) fn order() -> Order {
    Order {
        strengths: vec![order::parse_strength("50 mg").unwrap()],
        quantity: 30,
        rx: Some("RX-1".into()),
        patient: Some("Jane Q. Patient".into()),
        prescriber: Some("Dr. A".into()),
        components: vec![ComponentLot {
            name: "Ketamine hydrochloride, USP".into(),
            manufacturer: Some("Acme".into()),
            lot: "K-77".into(),
            expiry: Some(jiff::civil::date(2027, 6, 30)),
        }],
        ..Order::default()
    }
}

pub(super) fn record(lot: &str, date: Date) -> Record {
    let formula = crate::library::load("ketamine-hcl-troche").unwrap();
    Record::new(formula, order(), &settings(), date, lot.to_string()).unwrap()
}

/// Enters a batch of lot `lot` made on `date`, with a worksheet to be printed.
pub(super) fn enter(db: &mut dyn Db, lot: &str, date: Date) -> Record {
    let r = record(lot, date);
    let files = vec![(
        PathBuf::from(format!("/out/{lot}-worksheet.pdf")),
        b"%PDF".to_vec(),
    )];
    let mut tx = Transaction::begin(db).unwrap();
    insert(
        &mut tx,
        &NewBatch {
            prepared_by: None,
            record: &r,
            kind: "batch",
            settings: &settings(),
            out_dir: Some(std::path::Path::new("/out")),
            files: &files,
            record_json: "{}",
        },
        &actor(),
    )
    .unwrap();
    tx.commit().unwrap();
    r
}
