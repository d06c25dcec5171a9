//! The release record (docs/log.md, "The release record"): `verify` prints LOT-release.pdf,
//! a rejection titled as one, holding the decision and what it rested on; staged before the
//! commit, kept in the log with the deciding event, and reprinted byte for byte. SQLite
//! always; PostgreSQL in the tests marked `#[ignore]`, as in log.rs.

use std::fs;
use std::path::Path;

use crate::bench_record::{complete_record, strs};
use crate::common::{PH, RP, TK, assert_has_all, fixture, pdf_text};
use crate::log::{Log, make_args};

const LOT: &str = "261130-001";

/// The last event of `lot`.
fn last_event(log: &Log, lot: &str) -> serde_json::Value {
    log.json(&["lot", lot])["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

/// An event's time as the release record prints it: "2026-12-05 21:14:28 UTC".
fn printed_time(at: &str) -> String {
    let t: jiff::Timestamp = at.parse().unwrap();
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A ketamine batch (Schedule III) made by TK, recorded complete by TK with PH witnessing,
/// the gelatin weighed 0.350 g for 0.300 g: one flag, a deviation to acknowledge.
fn ketamine_recorded_with_a_flag(log: &Log, out: &Path) {
    log.people();
    let cfg = fixture("troche.toml");
    let dir = out.display().to_string();
    log.signed(
        &make_args(
            &dir,
            &cfg,
            &["--component", "Ketamine|K1|2030-01-01", "--by", TK.0],
        ),
        &[TK.1],
    );
    let args: Vec<String> = complete_record(log, LOT, &["--by", TK.0, "--witness", PH.0])
        .into_iter()
        .map(|a| {
            if a.starts_with("Gelatin powder, USP (suspending agent)=") {
                "Gelatin powder, USP (suspending agent)=0.350 g".to_string()
            } else {
                a
            }
        })
        .collect();
    log.signed(&strs(&args), &[TK.1, PH.1]);
}

/// The release record holds the lot, the master formulation record's id, version and hash,
/// the bench record judged, the flag with the deviation's reason, who accepted it and when,
/// the reconciliation, yield and unit-weight verdicts and every signature; a failed write
/// of it changes nothing, and `reprint` writes it again byte for byte.
fn the_release_record_holds_the_decision_and_what_it_rested_on(log: &Log, tmp: &Path) {
    let out = tmp.join("out");
    ketamine_recorded_with_a_flag(log, &out);
    let release = out.join(format!("{LOT}-release.pdf"));
    let reason = "re-weighed on balance 2, within the suspension's range";
    let verify = [
        "verify",
        LOT,
        "--by",
        RP.0,
        "--acknowledge",
        &format!("weight:gelatin powder={reason}"),
    ];
    // A file in the way: refused once the PIN is read, and nothing is in the log.
    fs::write(&release, b"someone else's").unwrap();
    let before = log.json(&["lot", LOT]);
    log.refused(&verify, &[RP.1], 2, "261130-001-release.pdf");
    assert_eq!(log.json(&["lot", LOT]), before);
    assert_eq!(fs::read(&release).unwrap(), b"someone else's");
    fs::remove_file(&release).unwrap();

    log.signed(&verify, &[RP.1]);
    let pdf = fs::read(&release).unwrap();
    let lot = log.json(&["lot", LOT]);
    let events = lot["events"].as_array().unwrap();
    let released = events.last().unwrap();
    assert_eq!(released["what"], "released");
    // The deciding event covers the bytes printed.
    let printed = &released["details"]["printed"];
    assert_eq!(printed["kind"], "release");
    assert_eq!(printed["path"], release.display().to_string());
    assert_eq!(
        printed["sha256"],
        troche::logbook::sha256_hex(&pdf).as_str()
    );
    let at = |what: &str| {
        let e = events.iter().find(|e| e["what"] == what).unwrap();
        printed_time(e["at"].as_str().unwrap())
    };
    let acknowledged = events.iter().find(|e| e["what"] == "acknowledged").unwrap();
    assert_eq!(acknowledged["at"], released["at"]);
    let record_sha = events.iter().find(|e| e["what"] == "recorded").unwrap()["details"]["printed"]
        ["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let text = pdf_text(&pdf);
    assert_has_all(
        &text,
        "the release record",
        &[
            "RELEASE RECORD",
            "Batch released for dispensing",
            "Ketamine HCl troche",
            "Lot: 261130-001",
            "Master formulation record: ketamine-hcl-troche version 3",
            &format!(
                "SHA-256 of its text: {}",
                lot["formula_sha256"].as_str().unwrap()
            ),
            "Schedule III (CIII)",
            &format!(
                "Released by RP (Rita Park, pharmacist) at {}",
                at("released")
            ),
            "Record 1: kept in the log as record-1 (261130-001-record.pdf",
            &record_sha,
            "Complete: every amount",
            "weight:Gelatin powder, USP (suspending agent):",
            "0.350 g is outside 0.285 to 0.315 g",
            &format!(
                "Deviation, acknowledged by RP at {}: \u{201c}{reason}\u{201d}",
                at("acknowledged")
            ),
            "Yield: 30 of 30 = 100.0 %: meets the formula's minimum 90 %",
            "Unit weights: 30 weighed; mean",
            "Controlled-substance reconciliation",
            "Ketamine hydrochloride, USP: weighed 1.730 g (from the actual weight)",
            "Balances: difference 0.000 g",
            &format!(
                "Prepared by TK (Tom King, technician) at {}",
                at("prepared")
            ),
            &format!(
                "Recorded by TK (Tom King, technician) at {}",
                at("recorded")
            ),
            &format!(
                "Witnessed by PH (Paul Hart, pharmacist) at {}",
                at("witnessed")
            ),
            "Lot 261130-001 · ketamine-hcl-troche version 3 · release record",
        ],
    );
    assert!(!text.contains("samepharmacist"), "{text}");

    // Reprinted from the bytes kept, checked against their SHA-256.
    fs::remove_file(&release).unwrap();
    log.signed(&["reprint", LOT, "--by", TK.0], &[TK.1]);
    assert_eq!(fs::read(&release).unwrap(), pdf);
    let check = log.ok(&["db", "check"]);
    assert!(check.contains("stored hashes: ok"), "{check}");
    assert!(check.contains("links verified"), "{check}");

    // A folder check compares it, and the record PDF, with the bytes the log printed.
    let o = out.display().to_string();
    let check = log.ok(&["db", "check", "--files", &o]);
    assert!(check.contains("5 identical to the log"), "{check}");
    fs::write(&release, b"%PDF-forged").unwrap();
    let r = log.run(&["db", "check", "--files", &o]);
    let said = String::from_utf8_lossy(&r.stdout);
    assert_eq!(r.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "differs from what the log printed: {}",
            release.display()
        )),
        "{said}"
    );
    fs::write(&release, &pdf).unwrap();

    // The chain covers it through the event that printed it: its row edited past troche
    // (the triggers dropped) is found.
    let unguard = if log.env_url.is_some() {
        "DROP TRIGGER IF EXISTS files_append_only ON files;"
    } else {
        "DROP TRIGGER IF EXISTS files_no_update;"
    };
    crate::bench_record::edit(
        log,
        &format!("{unguard} UPDATE files SET path = '/elsewhere/x.pdf' WHERE kind = 'release'"),
    );
    let o = log.run(&["db", "check"]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("the release file row differs from the event that printed it"),
        "{said}"
    );
}

crate::log::on_both_logs!(
    the_release_record_holds_the_decision_and_what_it_rested_on,
    "release_record"
);

/// A rejection prints the same record titled as one, with the reason; a batch rejected
/// before it was recorded says so; `reprint --force` writes it again as kept.
fn a_rejection_is_the_same_record_titled_as_one(log: &Log, tmp: &Path) {
    log.people();
    let out = tmp.join("out");
    log.progesterone(&out, "P1");
    log.signed(
        &[
            "verify",
            "P1",
            "--by",
            RP.0,
            "--reject",
            "mold cracked during pouring",
        ],
        &[RP.1],
    );
    let rejection = out.join("P1-release.pdf");
    let pdf = fs::read(&rejection).unwrap();
    let rejected = last_event(log, "P1");
    assert_eq!(rejected["what"], "rejected");
    assert_eq!(
        rejected["details"]["printed"]["sha256"],
        troche::logbook::sha256_hex(&pdf).as_str()
    );
    let text = pdf_text(&pdf);
    assert_has_all(
        &text,
        "the rejection record",
        &[
            "REJECTION RECORD",
            "BATCH REJECTED - DO NOT DISPENSE",
            "Reason: mold cracked during pouring",
            "No bench record was entered",
            "Prepared by TK (Tom King, technician)",
            &format!(
                "Rejected by RP (Rita Park, pharmacist) at {}",
                printed_time(rejected["at"].as_str().unwrap())
            ),
            "progesterone-troche version 3 · rejection record",
        ],
    );
    assert!(!text.contains("released"), "{text}");
    // Not reprinted as if it were good; with --force, as kept beside the stamped pages.
    fs::remove_file(&rejection).unwrap();
    log.refused(&["reprint", "P1", "--by", TK.0], &[TK.1], 2, "is rejected");
    log.signed(&["reprint", "P1", "--by", TK.0, "--force"], &[TK.1]);
    assert_eq!(fs::read(&rejection).unwrap(), pdf);
    let sheet = pdf_text(&fs::read(out.join("P1-worksheet.pdf")).unwrap());
    assert!(sheet.contains("REJECTED-DONOTDISPENSE"), "{sheet}");
}

crate::log::on_both_logs!(a_rejection_is_the_same_record_titled_as_one, "rejection");

/// A pharmacy with one pharmacist: the policy lets the pharmacist who prepared the batch
/// release it, and the release record says so beside the signature.
fn the_same_pharmacist_is_named_as_such(log: &Log, tmp: &Path) {
    log.people();
    log.signed(
        &["policy", "set", "same-person-release", "on", "--by", RP.0],
        &[RP.1],
    );
    let out = tmp.join("out").display().to_string();
    log.signed(
        &[
            "make",
            "progesterone-troche",
            "--strength",
            "100 mg",
            "--quantity",
            "30",
            "--date",
            "2026-11-30",
            "--backdate",
            "--config",
            &fixture("troche.toml"),
            "--out",
            &out,
            "--lot",
            "P2",
            "--by",
            RP.0,
        ],
        &[RP.1],
    );
    let record = complete_record(log, "P2", &["--by", TK.0]);
    log.signed(&strs(&record), &[TK.1]);
    log.signed(&["verify", "P2", "--by", RP.0], &[RP.1]);
    let text = pdf_text(&fs::read(tmp.join("out").join("P2-release.pdf")).unwrap());
    assert_has_all(
        &text,
        "the release record",
        &[
            "Prepared and released by the same pharmacist:",
            "same-person-release",
            "Prepared by RP (Rita Park, pharmacist)",
            "Flags and how each was handled None:",
        ],
    );
}

crate::log::on_both_logs!(the_same_pharmacist_is_named_as_such, "same_person");
