//! Every command the README and docs/*.md show is run as written, from what a fresh clone
//! holds, and must give the exit status and the output the document shows.
//!
//! The documents are read in the order a new user reads them (README.md first, then docs/ by
//! name) in one scratch directory that holds what a clone holds (`formulas/`, `docs/examples/`,
//! `tests/fixtures/`, `troche.example.toml`) and no `troche.toml`, so the README's first-run
//! step (`cp troche.example.toml troche.toml`) is what makes the label examples work.
//!
//! What is run:
//! - in `sh` code blocks, every line that runs troche (`troche ...`, `./target/release/troche ...`,
//!   `cargo run --release -- ...`, `cargo run --locked -- ...`, run with the built binary), `cp A B` and `pdftotext`; other
//!   tools (`cargo test`, `pdftoppm`, `hyperfine`) are not run here;
//! - `pdftotext [-layout] FILE -`, wherever it is: the text shown must be the PDF's. Every run
//!   of text the document shows (a line, split where it has two spaces or more) must be in the
//!   text extracted in Rust; where poppler's `pdftotext` is installed, its output must also be
//!   the lines shown, as for a troche command;
//! - in other blocks, every `$ troche ...` line, whose output is the lines below it up to the
//!   next `$ ` line. A shown output is compared line by line (trailing spaces aside); `...`
//!   stands for lines left out. Output with a `error:` line (or `troche check`'s
//!   closing "... has problems") must come with exit status 2, any other with 0;
//! - `$ cat FILE` writes FILE with the lines shown when the scratch directory does not have it
//!   (the document says that is what it holds), and checks them when it does (a file a command
//!   above wrote);
//! - a `toml` code block right after a line naming a file (`FILE.toml` in backticks,
//!   then a colon) writes that file.
//!
//! No example may write to the compounding log a pharmacy uses: the documents' examples that
//! write run in the practice log (`--practice`) or a log of their own (`--db /tmp/...`). Each
//! document runs with the user's directories in the scratch directory, and the test fails if
//! any document created the default log there.
//!
//! Two files the documents describe in words are made as they say: `ketamine-no-basis.toml`
//! (the library's ketamine troche without its `label_basis` line) and `ketamine-old-blank.toml`
//! (the same with its version 1 blank weight, 0.892 g).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for e in std::fs::read_dir(from).expect("read folder") {
        let p = e.expect("entry").path();
        let target = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

/// A fresh clone's files, without build output or a `troche.toml`.
fn fresh_clone(dir: &Path) {
    copy_dir(&root().join("formulas"), &dir.join("formulas"));
    copy_dir(&root().join("docs/examples"), &dir.join("docs/examples"));
    copy_dir(&root().join("tests/fixtures"), &dir.join("tests/fixtures"));
    std::fs::copy(
        root().join("troche.example.toml"),
        dir.join("troche.example.toml"),
    )
    .expect("copy");
    let ketamine =
        std::fs::read_to_string(root().join("formulas/ketamine-hcl-troche.toml")).expect("read");
    let no_basis: String = ketamine
        .lines()
        .filter(|l| !l.trim_start().starts_with("label_basis"))
        .flat_map(|l| [l, "\n"])
        .collect();
    std::fs::write(dir.join("ketamine-no-basis.toml"), no_basis).expect("write");
    let old_blank = ketamine.replacen(
        "blank_weight = \"0.975 g\"",
        "blank_weight = \"0.892 g\"",
        1,
    );
    assert_ne!(
        old_blank, ketamine,
        "the ketamine troche's blank weight moved"
    );
    std::fs::write(dir.join("ketamine-old-blank.toml"), old_blank).expect("write");
    // A document's /tmp (see `troche_args`).
    std::fs::create_dir_all(dir.join("tmp")).expect("folder");
}

/// A path of a document's command line in the scratch directory: its /tmp is the scratch
/// directory's `tmp/`.
fn local(dir: &Path, p: &str) -> PathBuf {
    dir.join(
        p.strip_prefix("/tmp/")
            .map_or(p.to_string(), |t| format!("tmp/{t}")),
    )
}

/// The file of `pdftotext [-layout] FILE -`, or `None` for another line.
fn pdftotext_file(words: &[String]) -> Option<&str> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["pdftotext", "-layout", file, "-"] | ["pdftotext", file, "-"] => Some(file),
        _ => None,
    }
}

