//! A state's lower refill limit, set as a signed policy in the log and enforced by every
//! command that enters a batch; and the warning of a prescription filled again within the
//! BUD of its earlier batch.

use std::fs;

use crate::common::*;
use crate::test::{RP, TK};

/// The compounding date of these tests; the prescriptions are written a few days before.
const DATE: &str = "2026-11-23";
const WRITTEN: &str = "2026-11-20";

/// A log with its people, and the Schedule III limit set to 2 by RP.
fn limited() -> Test {
    let t = Test::new().people();
    let t = t
        .again()
        .args(["policy", "set", "refill-limit-ciii", "2", "--by", RP.0])
        .pins(&[RP.1])
        .stderr_contains("refill-limit-CIII 2, set by RP");
    t.run();
    t.again()
}

/// `troche batch` of the recipe `body` (written into `t`'s scratch directory) into `out`,
/// with the fixture pharmacy and `--backdate`.
fn batch(t: Test, body: &str) -> Test {
    let t = t.file("recipe.toml", body);
    let (recipe, out) = (t.at("recipe.toml"), t.at("out"));
    t.args(["batch", recipe.as_str(), "--out", out.as_str()])
        .args(["--config", &config(), "--backdate"])
}

/// `troche COMMAND` of a ketamine (CIII) batch with `refills`, signed by TK.
fn ketamine(t: Test, command: &[&str], refills: &str) -> Test {
    t.args(command)
        .args(order("ketamine-hcl-troche", "50 mg", "30", &[]))
        .args(prescription(WRITTEN))
        .args(["--refills", refills, "--by", TK.0])
        .args(["--date", DATE, "--backdate", "--config", &config()])
        .pins(&[TK.1])
}

/// Runs `t`, which must be refused; its standard error, and the next run in its directory.
fn refused_in(t: Test) -> (String, Test) {
    let t = t.status(2);
    let err = t.run().stderr;
    (err, t.again())
}

/// Runs `t`, which must succeed; its standard output (the lot) and error (the warnings),
/// and the next run in its directory.
fn ran_in(t: Test) -> (String, Test) {
    let ran = t.run();
    (format!("{}{}", ran.stdout, ran.stderr), t.again())
}

#[test]
fn a_refill_limit_may_only_lower_the_federal_one_and_is_signed_by_a_pharmacist() {
    for (policy, value, says) in [
        (
            "refill-limit-CIII",
            "6",
            "above the federal limit of 5 for CIII",
        ),
        ("refill-limit-CIV", "two", "is not a number of refills"),
        ("refill-limit-CIV", "2.5", "is not a number of refills"),
        ("refill-limit-CII", "0", "no policy"),
    ] {
        let err = Test::new()
            .people()
            .again()
            .args(["policy", "set", policy, value, "--by", RP.0])
            .pins(&[RP.1])
            .refused();
        assert!(err.contains(says), "{policy} {value}: {err}");
    }
    let t = Test::new().people().again();
    let (err, t) = refused_in(
        t.args(["policy", "set", "refill-limit-CIII", "2", "--by", TK.0])
            .pins(&[TK.1]),
    );
    assert!(err.contains("only a pharmacist sets a policy"), "{err}");
    let (_, t) = ran_in(
        t.args(["policy", "set", "refill-limit-CV", "12", "--by", RP.0])
            .pins(&[RP.1]),
    );
    let list = t.args(["policy", "list"]).run().stdout;
    assert!(list.contains("refill-limit-CV = 12 (set by RP"), "{list}");
    assert!(
        list.contains("refill-limit-CIII = federal (never set)"),
        "{list}"
    );
}

