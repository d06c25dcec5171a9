//! The practice log: a batch's whole life (make, record, verify, reprint, recall) walked
//! without PINs in `practice.sqlite3`, every page it prints stamped, its lots marked `P-`, the
//! real log never touched, and `db reset-practice` deleting it and nothing else.

use crate::common::{PROGESTERONE, Test, config, today};

const NOTICE: &str = " - nothing here is for dispensing";
const STAMP: &str = "PRACTICE-NOTFORDISPENSING";

/// The lot the practice log hands out first today: `P-YYMMDD-001`.
fn first_lot() -> String {
    let d = today();
    format!("P-{}{}{}-001", &d[2..4], &d[5..7], &d[8..10])
}

/// A scratch directory with the pharmacy's settings and two practice people, added without
/// a PIN: RP (pharmacist), who adds TK (technician).
fn practice() -> Test {
    let t = Test::new()
        .args(["--practice", "user", "add", "RP", "--name", "Rita Park"])
        .args(["--role", "pharmacist", "--config", &config()])
        .stderr_contains("added RP (Rita Park), pharmacist");
    t.run();
    let t = t
        .again()
        .args(["--practice", "user", "add", "TK", "--name", "Tom King"])
        .args(["--role", "technician", "--by", "RP", "--config", &config()])
        .stderr_contains(NOTICE);
    t.run();
    t.again()
}

/// `troche --practice make` of a progesterone batch into `batch/`, prepared by `by`.
fn make(t: Test, by: &str) -> Test {
    t.args(["--practice", "make"])
        .args(PROGESTERONE)
        .args(["--rx", "RX-1001", "--patient", "Jane Q. Patient"])
        .args([
            "--prescriber",
            "Dr Alan Smith",
            "--out",
            "batch",
            "--by",
            by,
        ])
        .args(["--component", "Progesterone|PG2611|2099-10-31"])
        .args(["--config", &config()])
}

/// Runs `args` in `t`'s scratch directory, which must be refused: the directory for the next
/// run, and the refusal.
fn refused(t: Test, args: &[&str]) -> (Test, String) {
    let t = t.again().args(args).status(2);
    let e = t.run().stderr;
    (t, e)
}

/// Every page of the PDF at `path` carries the practice stamp.
fn stamped_on_every_page(path: &str) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc = lopdf::Document::load_mem(&bytes).expect("a valid PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!pages.is_empty(), "{path}");
    for page in pages {
        let text: String = doc
            .extract_text(&[page])
            .expect("text")
            .split_whitespace()
            .collect();
        assert!(text.contains(STAMP), "{path}, page {page}: {text}");
    }
}

#[test]
fn a_batch_lives_its_whole_life_in_practice_without_a_pin() {
    let t = practice();
    let lot = first_lot();
    let t = make(t, "TK")
        .stdout_contains(&format!("lot {lot}"))
        .stderr_contains(NOTICE);
    t.run();
    let shown = t
        .again()
        .args(["--practice", "lot", &lot, "--format", "json"]);
    let complete =
        crate::bench_record::complete_args(&serde_json::from_str(&shown.run().stdout).unwrap());
    let record = shown
        .again()
        .args(["--practice", "record", &lot, "--by", "TK"])
        .args(complete.iter().map(String::as_str))
        .stderr_contains("no flags");
    record.run();
    let verify = record
        .again()
        .args(["--practice", "verify", &lot, "--by", "RP"])
        .stderr_contains(&format!("lot {lot} released by RP"));
    verify.run();
    let reprint = verify
        .again()
        .args([
            "--practice",
            "reprint",
            &lot,
            "--out",
            "again",
            "--by",
            "TK",
        ])
        .stderr_contains("identical to the first print");
    reprint.run();
    let recall = reprint
        .again()
        .args(["--practice", "recall", "PG2611"])
        .stdout_contains(&lot);
    recall.run();
    let hold = recall
        .again()
        .args(["--practice", "recall-batch", &lot, "--by", "RP"])
        .args(["--reason", "practising a recall"])
        .stderr_contains(&format!("lot {lot} recalled by RP"));
    hold.run();
    for f in [
        format!("batch/{lot}-worksheet.pdf"),
        format!("batch/{lot}-label.pdf"),
        format!("batch/{lot}-record.pdf"),
        format!("batch/{lot}-release.pdf"),
        format!("again/{lot}-worksheet.pdf"),
        format!("again/{lot}-release.pdf"),
        format!("again/{lot}-label.pdf"),
    ] {
        stamped_on_every_page(&hold.at(&f));
    }
    // The practice log holds it all; the real log was never made.
    assert!(std::path::Path::new(&hold.at("troche/practice.sqlite3")).is_file());
    assert!(!std::path::Path::new(&hold.at("troche/log.sqlite3")).exists());
    let listed = hold
        .again()
        .args(["--practice", "log"])
        .stdout_contains("recalled");
    listed.run();
    let (_, e) = refused(listed, &["log"]);
    assert!(e.contains("no such file"), "{e}");
}

