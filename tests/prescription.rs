//! The checks of a prescription before compounding it: usual strengths and unit slips, fixed
//! ratios, what a controlled-substance order must carry and how often it may be refilled, the
//! schedules the program knows, and the plausibility warnings. Each refusal exits 2, names
//! the flag or the file and line, and leaves nothing behind; and none refuses an ordinary
//! order.

use std::fs;
use std::path::Path;

use crate::common::*;

/// The compounding date of these tests; the prescriptions are written a few days before.
const DATE: &str = "2026-11-23";
const WRITTEN: &str = "2026-11-20";

/// `troche COMMAND FORMULA --strength S --quantity N`, dated [`DATE`] with the fixture
/// pharmacy, then `more`.
fn dated(command: &str, formula: &str, strength: &str, quantity: &str) -> Test {
    Test::new()
        .args([
            command,
            formula,
            "--strength",
            strength,
            "--quantity",
            quantity,
        ])
        .args(["--date", DATE, "--backdate", "--config", &config()])
}

/// `make` of one batch into `out`, its log `db`, with `args` after the command.
fn make_in(out: &Path, db: &Path, args: &[&str]) -> Ran {
    make_status(out, db, args, 0)
}

fn make_status(out: &Path, db: &Path, args: &[&str], status: i32) -> Ran {
    Test::new()
        .args(["--db", db.to_str().unwrap(), "make"])
        .args(args)
        .args(["--date", DATE, "--backdate", "--config", &config()])
        .args(["--out", out.to_str().unwrap()])
        .status(status)
        .run()
}

/// The lots in the log `db`.
fn lots(db: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(
        &Test::new()
            .args(["--db", db.to_str().unwrap(), "log", "--format", "json"])
            .run()
            .stdout,
    )
    .expect("log JSON");
    v.as_array()
        .expect("batches")
        .iter()
        .map(|b| b["lot"].as_str().expect("lot").to_string())
        .collect()
}

/// `troche check` of the formula `text` (written as `name`), which must refuse it: its
/// standard error.
fn check_refused(name: &str, text: &str) -> String {
    let t = Test::new().file(name, text);
    let path = t.at(name);
    t.args(["check", &path]).refused()
}

/// The run with `-o w.pdf` in its scratch directory: where `worksheet` and `label` print.
fn to_pdf(t: Test) -> Test {
    let out = t.at("w.pdf");
    t.args(["-o", &out])
}

/// A library formula's text with `from` replaced by `to` (which must occur).
fn edited(id: &str, from: &str, to: &str) -> String {
    let text = fs::read_to_string(repo(&format!("formulas/{id}.toml"))).unwrap();
    assert!(text.contains(from), "{id} lacks {from:?}");
    text.replacen(from, to, 1)
}

// ---------------------------------------------------------------------------------------------
// Usual strengths

#[test]
fn a_unit_slip_is_refused_naming_the_strength_meant() {
    let err = calc("ketamine-hcl-troche", "50 mcg", "30")
        .args(["--basis", "salt"])
        .refused();
    assert!(err.starts_with("error: --strength:"), "{err}");
    assert!(err.contains("50 mcg of Ketamine hydrochloride"), "{err}");
    assert!(err.contains("was 50 mg meant?"), "{err}");
    assert!(err.contains("the usual 25 mg to 200 mg"), "{err}");
    // A slip cannot be confirmed away.
    let err = calc("ketamine-hcl-troche", "50 mcg", "30")
        .args(["--confirm-strength", "the prescriber said so"])
        .refused();
    assert!(err.contains("was 50 mg meant?"), "{err}");
    // Grams for milligrams, and on the moiety of a two-active formula.
    let v = calc("ketamine-hcl-troche", "0.05 g", "30").json();
    assert_eq!(v["units_dispensed"], 30, "0.05 g is 50 mg: no slip");
    let err = calc("bi-est-troche", "Estriol=1.6 mg", "30")
        .args(["--strength", "Estradiol=400 mg"])
        .refused();
    assert!(err.contains("was 400 mcg meant?"), "{err}");
}

