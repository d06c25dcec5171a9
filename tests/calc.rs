//! End-to-end tests of `troche calc` against published worked examples (docs/method.md) and the
//! refusals a pharmacist relies on.

use crate::common::*;

#[test]
fn suppository_density_factor_example_12_units() {
    let f = fixture("supp-density-1-5.toml");
    let v = calc(&f, "250 mg", "12").json();
    assert_eq!(ingredient(&v, "Drug")["amount"], "3.000");
    assert_eq!(ingredient(&v, "Drug")["displaced"], "2");
    assert_eq!(base(&v)["amount"], "22.000");
    assert_eq!(base(&v)["exact"], "22");
    assert_eq!(v["molds"], 1);
}

#[test]
fn suppository_density_factor_example_14_units() {
    let f = fixture("supp-density-1-5.toml");
    let v = calc(&f, "250 mg", "12").args(["--extra", "2"]).json();
    assert_eq!(v["units_prepared"], 14);
    assert_eq!(ingredient(&v, "Drug")["amount"], "3.500");
    assert_eq!(base(&v)["amount"], "25.667");
    assert_eq!(v["molds"], 2);
}

#[test]
fn hydrocortisone_one_to_one_example() {
    let f = fixture("hydrocortisone-1-1.toml");
    let v = calc(&f, "100 mg", "12").json();
    assert_eq!(ingredient(&v, "Hydrocortisone")["amount"], "1.200");
    assert_eq!(ingredient(&v, "Silica gel")["amount"], "0.120");
    assert_eq!(base(&v)["amount"], "20.520");
    assert_eq!(v["batch_weight"], "21.84");
    assert_eq!(v["unit_weight"], "1.82");
}

#[test]
fn silica_below_mwq_gets_an_aliquot_plan() {
    let f = fixture("hydrocortisone-1-1.toml");
    let v = calc(&f, "100 mg", "12").json();
    // 0.120 g is exactly the MWQ (6 mg / 5 %): not below it.
    assert!(ingredient(&v, "Silica gel").get("aliquot").is_none());
    let v = calc(&f, "100 mg", "6").json();
    let silica = ingredient(&v, "Silica gel");
    let a = &silica["aliquot"];
    // 60 mg: weigh 120 mg, mix with 130 mg lactose to 250 mg, take 125 mg (60 mg silica).
    assert_eq!(a["multiple"], 2);
    assert_eq!(a["weigh"], "0.12");
    assert_eq!(a["diluent"], "0.13");
    assert_eq!(a["portion"], "0.125");
    // The amount to weigh is what is weighed; the batch gets what the portion holds.
    assert_eq!(silica["amount"], "0.120");
    assert_eq!(silica["mass"], "0.06");
    let lactose = ingredient(&v, "Lactose monohydrate, NF");
    assert_eq!(lactose["role"], "diluent");
    assert_eq!(lactose["amount"], "0.130");
    assert_eq!(lactose["mass"], "0.065");
    assert_eq!(lactose["displaced"], "0.065");
    // 10.92 − (0.6 + 0.06 + 0.065) = 10.195; batch 10.195 + 0.6 + 0.06 + 0.065 = 10.92
    assert_eq!(base(&v)["exact"], "10.195");
    assert_eq!(v["batch_weight"], "10.92");
    assert!(
        v["warnings"]
            .to_string()
            .contains("minimum weighable quantity")
    );
}

#[test]
fn ketamine_salt_factor_moiety_basis() {
    let v = calc("ketamine-hcl-troche", "50 mg", "30")
        .args(["--extra", "2", "--basis", "moiety"])
        .json();
    let k = &v["ingredients"][0];
    assert_eq!(k["role"], "active");
    // 50 mg × 32 × 274.19 / 237.73 = 1845.387624... mg
    assert_eq!(k["amount"], "1.845");
    assert!(k["exact"].as_str().unwrap().starts_with("1.845387624"));
    assert_eq!(k["active"]["salt_factor"], "274.19/237.73");
    assert_eq!(v["units_prepared"], 32);
    assert_eq!(v["molds"], 2);
}

