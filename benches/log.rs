//! `troche log` and `troche recall` queries over a log of 100,000 made-up batches
//! (docs/performance.md). The log is generated once, in a temporary SQLite file.

use std::sync::OnceLock;

use troche::logbook::{self, Filter};

#[path = "support/generate.rs"]
mod generate;
use troche::store::{self, Db, Location};

const BATCHES: u64 = 100_000;

fn main() {
    divan::main();
}

fn log() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("temp dir");
        let mut db = store::open(&Location::Sqlite(d.path().join("log.sqlite3"))).expect("log");
        generate::generate(db.as_mut(), BATCHES).expect("generate");
        d
    });
    dir.path()
}

fn open() -> Box<dyn Db> {
    store::open(&Location::Sqlite(log().join("log.sqlite3"))).expect("log")
}

#[divan::bench]
fn recall_one_component_lot(b: divan::Bencher) {
    let mut db = open();
    b.bench_local(|| logbook::recall(db.as_mut(), "CL-01234", &Filter::default()).unwrap());
}

#[divan::bench]
fn log_newest_200(b: divan::Bencher) {
    let mut db = open();
    let f = Filter {
        limit: Some(200),
        ..Filter::default()
    };
    b.bench_local(|| logbook::list(db.as_mut(), &f).unwrap());
}

#[divan::bench]
fn log_one_patient(b: divan::Bencher) {
    let mut db = open();
    let f = Filter {
        patient: Some("Patient 4242".into()),
        ..Filter::default()
    };
    b.bench_local(|| logbook::list(db.as_mut(), &f).unwrap());
}

#[divan::bench]
fn log_one_month_of_a_formula(b: divan::Bencher) {
    let mut db = open();
    let f = Filter {
        formula: Some("progesterone-troche".into()),
        from: Some(jiff::civil::date(2025, 3, 1)),
        to: Some(jiff::civil::date(2025, 3, 31)),
        ..Filter::default()
    };
    b.bench_local(|| logbook::list(db.as_mut(), &f).unwrap());
}
