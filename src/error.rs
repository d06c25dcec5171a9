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

    /// The numbers of this order cannot be made into sound units.
    #[error("{0}")]
    Calculation(String),

    /// An output file exists and the user did not ask to replace it.
    #[error("{} already exists; pass --force to overwrite it", .0.display())]
    Exists(PathBuf),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A document could not be produced (layout cannot fit, or the PDF writer failed).
    #[error("{0}")]
    Render(String),
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

    pub fn calc(message: impl Into<String>) -> Error {
        Error::Calculation(message.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Exit status for this error: 2 for anything the user can fix in the input, 1 for the
    /// machine failing us. A path that names no file (or no folder) is the input's: a typo
    /// in the command, not a failure of the machine.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => 2,
            Error::Io { .. } => 1,
            _ => 2,
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