#[test]
fn ketamine_default_json_shape() {
    let v = calc("ketamine-hcl-troche", "50 mg", "30")
        .args(["--extra", "2"])
        .json();
    assert_eq!(v["formula"], "ketamine-hcl-troche");
    assert_eq!(v["units_dispensed"], 30);
    let k = &v["ingredients"][0];
    assert_eq!(k["amount"], "1.600");
    assert_eq!(k["unit"], "g");
    assert_eq!(k["exact"], "1.6");
    assert_eq!(k["displaced"], "1.12");
    for key in ["batch_weight", "unit_weight", "warnings"] {
        assert!(v.get(key).is_some(), "{key}");
    }
}

#[test]
fn overage_scales_every_ingredient() {
    let f = fixture("hydrocortisone-1-1.toml");
    let v = calc(&f, "100 mg", "12").args(["--overage", "10"]).json();
    assert_eq!(v["unit_equivalents"], "13.2");
    assert_eq!(v["units_prepared"], 12);
    assert_eq!(ingredient(&v, "Hydrocortisone")["exact"], "1.32");
    assert_eq!(base(&v)["exact"], "22.572");
    // An overage fills no cavity: 12 units poured into one 12-cavity mold.
    assert_eq!(v["molds"], 1);
}

#[test]
fn potency_and_salt_compose() {
    let v = calc("ketamine-hcl-troche", "50 mg", "30")
        .args(["--assay", "98"])
        .json();
    // 50 mg × 30 × 100 / 98 = 1530.612244... mg
    assert!(
        v["ingredients"][0]["exact"]
            .as_str()
            .unwrap()
            .starts_with("1.530612244897959")
    );
    assert_eq!(v["ingredients"][0]["amount"], "1.531");
}

#[test]
fn two_actives_need_named_strengths() {
    let f = fixture("two-actives.toml");
    let err = calc(&f, "50 mg", "24").refused();
    assert!(err.contains("name each one"), "{err}");
    let v = calc(&f, "Alpha hydrochloride=50 mg", "24")
        .args(["--strength", "beta=20 mg", "--basis", "salt"])
        .json();
    assert_eq!(ingredient(&v, "Alpha hydrochloride")["exact"], "1.2");
    // Beta: 0.48 g ÷ 2 (density factor) = 0.24 g displaced; sweetener 2 % × 2.5 × 24 = 1.2 g.
    assert_eq!(ingredient(&v, "Beta")["displaced"], "0.24");
    assert_eq!(ingredient(&v, "Sweetener")["exact"], "1.2");
    // 60 − (0.84 + 0.24 + 1.2) = 57.72
    assert_eq!(base(&v)["exact"], "57.72");
    let err = calc(&f, "Alpha hydrochloride=50 mg", "24")
        .args(["--strength", "Gamma=1 mg"])
        .refused();
    assert!(err.contains("not an active"), "{err}");
    let err = calc(&f, "Alpha hydrochloride=50 mg", "24").refused();
    assert!(err.contains("no strength given for Beta"), "{err}");
}

#[test]
fn strength_above_maximum_is_refused() {
    let err = calc("ketamine-hcl-troche", "500 mg", "30").refused();
    assert!(err.contains("above the maximum of 200 mg"), "{err}");
    assert!(err.contains("ten-fold"), "{err}");
    // 180 mg of moiety = 207.6 mg of the salt: also above the salt maximum.
    let err = calc("ketamine-hcl-troche", "180 mg", "30")
        .args(["--basis", "moiety"])
        .refused();
    assert!(err.contains("above the maximum"), "{err}");
}

#[test]
fn powder_load_too_high_is_refused() {
    let f = fixture("supp-density-1-5.toml");
    // 1.2 g/unit ÷ 1.5 = 0.8 g displaced of 2 g: base 1.2 g = 60 % < two thirds.
    let err = calc(&f, "1.2 g", "12").refused();
    assert!(err.contains("two thirds"), "{err}");
    let err = calc(&f, "4 g", "12").refused();
    assert!(err.contains("displace more than"), "{err}");
}

