//! End-to-end tests of the paperwork commands: worksheet, label and make.

use crate::common::*;
use std::fs;

fn order_file() -> String {
    repo("docs/examples/order.toml")
}

fn run_ok(args: &[&str]) -> Ran {
    Test::new().args(args).run()
}

/// `troche COMMAND` of the example order (dated in the past: `--backdate`) with the fixture
/// pharmacy; more flags with `.args`.
fn example(command: &str) -> Test {
    Test::new().args([
        command,
        "--backdate",
        "--order",
        &order_file(),
        "--config",
        &config(),
    ])
}

#[test]
fn make_writes_three_complete_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    example("make").args(["--out", out.to_str().unwrap()]).run();
    let ws = fs::read(out.join("261123-001-worksheet.pdf")).unwrap();
    let text = pdf_text(&ws);
    assert_has_all(
        &text,
        "worksheet",
        &[
            "Ketamine HCl troche",
            "ketamine-hcl-troche",
            "261123-001",
            "RX-100234",
            "Jane Q. Patient",
            "Alan Smith, MD",
            "2026-11-23",
            "2027-02-28", // BUD capped by the PEG lot's expiry
            "PEG-5521",
            "K240117",
            "Medisca",
            "1.600",
            "27.447", // 0.975 g × 32 − 3.75296 g displaced
            "1.002 g",
            "0.902 g to 1.102 g",
            "50 mg Ketamine hydrochloride, USP × 32 units = 1.6 g",
            "ceil(32 units poured / 30 cavities) = 2",
            "Controlled-substance reconciliation",
            "Verified by pharmacist",
        ],
    );
    let pages = page_count(&ws);
    for p in 1..=pages {
        assert!(has(&text, &format!("Page {p} of {pages}")), "page {p}");
    }
    let label = fs::read(out.join("261123-001-label.pdf")).unwrap();
    let text = pdf_text(&label);
    assert_has_all(
        &text,
        "label",
        &[
            "Main Street Compounding Pharmacy",
            "(217) 555-0100",
            "Ketamine hydrochloride 50 mg per troche (= ketamine 43.35 mg)",
            "Do not use after 2027-02-28",
            "Compounded preparation",
            "Caution: Federal law prohibits the transfer of this drug to any person other than the patient for whom it was prescribed.",
        ],
    );
    // The formula's five warnings do not all fit on 4 × 2 in beside the federal one: they
    // go on an auxiliary label of the same stock, not into smaller type.
    assert_eq!(page_count(&label), 2);
    assert!(has(&text, "Auxiliary label 1 of 1"), "{text}");
    assert!(has(&text, "See auxiliary label"), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("261123-001.json")).unwrap()).unwrap();
    assert_eq!(json["lot"], "261123-001");
    assert_eq!(json["beyond_use_date"], "2027-02-28");
    assert_eq!(json["calculation"]["ingredients"][0]["exact"], "1.6");
}

#[test]
fn documents_are_byte_identical_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for dir in ["a", "b"] {
        let out = tmp.path().join(dir);
        example("make").args(["--out", out.to_str().unwrap()]).run();
        bytes.push(
            [
                "261123-001-worksheet.pdf",
                "261123-001-label.pdf",
                "261123-001.json",
            ]
            .map(|f| fs::read(out.join(f)).unwrap()),
        );
    }
    assert_eq!(bytes[0], bytes[1]);
}

