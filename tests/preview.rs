//! Pages that are not the batch's own paperwork say so across every page: a preview
//! (`worksheet --preview`, `label --preview`) takes no lot, needs no signature and never
//! touches the log; a failed write of a real document takes no lot; and a reprint of a batch
//! that may not be dispensed is refused unless `--force`, which stamps its state. SQLite
//! always; the reprint states on PostgreSQL too, in the tests marked `#[ignore]` (as in
//! log.rs).

use std::fs;
use std::path::Path;

use crate::common::{
    KETAMINE, PH, RP, TK, Test, assert_has_all, config, has, ketamine_document, page_count,
    pdf_text, today,
};
use crate::log::Log;

const PREVIEW: &str = "PREVIEW - NOT A COMPOUNDING RECORD";

/// The lots in the scratch directory's log (`--db LOG`).
fn lots(t: Test, log: &str) -> (Test, Vec<String>) {
    let t = t
        .again()
        .args(["log", "--db", log, "--limit", "0", "--format", "json"]);
    let ran = t.run();
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let lots = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lot"].as_str().unwrap().to_string())
        .collect();
    (t, lots)
}

#[test]
fn a_preview_is_stamped_takes_no_lot_and_never_creates_the_log() {
    let t = Test::new();
    let log = t.at("log.sqlite3");
    let (ws, label) = (t.at("ws.pdf"), t.at("label.pdf"));
    let t = t
        .args(ketamine_document(
            "worksheet",
            &ws,
            &["--preview", "--db", &log],
        ))
        .stderr_contains("a preview: no lot taken");
    let ran = t.run();
    assert!(!ran.stderr.contains("lot 2"), "{}", ran.stderr);
    assert!(!Path::new(&log).exists(), "a preview created the log");
    let bytes = fs::read(&ws).unwrap();
    let text = pdf_text(&bytes);
    assert_has_all(
        &text,
        "preview worksheet",
        &["Lot number PREVIEW", "Ketamine HCl troche"],
    );
    // The stamp crosses every page.
    let pages = page_count(&bytes);
    assert!(pages > 1);
    assert_eq!(
        text.matches(&PREVIEW.split_whitespace().collect::<String>())
            .count(),
        pages,
        "{text}"
    );
    let t = t.again().args(ketamine_document(
        "label",
        &label,
        &["--preview", "--db", &log],
    ));
    t.run();
    let text = pdf_text(&fs::read(&label).unwrap());
    assert!(has(&text, PREVIEW), "{text}");
    assert!(has(&text, "Lot: PREVIEW"), "{text}");
    assert!(!Path::new(&log).exists(), "a preview created the log");
}

