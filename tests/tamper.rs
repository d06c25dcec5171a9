//! A log that shows it was never edited (docs/log.md): the hash chain over every event and
//! stored record, the seal, the printed bytes kept, and `db check` finding every change, in
//! the database or in a folder. SQLite always; PostgreSQL in the tests marked `#[ignore]`.

use crate::common::*;
use crate::log::{Log, batch_args, make_args};
use crate::test::{PH, RP, TK};
use std::fs;
use std::path::Path;

fn all_lots(log: &Log) -> Vec<String> {
    // Only making batches creates a log: before the first, there is none to list (no file
    // on SQLite, no troche schema on PostgreSQL), and `log` says so.
    let o = log.run(&["log", "--limit", "0", "--format", "json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.code() == Some(2) && err.contains("compounding log") {
        assert!(
            err.contains("no compounding log is there") || err.contains("holds no compounding log"),
            "{err}"
        );
        return Vec::new();
    }
    log.json(&["log", "--limit", "0"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["lot"].as_str().unwrap().to_string())
        .collect()
}

/// Makes a batch, and returns its lot: the one the log did not hold before.
fn make(log: &Log, out: &str, extra: &[&str]) -> String {
    let cfg = fixture("troche.toml");
    let before = all_lots(log);
    log.ok(&make_args(out, &cfg, extra));
    let mut new = all_lots(log);
    new.retain(|l| !before.contains(l));
    assert_eq!(new.len(), 1, "{new:?}");
    new.remove(0)
}

/// The seal `db check` reports: the head of the chain now.
fn head_seal(log: &Log) -> String {
    let check = log.ok(&["db", "check"]);
    let line = check
        .lines()
        .find(|l| l.starts_with("chain: "))
        .unwrap_or_else(|| panic!("{check}"));
    line.rsplit(' ').next().unwrap().to_string()
}

fn chain_and_seal(log: &Log, tmp: &Path) {
    let out = tmp.join("out").display().to_string();
    let empty = "0000000000000000";
    let first = make(log, &out, &[]);
    // The first batch's seal is the head before it: the empty chain's.
    assert_eq!(log.ok(&["lot", &first, "--seal"]), format!("{empty}\n"));
    let before = head_seal(log);
    assert_ne!(before, empty);
    let second = make(log, &out, &["--rx", "RX-2"]);
    assert_eq!(log.ok(&["lot", &second, "--seal"]), format!("{before}\n"));
    assert_eq!(log.json(&["lot", &second])["seal"], before.as_str());
    // A controlled batch is recorded by one person and witnessed by another, each signing.
    log.people_only();
    log.signed(
        &["record", &first, "--by", TK.0, "--witness", PH.0],
        &[TK.1, PH.1],
    );
    // Two batch events, a record, and the three people added.
    let check = log.ok(&["db", "check"]);
    assert!(check.contains("chain: 7 links verified"), "{check}");
    assert!(check.contains("stored hashes: ok"), "{check}");
    // Reprint writes the bytes first printed.
    let label = tmp.join(format!("out/{first}-label.pdf"));
    let printed = fs::read(&label).unwrap();
    fs::remove_file(&label).unwrap();
    log.signed(&["reprint", &first, "--by", TK.0], &[TK.1]);
    assert_eq!(fs::read(&label).unwrap(), printed);
    if !log.is_postgres() {
        return;
    }
    // On PostgreSQL, the database refuses to change the record.
    for sql in [
        "UPDATE batches SET patient = 'X'",
        "DELETE FROM files",
        "DELETE FROM documents",
        "UPDATE chain SET sha256 = 'x'",
        "UPDATE formula_texts SET text = 'x'",
        "UPDATE batches SET status = 'released'",
    ] {
        assert!(log.execute(sql).is_err(), "{sql} was allowed");
    }
}

crate::log::on_both_logs!(
    every_event_is_chained_and_each_batch_sealed,
    chain_and_seal,
    "chain"
);

/// People's events and policy decisions are in the chain: who was added with which role,
/// and each policy set, edited with a database tool (the triggers dropped) or a row deleted,
/// breaks it, and `db check` names the table and row.
fn people_and_policies_in_the_chain(log: &Log, tmp: &Path) {
    let triggers = if log.is_postgres() {
        "DROP TRIGGER IF EXISTS people_events_append_only ON people_events; \
         DROP TRIGGER IF EXISTS policies_append_only ON policies;"
    } else {
        "DROP TRIGGER IF EXISTS people_events_no_update; \
         DROP TRIGGER IF EXISTS policies_no_delete;"
    };
    let edit = |sql: &str| log.execute(&format!("{triggers} {sql}")).unwrap();
    let out = tmp.join("out").display().to_string();
    make(log, &out, &[]);
    log.people_only();
    log.signed(
        &["policy", "set", "same-person-release", "on", "--by", RP.0],
        &[RP.1],
    );
    let check = log.ok(&["db", "check"]);
    assert!(check.contains("chain: 5 links verified"), "{check}");
    // The state of a person follows their chained history: a technician made a pharmacist
    // in `people` is found, though `people` itself is not chained.
    edit("UPDATE people SET role = 'pharmacist' WHERE initials = 'TK'");
    let o = log.run(&["db", "check"]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("person differs from their history: TK (role)"),
        "{said}"
    );
    edit("UPDATE people SET role = 'technician' WHERE initials = 'TK'");
    log.ok(&["db", "check"]);
    // The last link first, so each check finds the edit just made.
    for (sql, says) in [
        (
            "DELETE FROM policies",
            "(policies row 1): its row of policies is missing",
        ),
        (
            "UPDATE people_events SET details = replace(details, 'technician', 'pharmacist')",
            "(people_events row 3): the row differs from what was chained",
        ),
    ] {
        edit(sql);
        let o = log.run(&["db", "check"]);
        let said = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{sql}: {said}");
        assert!(said.contains("chain: BROKEN at link "), "{said}");
        assert!(said.contains(says), "{sql}: {said}");
    }
}

crate::log::on_both_logs!(people_and_policies_in_the_chain, "histories");

/// An edit made with a database tool, triggers dropped: another patient's name in the order
/// and the files rows made to match. `db check` names the broken link, and `lot` and
/// `reprint` print nothing.
#[test]
fn a_forged_record_is_found_and_never_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    let out = tmp.path().join("out").display().to_string();
    let lot = make(&log, &out, &[]);
    make(&log, &out, &["--rx", "RX-2"]);
    let c = rusqlite::Connection::open(&log.db).unwrap();
    c.execute_batch(
        "DROP TRIGGER batches_no_update; DROP TRIGGER files_no_update; \
         UPDATE batches SET patient = 'Mallory', \
         order_json = replace(order_json, 'Ann Lee', 'Mallory'); \
         UPDATE files SET sha256 = 'forged';",
    )
    .unwrap();
    drop(c);
    let o = log.run(&["db", "check"]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("chain: BROKEN at link 1 (lot {lot}, event 1)")),
        "{said}"
    );
    log.fails(&["lot", &lot], 1, "hash chain is broken");
    fs::remove_file(tmp.path().join(format!("out/{lot}-label.pdf"))).unwrap();
    log.fails(&["reprint", &lot], 1, "hash chain is broken");
    assert!(!tmp.path().join(format!("out/{lot}-label.pdf")).exists());
}