#[test]
fn label_without_pharmacy_is_refused_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.toml");
    fs::write(&empty, "").unwrap();
    let out = tmp.path().join("label.pdf");
    let err = fails(&[
        "label",
        "--backdate",
        "--order",
        &order_file(),
        "--config",
        empty.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("[pharmacy]") && err.contains("troche.toml"),
        "{err}"
    );
    assert!(!out.exists());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn existing_files_are_not_overwritten_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("w.pdf");
    fs::write(&out, b"keep me").unwrap();
    let worksheet = || example("worksheet").args(["-o", out.to_str().unwrap()]);
    let err = worksheet().refused();
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read(&out).unwrap(), b"keep me");
    worksheet().arg("--force").run();
    assert!(fs::read(&out).unwrap().starts_with(b"%PDF"));
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn long_label_text_fits_and_absurd_text_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("l.pdf");
    let long = "Dissolve one troche between the cheek and gum every eight hours as needed for pain; do not chew or swallow it whole, and do not eat or drink until it has dissolved completely.";
    example("label")
        .args(["--directions", long, "-o", out.to_str().unwrap()])
        .run();
    assert!(has(
        &pdf_text(&fs::read(&out).unwrap()),
        "do not eat or drink until it has dissolved completely."
    ));
    let absurd = long.repeat(12);
    let out2 = tmp.path().join("l2.pdf");
    let err = example("label")
        .args(["--directions", &absurd, "-o", out2.to_str().unwrap()])
        .refused();
    assert!(err.contains("shorten the directions"), "{err}");
    assert!(!out2.exists());
}

#[test]
fn characters_outside_winansi_are_written_readably() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("l.pdf");
    example("label")
        .args([
            "--patient",
            "Zoë Ødegård",
            "--directions",
            "Take 1 if pain ≥ 7/10; store 2–8 °C",
            "-o",
            out.to_str().unwrap(),
        ])
        .run();
    let text = pdf_text(&fs::read(&out).unwrap());
    assert!(has(&text, "Zoë Ødegård"), "{text}");
    assert!(has(&text, "Take 1 if pain >= 7/10; store 2–8 °C"), "{text}");
    assert!(!text.contains('?'), "{text}");
}

/// The example order's `command` document ("worksheet" or "label") with `settings` added to
/// the fixture pharmacy settings.
fn example_document(command: &str, settings: &str) -> Vec<u8> {
    let t = Test::new().file(
        "troche.toml",
        &format!("{}\n{settings}", fs::read_to_string(config()).unwrap()),
    );
    let (cfg, out) = (t.at("troche.toml"), t.at("doc.pdf"));
    // The scratch directory lives as long as the test value does: read before it goes.
    let t = t.args([
        command,
        "--backdate",
        "--order",
        &order_file(),
        "--config",
        &cfg,
        "-o",
        &out,
    ]);
    t.run();
    fs::read(out).unwrap()
}

/// Width and height in points of every page.
fn page_sizes(pdf: &[u8]) -> Vec<(f32, f32)> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.get_pages()
        .into_values()
        .map(|page| {
            let media = doc
                .get_dictionary(page)
                .unwrap()
                .get(b"MediaBox")
                .unwrap()
                .as_array()
                .unwrap()
                .clone();
            (media[2].as_float().unwrap(), media[3].as_float().unwrap())
        })
        .collect()
}

#[test]
fn a4_paper_from_settings() {
    let pdf = example_document("worksheet", "[paper]\nsize = \"a4\"\n");
    let (_, h) = page_sizes(&pdf)[0];
    assert!((h - 841.89).abs() < 0.5, "A4 height, got {h}");
}

#[test]
fn default_lot_is_the_next_free_one_in_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let config = config();
    let make = || {
        Test::new()
            .args(["make", "--backdate", "--date", "2026-11-23"])
            .args(order(
                "ketamine-hcl-troche",
                "50 mg",
                "30",
                &["--basis", "salt"],
            ))
            .args(prescription("2026-11-23"))
            .args(["--config", &config, "--out", out.to_str().unwrap()])
            .run()
    };
    make();
    make();
    assert!(out.join("261123-001-label.pdf").exists());
    assert!(out.join("261123-002-label.pdf").exists());
}

