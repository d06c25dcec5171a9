//! `troche formulas`, `troche show` and `troche check`: the formula library and formula files.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::Result;
use crate::library;

use super::print;

pub(super) fn formulas() -> Result<i32> {
    let all = library::all()?;
    let mut out = String::new();
    let w = all.iter().map(|f| f.id.len()).max().unwrap_or(2);
    let _ = writeln!(out, "{:<w$}  {:<12}  NAME (ACTIVES)", "ID", "FORM");
    for f in &all {
        let actives: Vec<&str> = f.actives.iter().map(|a| a.name.as_str()).collect();
        let _ = writeln!(
            out,
            "{:<w$}  {:<12}  {} ({})",
            f.id,
            f.dosage_form,
            f.name,
            actives.join(", ")
        );
    }
    print(&out)?;
    Ok(0)
}

pub(super) fn show(formula: &str) -> Result<i32> {
    let text = if let Some(t) = library::get(formula) {
        t.to_string()
    } else {
        // Validate first, so `show` of a file never prints something unusable silently.
        library::load(formula)?;
        library::read_text(std::path::Path::new(&formula))?
    };
    print(&text)?;
    Ok(0)
}

pub(super) fn check(files: &[PathBuf]) -> Result<i32> {
    let mut failed = 0;
    for f in files {
        match library::load_file(f) {
            Ok(formula) => print(&format!(
                "ok: {} ({} v{})\n",
                f.display(),
                formula.id,
                formula.version
            ))?,
            Err(e) => {
                failed += 1;
                crate::printable::eprintln(&e.to_string());
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "troche: {failed} of {} formula files have problems",
            files.len()
        );
        return Ok(2);
    }
    Ok(0)
}
