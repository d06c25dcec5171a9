//! Crash safety: a batch killed in the middle leaves only complete documents, and a rerun
//! finishes the rest without making any batch twice or reusing a lot.

use crate::common::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

const ENTRIES: usize = 300;

fn regular_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Every file is a complete document of its kind.
fn assert_all_complete(dir: &Path) {
    for p in regular_files(dir) {
        let bytes = fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".troche-") && name.ends_with(".partial") {
            // A killed writer's temporary, hidden and never under a real name.
            continue;
        }
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if ext.as_deref() == Some("pdf") {
            assert!(bytes.starts_with(b"%PDF-"), "{name}: no PDF header");
            assert!(
                bytes.trim_ascii_end().ends_with(b"%%EOF"),
                "{name}: truncated"
            );
            assert!(page_count(&bytes) >= 1, "{name}: no pages");
        } else if ext.as_deref() == Some("json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if ext.as_deref() == Some("csv") {
            assert!(
                String::from_utf8(bytes).unwrap().ends_with('\n'),
                "{name}: truncated"
            );
        } else {
            panic!("unexpected file {name}");
        }
    }
}

#[test]
fn killed_batch_leaves_complete_files_and_rerun_finishes_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = tmp.path().join("recipe.toml");
    fs::write(&recipe, crate::sample::recipe(ENTRIES)).unwrap();
    let out = tmp.path().join("out");
    let db = tmp.path().join("log.sqlite3");
    let cfg = config();
    let db = ["--db", db.to_str().unwrap()];
    let args = crate::log::batch_args(recipe.to_str().unwrap(), &out, &cfg, &db);

    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("troche"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches are out, while others are being written.
    let start = Instant::now();
    loop {
        let n = fs::read_dir(&out).map_or(0, Iterator::count);
        if n >= 60 || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch finished before it could be killed; use more entries"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_all_complete(&out);
    let made_before = regular_files(&out)
        .iter()
        .filter(|p| p.extension().unwrap() == "json")
        .count();
    assert!(
        made_before > 0 && made_before < ENTRIES,
        "killed mid-run: {made_before} records"
    );

    let o = Test::new().args(&args).output();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains(&format!("{ENTRIES} entries:")), "{stdout}");
    assert!(stdout.contains("0 failed"), "{stdout}");

    assert_all_complete(&out);
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".troche-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the killed run's temporaries removed: {leftovers:?}"
    );
    // One record per entry, each with both PDFs, no lot and no entry twice.
    let mut lots = BTreeSet::new();
    let mut entries = BTreeSet::new();
    for p in regular_files(&out)
        .iter()
        .filter(|p| p.extension().unwrap() == "json")
    {
        let v: serde_json::Value = serde_json::from_slice(&fs::read(p).unwrap()).unwrap();
        let lot = v["lot"].as_str().unwrap().to_string();
        assert!(out.join(format!("{lot}-worksheet.pdf")).exists(), "{lot}");
        assert!(out.join(format!("{lot}-label.pdf")).exists(), "{lot}");
        assert!(lots.insert(lot.clone()), "lot {lot} twice");
        assert!(
            entries.insert(v["origin"]["entry"].as_u64().unwrap()),
            "entry made twice: {p:?}"
        );
    }
    assert_eq!(entries.len(), ENTRIES);
    // A kill between a set's renames leaves its PDFs without a record (the record is
    // published last): not a batch, reported by the rerun, at most one set per thread.
    let orphans: BTreeSet<String> = regular_files(&out)
        .iter()
        .filter_map(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            let stem = n
                .strip_suffix("-worksheet.pdf")
                .or_else(|| n.strip_suffix("-label.pdf"))?
                .to_string();
            (!lots.contains(&stem)).then_some(stem)
        })
        .collect();
    assert!(orphans.len() <= 4, "{orphans:?}");
    for o in &orphans {
        assert!(
            stdout.contains(o.as_str()),
            "interrupted set {o} reported: {stdout}"
        );
    }
    let orphan_files = regular_files(&out)
        .iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            orphans
                .iter()
                .any(|o| n == format!("{o}-worksheet.pdf") || n == format!("{o}-label.pdf"))
        })
        .count();
    assert_eq!(regular_files(&out).len(), ENTRIES * 3 + 2 + orphan_files);
}