#[test]
fn label_stock_too_small_for_what_the_law_requires_is_refused_naming_larger_sizes() {
    // On 3 × 1.5 in the ketamine label's required text runs off the label at 11 pt: the
    // federal warning and the storage may not move to an auxiliary label, so it is refused.
    let t = Test::new().file(
        "troche.toml",
        &format!(
            "{}\n[label]\nwidth = \"3 in\"\nheight = \"1.5 in\"\n",
            fs::read_to_string(config()).unwrap()
        ),
    );
    let (cfg, out) = (t.at("troche.toml"), t.at("doc.pdf"));
    let err = t
        .args([
            "label",
            "--backdate",
            "--order",
            &order_file(),
            "--config",
            &cfg,
            "-o",
            &out,
        ])
        .refused();
    for part in [
        "3 × 1.5 in label",
        "federal transfer warning",
        "run off its bottom edge",
        "A 4 × 2 in, 4 × 2.5 in, 4 × 3 in, 4 × 4 in or 4 × 6 in label takes it",
    ] {
        assert!(err.contains(part), "{part:?}: {err}");
    }
    assert!(!std::path::Path::new(&out).exists());
}

#[test]
fn larger_label_stock_takes_the_warnings_too() {
    let pdf = example_document("label", "[label]\nwidth = \"4 in\"\nheight = \"3 in\"\n");
    let text = pdf_text(&pdf);
    assert_eq!(page_count(&pdf), 1, "{text}");
    assert_has_all(
        &text,
        "label",
        &[
            "Jane Q. Patient",
            "Ketamine hydrochloride 50 mg per troche",
            "Do not use after 2027-02-28",
            "Caution: Federal law prohibits the transfer of this drug to any person other than the patient for whom it was prescribed.",
            "Keep out of reach of children and pets.",
        ],
    );
    for (w, h) in page_sizes(&pdf) {
        assert!(
            (w - 288.0).abs() < 0.5 && (h - 216.0).abs() < 0.5,
            "{w} × {h}"
        );
    }
}
/// The worksheet of `order` with the settings file `cfg`, dated and numbered so that its text
/// is always the same, with a prescription complete for a controlled substance: its bytes.
fn worksheet(cfg: &str, order: &[&str]) -> Vec<u8> {
    let t = Test::new().file(
        "ketamine-hcl-troche.toml",
        &unchecked_formula("ketamine-hcl-troche"),
    );
    let out = t.at("w.pdf");
    // A formula path of `UNCHECKED` names the ketamine troche without its usual strengths.
    let unchecked = t.at("ketamine-hcl-troche.toml");
    let order: Vec<&str> = order
        .iter()
        .map(|a| {
            if *a == UNCHECKED {
                unchecked.as_str()
            } else {
                a
            }
        })
        .collect();
    // The scratch directory lives as long as the test value does: read before it goes.
    let t = t
        .args(["worksheet", "--backdate"])
        .args(order)
        .args(prescription("2026-11-30"))
        .args([
            "--config",
            cfg,
            "--date",
            "2026-11-30",
            "--lot",
            "261130-001",
        ])
        .args(["-o", &out]);
    t.run();
    fs::read(out).unwrap()
}

/// The text of each page, whitespace removed as [`pdf_text`] does.
fn page_texts(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).expect("a valid PDF");
    doc.get_pages()
        .keys()
        .map(|&p| {
            doc.extract_text(&[p])
                .expect("text")
                .split_whitespace()
                .collect()
        })
        .collect()
}

/// Stands for the ketamine troche without its usual strengths in [`worksheet`]'s order: a
/// strength of 2 mg, which no prescriber writes, makes the aliquot shown.
const UNCHECKED: &str = "<ketamine without usual strengths>";

