//! The password of a PostgreSQL log from a password file, as libpq reads it (the `postgres`
//! client does not): `PGPASSFILE`, else `~/.pgpass`; lines `host:port:database:user:password`,
//! `*` matching anything, `\:` and `\\` escaped, the first matching line winning. A file that
//! its group or others may read is ignored with a warning, as libpq ignores it.

use std::path::{Path, PathBuf};

/// What a line must match.
pub(super) struct Wanted<'a> {
    pub host: &'a str,
    pub port: u16,
    pub database: &'a str,
    pub user: &'a str,
}

/// The password file in use, if there is one.
fn file() -> Option<PathBuf> {
    match std::env::var_os("PGPASSFILE") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::home_dir().map(|h| h.join(".pgpass")),
    }
}

/// The password for `wanted` from the password file; `warn` is told why a file there was not
/// read.
pub(super) fn lookup(wanted: &Wanted<'_>, warn: &mut dyn FnMut(String)) -> Option<String> {
    lookup_in(&file()?, wanted, warn)
}

/// The password for `wanted` from the password file at `path`.
fn lookup_in(path: &Path, wanted: &Wanted<'_>, warn: &mut dyn FnMut(String)) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            warn(format!(
                "password file {} is ignored: its group or others may read it (mode {:04o}); \
                 chmod 0600 it",
                path.display(),
                mode & 0o777
            ));
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    find(&text, wanted)
}

/// The first line of `text` that matches `wanted`: its password.
pub(super) fn find(text: &str, wanted: &Wanted<'_>) -> Option<String> {
    let port = wanted.port.to_string();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let f = fields(line);
            let [host, p, db, user, password] = f.as_slice() else {
                return None;
            };
            let ok = |pattern: &str, value: &str| pattern == "*" || pattern == value;
            (ok(host, wanted.host)
                && ok(p, &port)
                && ok(db, wanted.database)
                && ok(user, wanted.user))
            .then(|| password.clone())
        })
}

/// A line's fields: split at unescaped colons, `\:` and `\\` unescaped. The password is the
/// rest of the line after the fourth colon.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(f)) = (chars.next(), out.last_mut()) {
                    f.push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => {
                if let Some(f) = out.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    out
}

/// Where a password file is looked for, for messages.
pub(super) fn describe() -> String {
    file().map_or_else(|| "~/.pgpass".into(), |p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_as_libpq_does() {
        let text = "# comment\n\
                    other:5432:*:troche:nope\n\
                    db.local:5432:pharmacy:troche:s\\:cr\\\\et:x\n\
                    *:*:*:*:fallback\n";
        let w = |host, port, database, user| Wanted {
            host,
            port,
            database,
            user,
        };
        assert_eq!(
            find(text, &w("db.local", 5432, "pharmacy", "troche")).as_deref(),
            Some("s:cr\\et:x")
        );
        assert_eq!(
            find(text, &w("db.local", 5433, "pharmacy", "troche")).as_deref(),
            Some("fallback")
        );
        assert_eq!(
            find(text, &w("other", 5432, "x", "troche")).as_deref(),
            Some("nope")
        );
        assert_eq!(find("h:1:d:u\n", &w("h", 1, "d", "u")), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_read_is_ignored_with_a_warning() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pgpass");
        std::fs::write(&p, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let w = Wanted {
            host: "h",
            port: 5432,
            database: "d",
            user: "u",
        };
        let check = |expect: Option<&str>, warned: bool| {
            let mut warnings = Vec::new();
            let got = lookup_in(&p, &w, &mut |m| warnings.push(m));
            assert_eq!(got.as_deref(), expect);
            assert_eq!(!warnings.is_empty(), warned, "{warnings:?}");
            if warned {
                assert!(warnings[0].contains("0644"), "{warnings:?}");
            }
        };
        check(None, true);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        check(Some("pw"), false);
    }
}