#[test]
fn every_command_that_enters_a_batch_refuses_refills_above_the_policy() {
    let t = limited();
    let out = t.at("out");
    let sheet = t.at("w.pdf");
    let mut t = t;
    for (command, more) in [
        ("make", ["--out", out.as_str()]),
        ("worksheet", ["-o", sheet.as_str()]),
        ("label", ["-o", sheet.as_str()]),
    ] {
        let (err, next) = refused_in(ketamine(t, &[command], "3").args(more));
        assert!(
            err.contains(
                "3 refills: the pharmacy's policy refill-limit-CIII allows at most 2 (set by RP"
            ),
            "{command}: {err}"
        );
        assert!(err.contains("--refills 2 or fewer"), "{err}");
        t = next;
    }
    // Nothing was left behind: no files, no batch in the log.
    assert!(!std::path::Path::new(&out).exists());
    assert!(!std::path::Path::new(&sheet).exists());
    let log = t.args(["log", "--format", "json"]).run().stdout;
    assert_eq!(log.trim(), "[]", "{log}");
}

#[test]
fn the_limit_allows_what_it_allows_and_calc_ignores_it() {
    let t = limited();
    let out = t.at("out");
    let (_, t) = ran_in(ketamine(t, &["make"], "2").args(["--out", out.as_str()]));
    assert!(fs::read_dir(&out).unwrap().count() >= 3);
    // `calc` opens no log and takes no refills: the limit is not its business.
    let (_, t) = ran_in(
        t.arg("calc")
            .args(order("ketamine-hcl-troche", "50 mg", "30", &[])),
    );
    // Setting it back to the federal limit lifts it.
    let (_, t) = ran_in(
        t.args([
            "policy",
            "set",
            "refill-limit-CIII",
            "federal",
            "--by",
            RP.0,
        ])
        .pins(&[RP.1]),
    );
    let out2 = t.at("out2");
    ketamine(t, &["make"], "5")
        .args(["--out", out2.as_str()])
        .run();
}

#[test]
fn a_batch_entry_above_the_limit_fails_naming_the_policy() {
    let t = limited();
    let body = format!(
        "date = {DATE}\n\n[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\n\
         quantity = 30\nrx = \"RX-B\"\npatient = \"P\"\nprescriber = \"Dr\"\nrefills = 4\n{}\n",
        dea_keys(WRITTEN)
    );
    let o = batch(t, &body).args(["--by", TK.0]).pins(&[TK.1]).output();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("policy refill-limit-CIII allows at most 2 (set by RP"),
        "{stdout}"
    );
}

/// `troche COMMAND progesterone-troche` for Rx `rx`, dated [`DATE`], unsigned (no people).
fn progesterone(t: Test, command: &str, rx: &str) -> Test {
    t.args([command, "progesterone-troche", "--strength", "100 mg"])
        .args(["--quantity", "30", "--rx", rx])
        .args(["--date", DATE, "--backdate", "--config", &config()])
}

#[test]
fn the_same_rx_within_the_bud_of_its_earlier_batch_is_warned_of() {
    let t = Test::new();
    let out = t.at("out");
    let (first, t) = ran_in(progesterone(t, "make", "RX-7").args(["--out", out.as_str()]));
    assert!(!first.contains("duplicate"), "{first}");
    let lot = first
        .lines()
        .find_map(|l| l.strip_prefix("lot "))
        .and_then(|l| l.split(',').next())
        .expect("the first lot")
        .to_string();
    let bud = first
        .lines()
        .find_map(|l| l.split("BUD ").nth(1))
        .expect("the first BUD")
        .trim()
        .to_string();
    let want = format!(
        "Rx RX-7: lot {lot} of progesterone-troche was compounded for the same Rx number and \
         its BUD {bud} is on or after this compounding date {DATE}: this is a duplicate or an \
         early refill."
    );
    // On the terminal and in the worksheet's notes, for every command that enters a batch.
    let sheet = t.at("w.pdf");
    let (err, t) = ran_in(progesterone(t, "worksheet", "RX-7").args(["-o", sheet.as_str()]));
    assert!(err.contains(&format!("warning: {want}")), "{err}");
    let text = pdf_text(&fs::read(&sheet).unwrap());
    assert!(has(&text, &want), "{text}");
    // Later fills name the latest earlier batch.
    let same = format!(
        "of progesterone-troche was compounded for the same Rx number and its BUD {bud} is on \
         or after this compounding date {DATE}: this is a duplicate or an early refill."
    );
    let label = t.at("l.pdf");
    let (err, t) = ran_in(progesterone(t, "label", "RX-7").args(["-o", label.as_str()]));
    assert!(err.contains(&same) && !err.contains(&want), "{err}");
    let out2 = t.at("out2");
    let (err, t) = ran_in(progesterone(t, "make", "RX-7").args(["--out", out2.as_str()]));
    assert!(err.contains(&same), "{err}");
    // The record kept in the log says it too.
    let json = fs::read_dir(&out2)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(json).unwrap()).unwrap();
    assert!(
        record["calculation"]["warnings"]
            .to_string()
            .contains("duplicate or an early refill"),
        "{record}"
    );
    // Another Rx number, or the same one past the earlier BUD, is not warned of.
    let out3 = t.at("out3");
    let (err, _) = ran_in(progesterone(t, "make", "RX-8").args(["--out", out3.as_str()]));
    assert!(!err.contains("duplicate"), "{err}");
}

