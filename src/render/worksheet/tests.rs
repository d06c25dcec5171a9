use super::*;
use crate::batch_record::FEDERAL_TRANSFER_WARNING;
use crate::render::test_support::{bare, ketamine, pdf_text};

#[test]
fn worksheet_holds_every_required_field() {
    let record = ketamine(30);
    let pdf = worksheet(&record, Paper::Letter).unwrap();
    assert_eq!(
        pdf,
        worksheet(&record, Paper::Letter).unwrap(),
        "reproducible"
    );
    let text = pdf_text(&pdf);
    let flat = text.replace('\u{c}', "");
    let active = &record.formula.actives[0].name;
    let mut expected: Vec<String> = vec![
        record.formula.name.clone(),
        "ketamine-hcl-troche, version 3".into(),
        "RX-4471203".into(),
        "261123-001".into(),
        "2026-11-23".into(),
        "2027-05-22".into(),
        "Jane Q. Doe".into(),
        "Main Street Compounding Pharmacy".into(),
        "troche".into(),
        "buccal".into(),
        "30 units".into(),
        "32 units (30 + 2 extra)".into(),
        active.clone(),
        "1.600".into(),
        "27.447".into(),
        "Schedule III".into(),
        "Manufacturer".into(),
        "Weighed".into(),
        "Checked".into(),
        "1.002 g".into(),
        "0.902 g to 1.102 g".into(),
        "Theoretical yield".into(),
        "Actual yield".into(),
        "Visual inspection".into(),
        "Controlled-substance reconciliation".into(),
        "Bulk drug weighed".into(),
        "Wasted".into(),
        "Witness".into(),
        "Verified by pharmacist".into(),
        "Compounded by".into(),
        "day 0".into(),
        record.formula.bud.storage.clone(),
        record.formula.description.clone(),
    ];
    expected.extend(record.strength_lines());
    // Steps as printed: each amount filled in for this batch.
    expected.extend(
        record
            .formula
            .procedure
            .steps
            .iter()
            .map(|t| crate::formula::steps::fill(t, |n| super::procedure::amount_of(&record, n))),
    );
    expected.extend(record.formula.procedure.equipment.iter().cloned());
    expected.extend(record.calc.warnings.iter().cloned());
    for i in &record.calc.ingredients {
        expected.push(i.name.clone());
        expected.extend(i.steps.iter().cloned());
    }
    for (k, v) in &record.calc.steps {
        expected.push(k.clone());
        expected.push(v.clone());
    }
    for field in &expected {
        let want = bare(&metrics::to_winansi(field));
        assert!(flat.contains(&want), "worksheet lacks {want:?}:\n{text}");
    }
    // Every unit has its numbered box.
    assert!(flat.contains("32g"), "{text}");
    assert!(
        !flat.contains(&bare(FEDERAL_TRANSFER_WARNING)),
        "that is for the label"
    );
    let pages = text.trim_end_matches('\u{c}').split('\u{c}').count();
    for p in 1..=pages {
        assert!(flat.contains(&format!("Page{p}of{pages}")), "{text}");
    }
}

#[test]
fn large_batch_numbers_every_page() {
    let record = ketamine(298);
    assert_eq!(record.calc.units_prepared, 300);
    for paper in [Paper::Letter, Paper::A4] {
        let pdf = worksheet(&record, paper).unwrap();
        let text = pdf_text(&pdf);
        let pages: Vec<&str> = text.trim_end_matches('\u{c}').split('\u{c}').collect();
        let m = pages.len();
        assert!(m >= 3, "300 unit boxes span pages: {m}");
        for (n, page) in pages.iter().enumerate() {
            assert!(
                page.contains(&format!("Page{}of{m}", n + 1)),
                "page {}: {page}",
                n + 1
            );
            assert!(page.contains("Lot261123-001"), "page {}", n + 1);
            assert!(page.contains("ketamine-hcl-troche"), "page {}", n + 1);
        }
        assert!(text.contains("300g"), "the last unit has a box");
        assert!(text.contains("continued"));
    }
}

#[test]
fn huge_batch_gets_a_note_instead_of_boxes() {
    let record = ketamine(UNIT_GRID_LIMIT + 10);
    let pdf = worksheet(&record, Paper::Letter).unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains(&bare("more than the 2000 boxes")), "{text}");
    assert!(text.split('\u{c}').count() < 10);
}

#[test]
fn page_count_and_breaks_are_sane() {
    // No block runs into the footer: every drawn page ends above the bottom margin.
    let record = ketamine(30);
    for paper in [Paper::Letter, Paper::A4] {
        let canvas = layout(&record, paper);
        assert!(
            canvas.page_count() >= 2 && canvas.page_count() <= 5,
            "{}",
            canvas.page_count()
        );
    }
}

