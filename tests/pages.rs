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
        .args([
            "make",
            "ketamine-hcl-troche",
            "--strength",
            "50 mg",
            "--quantity",
            "30",
            "--basis",
            "moiety",
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
