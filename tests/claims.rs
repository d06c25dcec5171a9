//! The log decides what a recipe made (docs/recipe-format.md, "Reruns"): identical entries are
//! distinct batches, an entry made earlier from another recipe or by `make` is not made again
//! unless `--remake` names it, a rerun writes missing files from the bytes the log keeps, and a
//! log written before the claims reads as it was made. SQLite always; PostgreSQL in the tests
//! marked `#[ignore]`.

use crate::common::*;
use crate::log::{Log, batch_args};
use std::fs;
use std::path::Path;

/// A progesterone entry (no prescription particulars needed beyond these).
pub(crate) fn entry(rx: &str, strength: &str) -> String {
    format!(
        "[[batch]]\nformula = \"progesterone-troche\"\nstrength = \"{strength}\"\nquantity = 30\n\
         rx = \"{rx}\"\npatient = \"Mary Major\"\nprescriber = \"Beth Jones, NP\"\n\n"
    )
}

/// A recipe of `entries` compounded on `date`.
pub(crate) fn recipe(date: &str, entries: &[String]) -> String {
    format!("date = {date}\n\n{}", entries.concat())
}

/// `troche batch RECIPE --out OUT` (plus `more`), which must succeed: each entry's status and
/// lot, from `summary.csv`.
pub(crate) fn batch(log: &Log, recipe: &Path, out: &Path, more: &[&str]) -> Vec<(String, String)> {
    let cfg = fixture("troche.toml");
    log.ok(&batch_args(recipe.to_str().unwrap(), out, &cfg, more));
    summary(out)
}

/// Each entry's status and lot in a run's `summary.csv`.
pub(crate) fn summary(out: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (row[7].to_string(), row[2].to_string())
        })
        .collect()
}

fn statuses(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(s, _)| s.as_str()).collect()
}