#[test]
fn a_strength_ten_times_below_the_usual_range_is_refused() {
    let err = calc("ketamine-hcl-troche", "2.5 mg", "30").refused();
    assert!(err.contains("ten or more times below"), "{err}");
    assert!(err.contains("Was 25 mg meant?"), "{err}");
    let err = calc("ketamine-hcl-troche", "0.3 mg", "30").refused();
    assert!(err.contains("Was 30 mg meant?"), "{err}");
}

#[test]
fn an_unusual_strength_needs_the_prescribers_confirmation() {
    let err = calc("ketamine-hcl-troche", "10 mg", "30").refused();
    assert!(err.starts_with("error: --strength:"), "{err}");
    assert!(
        err.contains("10 mg of Ketamine hydrochloride is below the usual 25 mg to 200 mg"),
        "{err}"
    );
    assert!(err.contains("--confirm-strength \"REASON\""), "{err}");
    let v = calc("ketamine-hcl-troche", "10 mg", "30")
        .args(["--confirm-strength", "confirmed with Dr Ng by phone"])
        .json();
    assert!(
        v["warnings"]
            .to_string()
            .contains("confirmed with the prescriber: confirmed with Dr Ng by phone"),
        "{v}"
    );
    // Above the range but within the maximum: the same.
    let narrower = edited(
        "ketamine-hcl-troche",
        "usual_strength = [\"25 mg\", \"200 mg\"]",
        "usual_strength = [\"25 mg\", \"100 mg\"]",
    );
    let err = calc_file("k.toml", &narrower, "150 mg", "30").refused();
    assert!(err.contains("is above the usual 25 mg to 100 mg"), "{err}");
    // An empty reason is no confirmation.
    let err = calc("ketamine-hcl-troche", "10 mg", "30")
        .args(["--confirm-strength", " "])
        .refused();
    assert!(err.starts_with("error: --confirm-strength:"), "{err}");
}

#[test]
fn with_several_actives_the_confirmation_names_its_active() {
    // Bi-Est 0.5 mg at 80:20: both strengths below their usual ranges.
    let low = |more: &[&str]| {
        calc("bi-est-troche", "Estriol=0.4 mg", "30")
            .args(["--strength", "Estradiol=0.1 mg"])
            .args(more)
    };
    let err = low(&[]).refused();
    assert!(err.contains("0.4 mg of Estriol is below"), "{err}");
    assert!(
        err.contains("--confirm-strength \"Estriol=REASON\""),
        "{err}"
    );
    let err = low(&["--confirm-strength", "low dose, per Dr Ng"]).refused();
    assert!(err.starts_with("error: --confirm-strength:"), "{err}");
    assert!(err.contains("\"Estradiol=REASON\""), "{err}");
    let err = low(&["--confirm-strength", "Estriol=low dose, per Dr Ng"]).refused();
    assert!(err.contains("0.1 mg of Estradiol is below"), "{err}");
    let v = low(&[
        "--confirm-strength",
        "Estriol=low dose, per Dr Ng",
        "--confirm-strength",
        "Estradiol=low dose, per Dr Ng",
    ])
    .json();
    assert_eq!(
        v["warnings"]
            .to_string()
            .matches("low dose, per Dr Ng")
            .count(),
        2,
        "{v}"
    );
}

#[test]
fn a_confirmation_is_recorded_and_printed_on_the_worksheet() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, db) = (tmp.path().join("out"), tmp.path().join("log.sqlite3"));
    let mut args = order(
        "ketamine-hcl-troche",
        "10 mg",
        "30",
        &["--confirm-strength", "confirmed with Dr Ng 2026-11-20"],
    );
    let rx = prescription(WRITTEN);
    args.extend(rx.iter().map(String::as_str));
    make_in(&out, &db, &args);
    let record: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("261123-001.json")).unwrap()).unwrap();
    assert_eq!(
        record["confirm_strength"][0], "confirmed with Dr Ng 2026-11-20",
        "{record}"
    );
    assert_eq!(record["prescriber_dea"], DEA);
    assert_eq!(record["date_written"], WRITTEN);
    let ws = pdf_text(&fs::read(out.join("261123-001-worksheet.pdf")).unwrap());
    assert_has_all(
        &ws,
        "worksheet",
        &[
            "Notes and warnings",
            "confirmed with the prescriber: confirmed with Dr Ng 2026-11-20",
            "DEA AB1234563",
            "Rx written 2026-11-20",
        ],
    );
    // The log keeps it: a reprint recomputes the batch from the stored order.
    Test::new()
        .args(["--db", db.to_str().unwrap(), "reprint", "261123-001"])
        .args(["--out", tmp.path().join("again").to_str().unwrap()])
        .run();
}

