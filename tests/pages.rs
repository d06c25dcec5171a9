//! What the printed pages hold and where: text stays inside the page, wherever it came from.

use lopdf::content::Content;
use lopdf::{Document, Object};
use troche::render::metrics::{self, Font};

use crate::common::*;
use crate::test::{PH, TK, Test};

/// Each text a page shows: its font, size, x where it starts, and the text (`WinAnsi` bytes
/// read as Latin-1, which has the same widths for what these tests draw).
fn placed_texts(pdf: &[u8]) -> Vec<(usize, f32, f32, Font, f32, String)> {
    let doc = Document::load_mem(pdf).expect("a valid PDF");
    let mut placed = Vec::new();
    for (page_number, page) in doc.get_pages() {
        let fonts = doc.get_page_fonts(page).expect("fonts");
        let width = doc
            .get_dictionary(page)
            .and_then(|p| p.get(b"MediaBox"))
            .and_then(Object::as_array)
            .map(|b| b[2].as_float().expect("a number"))
            .expect("a media box");
        let content = Content::decode(&doc.get_page_content(page)).expect("operators");
        let (mut font, mut size, mut x) = (Font::Helvetica, 0.0, 0.0);
        for op in content.operations {
            let number = |i: usize| op.operands[i].as_float().expect("a number");
            match op.operator.as_str() {
                "Tf" => {
                    let name = op.operands[0].as_name().expect("a font name");
                    let base = fonts[name].get(b"BaseFont").and_then(Object::as_name);
                    font = match base.expect("a base font") {
                        b"Helvetica-Bold" => Font::HelveticaBold,
                        b"Courier" => Font::Courier,
                        _ => Font::Helvetica,
                    };
                    size = number(1);
                }
                "Tm" => x = number(4),
                "Tj" => {
                    let bytes = op.operands[0].as_str().expect("a string");
                    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
                    placed.push((page_number as usize, width, x, font, size, text));
                }
                _ => {}
            }
        }
    }
    placed
}

#[test]
fn a_long_deviation_wraps_inside_the_filled_in_record() {
    let config = config();
    let t = Test::new().people().again();
    let out = t.at("out");
    let t = t
        .arg("make")
        .args(KETAMINE)
        .args([
            "--date",
            "2026-11-30",
            "--backdate",
            "--config",
            &config,
            "--out",
            &out,
            "--by",
            TK.0,
        ])
        .args(prescription("2026-11-20"))
        .pins(&[TK.1]);
    t.run();
    let words = "The troche mold was preheated for longer than the master formulation record \
                 allows because the water bath thermostat failed; the pharmacist checked each \
                 unit for deformation, weighed all thirty again, and approved the batch after \
                 confirming that the melt stayed below the temperature limit for ketamine HCl; \
                 the thermostat was replaced the same afternoon and logged.";
    let deviation: String = words.chars().take(359).collect();
    assert_eq!(deviation.chars().count(), 359);
    let t = t
        .again()
        .args([
            "record",
            "261130-001",
            "--by",
            TK.0,
            "--witness",
            PH.0,
            "--made",
            "30",
            "--deviation",
            &deviation,
        ])
        .pins(&[TK.1, PH.1]);
    t.run();
    let pdf = std::fs::read(format!("{out}/261130-001-record.pdf")).unwrap();
    let placed = placed_texts(&pdf);
    for (page, width, x, font, size, text) in &placed {
        let right = x + metrics::text_width(*font, *size, text);
        assert!(
            *x >= 0.0 && right <= width - 36.0,
            "page {page}: {text:?} from {x} to {right} of {width}"
        );
    }
    // Every word of the deviation is printed, in order, on one page.
    let all: Vec<&str> = placed.iter().map(|p| p.5.as_str()).collect();
    let printed: String = all.concat().split_whitespace().collect();
    assert!(
        has(&printed, &format!("Deviation: {deviation}")),
        "{printed}"
    );
}

/// Directions that wrap to four lines at 11 pt on 4 × 2 in stock.
const FOUR_LINE_SIG: &str = "Place 1 troche between cheek and gum and let it dissolve completely, \
    about 15 to 30 minutes, every 8 hours as needed for pain. Do not chew or swallow whole. Do \
    not eat or drink until it has dissolved.";

#[test]
fn a_four_line_sig_keeps_what_the_law_requires_on_the_main_label_at_legible_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("label.pdf").display().to_string();
    let order = repo("docs/examples/order.toml");
    let config = config();
    let sig: String = FOUR_LINE_SIG
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (i, directions) in [None, Some(sig.as_str())].into_iter().enumerate() {
        // Each label takes the example's lot in a log of its own.
        let db = tmp.path().join(format!("log-{i}.sqlite3"));
        let mut args = vec![
            "label",
            "--backdate",
            "--order",
            &order,
            "--config",
            &config,
            "-o",
            &out,
            "--force",
        ];
        if let Some(d) = directions {
            args.extend(["--directions", d]);
        }
        let db = db.display().to_string();
        let t = Test::new().args(&args).args(["--db", db.as_str()]);
        t.run();
        let placed = placed_texts(&std::fs::read(&out).unwrap());
        let main: Vec<_> = placed.iter().filter(|p| p.0 == 1).collect();
        let squeeze = |texts: &mut dyn Iterator<Item = &str>| -> String {
            texts.flat_map(|t| t.split_whitespace()).collect()
        };
        let bare = |s: &str| s.split_whitespace().collect::<String>();
        // The page read as a whole: what the law requires, all of it on the main label.
        let text = squeeze(&mut main.iter().map(|p| p.5.as_str()));
        for field in [
            "Main Street Compounding Pharmacy",
            "100 Main Street, Springfield, IL 62701",
            "RX-100234",
            "2026-11-23",
            "Alan Smith, MD",
            "30 troches (buccal)",
            "261123-001",
            "Refills:",
            "Do not use after 2027-02-28.",
            "Store at 20-25",
            "keep from heat",
            "Compounded preparation",
            "Caution: Federal law prohibits the transfer of this drug to any person other than \
             the patient for whom it was prescribed.",
        ] {
            assert!(
                text.contains(&bare(field)),
                "{field:?} not on the main label: {text}"
            );
        }
        // Sizes as drawn: the key fields at 11 pt or more, and only they; the beyond-use
        // date bold at 8 pt or more; nothing below 6.5 pt.
        let key = squeeze(&mut main.iter().filter(|p| p.4 >= 11.0).map(|p| p.5.as_str()));
        let directions = directions.unwrap_or(
            "Place 1 troche between cheek and gum and let it dissolve. Do not chew or swallow whole.",
        );
        let expected = bare(&format!(
            "Jane Q. Patient Ketamine hydrochloride 50 mg per troche (= ketamine 43.35 mg) {directions}"
        ));
        assert_eq!(key, expected);
        for (_, _, _, font, size, text) in &main {
            assert!(*size >= 6.5, "{text:?} at {size} pt");
            if text.starts_with("Do not use after") {
                assert!(
                    *font == Font::HelveticaBold && *size >= 8.0,
                    "{text:?} at {size} pt"
                );
            }
        }
        assert!(main.iter().any(|p| p.5.starts_with("Do not use after")));
        // The auxiliary label carries only the formula's warnings (and the description).
        let aux = squeeze(&mut placed.iter().filter(|p| p.0 > 1).map(|p| p.5.as_str()));
        assert!(aux.contains("Auxiliarylabel1of1"), "{aux}");
        assert!(
            !aux.contains("Federallaw") && !aux.contains("Storeat"),
            "{aux}"
        );
    }
}
