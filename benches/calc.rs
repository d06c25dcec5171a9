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

/// A formula with `n` actives (each 0.01 mg per unit of a salt weighed as itself), and the
/// order naming every strength: the cost of matching an order's named strengths to actives,
/// which once grew with the square of the actives.
fn many_actives(n: usize) -> (troche::formula::Formula, Order) {
    use std::fmt::Write as _;
    let mut text = String::from(
        "id = \"many\"\nname = \"Many actives\"\ndosage_form = \"troche\"\nroute = \"buccal\"\n\
         version = 1\ndescription = \"test\"\n\n[mold]\nname = \"m\"\ncavities = 30\n\
         blank_weight = \"100 g\"\n\n[base]\nname = \"PEG\"\nreplacement_factor = \"0.7\"\n\n",
    );
    for i in 0..n {
        let _ = write!(
            text,
            "[[active]]\nname = \"Active {i}\"\nmw = \"100\"\nmax_strength = \"1 g\"\n\n"
        );
    }
    text.push_str(
        "[bud]\ncategory = \"nonaqueous\"\nstorage = \"s\"\nreference = \"r\"\ncontainer = \"c\"\n\n\
         [label]\ndirections = \"d\"\n\n[procedure]\nequipment = [\"e\"]\nsteps = [\"s\"]\n",
    );
    let f = troche::formula::parse(&text, "many.toml").expect("formula with many actives");
    let o = Order {
        strengths: (0..n)
            .map(|i| order::parse_strength(&format!("Active {i}=1 mg")).expect("strength"))
            .collect(),
        quantity: 30,
        ..Order::default()
    };
    (f, o)
}

#[divan::bench(args = [1_000, 10_000], sample_count = 3, sample_size = 1)]
fn calculate_many_actives(bencher: divan::Bencher, n: usize) {
    let (f, o) = many_actives(n);
    let b = Balance {
        minimum_weight: Some(rust_decimal::Decimal::new(1, 3)),
        ..Balance::default()
    };
    bencher.bench(|| calc::calculate(&f, &o, &b).expect("calc"));
}
