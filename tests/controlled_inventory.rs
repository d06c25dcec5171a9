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
