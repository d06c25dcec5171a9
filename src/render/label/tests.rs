use super::fit::{inches, listed, stock};
use super::layout::margin;
use super::*;
use crate::batch_record::FEDERAL_TRANSFER_WARNING;
use crate::render::metrics::Font;
use crate::render::test_support::{bare, ketamine, pdf_text, pharmacy, squash};
use crate::render::text::{Words, Wrap as _, regular, runs_width};

/// 3 × 1.5 in, the small vial label.
const SMALL: LabelSize = LabelSize {
    width_pt: 216.0,
    height_pt: 108.0,
};

/// 4 × 2.5 in.
const TALL: LabelSize = LabelSize {
    width_pt: 288.0,
    height_pt: 180.0,
};

/// Directions that wrap to four lines at 11 pt on 4 × 2 in stock.
const FOUR_LINE_SIG: &str = "Place 1 troche between cheek and gum and let it dissolve \
    completely, about 15 to 30 minutes, every 8 hours as needed for pain. Do not chew or \
    swallow whole. Do not eat or drink until it has dissolved.";

/// The stock sizes the ketamine label fits.
fn stocks() -> [LabelSize; 2] {
    [LabelSize::default(), TALL]
}

/// The ketamine record with no DEA schedule, as a drug without the federal warning.
fn unscheduled() -> Record {
    let mut record = ketamine(30);
    for ingredient in &mut record.calc.ingredients {
        if let Some(active) = ingredient.active.as_mut() {
            active.schedule = None;
        }
    }
    assert!(!record.needs_transfer_warning());
    record
}

/// What the law requires on the container, as the ketamine label prints it.
fn required(record: &Record) -> Vec<String> {
    let mut fields: Vec<String> = [
        "Main Street Compounding Pharmacy",
        "1 Main St, Springfield, IL 62701",
        "(217) 555-0100",
        "Rx: RX-4471203",
        "Filled: 2026-11-23",
        "Jane Q. Doe",
        "Prescriber: Dr. Ana Ruiz, MD",
        "Qty: 30 troches (buccal)",
        "Do not use after 2027-05-22.",
        "Compounded preparation",
        "Lot: 261123-001",
        "Refills: 0",
        "RPh: ______",
    ]
    .map(str::to_owned)
    .to_vec();
    fields.extend(record.strength_lines());
    fields.push(record.directions.clone());
    fields.push(record.formula.bud.storage.clone());
    if record.needs_transfer_warning() {
        fields.push(FEDERAL_TRANSFER_WARNING.to_owned());
    }
    fields
}

/// Whether every required field is on the main label, in the layout and in the PDF.
fn assert_required_on_main(record: &Record, stock: LabelSize) -> LabelLayout {
    let layout = label_layout(record, pharmacy(record), stock).unwrap();
    assert_laid_out_cleanly(&layout);
    let main = &page_texts(&layout)[0];
    let pdf = label(record, pharmacy(record), stock).unwrap();
    let text = pdf_text(&pdf);
    let pdf_pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.is_empty()).collect();
    assert_eq!(pdf_pages.len(), layout.page_count(), "{text}");
    for field in required(record) {
        assert!(main.contains(&squash(&field)), "lacks {field:?}:\n{main}");
        assert!(pdf_pages[0].contains(&bare(&field)), "{field:?}:\n{text}");
    }
    // Nothing required moved: the auxiliary labels repeat only the Rx and the patient.
    let storage = bare(&record.formula.bud.storage);
    for aux in &pdf_pages[1..] {
        assert!(
            !aux.contains(&storage) && !aux.contains("Federallaw"),
            "{aux}"
        );
    }
    layout
}

/// The text of each page as drawn, lines joined by spaces, whitespace collapsed.
fn page_texts(layout: &LabelLayout) -> Vec<String> {
    layout
        .pages
        .iter()
        .map(|page| {
            let words: Vec<&str> = page
                .iter()
                .filter_map(|item| match item {
                    Item::Line { runs, .. } => Some(runs),
                    Item::Rule { .. } => None,
                })
                .flatten()
                .map(|(_, t)| t.as_str())
                .collect();
            squash(&words.join(" "))
        })
        .collect()
}

/// Size of every drawn line on `page` that holds a piece of `needle`'s first words.
fn sizes_of(layout: &LabelLayout, page: usize, needle: &str) -> Vec<f32> {
    let head: String = needle
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    layout.pages[page]
        .iter()
        .filter_map(|item| match item {
            Item::Line { size, runs, .. } => {
                let text: String = runs.iter().map(|(_, t)| t.as_str()).collect();
                text.contains(&head).then_some(*size)
            }
            Item::Rule { .. } => None,
        })
        .collect()
}

