//! Component stock and the controlled-substance perpetual inventory (docs/stock.md): lots
//! received into quarantine, released by a pharmacist, drawn on by `make` (first expiry,
//! first out), reserved when printed, taken off when recorded, recalled; and the book of a
//! controlled drug, whose balance is the sum of its movements and never negative. SQLite
//! always; PostgreSQL in the test marked `#[ignore]`.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use troche::store::Db;

use crate::common::*;
use crate::log::{Log, NEEDS_POSTGRES, make_args, postgres_log};

const KETAMINE: &str = "Ketamine hydrochloride, USP";

fn receive(log: &Log, name: &str, lot: &str, quantity: &str, extra: &[&str]) -> String {
    let mut args = vec!["stock", "receive", name, "--lot", lot];
    if !extra.contains(&"--expiry") {
        args.extend(["--expiry", "2027-06-30"]);
    }
    args.extend([
        "--manufacturer",
        "Medisca",
        "--quantity",
        quantity,
        "--by",
        TK.0,
    ]);
    args.extend_from_slice(extra);
    let o = log.run_in(&args, &[TK.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn controlled(log: &Log, lot: &str, quantity: &str, extra: &[&str]) {
    let mut e = vec![
        "--supplier",
        "Medisca",
        "--invoice",
        "INV-1",
        "--assay",
        "99.5",
    ];
    e.extend_from_slice(extra);
    receive(log, KETAMINE, lot, quantity, &e);
}

fn release(log: &Log, lot: &str) {
    log.signed(&["stock", "release", lot, "--by", RP.0], &[RP.1]);
}

fn lots(log: &Log) -> Vec<Value> {
    log.json(&["stock", "--all"]).as_array().unwrap().clone()
}

fn lot(log: &Log, lot: &str) -> Value {
    lots(log)
        .into_iter()
        .find(|l| l["lot"] == lot)
        .unwrap_or_else(|| panic!("no lot {lot}"))
}

/// `make` of the ketamine troche (about 1.7 g of ketamine hydrochloride), signed by TK.
fn make(log: &Log, out: &str, extra: &[&str]) -> std::process::Output {
    let cfg = fixture("troche.toml");
    let mut args = make_args(out, &cfg, extra);
    args.extend(["--by", TK.0]);
    log.run_in(&args, &[TK.1])
}

fn flow(log: &Log, tmp: &Path) {
    log.people();
    // A lot starts in quarantine: a batch cannot draw on it.
    let said = receive(
        log,
        KETAMINE,
        "k-78",
        "25 g",
        &[
            "--supplier",
            "Medisca",
            "--invoice",
            "INV-1",
            "--assay",
            "99.5",
        ],
    );
    assert!(said.contains("in quarantine"), "{said}");
    assert_eq!(lot(log, "K-78")["status"], "quarantined");
    let out = tmp.join("out").display().to_string();
    let o = make(log, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not enough Ketamine") && err.contains("quarantined"),
        "{err}"
    );
    assert!(!tmp.join("out").join("261130-001-worksheet.pdf").exists());
    // Only a pharmacist releases it.
    log.refused(
        &["stock", "release", "K-78", "--by", TK.0],
        &[TK.1],
        2,
        "only a pharmacist",
    );
    release(log, "K-78");
    let o = make(log, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record: Value =
        serde_json::from_slice(&std::fs::read(tmp.join("out").join("261130-001.json")).unwrap())
            .unwrap();
    let text = record.to_string();
    assert!(text.contains("K-78") && text.contains("Medisca"), "{text}");
    // Reserved while printed and not recorded.
    let l = lot(log, "K-78");
    assert_eq!(l["on_hand"], "25");
    assert_ne!(l["reserved"], "0");
    // Recorded: the actual weight is taken off, the reservation ends.
    log.signed(
        &[
            "record",
            "261130-001",
            "--by",
            TK.0,
            "--witness",
            PH.0,
            "--weight",
            "Ketamine=1.75 g",
            "--made",
            "30",
        ],
        &[TK.1, PH.1],
    );
    let l = lot(log, "K-78");
    assert_eq!(
        (l["on_hand"].as_str(), l["reserved"].as_str()),
        (Some("23.25"), Some("0"))
    );
    // Recorded again, complete and with another weight: only the difference moves.
    let args = crate::bench_record::complete_record(
        log,
        "261130-001",
        &[
            "--by",
            TK.0,
            "--witness",
            PH.0,
            "--reason",
            "the first record lacked the other components",
        ],
    );
    let weighed: rust_decimal::Decimal = args
        .iter()
        .find_map(|a| a.strip_prefix("Ketamine hydrochloride, USP="))
        .and_then(|a| a.strip_suffix(" g"))
        .expect("the active's weight")
        .parse()
        .unwrap();
    log.signed(&crate::bench_record::strs(&args), &[TK.1, PH.1]);
    let left = rust_decimal::Decimal::from(25) - weighed;
    assert_eq!(lot(log, "K-78")["on_hand"], left.normalize().to_string());
    // A second batch, rejected: its reservation is released with no event of its own.
    let o = make(log, &out, &["--rx", "RX-2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_ne!(lot(log, "K-78")["reserved"], "0");
    log.signed(
        &["verify", "261130-002", "--by", RP.0, "--reject", "spilled"],
        &[RP.1],
    );
    assert_eq!(lot(log, "K-78")["reserved"], "0");
    // Waste, witnessed by a second person.
    log.refused(
        &[
            "cs",
            "waste",
            "--drug",
            "ketamine",
            "--lot",
            "K-78",
            "--quantity",
            "0.3 g",
            "--reason",
            "remainder",
            "--by",
            TK.0,
            "--witness",
            TK.0,
        ],
        &[TK.1, TK.1],
        2,
        "cannot witness their own",
    );
    log.signed(
        &[
            "cs",
            "waste",
            "--drug",
            "ketamine",
            "--lot",
            "K-78",
            "--quantity",
            "0.3 g",
            "--reason",
            "aliquot remainder",
            "--by",
            TK.0,
            "--witness",
            PH.0,
        ],
        &[TK.1, PH.1],
    );
    assert_eq!(lot(log, "K-78")["on_hand"], "22.961");
    // The book never goes below zero.
    log.refused(
        &[
            "stock",
            "adjust",
            "K-78",
            "--quantity",
            "-24 g",
            "--reason",
            "count",
            "--by",
            RP.0,
        ],
        &[RP.1],
        2,
        "less than nothing",
    );
    // A technician does not adjust a controlled drug's book.
    log.refused(
        &[
            "stock",
            "adjust",
            "K-78",
            "--quantity",
            "-1 g",
            "--reason",
            "spill",
            "--by",
            TK.0,
        ],
        &[TK.1],
        2,
        "only a pharmacist",
    );
    // A count off the book is flagged on every report until resolved.
    let o = log.run_in(
        &[
            "cs",
            "count",
            "--drug",
            "ketamine",
            "--lot",
            "K-78",
            "--counted",
            "22.861 g",
            "--by",
            TK.0,
            "--witness",
            PH.0,
        ],
        &[TK.1, PH.1],
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success() && err.contains("FLAGGED"), "{err}");
    let count = err
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    let report = |format: &str| {
        log.ok(&[
            "cs",
            "report",
            "--drug",
            "ketamine",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
            "--format",
            format,
        ])
    };
    let csv = report("csv");
    assert!(
        csv.starts_with("lot,schedule,unit,event,at,what,in,out,balance"),
        "{csv}"
    );
    for want in [
        "opening balance,,,0,",
        ",received,25,,25,",
        ",used,,1.75,23.25,261130-001,TK",
        ",used,0.011,,23.261,261130-001",
        ",wasted,,0.3,22.961,,TK,PH,aliquot remainder",
        "closing balance,,,22.961,",
        "UNRESOLVED DISCREPANCY",
    ] {
        assert!(csv.contains(want), "{want}\n{csv}");
    }
    log.signed(
        &[
            "cs",
            "resolve",
            &count,
            "--reason",
            "spill in the hood",
            "--adjust",
            "--by",
            RP.0,
        ],
        &[RP.1],
    );
    let csv = report("csv");
    assert!(!csv.contains("UNRESOLVED"), "{csv}");
    // The finished units of the batches made from it: the rejected one made none.
    assert!(
        csv.contains("261130-001,CIII,units,,2026-11-30,units made,30,,30,261130-001"),
        "{csv}"
    );
    assert!(
        csv.contains("261130-002,CIII,units,,2026-11-30,units made,0,,0,"),
        "{csv}"
    );
    assert!(csv.contains("closing balance,,,22.861,"), "{csv}");
    assert_eq!(lot(log, "K-78")["on_hand"], "22.861");
    // Recall: the lot is blocked, the batch made with it held, its patient listed.
    log.signed(&["verify", "261130-001", "--by", RP.0], &[RP.1]);
    let listed = log.signed(
        &[
            "stock",
            "recall",
            "K-78",
            "--reason",
            "supplier recall",
            "--by",
            RP.0,
            "--format",
            "csv",
        ],
        &[RP.1],
    );
    assert!(
        listed.contains("261130-001") && listed.contains("Ann Lee"),
        "{listed}"
    );
    assert!(listed.contains("quarantined"), "{listed}");
    assert_eq!(lot(log, "K-78")["status"], "recalled");
    let o = make(log, &out, &["--rx", "RX-3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("recalled"));
    // A count may find nothing, and is flagged against the book.
    let o = log.run_in(
        &[
            "cs",
            "count",
            "--drug",
            "ketamine",
            "--lot",
            "K-78",
            "--counted",
            "0 g",
            "--by",
            TK.0,
            "--witness",
            PH.0,
        ],
        &[TK.1, PH.1],
    );
    let said = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success() && said.contains("counted 0 g"), "{said}");
    assert!(said.contains("FLAGGED"), "{said}");
    // One lot's receipt and history.
    let shown = log.ok(&["stock", "show", "k-78"]);
    for want in [
        "lot K-78 of Ketamine hydrochloride, USP",
        "supplier Medisca",
        "recalled",
    ] {
        assert!(shown.contains(want), "{want}\n{shown}");
    }
    // Every stock event is in the chain.
    let check = log.ok(&["db", "check"]);
    assert!(
        check.contains("stock chain: ") && check.contains(" events verified"),
        "{check}"
    );
}

#[test]
fn from_receipt_to_recall_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    flow(&Log::sqlite(tmp.path()), tmp.path());
}

#[test]
#[ignore = "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)"]
fn from_receipt_to_recall_postgres() {
    let _ = NEEDS_POSTGRES;
    let tmp = tempfile::tempdir().unwrap();
    let (log, _schema) = postgres_log("stock");
    flow(&log, tmp.path());
}

/// A certificate on the dried basis is brought to as-is, and the step is shown.
#[test]
fn the_potency_is_worked_out_from_the_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    let said = receive(
        &log,
        "Methylcobalamin",
        "M-1",
        "5 g",
        &[
            "--assay",
            "98.1",
            "--assay-basis",
            "dried",
            "--water",
            "12",
            "--form",
            "hydrate",
        ],
    );
    assert!(
        said.contains("98.1 % (dried basis) × (100 − 12 % water) / 100 = 86.328 % as is"),
        "{said}"
    );
    assert_eq!(lot(&log, "M-1")["potency"], "86.328");
    log.refused(
        &[
            "stock",
            "receive",
            "Methylcobalamin",
            "--lot",
            "M-2",
            "--expiry",
            "2027-01-01",
            "--manufacturer",
            "X",
            "--quantity",
            "5 g",
            "--assay",
            "98",
            "--assay-basis",
            "anhydrous",
            "--by",
            TK.0,
        ],
        &[TK.1],
        2,
        "--water",
    );
}

/// The receipt of a controlled drug names its supplier and invoice; of Schedule II, its order
/// form too. A lot is received once.
#[test]
fn a_controlled_receipt_names_its_paperwork() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    let base = [
        "stock",
        "receive",
        "Morphine sulfate, USP",
        "--lot",
        "MS-1",
        "--expiry",
        "2027-01-01",
        "--manufacturer",
        "X",
        "--quantity",
        "5 g",
        "--by",
        TK.0,
    ];
    log.refused(&base, &[TK.1], 2, "--supplier");
    let mut with = base.to_vec();
    with.extend(["--supplier", "S", "--invoice", "I-1"]);
    log.refused(&with, &[TK.1], 2, "--order-form");
    with.extend(["--order-form", "222-123"]);
    log.signed(&with, &[TK.1]);
    assert_eq!(lot(&log, "MS-1")["schedule"], "CII");
    log.refused(&with, &[TK.1], 2, "received once");
}

/// The list: soonest expiry first, expired and expiring lots flagged; JSON and CSV.
#[test]
fn the_list_flags_what_expires() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    for (lot, expiry) in [("LATE", "2099-01-01"), ("OLD", "2020-01-01")] {
        log.signed(
            &[
                "stock",
                "receive",
                "Stevia powder",
                "--lot",
                lot,
                "--expiry",
                expiry,
                "--manufacturer",
                "X",
                "--quantity",
                "100 g",
                "--by",
                TK.0,
            ],
            &[TK.1],
        );
    }
    let listed = lots(&log);
    assert_eq!(listed[0]["lot"], "OLD");
    assert_eq!(listed[0]["flag"], "EXPIRED");
    assert_eq!(listed[1]["flag"], "");
    let csv = log.ok(&["stock", "--format", "csv"]);
    assert!(
        csv.starts_with("lot,name,on_hand,reserved,unit,expiry,status,flag"),
        "{csv}"
    );
}

/// A controlled active with no lot, where the pharmacy keeps stock, is refused before
/// anything is printed; the first-expiring released lot that holds enough is chosen.
#[test]
fn make_chooses_the_first_expiry_that_holds_enough() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    receive(&log, "Sodium chloride, USP", "NA-1", "100 g", &[]);
    let out = tmp.path().join("out").display().to_string();
    let o = make(&log, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("stock holds no lot of it"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Soonest first, but it holds too little; the next one serves.
    controlled(&log, "K-SMALL", "1 g", &["--expiry", "2027-01-01"]);
    controlled(&log, "K-BIG", "20 g", &[]);
    release(&log, "K-SMALL");
    release(&log, "K-BIG");
    let o = make(&log, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(lot(&log, "K-SMALL")["reserved"], "0");
    assert_ne!(lot(&log, "K-BIG")["reserved"], "0");
}

/// The stock history cannot be changed, and an edit behind the triggers breaks its chain.
#[test]
fn the_stock_history_is_append_only_and_chained() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    receive(&log, "Stevia powder", "ST-1", "100 g", &[]);
    release(&log, "ST-1");
    let path = tmp.path().join("log.sqlite3");
    let mut db = troche::store::sqlite::Sqlite::open(&path).unwrap();
    for sql in [
        "UPDATE stock_events SET quantity = 1",
        "DELETE FROM stock_events",
        "UPDATE stock_lots SET expiry = '2999-01-01'",
        "UPDATE stock_lots SET status = 'rejected'",
        "DELETE FROM stock_lots",
    ] {
        assert!(db.execute(sql, &[]).is_err(), "{sql} was allowed");
    }
    db.batch("DROP TRIGGER stock_events_no_update").unwrap();
    db.execute(
        "UPDATE stock_events SET quantity = 200000000 WHERE seq = 1",
        &[],
    )
    .unwrap();
    drop(db);
    let o = log.run(&["db", "check"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("stock chain: BROKEN: stock event 1"), "{out}");
}

#[derive(Debug, Clone)]
enum Op {
    Receive(i64),
    Adjust(usize, i64),
    Reserve(usize, i64),
    Record(usize, i64),
    Waste(usize, i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1i64..5_000_000).prop_map(Op::Receive),
        (0usize..4, -3_000_000i64..3_000_000).prop_map(|(l, q)| Op::Adjust(l, q)),
        (0usize..4, 1i64..2_000_000).prop_map(|(l, q)| Op::Reserve(l, q)),
        (0usize..6, 0i64..3_000_000).prop_map(|(b, q)| Op::Record(b, q)),
        (0usize..4, 1i64..1_000_000).prop_map(|(l, q)| Op::Waste(l, q)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random receipts, adjustments, reservations, records and waste: every balance is the
    /// sum of its movements and never negative, whatever was refused along the way.
    #[test]
    fn balances_are_the_sum_of_movements_and_never_negative(ops in proptest::collection::vec(op(), 1..40)) {
        use troche::logbook::Actor;
        use troche::stock::{self, NewEvent, pick};
        let tmp = tempfile::tempdir().unwrap();
        let loc = troche::store::Location::Sqlite(tmp.path().join("log.sqlite3"));
        let mut db = troche::store::open(&loc).unwrap();
        let actor = Actor { workstation: "w".into(), os_user: "u".into() };
        let mut lots: Vec<String> = Vec::new();
        let mut batches: Vec<String> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let r = db.write(|tx| match op {
                Op::Receive(q) => {
                    let lot = format!("L{i}");
                    stock::receive(tx, &stock::Receipt {
                        name: "Ketamine hydrochloride, USP".into(), lot: lot.clone(),
                        manufacturer: "M".into(), expiry: jiff::civil::date(2030, 1, 1),
                        unit: "g", quantity: *q, assay: None, assay_basis: None, water: None,
                        potency: None, form: None, schedule: None, supplier: None,
                        invoice: None, order_form: None, certificate_sha256: None,
                        potency_step: None,
                    }, "TK", &actor)?;
                    lots.push(lot);
                    Ok(())
                }
                Op::Adjust(l, q) | Op::Waste(l, q) => {
                    let Some(lot) = lots.get(*l) else { return Ok(()) };
                    let q = if matches!(op, Op::Waste(..)) { -q } else { *q };
                    stock::move_quantity(tx, "--quantity", lot, &NewEvent {
                        what: "adjusted", quantity: Some(q), ..NewEvent::default()
                    }, &actor).map(|_| ())
                }
                Op::Reserve(l, q) => {
                    let Some(lot) = lots.get(*l) else { return Ok(()) };
                    let have = stock::get(tx, "LOT", lot)?;
                    if have.available() < *q { return Ok(()) }
                    let batch = format!("B{i}");
                    pick::reserve(tx, &batch, &[pick::Picked {
                        ingredient: "Ketamine hydrochloride, USP".into(), lot: lot.clone(),
                        quantity: *q, unit: "g".into(),
                    }], None, &actor)?;
                    batches.push(batch);
                    Ok(())
                }
                Op::Record(b, q) => {
                    let Some(batch) = batches.get(*b) else { return Ok(()) };
                    let weights = serde_json::json!([{
                        "ingredient": "Ketamine hydrochloride, USP",
                        "actual_g": troche::stock::from_micro(*q).to_string(),
                    }]);
                    pick::take_off(tx, batch, &weights, "TK", &actor)
                }
            });
            // A refusal changes nothing; anything else is a failure of the test.
            if let Err(e) = r {
                prop_assert_eq!(e.exit_code(), 2, "{}", e);
            }
            for l in stock::list(db.as_mut(), true).unwrap() {
                let sum: i64 = stock::cs::movements(db.as_mut(), &l.lot).unwrap()
                    .iter().filter_map(|m| m.quantity).sum();
                prop_assert_eq!(l.on_hand, sum);
                prop_assert!(l.on_hand >= 0, "lot {} at {}", l.lot, l.on_hand);
                prop_assert!(l.reserved >= 0, "lot {} reserved {}", l.lot, l.reserved);
            }
        }
        prop_assert_eq!(stock::chain::verify(db.as_mut()).unwrap(), None);
    }
}

/// A recipe run draws on stock entry by entry: an entry short of it fails, the run goes on,
/// and what the chunk's earlier entries took is counted before the log holds it.
#[test]
fn a_batch_run_reports_short_stock_per_entry_and_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    controlled(&log, "K-1", "4 g", &[]);
    release(&log, "K-1");
    let entry = |n: usize| {
        format!(
            "[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nquantity = 30\n\
             basis = \"salt\"\nrx = \"RX-{n}\"\npatient = \"Jane Q. Patient\"\n\
             prescriber = \"Alan Smith, MD\"\nprescriber_dea = \"AS1234563\"\n\
             date_written = 2026-11-20\n"
        )
    };
    let recipe = tmp.path().join("recipe.toml");
    std::fs::write(
        &recipe,
        format!(
            "date = 2026-11-30\n{}",
            (0..3).map(entry).collect::<String>()
        ),
    )
    .unwrap();
    let out = tmp.path().join("out").display().to_string();
    let cfg = fixture("troche.toml");
    let o = log.run_in(
        &[
            "batch",
            recipe.to_str().unwrap(),
            "--out",
            &out,
            "--config",
            &cfg,
            "--backdate",
            "--by",
            TK.0,
        ],
        &[TK.1],
    );
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("2 made") && said.contains("1 failed"),
        "{said}"
    );
    assert!(
        said.contains("not enough Ketamine hydrochloride, USP on hand"),
        "{said}"
    );
    assert!(
        said.contains("3.016 g   Ketamine hydrochloride, USP: lot K-1  (2 batches)"),
        "{said}"
    );
    // 1.5 g at the lot's 99.5 % (1.508 g) reserved for each of the two made.
    assert_eq!(lot(&log, "K-1")["reserved"], "3.016");
}

/// A lot received in another form than the formula's ingredient name states is never drawn
/// on: the amounts would be off by the water of hydration.
#[test]
fn a_lot_of_another_form_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    let name = "Lidocaine hydrochloride, USP (monohydrate)";
    receive(&log, name, "L-1", "50 g", &["--form", "anhydrous"]);
    release(&log, "L-1");
    let out = tmp.path().join("out").display().to_string();
    let cfg = fixture("troche.toml");
    let make = |extra: &[&str]| {
        let mut args = vec![
            "make",
            "lidocaine-hcl-lollipop",
            "--strength",
            "50 mg",
            "--quantity",
            "30",
            "--config",
            &cfg,
            "--out",
            &out,
            "--date",
            "2026-11-30",
            "--backdate",
            "--by",
            TK.0,
        ];
        args.extend_from_slice(extra);
        log.refused(&args, &[TK.1], 2, "anhydrous")
    };
    // The only lot that could serve is of another form: the refusal says how to allow it.
    let said = make(&[]);
    assert!(
        said.contains("stock lot L-1 was received anhydrous") && said.contains("accepts_forms"),
        "{said}"
    );
    let component = format!("{name}|l-1|2027-06-30");
    let said = make(&["--component", &component]);
    assert!(said.contains("water of hydration"), "{said}");
}