/// What is wrong with the text a document shows for a PDF (`pdftotext`), if anything.
fn pdf_text_problems(dir: &Path, words: &[String], file: &str, shown: &[String]) -> Vec<String> {
    let bytes = match std::fs::read(local(dir, file)) {
        Ok(b) => b,
        Err(e) => return vec![format!("{file}: {e}")],
    };
    let text = crate::common::pdf_text(&bytes);
    let mut problems: Vec<String> = shown
        .iter()
        .filter(|l| l.trim() != "...")
        .flat_map(|l| l.split("  "))
        .map(|run| run.split_whitespace().collect::<String>())
        .filter(|run| !run.is_empty() && !text.contains(run.as_str()))
        .map(|run| format!("the PDF has no text {run:?}"))
        .collect();
    if shown.is_empty() {
        return problems;
    }
    // Poppler's own output, where it is installed, line for line.
    let mut args: Vec<String> = words[1..].to_vec();
    if let Some(a) = args.iter_mut().find(|a| a.as_str() == file) {
        *a = local(dir, file).display().to_string();
    }
    if let Ok(out) = std::process::Command::new("pdftotext").args(&args).output() {
        // A page ends with a form feed: shown as the blank line between pages.
        let got = String::from_utf8_lossy(&out.stdout).replace('\u{c}', "\n");
        let got = format!("{}\n", got.trim_end());
        if !out.status.success() || !matches(shown, &got) {
            problems.push(format!("pdftotext prints\n{got}"));
        }
    }
    problems
}

/// Splits a command line as a POSIX shell would for these documents: words, "double" and
/// 'single' quotes. `None` for a line that needs a real shell (pipes, redirections,
/// variables), which is not run here.
fn words(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    cur.push(d);
                }
            }
            '|' | '>' | '<' | '$' | '`' | ';' | '&' => return None,
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// One command of a document and what the document shows it gives.
struct Example {
    place: String,
    line: String,
    /// Lines of output shown, when the document shows them.
    shown: Option<Vec<String>>,
}

/// Where a document's examples and files are, in the order they appear.
enum Step {
    Run(Example),
    Write {
        name: String,
        text: String,
    },
    Cat {
        place: String,
        name: String,
        shown: Vec<String>,
    },
}

fn steps(doc: &str, text: &str) -> Vec<Step> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i + 1;
        let end = (start..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .expect("closed block");
        let block = &lines[start..end];
        let place = |j: usize| format!("{doc}:{}", start + j + 1);
        match info.trim() {
            "sh" => {
                let mut joined = Vec::new();
                let mut cur = String::new();
                for (j, l) in block.iter().enumerate() {
                    if let Some(head) = l.trim_end().strip_suffix('\\') {
                        cur.push_str(head);
                        continue;
                    }
                    cur.push_str(l);
                    joined.push((j, std::mem::take(&mut cur)));
                }
                for (j, l) in joined {
                    out.push(Step::Run(Example {
                        place: place(j),
                        line: l.trim().to_string(),
                        shown: None,
                    }));
                }
            }
            "toml" => {
                // A file named just before the block: "`NAME.toml`:".
                let named = lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .and_then(|l| l.trim().strip_prefix('`'))
                    .and_then(|l| l.strip_suffix("`:"))
                    .filter(|n| {
                        std::path::Path::new(n)
                            .extension()
                            .is_some_and(|e| e == "toml")
                    });
                if let Some(name) = named {
                    out.push(Step::Write {
                        name: name.to_string(),
                        text: block.iter().flat_map(|l| [*l, "\n"]).collect(),
                    });
                }
            }
            _ => {
                let mut j = 0;
                while j < block.len() {
                    let Some(cmd) = block[j].strip_prefix("$ ") else {
                        j += 1;
                        continue;
                    };
                    let k = (j + 1..block.len())
                        .find(|&k| block[k].starts_with("$ "))
                        .unwrap_or(block.len());
                    let shown: Vec<String> = block[j + 1..k]
                        .iter()
                        .map(std::string::ToString::to_string)
                        .collect();
                    if let Some(name) = cmd.strip_prefix("cat ") {
                        out.push(Step::Cat {
                            place: place(j),
                            name: name.trim().to_string(),
                            shown,
                        });
                    } else {
                        out.push(Step::Run(Example {
                            place: place(j),
                            line: cmd.to_string(),
                            shown: Some(shown),
                        }));
                    }
                    j = k;
                }
            }
        }
        i = end + 1;
    }
    out
}

