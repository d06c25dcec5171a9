//! Release control (docs/log.md, "People and signatures"): the log's people and their PINs,
//! signed record and verify, separation of duties, the states after release, and states that
//! cannot be raced. SQLite always; PostgreSQL in the tests marked `#[ignore]`, as in log.rs.

use std::path::Path;

use crate::bench_record::{complete_args, complete_record, strs};
use crate::common::{PH, PROGESTERONE, RP, TK, Test, fixture};
use crate::log::{Log, make_args, user_add};

fn status(log: &Log, lot: &str) -> String {
    log.json(&["lot", lot])["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn people_and_pins(log: &Log) {
    // The first person is a pharmacist, with a PIN of at least 8 characters.
    log.refused(
        &user_add("TK", "Tom King", "technician", &[]),
        &[TK.1],
        2,
        "first person of a compounding log is a pharmacist",
    );
    log.refused(
        &user_add("RP", "Rita Park", "pharmacist", &[]),
        &["short"],
        2,
        "at least 8 characters",
    );
    log.people();
    let list = log.ok(&["user", "list"]);
    assert!(
        list.contains("RP        pharmacist  active    Rita Park"),
        "{list}"
    );
    assert!(
        list.contains("TK        technician  active    Tom King"),
        "{list}"
    );
    // After the first, a pharmacist adds people, signing with the second line.
    log.refused(
        &user_add("T2", "T Two", "technician", &[]),
        &["t2-pin-0004"],
        2,
        "a pharmacist adds the next",
    );
    log.refused(
        &user_add("T2", "T", "technician", &["--by", TK.0]),
        &["t2-pin-0004", TK.1],
        2,
        "TK is a technician; only a pharmacist adds people",
    );
    log.refused(
        &user_add("T2", "T", "technician", &["--by", RP.0]),
        &["t2-pin-0004", PH.1],
        2,
        "wrong PIN for RP",
    );
    // A PIN comes from standard input, one line per signer: a missing line is refused.
    log.refused(
        &user_add("T2", "T", "technician", &["--by", RP.0]),
        &["t2-pin-0004"],
        2,
        "standard input ended before PIN of RP",
    );
    log.signed(
        &user_add("t2", "T Two", "technician", &["--by", RP.0]),
        &["t2-pin-0004", RP.1],
    );
    // One's own PIN: old, then new.
    log.refused(
        &["user", "pin", "T2"],
        &["wrong-pin-1", "t2-pin-0005"],
        2,
        "wrong PIN",
    );
    log.signed(&["user", "pin", "T2"], &["t2-pin-0004", "t2-pin-0005"]);
    // Five wrong PINs in a row lock; a pharmacist unlocks.
    for _ in 0..4 {
        log.refused(
            &["user", "pin", "T2"],
            &["t2-pin-0004", "x2345678"],
            2,
            "more wrong",
        );
    }
    log.refused(
        &["user", "pin", "T2"],
        &["t2-pin-0004", "x2345678"],
        2,
        "now locked",
    );
    log.refused(
        &["user", "pin", "T2"],
        &["t2-pin-0005", "x2345678"],
        2,
        "is locked",
    );
    assert!(
        log.ok(&["user", "list"])
            .contains("T2        technician  locked")
    );
    log.refused(
        &["user", "unlock", "T2", "--by", TK.0],
        &[TK.1],
        2,
        "only a pharmacist unlocks",
    );
    log.signed(&["user", "unlock", "T2", "--by", PH.0], &[PH.1]);
    log.signed(&["user", "pin", "T2"], &["t2-pin-0005", "t2-pin-0006"]);
    log.signed(&["user", "deactivate", "T2", "--by", RP.0], &[RP.1]);
    assert!(
        log.ok(&["user", "list"])
            .contains("T2        technician  inactive")
    );
}

fn signed_release(log: &Log, out: &Path) {
    log.progesterone(out, "P1");
    let before = log.events("P1");
    // Unknown, inactive and wrongly signed initials are refused, and change nothing.
    for (by, pin, says) in [
        ("ZZ", TK.1, "no person ZZ"),
        ("T2", "t2-pin-0006", "T2 is inactive"),
        (TK.0, RP.1, "wrong PIN for TK"),
    ] {
        log.refused(
            &["record", "P1", "--by", by, "--made", "30"],
            &[pin],
            2,
            says,
        );
    }
    log.refused(&["record", "P1", "--made", "30"], &[TK.1], 2, "--by");
    assert_eq!(log.events("P1"), before);
    log.signed(&["record", "P1", "--by", TK.0, "--made", "30"], &[TK.1]);
    // A technician cannot release; nor can the one who recorded.
    log.refused(
        &["verify", "P1", "--by", TK.0],
        &[TK.1],
        2,
        "only a pharmacist",
    );
    // A correction, complete, by the pharmacist.
    let correction = complete_record(
        log,
        "P1",
        &["--by", RP.0, "--reason", "weighed again by RP"],
    );
    log.signed(&strs(&correction), &[RP.1]);
    log.refused(
        &["verify", "P1", "--by", RP.0],
        &[RP.1],
        2,
        "RP prepared or recorded lot P1",
    );
    log.refused(
        &["verify", "P1", "--by", RP.0, "--reject", "spilled"],
        &[RP.1],
        2,
        "RP prepared or recorded lot P1",
    );
    // A policy is signed by a pharmacist; with it on, the same pharmacist releases, and the
    // event says so.
    log.refused(
        &["policy", "set", "same-person-release", "on", "--by", TK.0],
        &[TK.1],
        2,
        "only a pharmacist sets a policy",
    );
    log.signed(
        &["policy", "set", "same-person-release", "on", "--by", RP.0],
        &[RP.1],
    );
    assert!(
        log.ok(&["policy", "list"])
            .contains("same-person-release = on (set by RP")
    );
    let o = log.run_in(&["verify", "P1", "--by", RP.0], &[RP.1]);
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("prepared and released by the same pharmacist")
    );
    let lot = log.json(&["lot", "P1"]);
    let released = lot["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(released["what"], "released");
    assert_eq!(released["who"], "RP");
    assert_eq!(released["meaning"], "released");
    assert_eq!(released["details"]["same_person"], true);
    assert!(!released["os_user"].as_str().unwrap().is_empty());
    log.signed(
        &["policy", "set", "same-person-release", "off", "--by", RP.0],
        &[RP.1],
    );

    // After release: dispense (only a released batch, never more than it has), quarantine
    // and recall (a pharmacist's).
    log.progesterone(out, "P2");
    log.refused(&["dispense", "P2", "--by", TK.0], &[TK.1], 2, "is prepared");
    log.signed(&["dispense", "P1", "--by", TK.0, "--units", "10"], &[TK.1]);
    log.refused(
        &["dispense", "P1", "--by", TK.0, "--units", "21"],
        &[TK.1],
        2,
        "has 20 of its 30 units left",
    );
    log.refused(
        &["quarantine", "P1", "--by", TK.0, "--reason", "complaint"],
        &[TK.1],
        2,
        "only a pharmacist",
    );
    log.signed(
        &[
            "quarantine",
            "P1",
            "--by",
            PH.0,
            "--reason",
            "a patient's complaint",
        ],
        &[PH.1],
    );
    log.refused(
        &["dispense", "P1", "--by", TK.0],
        &[TK.1],
        2,
        "is quarantined",
    );
    log.signed(
        &[
            "recall-batch",
            "P1",
            "--by",
            PH.0,
            "--reason",
            "assay out of range",
        ],
        &[PH.1],
    );
    assert_eq!(status(log, "P1"), "recalled");
    log.refused(
        &["recall-batch", "P2", "--by", PH.0, "--reason", "x"],
        &[PH.1],
        2,
        "is prepared",
    );
    assert_eq!(
        log.events("P1"),
        [
            "prepared",
            "recorded",
            "recorded",
            "released",
            "dispensed",
            "quarantined",
            "recalled"
        ]
    );
}

fn people_sign_with_pins_that_lock(log: &Log, _: &Path) {
    people_and_pins(log);
}

crate::log::on_both_logs!(people_sign_with_pins_that_lock, "people");

fn release_is_signed_separated_and_followed_by_dispense_quarantine_recall(log: &Log, tmp: &Path) {
    people_and_pins(log);
    signed_release(log, tmp);
}

crate::log::on_both_logs!(
    release_is_signed_separated_and_followed_by_dispense_quarantine_recall,
    "release"
);

/// A controlled substance's weighing is witnessed by a second person, who signs second.
#[test]
fn a_scheduled_active_needs_a_signed_witness() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    let out = tmp.path().join("k").display().to_string();
    let cfg = fixture("troche.toml");
    log.signed(&make_args(&out, &cfg, &["--by", TK.0]), &[TK.1]);
    let lot = "261130-001";
    let record = ["record", lot, "--by", TK.0, "--made", "30"];
    log.refused(&record, &[TK.1], 2, "controlled substance (CIII)");
    let mut with = record.to_vec();
    with.extend(["--witness", TK.0]);
    log.refused(&with, &[TK.1, TK.1], 2, "a second person");
    let mut with = record.to_vec();
    with.extend(["--witness", PH.0]);
    log.refused(&with, &[TK.1, RP.1], 2, "wrong PIN for PH");
    assert_eq!(log.events(lot), ["prepared"]);
    log.signed(&with, &[TK.1, PH.1]);
    let e = log.json(&["lot", lot])["events"].clone();
    assert_eq!(e[2]["what"], "witnessed");
    assert_eq!(e[2]["who"], "PH");
    assert_eq!(e[2]["meaning"], "witnessed");
    assert_eq!(e[1]["details"]["witness"], "PH");
}