/// The log's batches that are not void: (lot, fingerprint).
fn batches(log: &Log) -> Vec<String> {
    let mut lots: Vec<String> = log
        .json(&["log", "--limit", "0"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"] != "void")
        .map(|b| b["lot"].as_str().unwrap().to_string())
        .collect();
    lots.sort();
    lots
}

/// An entry at 1 and the same at 70 (another chunk of the run): two batches, each made once,
/// and a rerun makes neither again.
fn identical_entries_are_distinct_batches(log: &Log, tmp: &Path) {
    let same = entry("RX-7", "100 mg");
    let mut entries = vec![same.clone()];
    entries.extend((2..70).map(|n| entry(&format!("RX-{n}"), "100 mg")));
    entries.push(same);
    let r = tmp.join("recipe.toml");
    fs::write(&r, recipe("2026-11-23", &entries)).unwrap();
    let out = tmp.join("out");
    let first = batch(log, &r, &out, &[]);
    assert!(statuses(&first).iter().all(|s| *s == "made"), "{first:?}");
    assert_ne!(first[0].1, first[69].1);
    let lots = batches(log);
    assert_eq!(lots.len(), 70);
    let again = batch(log, &r, &out, &[]);
    assert!(
        statuses(&again).iter().all(|s| *s == "done-earlier"),
        "{again:?}"
    );
    assert_eq!(
        again,
        first
            .iter()
            .map(|(_, l)| ("done-earlier".to_string(), l.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(batches(log), lots);
    log.ok(&["db", "check"]);
}

crate::log::on_both_logs!(identical_entries_are_distinct_batches, "identical");

/// An entry `make` made that day, or another recipe into another folder, is "made earlier"
/// and nothing of it is written; `--remake LOT` makes a new lot linked to the old one; a
/// refill on another day is a new batch.
fn made_earlier_unless_remade(log: &Log, tmp: &Path) {
    let cfg = fixture("troche.toml");
    let made_into = tmp.join("a");
    let mut by_make = vec!["make"];
    by_make.extend(order("progesterone-troche", "0.1 g", "30", &[]));
    by_make.extend(["--rx", "RX-7", "--patient", "Mary Major"]);
    by_make.extend([
        "--prescriber",
        "Dr. Other",
        "--date",
        "2026-11-23",
        "--backdate",
    ]);
    by_make.extend(["--config", &cfg, "--out", made_into.to_str().unwrap()]);
    log.ok(&by_make);
    let made = batches(log);
    assert_eq!(made.len(), 1);
    let rcp = tmp.join("recipe.toml");
    fs::write(
        &rcp,
        recipe(
            "2026-11-23",
            &[entry("RX-7", "100 mg"), entry("RX-8", "100 mg")],
        ),
    )
    .unwrap();
    let out_b = tmp.join("b");
    let run = batch(log, &rcp, &out_b, &[]);
    assert_eq!(statuses(&run), ["made-earlier", "made"]);
    assert_eq!(run[0].1, made[0]);
    let csv = fs::read_to_string(out_b.join("summary.csv")).unwrap();
    assert!(
        csv.contains(&format!(
            "made earlier as {} (prepared) by `troche make`",
            made[0]
        )),
        "{csv}"
    );
    assert!(!out_b.join(format!("{}.json", made[0])).exists());
    // The same recipe into another folder: both made earlier, nothing written.
    let out_c = tmp.join("c");
    assert_eq!(
        statuses(&batch(log, &rcp, &out_c, &[])),
        ["made-earlier", "made-earlier"]
    );
    assert!(fs::read_dir(&out_c).unwrap().all(|e| {
        let n = e.unwrap().file_name();
        n == "summary.csv" || n == "picklist.csv"
    }));
    // A lot the log does not hold: refused, nothing made.
    let before = batches(log);
    let unknown_lot = ["--remake", "261123-999"];
    log.fails(
        &batch_args(rcp.to_str().unwrap(), &out_b, &cfg, &unknown_lot),
        2,
        "holds no lot 261123-999",
    );
    assert_eq!(batches(log), before);
    // Remade: a new lot, linked to the old in the log both ways.
    let old = made[0].clone();
    let remade = batch(log, &rcp, &out_b, &["--remake", &old.to_lowercase()]);
    assert_eq!(statuses(&remade), ["made", "done-earlier"]);
    let new = remade[0].1.clone();
    assert_ne!(new, old);
    let events = |lot: &str| log.json(&["lot", lot])["events"].to_string();
    assert!(events(&old).contains("remade"), "{}", events(&old));
    assert!(events(&old).contains(&new), "{}", events(&old));
    assert!(events(&new).contains(&old), "{}", events(&new));
    // The remake answers for the entry now; naming the old lot again remakes nothing.
    let again = batch(log, &rcp, &out_b, &["--remake", &old]);
    assert_eq!(statuses(&again), ["done-earlier", "done-earlier"]);
    assert_eq!(again[0].1, new);
    // A refill on another day is a new batch.
    fs::write(
        &rcp,
        recipe(
            "2026-11-24",
            &[entry("RX-7", "100 mg"), entry("RX-8", "100 mg")],
        ),
    )
    .unwrap();
    assert_eq!(statuses(&batch(log, &rcp, &out_b, &[])), ["made", "made"]);
    assert_eq!(batches(log).len(), 5);
    log.ok(&["db", "check"]);
}

crate::log::on_both_logs!(made_earlier_unless_remade, "remade");

/// An entry that failed (a typo in its formula) is fixed and the recipe run again: only that
/// entry is made; the others are done, and files deleted since are written again from the
/// bytes the log keeps, identical to the first print.
fn a_fixed_typo_makes_only_its_entry(log: &Log, tmp: &Path) {
    let r = tmp.join("recipe.toml");
    let entries = [
        entry("RX-1", "100 mg"),
        entry("RX-2", "100 mg").replace("progesterone-troche", "progesteron-troche"),
        entry("RX-3", "200 mg"),
    ];
    fs::write(&r, recipe("2026-11-23", &entries)).unwrap();
    let out = tmp.join("out");
    let cfg = fixture("troche.toml");
    let o = log.run(&batch_args(r.to_str().unwrap(), &out, &cfg, &[]));
    assert_eq!(o.status.code(), Some(2));
    let first = summary(&out);
    assert_eq!(statuses(&first), ["made", "failed", "made"]);
    let label = out.join(format!("{}-label.pdf", first[2].1));
    let printed = fs::read(&label).unwrap();
    fs::remove_file(&label).unwrap();
    fs::remove_file(out.join(format!("{}.json", first[0].1))).unwrap();
    fs::write(
        &r,
        recipe("2026-11-23", &entries).replace("progesteron-troche", "progesterone-troche"),
    )
    .unwrap();
    let fixed = batch(log, &r, &out, &[]);
    assert_eq!(statuses(&fixed), ["done-earlier", "made", "done-earlier"]);
    assert_eq!((&fixed[0].1, &fixed[2].1), (&first[0].1, &first[2].1));
    assert_eq!(fs::read(&label).unwrap(), printed);
    assert!(out.join(format!("{}.json", first[0].1)).exists());
    assert_eq!(batches(log).len(), 3);
    log.ok(&["db", "check", "--files", out.to_str().unwrap()]);
}

crate::log::on_both_logs!(a_fixed_typo_makes_only_its_entry, "typo");

/// A log written by troche before the claims (schema 3, tests/fixtures/v3-log): `one.toml`
/// made its entry, then `recipe.toml` (that entry twice, and another) took the second
/// identical entry for the first and made only the other. Now the log migrates, its chain
/// verifies, the old fingerprints read as the entries they were made for, and only the
/// second identical entry is made.
#[test]
fn a_log_from_before_the_claims_reads_as_it_was_made() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    fs::copy(fixture("v3-log/log.sqlite3"), &log.db).unwrap();
    let r = tmp.path().join("recipe.toml");
    fs::copy(fixture("v3-log/recipe.toml"), &r).unwrap();
    let before = batches(&log);
    assert_eq!(before, ["261123-001", "261123-002"]);
    let check = log.ok(&["db", "check"]);
    assert!(check.contains("stored hashes: ok"), "{check}");
    let out = tmp.path().join("out");
    let cfg = fixture("troche.toml");
    let args = batch_args(r.to_str().unwrap(), &out, &cfg, &["--by", "RP"]);
    // The log has a person, so the formula is approved first and the run is signed (the
    // fixture's PIN).
    log.signed(
        &["formula", "approve", "progesterone-troche", "--by", "RP"],
        &["pin-rp-12345"],
    );
    log.signed(&args, &["pin-rp-12345"]);
    let run = summary(&out);
    assert_eq!(
        run,
        [
            ("made-earlier".to_string(), "261123-001".to_string()),
            ("made".to_string(), "261123-003".to_string()),
            ("made-earlier".to_string(), "261123-002".to_string()),
        ]
    );
    log.signed(&args, &["pin-rp-12345"]);
    assert_eq!(
        statuses(&summary(&out)),
        ["made-earlier", "done-earlier", "made-earlier"]
    );
    assert_eq!(batches(&log).len(), 3);
    // Migrated: the person added and the policy set before are links of the chain now,
    // after the two batches, then the approval and the batch made since.
    let check = log.ok(&["db", "check"]);
    assert!(
        check.contains(&format!(
            "schema version: {}",
            troche::store::SCHEMA_VERSION
        )),
        "{check}"
    );
    assert!(check.contains("chain: 6 links verified"), "{check}");
    let c = rusqlite::Connection::open(&log.db).unwrap();
    let links: Vec<String> = c
        .prepare("SELECT lot || '/' || seq FROM chain ORDER BY n")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        links,
        [
            "261123-001/1",
            "261123-002/1",
            "people_events/-1",
            "policies/-1",
            "policies/-2",
            "261123-003/1"
        ]
    );
}
