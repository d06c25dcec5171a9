//! The conventions of a command-line program, each as the user meets it: a settings file to
//! start from, completions and manual pages, help that offers only what a command takes,
//! results on standard output and one error prefix, JSON numbers as documented, colour on
//! request, lots a check gives as provisional, and lookups as typed at the counter.

use std::path::Path;

use crate::common::*;

/// A batch of a formula that is no controlled substance, made today in `out`.
fn make(t: Test, out: &str, more: &[&str]) -> Test {
    t.args(["make", "progesterone-troche", "--strength", "100 mg"])
        .args(["--quantity", "30", "--config", &config(), "--out", out])
        .args(more)
}

/// The lot a `make` printed on standard output.
fn lot_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("lot "))
        .and_then(|l| l.split(',').next())
        .unwrap_or_else(|| panic!("no lot in {stdout:?}"))
        .to_string()
}

#[test]
fn init_writes_settings_to_fill_in_and_never_replaces_them() {
    let t = Test::new();
    let written = t.at("troche/troche.toml");
    let t = t.arg("init");
    let ran = t.run();
    assert!(
        ran.stdout.starts_with(&format!("wrote {written}\n")),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("[pharmacy] name, address, phone"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!("troche check {written}")),
        "{}",
        ran.stdout
    );
    let first = std::fs::read_to_string(&written).expect("settings written");
    assert!(first.contains("# [pharmacy]"), "{first}");
    // As written, the file is sound settings, and every command finds it.
    let t = t
        .again()
        .args(["check", &written])
        .stdout_contains("pharmacy settings, without a [pharmacy]");
    t.run();
    // A second init refuses, and the file is as it was.
    let t = t.again().arg("init").status(2);
    let err = t.run().stderr;
    assert!(err.starts_with("error: --path: "), "{err}");
    assert!(
        err.contains("already exists; troche init never replaces settings"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&written).unwrap(), first);
}

#[test]
fn init_writes_where_it_is_told_and_only_into_a_folder_that_is_there() {
    let t = Test::new();
    let path = t.at("pharmacy.toml");
    let t = t.args(["init", "--path", &path]);
    t.run();
    assert!(Path::new(&path).is_file());
    let t = t.again();
    let missing = t.at("no/such/troche.toml");
    let err = t.args(["init", "--path", &missing]).refused();
    assert!(err.contains("does not exist; create it first"), "{err}");
}

#[test]
fn a_label_without_a_pharmacy_points_to_init() {
    let t = Test::new();
    let out = t.at("out");
    let err = t
        .args(["make", "progesterone-troche", "--strength", "100 mg"])
        .args(["--quantity", "30", "--out", &out])
        .refused();
    assert!(err.contains("Run `troche init`"), "{err}");
    assert!(!err.contains("troche.example.toml"), "{err}");
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_troche()"),
        ("zsh", "#compdef troche"),
        ("fish", "complete -c troche"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = Test::new().args(["completions", shell]).run().stdout;
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(out.contains("recall-batch"), "{shell}");
    }
    let err = Test::new().args(["completions", "tcsh"]).refused();
    assert!(
        err.contains("[possible values: bash, zsh, fish, powershell]"),
        "{err}"
    );
}

#[test]
fn a_man_page_for_each_command() {
    let t = Test::new();
    let dir = t.at("man");
    let t = t.args(["man", "--out", &dir]);
    let ran = t.run();
    for page in [
        "troche.1",
        "troche-make.1",
        "troche-db-backup.1",
        "troche-user-add.1",
    ] {
        let path = Path::new(&dir).join(page);
        assert!(
            ran.stdout.contains(&format!("wrote {}", path.display())),
            "{page}"
        );
        let text = std::fs::read_to_string(&path).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
    let make = std::fs::read_to_string(Path::new(&dir).join("troche-make.1")).unwrap();
    assert!(make.contains("troche make"), "{make}");
}

#[test]
fn help_offers_the_log_only_to_the_commands_that_open_it_and_groups_the_flags() {
    for command in ["calc", "factor", "formulas", "check"] {
        let help = Test::new().args([command, "--help"]).run().stdout;
        assert!(!help.contains("--db"), "{command}: {help}");
    }
    let help = Test::new().args(["make", "--help"]).run().stdout;
    let at = |s: &str| help.find(s).unwrap_or_else(|| panic!("{s} not in {help}"));
    // Order, balance, log, output, each heading over its flags.
    assert!(at("\nOrder:\n") < at("--strength"));
    assert!(at("--prescriber ") < at("\nBalance:\n"));
    assert!(at("\nBalance:\n") < at("--readability"));
    assert!(at("\nLog:\n") < at("--db <FILE|URL>"));
    assert!(at("\nLog:\n") < at("--lot <LOT>"));
    assert!(at("\nOutput:\n") < at("      --out <DIR>"));
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("next free YYMMDD-NNN of the compounding log"),
        "{help}"
    );
    assert!(!words.contains("in the output directory"), "{help}");
}

