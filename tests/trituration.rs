//! The stock a batch draws on, as the formula weighs it (docs/stock.md): a certificate's
//! assay judged on the basis the formula's monograph states its range on, the form
//! received against the form the formula weighs, and stock triturations made as batches
//! and drawn on instead of an aliquot. SQLite always; PostgreSQL in the tests marked
//! `#[ignore]`.

use std::path::Path;

use crate::bench_record::{complete_record, strs};
use crate::common::{PH, RP, TK, fixture};
use crate::log::Log;

pub(crate) fn receive(log: &Log, name: &str, lot: &str, quantity: &str, extra: &[&str]) {
    let mut args = vec!["stock", "receive", name, "--lot", lot];
    if !extra.contains(&"--expiry") {
        args.extend(["--expiry", "2027-06-30"]);
    }
    args.extend([
        "--manufacturer",
        "PCCA",
        "--quantity",
        quantity,
        "--by",
        TK.0,
    ]);
    args.extend_from_slice(extra);
    log.signed(&args, &[TK.1]);
    log.signed(&["stock", "release", lot, "--by", RP.0], &[RP.1]);
}

/// `make FORMULA` of 24 units on 2026-11-30 into `out`, signed by TK.
pub(crate) fn make_args<'a>(
    formula: &'a str,
    out: &'a str,
    cfg: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let quantity = if extra.contains(&"--quantity") {
        &[][..]
    } else {
        &["--quantity", "24"][..]
    };
    let mut args = vec!["make", formula];
    args.extend_from_slice(quantity);
    args.extend([
        "--date",
        "2026-11-30",
        "--backdate",
        "--config",
        cfg,
        "--out",
        out,
        "--by",
        TK.0,
    ]);
    args.extend_from_slice(extra);
    args
}

