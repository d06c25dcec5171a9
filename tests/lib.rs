//! The integration tests, one binary (as casey/just keeps them): the real `troche` run end to
//! end through the [`test::Test`] builder, and property tests of the library.

mod bad_inputs;
mod batch;
mod calc;
mod common;
mod crash;
mod database;
mod docs;
mod documents;
mod first_hour;
mod hostile;
mod log;
mod prescription;
mod properties;
#[path = "../benches/support/sample.rs"]
mod sample;
mod test;
