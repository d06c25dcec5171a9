//! `troche`: exact batch calculations, compounding worksheets and labels for molded unit
//! dosage forms (troches, lozenges, lollipops, suppositories).
//!
//! The binary is a thin shell over [`run`]; everything a pharmacist relies on lives in
//! modules named for what they are, so the arithmetic can be tested without a terminal.

// Lints are set in Cargo.toml's [lints] table, so they cover every target (tests, benches,
// examples) alike.

pub mod batch;
pub mod batch_files;
pub mod batch_record;
pub mod bench;
pub mod bud;
pub mod calc;
pub mod calc_report;
mod cmd;
pub mod config;
pub mod controlled;
pub mod error;
pub mod escape;
pub mod formula;
pub mod input;
pub mod library;
pub mod logbook;
pub mod lots;
pub mod order;
pub mod prescription;
pub mod publish;
pub mod quantity;
pub mod recipe;
pub mod render;
mod spreadsheet;
pub mod stock;
pub mod store;
pub mod trial;

pub use cmd::run;
pub use error::{Error, Result};