#[test]
fn db_check_compares_a_folder_with_the_log_and_lists_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    let out = tmp.path().join("out");
    let o = out.display().to_string();
    let lot = make(&log, &o, &[]);
    let check = log.ok(&["db", "check", "--files", &o]);
    assert!(check.contains("3 identical to the log"), "{check}");
    fs::write(out.join(format!("{lot}-label.pdf")), b"%PDF-forged").unwrap();
    fs::write(out.join("261130-999-worksheet.pdf"), b"%PDF").unwrap();
    fs::remove_file(out.join(format!("{lot}.json"))).unwrap();
    let r = log.run(&["db", "check", "--files", &o]);
    let said = String::from_utf8_lossy(&r.stdout);
    assert_eq!(r.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "differs from what the log printed: {o}/{lot}-label.pdf"
        )),
        "{said}"
    );
    assert!(said.contains("names a lot the log does not hold"), "{said}");
    assert!(said.contains("printed by the log, missing: "), "{said}");
    // A prepared batch whose files are gone is listed by every check.
    assert!(
        said.contains(&format!("prepared lot {lot}: file missing:")),
        "{said}"
    );
}

/// A small xorshift generator: the corruption test's places, the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

/// Every row of every table, as text: what a change to the stored record would change.
fn dump(path: &Path) -> Option<Vec<String>> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()?;
    let mut out = Vec::new();
    for t in [
        "batches",
        "components",
        "files",
        "documents",
        "formula_texts",
        "events",
        "chain",
        "people_events",
        "policies",
    ] {
        let mut s = c
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            .ok()?;
        let n = s.column_count();
        let mut rows = s.query([]).ok()?;
        while let Some(r) = rows.next().ok()? {
            let mut line = vec![t.to_string()];
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i).ok()?;
                line.push(format!("{v:?}"));
            }
            out.push(line.join("|"));
        }
    }
    Some(out)
}