/// Every line inside the margins of the stock, and no two lines overlapping.
fn assert_laid_out_cleanly(layout: &LabelLayout) {
    let (w, h, m) = (layout.size.width_pt, layout.size.height_pt, layout.margin);
    for page in &layout.pages {
        let mut boxes: Vec<(f32, f32, f32, f32)> = Vec::new();
        for item in page {
            let Item::Line {
                x,
                baseline,
                size,
                runs,
            } = item
            else {
                continue;
            };
            assert!(*size >= MIN_DETAIL_PT, "{size} pt: {runs:?}");
            assert!(x.is_finite() && baseline.is_finite(), "{runs:?}");
            let right = x + runs_width(runs, *size);
            let (top, bottom) = (baseline - size * 0.75, baseline + size * 0.21);
            assert!(*x >= m - 0.01 && right <= w - m + 0.01, "{runs:?}");
            assert!(top >= m - 0.01 && bottom <= h - m + 0.01, "{runs:?}");
            for &(l, r, t, b) in &boxes {
                let apart = right <= l || *x >= r || bottom <= t || top >= b;
                assert!(apart, "{runs:?} overlaps another line");
            }
            boxes.push((*x, right, top, bottom));
        }
    }
}

/// A warning in the formula's `[label]` longer than any the library holds.
fn long_warning(i: usize) -> String {
    format!(
        "Warning {i}: this medicine may interact with many other medicines, supplements and \
         foods; tell your doctor and pharmacist about everything you take before using it."
    )
}

#[test]
fn label_holds_every_required_field() {
    let record = ketamine(30);
    for stock in stocks() {
        let layout = assert_required_on_main(&record, stock);
        let pages = page_texts(&layout);
        assert!(!pages[0].contains("as weighed"), "{}", pages[0]);
        // The description is not required there: it moves when there is no room.
        let description = "Description: White, round, flat troche with a tutti-frutti odor";
        let all = pages.join(" ");
        assert_eq!(all.matches(description).count(), 1, "{all}");
        assert_eq!(pages[0].contains(description), layout.description_on_main);
        if !layout.description_on_main {
            assert!(pages[0].contains("See auxiliary label"), "{}", pages[0]);
            assert!(pages[1].contains(description), "{}", pages[1]);
        }
    }
}

#[test]
fn a_four_line_sig_on_4x2_keeps_the_transfer_warning_and_storage_on_the_main_label() {
    let mut record = ketamine(30);
    record.directions = squash(FOUR_LINE_SIG);
    let width = LabelSize::default().width_pt - 2.0 * margin(LabelSize::default());
    let sig = Words::new(&[regular(record.directions.as_str())]);
    assert_eq!(sig.measure(MIN_KEY_PT, width).0, 4);
    let layout = assert_required_on_main(&record, LabelSize::default());
    assert!(layout.key_size_pt >= MIN_KEY_PT);
    assert!(layout.used_height_pt <= 144.0);
    // The formula's five warnings and the description went to the auxiliary label.
    assert_eq!(layout.warnings_on_main, 0);
    assert!(!layout.description_on_main);
    let pages = page_texts(&layout);
    assert!(pages[0].contains("See auxiliary label."), "{}", pages[0]);
    for w in &record.formula.label.warnings {
        assert!(pages[1..].join(" ").contains(&squash(w)), "{w}");
    }
    // Without the schedule, the same label has room to spare.
    let mut plain = unscheduled();
    plain.directions = record.directions.clone();
    assert_required_on_main(&plain, LabelSize::default());
}

#[test]
fn required_fields_print_at_least_at_the_minimum_sizes() {
    let mut long = ketamine(30);
    long.directions = squash(FOUR_LINE_SIG);
    for record in [ketamine(30), long, unscheduled()] {
        for stock in stocks() {
            let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
            let key: Vec<String> = [
                "Jane Q. Doe".to_owned(),
                record.strength_lines()[0].clone(),
                record.directions.clone(),
            ]
            .to_vec();
            for field in &key {
                let sizes = sizes_of(&layout, 0, field);
                assert!(!sizes.is_empty(), "{field:?} not on the main label");
                assert!(
                    sizes.iter().all(|&s| s >= MIN_KEY_PT),
                    "{field:?}: {sizes:?}"
                );
            }
            let mut bud = 0;
            for item in &layout.pages[0] {
                if let Item::Line { size, runs, .. } = item {
                    assert!(*size >= MIN_DETAIL_PT, "{size}: {runs:?}");
                    if let Some((font, text)) = runs.first()
                        && text.starts_with("Do not use after")
                    {
                        assert_eq!(*font, Font::HelveticaBold);
                        assert!(*size >= MIN_BUD_PT, "{size}: {runs:?}");
                        bud += 1;
                    }
                }
            }
            assert_eq!(bud, 1, "{:?}", page_texts(&layout)[0]);
        }
    }
}

