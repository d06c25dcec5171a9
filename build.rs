//! Embeds every formula under `formulas/` into the binary, so `troche calc ID` works from any
//! directory. The list is generated (sorted by file name) rather than written by hand, so a new
//! formula file cannot be forgotten.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("formulas");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// (id, TOML text) of every formula in `formulas/`, sorted by id.\npub static FORMULAS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let id = f
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("formula file names are UTF-8");
        writeln!(
            out,
            "    ({id:?}, include_str!({:?})),",
            f.display().to_string()
        )
        .expect("write to String");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("library.rs");
    std::fs::write(dest, out).expect("write generated library list");
}
