//! What `troche db check` verifies beside the chain: every stored hash (formula texts by
//! their key, kept documents by their printed file's SHA-256), the prepared batches whose
//! files are gone, and a folder's files against the log.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::{Error, Result};
use crate::store::{Db, Value};

use super::{PREPARED, sha256_hex};

/// How many rows are read per query.
const PAGE: i64 = 500;

/// Each person whose state in `people` is not what their (chained) history says: the name and
/// role they were added with, inactive once deactivated, locked by their latest `locked` or
/// `unlocked` event. The PIN's hash and the count of wrong PINs in a row are not in the
/// history; a changed PIN hash shows as the person's PIN no longer working.
pub fn people_differ(db: &mut dyn Db) -> Result<Vec<String>> {
    #[derive(Default)]
    struct Told {
        added: Option<(String, String)>,
        active: bool,
        locked: bool,
    }
    let mut told: std::collections::HashMap<String, Told> = std::collections::HashMap::new();
    for mut r in db.query(
        "SELECT initials, what, details FROM people_events ORDER BY seq",
        &[],
    )? {
        let t = told.entry(r.text("initials")?).or_default();
        match r.text("what")?.as_str() {
            "added" => {
                let d: serde_json::Value =
                    serde_json::from_str(&r.text("details")?).unwrap_or_default();
                let field = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                t.added = Some((field("name"), field("role")));
                t.active = true;
            }
            "deactivated" => t.active = false,
            "locked" => t.locked = true,
            "unlocked" => t.locked = false,
            _ => {}
        }
    }
    let mut differ = Vec::new();
    for mut r in db.query(
        "SELECT initials, name, role, active, locked FROM people ORDER BY initials",
        &[],
    )? {
        let initials = r.text("initials")?;
        let now = (
            r.text("name")?,
            r.text("role")?,
            r.int("active")? != 0,
            r.int("locked")? != 0,
        );
        let what = match told.get(&initials) {
            Some(Told {
                added: Some((name, role)),
                active,
                locked,
            }) => [
                (now.0 != *name, "name"),
                (now.1 != *role, "role"),
                (now.2 != *active, "active"),
                (now.3 != *locked, "locked"),
            ]
            .iter()
            .filter(|(d, _)| *d)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(", "),
            _ => "no history".to_string(),
        };
        if !what.is_empty() {
            differ.push(format!("{initials} ({what})"));
        }
    }
    Ok(differ)
}

/// The first stored text whose SHA-256 is not the one stored with it, in words.
pub fn stored_hashes(db: &mut dyn Db) -> Result<Option<String>> {
    for mut r in db.query(
        "SELECT sha256, text FROM formula_texts ORDER BY sha256",
        &[],
    )? {
        let sha = r.text("sha256")?;
        if sha256_hex(r.text("text")?.as_bytes()) != sha {
            return Ok(Some(format!(
                "the formula text stored as {sha} does not match its SHA-256"
            )));
        }
    }
    // The id and version stored beside a text are not in its hash: they must be those of the
    // (chained) batches made from it.
    if let Some(mut r) = db
        .query(
            "SELECT t.sha256 FROM formula_texts t JOIN batches b ON b.formula_sha256 = t.sha256 \
             WHERE b.formula_id <> t.formula_id OR b.formula_version <> t.version LIMIT 1",
            &[],
        )?
        .into_iter()
        .next()
    {
        let sha = r.text("sha256")?;
        return Ok(Some(format!(
            "the formula text stored as {sha} names another formula id or version than the \
             batches made from it"
        )));
    }
    // Page by lot: the documents of up to PAGE lots at a time.
    let mut after = String::new();
    loop {
        let rows = db.query(
            "SELECT max(lot) AS last FROM (SELECT lot FROM batches WHERE lot > $1 \
             ORDER BY lot LIMIT $2) page",
            &[Value::text(after.clone()), Value::int(PAGE)],
        )?;
        let Some(last) = rows
            .into_iter()
            .next()
            .map_or(Ok(None), |mut r| r.opt_text("last"))?
        else {
            return Ok(None);
        };
        for mut r in db.query(
            "SELECT d.lot, d.kind, d.content, f.sha256 FROM documents d LEFT JOIN files f \
             ON f.lot = d.lot AND f.kind = d.kind WHERE d.lot > $1 AND d.lot <= $2 \
             ORDER BY d.lot, d.kind",
            &[Value::text(after.clone()), Value::text(last.clone())],
        )? {
            let lot = r.text("lot")?;
            let kind = r.text("kind")?;
            let content = r.text("content")?;
            let want = r.opt_text("sha256")?;
            let got = BASE64.decode(content.as_bytes()).map(|b| sha256_hex(&b));
            if got.ok() != want {
                return Ok(Some(format!(
                    "lot {lot}: the {kind} kept in the log does not match its printed SHA-256"
                )));
            }
        }
        after = last;
    }
}