#[test]
fn the_patient_drug_and_directions_come_first_and_largest() {
    let record = ketamine(30);
    let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
    assert!(layout.key_size_pt >= MIN_KEY_PT, "{layout:?}");
    assert!(layout.pharmacy_size_pt < layout.key_size_pt);
    assert!(layout.detail_size_pt < layout.key_size_pt);
    assert!(layout.bud_size_pt >= MIN_BUD_PT);
    let pharmacy = sizes_of(&layout, 0, "Main Street Compounding");
    assert!(
        pharmacy.iter().all(|&s| (MIN_DETAIL_PT..=7.0).contains(&s)),
        "{pharmacy:?}"
    );
}

#[test]
fn every_warning_appears_exactly_once_each_on_its_own_line() {
    let mut records = vec![ketamine(30)];
    let mut many = ketamine(30);
    many.formula.label.warnings = (1..=8).map(long_warning).collect();
    records.push(many);
    for record in &records {
        for stock in stocks() {
            let layout = label_layout(record, pharmacy(record), stock).unwrap();
            assert_laid_out_cleanly(&layout);
            let pages = page_texts(&layout);
            let all = pages.join(" ");
            let mut warnings = record.formula.label.warnings.clone();
            warnings.push(FEDERAL_TRANSFER_WARNING.to_owned());
            for w in &warnings {
                assert_eq!(all.matches(&squash(w)).count(), 1, "{w:?} in:\n{all}");
            }
            assert!(pages[0].contains(FEDERAL_TRANSFER_WARNING));
            // Each warning starts its own line; the formula's at 7 pt or more.
            for page in &layout.pages {
                for item in page {
                    if let Item::Line { size, runs, .. } = item
                        && let Some((_, first)) = runs.first()
                    {
                        if first == "•" {
                            assert!(*size >= WARNING_PT, "{size}: {runs:?}");
                        }
                        if first.starts_with("Caution: Federal") {
                            assert!(*size >= MIN_DETAIL_PT, "{size}: {runs:?}");
                        }
                    }
                }
            }
            let bullets = layout
                .pages
                .iter()
                .flatten()
                .filter(|item| {
                    matches!(item, Item::Line { runs, .. }
                        if runs.first().is_some_and(|(f, t)| *f == Font::HelveticaBold && t == "•"))
                })
                .count();
            assert_eq!(bullets, record.formula.label.warnings.len());
        }
    }
}

#[test]
fn the_federal_warning_is_on_the_main_label_word_for_word() {
    let record = ketamine(30);
    assert!(record.needs_transfer_warning(), "ketamine is CIII");
    let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
    assert!(page_texts(&layout)[0].contains(FEDERAL_TRANSFER_WARNING));
    let pdf = label(&record, pharmacy(&record), LabelSize::default()).unwrap();
    let text = pdf_text(&pdf);
    let main = text.split('\u{c}').next().unwrap_or_default();
    assert!(main.contains(&bare(FEDERAL_TRANSFER_WARNING)), "{text}");
}

#[test]
fn many_long_warnings_go_to_auxiliary_labels_instead_of_shrinking() {
    let mut record = ketamine(30);
    record.formula.label.warnings = (1..=8).map(long_warning).collect();
    for stock in stocks() {
        let layout = label_layout(&record, pharmacy(&record), stock).unwrap();
        assert!(layout.page_count() >= 2, "{stock:?}");
        assert!(layout.key_size_pt >= MIN_KEY_PT);
        assert!(layout.aux_size_pt.is_some_and(|pt| pt >= WARNING_PT));
        let pages = page_texts(&layout);
        assert!(pages[0].contains("See auxiliary label"), "{}", pages[0]);
        let n = layout.page_count() - 1;
        for (i, page) in pages.iter().enumerate().skip(1) {
            let heading = format!("Auxiliary label {i} of {n} — Rx RX-4471203 — Jane Q. Doe");
            assert!(page.starts_with(&heading), "{page}");
            assert!(!page.contains("Federal law"), "{page}");
        }
        let pdf = label(&record, pharmacy(&record), stock).unwrap();
        let text = pdf_text(&pdf);
        assert!(text.contains(&bare("Auxiliary label 1 of")), "{text}");
    }
    // Without auxiliary labels, the main label says nothing about them.
    let mut few = unscheduled();
    few.formula.label.warnings.truncate(1);
    let plain = label_layout(&few, pharmacy(&few), TALL).unwrap();
    assert_eq!(plain.page_count(), 1);
    assert!(!page_texts(&plain)[0].contains("auxiliary"));
}