#[test]
fn a_confirmation_in_an_order_file_is_read_and_a_refusal_names_the_file() {
    let t = Test::new().file(
        "order.toml",
        "formula = \"ketamine-hcl-troche\"\nstrength = \"10 mg\"\nquantity = 30\n",
    );
    let order = t.at("order.toml");
    let err = t.args(["calc", "--order", &order]).refused();
    assert!(err.contains("order.toml:2: `strength`:"), "{err}");
    let t = Test::new().file(
        "order.toml",
        "formula = \"ketamine-hcl-troche\"\nstrength = \"10 mg\"\nquantity = 30\n\
         confirm_strength = \"confirmed with Dr Ng\"\n",
    );
    let order = t.at("order.toml");
    let v = t.args(["calc", "--order", &order]).json();
    assert!(
        v["warnings"].to_string().contains("confirmed with Dr Ng"),
        "{v}"
    );
}

#[test]
fn a_slip_in_an_order_file_is_refused_at_its_line_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let order = tmp.path().join("order.toml");
    fs::write(
        &order,
        format!(
            "formula = \"ketamine-hcl-troche\"\nstrength = \"50 mcg\"\nquantity = 30\n\
             rx = \"RX-1\"\npatient = \"Ann Lee\"\nprescriber = \"Dr. Who\"\n{}",
            dea_keys(WRITTEN)
        ),
    )
    .unwrap();
    let (out, db) = (tmp.path().join("out"), tmp.path().join("log.sqlite3"));
    let ran = make_status(&out, &db, &["--order", order.to_str().unwrap()], 2);
    assert!(
        ran.stderr.contains("order.toml:2: `strength`:") && ran.stderr.contains("was 50 mg meant?"),
        "{}",
        ran.stderr
    );
    assert!(!out.exists());
}

#[test]
fn a_formula_without_usual_strengths_keeps_its_old_checks() {
    // The testosterone RDT states none (docs/library-sources.md says why): a low strength is
    // computed as before.
    let v = calc("testosterone-rdt", "1 mg", "30").json();
    assert_eq!(v["units_dispensed"], 30);
}

// ---------------------------------------------------------------------------------------------
// Fixed ratios

#[test]
fn swapped_strengths_of_a_fixed_ratio_are_named_as_swapped() {
    let err = calc("bi-est-troche", "Estriol=0.4 mg", "30")
        .args(["--strength", "Estradiol=1.6 mg"])
        .refused();
    assert!(err.starts_with("error: --strength:"), "{err}");
    assert!(err.contains("are swapped"), "{err}");
    assert!(err.contains("ratio 80:20"), "{err}");
    assert!(
        err.contains("Was Estriol 1.6 mg, Estradiol 0.4 mg meant?"),
        "{err}"
    );
}

#[test]
fn strengths_off_a_fixed_ratio_by_more_than_one_percent_are_refused() {
    let err = calc("bi-est-troche", "Estriol=2 mg", "30")
        .args(["--strength", "Estradiol=0.04 mg"])
        .refused();
    assert!(err.contains("in the ratio 98:2, not the 80:20"), "{err}");
    assert!(
        err.contains("Estriol 1.632 mg, Estradiol 0.408 mg"),
        "{err}"
    );
    // 1 % of the estradiol's share is allowed, a little more is not.
    calc("bi-est-troche", "Estriol=1.6 mg", "30")
        .args(["--strength", "Estradiol=0.404 mg"])
        .json();
    let err = calc("bi-est-troche", "Estriol=1.6 mg", "30")
        .args(["--strength", "Estradiol=0.41 mg"])
        .refused();
    assert!(err.contains("not the 80:20"), "{err}");
}

