//! End-to-end tests of `troche batch` on recipe files.

use crate::common::*;
use std::fs;
use std::path::Path;

fn recipe(dir: &Path, body: &str) -> String {
    let p = dir.join("recipe.toml");
    fs::write(&p, format!("date = 2026-11-23\n\n{body}")).unwrap();
    p.display().to_string()
}

fn entry(formula: &str, strength: &str, qty: u32, rx: &str) -> String {
    format!(
        "[[batch]]\nformula = \"{formula}\"\nstrength = \"{strength}\"\nquantity = {qty}\nrx = {rx:?}\npatient = \"P\"\nprescriber = \"Dr\"\n{}\n",
        dea_keys("2026-11-23")
    )
}

/// A ketamine entry with a lot of its own and the prescription's particulars (`more`: the
/// ones the test sets itself).
fn ketamine_with_lot(lot: &str, more: &str) -> String {
    let rx = if more.contains("rx =") {
        ""
    } else {
        "rx = \"RX-L\"\n"
    };
    let patient = if more.contains("patient =") {
        ""
    } else {
        "patient = \"P\"\n"
    };
    format!(
        "[[batch]]\nformula = \"ketamine-hcl-troche\"\nstrength = \"50 mg\"\nquantity = 30\nlot = {lot:?}\n{more}{rx}{patient}prescriber = \"Dr\"\n{}\n",
        dea_keys("2026-11-23")
    )
}

/// Runs `troche batch RECIPE --out OUT --config <fixture> EXTRA...`.
fn run_batch(recipe: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    Test::new()
        .args([
            "batch",
            recipe,
            "--out",
            out.to_str().unwrap(),
            "--config",
            &config(),
            // The recipes are dated 2026-11-23, which stops being recent.
            "--backdate",
        ])
        .args(extra)
        .output()
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn mixed_good_and_bad_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let body = [
        entry("ketamine-hcl-troche", "50 mg", 30, "RX-1"),
        entry("ketamine-hcl-troche", "500 mg", 30, "RX-2"), // above max strength
        entry("no-such-formula", "5 mg", 30, "RX-3"),
        "[[batch]]\nformula = \"progesterone-troche\"\nstrenght = \"100 mg\"\nquantity = 30\nrx = \"RX-4\"\n\n".to_string(),
        entry("progesterone-troche", "100 mg", 60, "RX-5"),
    ]
    .concat();
    let r = recipe(tmp.path(), &body);
    let out = tmp.path().join("out");
    let o = run_batch(&r, &out, &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("5 entries: 2 made"), "{stdout}");
    let f = files(&out);
    assert!(f.contains(&"261123-001-worksheet.pdf".to_string()), "{f:?}");
    assert!(f.contains(&"261123-002-label.pdf".to_string()), "{f:?}");
    assert!(!f.iter().any(|n| n.starts_with("261123-003")), "{f:?}");
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(
        lines[2].contains("RX-2") && lines[2].contains("failed") && lines[2].contains("maximum"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("RX-3") && lines[3].contains("did you mean")
            || lines[3].contains("no formula"),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains("strenght"), "{}", lines[4]);
    assert!(
        lines[5].contains("261123-002") && lines[5].contains("made"),
        "{}",
        lines[5]
    );
    let pick = fs::read_to_string(out.join("picklist.csv")).unwrap();
    let first = pick.lines().nth(1).unwrap();
    assert!(
        first.starts_with("\"Ketamine hydrochloride") && first.contains("CIII"),
        "{pick}"
    );
}

#[test]
fn path_escaping_rx_and_lots_stay_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let body = [
        entry("ketamine-hcl-troche", "50 mg", 30, "../../x"),
        ketamine_with_lot("../../evil", "rx = \"/etc/passwd\"\n"),
        ketamine_with_lot("a/b", "patient = \"x/y\"\n"),
        ketamine_with_lot("a_b", ""),
    ]
    .concat();
    let r = recipe(tmp.path(), &body);
    let out = tmp.path().join("out");
    let o = run_batch(&r, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let f = files(&out);
    // A lot is letters, digits and `-`: one that could name a path is refused, naming the
    // character, and its entry makes nothing.
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    for (line, says) in [(2, "U+002E"), (3, "U+002F"), (4, "U+005F")] {
        assert!(
            summary.lines().nth(line).unwrap().contains(says),
            "{summary}"
        );
    }
    assert!(
        !f.iter().any(|n| n.contains("evil") || n.starts_with("a_b")),
        "{f:?}"
    );
    // Nothing was written outside out/.
    let mut top = files(tmp.path());
    top.sort();
    assert_eq!(top, vec!["out".to_string(), "recipe.toml".to_string()]);
    for name in &f {
        assert!(!name.contains('/'));
    }
}

#[test]
fn existing_dir_and_duplicate_lots() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("261123-001-worksheet.pdf"), b"an earlier run").unwrap();
    let body = [
        entry("ketamine-hcl-troche", "50 mg", 30, "RX-1"),
        entry("ketamine-hcl-troche", "60 mg", 30, "RX-2"),
        ketamine_with_lot("L-1", ""),
        ketamine_with_lot("L-1", ""),
    ]
    .concat();
    let r = recipe(tmp.path(), &body);
    let o = run_batch(&r, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        fs::read(out.join("261123-001-worksheet.pdf")).unwrap(),
        b"an earlier run"
    );
    let f = files(&out);
    for lot in ["261123-002", "261123-003", "L-1"] {
        assert!(f.contains(&format!("{lot}-label.pdf")), "{lot}: {f:?}");
    }
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        summary.lines().nth(4).unwrap().contains("already used"),
        "{summary}"
    );
}

