//! One name resolver: every command that names an ingredient (calc strengths and bases,
//! `confirm_strength`, `--component`, `record --weight`, `verify --acknowledge`) takes its
//! full name, short name or moiety name in any case, and refuses a near miss with "did you
//! mean", never applying it.

use std::fs;

use crate::common::{
    PH, RP, TK, Test, calc, fixture, has, ingredient, ketamine_document, pdf_text,
};
use crate::log::{Log, make_args};

#[test]
fn calc_takes_every_name_of_an_active_and_refuses_a_near_miss() {
    for strength in [
        "Ketamine hydrochloride, USP=50 mg",
        "ketamine hydrochloride=50 mg",
        "KETAMINE=50 mg",
    ] {
        let v = calc("ketamine-hcl-troche", strength, "30")
            .args(["--basis", "ketamine=moiety"])
            .json();
        // As text or as a number: the same amount weighed.
        let amount = ingredient(&v, "Ketamine hydrochloride, USP")["amount"].to_string();
        assert_eq!(amount.trim_matches('"'), "1.730", "{strength}");
    }
    let err = calc("ketamine-hcl-troche", "Ketamin=50 mg", "30")
        .args(["--basis", "moiety"])
        .refused();
    assert!(
        err.contains("--strength: \"Ketamin\" is not an active of ketamine-hcl-troche; did you mean \"Ketamine\"?"),
        "{err}"
    );
    // A confirmation of an unusual strength names its active the same way.
    let err = calc("ketamine-hcl-troche", "20 mg", "30")
        .args([
            "--basis",
            "salt",
            "--confirm-strength",
            "Ketamin=confirmed with the prescriber",
        ])
        .refused();
    assert!(err.contains("did you mean \"Ketamine\"?"), "{err}");
}

#[test]
fn a_component_lot_is_named_like_any_ingredient() {
    let t = Test::new();
    let out = t.at("ws.pdf");
    let order = |component: &str| {
        ketamine_document(
            "worksheet",
            &out,
            &["--preview", "--force", "--component", component],
        )
    };
    // Refused before this change; its moiety's name names the salt weighed.
    let t = t.args(order("Ketamine|K240117|2027-06-01"));
    t.run();
    let text = pdf_text(&fs::read(&out).unwrap());
    assert!(has(&text, "K240117"), "{text}");
    let err = Test::new()
        .args(order("Ketamin|K240117|2027-06-01"))
        .refused();
    assert!(
        err.contains("\"Ketamin\" (lot K240117) is not an ingredient of ketamine-hcl-troche; did you mean \"Ketamine\"?"),
        "{err}"
    );
    let err = Test::new()
        .args(order("Polyethylene glycol|P1|2027-06-01"))
        .refused();
    assert!(
        err.contains("did you mean \"Polyethylene glycol 400\" or \"Polyethylene glycol 1450\"?"),
        "{err}"
    );
}

