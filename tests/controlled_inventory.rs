//! The controlled-substance book beyond its movements (docs/stock.md): the report a
//! pharmacist signs as a PDF, the signature entered in the stock chain. SQLite always;
//! PostgreSQL in the tests marked `#[ignore]`.

use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::log::{Log, on_both_logs};

const KETAMINE: &str = "Ketamine hydrochloride, USP";

/// A controlled lot of ketamine received by TK and released by RP.
fn ketamine(log: &Log, lot: &str, quantity: &str, manufacturer: &str) {
    log.signed(
        &[
            "stock",
            "receive",
            KETAMINE,
            "--lot",
            lot,
            "--expiry",
            "2027-06-30",
            "--manufacturer",
            manufacturer,
            "--quantity",
            quantity,
            "--assay",
            "99.5",
            "--supplier",
            "Medisca",
            "--invoice",
            "INV-1",
            "--by",
            TK.0,
        ],
        &[TK.1],
    );
    log.signed(&["stock", "release", lot, "--by", RP.0], &[RP.1]);
}

fn sha256_of(bytes: &[u8]) -> String {
    troche::logbook::sha256_hex(bytes)
}

fn report_pdf(log: &Log, out: &Path, by: (&str, &str), extra: &[&str]) -> std::process::Output {
    let out = out.display().to_string();
    let mut args = vec![
        "cs",
        "report",
        "--drug",
        "ketamine",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
        "--pdf",
        &out,
        "--by",
        by.0,
    ];
    args.extend_from_slice(extra);
    log.run_in(&args, &[by.1])
}

/// Every event of a lot, as `stock show --format json` gives them.
fn events(log: &Log, lot: &str) -> Vec<Value> {
    log.json(&["stock", "show", lot])
        .as_array()
        .unwrap()
        .clone()
}