#[test]
fn rerun_skips_entries_already_made() {
    let tmp = tempfile::tempdir().unwrap();
    let body = [
        entry("ketamine-hcl-troche", "50 mg", 30, "RX-1"),
        entry("progesterone-troche", "100 mg", 30, "RX-2"),
    ]
    .concat();
    let r = recipe(tmp.path(), &body);
    let out = tmp.path().join("out");
    // One log for both runs: the log decides what was made.
    let db = tmp.path().join("log.sqlite3");
    let run = || run_batch(&r, &out, &["--db", db.to_str().unwrap()]);
    assert!(run().status.success());
    let first = files(&out);
    let label = fs::read(out.join("261123-002-label.pdf")).unwrap();
    fs::remove_file(out.join("261123-002-label.pdf")).unwrap();
    let o = run();
    assert!(o.status.success());
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("2 done earlier"), "{stdout}");
    assert_eq!(files(&out), first, "no new lots");
    assert_eq!(
        fs::read(out.join("261123-002-label.pdf")).unwrap(),
        label,
        "completed with identical bytes"
    );
}

#[test]
fn check_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let r = recipe(
        tmp.path(),
        &entry("ketamine-hcl-troche", "50 mg", 30, "RX-1"),
    );
    let out = tmp.path().join("out");
    let o = run_batch(&r, &out, &["--check"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists());
    assert!(String::from_utf8(o.stdout).unwrap().contains("1 valid"));
}

#[test]
fn one_thread_and_many_give_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("recipe.toml");
    fs::write(&r, crate::sample::recipe(200)).unwrap();
    let mut outputs = Vec::new();
    for jobs in ["1", "4"] {
        let out = tmp.path().join(format!("out-{jobs}"));
        let o = run_batch(r.to_str().unwrap(), &out, &["--jobs", jobs]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        outputs.push(out);
    }
    let names = files(&outputs[0]);
    assert_eq!(names.len(), 200 * 3 + 2);
    assert_eq!(names, files(&outputs[1]));
    for n in &names {
        let (a, b) = (
            fs::read(outputs[0].join(n)).unwrap(),
            fs::read(outputs[1].join(n)).unwrap(),
        );
        if a == b {
            continue;
        }
        // A worksheet's footer carries its seal: the head of its own log's hash chain, whose
        // events hold the time they were written, so two logs seal alike only for the first
        // chunk. Every page must be the same but for those 16 digits.
        assert!(n.ends_with("-worksheet.pdf"), "{n} differs");
        assert!(pages_unsealed(&a) == pages_unsealed(&b), "{n} differs");
    }
}