/// `user = "TK"` in troche.toml names the workstation's signer when --by is not given; the
/// PIN is still asked for.
#[test]
fn the_workstation_user_fills_in_by() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    log.progesterone(tmp.path(), "P1");
    let cfg = tmp.path().join("bench.toml");
    std::fs::write(&cfg, "user = \"TK\"\n").unwrap();
    let cfg = cfg.display().to_string();
    log.refused(
        &["record", "P1", "--made", "30", "--config", &cfg],
        &[RP.1],
        2,
        "wrong PIN for TK",
    );
    log.signed(&["record", "P1", "--made", "30", "--config", &cfg], &[TK.1]);
    assert_eq!(log.json(&["lot", "P1"])["events"][1]["who"], "TK");
}

/// Whether a history of statuses ever goes back: after `released` or `rejected` only the
/// events that follow release (`acknowledged` precedes it) may come.
fn goes_back(whats: &[String]) -> bool {
    let mut done = false;
    for w in whats {
        if done && (w == "recorded" || w == "prepared") {
            return true;
        }
        if w == "released" || w == "rejected" {
            done = true;
        }
    }
    false
}

// `record` run at the same moment as `verify`, and as `verify --reject`, 50 times each, as
// real processes: whichever wins, no state ever goes back, and every batch ends released
// (or rejected).
crate::log::on_both_logs!(record_racing_verify_never_moves_a_state_back, race, "race");