#[test]
fn aliquot_rows_say_what_is_weighed_mixed_taken_and_discarded() {
    let ws = worksheet(
        &config(),
        &order(UNCHECKED, "2 mg", "30", &["--basis", "salt"]),
    );
    let text = pdf_text(&ws);
    assert_has_all(
        &text,
        "worksheet",
        &[
            // Row 1: the drug weighing, into the aliquot, with its assay blank.
            "1 Ketamine hydrochloride, USP",
            "0.120 g",
            "weighed as ketamine hydrochloride; strength is of this salt (as ordered): no conversion",
            "Assay (CoA) ________ % (100 % assumed)",
            "weighed into the aliquot mixture (row 3), not into the batch",
            // Row 2: the diluent, a component with its own lot blanks.
            "2 Lactose monohydrate, NF",
            "aliquot diluent for Ketamine hydrochloride",
            "0.130 g",
            // Row 3: the portion, with the instruction and room for its weight.
            "3 Aliquot portion into the batch",
            "Mix 0.120 g of Ketamine hydrochloride (row 1) with 0.130 g of Lactose monohydrate \
             (row 2) to 0.250 g; weigh 0.125 g of the mixture into the batch; discard the rest \
             (0.125 g) as waste.",
            "Mixture made (0.250 g):",
            "Rest discarded (0.125 g):",
            "only the portion taken from it enters the batch",
            // The reconciliation accounts for the waste.
            "Bulk drug to weigh (theoretical, into the aliquot)",
            "Waste: aliquot remainder",
        ],
    );
    // The portion row is numbered after the diluent and the excipients follow it.
    assert!(has(&text, "4 Gelatin powder, USP"), "{text}");
}

/// Bi-Est of 30, estradiol as the moiety: two actives, each weighed as an aliquot.
const BI_EST: [&str; 9] = [
    "bi-est-troche",
    "--strength",
    "Estriol=2 mg",
    "--strength",
    "Estradiol=0.5 mg",
    "--basis",
    "Estradiol=moiety",
    "--quantity",
    "30",
];

#[test]
fn each_aliquot_of_two_actives_names_its_own_rows() {
    let ws = worksheet(&config(), &BI_EST);
    let text = pdf_text(&ws);
    assert_has_all(
        &text,
        "worksheet",
        &[
            "Mix 0.120 g of Estriol (row 1) with 0.130 g of Lactose monohydrate (row 2) to 0.250 g",
            "Mix 0.124 g of Estradiol hemihydrate (row 4) with 0.876 g of Lactose monohydrate \
             (row 5) to 1.000 g; weigh 0.125 g of the mixture into the batch; discard the rest \
             (0.875 g) as waste.",
            "strength is of estradiol (as ordered): × 281.39/272.38 salt factor",
        ],
    );
}

#[test]
fn composite_base_balance_mold_and_container_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    // The library's gelatin troche: a three-component base and a stated container.
    let path = repo("formulas/ketamine-hcl-gelatin-troche.toml");
    let cfg = tmp.path().join("troche.toml");
    fs::write(
        &cfg,
        fs::read_to_string(config()).unwrap()
            + "\n[balance]\nid = \"BAL-02\"\nreadability = \"0.001 g\"\nsensitivity = \"6 mg\"\n\
               acceptable_error_percent = \"5\"\n\n\
               [[mold]]\nid = \"M-7\"\nname = \"30-cavity troche mold, 0.9 mL\"\n\n\
               [[mold]]\nid = \"M-9\"\nname = \"30-cavity troche mold, 0.9 mL\"\n",
    )
    .unwrap();
    let ws = worksheet(
        cfg.to_str().unwrap(),
        &order(&path, "50 mg", "30", &["--basis", "salt"]),
    );
    let text = pdf_text(&ws);
    assert_has_all(
        &text,
        "worksheet",
        &[
            "mixed from 3 components, each weighed below",
            "Glycerin, USP",
            "base component: 70 % of the",
            "Gelatin, NF",
            "base component: 20 % of the",
            "Purified water, USP",
            "The base is mixed from rows",
            "Balance id BAL-02",
            "Readability 0.001 g",
            "6 mg sensitivity ÷ 5 % acceptable error = 120 mg",
            "Mold id (write which was used) use one of: M-7, M-9",
            "Container-closure Tight, light-resistant container (amber plastic vial)",
        ],
    );
}

