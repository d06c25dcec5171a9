//! PINs, read from the terminal without echo, or one line per signer from standard input when
//! it is not a terminal (scripts, tests). Never from a flag or the environment: `ps`, shell
//! history and `/proc/PID/environ` show those to others.

use std::io::{BufRead, IsTerminal};

use crate::error::{Error, Result};
use crate::logbook::people::{self, Person};
use crate::logbook::{Actor, people::initials};
use crate::store::Db;

/// What the practice log keeps where a PIN's hash would be: no hash, so no PIN matches it,
/// and the people of a practice log can sign only there.
pub(super) const NO_PIN: &str = "practice: no PIN";

/// Reads the PINs of one command, in the order it asks for them. In practice it reads none:
/// initials alone sign, so a new user walks a batch's whole life without setting PINs up.
pub(super) struct Pins {
    terminal: bool,
    practice: bool,
}

impl Pins {
    pub(super) fn new(practice: bool) -> Pins {
        Pins {
            terminal: std::io::stdin().is_terminal(),
            practice,
        }
    }

    /// Whether signatures take no PIN (the practice log).
    pub(super) fn practice(&self) -> bool {
        self.practice
    }

    /// The next PIN: `whose` says for whom ("the PIN of JD").
    pub(super) fn next(&mut self, whose: &str) -> Result<String> {
        if self.terminal {
            return rpassword::prompt_password(format!("{whose}: "))
                .map_err(|e| Error::io("<terminal>", e));
        }
        let mut line = String::new();
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::io("<stdin>", e))?;
        if n == 0 {
            return Err(Error::arg(
                "PIN",
                format!(
                    "standard input ended before {whose} (one line per signer: --by first, \
                     then --witness)"
                ),
            ));
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }

    /// The hash of a new PIN: on a terminal typed twice, which must agree; from standard
    /// input one line. In practice none is read.
    pub(super) fn new_pin_hash(&mut self, whose: &str) -> Result<String> {
        if self.practice {
            return Ok(NO_PIN.to_owned());
        }
        let pin = self.next(whose)?;
        if self.terminal && self.next(&format!("{whose}, again"))? != pin {
            return Err(Error::arg(
                "PIN",
                "the two PINs typed differ; nothing was changed",
            ));
        }
        people::hash_pin(&pin)
    }
}

/// The initials `--by` gives, else the workstation's `user` in the settings.
pub(super) fn by(flag: Option<&str>, settings_user: Option<&str>) -> Result<String> {
    match flag.or(settings_user) {
        Some(t) => initials("--by", t),
        None => Err(Error::arg(
            "--by",
            "give the signer's initials (or user = \"INITIALS\" in troche.toml for this \
             workstation)",
        )),
    }
}

/// Reads the PIN of `initials` and checks it against the log (a wrong one is counted).
pub(super) fn sign(
    db: &mut dyn Db,
    pins: &mut Pins,
    flag: &str,
    initials: &str,
    actor: &Actor,
) -> Result<Person> {
    // Unknown, inactive or locked initials are refused before a PIN is asked for.
    let p = people::require_signer(db, flag, initials).map_err(|e| match e {
        Error::Argument { arg, message } if pins.practice && message.starts_with("no person") => {
            Error::Argument {
                arg,
                message: format!(
                    "no person {initials} in the practice log; add them there, without a PIN: \
                     troche --practice user add {initials} --name NAME --role \
                     pharmacist|technician (a pharmacist adds the others with --by)"
                ),
            }
        }
        e => e,
    })?;
    if pins.practice {
        return Ok(p);
    }
    let pin = pins.next(&format!("PIN of {initials}"))?;
    people::authenticate(db, flag, initials, &pin, actor)
}

/// `--by` of a command that enters a batch in the log or prints it again.
#[derive(clap::Args)]
pub(super) struct SignArgs {
    /// Who prepares (or reprints) the batch, signing with their PIN (terminal, or a line of
    /// standard input); default `user` in troche.toml. Needed once the log has people.
    #[arg(long, value_name = "INITIALS", help_heading = "Log")]
    pub(super) by: Option<String>,
}

/// The signer of a command that enters or reprints a batch. A log that has no people yet
/// has no one to sign (its batches cannot be recorded or released until it has); once it
/// has, the signer is required, from `--by` or the workstation's `user`.
pub(super) fn preparer(
    db: &mut dyn Db,
    pins: &mut Pins,
    by: Option<&str>,
    settings_user: Option<&str>,
    actor: &Actor,
) -> Result<Option<Person>> {
    if by.is_none() && !people::any(db)? {
        return Ok(None);
    }
    let by = self::by(by, settings_user)?;
    sign(db, pins, "--by", &by, actor).map(Some)
}
