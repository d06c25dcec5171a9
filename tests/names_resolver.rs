//! One name resolver: every command that names an ingredient (calc strengths and bases,
//! `confirm_strength`, `--component`, `record --weight`, `verify --acknowledge`) takes its
//! full name, short name or moiety name in any case, and refuses a near miss with "did you
//! mean", never applying it.

use std::fs;

use crate::common::{RP, TK, Test, calc, fixture, has, ingredient, ketamine_document, pdf_text};
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

#[test]
fn record_and_verify_name_ingredients_as_every_other_command() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    let out = tmp.path().join("out").display().to_string();
    let cfg = fixture("troche.toml");
    log.signed(&make_args(&out, &cfg, &["--by", TK.0]), &[TK.1]);
    let lot = "261130-001";
    // A misspelt ingredient is refused before anyone signs, never matched to the nearest.
    let weighed = |weight| {
        [
            "record",
            lot,
            "--by",
            TK.0,
            "--witness",
            RP.0,
            "--weight",
            weight,
        ]
    };
    let err = log.refused(
        &weighed("Ketamin=1.730 g"),
        &[],
        2,
        "--weight: \"Ketamin\" is not an ingredient of lot 261130-001; did you mean \"Ketamine\"?",
    );
    assert!(err.contains("Ketamine hydrochloride, USP; "), "{err}");
    log.refused(
        &weighed("Gelatin=0.3 g"),
        &[],
        2,
        "did you mean \"Gelatin powder\"?",
    );
    // The moiety's name and a short name are the ingredient's: a complete record, the
    // active named by its moiety, the gelatin by its short name in lower case (and off).
    let args: Vec<String> =
        crate::bench_record::complete_record(&log, lot, &["--by", TK.0, "--witness", RP.0])
            .into_iter()
            .map(|a| {
                if let Some(amount) = a.strip_prefix("Ketamine hydrochloride, USP=") {
                    format!("Ketamine={amount}")
                } else if a.starts_with("Gelatin powder, USP (suspending agent)=") {
                    "gelatin powder=0.350 g".to_string()
                } else {
                    a
                }
            })
            .collect();
    log.signed(&crate::bench_record::strs(&args), &[TK.1, RP.1]);
    let flags = log.json(&["lot", lot])["events"][1]["details"]["flags"].clone();
    let ids: Vec<&str> = flags
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["weight:Gelatin powder, USP (suspending agent)"],
        "{flags}"
    );
    log.refused(
        &["verify", lot, "--by", RP.0, "--acknowledge", "weight:Gelatine=re-weighed, balance checked"],
        &[RP.1],
        2,
        "--acknowledge: \"Gelatine\" is not an ingredient of lot 261130-001; did you mean \"Gelatin powder\"?",
    );
    // Acknowledged by its short name, in another case: the flag the record raised.
    log.signed(
        &[
            "verify",
            lot,
            "--by",
            crate::common::PH.0,
            "--acknowledge",
            "weight:GELATIN POWDER=re-weighed, balance checked",
        ],
        &[crate::common::PH.1],
    );
    let last = log.json(&["lot", lot])["events"].as_array().unwrap().len();
    assert_eq!(log.json(&["lot", lot])["status"], "released", "{last}");
}

#[test]
fn a_misspelt_weight_is_refused_not_matched() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    log.people();
    log.progesterone(&tmp.path().join("out"), "P1");
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
}
