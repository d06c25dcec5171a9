//! Adds N made-up batches (default 100000) to the SQLite log FILE, for measuring `troche log`
//! and `troche recall` over a large log (docs/performance.md).
//!
//! cargo run --release --example gen-log -- /tmp/big.sqlite3 100000

#[path = "../benches/support/generate.rs"]
mod generate;

use troche::store::{self, Location};

fn main() -> troche::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: gen-log FILE [N]");
        std::process::exit(2);
    };
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut db = store::open(&Location::Sqlite(file.into()))?;
    generate::generate(db.as_mut(), n)?;
    eprintln!("added {n} batches");
    Ok(())
}
