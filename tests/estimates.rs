//! What a formula states without having measured it is printed as what it is, and an amount in
//! a procedure step is the batch's own, never a number fixed in the master record.

use crate::common::{Test, assert_has_all, calc, has, order, pdf_text, prescription, repo, today};

/// `troche worksheet ARGS -o w.pdf` in a scratch directory: the PDF's text.
fn worksheet(args: &[String]) -> String {
    let t = Test::new();
    let out = t.at("w.pdf");
    // The scratch directory lives as long as the run's `Test`.
    let t = t.arg("worksheet").args(args).args(["-o", out.as_str()]);
    t.run();
    pdf_text(&std::fs::read(&out).expect("worksheet written"))
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn the_progesterone_insert_worksheet_says_nominal_and_estimated_with_the_steps_and_boxes() {
    let text = worksheet(&args(&order(
        "progesterone-vaginal-suppository",
        "200 mg",
        "12",
        &[],
    )));
    assert_has_all(
        &text,
        "progesterone insert worksheet",
        &[
            "Blank weight (NOMINAL, not calibrated: calibrate below)",
            "Not measured: verify before compounding",
            "Blank weight 2 g per unit is NOMINAL (nominal capacity of a 2 g suppository mold",
            "Calibrate the mold (12-cavity metal suppository mold, 2 g) with plain Fatty acid base",
            "Measured blank weight:",
            "Density factor 1.3 of Progesterone is ESTIMATED (progesterone true density",
            "troche factor --blank A --medicated C --per-unit B",
            "Measured density factor:",
            "÷ 1.3 (density factor), estimated, not measured",
            "2 g, nominal (",
        ],
    );
    assert!(
        !has(&text, "Calibrated blank weight"),
        "a nominal blank printed as calibrated:\n{text}"
    );
}

#[test]
fn a_calibrated_blank_weight_is_printed_as_calibrated_with_nothing_to_verify() {
    let text = worksheet(&args(&order("lidocaine-hcl-lollipop", "40 mg", "12", &[])));
    assert!(has(&text, "Calibrated blank weight"), "{text}");
    assert!(!has(&text, "Not measured: verify"), "{text}");
}

#[test]
fn the_ketamine_procedure_measures_what_its_component_row_asks_for_32_units() {
    let calc = calc("ketamine-hcl-troche", "50 mg", "30")
        .args(["--extra", "2"])
        .json();
    let peg = crate::common::ingredient(&calc, "Polyethylene glycol 400, NF");
    let flavor = crate::common::ingredient(&calc, "Flavor, tutti-frutti");
    let row = |i: &serde_json::Value| {
        format!(
            "{} {}",
            i["amount"].as_str().unwrap(),
            i["unit"].as_str().unwrap()
        )
    };
    assert_eq!(row(peg), "0.32 mL");
    assert_eq!(row(flavor), "1.06 mL");

    let mut a = args(&order(
        "ketamine-hcl-troche",
        "50 mg",
        "30",
        &["--extra", "2"],
    ));
    a.extend(prescription(&today()));
    let text = worksheet(&a);
    assert_has_all(
        &text,
        "ketamine worksheet",
        &[
            &format!(
                "Polyethylene glycol 400, NF excipient; measure by volume {}",
                row(peg)
            ),
            &format!("Measure the PEG 400, {}, with its oral syringe", row(peg)),
            &format!(
                "measure the flavor, {}, with the flavor syringe",
                row(flavor)
            ),
        ],
    );
    assert!(!has(&text, "0.338 g"), "a fixed amount in a step:\n{text}");
}

/// The ketamine formula with `from` replaced by `to` (which must occur), written as f.toml;
/// `troche check` of it must be refused. Returns its stderr and the 1-based line of `to`.
fn check_refuses(from: &str, to: &str) -> (String, usize) {
    let text = std::fs::read_to_string(repo("formulas/ketamine-hcl-troche.toml")).unwrap();
    assert!(text.contains(from), "{from}");
    let text = text.replacen(from, to, 1);
    let line = text[..text.find(to).unwrap()].matches('\n').count() + 1;
    let t = Test::new().file("f.toml", &text);
    let path = t.at("f.toml");
    (t.args(["check", path.as_str()]).refused(), line)
}

#[test]
fn check_refuses_a_fixed_amount_in_a_step_naming_file_line_and_step() {
    let (err, line) = check_refuses(
        "Measure the PEG 400, {amount:Polyethylene glycol 400},",
        "Weigh the PEG 400 by mass, 0.338 g for 30,",
    );
    assert!(
        err.contains(&format!(
            "f.toml:{line}: `procedure.steps`: step 3 carries a fixed amount, \"0.338 g\""
        )),
        "{err}"
    );
    assert!(err.contains("{amount:"), "{err}");
}

#[test]
fn check_refuses_a_placeholder_naming_no_ingredient_with_did_you_mean() {
    let (err, line) = check_refuses(
        "{amount:Polyethylene glycol 400}",
        "{amount:Polyethylen glycol 400}",
    );
    assert!(
        err.contains(&format!(
            "f.toml:{line}: `procedure.steps`: step 3: {{amount:Polyethylen glycol 400}} names no \
             ingredient of this formula; did you mean {{amount:Polyethylene glycol 400}}?"
        )),
        "{err}"
    );
    let (err, _) = check_refuses("{amount:Polyethylene glycol 400}", "{weight:PEG 400}");
    assert!(
        err.contains("\"{weight:PEG 400}\" is not a placeholder"),
        "{err}"
    );
}

#[test]
fn a_nominal_blank_weight_needs_its_source_and_a_known_word() {
    let text = std::fs::read_to_string(repo("formulas/tadalafil-troche.toml")).unwrap();
    let source = text
        .lines()
        .find(|l| l.starts_with("blank_weight_source"))
        .unwrap();
    for (bad, want) in [
        (
            text.replacen(source, "", 1),
            "`mold.blank_weight_is`: a nominal value needs mold.blank_weight_source",
        ),
        (
            text.replacen(
                "blank_weight_is = \"nominal\"",
                "blank_weight_is = \"guessed\"",
                1,
            ),
            "unknown \"guessed\"; allowed: calibrated, nominal, estimated",
        ),
    ] {
        let t = Test::new().file("t.toml", &bad);
        let path = t.at("t.toml");
        let err = t.args(["check", path.as_str()]).refused();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn every_library_formula_passes_check() {
    let files: Vec<String> = std::fs::read_dir(repo("formulas"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    Test::new().arg("check").args(&files).run();
}
