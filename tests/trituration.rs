//! The stock a batch draws on, as the formula weighs it (docs/stock.md): a certificate's
//! assay judged on the basis the formula's monograph states its range on, the form
//! received against the form the formula weighs, and stock triturations made as batches
//! and drawn on instead of an aliquot. SQLite always; PostgreSQL in the tests marked
//! `#[ignore]`.

use std::path::Path;

use crate::common::{RP, TK, fixture};
use crate::log::Log;

fn receive(log: &Log, name: &str, lot: &str, quantity: &str, extra: &[&str]) {
    let mut args = vec![
        "stock",
        "receive",
        name,
        "--lot",
        lot,
        "--expiry",
        "2027-06-30",
        "--manufacturer",
        "PCCA",
        "--quantity",
        quantity,
        "--by",
        TK.0,
    ];
    args.extend_from_slice(extra);
    log.signed(&args, &[TK.1]);
    log.signed(&["stock", "release", lot, "--by", RP.0], &[RP.1]);
}

/// `make FORMULA` on 2026-11-30 into `out`, signed by TK.
fn make_args<'a>(formula: &'a str, out: &'a str, cfg: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "make",
        formula,
        "--quantity",
        "24",
        "--date",
        "2026-11-30",
        "--backdate",
        "--config",
        cfg,
        "--out",
        out,
        "--by",
        TK.0,
    ];
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