/// Methylcobalamin's accepted range is on the dried basis, as its USP monograph states it: a
/// certificate's 98.1 % dried with 12 % loss on drying is accepted (86.328 % as is corrects
/// the amount), where an as-is range would refuse it; an as-is figure with no loss on drying
/// cannot be judged on the dried basis and is refused.
fn assay_on_the_monographs_basis(log: &Log, tmp: &Path) {
    log.people();
    let cfg = fixture("troche.toml");
    let out = tmp.join("out").display().to_string();
    // An as-is assay typed on the order: no loss on drying to judge it with.
    let said = log.refused(
        &make_args(
            "methylcobalamin-lozenge",
            &out,
            &cfg,
            &["--strength", "4 mg", "--assay", "88"],
        ),
        &[TK.1],
        2,
        "on the dried basis",
    );
    assert!(
        said.contains("without the loss on drying") && said.contains("98.1 % dried, 12 % water"),
        "{said}"
    );
    // The certificate's figures, from stock.
    receive(
        log,
        "Methylcobalamin",
        "MC-4",
        "5 g",
        &[
            "--assay",
            "98.1",
            "--assay-basis",
            "dried",
            "--water",
            "12",
            "--form",
            "hydrate",
        ],
    );
    let o = log.run_in(
        &make_args(
            "methylcobalamin-lozenge",
            &out,
            &cfg,
            &["--strength", "4 mg"],
        ),
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record = std::fs::read_to_string(tmp.join("out").join("261130-001.json")).unwrap();
    assert!(
        record.contains(
            "assay judged on the dried basis, as methylcobalamin-lozenge states its range: \
             98.1 % on the dried basis, as the certificate states it, within 90-110 %; the \
             potency corrected for is the as-is figure, 98.1 % (dried basis) × (100 − 12 % \
             water) / 100 = 86.328 % as is"
        ),
        "{record}"
    );
    // 4 mg × 24 × 100 / 86.328 = 111.203781 mg weighed (in an aliquot of 222 mg).
    assert!(record.contains("100/86.328"), "{record}");
    // The same figures given on the order work out the same.
    let o = log.run_in(
        &make_args(
            "methylcobalamin-lozenge",
            &out,
            &cfg,
            &[
                "--strength",
                "4 mg",
                "--component",
                "Methylcobalamin|MC-4|2027-06-30",
                "--assay",
                "98.1 % dried, 12 % water",
            ],
        ),
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record = std::fs::read_to_string(tmp.join("out").join("261130-002.json")).unwrap();
    assert!(record.contains("86.328 % as is"), "{record}");
    // A formula whose range is as is judges the as-is 86.328 % and refuses it.
    let said = log.refused(
        &[
            "calc",
            "ketamine-hcl-troche",
            "--strength",
            "50 mg",
            "--quantity",
            "30",
            "--basis",
            "salt",
            "--assay",
            "98.1 % dried, 12 % water",
        ],
        &[],
        2,
        "an assay of 86.328 % for Ketamine hydrochloride, USP (98.1 % (dried basis)",
    );
    assert!(said.contains("outside the 90-110 %"), "{said}");
}

crate::log::on_both_logs!(assay_on_the_monographs_basis, "trit_assay");

/// The Bi-Est troche with its estradiol's form stated, and `extra` lines after it.
/// Each variant has a version of its own (the log keeps one text per id and version), approved
/// by a pharmacist.
fn bi_est_weighing_the_hemihydrate(
    log: &Log,
    dir: &Path,
    file: &str,
    version: u32,
    extra: &str,
) -> String {
    let text = std::fs::read_to_string("formulas/bi-est-troche.toml").unwrap();
    let text = text.replacen("\nversion = 2\n", &format!("\nversion = {version}\n"), 1);
    let text = text.replacen(
        "moiety_mw = \"272.38\"\n",
        &format!("moiety_mw = \"272.38\"\nform = \"hemihydrate\"\n{extra}"),
        1,
    );
    assert!(text.contains("form = \"hemihydrate\""));
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    log.signed(&["formula", "approve", &path, "--by", RP.0], &[RP.1]);
    path
}

/// A formula that states the form it weighs (`form = "hemihydrate"`) refuses a lot received
/// in another form, naming the lot, its form, what the formula weighs and how to allow it;
/// once the formula allows that form with its molecular weight, the amount is converted.
fn the_form_received_against_the_form_weighed(log: &Log, tmp: &Path) {
    log.people();
    let cfg = fixture("troche.toml");
    let out = tmp.join("out").display().to_string();
    let estradiol = "Estradiol hemihydrate, USP (micronized)";
    receive(
        log,
        estradiol,
        "E-1",
        "5 g",
        &["--assay", "99.5", "--form", "anhydrous"],
    );
    let strict = bi_est_weighing_the_hemihydrate(log, tmp, "strict.toml", 90, "");
    let strengths = [
        "--strength",
        "Estriol=1.6 mg",
        "--strength",
        "Estradiol=0.4 mg",
    ];
    let said = log.refused(
        &make_args(&strict, &out, &cfg, &strengths),
        &[TK.1],
        2,
        "stock lot E-1 was received anhydrous",
    );
    assert!(
        said.contains(
            "weighs Estradiol hemihydrate, USP (micronized) as the hemihydrate (MW 281.39)"
        ) && said.contains("accepts_forms = [{ form = \"anhydrous\", mw = \"...\" }]"),
        "{said}"
    );
    // A lot given by hand is judged the same way.
    let mut given = strengths.to_vec();
    given.extend(["--component", "Estradiol hemihydrate|E-1|2027-06-30"]);
    log.refused(
        &make_args(&strict, &out, &cfg, &given),
        &[TK.1],
        2,
        "stock lot E-1 was received anhydrous",
    );
    // Allowed with its molecular weight: 0.4 mg estradiol × 24 × 272.38/272.38 (the lot's form
    // over the moiety's) × 100/99.5 = 9.648241 mg, where the hemihydrate would be 9.966 mg.
    let lenient = bi_est_weighing_the_hemihydrate(
        log,
        tmp,
        "lenient.toml",
        91,
        "accepts_forms = [{ form = \"anhydrous\", mw = \"272.38\" }]\n",
    );
    let o = log.run_in(&make_args(&lenient, &out, &cfg, &strengths), &[TK.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record = std::fs::read_to_string(tmp.join("out").join("261130-001.json")).unwrap();
    assert!(
        record.contains(
            "weighed from a lot of the anhydrous form, which bi-est-troche allows in place of \
             the hemihydrate: × 272.38/272.38"
        ),
        "{record}"
    );
    // A lot of the form weighed is drawn on as it is.
    receive(
        log,
        estradiol,
        "E-2",
        "5 g",
        &[
            "--assay",
            "99.5",
            "--form",
            "hemihydrate",
            "--expiry",
            "2027-01-31",
        ],
    );
    let o = log.run_in(&make_args(&strict, &out, &cfg, &strengths), &[TK.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record = std::fs::read_to_string(tmp.join("out").join("261130-002.json")).unwrap();
    assert!(
        record.contains("E-2") && !record.contains("weighed from a lot"),
        "{record}"
    );
}

crate::log::on_both_logs!(the_form_received_against_the_form_weighed, "trit_form");

const ESTRADIOL: &str = "Estradiol hemihydrate, USP (micronized)";

/// The record JSON of batch `lot` made into `out`.
fn record_of(out: &Path, lot: &str) -> String {
    std::fs::read_to_string(out.join(format!("{lot}.json"))).unwrap()
}

/// A trituration is made like a batch (its own lot, BUD and record); its release enters it
/// in stock under that lot, its potency the concentration worked out from the weights
/// recorded; a later batch weighs it in place of the drug where that avoids an aliquot, and
/// the drug itself otherwise (first expiry, first out).
fn a_trituration_made_released_and_weighed(log: &Log, tmp: &Path) {
    log.people();
    let cfg = fixture("troche.toml");
    let dir = tmp.join("out");
    let out = dir.display().to_string();
    // The certificate on the anhydrous basis, as the USP monograph states it, with 3.3 % water:
    // 99.5 × 96.7 / 100 = 96.2165 % as is.
    receive(
        log,
        ESTRADIOL,
        "E-1",
        "5 g",
        &[
            "--assay",
            "99.5",
            "--assay-basis",
            "anhydrous",
            "--water",
            "3.3",
            "--form",
            "hemihydrate",
        ],
    );
    // 20 g of 1:10: 100 mg × 20 × 100/96.2165 = 2.079 g of estradiol, 17.921 g of lactose.
    let o = log.run_in(
        &make_args(
            "estradiol-trituration",
            &out,
            &cfg,
            &["--strength", "100 mg", "--quantity", "20"],
        ),
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let made = record_of(&dir, "261130-001");
    assert!(made.contains("E-1") && made.contains("2.079"), "{made}");
    assert!(
        made.contains("assay judged on the anhydrous basis, as estradiol-trituration states its range: 99.5 % on the anhydrous basis"),
        "{made}"
    );
    // Recorded as weighed at the bench: 2.080 g of estradiol, 17.920 g of lactose.
    let args: Vec<String> = complete_record(log, "261130-001", &["--by", TK.0])
        .into_iter()
        .map(|a| {
            if a.starts_with(&format!("{ESTRADIOL}=")) {
                format!("{ESTRADIOL}=2.080 g")
            } else if a.starts_with("Lactose monohydrate, NF=") {
                "Lactose monohydrate, NF=17.920 g".to_string()
            } else {
                a
            }
        })
        .collect();
    log.signed(&strs(&args), &[TK.1]);
    // Not in stock before its release.
    assert!(
        !log.ok(&["stock", "--all"]).contains("261130-001"),
        "a trituration entered stock before its release"
    );
    // Released by a pharmacist: 2.080 g × 96.2165 % / 20 g = 10.006516 %, kept to 4 places.
    let o = log.run_in(&["verify", "261130-001", "--by", RP.0], &[RP.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains(
            "stock trituration 261130-001: 20 g of Estradiol hemihydrate, USP (micronized) at \
             10.0065 % entered in stock, released"
        ) && said.contains("2.08 g of Estradiol hemihydrate, USP (micronized) (assay 96.2165 % as is) in 20 g of trituration = 10.0065 %"),
        "{said}"
    );
    let lots = log.json(&["stock", "--all"]);
    let t = lots
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lot"] == "261130-001")
        .unwrap();
    assert_eq!(
        (
            t["potency"].as_str(),
            t["status"].as_str(),
            t["on_hand"].as_str()
        ),
        (Some("10.0065"), Some("released"), Some("20"))
    );
    assert_eq!(t["manufacturer"], "compounded in house", "{t}");
    assert_eq!(t["expiry"], "2027-05-29", "{t}");
    // Bi-Est 2.5 mg (estriol 2 mg, estradiol 0.5 mg) × 24: the estradiol, 12.396944 mg of the
    // hemihydrate, is below the 120 mg minimum weighable quantity (an aliquot), and
    // 123.889 mg of the trituration is above it: the trituration is weighed.
    let bi_est = [
        "--strength",
        "Estriol=2 mg",
        "--strength",
        "Estradiol=0.5 mg",
    ];
    let o = log.run_in(&make_args("bi-est-troche", &out, &cfg, &bi_est), &[TK.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let batch = record_of(&dir, "261130-002");
    assert!(
        batch.contains("of stock trituration 261130-001 at 10.01 %"),
        "{batch}"
    );
    assert!(
        batch.contains(
            "Estradiol hemihydrate ≈12.396945 mg = ≈123.888927 mg of stock trituration \
             261130-001 at 10.01 %"
        ),
        "{batch}"
    );
    // Half as many: 61.9 mg of trituration would need an aliquot too, so the drug's own lot
    // serves, first expiry first out.
    let o = log.run_in(
        &make_args(
            "bi-est-troche",
            &out,
            &cfg,
            &[&bi_est[..], &["--quantity", "12"]].concat(),
        ),
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let batch = record_of(&dir, "261130-003");
    assert!(
        !batch.contains("stock trituration") && batch.contains("E-1"),
        "{batch}"
    );
    // A trituration is not made from another.
    let said = log.refused(
        &make_args(
            "estradiol-trituration",
            &out,
            &cfg,
            &[
                "--strength",
                "100 mg",
                "--quantity",
                "20",
                "--component",
                "Estradiol hemihydrate|261130-001|2027-05-29",
            ],
        ),
        &[TK.1],
        2,
        "is a trituration",
    );
    assert!(said.contains("from the drug itself"), "{said}");
    // Recalling the drug's lot reaches through the trituration: its batch, the batch that
    // weighed it and the one that weighed the drug are quarantined, and the trituration's
    // stock lot is recalled with it.
    let listed = log.signed(
        &[
            "stock",
            "recall",
            "E-1",
            "--reason",
            "supplier recall",
            "--by",
            RP.0,
            "--format",
            "csv",
        ],
        &[RP.1],
    );
    for lot in ["261130-001", "261130-002", "261130-003"] {
        assert!(listed.contains(lot), "{lot} not recalled: {listed}");
    }
    let lots = log.json(&["stock", "--all"]);
    let t = lots
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lot"] == "261130-001")
        .unwrap();
    assert_eq!(t["status"], "recalled", "{t}");
    let o = log.run_in(&make_args("bi-est-troche", &out, &cfg, &bi_est), &[TK.1]);
    assert!(!o.status.success(), "a recalled trituration was drawn on");
}

crate::log::on_both_logs!(a_trituration_made_released_and_weighed, "trit_stock");

/// A ketamine 1:10 trituration: a controlled drug in lactose, for stock.
pub(crate) const KETAMINE_TRITURATION: &str = r#"
id = "ketamine-trituration"
name = "Ketamine HCl 1:10 trituration in lactose monohydrate"
dosage_form = "trituration"
route = "for compounding (not for dispensing)"
version = 1
kind = "trituration"
description = "White, fine powder"

[mold]
name = "Trituration, by the gram (1 g per unit)"
cavities = 1
blank_weight = "1 g"

[base]
name = "Lactose monohydrate, NF"
replacement_factor = "1"

[[active]]
name = "Ketamine hydrochloride, USP"
mw = "274.19"
schedule = "CIII"
max_strength = "110 mg"

[bud]
category = "nonaqueous"
storage = "Store at 20-25 °C in a locked cabinet"
reference = "USP <795> (2023), Table 4: other nonaqueous dosage forms, 180 days"

[label]
directions = "Stock trituration for compounding only."

[procedure]
steps = ["Triturate by geometric dilution."]

[qc]
unit_weight_sample = 1
"#;

/// A controlled drug's trituration is made for stock without a prescription, and once
/// released is in the drug's perpetual inventory: the book lists its lot beside the drug's.
fn a_controlled_trituration_is_in_the_book(log: &Log, tmp: &Path) {
    log.people();
    let cfg = fixture("troche.toml");
    let dir = tmp.join("out");
    let out = dir.display().to_string();
    let formula = tmp.join("ketamine-trituration.toml");
    std::fs::write(&formula, KETAMINE_TRITURATION).unwrap();
    let formula = formula.display().to_string();
    log.signed(&["formula", "approve", &formula, "--by", RP.0], &[RP.1]);
    receive(
        log,
        "Ketamine hydrochloride, USP",
        "K-1",
        "25 g",
        &[
            "--assay",
            "100",
            "--supplier",
            "Medisca",
            "--invoice",
            "INV-1",
        ],
    );
    // 10 g: 1 g of ketamine hydrochloride, 9 g of lactose; no Rx, patient or DEA number.
    let o = log.run_in(
        &make_args(
            &formula,
            &out,
            &cfg,
            &["--strength", "100 mg", "--quantity", "10"],
        ),
        &[TK.1],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Weighed with a witness, as any controlled substance.
    let args = complete_record(log, "261130-001", &["--by", TK.0, "--witness", PH.0]);
    log.signed(&strs(&args), &[TK.1, PH.1]);
    let o = log.run_in(&["verify", "261130-001", "--by", RP.0], &[RP.1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("at 10 % entered in stock"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let book = log.ok(&[
        "cs",
        "report",
        "--drug",
        "ketamine",
        "--from",
        "2026-01-01",
        "--to",
        "2099-12-31",
        "--format",
        "csv",
    ]);
    // The drug's lot gave 1 g to the trituration; the trituration's lot received 10 g.
    assert!(
        book.contains("261130-001,CIII,g,5,") && book.contains(",received,10,,10,"),
        "{book}"
    );
    assert!(book.contains(",used,,1,24,261130-001,"), "{book}");
    // Not counted again as finished units: it is stock, in grams.
    assert!(!book.contains("units made"), "{book}");
}

crate::log::on_both_logs!(a_controlled_trituration_is_in_the_book, "trit_cs");

/// A trituration is one drug in its diluent, weighed mass for mass: anything else in a
/// formula of that kind is refused where it is read, naming the key.
#[test]
fn a_trituration_formula_is_one_drug_in_its_diluent_mass_for_mass() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "replacement_factor = \"1\"\n\n[[active]]",
            "replacement_factor = \"0.7\"\n\n[[active]]",
            "its base (the diluent) needs replacement_factor = \"1\"",
        ),
        (
            "[bud]",
            "[[excipient]]\nname = \"Silica\"\nper_unit = \"1 mg\"\n\n[bud]",
            "no [[excipient]]",
        ),
        (
            "kind = \"trituration\"",
            "kind = \"powder\"",
            "is not a kind",
        ),
    ];
    for (from, to, says) in cases {
        let text = KETAMINE_TRITURATION.replacen(from, to, 1);
        assert_ne!(text, KETAMINE_TRITURATION, "{from}");
        let path = tmp.path().join("t.toml");
        std::fs::write(&path, text).unwrap();
        let o = crate::log::troche()
            .args(["check", path.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("`kind`") && err.contains(says), "{err}");
    }
}