#[test]
fn balance_mold_and_container_are_filled_in_or_left_blank() {
    let page1 = |record: &Record| {
        let pdf = worksheet(record, Paper::Letter).unwrap();
        pdf_text(&pdf)
            .split('\u{c}')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let mut record = ketamine(30);
    record.formula.bud.container = None;
    let text = page1(&record);
    for blank in [
        "Balance id (write the balance used)",
        "Mold id (write the mold used)",
        "Container-closure used (the master formulation record names none: write it)",
        "Assay (CoA) ________ % (100 % assumed)",
        "6 mg sensitivity ÷ 5 % acceptable error = 120 mg",
    ] {
        assert!(text.contains(&bare(blank)), "lacks {blank:?}:\n{text}");
    }
    record.calc.balance.id = Some("BAL-7".into());
    record.mold_ids = vec!["M-1".into()];
    record.formula.bud.container = Some("Blister card, foil lidding".into());
    let text = page1(&record);
    for filled in ["BAL-7", "M-1", "Blister card, foil lidding"] {
        assert!(text.contains(&bare(filled)), "lacks {filled:?}:\n{text}");
    }
    record.mold_ids = vec!["M-1".into(), "M-2".into()];
    let text = page1(&record);
    assert!(
        text.contains(&bare("Mold id (write which was used)")),
        "{text}"
    );
    assert!(text.contains(&bare("use one of: M-1, M-2")), "{text}");
    assert!(!text.contains(&bare("Balance id (write")), "{text}");
}

#[test]
fn hostile_input_never_panics() {
    let mut record = ketamine(30);
    record.formula.name = "N".repeat(3000);
    record.lot = String::new();
    record.order.patient = Some("\u{1F600} ".repeat(2000));
    record.formula.description = String::new();
    record.formula.procedure.steps = vec![String::new(), "x ".repeat(4000)];
    record.calc.warnings.push("w".repeat(10_000));
    if let Some(i) = record.calc.ingredients.first_mut() {
        i.name = "Ketamine ".repeat(1500);
    }
    for paper in [Paper::Letter, Paper::A4] {
        let pdf = worksheet(&record, paper).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}

#[test]
fn filled_in_record_adds_numbered_pages_of_actual_values() {
    let record = ketamine(30);
    let worksheet_pages = layout(&record, Paper::Letter).page_count();
    // Enough deviations to need a second page of actual values.
    let deviation = "The water bath thermostat failed and the melt was held longer than allowed; \
                     each unit was inspected and weighed again. "
        .repeat(4);
    let entered = crate::bench::Entered {
        number: 1,
        by: "JD".into(),
        witness: Some("RP".into()),
        amounts: vec![(
            "--weight",
            "Ketamine".into(),
            crate::quantity::parse_quantity("1.650 g").unwrap(),
        )],
        unit_weights: vec![Decimal::TWO],
        made: Some(31),
        rejected: vec![(1, "cracked".into())],
        deviations: vec![deviation.clone(); 12],
        ..crate::bench::Entered::default()
    };
    let actual = crate::bench::judge(&record, entered).unwrap();
    let pdf = filled_record(&record, Paper::Letter, &record.lot, &actual).unwrap();
    assert_eq!(
        pdf,
        filled_record(&record, Paper::Letter, &record.lot, &actual).unwrap(),
        "reproducible"
    );
    let text = pdf_text(&pdf);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    assert!(pages.len() >= worksheet_pages + 2, "{} pages", pages.len());
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&bare(&format!("Page {} of {total}", i + 1))),
            "page {i}"
        );
    }
    let values = pages[worksheet_pages..].concat();
    for expected in [
        "Actual values, lot 261123-001",
        "1: 2 (FLAG)",
        "Rejected: 1 (cracked)",
        "Flags to resolve before release:",
        "unit:1: unit 1: 2 g is outside",
        "INCOMPLETE: cannot be released until it has:",
        "Controlled-substance reconciliation: Ketamine",
        &format!("Deviation: {deviation}"),
    ] {
        assert!(values.contains(&bare(expected)), "{expected}");
    }
}

#[test]
fn a_stamp_crosses_every_page_and_changes_nothing_else() {
    use crate::batch_record::Stamp;
    use crate::config::LabelSize;
    use crate::render::label::label;
    use crate::render::test_support::pharmacy;
    let plain = ketamine(300);
    let mut stamped = plain.clone();
    stamped.stamps = vec![Stamp::Practice, Stamp::Preview];
    let before = pdf_text(&worksheet(&plain, Paper::Letter).unwrap());
    let after = worksheet(&stamped, Paper::Letter).unwrap();
    let text = pdf_text(&after);
    let pages = text.matches(&bare("PRACTICE - NOT FOR DISPENSING")).count();
    assert_eq!(pages, 5, "{text}");
    assert_eq!(
        pages,
        text.matches(&bare("PREVIEW - NOT A COMPOUNDING RECORD"))
            .count()
    );
    // The page's own text is all still there, in its order.
    let own = bare(&text)
        .replace(&bare("PRACTICE - NOT FOR DISPENSING"), "")
        .replace(&bare("PREVIEW - NOT A COMPOUNDING RECORD"), "");
    assert_eq!(own, bare(&before));
    assert_eq!(
        worksheet(&stamped, Paper::Letter).unwrap(),
        after,
        "a stamped document is as deterministic as any other"
    );
    let label = label(&stamped, pharmacy(&stamped), LabelSize::default()).unwrap();
    assert!(pdf_text(&label).contains(&bare("PRACTICE - NOT FOR DISPENSING")));
}

/// Writes a stamped worksheet and label for looking at:
/// `TROCHE_SAMPLES=/tmp cargo test --lib stamped_samples -- --ignored`.
#[test]
#[ignore = "writes files for visual review"]
fn stamped_samples() {
    use crate::batch_record::Stamp;
    use crate::config::LabelSize;
    use crate::render::test_support::pharmacy;
    let (dir, _tmp) = crate::render::test_support::samples_dir();
    let mut record = ketamine(30);
    record.stamps = vec![Stamp::NotReleasable("rejected".into())];
    let pdf = worksheet(&record, Paper::Letter).unwrap();
    std::fs::write(dir.join("stamped-worksheet.pdf"), pdf).unwrap();
    record.stamps = vec![Stamp::Practice, Stamp::Preview];
    let pdf =
        crate::render::label::label(&record, pharmacy(&record), LabelSize::default()).unwrap();
    std::fs::write(dir.join("stamped-label.pdf"), pdf).unwrap();
}