/// Whether `got` is what `shown` shows: the same lines, `...` standing for any lines.
fn matches(shown: &[String], got: &str) -> bool {
    let got: Vec<&str> = got.lines().map(str::trim_end).collect();
    let chunks: Vec<Vec<&str>> = shown
        .split(|l| l.trim() == "...")
        .map(|c| c.iter().map(|l| l.trim_end()).collect())
        .collect();
    let mut at = 0;
    let last = chunks.len() - 1;
    for (n, chunk) in chunks.iter().enumerate() {
        if chunk.is_empty() {
            continue;
        }
        let fits = |s: usize| got.get(s..s + chunk.len()) == Some(chunk.as_slice());
        let found = if n == 0 {
            fits(0).then_some(0)
        } else if n == last {
            got.len()
                .checked_sub(chunk.len())
                .filter(|&s| s >= at && fits(s))
        } else {
            (at..got.len()).find(|&s| fits(s))
        };
        let Some(s) = found else {
            return false;
        };
        at = s + chunk.len();
    }
    // Without a closing "...", the output ends where the shown lines do.
    shown.last().is_some_and(|l| l.trim() == "...") || at == got.len()
}

/// The folder of a document's own compounding log, from a place such as "docs/log.md:12".
fn doc_log(place: &str) -> String {
    place
        .split(':')
        .next()
        .unwrap_or(place)
        .replace(['/', '.'], "-")
}

/// The troche arguments of a command line, or `None` for another tool.
fn troche_args(words: &[String]) -> Option<Vec<String>> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let ([
        "troche" | "./target/release/troche" | "target/release/troche",
        rest @ ..,
    ]
    | ["cargo", "run", "--release" | "--locked", "--", rest @ ..]) = w.as_slice()
    else {
        return None;
    };
    // A document's /tmp is the scratch directory's.
    Some(
        rest.iter()
            .map(|a| {
                a.strip_prefix("/tmp/")
                    .map_or((*a).to_string(), |t| format!("tmp/{t}"))
            })
            .collect(),
    )
}

/// What a documented command reads on standard input: the PINs of its signers, one line each
/// (docs/log.md). Every person of the documents has the PIN `INITIALS-pin-2468`; `user add X`
/// reads X's new PIN and then `--by`'s, `user pin X` X's old and new, every other command
/// `--by`'s and then `--witness`'s.
fn pins(args: &[String]) -> String {
    let pin = |who: &str| format!("{}-pin-2468\n", who.to_ascii_uppercase());
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    // The global flags before the command.
    loop {
        match a.as_slice() {
            ["--db", _, ..] => a.drain(..2),
            ["--practice", ..] => a.drain(..1),
            _ => break,
        };
    }
    let mut out = match a.as_slice() {
        ["user", "add", who, ..] => pin(who),
        ["user", "pin", who, ..] => pin(who) + &pin(who),
        _ => String::new(),
    };
    for flag in ["--by", "--witness"] {
        if let Some(who) = a.iter().position(|w| *w == flag).and_then(|i| a.get(i + 1)) {
            out.push_str(&pin(who));
        }
    }
    out
}