#[test]
fn batch_says_in_its_usage_that_it_needs_out_or_check() {
    let t = Test::new().file("r.toml", "");
    let r = t.at("r.toml");
    let err = t.args(["batch", &r]).refused();
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("Usage: troche batch <--out <DIR>|--check> <RECIPES>"),
        "{err}"
    );
}

#[test]
fn results_go_to_standard_output_and_errors_have_one_prefix() {
    let t = Test::new();
    let out = t.at("out");
    let t = make(t, &out, &[]);
    let ran = t.run();
    let lot = lot_of(&ran.stdout);
    assert!(
        ran.stdout
            .contains(&format!("wrote {out}/{lot}-worksheet.pdf\n")),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!("wrote {out}/{lot}.json\n")),
        "{}",
        ran.stdout
    );
    assert!(!ran.stderr.contains("wrote"), "{}", ran.stderr);
    let t = t.again();
    let pdf = t.at("w.pdf");
    let ran = t
        .args(["worksheet", "progesterone-troche", "--strength", "100 mg"])
        .args(["--quantity", "30", "--config", &config(), "-o", &pdf])
        .run();
    assert!(
        ran.stdout.contains(&format!("wrote {pdf}\n")),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.starts_with("lot "), "{}", ran.stdout);
    // The program's errors and the parser's begin alike.
    let program = fails(&["calc", "progesterone-troche", "--strength", "100 mg"]);
    let parser = fails(&["calc", "--no-such-flag"]);
    for err in [&program, &parser] {
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("troche: error"), "{err}");
    }
}

#[test]
fn colour_only_when_asked_for() {
    let always = Test::new()
        .args(["--color", "always", "calc", "--help"])
        .run();
    assert!(always.stdout.contains('\u{1b}'), "{}", always.stdout);
    let never = Test::new().args(["calc", "--help", "--color=never"]).run();
    assert!(!never.stdout.contains('\u{1b}'), "{}", never.stdout);
    let no_color = Test::new()
        .env("NO_COLOR", "1")
        .args(["calc", "--help"])
        .run();
    assert!(!no_color.stdout.contains('\u{1b}'), "{}", no_color.stdout);
}

/// The keys docs/json-format.md lists as counts, the only JSON numbers.
fn documented_counts() -> Vec<String> {
    let doc = std::fs::read_to_string(repo("docs/json-format.md")).expect("docs/json-format.md");
    let list = doc
        .split("<!-- counts: ")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the list of counts");
    list.lines()
        .skip(1)
        .flat_map(|l| l.split('`').skip(1).step_by(2))
        .map(String::from)
        .collect()
}

/// Every number in `v` (at `path`): a whole number, under a documented count's key.
fn walk(v: &serde_json::Value, key: &str, path: &str, counts: &[String], seen: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(n) => {
            assert!(
                n.as_u64().is_some_and(|n| n < 1 << 53),
                "{path}: {n} is not a count"
            );
            assert!(
                counts.iter().any(|c| c == key),
                "{path}: {n} is a number, but `{key}` is not a count of docs/json-format.md"
            );
            seen.push(key.to_string());
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, key, &format!("{path}[{i}]"), counts, seen);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                walk(x, k, &format!("{path}.{k}"), counts, seen);
            }
        }
        _ => {}
    }
}

#[test]
fn every_number_of_every_json_output_is_as_documented() {
    let counts = documented_counts();
    assert!(counts.len() > 10, "{counts:?}");
    let mut seen = Vec::new();
    let mut check = |what: &str, text: &str| {
        let v: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
        walk(&v, "", what, &counts, &mut seen);
    };
    // A calculation with an aliquot (`multiple`) and extra units.
    let calc = calc("ketamine-hcl-troche", "50 mg", "30")
        .args(["--basis", "moiety", "--extra", "2", "--format", "json"])
        .run();
    check("calc", &calc.stdout);
    let factor = Test::new()
        .args([
            "factor",
            "--blank",
            "2 g",
            "--medicated",
            "2.1 g",
            "--per-unit",
            "250 mg",
        ])
        .args(["--format", "json"])
        .run();
    check("factor", &factor.stdout);
    // A batch with its prescription and a component, recorded and dispensed in part, so its
    // events carry counts.
    let t = Test::new().people();
    let out = t.at("out");
    let t = make(
        t,
        &out,
        &[
            "--by",
            RP.0,
            "--rx",
            "RX-9",
            "--patient",
            "Robert Smith",
            "--refills",
            "2",
        ],
    )
    .args([
        "--component",
        "Progesterone, USP (micronized)|K240117|2030-01-01",
    ])
    .pins(&[RP.1]);
    let lot = lot_of(&t.run().stdout);
    check(
        "LOT.json",
        &std::fs::read_to_string(format!("{out}/{lot}.json")).unwrap(),
    );
    let t = t
        .again()
        .args(["record", &lot, "--by", TK.0, "--made", "29"])
        .args(["--unit-weight", "1.0 g", "--rejected", "1=dropped"])
        .pins(&[TK.1]);
    t.run();
    let mut t = t.again();
    for (what, args) in [
        ("log", vec!["log", "--format", "json"]),
        ("recall", vec!["recall", "K240117", "--format", "json"]),
        ("lot", vec!["lot", lot.as_str(), "--format", "json"]),
    ] {
        let run = t.args(args);
        check(what, &run.run().stdout);
        t = run.again();
    }
    for key in [
        "version",
        "units_dispensed",
        "refills",
        "units",
        "seq",
        "bytes",
    ] {
        assert!(seen.iter().any(|k| k == key), "no `{key}` seen: {seen:?}");
    }
}

