//! Test helpers shared by the render tests: the example batch, a document's metadata, PDF
//! text extraction, and a writer of sample documents for looking at.

use crate::config::{LabelSize, Paper, Pharmacy, Settings};
use crate::order::{self, Order, Preparation};
use crate::{batch_record::Record, library};

use super::DocMeta;
use super::label::{label, label_layout};
use super::worksheet::worksheet;

/// The example batch: ketamine `HCl` 50 mg troches, #30 + 2 extra.
pub(crate) fn ketamine(quantity: u32) -> Record {
    let formula = library::load("ketamine-hcl-troche").expect("embedded formula");
    let order = Order {
        strengths: vec![order::parse_strength("50 mg").expect("strength")],
        bases: vec![order::parse_basis("salt").expect("basis")],
        quantity,
        preparation: Preparation::Extra(2),
        rx: Some("RX-4471203".to_owned()),
        patient: Some("Jane Q. Doe".to_owned()),
        prescriber: Some("Dr. Ana Ruiz, MD".to_owned()),
        refills: Some(0),
        ..Default::default()
    };
    let settings = Settings {
        pharmacy: Some(Pharmacy {
            name: "Main Street Compounding Pharmacy".to_owned(),
            address: "1 Main St, Springfield, IL 62701".to_owned(),
            phone: "(217) 555-0100".to_owned(),
        }),
        ..Default::default()
    };
    let date = jiff::civil::date(2026, 11, 23);
    Record::new(formula, order, &settings, date, "261123-001".to_owned()).expect("record")
}

/// Metadata of a test document, with text outside ASCII in the title.
pub(crate) fn meta() -> DocMeta {
    DocMeta {
        title: "Worksheet ± µg".to_owned(),
        subject: Some("Batch 2025-001".to_owned()),
        author: None,
        date: (2025, 3, 14),
        document_id: "batch-2025-001/worksheet".to_owned(),
    }
}

/// The pharmacy of a test record (which always has one).
pub(crate) fn pharmacy(record: &Record) -> &crate::config::Pharmacy {
    record
        .pharmacy
        .as_ref()
        .expect("test records have a pharmacy")
}

/// Text of a PDF read with lopdf (no outside tool, so no test can skip for want of one):
/// each page with all whitespace removed, pages separated by '\f'. Where a line breaks, and
/// whether the extractor puts a space there, must not matter; compare with [`bare`].
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("a valid PDF");
    doc.get_pages()
        .keys()
        .map(|&n| {
            let text = doc.extract_text(&[n]).expect("page text");
            text.split_whitespace().collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\u{c}")
}

/// Text with every run of whitespace made one space.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text with its whitespace removed, as [`pdf_text`] gives it.
pub(crate) fn bare(s: &str) -> String {
    s.split_whitespace().collect()
}

/// The folder sample documents for looking at are written to: `TROCHE_SAMPLES`, else a
/// temporary folder (kept for as long as the returned guard lives), so that a run of the
/// ignored tests without it still writes and checks every sample.
pub(crate) fn samples_dir() -> (std::path::PathBuf, Option<tempfile::TempDir>) {
    if let Some(dir) = std::env::var_os("TROCHE_SAMPLES") {
        (std::path::PathBuf::from(dir), None)
    } else {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        (tmp.path().to_path_buf(), Some(tmp))
    }
}

/// Writes sample documents for looking at: `TROCHE_SAMPLES=/tmp cargo test -- --ignored`.
#[test]
#[ignore = "writes files for visual review"]
fn write_samples() {
    let (dir, _tmp) = samples_dir();
    let record = ketamine(30);
    write_labels(&dir, "label", &record);
    std::fs::write(
        dir.join("ws-letter.pdf"),
        worksheet(&record, Paper::Letter).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("ws-a4.pdf"),
        worksheet(&record, Paper::A4).unwrap(),
    )
    .unwrap();
    let big = ketamine(298);
    std::fs::write(
        dir.join("ws-300.pdf"),
        worksheet(&big, Paper::Letter).unwrap(),
    )
    .unwrap();
    let settings = crate::config::Settings {
        pharmacy: record.pharmacy.clone(),
        ..Default::default()
    };
    for (k, f) in crate::library::all().unwrap().into_iter().enumerate() {
        let strengths = f
            .actives
            .iter()
            .map(|a| crate::order::StrengthSpec {
                active: (f.actives.len() > 1).then(|| a.name.clone()),
                amount: a
                    .default_strength
                    .unwrap_or_else(|| crate::quantity::parse_quantity("1 mg").unwrap()),
            })
            .collect();
        let order = crate::order::Order {
            strengths,
            quantity: 24,
            preparation: if k % 2 == 0 {
                crate::order::Preparation::Overage(rust_decimal::Decimal::from(5))
            } else {
                crate::order::Preparation::Extra(1)
            },
            ..Default::default()
        };
        let id = f.id.clone();
        let r = match Record::new(f, order, &settings, record.date, "L-1".into()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{id}: {e}");
                continue;
            }
        };
        std::fs::write(
            dir.join(format!("{id}.pdf")),
            worksheet(&r, Paper::Letter).unwrap(),
        )
        .unwrap();
        write_labels(&dir, &format!("{id}-label"), &r);
    }
}

/// Writes the label of `record` on 4 × 2 in and 3 × 1.5 in stock as `NAME-4x2.pdf` and
/// `NAME-3x1.5.pdf`, and says what sizes the layout chose.
fn write_labels(dir: &std::path::Path, name: &str, record: &Record) {
    let small = LabelSize {
        width_pt: 216.0,
        height_pt: 108.0,
    };
    for (stock, size) in [("4x2", LabelSize::default()), ("3x1.5", small)] {
        match label_layout(record, pharmacy(record), size) {
            Ok(l) => {
                eprintln!(
                    "{name} {stock}: key {} pt, details {} pt, {} of {} warnings on the main \
                     label, beyond-use date {} pt, {} pages, auxiliary at {:?} pt",
                    l.key_size_pt,
                    l.detail_size_pt,
                    l.warnings_on_main,
                    record.formula.label.warnings.len(),
                    l.bud_size_pt,
                    l.page_count(),
                    l.aux_size_pt
                );
                std::fs::write(
                    dir.join(format!("{name}-{stock}.pdf")),
                    label(record, pharmacy(record), size).unwrap(),
                )
                .unwrap();
            }
            Err(e) => eprintln!("{name} {stock}: {e}"),
        }
    }
}
