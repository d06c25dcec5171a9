//! Reading what the user gives: files opened without trusting what sits at their path
//! ([`file`]) and TOML documents walked against a format with located messages ([`toml`]).

mod file;
pub(crate) mod toml;

pub use file::{MAX_INPUT_BYTES, MAX_RECIPE_BYTES, ReadError, read_regular, size_text};
