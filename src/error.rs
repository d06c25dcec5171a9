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

    /// The numbers of this order cannot be made into sound units.
    #[error("{0}")]
    Calculation(String),

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

    /// The compounding log's database failed (unreachable, full, corrupt while in use).
    #[error("compounding log: {0}")]
    Database(String),

    /// A document could not be produced: the PDF writer failed.
    #[error(transparent)]
    Render(#[from] crate::render::Error),

    /// The program itself failed (a worker thread could not start), not its input.
    #[error("{0}")]
    Internal(String),
}

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
        Error::Calculation(message.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Error::Input { .. }
            | Error::Many(_)
            | Error::Argument { .. }
            | Error::Order { .. }
            | Error::Exists(_) => Kind::Input,
            Error::Calculation(_) => Kind::Calculation,
            Error::LabelFit(_) => Kind::LabelFit,
            // A path that names no file (or no folder) is the input's: a typo in the command,
            // not a failure of the machine.
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Kind::Input
            }
            Error::Io { .. } | Error::Database(_) => Kind::Io,
            Error::Render(_) | Error::Internal(_) => Kind::Internal,
        }
    }

    /// Exit status for this error: 2 for anything the user can fix in the input, 1 for the
    /// machine or the program failing.
    pub fn exit_code(&self) -> i32 {
        match self.kind() {
            Kind::Input | Kind::Calculation | Kind::LabelFit => 2,
            Kind::Io | Kind::Internal => 1,
        }
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
        let io = Error::io("x", std::io::Error::from(std::io::ErrorKind::Other));
        for (e, kind, code) in [
            (Error::order(Field::Assay, "m"), Kind::Input, 2),
            (Error::arg("--x", "m"), Kind::Input, 2),
            (Error::calc("m"), Kind::Calculation, 2),
            (Error::LabelFit("m".into()), Kind::LabelFit, 2),
            (io, Kind::Io, 1),
            (Error::Internal("threads".into()), Kind::Internal, 1),
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
}
