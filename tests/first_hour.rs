//! A new user's first hour: what a pharmacist meets on first trying the program,
//! each a regression test: exit codes and files, the words and numbers of the output, and
//! `troche check` on every kind of file.

use crate::common::*;

#[test]
fn a_missing_config_file_is_an_input_error() {
    Test::new()
        .arg("calc")
        .args(KETAMINE)
        .args(["--config", "nope.toml"])
        .status(2)
        .stderr_contains("--config: nope.toml: no such file")
        .run();
}

#[test]
fn a_missing_formula_file_is_an_input_error() {
    calc("nope.toml", "1 mg", "3")
        .status(2)
        .stderr_contains("nope.toml: No such file or directory")
        .run();
}

#[test]
fn a_recipes_missing_config_is_reported_as_the_recipes() {
    let t = Test::new().file(
        "r.toml",
        "config = \"pharmacy.toml\"\n[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nbasis = \"moiety\"\nquantity = 30\n",
    );
    let r = t.at("r.toml");
    t.args(["batch", "--check", &r])
        .status(2)
        .stderr_contains("r.toml: `config`: the recipe names the settings file")
        .stderr_contains("pharmacy.toml, which does not exist")
        .run();
}

#[test]
fn an_unwritable_output_names_the_users_file_not_a_temporary() {
    let ran = Test::new()
        .arg("worksheet")
        .args(KETAMINE)
        .args(["--date", "2026-11-23", "--backdate", "-o", "/proc/w.pdf"])
        .args(prescription("2026-11-23"))
        // The kernel answers "no such file" for a new file in /proc: a path that cannot be.
        .status(2)
        .run();
    assert!(ran.stderr.contains("/proc/w.pdf"), "{}", ran.stderr);
    assert!(!ran.stderr.contains(".partial"), "{}", ran.stderr);
    assert!(!ran.stderr.contains(".troche-"), "{}", ran.stderr);
}

#[test]
fn dash_o_does_not_invent_folders() {
    let t = Test::new();
    let out = t.at("no/such/dir/w.pdf");
    let no = t.at("no");
    let t = t
        .arg("worksheet")
        .args(KETAMINE)
        .args(["--date", "2026-11-23", "--backdate", "-o", &out])
        .status(2)
        .stderr_contains("does not exist; create it first");
    t.run();
    assert!(!std::path::Path::new(&no).exists());
}

#[test]
fn a_failed_make_leaves_no_empty_directory_behind() {
    let t = Test::new();
    let out = t.at("out");
    // No pharmacy configured: the label cannot be made, so nothing is written.
    let t = t
        .arg("make")
        .args(KETAMINE)
        .args(["--date", "2026-11-23", "--backdate", "--out", &out])
        .args(prescription("2026-11-23"))
        .status(2)
        .stderr_contains("a label must show the pharmacy's name");
    t.run();
    assert!(!std::path::Path::new(&out).exists(), "{out} left behind");
}

#[test]
fn a_failed_make_keeps_a_directory_that_was_there() {
    let t = Test::new().file("out/keep.txt", "x");
    let out = t.at("out");
    let t = t
        .arg("make")
        .args(KETAMINE)
        .args(["--date", "2026-11-23", "--backdate", "--out", &out])
        .status(2);
    t.run();
    assert!(std::path::Path::new(&out).join("keep.txt").exists());
}

#[test]
fn the_formula_list_is_aligned() {
    let out = Test::new().arg("formulas").run().stdout;
    let col = |l: &str| l.find("Testosterone").or_else(|| l.find("NAME"));
    let lines: Vec<&str> = out.lines().collect();
    let header = col(lines[0]).expect("header");
    let rdt = lines
        .iter()
        .find(|l| l.contains("rapid-dissolve tablet"))
        .expect("the rapid-dissolve tablet");
    assert_eq!(col(rdt), Some(header), "{out}");
}