#[test]
fn a_ratio_must_have_one_part_per_active() {
    let err = check_refused(
        "b.toml",
        &edited("bi-est-troche", "ratio = \"80:20\"", "ratio = \"80:10:10\""),
    );
    assert!(
        err.contains("`ratio`: gives 3 parts for 2 actives"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Schedules the program knows

#[test]
fn a_controlled_substance_without_its_schedule_is_refused_everywhere() {
    let text = edited("ketamine-hcl-troche", "schedule = \"CIII\"\n", "");
    let err = check_refused("k.toml", &text);
    assert!(
        err.contains("`active[1].schedule`: Ketamine hydrochloride, USP is a controlled substance, federally in CIII (21 CFR 1308.13(c))"),
        "{err}"
    );
    let err = calc_file("k.toml", &text, "50 mg", "30").refused();
    assert!(err.contains("k.toml:"), "{err}");
    assert!(err.contains("add schedule = \"CIII\""), "{err}");
    // A lower schedule is refused; a stricter one (a state's) is not.
    let scheduled = |schedule: &str| {
        let text = edited(
            "ketamine-hcl-troche",
            "schedule = \"CIII\"",
            &format!("schedule = \"{schedule}\""),
        );
        calc_file("k.toml", &text, "50 mg", "30")
    };
    let err = scheduled("CV").refused();
    assert!(err.contains("but the formula states CV"), "{err}");
    scheduled("CII").run();
}

#[test]
fn testosterone_esters_and_opioids_are_known_by_name() {
    for (name, schedule) in [
        ("Testosterone cypionate, USP", "CIII"),
        ("Morphine sulfate, USP", "CII"),
        ("Lorazepam, USP", "CIV"),
        ("Buprenorphine hydrochloride", "CIII"),
    ] {
        let text = edited(
            "testosterone-rdt",
            "name = \"Testosterone, USP (micronized)\"\nmw = \"288.42\"\nschedule = \"CIII\"",
            &format!("name = \"{name}\"\nmw = \"288.42\""),
        );
        let err = check_refused("f.toml", &text);
        assert!(
            err.contains(&format!("federally in {schedule}")),
            "{name}: {err}"
        );
    }
}

#[test]
fn dronabinol_as_a_bulk_active_is_refused() {
    let text = edited(
        "testosterone-rdt",
        "name = \"Testosterone, USP (micronized)\"",
        "name = \"Dronabinol\"",
    );
    let err = check_refused("f.toml", &text);
    assert!(
        err.contains("Dronabinol is in Schedule I as a bulk substance"),
        "{err}"
    );
    assert!(err.contains("21 CFR 1308.11(d)"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Controlled-substance orders

#[test]
fn a_controlled_substance_order_needs_the_prescriptions_particulars() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, db) = (tmp.path().join("out"), tmp.path().join("log.sqlite3"));
    let testosterone = order("testosterone-rdt", "20 mg", "30", &[]);
    let ran = make_status(&out, &db, &testosterone, 2);
    assert!(ran.stderr.starts_with("error: --rx:"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "missing: the Rx number, the patient, the prescriber, the date written, the \
             prescriber's DEA number"
        ),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("21 CFR 1306.05"), "{}", ran.stderr);
    // Nothing left behind: no folder, no lot taken.
    assert!(!out.exists());
    // Only the DEA number missing: named alone.
    let mut args = testosterone;
    args.extend(RX_PATIENT_PRESCRIBER);
    args.extend(["--date-written", WRITTEN]);
    let ran = make_status(&out, &db, &args, 2);
    assert!(
        ran.stderr.starts_with("error: --prescriber-dea:")
            && ran.stderr.contains("missing: the prescriber's DEA number."),
        "{}",
        ran.stderr
    );
    // Complete, it is made, and takes the first lot: the refusals took none.
    args.extend(["--prescriber-dea", DEA]);
    make_in(&out, &db, &args);
    assert_eq!(lots(&db), ["261123-001"]);
    // label and worksheet refuse alike; calc needs none of it.
    for command in ["label", "worksheet"] {
        let err = to_pdf(dated(command, "ketamine-hcl-troche", "50 mg", "30")).refused();
        assert!(err.starts_with("error: --rx:"), "{command}: {err}");
    }
    calc("testosterone-rdt", "20 mg", "30").json();
}

#[test]
fn dea_numbers_are_checked() {
    let base = |dea: &str| {
        to_pdf(
            dated("worksheet", "ketamine-hcl-troche", "50 mg", "30")
                .args(RX_PATIENT_PRESCRIBER)
                .args(["--date-written", WRITTEN, "--prescriber-dea", dea]),
        )
    };
    let err = base("AB1234564").refused();
    assert!(err.starts_with("error: --prescriber-dea:"), "{err}");
    assert!(err.contains("its last digit must be 3"), "{err}");
    let err = base("A12345678").refused();
    assert!(err.contains("is not a DEA number"), "{err}");
    let err = base("AB1234563-TOO-LONG-SUFFIX").refused();
    assert!(err.contains("suffix"), "{err}");
    base("AB1234563-ICU01").run();
    base("A91234563").run();
    // In an order file: its line.
    let t = Test::new().file(
        "order.toml",
        &format!(
            "formula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nquantity = 30\n\
             rx = \"RX-1\"\npatient = \"Ann Lee\"\nprescriber = \"Dr. Who\"\n\
             date_written = {WRITTEN}\nprescriber_dea = \"AB1234565\"\n"
        ),
    );
    let order = t.at("order.toml");
    let out = t.at("w.pdf");
    let err = t
        .args([
            "worksheet",
            "--order",
            &order,
            "--date",
            DATE,
            "--backdate",
            "-o",
            &out,
        ])
        .refused();
    assert!(err.contains("order.toml:8: `prescriber_dea`:"), "{err}");
}

#[test]
fn refills_follow_the_schedule() {
    let ketamine = |refills: &str| {
        to_pdf(
            dated("worksheet", "ketamine-hcl-troche", "50 mg", "30")
                .args(prescription(WRITTEN))
                .args(["--refills", refills]),
        )
    };
    let err = ketamine("11").refused();
    assert!(err.starts_with("error: --refills:"), "{err}");
    assert!(err.contains("at most 5"), "{err}");
    assert!(err.contains("21 CFR 1306.22"), "{err}");
    ketamine("5").run();
    // Schedule II: none.
    let cii = edited(
        "ketamine-hcl-troche",
        "schedule = \"CIII\"",
        "schedule = \"CII\"",
    );
    let cii_order = |refills: &str| {
        let t = Test::new().file("k.toml", &cii);
        let k = t.at("k.toml");
        to_pdf(
            t.arg("worksheet")
                .args(order(&k, "50 mg", "30", &[]))
                .args(["--date", DATE, "--backdate", "--config", &config()])
                .args(prescription(WRITTEN))
                .args(["--refills", refills]),
        )
    };
    let err = cii_order("3").refused();
    assert!(
        err.contains("Schedule II prescription: it cannot be refilled"),
        "{err}"
    );
    assert!(err.contains("21 CFR 1306.12"), "{err}");
    cii_order("0").run();
    // Not scheduled: up to 99, as before.
    to_pdf(dated("worksheet", "progesterone-troche", "100 mg", "30").args(["--refills", "11"]))
        .run();
}

#[test]
fn a_schedule_iii_fill_is_within_six_months_of_the_date_written() {
    let fill = |written: &str| {
        to_pdf(
            dated("worksheet", "ketamine-hcl-troche", "50 mg", "30")
                .args(prescription(written))
                .args(["--refills", "5"]),
        )
    };
    let err = fill("2026-05-22").refused();
    assert!(err.starts_with("error: --date-written:"), "{err}");
    assert!(err.contains("only within 6 months"), "{err}");
    assert!(err.contains("until 2026-11-22"), "{err}");
    fill("2026-05-23").run();
    let err = fill("2026-11-24").refused();
    assert!(
        err.contains("after the compounding date 2026-11-23"),
        "{err}"
    );
}

#[test]
fn a_recipe_entry_without_a_dea_number_fails_alone_and_takes_no_lot() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = tmp.path().join("r.toml");
    let ketamine = "[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\n\
                    quantity = 30\npatient = \"Ann Lee\"\nprescriber = \"Dr. Who\"\n";
    fs::write(
        &recipe,
        format!(
            "date = {DATE}\n\n{ketamine}rx = \"RX-1\"\ndate_written = {WRITTEN}\n\n\
             {ketamine}rx = \"RX-2\"\n{}\
             confirm_strength = {{ \"Ketamine hydrochloride\" = \"unused\" }}\n",
            dea_keys(WRITTEN)
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let ran = Test::new()
        .args([
            "batch",
            recipe.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--backdate", "--config", &config()])
        .status(2)
        .stdout_contains("1 made")
        .run();
    assert!(
        ran.stdout.contains("r.toml:3: batch[1]: `prescriber_dea`:"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("1 made"), "{}", ran.stdout);
    assert!(out.join("261123-001.json").exists());
    assert!(!out.join("261123-002.json").exists());
}

// ---------------------------------------------------------------------------------------------
// Plausibility warnings

#[test]
fn a_large_controlled_batch_a_large_overage_and_a_short_bud_are_warned_of() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, db) = (tmp.path().join("out"), tmp.path().join("log.sqlite3"));
    let rx = prescription(WRITTEN);
    let mut args = order("ketamine-hcl-troche", "50 mg", "300", &[]);
    args.extend(rx.iter().map(String::as_str));
    args.extend(["--overage", "15"]);
    // The PEG lot expires three days after compounding: the BUD is cut to it.
    args.extend(["--component", "Polyethylene glycol 1450|P-1|2026-11-26"]);
    let ran = make_in(&out, &db, &args);
    for needle in [
        "warning: Quantity: 300 units of a CIII controlled substance is more than 90 units",
        "warning: Overage: 15 % is above the usual 10 % at most",
        "warning: Beyond-use date: 2026-11-26 is 3 days after the compounding date 2026-11-23, fewer than 7",
    ] {
        assert!(ran.stderr.contains(needle), "{needle}\n{}", ran.stderr);
    }
    let ws = pdf_text(&fs::read(out.join("261123-001-worksheet.pdf")).unwrap());
    assert_has_all(
        &ws,
        "worksheet",
        &[
            "Quantity: 300 units of a CIII controlled substance",
            "Overage: 15 % is above the usual 10 %",
            "Beyond-use date: 2026-11-26 is 3 days after",
        ],
    );
    // calc says the same under its warnings.
    let v = calc("ketamine-hcl-troche", "50 mg", "91").json();
    assert!(
        v["warnings"].to_string().contains("Quantity: 91 units"),
        "{v}"
    );
    // A formula's own usual quantity replaces the 90.
    let usual_30 = edited(
        "ketamine-hcl-troche",
        "route = \"buccal\"\n",
        "route = \"buccal\"\nusual_quantity = 30\n",
    );
    let v = calc_file("k.toml", &usual_30, "50 mg", "31")
        .args(["--format", "json"])
        .run()
        .stdout;
    assert!(
        v.contains("more than 30 units (the usual quantity ketamine-hcl-troche states)"),
        "{v}"
    );
}

// ---------------------------------------------------------------------------------------------
// Nothing ordinary is refused

#[test]
fn ordinary_orders_pass_every_check_without_a_word() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, db) = (tmp.path().join("out"), tmp.path().join("log.sqlite3"));
    let rx = prescription(WRITTEN);
    for strength in ["25 mg", "50 mg", "100 mg"] {
        let mut args = order("ketamine-hcl-troche", strength, "30", &[]);
        args.extend(rx.iter().map(String::as_str));
        let ran = make_in(&out, &db, &args);
        for rule in ["Quantity:", "Overage:", "Beyond-use date:", "usual"] {
            assert!(!ran.stderr.contains(rule), "{strength}: {}", ran.stderr);
        }
    }
    // Bi-Est 2 mg at 80:20.
    let bi_est = order(
        "bi-est-troche",
        "Estriol=1.6 mg",
        "30",
        &["--strength", "Estradiol=0.4 mg"],
    );
    make_in(&out, &db, &bi_est);
    // Five refills of a Schedule III, written six months less a day before.
    let mut args = order("testosterone-rdt", "20 mg", "30", &[]);
    let rx = prescription("2026-05-24");
    args.extend(rx.iter().map(String::as_str));
    args.extend(["--refills", "5"]);
    make_in(&out, &db, &args);
    assert_eq!(lots(&db).len(), 5);
    // A batch that is not scheduled needs none of it, and its refills stay 0.
    make_in(
        &out,
        &db,
        &order("progesterone-troche", "100 mg", "30", &[]),
    );
}
