//! `troche init`: a commented settings file for a new pharmacy, written where `troche` looks
//! for it, so that the first label needs no copy of the source tree's example.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::config;
use crate::error::{Error, Result};

#[derive(Args)]
pub(super) struct InitArgs {
    /// Where to write the settings (default: troche.toml in the user's configuration
    /// directory, where every command finds it).
    #[arg(long, value_name = "FILE")]
    path: Option<PathBuf>,
}

/// The settings file written: every key the program reads, the pharmacy's to fill in. It
/// parses as it stands (the pharmacy commented out), so a command run before it is filled in
/// works and the label says what is missing.
pub(crate) const TEMPLATE: &str = r##"# Pharmacy settings for troche, written by `troche init`. Fill in the pharmacy below, check
# the balance against yours, then run `troche check` on this file. Every number is quoted so
# it is read exactly; masses carry their unit ("6 mg", "0.001 g").

# user = "JD"                   # your initials at this workstation: --by when not given
#                               # (the PIN is still asked for)
# database = "/srv/troche/log.sqlite3"  # the compounding log, when not the default (a SQLite
#                               # file, or a postgres:// URL without a password; docs/log.md)
# file_mode = "0640"            # permissions of the worksheets, labels and records written
#                               # (they name patients): owner-only "0600" by default
# ca_file = "pharmacy-ca.crt"   # a PostgreSQL log: the CA (PEM) that signed its server

# Printed on every label; required before a label or a batch can be made. Remove the "# "
# before the four lines and write the pharmacy's own.
# [pharmacy]
# name = "Main Street Compounding Pharmacy"
# address = "100 Main Street, Springfield, IL 62701"
# phone = "(217) 555-0100"

[balance]                       # the balance every amount is weighed on
# id = "BAL-02"                 # its asset tag, printed on the worksheet
readability = "0.001 g"         # amounts to weigh are rounded to this
sensitivity = "6 mg"            # sensitivity requirement (Class III prescription balance: 6 mg)
acceptable_error_percent = "5"  # minimum weighable quantity = sensitivity / error = 120 mg
# minimum_weight = "100 mg"     # or the minimum weight from its USP <41> check (then leave
#                               # out sensitivity and acceptable_error_percent)
volume_readability = "0.01 mL"  # liquids measured by volume are rounded to this

# [aliquot]
# diluent = "Lactose monohydrate, NF"  # diluent of aliquots for formulas that name none

# [[mold]]                      # one per mold the pharmacy owns
# id = "M-07"                   # asset id, named on the worksheet ...
# name = "30-cavity troche mold, 0.9 mL"  # ... of every formula whose [mold] name is this

[paper]
size = "letter"                 # letter or a4 (worksheet)

[label]                         # label stock, in or mm; one label per page
width = "4 in"
height = "2 in"
"##;

pub(super) fn run(a: &InitArgs) -> Result<i32> {
    let (path, default) = match &a.path {
        Some(p) => (p.clone(), false),
        None => (
            config::user_config_file().ok_or_else(|| {
                Error::arg(
                    "--path",
                    "this system names no configuration directory for the user; give the \
                     file to write with --path FILE",
                )
            })?,
            true,
        ),
    };
    let dir = crate::publish::parent_of(&path);
    if default {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    } else if !dir.is_dir() {
        return Err(Error::arg(
            "--path",
            format!(
                "the folder {} does not exist; create it first",
                dir.display()
            ),
        ));
    }
    // Never replaced, even by a second `init` racing this one: the file is created only if
    // it is not there.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::arg(
                "--path",
                format!(
                    "{} already exists; troche init never replaces settings: edit that file, \
                     or write a new one elsewhere with --path FILE",
                    path.display()
                ),
            ));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    file.write_all(TEMPLATE.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&path, e))?;
    let shown = path.display();
    crate::escape::print(&format!(
        "wrote {shown}\n\
         Fill in:\n  \
           [pharmacy] name, address, phone   printed on every label (needed to make a batch)\n  \
           [balance]                         your balance's readability and sensitivity\n  \
           [label], [paper]                  your label stock and paper\n  \
           user                              your initials at this workstation (optional)\n\
         then check it: troche check {shown}\n",
    ))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::TEMPLATE;

    /// The file `init` writes is valid settings as it stands, and once the pharmacy's four
    /// lines are uncommented it names the pharmacy.
    #[test]
    fn the_template_parses_before_and_after_it_is_filled_in() {
        let blank = crate::config::parse(TEMPLATE, "troche.toml").expect("template");
        assert!(blank.pharmacy.is_none());
        let filled = TEMPLATE
            .replacen("# [pharmacy]", "[pharmacy]", 1)
            .replacen("# name = ", "name = ", 1)
            .replacen("# address = ", "address = ", 1)
            .replacen("# phone = ", "phone = ", 1);
        let s = crate::config::parse(&filled, "troche.toml").expect("filled in");
        assert!(s.pharmacy.is_some());
    }
}
