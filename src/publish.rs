//! Writing output files so that no reader ever sees half of one, and nothing existing is
//! replaced unless asked.
//!
//! Each file is written by `tempfile` under a hidden temporary name in its own directory
//! (`.troche-PID-XXXXXX.partial`, created exclusively, never through a link), flushed, and
//! then given its real name: `persist` for `--force`, else `persist_noclobber`, which the
//! operating system refuses atomically when the name exists. A set of files (one batch's
//! record, worksheet and label) is published together or not at all: on a failure the files
//! this call already published are removed again.
//!
//! File systems that support neither a no-replace rename nor hard links (FAT and exFAT
//! sticks, some SMB shares) get a fallback that still never replaces a file: the real name is
//! first claimed by creating it exclusively, and the finished temporary is then renamed over
//! that empty placeholder. A process killed in between leaves an empty file, never a
//! half-written one and never a replaced one.
//!
//! A batch run creates its temporaries in hidden directories of its own beside the output, one
//! per worker thread ([`Staging`]), and renames them into place from there.
//!
//! A killed process leaves its temporaries behind; each name holds the host name and the
//! process id (`.troche-PID@HOST-XXXXXX.partial`), so a later run removes the ones of its own
//! host whose process is provably gone ([`remove_stale`]), and never another live process's
//! nor any of another host sharing the folder (whose process ids mean nothing here).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Prefix of every temporary's name; the process id and the host name follow it.
const PREFIX: &str = ".troche-";
const SUFFIX: &str = ".partial";

/// This machine's host name as it goes into a temporary's name (letters, digits, `.` and `_`
/// only), or `None` where it cannot be known: then no temporary is ever taken for this
/// host's.
fn this_host() -> Option<&'static str> {
    static HOST: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let raw = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
        let host: String = raw
            .trim()
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        (!host.is_empty()).then_some(host)
    })
    .as_deref()
}

/// The start of this process's temporaries' names: `.troche-PID@HOST-`.
fn temp_prefix() -> String {
    format!(
        "{PREFIX}{}@{}-",
        std::process::id(),
        this_host().unwrap_or("unknown")
    )
}

/// A new, empty temporary file in `dir` (owner-only), named like every other temporary so a
/// later run can tell whether its process is gone ([`remove_stale`]).
pub fn temporary_in(dir: &Path) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&temp_prefix())
        .suffix(SUFFIX)
        .tempfile_in(dir)
}

/// The process id and host name in a temporary's name; `None` for any other name (one of an
/// older troche without a host name included).
fn owner(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (pid, rest) = rest.split_once('@')?;
    let (host, _random) = rest.rsplit_once('-')?;
    Some((pid.parse().ok()?, host))
}

/// The permissions of the files and folders the program writes: they hold patients' names,
/// so owner-only (files 0600, folders 0700) unless the pharmacy's settings say otherwise
/// (`file_mode = "0640"` for a pharmacy group). Set on each file and folder the program
/// makes, whatever the umask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMode(u32);

impl Default for FileMode {
    fn default() -> Self {
        FileMode(0o600)
    }
}

impl FileMode {
    /// Reads an octal mode ("0640", "640", "0o640"): the owner must read and write, no one
    /// may execute, and others may at most read.
    pub fn parse(text: &str) -> std::result::Result<FileMode, String> {
        let t = text.trim();
        let digits = t.strip_prefix("0o").unwrap_or(t);
        let m = (!digits.is_empty() && digits.len() <= 4)
            .then(|| u32::from_str_radix(digits, 8).ok())
            .flatten()
            .ok_or_else(|| {
                format!("\"{t}\" is not an octal file mode; give one such as \"0600\" or \"0640\"")
            })?;
        if m & !0o777 != 0 {
            return Err(format!("\"{t}\": no setuid, setgid or sticky bits"));
        }
        if m & 0o600 != 0o600 {
            return Err(format!("\"{t}\": the owner must be able to read and write"));
        }
        if m & 0o111 != 0 {
            return Err(format!(
                "\"{t}\": documents are not programs: no execute bits"
            ));
        }
        if m & 0o003 != 0 {
            return Err(format!(
                "\"{t}\": others (neither the owner nor the group) may at most read"
            ));
        }
        Ok(FileMode(m))
    }

    /// The mode of a file.
    pub fn file(self) -> u32 {
        self.0
    }

    /// The mode of a folder: whoever may read its files may also enter it.
    pub fn dir(self) -> u32 {
        self.0 | ((self.0 & 0o444) >> 2)
    }
}