/// The flags of the bench record in force of `lot`, by id.
fn flag_ids(log: &Log, lot: &str) -> Vec<String> {
    let events = log.json(&["lot", lot])["events"].clone();
    let recorded = events
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["what"] == "recorded")
        .unwrap()
        .clone();
    recorded["details"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// A complete record of `lot`, the active named by its moiety ("Ketamine=AMOUNT") and the
/// gelatin by its short name in lower case ("gelatin powder=AMOUNT").
fn record_by_other_names(log: &Log, lot: &str, ketamine: &str, gelatin: &str, more: &[&str]) {
    let mut signers = vec!["--by", TK.0, "--witness", RP.0];
    signers.extend_from_slice(more);
    let args: Vec<String> = crate::bench_record::complete_record(log, lot, &signers)
        .into_iter()
        .map(|a| {
            if a.starts_with("Ketamine hydrochloride, USP=") {
                format!("Ketamine={ketamine}")
            } else if a.starts_with("Gelatin powder, USP (suspending agent)=") {
                format!("gelatin powder={gelatin}")
            } else {
                a
            }
        })
        .collect();
    // No component of the active at record: the order gave it, by its moiety's name.
    assert!(
        !args
            .iter()
            .any(|a| a.starts_with("Ketamine hydrochloride, USP|")),
        "{args:?}"
    );
    log.signed(&crate::bench_record::strs(&args), &[TK.1, RP.1]);
}

/// Problem: names were matched differently by each command. `--component "Ketamine|K1|..."`
/// was refused while `--weight "Ketamine=..."` was accepted, `--acknowledge
/// "weight:Ketamine=..."` was ignored, and a misspelt name was matched to the nearest. Every
/// command takes the full, short or moiety name in any case, and refuses a near miss with
/// "did you mean", before anyone signs.
fn record_and_verify_name_ingredients_as_every_other_command(log: &Log, tmp: &std::path::Path) {
    log.people();
    let out = tmp.join("out").display().to_string();
    let cfg = fixture("troche.toml");
    log.signed(
        &make_args(
            &out,
            &cfg,
            &["--component", "Ketamine|K1|2030-01-01", "--by", TK.0],
        ),
        &[TK.1],
    );
    let lot = "261130-001";
    assert_eq!(
        log.json(&["lot", lot])["components"][0]["lot"],
        "K1",
        "the active's lot, named by its moiety"
    );
    // A misspelt ingredient is refused before anyone signs, never matched to the nearest.
    let err = log.refused(
        &[
            "record",
            lot,
            "--by",
            TK.0,
            "--witness",
            RP.0,
            "--weight",
            "Ketamin=1.730 g",
        ],
        &[],
        2,
        "--weight: \"Ketamin\" is not an ingredient of lot 261130-001; did you mean \"Ketamine\"?",
    );
    assert!(err.contains("Ketamine hydrochloride, USP; "), "{err}");
    log.refused(
        &[
            "record",
            lot,
            "--by",
            TK.0,
            "--witness",
            RP.0,
            "--weight",
            "Gelatin=0.3 g",
        ],
        &[],
        2,
        "did you mean \"Gelatin powder\"?",
    );
    log.refused(
        &[
            "record",
            lot,
            "--by",
            TK.0,
            "--witness",
            RP.0,
            "--component",
            "Ketamin|K2|2030-01-01",
        ],
        &[],
        2,
        "did you mean \"Ketamine\"?",
    );
    assert_eq!(log.events(lot), ["prepared"]);
    // The active 7.5 % low, weighed as "Ketamine": its flag is the active's, and
    // "weight:Ketamine" names it (never acknowledged), rather than being ignored.
    record_by_other_names(log, lot, "1.600 g", "0.300 g", &[]);
    assert_eq!(flag_ids(log, lot), ["weight:Ketamine hydrochloride, USP"]);
    log.refused(
        &[
            "verify",
            lot,
            "--by",
            PH.0,
            "--acknowledge",
            "weight:Ketamine=re-weighed, balance checked",
        ],
        &[PH.1],
        2,
        "weight:Ketamine hydrochloride, USP cannot be acknowledged",
    );
    // A correction: the active right, the gelatin off by its short name in lower case.
    record_by_other_names(
        log,
        lot,
        "1.730 g",
        "0.350 g",
        &["--reason", "active re-weighed and remade"],
    );
    assert_eq!(
        flag_ids(log, lot),
        ["weight:Gelatin powder, USP (suspending agent)"]
    );
    log.refused(
        &["verify", lot, "--by", PH.0, "--acknowledge", "weight:Gelatine=re-weighed, balance checked"],
        &[PH.1],
        2,
        "--acknowledge: \"Gelatine\" is not an ingredient of lot 261130-001; did you mean \"Gelatin powder\"?",
    );
    // Acknowledged by its short name, in another case: the flag the record raised.
    log.signed(
        &[
            "verify",
            lot,
            "--by",
            PH.0,
            "--acknowledge",
            "weight:GELATIN POWDER=re-weighed, balance checked",
        ],
        &[PH.1],
    );
    assert_eq!(log.json(&["lot", lot])["status"], "released");
    let text = pdf_text(&fs::read(tmp.join("out").join(format!("{lot}-release.pdf"))).unwrap());
    assert!(
        has(&text, "weight:Gelatin powder, USP (suspending agent):"),
        "{text}"
    );
    assert!(has(&text, "re-weighed, balance checked"), "{text}");
}

crate::log::on_both_logs!(
    record_and_verify_name_ingredients_as_every_other_command,
    "names"
);

/// Problem: a misspelt `--weight "Progesteron=6.4 g"` was quietly matched to progesterone.
fn a_misspelt_weight_is_refused_not_matched(log: &Log, tmp: &std::path::Path) {
    log.people();
    log.progesterone(&tmp.join("out"), "P1");
    log.refused(
        &[
            "record",
            "P1",
            "--by",
            TK.0,
            "--weight",
            "Progesteron=6.4 g",
        ],
        &[TK.1],
        2,
        "did you mean \"Progesterone\"?",
    );
    assert_eq!(log.json(&["lot", "P1"])["status"], "prepared");
    assert_eq!(log.events("P1"), ["prepared"]);
}

crate::log::on_both_logs!(a_misspelt_weight_is_refused_not_matched, "misspelt");
