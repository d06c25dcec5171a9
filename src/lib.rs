//! `troche`: exact batch calculations, compounding worksheets and labels for molded unit
//! dosage forms (troches, lozenges, lollipops, suppositories).
//!
//! The binary is a thin shell over [`cli::run`]; everything a pharmacist relies on lives in
//! modules named for what they are, so the arithmetic can be tested without a terminal.

#![forbid(unsafe_code)]
// Pedantic lints are part of the build (CI runs clippy with -D warnings), with three
// exceptions, each for a reason:
#![warn(clippy::pedantic)]
// Every fallible function returns `error::Error`, whose variants document the failures; an
// `# Errors` section on each would repeat that list.
#![allow(clippy::missing_errors_doc)]
// Most functions here compute a value whose only use is its result; marking each
// `#[must_use]` adds noise without catching anything the type system and tests do not.
#![allow(clippy::must_use_candidate)]
// Functions that follow a sequence (DOMAIN.md's calculation steps, a file's keys in order, a
// document from top to bottom) read best as one piece; splitting them to a line count would
// scatter one sequence across helpers.
#![allow(clippy::too_many_lines)]

pub mod batch;
pub mod bud;
pub mod calc;
mod cmd;
pub mod config;
pub mod error;
pub mod formula;
pub mod library;
pub mod lots;
pub mod order;
pub mod output;
pub mod paperwork;
pub mod quantity;
pub mod recipe;
pub mod record;
pub mod render;
pub mod report;
pub mod sample;
mod source;
pub mod trial;

pub use cmd::run;
pub use error::{Error, Result};
