//! `troche stock` and `troche cs report`, each run as the whole command (process start,
//! opening the log, the query, the output), over a log of 10,000 stock lots and 100,000
//! movements (docs/stock.md). The log is generated once a run, in a SQLite file under the target directory, through
//! the same functions `stock receive` and `stock adjust` call, so every movement is a chained
//! stock event as the program writes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use jiff::civil::date;
use rust_decimal::Decimal;
use troche::formula::Schedule;
use troche::logbook::Actor;
use troche::stock::{self, NewEvent, Receipt};
use troche::store::{self, Location};

const LOTS: usize = 10_000;
/// Movements per lot: its receipt and nine adjustments.
const MOVES: usize = 10;
/// One lot in this many is ketamine, a Schedule III drug: 50 lots, 500 movements in its book.
const KETAMINE_EVERY: usize = 200;

fn main() {
    divan::main();
}

/// The generated log, under the target directory (a `static` is never dropped, so a temporary
/// folder would outlive every run); made anew by each run.
fn log() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-stock");
        // Nothing there yet is as good as an old log removed.
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("bench folder");
        generate(&d.join("log.sqlite3"));
        d
    })
}

fn generate(path: &Path) {
    let mut db = store::open(&Location::Sqlite(path.to_path_buf())).expect("log");
    let actor = Actor {
        workstation: "bench".into(),
        os_user: "bench".into(),
    };
    // A thousand lots a transaction: the receipts of a delivery, then their adjustments.
    for chunk in 0..LOTS / 1_000 {
        db.write(|tx| {
            for i in chunk * 1_000..(chunk + 1) * 1_000 {
                let ketamine = i % KETAMINE_EVERY == 0;
                let receipt = Receipt {
                    name: if ketamine {
                        "Ketamine hydrochloride, USP".into()
                    } else {
                        format!("Component {:04}", i % 997)
                    },
                    lot: format!("L{i:05}"),
                    manufacturer: "Bench Chemicals".into(),
                    expiry: expiry(i),
                    unit: "g",
                    quantity: 100_000_000,
                    assay: Some(Decimal::new(995, 1)),
                    assay_basis: None,
                    water: None,
                    potency: Some(Decimal::new(995, 1)),
                    form: None,
                    schedule: ketamine.then_some(Schedule::CIII),
                    supplier: ketamine.then(|| "Bench Wholesale".into()),
                    invoice: ketamine.then(|| format!("INV-{i}")),
                    order_form: None,
                    certificate_sha256: None,
                    potency_step: None,
                };
                let id = stock::receive(tx, &receipt, "RP", &actor)?;
                for _ in 1..MOVES {
                    stock::move_quantity(
                        tx,
                        "--quantity",
                        &id,
                        &NewEvent {
                            lot: &id,
                            what: "adjusted",
                            quantity: Some(-1_000),
                            who: Some("RP"),
                            details: serde_json::json!({"reason": "count correction"}),
                            ..NewEvent::default()
                        },
                        &actor,
                    )?;
                }
            }
            Ok(())
        })
        .expect("generate");
    }
}

/// Expiries spread over three years, so the list's order by expiry has work to do.
fn expiry(i: usize) -> jiff::civil::Date {
    let small = |n: usize| i8::try_from(n).expect("under 128");
    date(
        2027 + i16::from(small(i % 3)),
        1 + small(i % 12),
        1 + small(i % 28),
    )
}

fn troche(args: &[&str]) {
    let db: PathBuf = log().join("log.sqlite3");
    let status = Command::new(env!("CARGO_BIN_EXE_troche"))
        .args(args)
        .arg("--db")
        .arg(&db)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("troche runs");
    assert!(status.success(), "troche {args:?} failed");
}

#[divan::bench(sample_count = 30)]
fn stock_list(b: divan::Bencher) {
    log();
    b.bench(|| troche(&["stock"]));
}

#[divan::bench(sample_count = 30)]
fn cs_report_a_year(b: divan::Bencher) {
    log();
    b.bench(|| {
        troche(&[
            "cs",
            "report",
            "--drug",
            "ketamine",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
        ]);
    });
}
