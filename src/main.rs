//! The `troche` binary: runs the library and turns its result into an exit status, here and
//! nowhere else.

use std::process::ExitCode;

fn main() -> ExitCode {
    match troche::run(std::env::args_os()) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            troche::escape::eprintln(&format!("error: {e}"));
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
