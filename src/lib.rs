//! `troche`: exact batch calculations, compounding worksheets and labels for molded unit
//! dosage forms (troches, lozenges, lollipops, suppositories).
//!
//! The binary is a thin shell over [`run`]; everything a pharmacist relies on lives in
//! modules named for what they are, so the arithmetic can be tested without a terminal.

// Lints are set in Cargo.toml's [lints] table, so they cover every target (tests, benches,
// examples) alike.

pub mod batch;
pub mod bud;
pub mod calc;
mod cmd;
pub mod config;
pub mod controlled;
pub mod error;
pub mod formula;
pub mod input;
pub mod library;
pub mod logbook;
pub mod lots;
pub mod order;
pub mod output;
pub mod paperwork;
pub mod prescription;
pub mod printable;
pub mod quantity;
pub mod recipe;
pub mod record;
pub mod render;
pub mod report;
mod source;
mod spreadsheet;
pub mod store;
pub mod trial;

pub use cmd::run;
pub use error::{Error, Result};
