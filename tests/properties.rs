//! Property tests of the arithmetic's invariants, and of the parsers never panicking.

use proptest::prelude::*;
use rust_decimal::Decimal;
use troche::calc::{self, Balance};
use troche::formula::{self, Formula};
use troche::order::{AssaySpec, Basis, Order, Preparation, StrengthSpec};
use troche::quantity::{self, Quantity, Unit};

fn d(mantissa: i64, scale: u32) -> Decimal {
    Decimal::new(mantissa, scale)
}

/// A formula with one active (salt and moiety), a per-unit excipient, a percent excipient and
/// a volume excipient, with either displacement convention.
fn formula_text(
    blank_mg: i64,
    density: bool,
    factor_tenths: i64,
    silica_mg: i64,
    pct_tenths: i64,
) -> String {
    let factor_key = if density {
        "density_factor"
    } else {
        "replacement_factor"
    };
    format!(
        r#"id = "prop"
name = "Property test troche"
dosage_form = "troche"
route = "buccal"
version = 1
description = "generated"
[mold]
name = "m"
cavities = 30
blank_weight = "{blank} g"
[base]
name = "Base"
replacement_factor = "0.7"
[[active]]
name = "Drug hydrochloride"
mw = "274.19"
moiety = "Drug"
moiety_mw = "237.73"
{factor_key} = "{factor}"
[[excipient]]
name = "Silica"
per_unit = "{silica} mg"
replacement_factor = "1"
[[excipient]]
name = "Sweetener"
percent_of_blank = "{pct}"
[[excipient]]
name = "Flavor"
per_unit = "0.02 mL"
density = "1.05 g/mL"
[bud]
category = "nonaqueous"
storage = "room temperature"
[label]
directions = "d"
[procedure]
"#,
        blank = d(blank_mg, 3),
        factor = d(factor_tenths, 1),
        silica = silica_mg,
        pct = d(pct_tenths, 1),
    )
}

fn order(
    strength_mg: i64,
    quantity: u32,
    extra: u32,
    basis: Basis,
    assay: Option<Decimal>,
) -> Order {
    Order {
        strengths: vec![StrengthSpec {
            active: None,
            amount: Quantity {
                value: Decimal::from(strength_mg),
                unit: Unit::Milligram,
            },
        }],
        quantity,
        preparation: Preparation::Extra(extra),
        bases: vec![troche::order::BasisSpec {
            active: None,
            basis,
        }],
        assays: assay
            .map(|p| AssaySpec {
                certificate: None,
                trituration: None,
                active: None,
                percent: p,
            })
            .into_iter()
            .collect(),
        ..Order::default()
    }
}

fn exact_of(c: &calc::Calculation, name: &str) -> Decimal {
    c.ingredients
        .iter()
        .find(|i| i.name == name)
        .expect("ingredient")
        .exact
}

