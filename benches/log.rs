//! `troche log` and `troche recall` queries over a log of 100,000 made-up batches
//! (docs/performance.md). The log is generated once a run, in a SQLite file under the target directory.

use std::sync::OnceLock;

use troche::logbook::{self, Filter};

#[path = "support/generate.rs"]
mod generate;
use troche::store::{self, Db, Location};

const BATCHES: u64 = 100_000;

fn main() {
    divan::main();
}

/// The generated log, under the target directory (a `static` is never dropped, so a temporary
/// folder would outlive every run); made anew by each run.
fn log() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-log");
        // Nothing there yet is as good as an old log removed.
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("bench folder");
        let mut db = store::open(&Location::Sqlite(d.join("log.sqlite3"))).expect("log");
        generate::generate(db.as_mut(), BATCHES).expect("generate");
        d
    })
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