#[test]
fn a_check_gives_the_next_free_lots_as_provisional() {
    let t = Test::new();
    let out = t.at("out");
    let t = make(t, &out, &[]);
    let taken = lot_of(&t.run().stdout);
    let recipe = format!(
        "config = \"{}\"\n[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"100 mg\"\n\
         quantity = 30\nrx = \"A-1\"\n\n[[batch]]\nformula = \"progesterone-troche\"\n\
         strength = \"100 mg\"\nquantity = 30\nrx = \"A-2\"\n",
        config()
    );
    let t = t.again().file("r.toml", &recipe);
    let r = t.at("r.toml");
    let other = t.at("elsewhere");
    let ran = t.args(["batch", "--check", &r, "--out", &other]).run();
    let next = |n: u32| format!("{}-{n:03}", &taken[..6]);
    assert_eq!(taken, next(1));
    assert!(!ran.stdout.contains(&taken), "{}", ran.stdout);
    assert!(
        ran.stdout.contains(&next(2)) && ran.stdout.contains(&next(3)),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!(
            "Lots are provisional (next free: {} ...): the log gives them when the batches are made.",
            next(2)
        )),
        "{}",
        ran.stdout
    );
    assert!(!Path::new(&other).exists(), "a check wrote {other}");
}

#[test]
fn check_knows_bench_records_and_shows_each_orders_calculation() {
    let t = Test::new()
        .file(
            "bench.toml",
            "by = \"TK\"\nmade = 30\n[weights]\n\"Progesterone, USP (micronized)\" = \"3.000 g\"\n",
        )
        .file("bad-bench.toml", "by = \"TK\"\nmade = \"thirty\"\n")
        .file(
            "bad-mass.toml",
            "by = \"TK\"\nunit_weights = [\"0.9 g\", \"0,91 g\"]\n",
        )
        .file(
            "order.toml",
            "formula = \"progesterone-troche\"\nstrength = \"100 mg\"\nquantity = 30\n",
        );
    let (bench, order) = (t.at("bench.toml"), t.at("order.toml"));
    let t = t.args(["check", &bench, &order]);
    let ran = t.run();
    assert!(
        ran.stdout.contains(&format!(
            "ok: {bench} (a bench record: 1 ingredient weights, 0 unit weights, 30 made, by TK)"
        )),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!(
            "ok: {order} (an order of 30 units of progesterone-troche)\n"
        )),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(" g   Progesterone, USP (micronized)\n"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("    batch "), "{}", ran.stdout);
    assert!(ran.stdout.contains("units, unit weight "), "{}", ran.stdout);
    let t = t.again();
    let bad = t.at("bad-bench.toml");
    let t = t.args(["check", &bad]).status(2);
    let err = t.run().stderr;
    assert!(err.contains(&format!("{bad}:2: ")), "{err}");
    assert!(!err.contains("missing"), "{err}");
    let t = t.again();
    let bad = t.at("bad-mass.toml");
    let err = t.args(["check", &bad]).refused();
    assert!(err.contains(&format!("{bad}: `unit_weights`: ")), "{err}");
}

#[test]
fn lookups_take_names_and_lots_as_typed() {
    let t = Test::new();
    let out = t.at("out");
    let t = make(
        t,
        &out,
        &[
            "--rx",
            "RX-77a",
            "--patient",
            "Robert Smith",
            "--prescriber",
            "Dr. Ann Lee",
        ],
    )
    .args([
        "--component",
        "Progesterone, USP (micronized)|K240117|2030-01-01",
    ]);
    let lot = lot_of(&t.run().stdout);
    let mut t = t.again();
    let lower = lot.to_lowercase();
    for (args, found) in [
        (vec!["log", "--patient", "robert smith"], true),
        (vec!["log", "--prescriber", "DR. ANN LEE"], true),
        (vec!["log", "--rx", "rx-77A"], true),
        (vec!["recall", "k240117"], true),
        (vec!["lot", lower.as_str()], true),
        (vec!["log", "--patient", "robert smit"], false),
    ] {
        let run = t.args(&args);
        let out = run.run().stdout;
        assert_eq!(out.contains(&lot), found, "{args:?}: {out}");
        t = run.again();
    }
}
