//! Master formulation records under control: one text per formula id and version, approved by
//! a pharmacist before its first batch in a log that has people, and printed as the master
//! formulation record with its approval (`show --pdf`).

use std::fs;
use std::path::Path;

use crate::common::*;
use crate::log::postgres_log;
use crate::test::{RP, TK};

const DATE: &str = "2026-11-23";

/// `troche make progesterone-troche` (or `formula`) into `out`, signed by TK.
fn make(t: crate::test::Test, formula: &str, out: &str) -> crate::test::Test {
    t.arg("make")
        .args(order(formula, "100 mg", "30", &[]))
        .args(["--out", out, "--by", TK.0])
        .args(["--date", DATE, "--backdate", "--config", &config()])
        .pins(&[TK.1])
}

/// The progesterone troche's text changed in one comment, still version 3: another text
/// under the same id and version.
fn changed_copy() -> String {
    let text = fs::read_to_string(repo("formulas/progesterone-troche.toml")).unwrap();
    format!("# edited at the bench\n{text}")
}

#[test]
fn a_formula_is_approved_by_a_pharmacist_before_its_first_batch() {
    let t = crate::test::Test::new().people_only().again();
    let out = t.at("out");
    // Not approved: every command that enters a batch is refused, and nothing is left.
    let err = make(t, "progesterone-troche", &out).status(2).run().stderr;
    assert!(
        err.contains("formula progesterone-troche version 3 (SHA-256 ")
            && err.contains("is NOT APPROVED in this log")
            && err.contains("troche formula approve progesterone-troche --version 3"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
    let t = crate::test::Test::new().people_only().again();
    let sheet = t.at("w.pdf");
    let err = t
        .args(["worksheet", "progesterone-troche", "--strength", "100 mg"])
        .args(["--quantity", "30", "-o", sheet.as_str(), "--by", TK.0])
        .args(["--date", DATE, "--backdate", "--config", &config()])
        .pins(&[TK.1])
        .refused();
    assert!(err.contains("NOT APPROVED"), "{err}");
    assert!(!Path::new(&sheet).exists());
    // A technician cannot approve, nor can a version other than the formula's be.
    let t = crate::test::Test::new().people_only().again();
    let err = t
        .args(["formula", "approve", "progesterone-troche", "--by", TK.0])
        .pins(&[TK.1])
        .refused();
    assert!(
        err.contains("only a pharmacist approves a formula"),
        "{err}"
    );
    let t = crate::test::Test::new().people_only().again();
    let err = t
        .args([
            "formula",
            "approve",
            "progesterone-troche",
            "--version",
            "2",
        ])
        .args(["--by", RP.0])
        .pins(&[RP.1])
        .refused();
    assert!(
        err.contains("--version: progesterone-troche states version 3, not 2"),
        "{err}"
    );
    // Approved: listed so, and the batch is made.
    let t = crate::test::Test::new().people_only().again();
    let out = t.at("out");
    let t = t
        .args([
            "formula",
            "approve",
            "progesterone-troche",
            "--version",
            "3",
        ])
        .args(["--by", RP.0])
        .pins(&[RP.1])
        .stderr_contains("progesterone-troche version 3 (SHA-256 ")
        .stderr_contains(") approved by RP");
    t.run();
    let t = t.again().args(["formula", "list"]);
    let list = t.run().stdout;
    let line = |id: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("progesterone-troche").contains("approved by RP at "),
        "{list}"
    );
    assert!(line("tadalafil-troche").ends_with("NOT APPROVED"), "{list}");
    let t = make(t.again(), "progesterone-troche", &out);
    t.run();
    assert!(fs::read_dir(&out).unwrap().count() >= 3);
}

#[test]
fn the_library_is_approved_once_per_log() {
    let t = crate::test::Test::new().people();
    // `people()` approved the library; a second approval writes nothing and says so.
    let t = t
        .again()
        .args(["formula", "approve", "--library", "--by", RP.0])
        .pins(&[RP.1])
        .stderr_contains("ketamine-hcl-troche version 3: approved earlier by RP at ");
    t.run();
    let list = t.again().args(["formula", "list"]).run().stdout;
    assert!(!list.contains("NOT APPROVED"), "{list}");
}

#[test]
fn another_text_under_an_approved_id_and_version_is_refused_bump_the_version() {
    let t = crate::test::Test::new()
        .people()
        .again()
        .file("copy.toml", &changed_copy());
    let (copy, out) = (t.at("copy.toml"), t.at("out"));
    let err = make(t, &copy, &out).refused();
    assert!(
        err.contains("formula progesterone-troche version 3 is not the text the log knows")
            && err.contains("the approved text is SHA-256 ")
            && err.contains("bump the version"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
    // Nor can it be approved in its turn.
    let t = crate::test::Test::new()
        .people()
        .again()
        .file("copy.toml", &changed_copy());
    let copy = t.at("copy.toml");
    let err = t
        .args(["formula", "approve", copy.as_str(), "--by", RP.0])
        .pins(&[RP.1])
        .refused();
    assert!(err.contains("bump the version"), "{err}");
    // Its printed record says why it cannot be made.
    let t = crate::test::Test::new()
        .people()
        .again()
        .file("copy.toml", &changed_copy());
    let (copy, pdf) = (t.at("copy.toml"), t.at("copy.pdf"));
    let t = t
        .args([
            "show",
            copy.as_str(),
            "--pdf",
            pdf.as_str(),
            "--config",
            &config(),
        ])
        .stderr_contains("NOT APPROVED: the log knows another text under this id and version");
    t.run();
    let text = pdf_text(&fs::read(&pdf).unwrap());
    assert!(
        has(&text, "NOT APPROVED") && has(&text, "bump the version"),
        "{text}"
    );
    // With its version raised it is a new master formulation record, approved on its own.
    let raised = changed_copy().replace("\nversion = 3\n", "\nversion = 4\n");
    let t = crate::test::Test::new()
        .people()
        .again()
        .file("copy.toml", &raised);
    let (copy, out) = (t.at("copy.toml"), t.at("out"));
    let t = t
        .args([
            "formula",
            "approve",
            copy.as_str(),
            "--version",
            "4",
            "--by",
            RP.0,
        ])
        .pins(&[RP.1]);
    t.run();
    make(t.again(), &copy, &out).run();
}

#[test]
fn a_log_without_people_works_unsigned_but_still_keeps_one_text_per_version() {
    let t = crate::test::Test::new();
    let out = t.at("out");
    // No people: no approval is asked for, as no signature is.
    let t = t
        .args(["make", "progesterone-troche", "--strength", "100 mg"])
        .args(["--quantity", "30", "--out", out.as_str()])
        .args(["--date", DATE, "--backdate", "--config", &config()]);
    t.run();
    // A batch made from the real text: a changed copy under its version is refused.
    let t = t.again().file("copy.toml", &changed_copy());
    let (copy, out2) = (t.at("copy.toml"), t.at("out2"));
    let err = t
        .args(["make", copy.as_str(), "--strength", "100 mg"])
        .args(["--quantity", "30", "--out", out2.as_str()])
        .args(["--date", DATE, "--backdate", "--config", &config()])
        .refused();
    assert!(
        err.contains("batches in the log were made from SHA-256 ")
            && err.contains("bump the version"),
        "{err}"
    );
    assert!(!Path::new(&out2).exists());
}

#[test]
fn a_batch_entry_of_an_unapproved_formula_fails_and_the_others_go_on() {
    let t = crate::test::Test::new().people_only().again();
    let (out, recipe) = (t.at("out"), t.at("recipe.toml"));
    let t = t
        .args(["formula", "approve", "progesterone-troche", "--by", RP.0])
        .pins(&[RP.1]);
    t.run();
    let body = format!(
        "date = {DATE}\n\n[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\n\
         quantity = 30\n\n[[batch]]\nformula = \"tadalafil-troche\"\nstrength = \"10 mg\"\n\
         quantity = 30\n"
    );
    let t = t.again().file("recipe.toml", &body);
    let o = t
        .args(["batch", recipe.as_str(), "--out", out.as_str()])
        .args(["--config", &config(), "--backdate", "--by", TK.0])
        .pins(&[TK.1])
        .output();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("1 made"), "{stdout}");
    assert!(
        stdout.contains("formula tadalafil-troche version 4") && stdout.contains("NOT APPROVED"),
        "{stdout}"
    );
}

#[test]
fn show_pdf_prints_the_master_formulation_record_with_its_approval() {
    let t = crate::test::Test::new().people_only().again();
    let (before, after, again) = (t.at("before.pdf"), t.at("after.pdf"), t.at("again.pdf"));
    let sha = troche::library::load("tadalafil-troche")
        .unwrap()
        .text
        .sha256()
        .to_string();
    let t = t
        .args(["show", "tadalafil-troche", "--pdf", before.as_str()])
        .args(["--config", &config()])
        .stderr_contains("master formulation record of tadalafil-troche version 4, NOT APPROVED");
    t.run();
    let text = pdf_text(&fs::read(&before).unwrap());
    assert_has_all(
        &text,
        "the record before approval",
        &[
            "Master formulation record",
            "tadalafil-troche version 4",
            &sha,
            "NOT APPROVED",
            "Version 4: usual strengths 2.5 to 20 mg per troche added",
            "usual strength 2.5 mg to 20 mg",
            "Tolerances",
            "180 days after compounding",
            "US Pharmacist",
        ],
    );
    let t = t
        .again()
        .args(["formula", "approve", "tadalafil-troche", "--by", RP.0])
        .pins(&[RP.1]);
    t.run();
    let mut t = t;
    for path in [&after, &again] {
        let next = t
            .again()
            .args(["show", "tadalafil-troche", "--pdf", path.as_str()])
            .args(["--config", &config()])
            .stderr_contains("tadalafil-troche version 4, approved by RP at ");
        next.run();
        t = next;
    }
    let bytes = fs::read(&after).unwrap();
    let text = pdf_text(&bytes);
    assert!(has(&text, "Approved: by RP at "), "{text}");
    assert!(!has(&text, "NOT APPROVED"), "{text}");
    // The same log gives the same bytes.
    assert_eq!(bytes, fs::read(&again).unwrap());
    // An existing file is kept unless --force.
    let err = t
        .again()
        .args(["show", "tadalafil-troche", "--pdf", after.as_str()])
        .args(["--config", &config()])
        .refused();
    assert!(err.contains("already exists"), "{err}");
}

#[test]
#[ignore = "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)"]
fn approval_on_postgres() {
    let (log, _schema) = postgres_log("approval");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let copy = dir.path().join("copy.toml");
    fs::write(&copy, changed_copy()).unwrap();
    log.people_only();
    let make = |formula: &str, out: &str| {
        vec![
            "make".to_string(),
            formula.into(),
            "--strength".into(),
            "100 mg".into(),
            "--quantity".into(),
            "30".into(),
            "--out".into(),
            out.into(),
            "--by".into(),
            TK.0.into(),
            "--date".into(),
            DATE.into(),
            "--backdate".into(),
            "--config".into(),
            config(),
        ]
    };
    let args = make("progesterone-troche", &out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    log.refused(&args, &[TK.1], 2, "NOT APPROVED");
    log.signed(
        &["formula", "approve", "progesterone-troche", "--by", RP.0],
        &[RP.1],
    );
    log.signed(&args, &[TK.1]);
    let copy = copy.display().to_string();
    let out2 = dir.path().join("out2").display().to_string();
    let args = make(&copy, &out2);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    log.refused(&args, &[TK.1], 2, "bump the version");
    let list = log.ok(&["formula", "list"]);
    assert!(list.contains("approved by RP at "), "{list}");
}
