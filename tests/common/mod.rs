//! What the end-to-end tests share besides the [`Test`] builder: fixtures and readers of
//! JSON and PDF output.
#![allow(dead_code)]

pub(crate) use crate::test::{PH, RP, Ran, TK, Test};

/// A file of the repository, by its path from the top.
pub(crate) fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `troche calc ARGS --format json`, which must succeed: the parsed calculation.
pub(crate) fn calc_json(args: &[&str]) -> serde_json::Value {
    Test::new().arg("calc").args(args).json()
}

/// `troche calc FORMULA --strength S --quantity N`: the order nearly every test of the
/// calculation gives. More flags with `.args`, then `.json()`, or `.refused()` for its refusal.
pub(crate) fn calc(formula: &str, strength: &str, quantity: &str) -> Test {
    Test::new()
        .arg("calc")
        .args(order(formula, strength, quantity, &[]))
}

/// One batch's order as arguments: `FORMULA --strength S --quantity N`, then `more` (a basis,
/// a second strength, extra units).
pub(crate) fn order<'a>(
    formula: &'a str,
    strength: &'a str,
    quantity: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![formula, "--strength", strength, "--quantity", quantity];
    args.extend_from_slice(more);
    args
}

/// The order of a batch of no controlled substance: 30 progesterone troches of 100 mg.
pub(crate) const PROGESTERONE: [&str; 5] = [
    "progesterone-troche",
    "--strength",
    "100 mg",
    "--quantity",
    "30",
];

/// The controlled-substance order most tests give: 30 ketamine troches of 50 mg, on the
/// moiety basis.
pub(crate) const KETAMINE: [&str; 7] = [
    "ketamine-hcl-troche",
    "--strength",
    "50 mg",
    "--quantity",
    "30",
    "--basis",
    "moiety",
];

/// `COMMAND` (`worksheet`, `label`) of [`KETAMINE`] today, with its prescription and the
/// fixture pharmacy, to `-o OUT`, then `more`.
pub(crate) fn ketamine_document(command: &str, out: &str, more: &[&str]) -> Vec<String> {
    let mut v = vec![command.to_string()];
    v.extend(KETAMINE.map(String::from));
    v.extend(["--config".into(), config(), "-o".into(), out.into()]);
    v.extend(prescription(&today()));
    v.extend(more.iter().map(|s| (*s).to_string()));
    v
}

/// `troche ARGS`, which must fail with exit status 2 and print nothing: its stderr.
pub(crate) fn fails(args: &[&str]) -> String {
    Test::new().args(args).status(2).run().stderr
}

pub(crate) fn ingredient<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no ingredient {name} in {v}"))
}

pub(crate) fn base(v: &serde_json::Value) -> &serde_json::Value {
    v["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .find(|i| i["role"] == "base")
        .expect("base")
}

/// The text of every page of a PDF, extracted in Rust (no external tool), with all whitespace
/// removed: where a line breaks, and whether the extractor puts a space there, must not
/// matter. Compare with [`has`].
pub(crate) fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a valid PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text");
    text.split_whitespace().collect()
}

/// Whether extracted PDF text (see [`pdf_text`]) holds `needle`, whitespace aside.
pub(crate) fn has(text: &str, needle: &str) -> bool {
    text.contains(&needle.split_whitespace().collect::<String>())
}

/// Asserts that extracted PDF text (see [`pdf_text`]) holds every needle; `what` names the
/// document in the failure, which shows the whole text.
pub(crate) fn assert_has_all(text: &str, what: &str, needles: &[&str]) {
    for needle in needles {
        assert!(has(text, needle), "{what} lacks {needle:?}:\n{text}");
    }
}

pub(crate) fn page_count(bytes: &[u8]) -> usize {
    lopdf::Document::load_mem(bytes)
        .expect("a valid PDF")
        .get_pages()
        .len()
}

pub(crate) fn config() -> String {
    fixture("troche.toml")
}

/// A library formula's text without its usual strengths and fixed ratio, which check what a
/// prescription asks for: for the tests of the arithmetic at strengths no prescriber writes
/// (a tiny aliquot, a negligible dose).
pub(crate) fn unchecked_formula(id: &str) -> String {
    let text = std::fs::read_to_string(repo(&format!("formulas/{id}.toml"))).expect("formula");
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("usual_strength") && !t.starts_with("ratio =")
        })
        .flat_map(|l| [l, "\n"])
        .collect()
}

/// `troche calc` of [`unchecked_formula`] `id` (written as `ID.toml` into the scratch
/// directory) with `--strength S --quantity N`.
pub(crate) fn calc_unchecked(id: &str, strength: &str, quantity: &str) -> Test {
    calc_file(
        &format!("{id}.toml"),
        &unchecked_formula(id),
        strength,
        quantity,
    )
}

/// `troche calc` of the formula `text`, written as `name` into the scratch directory, with
/// `--strength S --quantity N`.
pub(crate) fn calc_file(name: &str, text: &str, strength: &str, quantity: &str) -> Test {
    let t = Test::new().file(name, text);
    let path = t.at(name);
    t.arg("calc").args(order(&path, strength, quantity, &[]))
}

/// This machine's host name as troche writes it into a temporary's name.
pub(crate) fn host_in_names() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The prescriber's DEA number the tests give (its check digit holds).
pub(crate) const DEA: &str = "AB1234563";

/// Today in the machine's time zone, as the program takes it.
pub(crate) fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

/// What a controlled-substance order needs besides the Rx number, patient and prescriber: the
/// prescriber's DEA number and the date written (`written`; the compounding date will do).
pub(crate) fn dea(written: &str) -> Vec<String> {
    ["--prescriber-dea", DEA, "--date-written", written]
        .map(String::from)
        .to_vec()
}

/// The Rx number, patient and prescriber the tests give.
pub(crate) const RX_PATIENT_PRESCRIBER: [&str; 6] = [
    "--rx",
    "RX-1",
    "--patient",
    "Ann Lee",
    "--prescriber",
    "Dr. Who",
];

/// Everything a controlled-substance order must carry, for tests that give none of it, the
/// prescription written on `written`.
pub(crate) fn prescription(written: &str) -> Vec<String> {
    let mut v: Vec<String> = RX_PATIENT_PRESCRIBER.map(String::from).to_vec();
    v.extend(dea(written));
    v
}

/// The same as keys of an order file or a recipe's `[[batch]]`: the DEA number and the date
/// written (the Rx number, patient and prescriber are the entry's own).
pub(crate) fn dea_keys(written: &str) -> String {
    format!("prescriber_dea = \"{DEA}\"\ndate_written = {written}\n")
}
