//! Cost of one batch calculation with five ingredients (the embedded ketamine troche: one
//! active with a moiety and an assay, three powders, two liquids with densities, and the base),
//! and of loading the formula from TOML.

use troche::calc::{self, Balance};
use troche::order::{self, Basis, Order, Preparation};

fn main() {
    divan::main();
}

fn ketamine() -> troche::formula::Formula {
    troche::library::load("ketamine-hcl-troche").expect("embedded formula")
}

fn order() -> Order {
    Order {
        strengths: vec![order::parse_strength("50 mg").expect("strength")],
        quantity: 30,
        preparation: Preparation::Extra(2),
        bases: vec![order::BasisSpec {
            active: None,
            basis: Basis::Moiety,
        }],
        assays: vec![order::parse_assay("99.5").expect("assay")],
        ..Order::default()
    }
}

#[divan::bench]
fn calculate_five_ingredients(bencher: divan::Bencher) {
    let f = ketamine();
    let o = order();
    let b = Balance::default();
    bencher
        .bench(|| calc::calculate(divan::black_box(&f), divan::black_box(&o), &b).expect("calc"));
}

#[divan::bench]
fn load_formula_from_toml() -> troche::formula::Formula {
    ketamine()
}
