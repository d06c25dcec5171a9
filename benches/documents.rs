//! Cost of producing one compounding worksheet and one label in memory (the ketamine troche,
//! 30 + 2 units, with component lots), and of a whole batch run of generated entries.

use troche::batch_record::Record;
use troche::config::{LabelSize, Paper, Pharmacy, Settings};
use troche::order::{self, Order, Preparation};
use troche::render::{label, worksheet};

fn main() {
    divan::main();
}

fn record() -> Record {
    let formula = troche::library::load("ketamine-hcl-troche").expect("embedded formula");
    let order = Order {
        strengths: vec![order::parse_strength("50 mg").expect("strength")],
        quantity: 30,
        preparation: Preparation::Extra(2),
        rx: Some("RX-100234".into()),
        patient: Some("Jane Q. Patient".into()),
        prescriber: Some("Alan Smith, MD".into()),
        refills: Some(0),
        components: vec![
            order::parse_component("Ketamine hydrochloride|K240117|2027-08-31|Medisca")
                .expect("component"),
        ],
        ..Order::default()
    };
    let settings = Settings {
        pharmacy: Some(Pharmacy {
            name: "Main Street Compounding Pharmacy".into(),
            address: "100 Main Street, Springfield, IL 62701".into(),
            phone: "(217) 555-0100".into(),
        }),
        ..Settings::default()
    };
    Record::new(
        formula,
        order,
        &settings,
        jiff::civil::date(2026, 11, 23),
        "261123-001".into(),
    )
    .expect("record")
}

#[divan::bench]
fn worksheet_pdf(bencher: divan::Bencher) {
    let r = record();
    bencher.bench(|| worksheet::worksheet(divan::black_box(&r), Paper::Letter).expect("worksheet"));
}

#[divan::bench]
fn label_pdf(bencher: divan::Bencher) {
    let r = record();
    bencher.bench(|| {
        label::label(
            divan::black_box(&r),
            r.pharmacy.as_ref().expect("pharmacy"),
            LabelSize::default(),
        )
        .expect("label")
    });
}

#[divan::bench]
fn record_json(bencher: divan::Bencher) {
    let r = record();
    bencher.bench(|| troche::calc_report::record_json(divan::black_box(&r)));
}