/// Creates `dir` and any missing folders above it with `mode`'s folder permissions; folders
/// that exist are left as they are.
pub fn create_dir(dir: &Path, mode: FileMode) -> Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .take_while(|a| fs::symlink_metadata(a).is_err())
        .collect();
    for d in missing.into_iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => set_mode(d, mode.dir())?,
            // Made by another process meanwhile: theirs, as it is.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(d, e)),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

/// The directory a file is written in ("." for a bare file name).
pub fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to a new temporary file in `staging`, else beside `target`, with `mode`.
fn stage(
    target: &Path,
    bytes: &[u8],
    sync: bool,
    staging: Option<&Path>,
    mode: FileMode,
) -> Result<NamedTempFile> {
    let dir = staging.unwrap_or_else(|| parent_of(target));
    let prefix = temp_prefix();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(SUFFIX);
    let mut temp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io(target, plain(&e)))?;
    // Set on the open file, so the umask does not narrow a group's read (0640), and the
    // file is never readable by more than the mode while it is written.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode.file()))
            .map_err(|e| Error::io(target, e))?;
    }
    // Elsewhere a file has no mode bits to set.
    #[cfg(not(unix))]
    let _ = mode;
    temp.write_all(bytes).map_err(|e| Error::io(target, e))?;
    if sync {
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::io(target, e))?;
    }
    Ok(temp)
}

/// How a finished temporary gets its real name without replacing anything: tempfile's
/// no-replace persist in production; tests substitute one that fails as a file system without
/// hard links does.
type NoClobber = fn(NamedTempFile, &Path) -> std::result::Result<(), tempfile::PersistError>;

fn persist_noclobber(
    temp: NamedTempFile,
    target: &Path,
) -> std::result::Result<(), tempfile::PersistError> {
    temp.persist_noclobber(target).map(drop)
}

/// Gives a staged file its real name.
fn publish(temp: NamedTempFile, target: &Path, force: bool, noclobber: NoClobber) -> Result<()> {
    if force {
        return temp
            .persist(target)
            .map(drop)
            .map_err(|e| Error::io(target, e.error));
    }
    let temp = match noclobber(temp, target) {
        Ok(()) => return Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Exists(target.to_path_buf()));
        }
        Err(e) => e.file,
    };
    // Neither a no-replace rename nor a hard link: claim the name exclusively, then move the
    // finished file over the placeholder this call just made.
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Exists(target.to_path_buf()));
        }
        Err(e) => return Err(Error::io(target, e)),
    }
    temp.persist(target).map(drop).map_err(|e| {
        // The placeholder is this call's own and empty; the failure to report is the
        // rename's. One left behind is only an empty file, which `--force` replaces.
        let _ = fs::remove_file(target);
        Error::io(target, e.error)
    })
}

/// Stages one file for `target` (see [`Staged`]), whose folder is made if missing; refuses a
/// `target` that exists already (a staged file never replaces one).
pub fn stage_file(target: &Path, bytes: &[u8], mode: FileMode) -> Result<Staged> {
    create_dir(parent_of(target), mode)?;
    stage_all(&[(target.to_path_buf(), bytes.to_vec())], false, mode)
}

/// Writes every file or none, each flushed to disk before it is named. On failure, files
/// already published in this call are removed again (only ones this call created; with `force`
/// nothing is rolled back, since the old contents are gone anyway).
pub fn write_all(files: &[(PathBuf, Vec<u8>)], force: bool, mode: FileMode) -> Result<()> {
    if let Some((p, _)) = files.first() {
        remove_stale(parent_of(p));
    }
    write_files(files, force, true, persist_noclobber, None, mode)
}

/// As [`write_all`], but leaves flushing to the caller: a batch run flushes once at the end
/// ([`sync_dir`]) instead of once per file. A killed process still never leaves a partial file
/// under a real name; only a power cut before the final flush can lose recent files.
pub fn write_all_unsynced(
    files: &[(PathBuf, Vec<u8>)],
    force: bool,
    staging: Option<&Staging>,
) -> Result<()> {
    let dir = staging.map(Staging::for_this_thread);
    let mode = staging.map(|s| s.mode).unwrap_or_default();
    write_files(files, force, false, persist_noclobber, dir, mode)
}

/// Hidden directories beside the output, one for each worker thread of a batch run, that
/// temporaries are created in before they are renamed into place. Creating thousands of files
/// in the output directory itself makes the threads wait for each other on that directory's
/// lock; each in a directory of its own, they do not. Each is made exclusively with a name of
/// its own (`.troche-PID-XXXXXX.partial`), never through a link, and removed with what it
/// holds when the run ends; a killed run's are removed by [`remove_stale`].
pub struct Staging {
    dirs: Vec<tempfile::TempDir>,
    /// The permissions of the files staged here.
    mode: FileMode,
}