#[test]
fn a_recipe_that_fills_one_rx_twice_is_warned_of_at_the_second_entry() {
    let entry = |rx: &str| {
        format!(
            "[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\n\
             quantity = 30\nrx = \"{rx}\"\n\n"
        )
    };
    let body = format!(
        "date = {DATE}\n\n{}{}{}",
        entry("RX-9"),
        entry("RX-10"),
        entry("RX-9")
    );
    let t = batch(Test::new(), &body);
    let out = t.at("out");
    let ran = t.run();
    let warnings: Vec<&str> = ran
        .stdout
        .lines()
        .filter(|l| l.contains("duplicate or an early refill"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", ran.stdout);
    assert!(warnings[0].contains("batch[3]"), "{}", ran.stdout);
    assert!(warnings[0].contains("Rx RX-9: lot "), "{}", ran.stdout);
    // The third entry's worksheet carries it; the first's does not.
    let mut sheets: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-worksheet.pdf"))
        .collect();
    sheets.sort();
    assert_eq!(sheets.len(), 3);
    let text = |i: usize| pdf_text(&fs::read(&sheets[i]).unwrap());
    assert!(!has(&text(0), "duplicate or an early refill"));
    assert!(has(&text(2), "duplicate or an early refill"));
}

/// The progesterone troche's text with its active renamed `active`, as formula `id`.
fn renamed(active: &str, id: &str) -> String {
    let text = fs::read_to_string(repo("formulas/progesterone-troche.toml")).unwrap();
    text.replace("Progesterone, USP (micronized)", active)
        .replace("id = \"progesterone-troche\"", &format!("id = \"{id}\""))
}

#[test]
fn a_substance_the_state_lists_is_held_to_its_schedule_where_a_batch_is_entered() {
    let t = Test::new().people().again();
    // Only add or raise; signed by a pharmacist.
    for (value, says) in [
        ("ketamine=CIV", "never lower it"),
        ("dronabinol=CIII", "Schedule I"),
        ("gabapentin", "SUBSTANCE=SCHEDULE"),
    ] {
        let err = Test::new()
            .people()
            .again()
            .args(["policy", "set", "controlled-substance", value, "--by", RP.0])
            .pins(&[RP.1])
            .refused();
        assert!(err.contains(says), "{value}: {err}");
    }
    let (err, t) = refused_in(
        t.args(["policy", "set", "controlled-substance", "gabapentin=CV"])
            .args(["--by", TK.0])
            .pins(&[TK.1]),
    );
    assert!(err.contains("only a pharmacist sets a policy"), "{err}");
    let (err, t) = ran_in(
        t.args(["policy", "set", "controlled-substance", "Gabapentin=c5"])
            .args(["--by", RP.0])
            .pins(&[RP.1]),
    );
    assert!(
        err.contains("controlled-substance:gabapentin CV, set by RP"),
        "{err}"
    );
    let t = t.args(["policy", "list"]);
    let list = t.run().stdout;
    assert!(
        list.contains("controlled-substance:gabapentin = CV (set by RP at "),
        "{list}"
    );
    // A formula of it that states no schedule is refused by every command entering a batch.
    let t = t.again().file(
        "gaba.toml",
        &renamed("Gabapentin, USP", "gabapentin-troche"),
    );
    let (formula, out, sheet) = (t.at("gaba.toml"), t.at("out"), t.at("w.pdf"));
    // Approved as a master formulation record: what refuses it below is the state's listing.
    let (_, t) = ran_in(
        t.args(["formula", "approve", formula.as_str(), "--by", RP.0])
            .pins(&[RP.1]),
    );
    let gaba = |t: Test, command: &str, more: [&str; 2]| {
        t.args([command, formula.as_str(), "--strength", "100 mg"])
            .args(["--quantity", "30", "--rx", "RX-G", "--by", TK.0])
            .args(["--date", DATE, "--backdate", "--config", &config()])
            .args(more)
            .pins(&[TK.1])
    };
    let mut t = t;
    for (command, more) in [
        ("make", ["--out", out.as_str()]),
        ("worksheet", ["-o", sheet.as_str()]),
        ("label", ["-o", sheet.as_str()]),
    ] {
        let (err, next) = refused_in(gaba(t, command, more));
        assert!(
            err.contains(
                "Gabapentin, USP is in CV in this pharmacy's state (policy \
                 controlled-substance:gabapentin = CV, set by RP at "
            ) && err.contains("states no schedule for it; add schedule = \"CV\""),
            "{command}: {err}"
        );
        t = next;
    }
    assert!(!std::path::Path::new(&out).exists());
    assert!(!std::path::Path::new(&sheet).exists());
    // A state raising ketamine to CII refuses the library's CIII troche ...
    let (_, t) = ran_in(
        t.args(["policy", "set", "controlled-substance", "ketamine=CII"])
            .args(["--by", RP.0])
            .pins(&[RP.1]),
    );
    let (err, t) = refused_in(ketamine(t, &["make"], "0").args(["--out", out.as_str()]));
    assert!(
        err.contains("is in CII in this pharmacy's state") && err.contains("states CIII"),
        "{err}"
    );
    let t = t.args(["log", "--format", "json"]);
    let log = t.run().stdout;
    assert_eq!(log.trim(), "[]", "{log}");
    let t = t.again();
    // ... until the listing is withdrawn; then federal law alone applies.
    let (_, t) = ran_in(
        t.args(["policy", "set", "controlled-substance", "ketamine=none"])
            .args(["--by", RP.0])
            .pins(&[RP.1]),
    );
    ketamine(t, &["make"], "0")
        .args(["--out", out.as_str()])
        .run();
}

#[test]
fn batch_format_json_carries_every_warning_of_every_entry() {
    let entry = |rx: &str, quantity: u32, extra: &str| {
        format!(
            "[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\n\
             quantity = {quantity}\nrx = \"{rx}\"\n{extra}\n"
        )
    };
    let body = format!(
        "date = {DATE}\n\n{}{}{}",
        entry("RX-9", 30, ""),
        entry("RX-9", 30, ""),
        entry("RX-11", 30, "overage = 15\n")
    );
    let v = batch(Test::new(), &body).json();
    assert_eq!(v["made"], 3, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries[0]["status"], "made", "{v}");
    assert_eq!(entries[0]["warnings"].as_array().unwrap().len(), 0, "{v}");
    // The same Rx again within the BUD: in the entry's warnings and the run's, by lot.
    let dup = entries[1]["warnings"].to_string();
    let first = entries[0]["lot"].as_str().unwrap();
    assert!(
        dup.contains(&format!("Rx RX-9: lot {first} of progesterone-troche"))
            && dup.contains("duplicate or an early refill"),
        "{v}"
    );
    let run = v["warnings"].to_string();
    assert!(
        run.contains("batch[2]") && run.contains("early refill"),
        "{v}"
    );
    // The other plausibility warnings too: an overage above 10 %.
    let over = entries[2]["warnings"].to_string();
    assert!(
        over.contains("Overage: 15 % is above the usual 10 %"),
        "{v}"
    );
    assert_eq!(entries[2]["message"], serde_json::Value::Null, "{v}");
}
