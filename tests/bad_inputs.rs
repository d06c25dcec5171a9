//! Files as they reach the bench: typos, files saved by word processors, orders exported from
//! other systems. Every file under `tests/bad-inputs/` is run through the real binary:
//!
//! - `formula/`: `troche check FILE`;
//! - `order/`: `troche calc --order FILE`;
//! - `recipe/`: `troche batch --check FILE --config tests/fixtures/troche.toml`.
//!
//! Files under `accepted/` are what a pharmacist plainly meant (a byte-order mark, CRLF line
//! endings, "50mg", "50 MG", "µg") and must succeed. Every other file must be refused with exit
//! status 2, no panic, and one message naming the file and line; that message is snapshotted
//! (`tests/snapshots/bad_inputs__*.snap`) so a change of wording is reviewed like code.
//! Regenerate with `INSTA_UPDATE=always cargo test --test integration bad_inputs`, then read
//! every snapshot.

use crate::common::*;

use std::path::{Path, PathBuf};

/// Refusals whose message cannot name the file: none left. (Kept so that a future check that
/// runs where the file is no longer known is listed here with its reason.)
const NOT_LOCATED: &[&str] = &[];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs")
}

/// What one run of the binary on one file gave.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(kind: &str, file: &Path) -> Run {
    let file = file.display().to_string();
    let test = match kind {
        "formula" => Test::new().args(["check", &file]),
        "order" => Test::new().args(["calc", "--config", &config(), "--order", &file]),
        "recipe" => Test::new().args([
            "batch",
            "--check",
            &file,
            "--config",
            &config(),
            "--backdate",
        ]),
        other => panic!("unknown kind of input {other}"),
    };
    let out = test.output();
    let repo = env!("CARGO_MANIFEST_DIR");
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(repo, "<repo>");
    Run {
        code: out.status.code(),
        stdout: clean(&out.stdout),
        stderr: clean(&out.stderr),
    }
}

/// The lines of a run that carry its message: stderr, and for a recipe the failed entries of
/// the summary on stdout (each failure is printed under its entry, indented).
fn message_lines(kind: &str, r: &Run) -> Vec<String> {
    let mut lines: Vec<String> = r
        .stderr
        .lines()
        .filter(|l| {
            // `troche check`'s closing count and a recipe's progress lines are not messages.
            !l.starts_with("error: 1 of 1 file has problems") && !l.starts_with('[')
        })
        .map(String::from)
        .collect();
    if kind == "recipe" {
        lines.extend(
            r.stdout
                .lines()
                .filter(|l| l.starts_with("       ") && !l.trim().is_empty())
                .map(|l| l.trim().to_string()),
        );
    }
    lines
}

/// The ingredients a calculation gives, as (name, exact amount): what "read as meant" means
/// for an accepted file.
fn batch_of(args: &[&str]) -> Vec<(String, String)> {
    let v = calc_json(&[args, &["--config", &config()]].concat());
    v["ingredients"]
        .as_array()
        .expect("ingredients")
        .iter()
        .map(|i| (i["name"].to_string(), i["exact"].to_string()))
        .collect()
}

/// What an accepted file must compute: the same batch as the plain spelling of it.
fn read_as_meant(kind: &str, file: &Path) -> Option<String> {
    let f = file.to_str().expect("UTF-8 path");
    let (got, want) = match kind {
        // Every accepted formula is the same formula spelt differently.
        "formula" => (
            batch_of(&order(f, "50 mg", "30", &["--basis", "salt"])),
            batch_of(&[
                &corpus()
                    .join("accepted/formula/crlf.toml")
                    .display()
                    .to_string(),
                "--strength",
                "50 mg",
                "--quantity",
                "30",
                "--basis",
                "salt",
            ]),
        ),
        // Every accepted order is ketamine 50 mg, 30 troches and 2 extra.
        "order" => (
            batch_of(&["--order", f]),
            batch_of(&order(
                "ketamine-hcl-troche",
                "50 mg",
                "30",
                &["--extra", "2"],
            )),
        ),
        _ => return None,
    };
    (got != want).then(|| format!("read differently from its plain spelling:\n{got:?}\n{want:?}"))
}

/// Runs every file of one kind (refused and accepted) through `insta::glob!`, one snapshot
/// per file; every other problem is collected so one run shows them all.
fn check_kind(kind: &str) {
    let mut problems = Vec::new();
    let mut seen = (0, 0);
    insta::glob!(
        "bad-inputs",
        &format!("{{{kind},accepted/{kind}}}/*.toml"),
        |file| {
            let rel = file
                .strip_prefix(corpus())
                .expect("under the corpus")
                .to_string_lossy()
                .replace('\\', "/");
            let should_pass = rel.starts_with("accepted/");
            if should_pass {
                seen.1 += 1;
            } else {
                seen.0 += 1;
            }
            let r = run(kind, file);
            let mut problem = |p: String| problems.push(format!("{rel}: {p}"));
            if r.stderr.contains("panicked") || r.stdout.contains("panicked") {
                problem(format!("panicked:\n{}", r.stderr));
                return;
            }
            if should_pass {
                if r.code != Some(0) {
                    problem(format!(
                        "must be accepted, got exit {:?}:\n{}{}",
                        r.code, r.stderr, r.stdout
                    ));
                } else if let Some(p) = read_as_meant(kind, file) {
                    problem(p);
                }
            } else {
                if r.code != Some(2) {
                    problem(format!(
                        "must be refused with exit 2, got {:?}:\n{}{}",
                        r.code, r.stderr, r.stdout
                    ));
                }
                let lines = message_lines(kind, &r);
                if lines.len() != 1 {
                    problem(format!(
                        "must give exactly one message, gave {}:\n{}",
                        lines.len(),
                        lines.join("\n")
                    ));
                }
                let message = lines.join("\n");
                if message.len() > 600 {
                    problem(format!(
                        "message of {} bytes: long input must not be echoed",
                        message.len()
                    ));
                }
                let named = message.contains(&format!("<repo>/tests/bad-inputs/{rel}:"));
                if !named && !NOT_LOCATED.contains(&rel.as_str()) {
                    problem(format!("the message does not name the file:\n{message}"));
                }
            }
            // One snapshot per file: stderr, and stdout when it says something about the file
            // (a recipe's summary, `troche check`'s "ok" line). The calculation an accepted order
            // prints is compared above instead.
            let shown = if r.stdout.is_empty() || (should_pass && kind == "order") {
                r.stderr.clone()
            } else {
                format!("{}--- stdout ---\n{}", r.stderr, r.stdout)
            };
            insta::with_settings!({ description => format!("troche on tests/bad-inputs/{rel}"), omit_expression => true }, {
                insta::assert_snapshot!(kind, shown);
            });
        }
    );
    assert!(seen.0 > 0, "no {kind} files in tests/bad-inputs");
    assert!(seen.1 > 0, "no {kind} files in tests/bad-inputs/accepted");
    assert!(
        problems.is_empty(),
        "{} problems:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn malformed_formulas_are_refused_with_one_located_message() {
    check_kind("formula");
}

#[test]
fn malformed_orders_are_refused_with_one_located_message() {
    check_kind("order");
}

#[test]
fn malformed_recipes_are_refused_with_one_located_message() {
    check_kind("recipe");
}
