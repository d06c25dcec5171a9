//! Patients' names print as written: Latin with accents and Vietnamese, Greek and Cyrillic
//! through the embedded font; scripts the documents cannot print are refused at the order.

use crate::common::*;
use std::fs;

/// `troche COMMAND` ("worksheet" or "label") of the example order for `patient`, to
/// `doc.pdf` in its scratch directory.
fn for_patient(command: &str, patient: &str) -> Test {
    let t = Test::new();
    let out = t.at("doc.pdf");
    t.args([
        command,
        "--backdate",
        "--order",
        &repo("docs/examples/order.toml"),
    ])
    .args(["--config", &config(), "--patient", patient, "-o", &out])
}

/// The example order's `command` document for `patient`, as bytes.
fn document(command: &str, patient: &str) -> Vec<u8> {
    let t = for_patient(command, patient);
    t.run();
    // The scratch directory lives as long as the test value does: read before it goes.
    fs::read(t.at("doc.pdf")).unwrap()
}

/// The names of the fonts a PDF embeds.
fn embedded_fonts(pdf: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.has(b"FontFile2"))
        .filter_map(|d| d.get(b"FontName").and_then(lopdf::Object::as_name).ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

#[test]
fn names_in_other_latin_letters_greek_and_cyrillic_print_as_written() {
    for name in [
        "Nguyễn Văn An",
        "Łukasz Żółć",
        "Иван Петров",
        "Δημήτρης Παπαδόπουλος",
    ] {
        for command in ["label", "worksheet"] {
            let pdf = document(command, name);
            let text = pdf_text(&pdf);
            assert!(has(&text, name), "{command} lacks {name:?}:\n{text}");
            assert!(!text.contains("[U+"), "{command}: {text}");
            let fonts = embedded_fonts(&pdf);
            assert!(
                !fonts.is_empty() && fonts.iter().all(|f| f.contains("+DejaVuSans")),
                "{fonts:?}"
            );
            assert!(
                pdf.len() < 60_000,
                "{command} for {name}: {} bytes",
                pdf.len()
            );
            // The same order gives the same bytes, subset tag and all.
            assert!(
                pdf == document(command, name),
                "{command} for {name} differs"
            );
        }
    }
}

#[test]
fn a_decomposed_name_prints_composed() {
    let pdf = document("label", "Nguye\u{0302}\u{0303}n Va\u{0306}n An");
    let text = pdf_text(&pdf);
    assert!(has(&text, "Nguyễn Văn An"), "{text}");
}

#[test]
fn latin_1_documents_embed_no_font() {
    // Byte for byte as before: `committed_samples_are_what_the_program_makes`.
    for command in ["label", "worksheet"] {
        let pdf = document(command, "Zoë Müller");
        assert!(embedded_fonts(&pdf).is_empty(), "{command}");
        assert!(has(&pdf_text(&pdf), "Zoë Müller"));
    }
}

#[test]
fn scripts_the_documents_cannot_print_are_refused_by_name() {
    for (name, script) in [("محمد", "Arabic"), ("王小明", "CJK")] {
        for command in ["label", "worksheet"] {
            // Kept until the end: its scratch directory goes with it.
            let t = for_patient(command, name).status(2);
            let err = t.run().stderr;
            let out = t.at("doc.pdf");
            assert!(
                err.contains("--patient")
                    && err.contains(script)
                    && err.contains("in Latin letters"),
                "{err}"
            );
            assert!(fs::metadata(&out).is_err(), "{out} was written");
        }
    }
    // In an order file, the key and line are named.
    let t = Test::new().file(
        "order.toml",
        &fs::read_to_string(repo("docs/examples/order.toml"))
            .unwrap()
            .replace("Jane Q. Patient", "محمد"),
    );
    let (order, out) = (t.at("order.toml"), t.at("doc.pdf"));
    let err = t
        .args([
            "label",
            "--backdate",
            "--order",
            &order,
            "--config",
            &config(),
            "-o",
            &out,
        ])
        .refused();
    assert!(err.contains("patient") && err.contains("Arabic"), "{err}");
}
