//! Reading input files without trusting what sits at their path: only a regular file is read,
//! and only up to a stated size.
//!
//! A path may name a FIFO (a read blocks until some writer comes), a device (`/dev/zero` never
//! ends) or a file of any size. Each file is opened without blocking (`O_NONBLOCK`, so opening
//! a FIFO returns at once), then the *opened* file's metadata is checked, so nothing can be
//! swapped in between the check and the read; and the read stops one byte past the limit, so
//! a file that grows while it is read is refused too.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

/// The largest formula, order or settings file read: 1 MiB. The library's formulas are 2 to 6
/// KB; an order is a few hundred bytes.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// The largest recipe file read: 8 MiB, about 40,000 entries of 200 bytes. What reading one
/// takes in memory: docs/performance.md.
pub const MAX_RECIPE_BYTES: u64 = 8 << 20;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system refused (missing, no permission, a link where none may be).
    Io(std::io::Error),
    /// Something other than a regular file: what it is.
    NotRegular(&'static str),
    /// Larger than `limit` bytes.
    TooLarge { limit: u64 },
}

/// What a file that is not a regular file is, in words.
fn kind(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Opens `path` for reading without blocking on a FIFO; with `follow` false a symbolic link
/// at `path` itself is refused (`O_NOFOLLOW`) rather than followed.
fn open(path: &Path, follow: bool) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut flags = libc::O_NONBLOCK;
        if !follow {
            flags |= libc::O_NOFOLLOW;
        }
        o.custom_flags(flags);
    }
    // Elsewhere there is no `O_NOFOLLOW`: `follow` has nothing to set.
    #[cfg(not(unix))]
    let _ = follow;
    o.open(path)
}

/// Reads a regular file of at most `limit` bytes. With `follow` false, a symbolic link is
/// refused.
pub fn read_regular(path: &Path, limit: u64, follow: bool) -> Result<Vec<u8>, ReadError> {
    let file = open(path, follow).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// A size in words: "1 MiB", "8 MiB", else bytes.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_regular(&p, 5, true).unwrap(), b"12345");
        assert!(matches!(
            read_regular(&p, 4, true),
            Err(ReadError::TooLarge { limit: 4 })
        ));
        assert!(matches!(
            read_regular(dir.path(), 5, true),
            Err(ReadError::NotRegular("a directory"))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_unfollowed_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 10, true),
            Err(ReadError::NotRegular("a device"))
        ));
        let fifo = dir.path().join("f.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Returns at once: opening does not wait for a writer.
            assert!(matches!(
                read_regular(&fifo, 10, true),
                Err(ReadError::NotRegular("a FIFO (named pipe)"))
            ));
        }
        let target = dir.path().join("t");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("l.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_regular(&link, 10, true).unwrap(), b"x");
        assert!(matches!(
            read_regular(&link, 10, false),
            Err(ReadError::Io(_))
        ));
    }
}