#[test]
fn bad_arguments_name_the_flag() {
    for (strength, quantity, more, flag) in [
        ("50 mg", "30.5", &[][..], "--quantity"),
        ("50 mg", "0", &[], "--quantity"),
        ("50 mg", "-3", &[], "--quantity"),
        ("fifty", "30", &[], "--strength"),
        ("50 mL", "30", &[], "--strength"),
        ("5 mg/mL", "30", &[], "--strength"),
        ("1,5 mg", "30", &[], "--strength"),
        ("50 mg", "30", &["--assay", "0"], "--assay"),
        ("50 mg", "30", &["--assay", "111"], "--assay"),
        ("50 mg", "30", &["--basis", "ester"], "--basis"),
        ("50 mg", "99999999999", &[], "--quantity"),
    ] {
        let err = calc("ketamine-hcl-troche", strength, quantity)
            .args(more)
            .refused();
        assert!(err.contains(flag), "{strength} {quantity} {more:?}: {err}");
    }
    let err = fails(&["calc", "ketamine-hcl-troche", "--quantity", "30"]);
    assert!(err.contains("--strength"), "{err}");
}

#[test]
fn unknown_formula_suggests_near_ids() {
    let err = calc("ketamine-hcl-troch", "50 mg", "30").refused();
    assert!(err.contains("did you mean ketamine-hcl-troche"), "{err}");
}

#[test]
fn huge_values_are_an_error_not_a_panic() {
    let f = fixture("supp-density-1-5.toml");
    let err = calc(&f, "999999999 kg", "1000000").refused();
    assert!(err.contains("error"), "{err}");
}

#[test]
fn factor_from_trial_units() {
    let out = Test::new()
        .args([
            "factor",
            "--blank",
            "2.000 g",
            "--medicated",
            "2.100 g",
            "--per-unit",
            "250 mg",
            "--format",
            "json",
        ])
        .run();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        v["density_factor"]
            .as_str()
            .unwrap()
            .starts_with("1.666666666")
    );
    assert_eq!(v["replacement_factor"], "0.6");
}

#[test]
fn table_shows_the_work() {
    let text = calc("ketamine-hcl-troche", "50 mg", "30")
        .args(["--extra", "2", "--basis", "moiety"])
        .run()
        .stdout;
    assert!(
        text.contains("50 mg Ketamine × 32 units × 274.19/237.73"),
        "{text}"
    );
    assert!(text.contains("1.845 g"), "{text}");
    assert!(
        text.contains("ceil(32 units poured / 30 cavities) = 2"),
        "{text}"
    );
    // 0.975 × 32 − (1.291771… + 0.224 + 0.672 + 0.32 + 0.36096 + 1.056) = 27.275269…
    assert!(text.contains("27.275 g"), "{text}");
}

#[test]
fn library_lists_and_checks() {
    Test::new()
        .arg("formulas")
        .stdout_contains("ketamine-hcl-troche")
        .run();
    let dir = repo("formulas");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    Test::new().arg("check").args(&files).run();
}