fn race(log: &Log, tmp: &Path) {
    const TRIALS: usize = 50;
    const WAVE: usize = 5;
    log.people();
    let recipe = tmp.join("race.toml");
    let text: Vec<String> = (0..2 * TRIALS)
        .map(|k| {
            format!(
                "[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\n\
                 quantity = 30\nlot = \"R{k:03}\"\n"
            )
        })
        .collect();
    std::fs::write(&recipe, text.join("\n")).unwrap();
    let out = tmp.join("out").display().to_string();
    log.signed(
        &[
            "batch",
            recipe.to_str().unwrap(),
            "--config",
            &fixture("troche.toml"),
            "--out",
            &out,
            "--by",
            TK.0,
        ],
        &[TK.1],
    );
    // The release trials start from a recorded batch (a second `record` is a correction).
    // Commands run in waves of WAVE trials at once, which also races them against each other.
    let lots: Vec<String> = (0..2 * TRIALS).map(|k| format!("R{k:03}")).collect();
    let complete: std::collections::BTreeMap<&str, Vec<String>> = lots
        .iter()
        .map(|lot| (lot.as_str(), complete_args(&log.json(&["lot", lot]))))
        .collect();
    let record = |lot: &str, more: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["record", lot, "--by", TK.0]
            .iter()
            .map(ToString::to_string)
            .collect();
        v.extend(complete[lot].iter().cloned());
        v.extend(more.iter().map(ToString::to_string));
        v
    };
    for wave in lots[..TRIALS].chunks(WAVE) {
        let running: Vec<_> = wave
            .iter()
            .map(|lot| log.spawn(&strs(&record(lot, &[])), &[TK.1]))
            .collect();
        for r in running {
            let o = r.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let mut verify_first = 0;
    for (w, wave) in lots.chunks(WAVE).enumerate() {
        let reject = w * WAVE >= TRIALS;
        let running: Vec<_> = wave
            .iter()
            .map(|lot| {
                let mut verify = vec!["verify", lot.as_str(), "--by", RP.0];
                if reject {
                    verify.extend(["--reject", "spilled"]);
                }
                // The release trials' lots have a record: this one corrects it.
                let again = if reject {
                    record(lot, &[])
                } else {
                    record(lot, &["--reason", "a correction racing the release"])
                };
                (
                    log.spawn(&strs(&again), &[TK.1]),
                    log.spawn(&verify, &[RP.1]),
                )
            })
            .collect();
        for (a, b) in running {
            let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
            assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
            let err = String::from_utf8_lossy(&a.stderr);
            if !a.status.success() {
                assert!(a.status.code() == Some(2) && err.contains("is re"), "{err}");
                verify_first += 1;
            }
        }
    }
    // Shown with --nocapture: how often each command won.
    eprintln!("verify won {verify_first} of {} races", 2 * TRIALS);
    let mut by_lot = std::collections::BTreeMap::<String, Vec<String>>::new();
    for wave in lots.chunks(10) {
        let running: Vec<_> = wave
            .iter()
            .map(|lot| (lot, log.spawn(&["lot", lot, "--format", "json"], &[])))
            .collect();
        for (lot, r) in running {
            let o = r.wait_with_output().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let whats = v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["what"].as_str().unwrap().to_string())
                .collect();
            by_lot.insert(lot.clone(), whats);
        }
    }
    assert_eq!(by_lot.len(), 2 * TRIALS);
    for (k, (lot, whats)) in by_lot.iter().enumerate() {
        assert!(!goes_back(whats), "{lot}: {whats:?}");
        let end = if k < TRIALS { "released" } else { "rejected" };
        assert_eq!(
            whats.last().map(String::as_str),
            Some(end),
            "{lot}: {whats:?}"
        );
    }
}