#[test]
fn every_documented_command_runs_as_written() {
    let dir = tempfile::tempdir().expect("scratch");
    let dir = dir.path();
    fresh_clone(dir);
    let mut docs = vec![root().join("README.md")];
    let mut rest: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    rest.sort();
    docs.extend(rest);

    let mut problems = Vec::new();
    let mut ran = 0;
    for doc in &docs {
        let name = in_repo(doc);
        let text = std::fs::read_to_string(doc).expect("read doc");
        let steps = steps(&name, &text);
        // A document may show a file after the commands that use it.
        for step in &steps {
            if let Step::Write { name, text } = step {
                std::fs::write(dir.join(name), text).expect("write");
            }
        }
        for step in steps {
            match step {
                Step::Write { name, text } => std::fs::write(dir.join(name), text).expect("write"),
                Step::Cat { place, name, shown } => {
                    let p = dir.join(&name);
                    let want: String = shown.iter().flat_map(|l| [l.as_str(), "\n"]).collect();
                    match std::fs::read_to_string(&p) {
                        Err(_) => {
                            std::fs::create_dir_all(p.parent().expect("parent")).expect("folder");
                            std::fs::write(&p, want).expect("write");
                        }
                        Ok(got) if matches(&shown, &got) => {}
                        Ok(got) => problems.push(format!(
                            "{place}: cat {name} shows\n{want}but it holds\n{got}"
                        )),
                    }
                }
                Step::Run(ex) => {
                    let Some(w) = words(&ex.line) else { continue };
                    if let ["cp", from, to] =
                        w.iter().map(String::as_str).collect::<Vec<_>>().as_slice()
                    {
                        if let Err(e) = std::fs::copy(local(dir, from), local(dir, to)) {
                            problems.push(format!("{}: {}: {e}", ex.place, ex.line));
                        }
                        continue;
                    }
                    if let Some(file) = pdftotext_file(&w) {
                        ran += 1;
                        let shown = ex.shown.as_deref().unwrap_or_default();
                        for p in pdf_text_problems(dir, &w, file, shown) {
                            problems.push(format!(
                                "{}: {}\n{p}\nthe document shows\n{}",
                                ex.place,
                                ex.line,
                                shown.join("\n")
                            ));
                        }
                        continue;
                    }
                    let Some(args) = troche_args(&w) else {
                        continue;
                    };
                    ran += 1;
                    let out = assert_cmd::Command::cargo_bin("troche")
                        .expect("binary")
                        .current_dir(dir)
                        .env("HOME", dir)
                        .env("XDG_CONFIG_HOME", dir)
                        // Each document is its own tour of a new pharmacy: a compounding log
                        // of its own, so its lots start at 001 as it shows them.
                        .env("XDG_DATA_HOME", dir.join(".logs").join(doc_log(&ex.place)))
                        .env_remove("TROCHE_DATABASE_URL")
                        .args(&args)
                        .write_stdin(pins(&args))
                        .output()
                        .expect("run troche");
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    // A document's examples keep their dates (with --backdate); the warning
                    // that such a date is no longer recent depends on the day the test runs,
                    // so it is not part of what a document shows.
                    let stderr: String = String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .filter(|l| !l.ends_with("(allowed by --backdate)"))
                        .flat_map(|l| [l, "\n"])
                        .collect();
                    let fails = ex.shown.as_ref().is_some_and(|s| {
                        s.iter().any(|l| {
                            l.starts_with("error:")
                                || (l.starts_with("troche: ") && l.ends_with(" problems"))
                        })
                    });
                    let want = if fails { 2 } else { 0 };
                    let report = |what: &str| {
                        format!(
                            "{}: {}\n{what}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
                            ex.place, ex.line
                        )
                    };
                    if out.status.code() != Some(want) {
                        problems.push(report(&format!(
                            "exit status {:?}, the document implies {want}",
                            out.status.code()
                        )));
                        continue;
                    }
                    if let Some(shown) = ex.shown.as_ref().filter(|s| !s.is_empty()) {
                        // What the terminal shows, in either order; or the report on stdout
                        // alone (progress lines go to stderr).
                        let both = [
                            format!("{stdout}{stderr}"),
                            format!("{stderr}{stdout}"),
                            stdout.to_string(),
                        ];
                        if !both.iter().any(|g| matches(shown, g)) {
                            problems.push(report(&format!(
                                "the output differs from the document's:\n{}",
                                shown.join("\n")
                            )));
                        }
                    }
                }
            }
        }
    }
    // No document's examples wrote to the log a pharmacy would use.
    for doc in &docs {
        let name = in_repo(doc);
        let log = dir
            .join(".logs")
            .join(doc_log(&name))
            .join("troche/log.sqlite3");
        if log.exists() {
            problems.push(format!(
                "{name}: an example wrote to the default compounding log; give it --practice \
                 or --db /tmp/..."
            ));
        }
    }
    assert!(ran >= 20, "only {ran} commands found in the documents");
    assert!(
        problems.is_empty(),
        "{} problems:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// A document's path from the top of the repository.
fn in_repo(doc: &std::path::Path) -> String {
    doc.strip_prefix(root())
        .expect("in the repo")
        .display()
        .to_string()
}

#[test]
fn shown_output_is_matched_line_by_line_with_ellipses() {
    let s = |v: &[&str]| {
        v.iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert!(matches(&s(&["a", "b"]), "a\nb\n"));
    assert!(!matches(&s(&["a"]), "a\nb\n"));
    assert!(matches(&s(&["a", "..."]), "a\nb\n"));
    assert!(matches(&s(&["...", "c"]), "a\nb\nc\n"));
    assert!(matches(&s(&["a", "...", "c"]), "a\nb\nc\n"));
    assert!(!matches(&s(&["a", "...", "b"]), "a\nb\nc\n"));
    assert_eq!(
        words("troche calc \"50 mg\" x # note"),
        Some(vec![
            "troche".into(),
            "calc".into(),
            "50 mg".into(),
            "x".into()
        ])
    );
    assert_eq!(words("a | b"), None);
}