/// Bytes flipped at 200 places of a copy of a log, each inside a stored record, event,
/// formula text or kept document: `db check` fails on every copy whose stored rows changed.
#[test]
fn db_check_finds_every_flipped_byte_in_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Log::sqlite(tmp.path());
    let out = tmp.path().join("out").display().to_string();
    let first = make(&log, &out, &[]);
    for rx in ["RX-2", "RX-3"] {
        make(&log, &out, &["--rx", rx]);
    }
    log.people();
    log.signed(
        &["record", &first, "--by", TK.0, "--witness", PH.0],
        &[TK.1, PH.1],
    );
    log.signed(
        &["policy", "set", "same-person-release", "on", "--by", RP.0],
        &[RP.1],
    );
    let c = rusqlite::Connection::open(&log.db).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(c);
    let original = fs::read(&log.db).unwrap();
    let before = dump(Path::new(&log.db)).unwrap();
    // The places: inside the stored values the record is made of.
    let needles: [&[u8]; 12] = [
        b"Ann Lee",
        b"RX-2",
        b"K-77",
        b"prepared",
        b"recorded",
        b"JVBER",
        b"ketamine",
        b"\"quantity\"",
        b"261130-00",
        b"Dr. Who",
        b"same-person-release",
        b"\"role\":\"technician\"",
    ];
    let mut places = Vec::new();
    for needle in needles {
        for (i, w) in original.windows(needle.len()).enumerate() {
            if w == needle {
                places.push((i, needle.len()));
            }
        }
    }
    assert!(places.len() > 50, "{} places", places.len());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut detected, mut unchanged) = (0, 0);
    let copy = tmp.path().join("copy.sqlite3");
    let copy_log = Log {
        db: copy.display().to_string(),
        env_url: None,
    };
    for _ in 0..200 {
        let (at, len) = places[rng.below(places.len())];
        let i = at + rng.below(len);
        let mut bytes = original.clone();
        bytes[i] ^= u8::try_from(1 + rng.below(255)).unwrap();
        fs::write(&copy, &bytes).unwrap();
        let o = copy_log.run(&["db", "check"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{err}");
        if o.status.code() == Some(1) {
            detected += 1;
        } else {
            assert_eq!(o.status.code(), Some(0), "{err}");
            // Passed: only if no stored row changed (the byte was in freed space).
            let after = dump(&copy);
            let changed: Vec<&String> = after
                .iter()
                .flatten()
                .filter(|row| !before.contains(row))
                .collect();
            assert!(
                after.is_some() && changed.is_empty(),
                "byte {i} changed the record and db check passed:\n{}\nchanged rows: {changed:?}",
                String::from_utf8_lossy(&o.stdout)
            );
            unchanged += 1;
        }
        for ext in ["-wal", "-shm"] {
            let side = format!("{}{ext}", copy.display());
            if Path::new(&side).exists() {
                fs::remove_file(side).unwrap();
            }
        }
    }
    assert!(
        detected >= 150,
        "{detected} detected, {unchanged} unchanged"
    );
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn lots(log: &Log, tmp: &Path) {
    let out = tmp.join("out").display().to_string();
    let cfg = fixture("troche.toml");
    let make_lot = |lot: &'static str, rx: &'static str| -> Vec<String> {
        make_args(&out, &cfg, &["--lot", lot, "--rx", rx])
            .into_iter()
            .map(String::from)
            .collect()
    };
    // Lower case is upper-cased; the same lot in another case is a clash, exit 2.
    log.ok(&strs(&make_lot("lot-100", "RX-1")));
    assert_eq!(log.json(&["lot", "LOT-100"])["lot"], "LOT-100");
    log.fails(
        &strs(&make_lot("LOT-100", "RX-2")),
        2,
        "already in the compounding log",
    );
    log.fails(
        &strs(&make_lot("Lot-100", "RX-2")),
        2,
        "already in the compounding log",
    );
    // Look-alikes are refused, naming the character.
    log.fails(&strs(&make_lot("261130-001\u{200b}", "RX-2")), 2, "U+200B");
    log.fails(&strs(&make_lot("L\u{41e}T-100", "RX-2")), 2, "U+041E");
    log.fails(&strs(&make_lot("../../etc/x", "RX-2")), 2, "U+002E");
    log.fails(
        &strs(&make_lot("ABCDEFGHIJKLMNOPQRSTU", "RX-2")),
        2,
        "at most 20",
    );
    // Lots given by hand never block the automatic ones.
    log.ok(&strs(&make_lot("261130-999999999", "RX-3")));
    log.ok(&strs(&make_lot("261130-0001", "RX-4")));
    log.ok(&strs(&make_lot("261130-002", "RX-5")));
    let auto = make(log, &out, &["--rx", "RX-6"]);
    assert_eq!(auto, "261130-001");
    let auto = make(log, &out, &["--rx", "RX-7"]);
    assert_eq!(auto, "261130-003", "the lot given by hand is skipped");
    log.ok(&["db", "check"]);
}

crate::log::on_both_logs!(lots_are_unambiguous_and_never_block_numbering, lots, "lots");

/// `log import` checks every record as `make` checks its own, and refuses the folder, naming
/// each bad record, before entering any.
fn import_refuses_bad_records(log: &Log, tmp: &Path) {
    let old = tmp.join("old");
    let first = Log::sqlite(&tmp.join("first-log"));
    fs::create_dir_all(tmp.join("first-log")).unwrap();
    let lot = make(
        &first,
        old.to_str().unwrap(),
        &[
            "--component",
            "Ketamine hydrochloride, USP|K-77|2030-01-01|Spectrum",
        ],
    );
    let good: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(old.join(format!("{lot}.json"))).unwrap())
            .unwrap();
    let dir = tmp.join("records");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("good.json"), good.to_string()).unwrap();
    let bad: [(&str, &str, serde_json::Value, &str); 5] = [
        (
            "empty-lot",
            "/lot",
            serde_json::json!(""),
            "at least one letter",
        ),
        (
            "path-lot",
            "/lot",
            serde_json::json!("../../etc/x"),
            "U+002E",
        ),
        (
            "escape",
            "/patient",
            serde_json::json!("Ann\u{1b}[2J Lee"),
            "U+001B",
        ),
        (
            "future",
            "/compounding_date",
            serde_json::json!("2099-01-01"),
            "is after today",
        ),
        (
            "expiry",
            "/components/0/expiry",
            serde_json::json!("not a date"),
            "is not a date",
        ),
    ];
    for (name, at, value, _) in &bad {
        let mut v = good.clone();
        *v.pointer_mut(at).unwrap() = value.clone();
        fs::write(dir.join(format!("{name}.json")), v.to_string()).unwrap();
    }
    let err = log.fails(
        &["log", "import", dir.to_str().unwrap()],
        2,
        "nothing was imported",
    );
    for (name, _, _, says) in &bad {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("{name}.json")))
            .unwrap_or_else(|| panic!("{name} not named: {err}"));
        assert!(line.contains(says), "{name}: {line}");
    }
    // Nothing entered: not even a log was created for them.
    assert!(all_lots(log).is_empty());
    // Without the bad records, the good one is entered.
    for (name, ..) in &bad {
        fs::remove_file(dir.join(format!("{name}.json"))).unwrap();
    }
    log.ok(&["log", "import", dir.to_str().unwrap()]);
    assert_eq!(all_lots(log), [lot]);
    log.ok(&["db", "check"]);
}