/// Each page's drawing operators, the seal's digits masked in the text they draw.
fn pages_unsealed(pdf: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).expect("a valid PDF");
    doc.get_pages()
        .values()
        .map(|&page| {
            let mut content =
                lopdf::content::Content::decode(&doc.get_page_content(page)).expect("operators");
            for op in &mut content.operations {
                for operand in &mut op.operands {
                    if let lopdf::Object::String(text, _) = operand {
                        let mut i = 0;
                        while let Some(at) = text[i..].windows(5).position(|w| w == b"seal ") {
                            let start = i + at + 5;
                            let end = (start + 16).min(text.len());
                            text[start..end].fill(b'0');
                            i = end;
                        }
                    }
                }
            }
            format!("{:?}", content.operations)
        })
        .collect()
}

/// The pick list totals what is really weighed: an aliquot's drug and diluent weighings, never
/// the unweighable amount (it used to list 0.013 g of estradiol).
#[test]
fn picklist_totals_the_real_weighings() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "[[batch]]\nformula = \"bi-est-troche\"\nstrength = { \"Estriol\" = \"1.6 mg\", \"Estradiol\" = \"0.4 mg\" }\nquantity = 30\nextra = 2\nrx = \"RX-7\"\npatient = \"P\"\nprescriber = \"Dr\"\n";
    let r = recipe(tmp.path(), body);
    let out = tmp.path().join("out");
    let o = run_batch(&r, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = fs::read_to_string(out.join("picklist.csv")).unwrap();
    let line = |name: &str| {
        csv.lines()
            .find(|l| l.starts_with(name) || l.starts_with(&format!("\"{name}")))
            .unwrap_or_else(|| panic!("no {name} in {csv}"))
            .to_string()
    };
    // Estradiol hemihydrate: 0.4 mg × 32 × 281.39/272.38 = 13.22 mg, weighed as 0.132 g (×10).
    assert!(
        line("\"Estradiol hemihydrate").contains(",0.132,g,"),
        "{csv}"
    );
    // Estriol: 1.6 mg × 32 = 51.2 mg, weighed as 0.154 g (×3).
    assert!(line("\"Estriol").contains(",0.154,g,"), "{csv}");
    // Both aliquots' lactose in one line: 0.226 g + 1.113 g, from one batch.
    assert!(
        line("\"Lactose monohydrate").ends_with(",1.339,g,1.339,1,,,,"),
        "{csv}"
    );
}

/// The log stores the formula text that was calculated, byte for byte: its SHA-256 is the
/// file's as loaded, a byte-order mark and CRLF line ends included, for a batch and for `make`.
#[test]
fn the_log_stores_the_formula_as_loaded() {
    use sha2::Digest as _;
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "\u{feff}{}",
        fs::read_to_string(fixture("hydrocortisone-1-1.toml"))
            .unwrap()
            .replace('\n', "\r\n")
    );
    fs::write(tmp.path().join("hc.toml"), &text).unwrap();
    let sha = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            write!(s, "{b:02x}").unwrap();
            s
        });
    let db = tmp.path().join("log.sqlite3").display().to_string();
    let stored = |lot: &str| {
        Test::new().args(["lot", lot, "--db", &db]).json()["formula_sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let r = recipe(tmp.path(), &entry("hc.toml", "100 mg", 12, "RX-1"));
    let out = tmp.path().join("out");
    let o = run_batch(&r, &out, &["--db", &db]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stored("261123-001"), sha);

    let formula = tmp.path().join("hc.toml").display().to_string();
    let made = tmp.path().join("made").display().to_string();
    Test::new()
        .arg("make")
        .args(order(&formula, "100 mg", "12", &[]))
        .args(["--date", "2026-11-23", "--backdate", "--config", &config()])
        .args(["--out", &made, "--db", &db])
        .run();
    assert_eq!(stored("261123-002"), sha);
}