#[test]
fn check_reports_every_problem_with_its_line() {
    let f = fixture("many-problems.toml");
    let err = fails(&["check", &f]);
    for needle in [
        "many-problems.toml:2: `id`",
        "many-problems.toml:6: `version`",
        "many-problems.toml:11: `mold.blank_weight`",
        "many-problems.toml:16: `active[1].mw`",
        "many-problems.toml:18: `active[1]`: both replacement_factor and density_factor",
        "many-problems.toml:22: `bud.days`",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// No silent wrong dose: each of these was reproduced on an earlier build, which computed a
// wrongly dosed batch without a word.

/// A mistyped assay (9.85 for 98.5, 50, 0.5) multiplied the dose silently.
#[test]
fn implausible_assay_is_refused_with_what_was_likely_meant() {
    for (assay, likely) in [
        ("9.85", Some("98.5 %")),
        ("50", None),
        ("0.5", Some("50 %")),
    ] {
        let err = calc("ketamine-hcl-troche", "25 mg", "30")
            .args(["--assay", assay])
            .refused();
        assert!(err.contains("--assay"), "{err}");
        assert!(err.contains("outside the 90-110 %"), "{err}");
        assert!(err.contains("assay_min or assay_max"), "{err}");
        if let Some(l) = likely {
            assert!(err.contains(&format!("was {l} meant?")), "{err}");
        }
    }
    let err = calc("bi-est-troche", "Estriol=2 mg", "30")
        .args([
            "--strength",
            "Estradiol=0.5 mg",
            "--assay",
            "Estradiol=9.95",
        ])
        .refused();
    assert!(err.contains("Estradiol hemihydrate"), "{err}");
    // A plausible assay is applied and said out loud.
    let v = calc("ketamine-hcl-troche", "25 mg", "30")
        .args(["--assay", "98.5"])
        .json();
    assert!(
        v["warnings"].to_string().contains("the assay of 98.5 %"),
        "{v}"
    );
}

/// The limit applies to what is weighed per unit, after the salt and potency factors.
#[test]
fn maximum_strength_is_checked_on_what_is_weighed() {
    let err = calc("ketamine-hcl-troche", "198 mg", "30")
        .args(["--assay", "95"])
        .refused();
    assert!(err.starts_with("error: --assay:"), "{err}");
    assert!(err.contains("because the assay of 95 % raises"), "{err}");
    assert!(err.contains("above the maximum of 200 mg"), "{err}");
}

/// Sildenafil is prescribed as the base: 100 mg of sildenafil is 140.5 mg of the citrate, and
/// the formula says so instead of the program assuming the salt.
#[test]
fn basis_comes_from_the_order_or_the_formula_never_a_default() {
    let v = calc("sildenafil-citrate-troche", "100 mg", "30").json();
    let active = &v["ingredients"][0]["active"];
    assert_eq!(active["basis"], "moiety");
    assert_eq!(active["basis_source"], "formula");
    let per_unit: f64 = active["per_unit_weighed"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((per_unit - 0.1405).abs() < 0.0001, "{per_unit}");
    // A formula that does not say how its strengths are written refuses an order that does
    // not say either.
    let err = calc(
        &fixture("two-actives.toml"),
        "Alpha hydrochloride=50 mg",
        "24",
    )
    .args(["--strength", "Beta=20 mg"])
    .refused();
    assert!(err.starts_with("error: --basis:"), "{err}");
    assert!(err.contains("Say which: salt or moiety"), "{err}");
    // The order overrides the formula.
    let v = calc("sildenafil-citrate-troche", "100 mg", "30")
        .args(["--basis", "salt"])
        .json();
    assert_eq!(v["ingredients"][0]["active"]["basis_source"], "order");
}

/// The aliquot is inside the batch: the amount to weigh is the real weighing, the diluent is a
/// component that displaces base and counts in the weights, the rest is waste.
#[test]
fn aliquot_is_weighed_and_counted_in_the_batch() {
    let v = calc_unchecked("ketamine-hcl-troche", "2 mg", "30").json();
    let k = ingredient(&v, "Ketamine hydrochloride, USP");
    assert_eq!(k["amount"], "0.120");
    assert_eq!(k["mass"], "0.06");
    let lactose = ingredient(&v, "Lactose monohydrate, NF");
    assert_eq!(lactose["diluent_for"], "Ketamine hydrochloride, USP");
    assert_eq!(lactose["amount"], "0.130");
    let r = &v["reconciliation"][0];
    assert_eq!(r["weighed"], "0.12");
    assert_eq!(r["into_batch"], "0.06");
    assert_eq!(r["aliquot_waste"], "0.06");
    // Every row's mass adds up to the batch weight.
    let sum: f64 = v["ingredients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mass"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    let batch: f64 = v["batch_weight"].as_str().unwrap().parse().unwrap();
    assert!((sum - batch).abs() < 1e-9, "{sum} vs {batch}");
}

/// The diluent weighing itself used to fall below the MWQ ("mix with 58 mg").
#[test]
fn methylcobalamin_aliquot_diluent_is_weighable() {
    let v = calc("methylcobalamin-lozenge", "4 mg", "24").json();
    let a = &ingredient(&v, "Methylcobalamin")["aliquot"];
    assert_eq!(a["weigh"], "0.192");
    assert_eq!(a["diluent"], "0.158");
    assert_eq!(a["portion"], "0.175");
}

/// An overage makes up for melt left in the beaker: it fills no cavity, and what it leaves
/// behind is waste in the reconciliation.
#[test]
fn overage_fills_no_cavity_and_its_remainder_is_waste() {
    let v = calc("progesterone-troche", "100 mg", "60")
        .args(["--overage", "5"])
        .json();
    assert_eq!(v["molds"], 2);
    let v = calc("ketamine-hcl-troche", "100 mg", "30")
        .args(["--overage", "7"])
        .json();
    let r = &v["reconciliation"][0];
    // 100 mg × 32.1 = 3.21 g into the batch; 3.0 g in the 30 units; 0.21 g left behind.
    assert_eq!(r["into_batch"], "3.21");
    assert_eq!(r["in_units"], "3");
    assert_eq!(r["beaker_waste"], "0.21");
}

/// Library blank weights are plain-base blanks: at a negligible dose the Medisca-derived PEG
/// troche calls for the source's 26.77 g of PEG 1450 per 30 (within 1 %), not 24.29 g.
#[test]
fn derived_blank_weights_reproduce_their_source() {
    for f in troche::library::all().unwrap() {
        let Some(d) = &f.mold.derived else { continue };
        let displaced = d.displaced().unwrap();
        let base = f.mold.blank_weight * rust_decimal::Decimal::from(d.units) - displaced;
        let off = ((base - d.base) / d.base).abs();
        assert!(
            off <= rust_decimal::Decimal::new(1, 2),
            "{}: {base} g vs {} g",
            f.id,
            d.base
        );
    }
    let v = calc_unchecked("ketamine-hcl-troche", "0.001 mg", "30").json();
    let peg: f64 = base(&v)["exact"].as_str().unwrap().parse().unwrap();
    assert!((peg - 26.77).abs() / 26.77 <= 0.01, "{peg}");
}

/// Equivalents keep the strength's unit and precision: never "= 0 mg".
#[test]
fn moiety_equivalent_is_not_rounded_away() {
    let v = calc_unchecked("bi-est-troche", "Estriol=2 mg", "30")
        .args([
            "--strength",
            "Estradiol hemihydrate=25 mcg",
            "--basis",
            "Estradiol hemihydrate=salt",
        ])
        .json();
    let e = &ingredient(&v, "Estradiol hemihydrate, USP (micronized)")["active"]["equivalent"];
    assert!(
        e["per_unit"].as_str().unwrap().starts_with("0.0000241995"),
        "{e}"
    );
}

/// Regression: `troche calc` ignored the pharmacy's aliquot diluent that the worksheet used.
/// The settings are found where the README says: the user's configuration directory.
#[test]
fn calc_uses_the_pharmacy_diluent() {
    let t = Test::new().file(
        "xdg/troche/troche.toml",
        "[aliquot]\ndiluent = \"Microcrystalline cellulose, NF\"\n",
    );
    let xdg = t.at("xdg");
    let t = t.file(
        "ketamine-hcl-troche.toml",
        &unchecked_formula("ketamine-hcl-troche"),
    );
    let formula = t.at("ketamine-hcl-troche.toml");
    let v = t
        .env("XDG_CONFIG_HOME", &xdg)
        .arg("calc")
        .args(order(formula.as_str(), "2 mg", "30", &[]))
        .json();
    assert_eq!(
        ingredient(&v, "Microcrystalline cellulose, NF")["role"],
        "diluent"
    );
}

/// The factor table, exactly as a pharmacist reads it.
#[test]
fn factor_table_shows_its_arithmetic() {
    Test::new()
        .args([
            "factor",
            "--blank",
            "2.000 g",
            "--medicated",
            "2.100 g",
            "--per-unit",
            "250 mg",
        ])
        .stdout(
            "A = 2 g, the average weight of a blank (plain base) unit (--blank)\n\
             B = 0.25 g, the ingredient in each medicated unit (--per-unit)\n\
             C = 2.1 g, the average weight of a medicated unit (--medicated)\n\
             base displaced per unit = A - C + B = 2 g - 2.1 g + 0.25 g = 0.15 g\n\
             density factor     = B / (A - C + B) = 0.25 / 0.15 = ≈1.666667\n\
             replacement factor = (A - C + B) / B = 0.15 / 0.25 = 0.6\n\
             (density factor: grams of ingredient that displace 1 g of base; replacement factor: \
             grams of base displaced by 1 g of ingredient)\n",
        )
        .run();
    Test::new()
        .args([
            "factor",
            "--blank",
            "2 g",
            "--medicated",
            "2.1",
            "--per-unit",
            "250 mg",
        ])
        .status(2)
        .stderr_contains("--medicated")
        .run();
}
