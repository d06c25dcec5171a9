//! The one error type of the library. Each variant carries enough context (file and line, or
//! the argument) that the message alone tells the pharmacist what to fix.

use std::path::PathBuf;

/// Everything that can stop a command. Bad input is distinguished from failures of the machine
/// (I/O) so that the binary can choose exit codes in one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem in an input file, located by line and column where known.
    #[error("{}", located(file, *line, key.as_deref(), message))]
    Input {
        file: String,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },

    /// Several problems found in one input file (`troche check` reports them all).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),

    /// A bad command-line argument.
    #[error("{arg}: {message}")]
    Argument { arg: String, message: String },

    /// A value of the order that cannot be used, named by what it is rather than where it
    /// came from: the command line names it by its flag, an order or recipe file by its key.
    #[error("{}: {message}", field.flag())]
    Order { field: Field, message: String },

    /// The numbers of this order cannot be made into sound units. The message is written for
    /// the pharmacist and stands alone; a library's error behind it (a date past the
    /// calendar's end) is kept as its source.
    #[error("{message}")]
    Calculation {
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// The label's own fields do not fit its stock at legible sizes.
    #[error("{0}")]
    LabelFit(String),

    /// An output file exists and the user did not ask to replace it.
    #[error("{} already exists; pass --force to overwrite it", .0.display())]
    Exists(PathBuf),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The compounding log's database failed (unreachable, full, corrupt while in use), or
    /// what it holds cannot be read back. `message` says what was being done; `source` is the
    /// database client's own error, when there is one (a stored value that does not parse has
    /// none).
    #[error("compounding log: {message}{}", cause(source.as_deref()))]
    Database {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A document could not be produced: the PDF writer failed.
    #[error(transparent)]
    Render(#[from] crate::render::Error),

    /// The program itself failed (a worker thread could not start, a table could not be
    /// serialized, its own code broke a rule), not its input: what it was doing, and why it
    /// failed where another library said why.
    #[error("{message}{}", cause(source.as_deref()))]
    Internal {
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

/// The error of another library behind one of ours.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A value of an order, wherever it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Quantity,
    Extra,
    Strength,
    Assay,
    Basis,
    Component,
    Readability,
    Balance,
    ConfirmStrength,
    Refills,
    Rx,
    Patient,
    Prescriber,
    DateWritten,
    PrescriberDea,
}

impl Field {
    /// The command-line flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Quantity => "--quantity",
            Field::Extra => "--extra",
            Field::Strength => "--strength",
            Field::Assay => "--assay",
            Field::Basis => "--basis",
            Field::Component => "--component",
            Field::Readability => "--readability",
            Field::Balance => "balance",
            Field::ConfirmStrength => "--confirm-strength",
            Field::Refills => "--refills",
            Field::Rx => "--rx",
            Field::Patient => "--patient",
            Field::Prescriber => "--prescriber",
            Field::DateWritten => "--date-written",
            Field::PrescriberDea => "--prescriber-dea",
        }
    }

    /// The key that sets it in an order or recipe file.
    pub fn key(self) -> &'static str {
        match self {
            Field::Quantity => "quantity",
            Field::Extra => "extra",
            Field::Strength => "strength",
            Field::Assay => "assay",
            Field::Basis => "basis",
            Field::Component => "component",
            Field::Readability => "balance.readability",
            Field::Balance => "balance",
            Field::ConfirmStrength => "confirm_strength",
            Field::Refills => "refills",
            Field::Rx => "rx",
            Field::Patient => "patient",
            Field::Prescriber => "prescriber",
            Field::DateWritten => "date_written",
            Field::PrescriberDea => "prescriber_dea",
        }
    }
}

/// What kind of failure an error is; the exit status follows from it, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something in a file, a flag or an order the user can fix.
    Input,
    /// The order cannot be made into sound units.
    Calculation,
    /// The label cannot hold its fields.
    LabelFit,
    /// The machine failed: files, disks.
    Io,
    /// The program failed.
    Internal,
}

impl Kind {
    /// Exit status for a failure of this kind: 2 for anything the user can fix in the input,
    /// 1 for the machine or the program failing. A command that reports its failures itself
    /// and goes on (`batch`, `check`) takes its status from here too.
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Input | Kind::Calculation | Kind::LabelFit => 2,
            Kind::Io | Kind::Internal => 1,
        }
    }
}