#[test]
fn a_derived_blank_weight_is_shown_in_the_calculation() {
    // The library formula carries the Medisca blank formula's derivation.
    let path = repo("formulas/ketamine-hcl-troche.toml");
    let ws = worksheet(
        &config(),
        &order(&path, "50 mg", "30", &["--basis", "salt"]),
    );
    let text = pdf_text(&ws);
    assert!(has(&text, "Blank weight (DERIVED, not measured"), "{text}");
    assert!(
        has(
            &text,
            "the plain-base blank derived from Medisca FIN F 008 741"
        ),
        "{text}"
    );
}

#[test]
fn deviations_and_complaints_come_before_the_signatures() {
    let ws = worksheet(
        &config(),
        &order("ketamine-hcl-troche", "50 mg", "30", &["--basis", "salt"]),
    );
    let text = pdf_text(&ws);
    let at = |needle: &str| {
        text.find(&needle.split_whitespace().collect::<String>())
            .unwrap_or_else(|| panic!("worksheet lacks {needle:?}"))
    };
    let deviations = at("Deviations from the master formulation record");
    let complaints = at("Complaints and adverse events");
    let signatures = at("Signatures");
    assert!(deviations < complaints && complaints < signatures);
    at("Deviation approved by (pharmacist):");
    at("None known at release");
}

#[test]
fn the_signatures_never_stand_alone_on_the_last_page() {
    let ketamine = |q: &'static str| -> Vec<&'static str> {
        order("ketamine-hcl-troche", "50 mg", q, &["--basis", "salt"])
    };
    // Without keeping the signatures with the section before them, the signatures stood
    // alone on the last page for ketamine 240, progesterone 100, testosterone 60 and the
    // gelatin troche 20.
    let cases: Vec<Vec<&str>> = vec![
        ketamine("30"),
        ketamine("240"),
        ketamine("300"),
        BI_EST.to_vec(),
        order("testosterone-rdt", "50 mg", "96", &[]),
        order("testosterone-rdt", "50 mg", "60", &[]),
        order("progesterone-troche", "100 mg", "100", &[]),
        order(
            "ketamine-hcl-gelatin-troche",
            "50 mg",
            "20",
            &["--basis", "salt"],
        ),
    ];
    let mut counts = Vec::new();
    for args in &cases {
        let ws = worksheet(&config(), args);
        let pages = page_texts(&ws);
        counts.push(pages.len());
        let last = pages.last().unwrap();
        let heading = last
            .find("Signatures")
            .unwrap_or_else(|| panic!("{args:?}: the signatures are on the last page: {last}"));
        // What comes before the heading on that page, less the running header.
        let before = &last[..heading];
        let before = before.split_once("(continued)").map_or(before, |(_, b)| b);
        assert!(
            !before.is_empty(),
            "{args:?}: the last page holds only the signatures: {last}"
        );
    }
    counts.sort_unstable();
    counts.dedup();
    assert!(
        counts.len() > 1,
        "the cases should span page counts: {counts:?}"
    );
}

/// The committed samples are what the program makes now, byte for byte (regenerate them as
/// docs/samples.md says when this fails after a deliberate change).
#[test]
fn committed_samples_are_what_the_program_makes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    run_ok(&[
        "make",
        "--backdate",
        "--order",
        &format!("{root}/docs/examples/order.toml"),
        "--config",
        &format!("{root}/tests/fixtures/troche.toml"),
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    for (made, committed) in [
        ("261123-001-worksheet.pdf", "docs/sample-worksheet.pdf"),
        ("261123-001-label.pdf", "docs/sample-label.pdf"),
    ] {
        assert!(
            fs::read(tmp.path().join(made)).unwrap()
                == fs::read(format!("{root}/{committed}")).unwrap(),
            "{committed} is stale: regenerate it as docs/samples.md says"
        );
    }
}