impl Staging {
    pub fn new(out: &Path, threads: usize, mode: FileMode) -> Result<Staging> {
        let prefix = temp_prefix();
        let dirs = (0..threads.max(1))
            .map(|_| {
                tempfile::Builder::new()
                    .prefix(&prefix)
                    .suffix(SUFFIX)
                    .tempdir_in(out)
                    .map_err(|e| Error::io(out, plain(&e)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Staging { dirs, mode })
    }

    fn for_this_thread(&self) -> &Path {
        let i = rayon::current_thread_index().unwrap_or(0) % self.dirs.len();
        self.dirs[i].path()
    }
}

/// Flushes a directory's entries to disk. Its files are published whatever the flush says,
/// so a failure is not reported: it would call failed a command whose files exist, and the
/// entries are lost only if the machine loses power before the system writes them anyway
/// (some file systems refuse to flush a directory at all).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes the temporaries in `dir` that a killed troche process of this host left behind:
/// those named with this host whose process id is no longer running. Where that cannot be
/// known (no `/proc`, no host name), nothing is removed; another host's are never touched.
pub fn remove_stale(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Some(host) = this_host() else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(std::result::Result::ok) {
        let name = e.file_name();
        let Some((pid, of)) = name.to_str().and_then(owner) else {
            continue;
        };
        if of != host || pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // The entry's own type, never a link's target: a link is left alone. A temporary that
        // cannot be removed is harmless (hidden, never published) and tried again next run.
        match e.file_type() {
            Ok(t) if t.is_file() => {
                let _ = fs::remove_file(e.path());
            }
            Ok(t) if t.is_dir() => {
                let _ = fs::remove_dir_all(e.path());
            }
            _ => {}
        }
    }
}

/// A set of files written and flushed under hidden temporary names beside their real ones,
/// not yet published: what can fail in writing them (a folder that cannot be written, a full
/// disk, a name taken without `force`) has failed already, so a command can stage its files
/// before it commits what they record, and publish them after. Dropped unpublished, the
/// temporaries are removed.
pub struct Staged {
    files: Vec<(NamedTempFile, PathBuf)>,
    force: bool,
}

/// Stages every file of a set (see [`Staged`]); a target that exists is refused now unless
/// `force` (publishing refuses it again should one appear in between).
pub fn stage_all(files: &[(PathBuf, Vec<u8>)], force: bool, mode: FileMode) -> Result<Staged> {
    if let Some((p, _)) = files.first() {
        remove_stale(parent_of(p));
    }
    let mut staged = Vec::with_capacity(files.len());
    for (p, b) in files {
        if !force && fs::symlink_metadata(p).is_ok() {
            return Err(Error::Exists(p.clone()));
        }
        staged.push((stage(p, b, true, None, mode)?, p.clone()));
    }
    Ok(Staged {
        files: staged,
        force,
    })
}

impl Staged {
    /// Gives every staged file its real name, or none (as [`write_all`]).
    pub fn publish(self) -> Result<()> {
        let targets: Vec<PathBuf> = self.files.iter().map(|(_, p)| p.clone()).collect();
        publish_all(
            self.files
                .into_iter()
                .zip(&targets)
                .map(|((t, _), p)| (t, p.as_path())),
            self.force,
            persist_noclobber,
        )?;
        if let Some(p) = targets.first() {
            sync_dir(parent_of(p));
        }
        Ok(())
    }
}

fn write_files(
    files: &[(PathBuf, Vec<u8>)],
    force: bool,
    sync: bool,
    noclobber: NoClobber,
    staging: Option<&Path>,
    mode: FileMode,
) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (p, b) in files {
        staged.push((stage(p, b, sync, staging, mode)?, p.as_path()));
    }
    publish_all(staged, force, noclobber)?;
    if sync && let Some((p, _)) = files.first() {
        // Make the new names durable too; a failure here loses nothing already written.
        sync_dir(parent_of(p));
    }
    Ok(())
}

/// Publishes staged files in order; on a failure removes the ones this call published
/// (unless `force`: the old contents are gone anyway).
fn publish_all<'a>(
    staged: impl IntoIterator<Item = (NamedTempFile, &'a Path)>,
    force: bool,
    noclobber: NoClobber,
) -> Result<()> {
    let mut done: Vec<&Path> = Vec::new();
    for (temp, target) in staged {
        if let Err(e) = publish(temp, target, force, noclobber) {
            if !force {
                for p in done {
                    // Undoing is best effort: the error to report is the one that stopped
                    // the publishing, returned below.
                    let _ = fs::remove_file(p);
                }
            }
            return Err(e);
        }
        done.push(target);
    }
    Ok(())
}

/// The operating system's own error, without the path of a temporary file that tempfile adds
/// to it: the message names the file the user asked for, never an internal one.
fn plain(e: &std::io::Error) -> std::io::Error {
    e.raw_os_error().map_or_else(
        || std::io::Error::new(e.kind(), e.kind().to_string()),
        std::io::Error::from_raw_os_error,
    )
}

/// Writes one file (see [`write_all`]).
pub fn write(path: &Path, bytes: &[u8], force: bool, mode: FileMode) -> Result<()> {
    write_all(&[(path.to_path_buf(), bytes.to_vec())], force, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A temporary's name as this host's process `pid` gives it.
    fn stale_name(pid: u32, random: &str) -> String {
        format!("{PREFIX}{pid}@{}-{random}{SUFFIX}", this_host().unwrap())
    }

    /// A folder shared between hosts: another host's temporaries are never removed, whatever
    /// its process ids (which mean nothing here), nor any whose host cannot be told.
    #[test]
    fn only_this_hosts_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let host = this_host().unwrap();
        let ours = dir.path().join(stale_name(4_194_999, "Ab3"));
        let theirs = dir
            .path()
            .join(format!("{PREFIX}4194999@{host}x-Ab3{SUFFIX}"));
        let other_host = dir
            .path()
            .join(format!("{PREFIX}4194999@pharmacy-2.local-Ab3{SUFFIX}"));
        let legacy = dir.path().join(format!("{PREFIX}4194999-Ab3{SUFFIX}"));
        for p in [&ours, &theirs, &other_host, &legacy] {
            fs::create_dir(p).unwrap();
            fs::write(p.join("w.pdf"), b"half").unwrap();
        }
        remove_stale(dir.path());
        assert!(!ours.exists());
        assert!(theirs.exists() && other_host.exists() && legacy.exists());
        assert_eq!(owner(&stale_name(12, "x")), Some((12, host)));
        assert_eq!(
            owner(".troche-7@pharmacy-2.local-Ab3.partial"),
            Some((7, "pharmacy-2.local"))
        );
        assert_eq!(owner(".troche-7-Ab3.partial"), None);
        // What this process makes carries its own host and id.
        let staging = Staging::new(dir.path(), 1, FileMode::default()).unwrap();
        let name = staging.dirs[0]
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(owner(&name), Some((std::process::id(), host)));
    }

    #[test]
    fn file_modes_keep_patient_files_from_others() {
        for (text, file, dir) in [
            ("0600", 0o600, 0o700),
            ("640", 0o640, 0o750),
            ("0o660", 0o660, 0o770),
            ("0644", 0o644, 0o755),
        ] {
            let m = FileMode::parse(text).unwrap();
            assert_eq!((m.file(), m.dir()), (file, dir), "{text}");
        }
        for (text, says) in [
            ("0400", "read and write"),
            ("0700", "execute"),
            ("0646", "others"),
            ("4600", "setuid"),
            ("0x600", "octal"),
            ("", "octal"),
            ("06000", "octal"),
        ] {
            let e = FileMode::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert_eq!(FileMode::default().file(), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn files_and_new_folders_get_the_mode_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let m = FileMode::parse("0640").unwrap();
        let deep = dir.path().join("a").join("b");
        create_dir(&deep, m).unwrap();
        assert_eq!((mode(&deep), mode(&dir.path().join("a"))), (0o750, 0o750));
        create_dir(&deep, FileMode::default()).unwrap();
        assert_eq!(mode(&deep), 0o750, "an existing folder is left as it is");
        let p = deep.join("x.pdf");
        write(&p, b"x", false, m).unwrap();
        assert_eq!(mode(&p), 0o640);
        write(&p, b"y", true, FileMode::default()).unwrap();
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn refuses_to_overwrite_without_force_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pdf");
        write(&p, b"one", false, FileMode::default()).unwrap();
        assert!(matches!(
            write(&p, b"two", false, FileMode::default()),
            Err(Error::Exists(_))
        ));
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write(&p, b"two", true, FileMode::default()).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.pdf"]);
    }

    #[test]
    fn all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        write(&b, b"old", false, FileMode::default()).unwrap();
        let r = write_all(
            &[(a.clone(), b"1".to_vec()), (b.clone(), b"2".to_vec())],
            false,
            FileMode::default(),
        );
        assert!(r.is_err());
        assert!(!a.exists());
        assert_eq!(fs::read(&b).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["b"]);
    }

    /// A file system with neither a no-replace rename nor hard links (FAT, exFAT, some SMB
    /// shares): the old fallback checked `exists()` and then renamed, which a second writer
    /// could race into replacing a file. The fallback must still never replace one.
    #[test]
    fn without_hard_links_an_existing_file_is_still_never_replaced() {
        fn no_links(t: NamedTempFile, _: &Path) -> std::result::Result<(), tempfile::PersistError> {
            Err(tempfile::PersistError {
                error: std::io::Error::from(std::io::ErrorKind::Unsupported),
                file: t,
            })
        }
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pdf");
        let b = dir.path().join("b.pdf");
        fs::write(&b, b"old").unwrap();
        let files = [
            (a.clone(), b"new a".to_vec()),
            (b.clone(), b"new b".to_vec()),
        ];
        let r = write_files(&files, false, true, no_links, None, FileMode::default());
        assert!(matches!(r, Err(Error::Exists(ref p)) if p == &b), "{r:?}");
        assert_eq!(fs::read(&b).unwrap(), b"old");
        // The set is all or nothing: a.pdf, published first, was taken back.
        assert_eq!(names(dir.path()), ["b.pdf"]);
        fs::remove_file(&b).unwrap();
        write_files(&files, false, true, no_links, None, FileMode::default()).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"new a");
        assert_eq!(fs::read(&b).unwrap(), b"new b");
        assert_eq!(names(dir.path()), ["a.pdf", "b.pdf"]);
    }

    /// Files are published in the order given (the record of a batch comes last), each
    /// complete before the next gets its name.
    #[test]
    fn files_are_published_in_the_order_given() {
        static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        fn record(t: NamedTempFile, p: &Path) -> std::result::Result<(), tempfile::PersistError> {
            // Every file named earlier is in place, complete, when this one is published.
            for n in SEEN.lock().unwrap().iter() {
                assert!(parent_of(p).join(n).is_file());
            }
            SEEN.lock()
                .unwrap()
                .push(p.file_name().unwrap().to_string_lossy().into_owned());
            persist_noclobber(t, p)
        }
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = ["a-worksheet.pdf", "a-label.pdf", "a.json"]
            .iter()
            .map(|n| (dir.path().join(n), n.as_bytes().to_vec()))
            .collect();
        write_files(&files, false, true, record, None, FileMode::default()).unwrap();
        assert_eq!(
            *SEEN.lock().unwrap(),
            ["a-worksheet.pdf", "a-label.pdf", "a.json"]
        );
    }

    /// `remove_stale` never follows or deletes a link, whatever it is named or points at.
    #[cfg(unix)]
    #[test]
    fn stale_looking_links_are_never_followed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let victim = elsewhere.path().join("v");
        fs::write(&victim, b"keep").unwrap();
        let to_file = dir.path().join(stale_name(4_194_999, "abc"));
        let to_dir = dir.path().join(stale_name(4_194_998, "abc"));
        let dangling = dir.path().join(stale_name(4_194_997, "abc"));
        std::os::unix::fs::symlink(&victim, &to_file).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &to_dir).unwrap();
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
        remove_stale(dir.path());
        for l in [&to_file, &to_dir, &dangling] {
            assert!(fs::symlink_metadata(l).unwrap().file_type().is_symlink());
        }
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids above the kernel's maximum (4194304) never run.
        let dead = dir.path().join(stale_name(4_194_999, "abc"));
        let live = dir.path().join(stale_name(std::process::id(), "abc"));
        let other = dir.path().join("261130-001.json");
        for p in [&dead, &live, &other] {
            fs::write(p, b"x").unwrap();
        }
        remove_stale(dir.path());
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }

    /// A batch's staging directories are its own, gone when it ends; a killed run's are
    /// removed by the next, and a link named like one is never followed or removed.
    #[test]
    fn staging_directories_are_removed_and_stale_ones_too() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(dir.path(), 2, FileMode::default()).unwrap();
        assert_eq!(names(dir.path()).len(), 2);
        let target = dir.path().join("a.pdf");
        write_all_unsynced(&[(target.clone(), b"x".to_vec())], false, Some(&staging)).unwrap();
        drop(staging);
        assert_eq!(names(dir.path()), ["a.pdf"]);
        let stale = dir.path().join(stale_name(4_194_999, "abc"));
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join("w.pdf"), b"half").unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("keep"), b"k").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            elsewhere.path(),
            dir.path().join(stale_name(4_194_998, "abc")),
        )
        .unwrap();
        remove_stale(dir.path());
        assert!(!stale.exists());
        assert!(elsewhere.path().join("keep").exists());
    }
}