crate::log::on_both_logs!(import_refuses_bad_records, "import");

/// Two runs of one recipe at once, into two folders, against one log: each entry is claimed
/// inside the transaction that assigns its lot, so each is made once (several trials, real
/// processes).
#[test]
fn two_runs_of_one_recipe_at_once_make_each_entry_once() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = tmp.path().join("recipe.toml");
    fs::write(&recipe, crate::sample::recipe(120)).unwrap();
    for trial in 0..3 {
        let log = Log::sqlite(&tmp.path().join(format!("trial-{trial}")));
        fs::create_dir_all(tmp.path().join(format!("trial-{trial}"))).unwrap();
        let runs: Vec<_> = ["a", "b"]
            .iter()
            .map(|side| {
                let out = tmp.path().join(format!("trial-{trial}/{side}"));
                crate::log::troche()
                    .args(["--db", &log.db, "batch", recipe.to_str().unwrap(), "--out"])
                    .arg(&out)
                    .args(["--config", &config(), "--backdate"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for r in runs {
            let o = r.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("panicked"), "{err}");
        }
        let c = rusqlite::Connection::open(&log.db).unwrap();
        let (made, entries): (i64, i64) = c
            .query_row(
                "SELECT count(*), count(DISTINCT fingerprint) FROM batches WHERE status <> 'void'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(made > 0);
        assert_eq!(made, entries, "trial {trial}: an entry was made twice");
        log.ok(&["db", "check"]);
    }
}

/// A folder made against another log (or before the log was restored from a backup): the
/// run stops, naming the lots the log does not hold, and makes nothing.
#[test]
fn a_folder_of_lots_the_log_does_not_hold_stops_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = format!("{}/docs/examples/recipe.toml", env!("CARGO_MANIFEST_DIR"));
    let out = tmp.path().join("out");
    let cfg = config();
    let batch = |log: &Log| log.run(&batch_args(&recipe, &out, &cfg, &[]));
    fs::create_dir_all(tmp.path().join("first")).unwrap();
    let first = Log::sqlite(&tmp.path().join("first"));
    assert!(batch(&first).status.success());
    let lots = all_lots(&first);
    let other = Log::sqlite(tmp.path());
    let o = batch(&other);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for lot in &lots {
        assert!(err.contains(lot.as_str()), "{lot}: {err}");
    }
    assert!(err.contains("does not hold"), "{err}");
    assert!(all_lots(&other).is_empty());
    // The log that made them reruns as before.
    assert!(batch(&first).status.success());
    assert_eq!(all_lots(&first), lots);
}
