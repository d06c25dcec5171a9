//! `troche man --out DIR`: the manual pages, one for `troche` and one for each command
//! (`troche-make.1`, `troche-db-backup.1`), made from the parser's own definitions.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{Error, Result};

#[derive(Args)]
pub(super) struct ManArgs {
    /// Directory for the pages (created if missing); existing pages are replaced. Read one
    /// with `man DIR/troche-make.1`, or install them under a `man1` directory of MANPATH.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    out: PathBuf,
}

pub(super) fn run(a: &ManArgs, cmd: &clap::Command) -> Result<i32> {
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let mut cmd = cmd.clone();
    // Built, each subcommand knows its full name (`troche db backup`) for its page.
    cmd.build();
    let mut written = Vec::new();
    page(&cmd, "troche", &a.out, &mut written)?;
    let mut out = String::new();
    for p in written {
        out.push_str("wrote ");
        out.push_str(&p.display().to_string());
        out.push('\n');
    }
    crate::escape::print(&out)?;
    Ok(0)
}

/// Writes the page of `cmd`, named `name`, then those of its subcommands.
fn page(cmd: &clap::Command, name: &str, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let mut text = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut text)
        .map_err(|e| Error::internal("cannot render the manual page", e))?;
    let path = dir.join(format!("{name}.1"));
    // A manual page holds nothing private: readable by all, like the pages it sits beside.
    std::fs::write(&path, &text).map_err(|e| Error::io(&path, e))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        page(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