#[test]
fn counts_have_their_plurals() {
    let t = Test::new().file(
        "r.toml",
        &format!(
            "date = 2026-11-23\n[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nbasis = \"moiety\"\nquantity = 30\nrx = \"RX-1\"\npatient = \"Ann Lee\"\nprescriber = \"Dr. Who\"\n{}",
            dea_keys("2026-11-23")
        ),
    );
    let r = t.at("r.toml");
    let out = t
        .args([
            "batch",
            &r,
            "--out",
            "out",
            "--backdate",
            "--config",
            &fixture("troche.toml"),
        ])
        .run()
        .stdout;
    assert!(out.contains("1 entry: 1 made"), "{out}");
    assert!(out.contains("(1 batch)"), "{out}");
    assert!(
        !out.contains("1 entries") && !out.contains("(1 batches)"),
        "{out}"
    );
}

#[test]
fn the_basis_is_shown_only_for_actives_with_a_distinct_moiety() {
    let out = Test::new().arg("calc").args(PROGESTERONE).run().stdout;
    assert!(!out.contains("basis"), "{out}");
}

#[test]
fn json_says_which_exact_values_are_rounded() {
    let v = calc_json(&KETAMINE);
    let ketamine = ingredient(&v, "Ketamine hydrochloride, USP");
    assert_eq!(ketamine["exact_is_rounded"], true, "{ketamine}");
    let gelatin = ingredient(&v, "Gelatin powder, USP (suspending agent)");
    assert_eq!(gelatin["exact_is_rounded"], false, "{gelatin}");
    assert_eq!(gelatin["exact"], "0.3");
}

#[test]
fn check_tells_each_kind_of_file_and_checks_it_as_such() {
    Test::new()
        .args([
            "check",
            &repo("formulas/ketamine-hcl-troche.toml"),
            &repo("docs/examples/order.toml"),
            &repo("docs/examples/recipe.toml"),
            &repo("troche.example.toml"),
        ])
        .stdout_contains("ketamine-hcl-troche.toml (formula ketamine-hcl-troche v3)")
        .stdout_contains("order.toml (an order of 30 units of ketamine-hcl-troche)")
        .stdout_contains("recipe.toml (a recipe of 3 batches)")
        .stdout_contains("troche.example.toml (pharmacy settings of")
        .run();
    // An order with a problem is checked as an order, not read as a misspelt formula.
    let t = Test::new().file(
        "o.toml",
        "formula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nbasis = \"moeity\"\nquantity = 30\n",
    );
    let o = t.at("o.toml");
    let err = t.args(["check", &o]).status(2).run().stderr;
    assert!(err.contains("o.toml:3: `basis`"), "{err}");
    assert!(!err.contains("did you mean `base`"), "{err}");
}

/// A file with four mistakes of structure (a quoted integer, a misspelt key, a bare `factor`
/// and a decimal comma) once gave one message; each is reported, with its line.
#[test]
fn check_reports_every_structural_problem_too() {
    let text = std::fs::read_to_string(repo("formulas/ketamine-hcl-troche.toml")).unwrap();
    let text = text
        .replacen("cavities = 30", "cavities = \"30\"", 1)
        .replacen("blank_weight = ", "blank_wieght = ", 1)
        .replacen("mw = \"274.19\"", "mw = \"274,19\"", 1);
    let at = text.find("[[excipient]]").unwrap();
    let text = format!(
        "{}{}",
        &text[..at],
        text[at..].replacen("replacement_factor", "factor", 1)
    );
    let t = Test::new().file("f.toml", &text);
    let f = t.at("f.toml");
    let err = t.args(["check", &f]).status(2).run().stderr;
    for needle in [
        "`mold.cavities`: must be a whole number without quotes",
        "`mold.blank_wieght`: unknown key; did you mean `blank_weight`?",
        "`active[1].mw`: \"274,19\" has a comma",
        "].factor`: a bare `factor` is ambiguous",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    assert!(err.contains("error: 1 of 1 file has problems"), "{err}");
}
