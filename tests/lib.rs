//! The integration tests, one binary (as casey/just keeps them): the real `troche` run end to
//! end through the [`test::Test`] builder, and property tests of the library.

mod approval;
mod bad_inputs;
mod batch;
mod bench_record;
mod calc;
mod claims;
mod common;
mod controlled_inventory;
mod conventions;
mod crash;
mod database;
mod docs;
mod documents;
mod estimates;
mod first_hour;
mod hostile;
mod log;
mod names;
mod names_resolver;
mod pages;
mod practice;
mod prescription;
mod preview;
mod properties;
mod refills;
mod release;
mod release_document;
#[path = "../benches/support/sample.rs"]
mod sample;
mod sequences;
mod stock;
mod tamper;
mod test;
mod trituration;
