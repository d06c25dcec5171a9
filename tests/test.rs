//! The one way the integration tests run the binary, after casey/just's `Test`: build up the
//! invocation and what it must give, then `run`, which asserts the exit status and the output
//! and hands back what was printed. Every test runs in a scratch directory of its own (xsv's
//! `Workdir`), with `HOME` and `XDG_CONFIG_HOME` pointed into it, so no `troche.toml` or earlier
//! file of the developer's machine can change an outcome.

use std::path::PathBuf;
use std::process::Output;

pub(crate) struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    status: i32,
    stdout: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
    env: Vec<(String, String)>,
    /// Standard input: the PINs of the command's signers, one a line.
    stdin: String,
}

/// The people [`Test::people`] puts in a log, with their PINs: two pharmacists and a
/// technician.
pub(crate) const RP: (&str, &str) = ("RP", "rp-pin-0001");
pub(crate) const PH: (&str, &str) = ("PH", "ph-pin-0002");
pub(crate) const TK: (&str, &str) = ("TK", "tk-pin-0003");

/// What a run printed, once its expectations have held.
pub(crate) struct Ran {
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    pub(crate) fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("scratch directory"),
            args: Vec::new(),
            status: 0,
            stdout: None,
            stdout_contains: Vec::new(),
            stderr_contains: Vec::new(),
            env: Vec::new(),
            stdin: String::new(),
        }
    }

    /// Puts two pharmacists (RP, PH) and a technician (TK) in the scratch directory's
    /// compounding log, so that commands which sign can be run (with [`Test::pins`]), and has
    /// RP approve the embedded formulas, as a pharmacy does once per log before its first
    /// batch.
    pub(crate) fn people(self) -> Test {
        let t = self.people_only();
        let mut cmd = t.command_with(&["formula", "approve", "--library", "--by", RP.0]);
        cmd.write_stdin(format!("{}\n", RP.1)).assert().success();
        t
    }

    /// [`Test::people`] without the approval of the embedded formulas.
    pub(crate) fn people_only(self) -> Test {
        for (who, name, role, by) in [
            (RP, "Rita Park", "pharmacist", None),
            (PH, "Paul Hart", "pharmacist", Some(RP)),
            (TK, "Tom King", "technician", Some(RP)),
        ] {
            let mut args = vec!["user", "add", who.0, "--name", name, "--role", role];
            let mut pins = vec![who.1];
            if let Some(by) = by {
                args.extend(["--by", by.0]);
                pins.push(by.1);
            }
            let mut cmd = self.command_with(&args);
            let mut input: String = pins.join("\n");
            input.push('\n');
            cmd.write_stdin(input).assert().success();
        }
        self
    }

    /// The next run in the same scratch directory (and so the same compounding log), with
    /// no arguments, input or expectations yet.
    pub(crate) fn again(self) -> Test {
        Test {
            dir: self.dir,
            env: self.env,
            ..Test::new()
        }
    }

    /// The lines of standard input: the PINs of the command's signers, in the order it reads
    /// them (`--by`, then `--witness`).
    pub(crate) fn pins(mut self, pins: &[&str]) -> Test {
        self.stdin = pins.join("\n");
        self.stdin.push('\n');
        self
    }

    /// A path inside the scratch directory, as text for an argument.
    pub(crate) fn at(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Writes a file into the scratch directory (its folders made as needed).
    pub(crate) fn file(self, name: &str, contents: &str) -> Test {
        let p: PathBuf = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        std::fs::write(&p, contents).expect("write test file");
        self
    }

    pub(crate) fn arg(mut self, a: impl AsRef<str>) -> Test {
        self.args.push(a.as_ref().to_string());
        self
    }

    pub(crate) fn args<S: AsRef<str>>(mut self, a: impl IntoIterator<Item = S>) -> Test {
        self.args
            .extend(a.into_iter().map(|s| s.as_ref().to_string()));
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The exit status the run must end with (default 0).
    pub(crate) fn status(mut self, code: i32) -> Test {
        self.status = code;
        self
    }

    /// Standard output, exactly.
    pub(crate) fn stdout(mut self, text: &str) -> Test {
        self.stdout = Some(text.to_string());
        self
    }

    pub(crate) fn stdout_contains(mut self, text: &str) -> Test {
        self.stdout_contains.push(text.to_string());
        self
    }

    pub(crate) fn stderr_contains(mut self, text: &str) -> Test {
        self.stderr_contains.push(text.to_string());
        self
    }

    /// Runs the binary without checking anything, for tests that judge the outcome
    /// themselves (a corpus whose files may pass or fail).
    pub(crate) fn output(&self) -> Output {
        self.command().output().expect("run troche")
    }

    fn command(&self) -> assert_cmd::Command {
        let mut cmd = self.command_with(&self.args);
        cmd.write_stdin(self.stdin.clone());
        cmd
    }

    /// The binary in the scratch directory with `args`, standard input not yet given.
    fn command_with<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("troche").expect("binary built");
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            // The compounding log goes to the scratch directory, never the user's.
            .env("XDG_DATA_HOME", self.dir.path())
            .env_remove("TROCHE_DATABASE_URL")
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary and checks every expectation; a failure shows both streams.
    pub(crate) fn run(&self) -> Ran {
        let output = self.output();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let show = || {
            format!(
                "troche {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
                self.args.join(" ")
            )
        };
        assert_eq!(
            output.status.code(),
            Some(self.status),
            "exit status\n{}",
            show()
        );
        assert!(!stderr.contains("panicked"), "panic\n{}", show());
        if self.status != 0 {
            assert!(
                stdout.is_empty() || self.stdout.is_some() || !self.stdout_contains.is_empty(),
                "output on failure\n{}",
                show()
            );
        }
        if let Some(want) = &self.stdout {
            assert_eq!(&stdout, want, "stdout\n{}", show());
        }
        for want in &self.stdout_contains {
            assert!(
                stdout.contains(want.as_str()),
                "stdout lacks {want:?}\n{}",
                show()
            );
        }
        for want in &self.stderr_contains {
            assert!(
                stderr.contains(want.as_str()),
                "stderr lacks {want:?}\n{}",
                show()
            );
        }
        Ran { stdout, stderr }
    }

    /// Runs a command that must be refused with exit status 2 (what the user can fix),
    /// printing nothing on standard output; returns its standard error.
    pub(crate) fn refused(self) -> String {
        self.status(2).run().stderr
    }

    /// Runs with `--format json` added, which must succeed, and returns the parsed JSON.
    pub(crate) fn json(self) -> serde_json::Value {
        let t = self.args(["--format", "json"]);
        let ran = t.run();
        serde_json::from_str(&ran.stdout).expect("valid JSON")
    }
}