#[test]
fn the_rules_of_who_signs_what_hold_in_practice() {
    let t = make(practice(), "RP");
    t.run();
    let lot = first_lot();
    let t = t
        .again()
        .args(["--practice", "record", &lot, "--by", "RP"])
        .args(["--weight", "Progesterone=3.000 g", "--made", "30"]);
    t.run();
    // A technician does not release, and the pharmacist who prepared does not either.
    let (t, e) = refused(t, &["--practice", "verify", &lot, "--by", "TK"]);
    assert!(e.contains("only a pharmacist"), "{e}");
    let (t, e) = refused(t, &["--practice", "verify", &lot, "--by", "RP"]);
    assert!(e.contains("another pharmacist"), "{e}");
    // Initials are still required, and must be a practice person's.
    let (t, e) = refused(t, &["--practice", "verify", &lot, "--by", "ZZ"]);
    assert!(
        e.contains("no person ZZ in the practice log")
            && e.contains("troche --practice user add ZZ"),
        "{e}"
    );
    let (t, e) = refused(t, &["--practice", "verify", &lot]);
    assert!(e.contains("--by"), "{e}");
    let (_, e) = refused(t, &["--practice", "user", "pin", "TK"]);
    assert!(e.contains("no PINs"), "{e}");
}

#[test]
fn practice_lots_and_real_lots_never_meet() {
    let t = Test::new().arg("make").args(PROGESTERONE).args([
        "--lot",
        &first_lot(),
        "--out",
        "real",
        "--config",
        &config(),
    ]);
    let e = t.refused();
    assert!(e.contains("is a practice lot"), "{e}");
    let t = Test::new()
        .args(["--practice", "make"])
        .args(PROGESTERONE)
        .args(["--lot", "261205-001", "--out", "p"])
        .args(["--config", &config()]);
    let e = t.refused();
    assert!(e.contains("a practice lot starts with P-"), "{e}");
    // A real batch is not in the practice log, nor a practice batch in the real one.
    let real =
        Test::new()
            .arg("make")
            .args(PROGESTERONE)
            .args(["--out", "real", "--config", &config()]);
    let ran = real.run();
    assert!(!ran.stderr.contains(NOTICE), "{}", ran.stderr);
    let t = real
        .again()
        .args(["--practice", "make"])
        .args(PROGESTERONE)
        .args(["--out", "p", "--config", &config()])
        .stdout_contains(&first_lot());
    t.run();
    let t = t.again().args(["log", "--format", "csv"]);
    let ran = t.run();
    assert!(!ran.stdout.contains(&first_lot()), "{}", ran.stdout);
    let real_worksheet = std::fs::read(t.at(&format!("real/{}-worksheet.pdf", &first_lot()[2..])))
        .expect("the real batch's worksheet");
    let text: String = crate::common::pdf_text(&real_worksheet);
    assert!(
        !text.contains(STAMP),
        "a real batch carries no practice stamp"
    );
}

#[test]
fn practice_true_in_the_settings_is_the_flag() {
    let settings = "practice = true\n".to_owned() + &std::fs::read_to_string(config()).unwrap();
    let t = Test::new()
        .file("troche.toml", &settings)
        .arg("make")
        .args(PROGESTERONE)
        .args(["--out", "batch"])
        .stderr_contains(NOTICE)
        .stdout_contains(&first_lot());
    t.run();
    stamped_on_every_page(&t.at(&format!("batch/{}-label.pdf", first_lot())));
    // One document at a time, the same.
    let t = t
        .again()
        .arg("worksheet")
        .args(PROGESTERONE)
        .args(["-o", "w.pdf"])
        .stderr_contains(NOTICE);
    t.run();
    stamped_on_every_page(&t.at("w.pdf"));
    let t = t
        .again()
        .arg("label")
        .args(PROGESTERONE)
        .args(["-o", "l.pdf"])
        .stderr_contains(NOTICE);
    t.run();
    stamped_on_every_page(&t.at("l.pdf"));
    assert!(!std::path::Path::new(&t.at("troche/log.sqlite3")).exists());
    let e = Test::new()
        .file("troche.toml", "practice = \"yes\"\n")
        .args(["log"])
        .refused();
    assert!(e.contains("practice") && e.contains("true or false"), "{e}");
}