/// `troche ARGS` for a progesterone batch with the fixture pharmacy, then `more`.
fn progesterone<'a>(command: &'a str, cfg: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![command];
    v.extend(PROGESTERONE);
    v.extend(["--config", cfg]);
    v.extend_from_slice(more);
    v
}

/// Once a log has people, every command that enters a batch (make, batch, worksheet, label)
/// or prints it again (reprint) is signed, and the `prepared` event names the signer, who
/// then cannot release the batch.
#[test]
fn preparing_is_signed_once_the_log_has_people() {
    let cfg = fixture("troche.toml");
    let t = Test::new().people();
    let e = t
        .args(progesterone("make", &cfg, &["--out", "a", "--lot", "P1"]))
        .refused();
    assert!(e.contains("--by: give the signer's initials"), "{e}");
    // P1 made in a new log, signed by `by` with `pin`.
    let make_p1 = |by: &str, pin: &str| {
        Test::new()
            .people()
            .args(progesterone(
                "make",
                &cfg,
                &["--out", "a", "--lot", "P1", "--by", by],
            ))
            .pins(&[pin])
    };
    let e = make_p1(TK.0, RP.1).refused();
    assert!(e.contains("wrong PIN for TK"), "{e}");
    let t = make_p1(PH.0, PH.1);
    t.run();
    let lot = |t: Test, lot: &str| -> (Test, serde_json::Value) {
        let t = t.again().args(["lot", lot, "--format", "json"]);
        let v = serde_json::from_str(&t.run().stdout).unwrap();
        (t, v)
    };
    let (t, p1) = lot(t, "P1");
    assert_eq!(p1["events"][0]["who"], "PH");
    assert_eq!(p1["events"][0]["meaning"], "prepared");
    // PH prepared it: another pharmacist releases.
    let t = t
        .again()
        .args(["record", "P1", "--by", TK.0, "--made", "30"])
        .pins(&[TK.1]);
    t.run();
    let t = t.again().args(["verify", "P1", "--by", PH.0]).pins(&[PH.1]);
    assert!(t.refused().contains("PH prepared or recorded lot P1"));
    let t = make_p1(PH.0, PH.1);
    t.run();
    let (t, p1) = lot(t, "P1");
    let t = t
        .again()
        .args(["record", "P1", "--by", TK.0])
        .args(complete_args(&p1))
        .pins(&[TK.1]);
    t.run();
    let t = t.again().args(["verify", "P1", "--by", RP.0]).pins(&[RP.1]);
    t.run();
    // One document, a recipe's batches and a reprint are signed the same way.
    let t = t
        .again()
        .args(progesterone(
            "worksheet",
            &cfg,
            &["-o", "w.pdf", "--lot", "W1"],
        ))
        .args(["--by", TK.0])
        .pins(&[TK.1]);
    t.run();
    let t = t
        .again()
        .args(progesterone("label", &cfg, &["-o", "l.pdf", "--lot", "L1"]))
        .args(["--by", TK.0])
        .pins(&[TK.1]);
    t.run();
    let t = t
        .file(
            "r.toml",
            // Not P1's order: the same order that day is P1, made earlier.
            "[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\nquantity = 60\n\
             lot = \"B1\"\n",
        )
        .again()
        .args([
            "batch", "r.toml", "--out", "b", "--config", &cfg, "--by", TK.0,
        ])
        .pins(&[TK.1]);
    t.run();
    let t = t
        .again()
        .args(["reprint", "P1", "--force", "--by", TK.0])
        .pins(&[TK.1]);
    t.run();
    let mut t = t;
    for l in ["W1", "L1", "B1"] {
        let (next, v) = lot(t, l);
        assert_eq!(v["events"][0]["who"], "TK", "{l}");
        assert_eq!(v["events"][0]["meaning"], "prepared", "{l}");
        t = next;
    }
    let (_, p1) = lot(t, "P1");
    let last = p1["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["what"], &last["who"], &last["meaning"]),
        (&"reprinted".into(), &"TK".into(), &"reprinted".into())
    );
}
