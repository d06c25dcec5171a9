//! The log's database as a pharmacy's IT person meets it: the setting names the right log or
//! is refused, commands that only read never make a log, a log the user may only read is read,
//! and a backup taken while others write is complete and checked before it has its name.

use crate::common::*;
use crate::log::troche;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn run(db: &str, args: &[&str]) -> Output {
    troche().arg("--db").arg(db).args(args).output().unwrap()
}

fn ok(db: &str, args: &[&str]) -> String {
    let o = run(db, args);
    assert!(
        o.status.success(),
        "troche {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The command's standard error, after checking its exit status.
fn refused(o: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// `make` of a batch that needs no prescription particulars beyond the Rx, patient and
/// prescriber, into `out` with the settings `cfg`.
fn make_args<'a>(cfg: &'a str, out: &'a Path, rx: &'a str) -> Vec<&'a str> {
    let mut v = vec!["make"];
    v.extend(PROGESTERONE);
    v.extend(["--config", cfg, "--out", out.to_str().unwrap(), "--rx", rx]);
    v.extend(["--patient", "Ann Lee", "--prescriber", "Dr. Who"]);
    v
}

/// Makes a batch of [`make_args`] with the test settings.
fn make(db: &str, out: &Path, rx: &str) {
    ok(db, &make_args(&fixture("troche.toml"), out, rx));
}

/// A mistyped setting never becomes a file name: a URL of another scheme, a PostgreSQL
/// scheme misspelt, or a libpq connection string is refused, and its password is not shown.
#[test]
fn a_setting_that_is_no_path_and_no_postgresql_url_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        "postgresq://u:secret@h/db",
        "postgre://u:secret@h/db",
        "mysql://u:secret@h/db",
        "postgres:u:secret@h/db",
        "host=db.local dbname=pharmacy password=secret",
        "dbname=pharmacy user=troche",
    ] {
        let o = troche()
            .current_dir(tmp.path())
            .env("TROCHE_DATABASE_URL", bad)
            .args(["db", "check"])
            .output()
            .unwrap();
        let err = refused(&o, 2);
        assert!(err.contains("TROCHE_DATABASE_URL"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let cfg = tmp.path().join("troche.toml");
        fs::write(&cfg, format!("database = {bad:?}\n")).unwrap();
        let o = troche()
            .current_dir(tmp.path())
            .args(["log", "--config", cfg.to_str().unwrap()])
            .output()
            .unwrap();
        let err = refused(&o, 2);
        assert!(err.contains("database") && !err.contains("secret"), "{err}");
        fs::remove_file(&cfg).unwrap();
        // Nothing was created, under any name.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "{bad}");
    }
    // The scheme in any case is a PostgreSQL URL: the server is tried (and not reached),
    // never a file of that name made.
    let o = troche()
        .current_dir(tmp.path())
        .env(
            "TROCHE_DATABASE_URL",
            "POSTGRESQL://u:secret@127.0.0.1:1/x?connect_timeout=2",
        )
        .args(["db", "check"])
        .output()
        .unwrap();
    let err = refused(&o, 1);
    assert!(
        err.contains("cannot reach the server at 127.0.0.1:1") && !err.contains("secret"),
        "{err}"
    );
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// Commands that only read, and those that add to an existing log, never make one; `make`
/// does, where no file is or an empty one.
#[test]
fn only_commands_that_make_batches_create_a_log() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("sub").join("log.sqlite3");
    let d = db.to_str().unwrap();
    for args in [
        &["db", "check"][..],
        &["log"],
        &["lot", "261205-001"],
        &["recall", "K-1"],
        &["reprint", "261205-001"],
        &["verify", "261205-001", "--by", "AB"],
        &["db", "backup", tmp.path().join("b").to_str().unwrap()],
    ] {
        let err = refused(&run(d, args), 2);
        assert!(
            err.contains("no compounding log is there"),
            "{args:?}: {err}"
        );
        assert!(!db.exists() && !db.parent().unwrap().exists(), "{args:?}");
    }
    // An empty file is no log to read, but one `make` may start.
    fs::create_dir(db.parent().unwrap()).unwrap();
    fs::write(&db, b"").unwrap();
    let err = refused(&run(d, &["db", "check"]), 2);
    assert!(err.contains("empty file"), "{err}");
    assert_eq!(fs::metadata(&db).unwrap().len(), 0);
    make(d, &tmp.path().join("out"), "RX-1");
    assert!(ok(d, &["db", "check"]).contains("batches: 1"));
}

/// Another program's SQLite database is refused untouched, by every command; anything but a
/// regular file is refused at once, never opened (a FIFO would block the open).
#[test]
fn another_programs_database_and_special_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("inventory.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch(
            "CREATE TABLE stock (item TEXT, count INTEGER); INSERT INTO stock VALUES ('x', 1);",
        )
        .unwrap();
    }
    let before = fs::read(&other).unwrap();
    let o = other.to_str().unwrap();
    for args in [&["db", "check"][..], &["log"]] {
        let err = refused(&run(o, args), 2);
        assert!(
            err.contains("another program") && err.contains("stock"),
            "{err}"
        );
    }
    let cfg = fixture("troche.toml");
    let out = tmp.path().join("out");
    let err = refused(&run(o, &make_args(&cfg, &out, "R")), 2);
    assert!(err.contains("another program"), "{err}");
    assert_eq!(fs::read(&other).unwrap(), before);
    assert!(!Path::new(&format!("{}-wal", other.display())).exists());

    let started = std::time::Instant::now();
    let fifo = tmp.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, says) in [
        (&fifo, "not a regular file"),
        (&tmp.path().to_path_buf(), "a directory"),
    ] {
        for args in [&["db", "check"][..], &["log"]] {
            let err = refused(&run(path.to_str().unwrap(), args), 2);
            assert!(err.contains(says), "{err}");
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// A log the user may only read (an inspector's copy) is read: `log`, `lot`, `recall` and
/// `db check` work and change nothing; a command that writes says why it cannot.
#[cfg(unix)]
#[test]
fn a_log_the_user_may_only_read_opens_read_only() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("log.sqlite3");
    let d = db.to_str().unwrap();
    make(d, &tmp.path().join("out"), "RX-1");
    // A copy for the inspector, in a folder of its own that they may not write either.
    let inspect = tmp.path().join("inspect");
    fs::create_dir(&inspect).unwrap();
    let copy = inspect.join("copy.sqlite3");
    ok(d, &["db", "backup", copy.to_str().unwrap()]);
    // And a plain copy of the log file (WAL mode, every commit in it once no troche runs),
    // which SQLite cannot open read-only where it cannot make a -shm file.
    let raw = inspect.join("raw.sqlite3");
    fs::copy(&db, &raw).unwrap();
    assert!(!Path::new(&format!("{d}-wal")).exists());
    fs::set_permissions(&raw, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&inspect, fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let before = fs::read(&copy).unwrap();
    // Root may write any file: the inspector is another user then.
    let as_reader = |args: &[&str]| {
        let mut c = troche();
        c.arg("--db").arg(&copy).args(args);
        if is_root() {
            c.uid(65534).gid(65534);
        }
        c.output().unwrap()
    };
    let lot = {
        let o = as_reader(&["log", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&refused_ok(&o)).unwrap();
        v[0]["lot"].as_str().unwrap().to_string()
    };
    refused_ok(&as_reader(&["lot", &lot]));
    refused_ok(&as_reader(&["recall", "nothing"]));
    let check = String::from_utf8(refused_ok(&as_reader(&["db", "check"]))).unwrap();
    assert!(
        check.contains("integrity: ok") && check.contains("batches: 1"),
        "{check}"
    );
    let mut c = troche();
    c.arg("--db").arg(&raw).args(["db", "check"]);
    if is_root() {
        c.uid(65534).gid(65534);
    }
    let raw_check = String::from_utf8(refused_ok(&c.output().unwrap())).unwrap();
    assert!(raw_check.contains("batches: 1"), "{raw_check}");
    let err = refused(&as_reader(&["verify", &lot, "--by", "AB"]), 2);
    assert!(err.contains("may only be read"), "{err}");
    assert_eq!(fs::read(&copy).unwrap(), before);
    assert_eq!(fs::read_dir(&inspect).unwrap().count(), 2);
    fs::set_permissions(&inspect, fs::Permissions::from_mode(0o755)).unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The standard output of a command that must succeed.
fn refused_ok(o: &Output) -> Vec<u8> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout.clone()
}

/// `db backup` finishes while `make` runs again and again in other processes, leaves no
/// temporary behind, and its copy passes `db check` with every batch committed before it
/// began; an existing file is replaced only with --force.
#[test]
fn a_backup_finishes_and_is_checked_while_others_write() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("log.sqlite3");
    let d = db.to_str().unwrap().to_string();
    let out = tmp.path().join("out");
    make(&d, &out, "RX-0");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (d, out, stop) = (d.clone(), out.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    make(&d, &out, &format!("RX-{w}-{n}"));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let backups = tmp.path().join("backups");
    fs::create_dir(&backups).unwrap();
    let copy = backups.join("log-copy.sqlite3");
    for round in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let committed = ok(&d, &["db", "check"]);
        let before: u64 = batches(&committed);
        let started = std::time::Instant::now();
        let mut args = vec!["db", "backup", copy.to_str().unwrap()];
        if round > 0 {
            let err = refused(&run(&d, &args), 2);
            assert!(err.contains("--force"), "{err}");
            args.push("--force");
        }
        let o = run(&d, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && err.contains("checked the copy: ok"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let check = ok(copy.to_str().unwrap(), &["db", "check"]);
        assert!(check.contains("integrity: ok"), "{check}");
        assert!(batches(&check) >= before, "{check}");
        // Only the copy: no temporary, no -wal or -shm file beside it.
        let names: Vec<_> = fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["log-copy.sqlite3"]);
    }
    // Never onto the log itself, --force or not.
    let err = refused(&run(&d, &["db", "backup", &d, "--force"]), 2);
    assert!(err.contains("is the log itself"), "{err}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let made: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(made > 0);
}

fn batches(check: &str) -> u64 {
    check
        .lines()
        .find_map(|l| l.strip_prefix("batches: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{check}"))
}

/// Patient files are private: a new output folder 0700 and its files 0600 whatever the umask,
/// or what `file_mode` says (0640 and 0750 for a pharmacy group); a mode that would let others
/// write, or anyone execute, is refused.
#[cfg(unix)]
#[test]
fn output_files_are_the_owners_unless_the_settings_say_otherwise() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("log.sqlite3").display().to_string();
    let out = tmp.path().join("patients").join("today");
    make(&d, &out, "RX-1");
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(out.parent().unwrap()), 0o700);
    let files: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // The pharmacy group may read.
    let base = fs::read_to_string(fixture("troche.toml")).unwrap();
    let group_cfg = tmp.path().join("group.toml");
    fs::write(&group_cfg, format!("file_mode = \"0640\"\n{base}")).unwrap();
    let shared = tmp.path().join("shared");
    let group = group_cfg.to_str().unwrap();
    refused_ok(&run(&d, &make_args(group, &shared, "RX-2")));
    assert_eq!(mode(&shared), 0o750);
    for f in fs::read_dir(&shared).unwrap() {
        assert_eq!(mode(&f.unwrap().path()), 0o640);
    }
    for bad in ["0666", "0755", "0400", "0602", "rw-r-----", "01640"] {
        fs::write(&group_cfg, format!("file_mode = \"{bad}\"\n{base}")).unwrap();
        let never = tmp.path().join("never");
        let err = refused(&run(&d, &make_args(group, &never, "RX-3")), 2);
        assert!(err.contains("file_mode"), "{bad}: {err}");
        assert!(!tmp.path().join("never").exists());
    }
}

/// A folder shared between workstations: a run removes the staging folders a killed run of
/// its own host left, never another host's (its process ids mean nothing here), however
/// stale they look.
#[test]
fn staging_folders_of_another_host_are_never_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let host = host_in_names();
    // Process ids above the kernel's maximum never run here.
    let ours = out.join(format!(".troche-4194999@{host}-Ab3xYz.partial"));
    let theirs = out.join(".troche-4194999@pharmacy2.local-Ab3xYz.partial");
    for d in [&ours, &theirs] {
        fs::create_dir(d).unwrap();
        fs::write(d.join("261205-001-worksheet.pdf"), b"half").unwrap();
    }
    make(
        &tmp.path().join("log.sqlite3").display().to_string(),
        &out,
        "RX-1",
    );
    assert!(!ours.exists(), "this host's dead run's staging is removed");
    assert!(theirs.join("261205-001-worksheet.pdf").exists());
}

/// The hidden temporaries in `dir`.
fn partials(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    v.sort();
    v
}

/// A `db backup` killed while it copies or checks leaves its hidden temporary; the next backup
/// into that folder removes it (this host's, its process gone), and never a live process's
/// or another host's.
#[test]
fn a_killed_backup_leaves_nothing_the_next_one_does_not_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("log.sqlite3");
    let d = db.to_str().unwrap().to_string();
    let out = tmp.path().join("out");
    for n in 0..6 {
        make(&d, &out, &format!("RX-{n}"));
    }
    let backups = tmp.path().join("backups");
    fs::create_dir(&backups).unwrap();
    let copy = backups.join("log-copy.sqlite3");
    // Killed as soon as its temporary appears (the copy and its check take a while); a
    // backup that finished first is taken away and tried again.
    let mut left = None;
    for _ in 0..50 {
        let mut child = troche()
            .args(["--db", &d, "db", "backup"])
            .arg(&copy)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        loop {
            if !partials(&backups).is_empty() {
                child.kill().unwrap();
                child.wait().unwrap();
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
        }
        let _ = fs::remove_file(&copy);
        let p = partials(&backups);
        if !p.is_empty() {
            left = Some(p);
            break;
        }
    }
    let left = left.expect("no backup was caught before it finished");
    assert_eq!(left.len(), 1, "{left:?}");
    let host = host_in_names();
    assert!(left[0].contains(&format!("@{host}-")), "{left:?}");
    // A live process's temporary (this test's own) and another host's stay.
    let live = format!(".troche-{}@{host}-Ab3xYz.partial", std::process::id());
    let theirs = ".troche-4194999@pharmacy2.local-Ab3xYz.partial".to_string();
    for name in [&live, &theirs] {
        fs::write(backups.join(name), b"half").unwrap();
    }
    let o = run(&d, &["db", "backup", copy.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let mut want = vec![live, theirs];
    want.sort();
    assert_eq!(partials(&backups), want);
    ok(copy.to_str().unwrap(), &["db", "check"]);
}

/// The log on a PostgreSQL server (a troche built with the `postgres` feature, the default).
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    /// Why the PostgreSQL tests are ignored in a plain `cargo test`.
    const NEEDS_POSTGRES: &str =
        "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)";

    /// A CA that signed nothing the test server shows (its key was thrown away).
    const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBlDCCATmgAwIBAgIUBISjs2Vm1B6+NTS9PCHy1yy8siEwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTbm90IHRoZSBwaGFybWFjeSBDQTAgFw0yNjEyMDUxNzA5NDZa
GA8yMTI2MTExMTE3MDk0NlowHjEcMBoGA1UEAwwTbm90IHRoZSBwaGFybWFjeSBD
QTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBGmICaLWvnD4JyQBZhlgxxSivos
2f2uoZ0TcZBNZJd8/z7j5VteEEwOaEmGi1HINbkrh3TwPbzLflvODFuwwaKjUzBR
MB0GA1UdDgQWBBQQ8G0ROD8Vi1aIQBP5gS4RJq3a/jAfBgNVHSMEGDAWgBQQ8G0R
OD8Vi1aIQBP5gS4RJq3a/jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kA
MEYCIQCrpn4J+OCTkCwSYVA2CTpxss1+sNMwSODKqqN6Sa6Y0wIhAIbOKcwIFlM6
Q0gz/1gF0N+scklHQ1pLyNX+PzYcMEyU
-----END CERTIFICATE-----
";

    /// The test server's URL in parts: `postgres://USER:PASSWORD@HOST:PORT/DB?QUERY`.
    #[derive(Clone)]
    struct Pg {
        user: String,
        password: String,
        host: String,
        port: String,
        db: String,
        query: String,
    }

    impl Pg {
        fn from_env() -> Pg {
            let url = std::env::var("TROCHE_TEST_POSTGRES_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| panic!("{NEEDS_POSTGRES}"));
            let rest = url.split_once("://").unwrap().1;
            let (auth, rest) = rest.rsplit_once('@').unwrap();
            let (user, password) = auth.split_once(':').unwrap();
            let (hostport, rest) = rest.split_once('/').unwrap();
            let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
            let (db, query) = rest.split_once('?').unwrap_or((rest, ""));
            Pg {
                user: user.into(),
                password: password.into(),
                host: host.into(),
                port: port.into(),
                db: db.into(),
                query: query.into(),
            }
        }

        fn url(&self) -> String {
            let auth = if self.password.is_empty() {
                self.user.clone()
            } else {
                format!("{}:{}", self.user, self.password)
            };
            let q = if self.query.is_empty() {
                String::new()
            } else {
                format!("?{}", self.query)
            };
            format!(
                "postgres://{auth}@{}:{}/{}{q}",
                self.host, self.port, self.db
            )
        }

        /// The query with `key=value` added (replacing an earlier value of `key`).
        fn with(&self, key: &str, value: &str) -> Pg {
            let mut kept: Vec<String> = self
                .query
                .split('&')
                .filter(|kv| !kv.is_empty() && !kv.starts_with(&format!("{key}=")))
                .map(String::from)
                .collect();
            kept.push(format!("{key}={value}"));
            Pg {
                query: kept.join("&"),
                ..self.clone()
            }
        }

        /// `troche ARGS` against this URL, given in the environment (it may hold a password).
        fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
            let mut c = troche();
            c.env("TROCHE_DATABASE_URL", self.url())
                .env_remove("PGPASSWORD")
                .env("PGPASSFILE", "/nonexistent/pgpass")
                .args(args);
            for (k, v) in env {
                c.env(k, v);
            }
            c.output().unwrap()
        }
    }

    /// A wrong password, a database that does not exist, a server that cannot be reached, a TLS
    /// handshake the server refuses and a certificate that is not trusted (signed by another CA,
    /// or naming another host) each get their own message; none shows the password.
    #[test]
    #[ignore = "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)"]
    fn connection_failures_are_told_apart() {
        let pg = Pg::from_env();
        let tmp = tempfile::tempdir().unwrap();
        let other_ca = tmp.path().join("other-ca.pem");
        fs::write(&other_ca, OTHER_CA).unwrap();
        let wrong = Pg {
            password: "not-the-password".into(),
            ..pg.clone()
        };
        let no_db = Pg {
            db: "no_such_database_here".into(),
            ..pg.clone()
        };
        let closed = Pg {
            port: "1".into(),
            ..pg.clone()
        };
        let by_ip = Pg {
            host: "127.0.0.1".into(),
            ..pg.clone()
        }
        .with("sslrootcert", pg_ca(&pg).as_str());
        let untrusted = pg.with("sslrootcert", other_ca.to_str().unwrap());
        for (case, says) in [
            (&wrong, "refused the password"),
            (&no_db, "has no database \"no_such_database_here\""),
            (&closed, "cannot reach the server"),
            (&untrusted, "is not signed by the CA given"),
            (&by_ip, "does not name the host connected to"),
        ] {
            let err = refused(&case.run(&["db", "check"], &[]), 1);
            assert!(err.contains(says), "{says}: {err}");
            assert!(!err.contains(&pg.password), "{err}");
        }
        // A server that answers the TLS request with "no".
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let fake = std::thread::spawn(move || {
            use std::io::{Read as _, Write as _};
            let (mut s, _) = listener.accept().unwrap();
            let mut request = [0u8; 8];
            s.read_exact(&mut request).unwrap();
            s.write_all(b"N").unwrap();
        });
        let plain = Pg {
            host: "127.0.0.1".into(),
            port,
            query: "sslmode=require".into(),
            ..pg.clone()
        };
        let err = refused(&plain.run(&["db", "check"], &[]), 1);
        assert!(err.contains("refused TLS"), "{err}");
        fake.join().unwrap();
    }

    /// The CA file the test URL names.
    fn pg_ca(pg: &Pg) -> String {
        pg.query
            .split('&')
            .find_map(|kv| kv.strip_prefix("sslrootcert="))
            .unwrap_or_else(|| panic!("the test URL names no sslrootcert: TLS is not verified"))
            .to_string()
    }

    /// A fresh schema of the test database (dropped with the guard) and the URL that uses it.
    struct PgSchema {
        pg: Pg,
        schema: crate::log::Schema,
    }

    impl PgSchema {
        fn new(pg: &Pg, name: &str) -> PgSchema {
            let schema = crate::log::Schema::create(&pg.url(), name);
            PgSchema {
                pg: pg.with("options", &format!("-c%20search_path%3D{}", schema.name())),
                schema,
            }
        }
    }

    /// The password from PGPASSFILE, as libpq reads it: used when the file is the owner's alone,
    /// ignored with a warning when its group or others may read it. A command that only reads
    /// makes no log in an empty database.
    #[cfg(unix)]
    #[test]
    #[ignore = "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)"]
    fn the_password_from_the_password_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let pg = Pg::from_env();
        let schema = PgSchema::new(&pg, "pgpass");
        let tmp = tempfile::tempdir().unwrap();
        let passfile = tmp.path().join("pgpass");
        fs::write(
            &passfile,
            format!("{}:{}:*:{}:{}\n", pg.host, pg.port, pg.user, pg.password),
        )
        .unwrap();
        fs::set_permissions(&passfile, fs::Permissions::from_mode(0o600)).unwrap();
        let no_password = Pg {
            password: String::new(),
            ..schema.pg.clone()
        };
        let env = [("PGPASSFILE", passfile.to_str().unwrap())];
        // Connected (the password was found), and refused as no log: nothing was created.
        let err = refused(&no_password.run(&["db", "check"], &env), 2);
        assert!(err.contains("holds no compounding log"), "{err}");
        let out = tmp.path().join("out");
        let cfg = fixture("troche.toml");
        let made = no_password.run(&make_args(&cfg, &out, "RX-1"), &env);
        refused_ok(&made);
        let check =
            String::from_utf8(refused_ok(&no_password.run(&["db", "check"], &env))).unwrap();
        assert!(check.contains("batches: 1"), "{check}");
        fs::set_permissions(&passfile, fs::Permissions::from_mode(0o644)).unwrap();
        let err = refused(&no_password.run(&["db", "check"], &env), 1);
        assert!(
            err.contains("is ignored") && err.contains("0644") && err.contains("password"),
            "{err}"
        );
        assert!(!err.contains(&pg.password), "{err}");
    }

    /// A writer that holds the log's lock too long makes another fail after the lock timeout
    /// with a message saying so, never hang. (The URL's options shorten the timeout from 30 s to
    /// 2 s, so that the other tests, which take the same lock, wait no longer than that.)
    #[test]
    #[ignore = "needs a PostgreSQL server: TROCHE_TEST_POSTGRES_URL (.ci/run starts one)"]
    fn a_held_lock_times_out() {
        use troche::store::{Db, Location, Transaction};
        let pg = Pg::from_env();
        let mut schema = PgSchema::new(&pg, "lock");
        schema.pg = pg.with(
            "options",
            &format!(
                "-c%20search_path%3D{}%20-c%20lock_timeout%3D2s",
                schema.schema.name()
            ),
        );
        let mut db = troche::store::open(&Location::Postgres(schema.pg.url())).unwrap();
        let tx = Transaction::begin(db.as_mut()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let cfg = fixture("troche.toml");
        let started = std::time::Instant::now();
        let out = tmp.path().join("out");
        let o = schema.pg.run(&make_args(&cfg, &out, "RX-1"), &[]);
        let waited = started.elapsed();
        let err = refused(&o, 1);
        assert!(err.contains("held the log's lock"), "{err}");
        assert!(
            waited >= std::time::Duration::from_millis(1500)
                && waited < std::time::Duration::from_secs(20),
            "{waited:?}"
        );
        tx.rollback().unwrap();
        // The lock is free again: the same command goes through.
        refused_ok(&schema.pg.run(&["db", "check"], &[]));
        let _: &mut dyn Db = db.as_mut();
    }
}