#[test]
fn reset_practice_deletes_the_practice_log_and_nothing_else() {
    let t = make(practice(), "TK");
    t.run();
    let real =
        t.again()
            .arg("make")
            .args(PROGESTERONE)
            .args(["--out", "real", "--config", &config()]);
    real.run();
    let log = real.at("troche/log.sqlite3");
    let before = std::fs::read(&log).unwrap();
    let reset = real
        .again()
        .args(["db", "reset-practice"])
        .stderr_contains("deleted the practice log")
        .stderr_contains("(1 practice batches)");
    reset.run();
    assert!(!std::path::Path::new(&reset.at("troche/practice.sqlite3")).exists());
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the real log is untouched"
    );
    // Again: nothing to delete.
    let again = reset
        .again()
        .args(["db", "reset-practice"])
        .stderr_contains("nothing to delete");
    again.run();
    // A real log where the practice log would be is refused, and stays.
    let practice = again.at("troche/practice.sqlite3");
    std::fs::copy(&log, &practice).unwrap();
    let wal = format!("{log}-wal");
    if std::path::Path::new(&wal).exists() {
        std::fs::copy(&wal, format!("{practice}-wal")).unwrap();
    }
    let (kept, e) = refused(again, &["db", "reset-practice"]);
    assert!(
        e.contains("is not a practice log") && e.contains("not a practice lot"),
        "{e}"
    );
    assert!(
        std::path::Path::new(&practice).is_file(),
        "nothing was deleted"
    );
    drop(kept);
}

#[test]
fn a_practice_batch_run_marks_every_lot_and_page() {
    let recipe = format!(
        "config = \"{}\"\n\n[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\n\
         quantity = 30\nrx = \"RX-1\"\n\n[[batch]]\nformula = \"progesterone-troche\"\n\
         strength = \"200 mg\"\nquantity = 30\nrx = \"RX-2\"\n",
        config()
    );
    let t = Test::new()
        .file("recipe.toml", &recipe)
        .args(["--practice", "batch", "recipe.toml", "--out", "run"])
        .stderr_contains(NOTICE);
    t.run();
    let second = first_lot().replace("-001", "-002");
    for lot in [first_lot(), second] {
        stamped_on_every_page(&t.at(&format!("run/{lot}-worksheet.pdf")));
        stamped_on_every_page(&t.at(&format!("run/{lot}-label.pdf")));
    }
    assert!(!std::path::Path::new(&t.at("troche/log.sqlite3")).exists());
}

#[test]
fn a_practice_record_is_never_imported_into_the_pharmacys_log() {
    let t = make(practice(), "TK");
    t.run();
    let (t, e) = refused(t, &["log", "import", "batch"]);
    assert!(e.contains("is a practice lot"), "{e}");
    assert!(!std::path::Path::new(&t.at("troche/log.sqlite3")).exists());
}

#[test]
#[ignore = "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)"]
fn beside_a_postgresql_log_practice_is_in_the_data_directory() {
    let (log, _schema) = crate::log::postgres_log("practice");
    let url = log.env_url.clone().expect("a PostgreSQL log");
    let t = make(practice().env("TROCHE_DATABASE_URL", &url), "TK")
        .stdout_contains(&first_lot())
        .stderr_contains(NOTICE);
    t.run();
    assert!(std::path::Path::new(&t.at("troche/practice.sqlite3")).is_file());
    stamped_on_every_page(&t.at(&format!("batch/{}-label.pdf", first_lot())));
    // The server's log was never even made.
    log.fails(&["lot", &first_lot()], 2, "holds no compounding log");
}

/// Regression: the signed controlled-substance report drawn from the practice log carried no
/// practice stamp and said the pharmacist signed "with their PIN", which practice never asks.
#[test]
fn a_practice_controlled_substance_report_is_stamped_and_asks_no_pin() {
    let t = practice()
        .args([
            "--practice",
            "stock",
            "receive",
            "Ketamine hydrochloride, USP",
        ])
        .args([
            "--lot",
            "K-1",
            "--expiry",
            "2099-06-30",
            "--manufacturer",
            "Spectrum",
        ])
        .args(["--quantity", "25 g", "--assay", "99.6", "--form", "salt"])
        .args([
            "--supplier",
            "Wholesale Co",
            "--invoice",
            "INV-9",
            "--by",
            "TK",
        ])
        .args(["--config", &config()]);
    t.run();
    let day = today();
    let t = t
        .again()
        .args(["--practice", "cs", "report", "--drug", "ketamine"])
        .args([
            "--from", &day, "--to", &day, "--pdf", "cs.pdf", "--by", "RP",
        ])
        .args(["--config", &config()]);
    t.run();
    let path = t.at("cs.pdf");
    stamped_on_every_page(&path);
    let text = crate::common::pdf_text(&std::fs::read(&path).unwrap());
    assert!(
        crate::common::has(&text, "no PIN is asked in practice")
            && !text.contains("with their PIN"),
        "{text}"
    );
}