#[test]
fn a_preview_is_the_worksheet_with_its_stamp_and_is_deterministic() {
    let t = Test::new();
    let (a, b, real) = (t.at("a.pdf"), t.at("b.pdf"), t.at("real.pdf"));
    let date = today();
    let t = t.args(ketamine_document(
        "worksheet",
        &a,
        &["--preview", "--date", &date],
    ));
    t.run();
    let t = t.again().args(ketamine_document(
        "worksheet",
        &b,
        &["--preview", "--date", &date],
    ));
    t.run();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    // The same pages a batch gets, its lot and the log's seal aside.
    let t = t
        .again()
        .args(ketamine_document("worksheet", &real, &["--date", &date]));
    let ran = t.run();
    let lot = ran
        .stdout
        .split("lot ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .to_string();
    let (preview, real) = (fs::read(&a).unwrap(), fs::read(&real).unwrap());
    assert_eq!(page_count(&preview), page_count(&real));
    let stamp: String = PREVIEW.split_whitespace().collect();
    let preview = pdf_text(&preview)
        .replace(&stamp, "")
        .replace("PREVIEW", &lot);
    // The footer's seal ties the pages to the log's chain: a preview has none.
    let real = pdf_text(&real);
    let seal = real.split("·seal").nth(1).map(|s| &s[..16]).unwrap();
    assert_eq!(preview, real.replace(&format!("·seal{seal}"), ""));
}

/// The log in a [`Test`]'s scratch directory when no `--db` is given.
fn default_log(t: &Test) -> String {
    t.at("troche/log.sqlite3")
}

#[test]
fn a_preview_needs_no_signature_and_leaves_a_log_with_people_as_it_was() {
    let t = Test::new().people();
    let log = default_log(&t);
    let before = fs::read(&log).unwrap();
    let out = t.at("ws.pdf");
    // No --by, no PIN on standard input, although the log has people.
    let t = t
        .again()
        .args(ketamine_document("worksheet", &out, &["--preview"]));
    t.run();
    assert!(Path::new(&out).exists());
    assert_eq!(fs::read(&log).unwrap(), before, "a preview changed the log");
    // A preview is signed by no one: --by with it is a mistake, said so.
    let l = t.at("l.pdf");
    let t = t
        .again()
        .args(ketamine_document("label", &l, &["--preview", "--by", RP.0]))
        .status(2);
    let err = t.run().stderr;
    assert!(err.contains("--preview") && err.contains("--by"), "{err}");
    let (_, lots) = lots(t, &log);
    assert!(lots.is_empty(), "{lots:?}");
}

#[test]
fn a_preview_makes_every_check_of_the_order() {
    let folder = Test::new();
    let out = folder.at("ws.pdf");
    // A controlled substance without the prescriber's DEA number.
    let t = Test::new().arg("worksheet").args(KETAMINE).args([
        "--config",
        &config(),
        "-o",
        &out,
        "--preview",
    ]);
    let err = t.refused();
    assert!(err.contains("DEA"), "{err}");
    // A misspelt active, a lot that cannot be one, a strength above the formula's maximum.
    for (more, says) in [
        (
            &["--strength", "Ketamin=50 mg"][..],
            "did you mean \"Ketamine\"?",
        ),
        (&["--lot", "LOT 1"][..], "is not a lot"),
        (&["--refills", "6"][..], "refills"),
    ] {
        let mut args = ketamine_document("worksheet", &out, &["--preview"]);
        if more[0] == "--strength" {
            let at = args.iter().position(|a| a == "--strength").unwrap();
            args.drain(at..at + 2);
        }
        args.extend(more.iter().map(|s| (*s).to_string()));
        let err = Test::new().args(args).refused();
        assert!(err.contains(says), "{more:?}: {err}");
    }
    assert!(!Path::new(&out).exists());
}

#[test]
fn a_document_that_cannot_be_written_takes_no_lot() {
    let t = Test::new().file("taken.pdf", "someone else's file");
    let log = t.at("log.sqlite3");
    let taken = t.at("taken.pdf");
    let label = t.at("label.pdf");
    let t = t
        .args(ketamine_document("worksheet", &taken, &["--db", &log]))
        .status(2);
    let err = t.run().stderr;
    assert!(err.contains("taken.pdf"), "{err}");
    assert_eq!(fs::read_to_string(&taken).unwrap(), "someone else's file");
    let (t, lots) = lots(t, &log);
    assert!(lots.is_empty(), "{lots:?}");
    // The next document gets the first lot of the day.
    let t = t
        .again()
        .args(ketamine_document("label", &label, &["--db", &log]));
    let ran = t.run();
    let first = format!("lot {}-001,", today().replace('-', "")[2..].to_owned());
    assert!(ran.stdout.contains(&first), "{}", ran.stdout);
}

/// The stored SHA-256 of each file of `lot`, by kind.
fn stored(log: &Log, lot: &str) -> Vec<(String, String)> {
    log.json(&["lot", lot])["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A reprint of `lot` (in `out`, whose worksheet and label are the first print) while it is
/// `state`: refused without `--force`, naming the state and the flag; with it, every page
/// stamped, and what the log keeps unchanged.
fn refused_then_stamped(log: &Log, out: &Path, lot: &str, state: &str) {
    let ws = out.join(format!("{lot}-worksheet.pdf"));
    let label = out.join(format!("{lot}-label.pdf"));
    let first = (fs::read(&ws).unwrap(), fs::read(&label).unwrap());
    let kept = stored(log, lot);
    let err = log.refused(&["reprint", lot, "--by", TK.0], &[TK.1], 2, state);
    let stamp = format!("{} - DO NOT DISPENSE", state.to_uppercase());
    assert!(err.contains("--force") && err.contains(&stamp), "{err}");
    assert_eq!(fs::read(&ws).unwrap(), first.0, "a refused reprint wrote");
    let out_text = log.signed(&["reprint", lot, "--by", TK.0, "--force"], &[TK.1]);
    assert!(out_text.is_empty(), "{out_text}");
    let bytes = fs::read(&ws).unwrap();
    assert_ne!(bytes, first.0);
    let text = pdf_text(&bytes);
    let squeezed: String = stamp.split_whitespace().collect();
    assert_eq!(
        text.matches(&squeezed).count(),
        page_count(&bytes),
        "{text}"
    );
    assert!(has(&pdf_text(&fs::read(&label).unwrap()), &stamp));
    // The stamped pages are a new rendering, never the batch's kept documents.
    assert_eq!(stored(log, lot), kept);
    let last = log.json(&["lot", lot])["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["what"], "reprinted", "{last}");
    assert_eq!(last["details"]["stamp"], stamp.as_str(), "{last}");
    // Put the first print back for the next state.
    fs::write(&ws, &first.0).unwrap();
    fs::write(&label, &first.1).unwrap();
}

fn reprints_say_what_the_batch_is(log: &Log, tmp: &Path) {
    log.people();
    let out = tmp.join("out");
    log.progesterone(&out, "P1");
    // The prepared event names who prepared the batch.
    let prepared = log.json(&["lot", "P1"])["events"][0].clone();
    assert_eq!(
        (prepared["what"].as_str(), prepared["who"].as_str()),
        (Some("prepared"), Some(TK.0)),
        "{prepared}"
    );
    log.signed(
        &["verify", "P1", "--by", RP.0, "--reject", "spilled"],
        &[RP.1],
    );
    refused_then_stamped(log, &out, "P1", "rejected");

    // A released batch reprints byte for byte; quarantined or recalled, it is stamped.
    log.progesterone(&out, "P2");
    let record = crate::bench_record::complete_record(log, "P2", &["--by", TK.0]);
    log.signed(&crate::bench_record::strs(&record), &[TK.1]);
    log.signed(&["verify", "P2", "--by", RP.0], &[RP.1]);
    let ws = out.join("P2-worksheet.pdf");
    let first = fs::read(&ws).unwrap();
    fs::remove_file(&ws).unwrap();
    log.signed(&["reprint", "P2", "--by", TK.0], &[TK.1]);
    assert_eq!(fs::read(&ws).unwrap(), first);
    log.signed(
        &[
            "quarantine",
            "P2",
            "--by",
            PH.0,
            "--reason",
            "a patient's complaint",
        ],
        &[PH.1],
    );
    refused_then_stamped(log, &out, "P2", "quarantined");
    log.signed(
        &[
            "recall-batch",
            "P2",
            "--by",
            PH.0,
            "--reason",
            "assay out of range",
        ],
        &[PH.1],
    );
    refused_then_stamped(log, &out, "P2", "recalled");
    let check = log.ok(&["db", "check"]);
    assert!(check.contains(" links verified"), "{check}");
}

crate::log::on_both_logs!(reprints_say_what_the_batch_is, "reprint_states");