#[test]
fn a_label_too_small_for_the_required_text_is_refused_naming_larger_sizes() {
    // The ketamine label's required text runs off 3 × 1.5 in whatever the sig.
    let record = ketamine(30);
    let e = label_layout(&record, pharmacy(&record), SMALL).unwrap_err();
    assert!(matches!(e, Error::LabelFit(_)));
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    for part in [
        "3 × 1.5 in label",
        "11 pt",
        "8 pt bold",
        "6.5 pt",
        "federal transfer warning",
        "storage",
        "run off its bottom edge",
        "A 4 × 2 in, 4 × 2.5 in, 4 × 3 in, 4 × 4 in or 4 × 6 in label takes it",
    ] {
        assert!(msg.contains(part), "{part:?}: {msg}");
    }
    assert!(!msg.contains("3 × 2 in"), "{msg}");
    // A drug without the federal warning, with short texts, fits; with a long sig not.
    let mut plain = unscheduled();
    plain.formula.label.warnings.clear();
    plain.formula.description.clear();
    plain.formula.bud.storage = "Store at 20-25 °C.".to_owned();
    plain.directions = "Dissolve 1 troche in the mouth daily.".to_owned();
    assert_required_on_main(&plain, SMALL);
    plain.directions = squash(FOUR_LINE_SIG);
    let msg = label_layout(&plain, pharmacy(&plain), SMALL)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("the directions, "), "{msg}");
    assert!(msg.contains("A 4 × 2 in, "), "{msg}");
    assert!(
        msg.contains("shorten the directions (200 characters)"),
        "{msg}"
    );
    assert_required_on_main(&plain, LabelSize::default());
}

#[test]
fn a_sig_too_long_for_4x2_is_refused_naming_larger_sizes() {
    let mut record = ketamine(30);
    record.directions = format!("{} Rinse the mouth afterwards.", squash(FOUR_LINE_SIG));
    let e = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("4 × 2 in label"), "{msg}");
    assert!(msg.contains("federal transfer warning"), "{msg}");
    assert!(msg.contains("A 4 × 2.5 in, 4 × 3 in"), "{msg}");
    assert!(msg.contains("shorten the directions"), "{msg}");
    assert!(!msg.contains("3 × 2 in"), "{msg}");
    assert_required_on_main(&record, TALL);
}

#[test]
fn unscheduled_drugs_carry_no_federal_warning() {
    let mut record = unscheduled();
    record.formula.label.warnings.clear();
    let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
    assert_eq!(layout.page_count(), 1);
    assert!(!page_texts(&layout)[0].contains("Federal"));
    assert!(layout.key_size_pt >= MIN_KEY_PT);
}

#[test]
fn renders_are_byte_identical() {
    let mut many = ketamine(30);
    many.formula.label.warnings = (1..=8).map(long_warning).collect();
    for record in [ketamine(30), many] {
        for stock in stocks() {
            let a = label(&record, pharmacy(&record), stock).unwrap();
            let b = label(&record, pharmacy(&record), stock).unwrap();
            assert_eq!(a, b);
        }
    }
}

#[test]
fn missing_order_fields_print_as_blanks() {
    let mut record = ketamine(30);
    record.order.rx = None;
    record.order.patient = Some("  ".to_owned());
    record.order.prescriber = None;
    record.order.refills = None;
    let layout = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap();
    let text = page_texts(&layout).join("\n");
    for field in [
        "Rx: ____",
        "Patient: ____",
        "Prescriber: ____",
        "Refills: ____",
    ] {
        assert!(text.contains(field), "{field}:\n{text}");
    }
}