/// The causes after a message: the binary prints only the top error, so the database's own
/// words must be part of it (the postgres client says "db error" and keeps the server's
/// message in its own source).
fn cause(source: Option<&(dyn std::error::Error + Send + Sync + 'static)>) -> String {
    let mut out = String::new();
    let mut next = source.map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

fn located(file: &str, line: Option<usize>, key: Option<&str>, message: &str) -> String {
    let line = line.map(|l| format!(":{l}")).unwrap_or_default();
    let key = key.map(|k| format!("`{k}`: ")).unwrap_or_default();
    format!("{file}{line}: {key}{message}")
}

impl Error {
    pub fn arg(arg: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Argument {
            arg: arg.into(),
            message: message.into(),
        }
    }

    pub fn order(field: Field, message: impl Into<String>) -> Error {
        Error::Order {
            field,
            message: message.into(),
        }
    }

    pub fn calc(message: impl Into<String>) -> Error {
        Error::Calculation {
            message: message.into(),
            source: None,
        }
    }

    /// A calculation error caused by another library's error, which is kept as its source.
    pub fn calc_caused(message: impl Into<String>, source: impl Into<Cause>) -> Error {
        Error::Calculation {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The program failed while doing `message`, because of `source`.
    pub fn internal(message: impl Into<String>, source: impl Into<Cause>) -> Error {
        Error::Internal {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The program broke one of its own rules (no other library's error behind it).
    pub fn bug(message: impl Into<String>) -> Error {
        Error::Internal {
            message: message.into(),
            source: None,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The database failed while doing `message`.
    pub fn database(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Database {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What the log holds cannot be read back (a stored value that does not parse, a row
    /// that is missing): no client error behind it.
    pub fn stored(message: impl Into<String>) -> Error {
        Error::Database {
            message: message.into(),
            source: None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Error::Input { .. }
            | Error::Many(_)
            | Error::Argument { .. }
            | Error::Order { .. }
            | Error::Exists(_) => Kind::Input,
            Error::Calculation { .. } => Kind::Calculation,
            Error::LabelFit(_) => Kind::LabelFit,
            // A path that names no file (or no folder) is the input's: a typo in the command,
            // not a failure of the machine.
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Kind::Input
            }
            Error::Io { .. } | Error::Database { .. } => Kind::Io,
            Error::Render(_) | Error::Internal { .. } => Kind::Internal,
        }
    }

    /// Exit status for this error (see [`Kind::exit_code`]).
    pub fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }
}

/// Arithmetic overflow on user-supplied values: a clear error, never a panic.
pub fn overflow(what: &str) -> Error {
    Error::calc(format!(
        "the numbers are too large to compute {what} exactly; check the strength, quantity and \
         formula amounts"
    ))
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The exit status is chosen by kind, here and nowhere else: 2 for what the user can fix,
    /// 1 for the machine or the program.
    #[test]
    fn exit_status_follows_the_kind() {
        let io_cause = || std::io::Error::from(std::io::ErrorKind::Other);
        let io = Error::io("x", io_cause());
        for (e, kind, code) in [
            (Error::order(Field::Assay, "m"), Kind::Input, 2),
            (Error::arg("--x", "m"), Kind::Input, 2),
            (Error::calc("m"), Kind::Calculation, 2),
            (Error::LabelFit("m".into()), Kind::LabelFit, 2),
            (io, Kind::Io, 1),
            (Error::internal("threads", io_cause()), Kind::Internal, 1),
            (
                Error::Render(crate::render::Error::Printpdf("pdf".into())),
                Kind::Internal,
                1,
            ),
        ] {
            assert_eq!((e.kind(), e.exit_code()), (kind, code), "{e}");
        }
        // On the command line a field is named by its flag, in a file by its key.
        let e = Error::order(Field::Strength, "too high");
        assert_eq!(e.to_string(), "--strength: too high");
        assert_eq!(Field::Readability.key(), "balance.readability");
    }

    /// The cause of a calculation or internal error stays reachable through `source()`; the
    /// calculation's message is the pharmacist's alone, the program's failure says why.
    #[test]
    fn errors_keep_their_cause() {
        use std::error::Error as _;
        let cause = || std::io::Error::other("no threads left");
        let e = Error::internal("cannot start worker threads", cause());
        assert_eq!(
            e.to_string(),
            "cannot start worker threads: no threads left"
        );
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("no threads left")
        );
        let e = Error::calc_caused("beyond the calendar", cause());
        assert_eq!(e.to_string(), "beyond the calendar");
        assert!(e.source().is_some());
        assert!(Error::calc("m").source().is_none());
    }
}