prop_compose! {
    fn any_formula()(blank in 500i64..3000, density in any::<bool>(), f in 5i64..30, silica in 0i64..40, pct in 1i64..30) -> Formula {
        formula::parse(&formula_text(blank, density, f, silica.max(1), pct), "prop").expect("generated formula parses")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// base + Σ displaced = blank weight × units, exactly.
    #[test]
    fn base_plus_displaced_is_blank_total(f in any_formula(), s in 1i64..200, q in 1u32..500, e in 0u32..5, moiety in any::<bool>()) {
        let basis = if moiety { Basis::Moiety } else { Basis::Salt };
        let Ok(c) = calc::calculate(&f, &order(s, q, e, basis, None), &Balance::default()) else {
            return Ok(()); // a load too high for sound units is refused, not computed
        };
        let displaced: Decimal = c.ingredients.iter().filter_map(|i| i.displaced).sum();
        prop_assert_eq!(c.base_total + displaced, f.mold.blank_weight * Decimal::from(q + e));
        prop_assert_eq!(c.base_total + c.added_mass, c.batch_weight);
        // The batch weight is the sum of what enters the melt, row by row.
        let masses: Decimal = c.ingredients.iter().map(|i| i.mass).sum();
        prop_assert_eq!(masses, c.batch_weight);
    }

    /// Every weighing on the worksheet is at least the minimum weighable quantity: an amount
    /// below it is replaced by an aliquot whose drug, diluent and portion weighings all reach it.
    #[test]
    fn every_weighing_reaches_the_mwq(f in any_formula(), s in 1i64..200, q in 1u32..60, e in 0u32..3, sens in 1i64..20) {
        let balance = Balance { sensitivity: d(sens, 3), ..Balance::default() };
        let Ok(c) = calc::calculate(&f, &order(s, q, e, Basis::Salt, None), &balance) else {
            return Ok(());
        };
        for i in c.ingredients.iter().filter(|i| i.role != calc::Role::Base) {
            if i.dimension == quantity::Dimension::Mass {
                prop_assert!(i.amount >= c.mwq, "{} weighs {} < MWQ {}", i.name, i.amount, c.mwq);
            }
            if let Some(a) = &i.aliquot {
                prop_assert!(a.diluent >= c.mwq && a.portion >= c.mwq && a.weigh >= c.mwq);
                prop_assert_eq!(a.weigh + a.diluent, a.total);
                prop_assert_eq!(a.portion + a.remainder, a.total);
            }
        }
    }

    /// What the units dispensed hold is the labelled strength × the factors × the units, to
    /// within the rounding of the weighing shown (half the readability, shared by the units).
    #[test]
    fn dispensed_units_hold_the_prescribed_dose(f in any_formula(), s in 1i64..200, q in 1u32..200, e in 0u32..4, overage in proptest::option::of(1i64..15), moiety in any::<bool>()) {
        let basis = if moiety { Basis::Moiety } else { Basis::Salt };
        let mut o = order(s, q, e, basis, None);
        if let Some(p) = overage {
            o.preparation = Preparation::Overage(Decimal::from(p));
        }
        let Ok(c) = calc::calculate(&f, &o, &Balance::default()) else { return Ok(()); };
        let drug = &c.ingredients[0];
        let per_unit = drug.active.as_ref().unwrap().per_unit_weighed;
        let r = &c.reconciliation[0];
        let expected = per_unit * Decimal::from(q);
        let half = c.balance.readability / Decimal::TWO;
        // into the batch = exact ± half a step; the dispensed units hold q/n of it.
        prop_assert!((r.into_batch - drug.exact).abs() <= half, "{} vs {}", r.into_batch, drug.exact);
        prop_assert!((r.dispensed - expected).abs() <= half, "{} vs {}", r.dispensed, expected);
        prop_assert_eq!(r.weighed, r.into_batch + r.aliquot_waste);
        prop_assert!((r.into_batch - r.in_units - r.beaker_waste).abs() <= d(1, 18));
        // molds count units poured; an overage fills no cavity
        prop_assert_eq!(c.molds, u64::from((q + if overage.is_some() { 0 } else { e }).div_ceil(30)));
    }

    /// Doubling or tripling the units multiplies every amount by the same factor (exactly when no
    /// quotient is involved; within the 1e-18 g quotient precision otherwise).
    #[test]
    fn amounts_scale_linearly(f in any_formula(), s in 1i64..200, q in 1u32..200, k in 2u32..5, moiety in any::<bool>()) {
        let basis = if moiety { Basis::Moiety } else { Basis::Salt };
        let (Ok(a), Ok(b)) = (
            calc::calculate(&f, &order(s, q, 0, basis, None), &Balance::default()),
            calc::calculate(&f, &order(s, q * k, 0, basis, None), &Balance::default()),
        ) else { return Ok(()); };
        let kd = Decimal::from(k);
        for name in ["Silica", "Sweetener", "Flavor"] {
            prop_assert_eq!(exact_of(&a, name) * kd, exact_of(&b, name));
        }
        let drug_a = exact_of(&a, "Drug hydrochloride") * kd;
        let drug_b = exact_of(&b, "Drug hydrochloride");
        if moiety {
            prop_assert!((drug_a - drug_b).abs() <= kd * d(1, 18), "{} vs {}", drug_a, drug_b);
        } else {
            prop_assert_eq!(drug_a, drug_b);
        }
    }

    /// strength × salt factor × potency factor: the moiety strength with an assay equals the salt
    /// strength it corresponds to, corrected by the assay, whichever order they are applied in.
    #[test]
    fn salt_and_potency_factors_compose(f in any_formula(), s in 1i64..150, q in 1u32..100, assay_tenths in 800i64..1100) {
        let assay = d(assay_tenths, 1);
        let Ok(both) = calc::calculate(&f, &order(s, q, 0, Basis::Moiety, Some(assay)), &Balance::default()) else { return Ok(()); };
        // An assay above 100 % lowers the amount: the uncorrected batch may be refused for load.
        let Ok(salt_only) = calc::calculate(&f, &order(s, q, 0, Basis::Moiety, None), &Balance::default()) else { return Ok(()); };
        let expected = exact_of(&salt_only, "Drug hydrochloride") * Decimal::ONE_HUNDRED / assay;
        let got = exact_of(&both, "Drug hydrochloride");
        prop_assert!((expected - got).abs() <= d(1, 16), "{} vs {}", expected, got);
        // and the per-unit weighed amount is strength × mw/moiety_mw × 100/assay
        let detail = both.ingredients[0].active.as_ref().unwrap();
        let per_unit = Decimal::from(s) / Decimal::ONE_THOUSAND * d(27419, 2) / d(23773, 2) * Decimal::ONE_HUNDRED / assay;
        prop_assert!((detail.per_unit_weighed - per_unit).abs() <= d(1, 16));
    }

    /// Rounding to the readability is within half a step and never banker's rounding.
    #[test]
    fn rounding_is_within_half_a_step(m in 0i64..10_000_000_000, scale in 0u32..10) {
        let x = d(m, scale);
        let step = d(1, 3);
        let r = quantity::round_to(x, step).unwrap();
        prop_assert!((r - x).abs() <= d(5, 4));
        prop_assert_eq!(r.scale(), 3);
    }

    #[test]
    fn quantity_parser_never_panics(s in "\\PC{0,40}") {
        let _ = quantity::parse_quantity(&s);
        let _ = quantity::parse_density(&s);
        let _ = troche::order::parse_strength(&s);
        let _ = troche::order::parse_count(&s, "q", false);
    }

    #[test]
    fn quantity_parser_never_panics_on_numberish(s in "[-+ 0-9.,eE_]{0,30}(mg|g|mcg|µg|mL|L|kg|MG|x)?") {
        let _ = quantity::parse_quantity(&s);
    }

    #[test]
    fn formula_loader_never_panics_on_garbage(s in "\\PC{0,400}") {
        let _ = formula::parse(&s, "garbage");
    }

    /// Mutating a valid formula line by line (deleting, duplicating or replacing a value) gives
    /// an error or a formula, never a panic.
    #[test]
    fn formula_loader_never_panics_on_mutations(line in 0usize..40, op in 0u8..4, junk in "[-\"a-z0-9. =\\[\\]]{0,12}") {
        let text = formula_text(892, false, 7, 10, 10);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let i = line % lines.len();
        match op {
            0 => { lines.remove(i); }
            1 => { let l = lines[i].clone(); lines.insert(i, l); }
            2 => { if let Some((k, _)) = lines[i].clone().split_once('=') { lines[i] = format!("{k}= {junk}"); } }
            _ => { lines.insert(i, junk); }
        }
        let mutated = lines.join("\n");
        if let Ok(f) = formula::parse(&mutated, "mutated") {
            let _ = calc::calculate(&f, &order(50, 30, 2, Basis::Moiety, None), &Balance::default());
        }
    }
}
