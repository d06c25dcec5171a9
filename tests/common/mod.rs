//! Helpers shared by the end-to-end tests: run the real binary, read its JSON.
#![allow(dead_code)]

use assert_cmd::Command;

pub fn troche() -> Command {
    Command::cargo_bin("troche").expect("binary built")
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `troche calc ... --format json` and returns the parsed object; panics with stderr on
/// failure so the test says why.
pub fn calc_json(args: &[&str]) -> serde_json::Value {
    let out = troche()
        .arg("calc")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "troche failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Runs `troche` expecting failure with exit status 2; returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = troche().args(args).output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "no output on failure");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "panic: {err}");
    err
}

pub fn ingredient<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no ingredient {name} in {v}"))
}

pub fn base(v: &serde_json::Value) -> &serde_json::Value {
    v["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .find(|i| i["role"] == "base")
        .expect("base")
}

/// The text of every page of a PDF, extracted in Rust (no external tool), with all whitespace
/// removed: where a line breaks, and whether the extractor puts a space there, must not
/// matter. Compare with [`has`].
pub fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a valid PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text");
    text.split_whitespace().collect()
}

/// Whether extracted PDF text (see [`pdf_text`]) holds `needle`, whitespace aside.
pub fn has(text: &str, needle: &str) -> bool {
    text.contains(&needle.split_whitespace().collect::<String>())
}

pub fn page_count(bytes: &[u8]) -> usize {
    lopdf::Document::load_mem(bytes)
        .expect("a valid PDF")
        .get_pages()
        .len()
}

pub fn config() -> String {
    fixture("troche.toml")
}