fn signed_report(log: &Log, tmp: &Path) {
    log.people();
    ketamine(log, "K-1", "25 g", "Medisca");
    ketamine(log, "K-2", "10 g", "PCCA");
    log.signed(
        &[
            "cs",
            "waste",
            "--drug",
            "ketamine",
            "--lot",
            "K-1",
            "--quantity",
            "0.12 g",
            "--reason",
            "aliquot remainder",
            "--by",
            TK.0,
            "--witness",
            PH.0,
        ],
        &[TK.1, PH.1],
    );
    log.signed(
        &[
            "cs",
            "count",
            "--drug",
            "ketamine",
            "--lot",
            "K-1",
            "--counted",
            "24.78 g",
            "--by",
            TK.0,
            "--witness",
            PH.0,
        ],
        &[TK.1, PH.1],
    );
    let pdf = tmp.join("ketamine.pdf");
    // Only a pharmacist signs it; a refusal writes nothing and enters nothing.
    let before = events(log, "K-1").len();
    let o = report_pdf(log, &pdf, TK, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only a pharmacist"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!pdf.exists());
    // A wrong PIN is no signature either.
    let o = report_pdf(log, &pdf, (RP.0, "not-the-pin"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!pdf.exists());
    assert_eq!(events(log, "K-1").len(), before);
    // Signed: the file, and an event on each lot carrying its SHA-256.
    let o = report_pdf(log, &pdf, RP, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&pdf).unwrap();
    let sha = sha256_of(&bytes);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("sha256 {sha}")),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    for lot in ["K-1", "K-2"] {
        let signed: Vec<Value> = events(log, lot)
            .into_iter()
            .filter(|e| e["what"] == "report signed")
            .collect();
        assert_eq!(signed.len(), 1, "{lot}: {signed:?}");
        let text = signed[0].to_string();
        assert!(text.contains(&sha) && text.contains("RP"), "{text}");
    }
    let text = pdf_text(&bytes);
    assert_has_all(
        &text,
        "the signed report",
        &[
            "Controlled-substance report: Ketamine hydrochloride, USP (Schedule III)",
            "Period 2000-01-01 to 2099-12-31",
            "Lot K-1: Ketamine hydrochloride, USP, Medisca",
            "Lot K-2: Ketamine hydrochloride, USP, PCCA",
            "opening balance",
            "aliquot remainder",
            "closing balance",
            "24.88",
            "UNRESOLVED",
            "Open discrepancies: 1",
            "stock chain, last event",
            "Signed electronically by Rita Park (RP), pharmacist",
        ],
    );
    // Never over an existing file unless asked, and then nothing is signed.
    let after = events(log, "K-1").len();
    let o = report_pdf(log, &pdf, RP, &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert_eq!(std::fs::read(&pdf).unwrap(), bytes);
    assert_eq!(events(log, "K-1").len(), after);
    // The book shows the signature as an event of its own, and a later report lists it.
    let csv = log.ok(&[
        "cs",
        "report",
        "--drug",
        "ketamine",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
        "--format",
        "csv",
    ]);
    assert!(
        csv.contains(",report signed,") && csv.contains(&sha),
        "{csv}"
    );
    // `--force` replaces it, signed again over the log as it is now.
    let o = report_pdf(log, &pdf, RP, &["--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_ne!(std::fs::read(&pdf).unwrap(), bytes);
    assert!(log.ok(&["db", "check"]).contains("stock chain: "));
}
on_both_logs!(signed_report, "cs_signed_report");

/// The same log, period and signer give the same bytes: two copies of one log, each signing.
#[test]
fn a_signed_report_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    ketamine(&log, "K-1", "25 g", "Medisca");
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(&log.db, copy.path().join("log.sqlite3")).unwrap();
    let other = Log::sqlite(copy.path());
    let a = tmp.path().join("a.pdf");
    let b = copy.path().join("b.pdf");
    assert!(report_pdf(&log, &a, RP, &[]).status.success());
    assert!(report_pdf(&other, &b, RP, &[]).status.success());
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

/// A ketamine troche batch (30 units) made from stock lot K-1, recorded and released.
fn released_batch(log: &Log, tmp: &Path) -> String {
    ketamine(log, "K-1", "25 g", "Medisca");
    let out = tmp.join("out").display().to_string();
    let cfg = fixture("troche.toml");
    let mut args = crate::log::make_args(&out, &cfg, &[]);
    args.extend(["--by", TK.0]);
    let o = log.run_in(&args, &[TK.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lot = "261130-001".to_string();
    let record =
        crate::bench_record::complete_record(log, &lot, &["--by", TK.0, "--witness", PH.0]);
    log.signed(&crate::bench_record::strs(&record), &[TK.1, PH.1]);
    log.signed(&["verify", &lot, "--by", RP.0], &[RP.1]);
    lot
}

fn units(log: &Log, lot: &str) -> String {
    let o = log.run(&["cs", "units", lot, "--format", "csv"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The last row of `cs units`: balance, on hand, retained, returned.
fn held(log: &Log, lot: &str) -> Vec<String> {
    let csv = units(log, lot);
    let last = csv.lines().last().unwrap();
    last.split(',')
        .skip(5)
        .take(4)
        .map(str::to_string)
        .collect()
}

fn finished_units(log: &Log, tmp: &Path) {
    log.people();
    let lot = released_batch(log, tmp);
    assert_eq!(held(log, &lot), ["30", "30", "0", "0"]);
    // Dispensed, some kept as retained samples.
    log.signed(&["dispense", &lot, "--units", "20", "--by", RP.0], &[RP.1]);
    log.signed(
        &[
            "cs",
            "keep",
            &lot,
            "--units",
            "2",
            "--reason",
            "retained sample",
            "--by",
            TK.0,
        ],
        &[TK.1],
    );
    assert_eq!(held(log, &lot), ["10", "8", "2", "0"]);
    // What was kept is not dispensed: 8 are left, not 10.
    log.refused(
        &["dispense", &lot, "--units", "9", "--by", RP.0],
        &[RP.1],
        2,
        "8 of its 30 units left",
    );
    // Destroyed: witnessed by a second person, never below nothing, from the pool named.
    let destroy = |units: &str, pool: &str, witness: (&str, &str)| {
        vec![
            "cs".to_string(),
            "destroy".into(),
            lot.clone(),
            "--units".into(),
            units.into(),
            "--pool".into(),
            pool.into(),
            "--reason".into(),
            "expired, rendered non-retrievable".into(),
            "--by".into(),
            TK.0.into(),
            "--witness".into(),
            witness.0.into(),
        ]
    };
    let args = destroy("1", "retained", TK);
    log.refused(
        &crate::bench_record::strs(&args),
        &[TK.1, TK.1],
        2,
        "cannot witness their own",
    );
    let args = destroy("3", "retained", PH);
    log.refused(
        &crate::bench_record::strs(&args),
        &[TK.1, PH.1],
        2,
        "has 2 retained samples retained",
    );
    let args = destroy("1", "retained", PH);
    log.signed(&crate::bench_record::strs(&args), &[TK.1, PH.1]);
    assert_eq!(held(log, &lot), ["9", "8", "1", "0"]);
    // A patient's return: a pharmacist's, never more than was dispensed, held apart.
    let ret = |units: &str, by: (&str, &str)| {
        log.run_in(
            &[
                "cs",
                "return",
                &lot,
                "--units",
                units,
                "--reason",
                "patient stopped therapy",
                "--by",
                by.0,
            ],
            &[by.1],
        )
    };
    let o = ret("1", TK);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("only a pharmacist"));
    let o = ret("21", RP);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("has dispensed 20 units"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(ret("3", RP).status.success());
    assert_eq!(held(log, &lot), ["12", "8", "1", "3"]);
    // Returned units are destroyed from the returns; the balance is the sum of the events.
    let args = destroy("3", "returned", PH);
    log.signed(&crate::bench_record::strs(&args), &[TK.1, PH.1]);
    assert_eq!(held(log, &lot), ["9", "8", "1", "0"]);
    let csv = units(log, &lot);
    assert!(
        csv.starts_with("event,at,what,in,out,balance,on_hand,retained,returned,by,witness"),
        "{csv}"
    );
    for want in [
        ",dispensed,,20,10,10,0,0,RP,",
        ",kept (2),,,10,8,2,0,TK,,retained sample",
        ",destroyed (retained),,1,9,8,1,0,TK,PH,",
        ",returned,3,,12,8,1,3,RP,,patient stopped therapy",
        ",destroyed (returned),,3,9,8,1,0,TK,PH,",
    ] {
        assert!(csv.contains(want), "{want}\n{csv}");
    }
    // The report's section for the batch: each movement and the closing count.
    let csv = log.ok(&[
        "cs",
        "report",
        "--drug",
        "ketamine",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
        "--format",
        "csv",
    ]);
    for want in [
        ",units made,30,,30,261130-001",
        ",units dispensed,,20,10,261130-001,RP",
        ",units kept,,,10,261130-001,TK,,retained sample; 2 set aside as retained samples",
        ",units destroyed,,1,9,261130-001,TK,PH,",
        ",units returned,3,,12,261130-001,RP",
        "\"finished units, closing\",,,9,261130-001,,,\"8 on hand, 1 retained, 0 returned\"",
    ] {
        assert!(csv.contains(want), "{want}\n{csv}");
    }
    // The dated inventory lists the batch's units, and records them in its history.
    let listed = log.signed(
        &["cs", "inventory", "--at", "closing", "--by", RP.0],
        &[RP.1],
    );
    assert!(
        listed.contains("261130-001  ketamine-hcl-troche          CIII      9 units"),
        "{listed}"
    );
    assert!(log.events(&lot).contains(&"inventory".to_string()));
    // A batch that is no controlled preparation keeps no such book.
    log.progesterone(&tmp.join("out2"), "P1");
    log.refused(
        &[
            "cs", "keep", "P1", "--units", "1", "--reason", "sample", "--by", TK.0,
        ],
        &[TK.1],
        2,
        "no controlled stock lot",
    );
    assert!(log.ok(&["db", "check"]).contains("stock chain: "));
}
on_both_logs!(finished_units, "cs_finished_units");

#[derive(Debug, Clone)]
enum Op {
    Dispense(i64),
    Keep(i64),
    Destroy(i64, usize),
    Return(i64),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        (0i64..12).prop_map(Op::Dispense),
        (0i64..6).prop_map(Op::Keep),
        (0i64..6, 0usize..3).prop_map(|(n, p)| Op::Destroy(n, p)),
        (0i64..8).prop_map(Op::Return),
    ]
}

/// A log holding one dispensed controlled batch (30 units, 1 dispensed), made once and
/// copied for each case.
fn template() -> &'static Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap().keep();
        let log = Log::sqlite(&tmp);
        log.people();
        let lot = released_batch(&log, &tmp);
        log.signed(&["dispense", &lot, "--units", "1", "--by", RP.0], &[RP.1]);
        tmp
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Random dispensings, retained samples, destructions from each pool and returns: the
    /// batch's balance is made − dispensed − destroyed + returned, no pool goes below zero,
    /// a refusal changes nothing, and the log's chain holds.
    #[test]
    fn finished_units_balance_and_never_go_negative(ops in proptest::collection::vec(op(), 1..30)) {
        use troche::logbook::Actor;
        use troche::stock::units::{self, Move, Pool};
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log.sqlite3");
        std::fs::copy(template().join("log.sqlite3"), &path).unwrap();
        let mut db = troche::store::open(&troche::store::Location::Sqlite(path)).unwrap();
        let actor = Actor { workstation: "w".into(), os_user: "u".into() };
        let lot = "261130-001";
        for op in &ops {
            let before = units::of(db.as_mut(), lot).unwrap().1;
            let (what, n, pool) = match op {
                Op::Dispense(n) => (troche::logbook::DISPENSED, *n, Pool::Stock),
                Op::Keep(n) => (units::KEPT, *n, Pool::Stock),
                Op::Destroy(n, p) => {
                    (units::DESTROYED, *n, [Pool::Stock, Pool::Retained, Pool::Returned][*p])
                }
                Op::Return(n) => (units::RETURNED, *n, Pool::Stock),
            };
            let r = db.write(|tx| units::enter(tx, lot, &Move {
                what, units: n, pool, reason: "test", who: "TK", witness: None,
            }, &actor));
            let (_, now, _) = units::of(db.as_mut(), lot).unwrap();
            match r {
                Ok(after) => proptest::prop_assert_eq!(&after, &now),
                Err(e) => {
                    proptest::prop_assert_eq!(e.exit_code(), 2, "{}", e);
                    proptest::prop_assert_eq!(&before, &now);
                }
            }
            proptest::prop_assert_eq!(
                now.balance(),
                now.made - now.dispensed - now.destroyed + now.returned
            );
            proptest::prop_assert!(now.on_hand >= 0 && now.retained >= 0 && now.held_returns >= 0,
                "{:?}", now);
            proptest::prop_assert!(now.returned <= now.dispensed, "{:?}", now);
        }
        let checked = troche::logbook::chain::verify(db.as_mut()).unwrap();
        proptest::prop_assert!(checked.broken.is_none(), "{:?}", checked.broken);
    }
}

/// The run's picklist.csv names the stock lots to pull, one row per lot, the ingredient's
/// totals on its first row only.
fn picklist_names_the_lots(log: &Log, tmp: &Path) {
    log.people();
    ketamine(log, "K-1", "4 g", "Medisca");
    ketamine(log, "K-2", "10 g", "PCCA");
    let entry = |n: usize| {
        format!(
            "[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nquantity = 30\n\
             basis = \"salt\"\nrx = \"RX-{n}\"\npatient = \"Jane Q. Patient\"\n\
             prescriber = \"Alan Smith, MD\"\nprescriber_dea = \"AS1234563\"\n\
             date_written = 2026-11-20\n"
        )
    };
    let recipe = tmp.join("recipe.toml");
    std::fs::write(
        &recipe,
        format!(
            "date = 2026-11-30\n{}",
            (0..3).map(entry).collect::<String>()
        ),
    )
    .unwrap();
    let out = tmp.join("out");
    let cfg = fixture("troche.toml");
    let o = log.run_in(
        &[
            "batch",
            recipe.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--config",
            &cfg,
            "--backdate",
            "--by",
            TK.0,
        ],
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("picklist.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "ingredient,schedule,total,unit,exact,batches,stock_lot,lot_quantity,lot_unit,lot_batches"
    );
    // 1.508 g for each batch: two from K-1 (first expiry, first out), the third from K-2.
    assert!(
        lines[1].starts_with("\"Ketamine hydrochloride, USP\",CIII,")
            && lines[1].ends_with(",3,K-1,3.016,g,2"),
        "{csv}"
    );
    assert_eq!(
        lines[2], "\"Ketamine hydrochloride, USP\",CIII,,,,,K-2,1.508,g,1",
        "{csv}"
    );
    // An ingredient no stock lot holds: no lot named.
    assert!(lines[3..].iter().all(|l| l.ends_with(",,,,")), "{csv}");
}
on_both_logs!(picklist_names_the_lots, "cs_picklist");

fn receive_as(log: &Log, name: &str, lot: &str, manufacturer: &str) -> std::process::Output {
    log.run_in(
        &[
            "stock",
            "receive",
            name,
            "--lot",
            lot,
            "--expiry",
            "2027-06-30",
            "--manufacturer",
            manufacturer,
            "--quantity",
            "10 g",
            "--assay",
            "99.5",
            "--supplier",
            "S",
            "--invoice",
            "I-1",
            "--by",
            TK.0,
        ],
        &[TK.1],
    )
}

/// A lot number is the manufacturer's: two manufacturers' lots, or two ingredients', may share
/// one. Each stock lot has an id; a number naming several is refused, naming each.
fn a_lot_number_shared_is_told_apart(log: &Log, tmp: &Path) {
    log.people();
    ketamine(log, "K-78", "25 g", "Medisca");
    // Another ingredient with the same number, and another manufacturer of the same drug.
    let o = receive_as(log, "Methylcobalamin", "k-78", "Sweet Co");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("this one's id is K-78.2"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(receive_as(log, KETAMINE, "K-78", "PCCA").status.success());
    // The same ingredient's lot from the same manufacturer is received once.
    let o = receive_as(log, KETAMINE, "K-78", "medisca");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("received once"));
    // Listed by id.
    let listed = log.json(&["stock", "--all"]);
    let mut ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["K-78", "K-78.2", "K-78.3"]);
    // The number alone names three: refused, each named by its id.
    let said = log.refused(
        &["stock", "release", "K-78", "--by", RP.0],
        &[RP.1],
        2,
        "names 3 stock lots",
    );
    for want in [
        "K-78.1 (Ketamine hydrochloride, USP, Medisca)",
        "K-78.2 (Methylcobalamin, Sweet Co)",
        "K-78.3 (Ketamine hydrochloride, USP, PCCA)",
    ] {
        assert!(said.contains(want), "{want}\n{said}");
    }
    log.signed(&["stock", "release", "k-78.3", "--by", RP.0], &[RP.1]);
    let status = |id: &str| {
        log.json(&["stock", "--all"])
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["lot"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("K-78.3"), "released");
    assert_eq!(status("K-78.2"), "quarantined");
    // A drug's lots only: the methylcobalamin lot is no candidate for ketamine's waste.
    let waste = |lot: &str| {
        vec![
            "cs".to_string(),
            "waste".into(),
            "--drug".into(),
            "ketamine".into(),
            "--lot".into(),
            lot.into(),
            "--quantity".into(),
            "0.5 g".into(),
            "--reason".into(),
            "spill".into(),
            "--by".into(),
            TK.0.into(),
            "--witness".into(),
            PH.0.into(),
        ]
    };
    let said = log.refused(
        &crate::bench_record::strs(&waste("K-78")),
        &[TK.1, PH.1],
        2,
        "names 2 stock lots",
    );
    assert!(!said.contains("Methylcobalamin"), "{said}");
    log.signed(&crate::bench_record::strs(&waste("K-78.3")), &[TK.1, PH.1]);
    let on_hand = |id: &str| {
        log.json(&["stock", "--all"])
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["lot"] == id)
            .unwrap()["on_hand"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        (on_hand("K-78"), on_hand("K-78.3")),
        ("25".to_string(), "9.5".to_string())
    );
    // A lot given with --component is told apart by its ingredient and manufacturer; with
    // neither telling, it is refused.
    let out = tmp.join("out").display().to_string();
    let cfg = fixture("troche.toml");
    let make = |component: &str| {
        let mut args = crate::log::make_args(&out, &cfg, &["--component", component]);
        args.extend(["--by", TK.0]);
        log.run_in(&args, &[TK.1])
    };
    let o = make("Ketamine hydrochloride, USP|K-78|2027-06-30");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("names 2 stock lots"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = make("Ketamine hydrochloride, USP|K-78|2027-06-30|PCCA");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_ne!(on_hand("K-78.3"), "0");
    let reserved = |id: &str| {
        log.json(&["stock", "--all"])
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["lot"] == id)
            .unwrap()["reserved"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(reserved("K-78.3"), "0");
    assert_eq!(reserved("K-78"), "0");
    let shown = log.json(&["lot", "261130-001"]).to_string();
    assert!(shown.contains("K-78.3"), "{shown}");
    assert!(log.ok(&["db", "check"]).contains("stock chain: "));
}
on_both_logs!(a_lot_number_shared_is_told_apart, "cs_lot_identity");

/// `cs inventory --at closing --by RP` with `extra`.
fn inventory<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["cs", "inventory", "--at", "closing", "--by", RP.0];
    args.extend_from_slice(extra);
    args
}

/// A dated inventory counts a controlled batch's finished units against its book: a
/// difference of a unit is flagged and stays on every report until a pharmacist resolves it
/// with a reason; a batch not counted is recorded from its book, as a lot is.
fn inventory_counts_units(log: &Log, tmp: &Path) {
    log.people();
    let lot = released_batch(log, tmp);
    log.signed(&["dispense", &lot, "--units", "20", "--by", RP.0], &[RP.1]);
    let before = log.events(&lot).len();
    log.refused(
        &inventory(&["--units", "261130-001=nine"]),
        &[RP.1],
        2,
        "--units",
    );
    log.refused(
        &inventory(&["--units", "261130-001=9", "--units", "261130-001=8"]),
        &[RP.1],
        2,
        "counted twice",
    );
    log.progesterone(&tmp.join("out2"), "P1");
    log.refused(
        &inventory(&["--units", "P1=1"]),
        &[RP.1],
        2,
        "no controlled preparation",
    );
    // A refusal changed nothing.
    assert_eq!(log.events(&lot).len(), before);
    let o = log.run_in(&inventory(&["--units", "261130-001=9"]), &[RP.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    let row = out.lines().find(|l| l.contains(&lot)).unwrap();
    assert!(
        row.contains("10 units") && row.contains("9 units") && row.contains("-1"),
        "{out}"
    );
    assert!(row.contains("FLAGGED"), "{out}");
    let seq = row.split_whitespace().next().unwrap().to_string();
    assert!(
        err.contains(&format!("troche cs resolve {seq} --batch {lot}")),
        "{err}"
    );
    assert!(
        err.contains("1 not counted, recorded from the book"),
        "{err}"
    );
    // On every report until resolved.
    let report = || {
        log.run(&[
            "cs",
            "report",
            "--drug",
            "ketamine",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
            "--format",
            "csv",
        ])
    };
    let o = report();
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(
        csv.contains("UNRESOLVED DISCREPANCY,,,10,261130-001,RP,,\"counted 9 units, book 10, discrepancy -1 FLAGGED"),
        "{csv}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 unresolved discrepancies"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = log.run(&["cs", "units", &lot]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("UNRESOLVED DISCREPANCY"));
    let pdf = tmp.join("r.pdf");
    assert!(report_pdf(log, &pdf, RP, &[]).status.success());
    // Resolved by a pharmacist with a reason, only the inventory that differed.
    let resolve = |n: &str, by: &str| {
        vec![
            "cs".to_string(),
            "resolve".into(),
            n.into(),
            "--batch".into(),
            lot.clone(),
            "--reason".into(),
            "one unit dispensed at the window and entered late".into(),
            "--by".into(),
            by.into(),
        ]
    };
    log.refused(
        &crate::bench_record::strs(&resolve(&seq, TK.0)),
        &[TK.1],
        2,
        "pharmacist",
    );
    log.refused(
        &crate::bench_record::strs(&resolve("1", RP.0)),
        &[RP.1],
        2,
        "no inventory with an open discrepancy",
    );
    log.signed(&crate::bench_record::strs(&resolve(&seq, RP.0)), &[RP.1]);
    log.refused(
        &crate::bench_record::strs(&resolve(&seq, RP.0)),
        &[RP.1],
        2,
        "no inventory with an open discrepancy",
    );
    let o = report();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("UNRESOLVED"));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("unresolved"));
    // A count that agrees is no discrepancy.
    let out = log.signed(&inventory(&["--units", "261130-001=10"]), &[RP.1]);
    let row = out.lines().find(|l| l.contains(&lot)).unwrap();
    assert!(!row.contains("FLAGGED"), "{out}");
    assert!(log.ok(&["db", "check"]).contains("stock chain: "));
}
on_both_logs!(inventory_counts_units, "cs_inventory_units");

/// A recall by a lot number finds the batches of every stock lot received under it, and says
/// which; a recall by an id, only that lot's.
fn recall_by_number_finds_every_id(log: &Log, tmp: &Path) {
    log.people();
    ketamine(log, "K-78", "25 g", "Medisca");
    assert!(receive_as(log, KETAMINE, "K-78", "PCCA").status.success());
    log.signed(&["stock", "release", "K-78.2", "--by", RP.0], &[RP.1]);
    let out = tmp.join("out").display().to_string();
    let cfg = fixture("troche.toml");
    let mut args = crate::log::make_args(
        &out,
        &cfg,
        &[
            "--component",
            "Ketamine hydrochloride, USP|K-78|2027-06-30|PCCA",
        ],
    );
    args.extend(["--by", TK.0]);
    let o = log.run_in(&args, &[TK.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let recall = |lot: &str| {
        let o = log.run(&["recall", lot, "--format", "json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let found: Value = serde_json::from_slice(&o.stdout).unwrap();
        let lots: Vec<(String, String)> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["lot"].as_str().unwrap().to_string(),
                    b["component_lot"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        (lots, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let batch = ("261130-001".to_string(), "K-78.2".to_string());
    let (lots, said) = recall("K-78");
    assert_eq!(lots, std::slice::from_ref(&batch), "{said}");
    assert!(
        said.contains("1 batches used component lot K-78 (stock ids K-78, K-78.2)"),
        "{said}"
    );
    let (lots, said) = recall("k-78.2");
    assert_eq!(lots, [batch], "{said}");
    assert!(said.contains("(stock ids K-78.2)"), "{said}");
    // The first lot under the number answers to K-78.1 too; it made nothing.
    let (lots, said) = recall("K-78.1");
    assert!(lots.is_empty(), "{lots:?}");
    assert!(said.contains("(stock ids K-78)"), "{said}");
    // A number stock never received is looked for as written.
    let (lots, said) = recall("Z-1");
    assert!(lots.is_empty(), "{lots:?}");
    assert!(
        said.contains("0 batches used component lot Z-1\n"),
        "{said}"
    );
}
on_both_logs!(recall_by_number_finds_every_id, "cs_recall_number");

/// A controlled trituration's book shows beside each movement and balance the drug it holds:
/// grams of trituration × its potency, exactly, the step stated once.
fn a_trituration_shows_the_drug_it_holds(log: &Log, tmp: &Path) {
    use crate::trituration::{KETAMINE_TRITURATION, make_args, receive};
    log.people();
    let cfg = fixture("troche.toml");
    let out = tmp.join("out").display().to_string();
    let formula = tmp.join("ketamine-trituration.toml");
    std::fs::write(&formula, KETAMINE_TRITURATION).unwrap();
    let formula = formula.display().to_string();
    log.signed(&["formula", "approve", &formula, "--by", RP.0], &[RP.1]);
    receive(
        log,
        KETAMINE,
        "K-1",
        "25 g",
        &[
            "--assay",
            "99.5",
            "--supplier",
            "Medisca",
            "--invoice",
            "INV-1",
        ],
    );
    let o = log.run_in(
        &make_args(
            &formula,
            &out,
            &cfg,
            &["--strength", "100 mg", "--quantity", "10"],
        ),
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args =
        crate::bench_record::complete_record(log, "261130-001", &["--by", TK.0, "--witness", PH.0]);
    log.signed(&crate::bench_record::strs(&args), &[TK.1, PH.1]);
    log.signed(&["verify", "261130-001", "--by", RP.0], &[RP.1]);
    log.signed(
        &[
            "cs",
            "waste",
            "--drug",
            "ketamine",
            "--lot",
            "261130-001",
            "--quantity",
            "0.37 g",
            "--reason",
            "spill",
            "--by",
            TK.0,
            "--witness",
            PH.0,
        ],
        &[TK.1, PH.1],
    );
    let report = [
        "cs",
        "report",
        "--drug",
        "ketamine",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
    ];
    let csv = log.ok(&[&report[..], &["--format", "csv"]].concat());
    // The trituration's potency (1.005 g of the drug at 99.5 % in 10 g), the step once; then
    // 10 g received hold 0.99998 g, 0.37 g wasted 0.03699926 g, 9.63 g left 0.96298074 g.
    assert!(
        csv.starts_with(
            "lot,schedule,unit,event,at,what,in,out,balance,batch,by,witness,note,drug_in,\
             drug_out,drug_balance\n"
        ),
        "{csv}"
    );
    for want in [
        "opening balance,,,0,,,,\"a trituration of Ketamine hydrochloride, USP at 9.9998 %: the \
         drug it holds = g of trituration × 9.9998 / 100\",,,0\n",
        ",received,10,,10,,RP,,,0.99998,,0.99998\n",
        ",released,,,10,,RP,,,,,0.99998\n",
        ",wasted,,0.37,9.63,,TK,PH,spill,,0.03699926,0.96298074\n",
        "closing balance,,,9.63,,,,,,,0.96298074\n",
    ] {
        assert!(csv.contains(want), "{want}\n{csv}");
    }
    // The drug's own lot keeps its book in the drug: no such columns.
    assert!(
        csv.contains(",used,,1.005,23.995,261130-001,TK,,\"Ketamine hydrochloride, USP\",,,\n"),
        "{csv}"
    );
    let json = log.json(&report);
    let closing = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lot"] == "261130-001" && r["what"] == "closing balance")
        .unwrap();
    assert_eq!(closing["drug_balance"], "0.96298074");
    // The PDF shows it in each line's note.
    assert!(
        report_pdf(log, &tmp.join("a.pdf"), RP, &[])
            .status
            .success()
    );
}
on_both_logs!(a_trituration_shows_the_drug_it_holds, "cs_trituration_drug");