/// Prepared batches whose printed files are not where the log says: (lot, path).
pub fn missing_files(db: &mut dyn Db) -> Result<Vec<(String, String)>> {
    let rows = db.query(
        "SELECT f.lot, f.path FROM files f JOIN batches b ON b.lot = f.lot \
         WHERE b.status = $1 ORDER BY f.lot, f.kind",
        &[Value::text(PREPARED)],
    )?;
    let mut missing = Vec::new();
    for mut r in rows {
        let (lot, path) = (r.text("lot")?, r.text("path")?);
        if !Path::new(&path).exists() {
            missing.push((lot, path));
        }
    }
    Ok(missing)
}

/// What a folder holds compared with the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Files identical to the ones the log printed.
    pub identical: usize,
    /// Files of a lot the log holds, with other bytes than it printed.
    pub differ: Vec<String>,
    /// Files named for a lot the log does not hold.
    pub unknown: Vec<String>,
    /// Files the log printed into this folder that are not there.
    pub missing: Vec<String>,
}

/// The lot (as the file names it) and the kind of a file troche prints, by its name:
/// LOT-worksheet.pdf, LOT-label.pdf, LOT.json, LOT-record.pdf, LOT-record-N.pdf and
/// LOT-release.pdf; `None` for another file.
fn printed_kind(name: &str) -> Option<(&str, String)> {
    let suffixes = [
        ("-worksheet.pdf", "worksheet"),
        ("-label.pdf", "label"),
        (".json", "json"),
        ("-record.pdf", "record-1"),
        ("-release.pdf", "release"),
    ];
    for (suffix, kind) in suffixes {
        if let Some(stem) = name.strip_suffix(suffix) {
            return Some((stem, kind.to_string()));
        }
    }
    let (stem, n) = name.strip_suffix(".pdf")?.rsplit_once("-record-")?;
    let n: u32 = n.parse().ok().filter(|n| *n > 1)?;
    Some((stem, format!("record-{n}")))
}

/// Compares the worksheets, labels, JSON records, filled-in records and release records in
/// `dir` with the log.
pub fn compare_folder(db: &mut dyn Db, dir: &Path) -> Result<Folder> {
    let mut f = Folder::default();
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    for name in &names {
        let Some((stem, kind)) = printed_kind(name) else {
            continue;
        };
        let rows = db.query(
            "SELECT sha256 FROM files WHERE upper(lot) = upper($1) AND kind = $2",
            &[Value::text(stem), Value::text(kind)],
        )?;
        let path = dir.join(name);
        match rows.into_iter().next() {
            None => f.unknown.push(path.display().to_string()),
            Some(mut r) => {
                let want = r.text("sha256")?;
                let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                if sha256_hex(&bytes) == want {
                    f.identical += 1;
                } else {
                    f.differ.push(path.display().to_string());
                }
            }
        }
    }
    let printed: HashSet<String> = names.into_iter().collect();
    for mut r in db.query(
        "SELECT f.path FROM files f JOIN batches b ON b.lot = f.lot WHERE b.out_dir = $1 \
         AND b.status <> 'void' ORDER BY f.path",
        &[Value::text(abs.display().to_string())],
    )? {
        let path = r.text("path")?;
        let name = Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !printed.contains(&name) {
            f.missing.push(path);
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::printed_kind;

    #[test]
    fn every_document_troche_prints_is_known_by_its_name() {
        let kind = |n: &str| printed_kind(n).map(|(s, k)| (s.to_string(), k));
        let is = |s: &str, k: &str| Some((s.to_string(), k.to_string()));
        assert_eq!(
            kind("261130-001-worksheet.pdf"),
            is("261130-001", "worksheet")
        );
        assert_eq!(kind("261130-001.json"), is("261130-001", "json"));
        assert_eq!(kind("261130-001-record.pdf"), is("261130-001", "record-1"));
        assert_eq!(
            kind("261130-001-record-12.pdf"),
            is("261130-001", "record-12")
        );
        assert_eq!(kind("261130-001-release.pdf"), is("261130-001", "release"));
        assert_eq!(kind("261130-001-record-1.pdf"), None);
        assert_eq!(kind("261130-001-record-x.pdf"), None);
        assert_eq!(kind("notes.txt"), None);
    }
}