#[test]
fn no_pharmacy_no_label() {
    // `label` takes the pharmacy by type; settings without one refuse before any layout.
    let e = crate::config::Settings::default()
        .require_pharmacy()
        .unwrap_err();
    assert!(e.to_string().contains("[pharmacy]"), "{e}");
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn absurd_text_is_refused_naming_what_to_shorten() {
    let mut record = ketamine(30);
    record.directions = "Dissolve one troche slowly in the mouth. ".repeat(40);
    let e = label_layout(&record, pharmacy(&record), LabelSize::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::LabelFit(_)));
    assert!(msg.contains("4 × 2 in"), "{msg}");
    assert!(msg.contains("shorten the directions"), "{msg}");
    assert!(msg.contains("No common label size"), "{msg}");
    // A larger stock takes it.
    let big = LabelSize {
        width_pt: 288.0,
        height_pt: 576.0,
    };
    let layout = label_layout(&record, pharmacy(&record), big).unwrap();
    assert_laid_out_cleanly(&layout);
    assert!(layout.key_size_pt >= MIN_KEY_PT);
}

#[test]
fn hostile_input_never_panics() {
    let mut record = ketamine(30);
    record.directions = String::new();
    record.lot = "X".repeat(300);
    record.order.patient = Some("\u{1F600}\u{0}\n\t".repeat(5));
    let _ = label_layout(&record, pharmacy(&record), LabelSize::default());
    for (w, h) in [
        (72.0, 72.0),
        (1440.0, 1440.0),
        (3.0, 3.0),
        (f32::NAN, 100.0),
        (100.0, f32::INFINITY),
    ] {
        let size = LabelSize {
            width_pt: w,
            height_pt: h,
        };
        match label_layout(&record, pharmacy(&record), size) {
            Ok(layout) => {
                assert!(layout.key_size_pt >= MIN_KEY_PT);
                assert_laid_out_cleanly(&layout);
            }
            Err(e) => assert!(matches!(e, Error::LabelFit(_)), "{e}"),
        }
    }
    record.directions = "y".repeat(5000);
    assert!(label(&record, pharmacy(&record), LabelSize::default()).is_err());
}

/// Every embedded formula's record at the low and high ends of its usual strengths (or
/// its default strength), for the example patient and pharmacy.
fn library_records() -> Vec<(String, Record)> {
    let example = ketamine(30);
    let settings = crate::config::Settings {
        pharmacy: example.pharmacy.clone(),
        ..Default::default()
    };
    let mut records = Vec::new();
    for formula in crate::library::all().unwrap() {
        for end in 0..2 {
            let strengths = formula
                .actives
                .iter()
                .filter_map(|a| {
                    let amount = match (a.usual_strength, end) {
                        (Some((low, _)), 0) => low,
                        (Some((_, high)), _) => high,
                        (None, _) => a.default_strength?,
                    };
                    Some(crate::order::StrengthSpec {
                        active: (formula.actives.len() > 1).then(|| a.name.clone()),
                        amount,
                    })
                })
                .collect();
            let order = crate::order::Order {
                strengths,
                quantity: 30,
                ..example.order.clone()
            };
            let id = format!("{} end {end}", formula.id);
            let record = Record::new(
                formula.clone(),
                order,
                &settings,
                example.date,
                "L-1".into(),
            );
            records.push((id, record.unwrap()));
        }
    }
    records
}

#[test]
fn every_embedded_formula_labels_at_its_usual_strengths() {
    for (id, record) in library_records() {
        for stock in stocks() {
            let layout = label_layout(&record, pharmacy(&record), stock)
                .unwrap_or_else(|e| panic!("{id} on {stock:?}: {e}"));
            assert_laid_out_cleanly(&layout);
            assert!(layout.key_size_pt >= MIN_KEY_PT, "{id}");
            if std::env::var_os("TROCHE_LABEL_DUMP").is_some() {
                eprintln!(
                    "LAYOUT {id} {}x{}: key {} detail {} warnings {} description {} aux {:?} pages {} used {:.2}",
                    stock.width_pt,
                    stock.height_pt,
                    layout.key_size_pt,
                    layout.detail_size_pt,
                    layout.warnings_on_main,
                    layout.description_on_main,
                    layout.aux_size_pt,
                    layout.page_count(),
                    layout.used_height_pt
                );
            }
        }
    }
}

#[test]
fn stock_sizes_print_as_a_pharmacist_writes_them() {
    assert_eq!(inches(288.0), "4");
    assert_eq!(inches(216.0), "3");
    assert_eq!(inches(100.0), "1.39");
    assert_eq!(stock(288.0, 180.0), "4 × 2.5 in");
    let names = ["a", "b", "c"].map(str::to_owned);
    assert_eq!(listed(&names[..1], "or"), "a");
    assert_eq!(listed(&names[..2], "or"), "a or b");
    assert_eq!(listed(&names, "and"), "a, b and c");
}
