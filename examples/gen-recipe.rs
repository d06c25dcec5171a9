//! Writes a recipe file of N mixed entries (default 1000) to stdout, for benchmarks and load
//! tests.
//!
//! cargo run --release --example gen-recipe -- 1000 > /tmp/recipe-1000.toml

#[path = "../benches/support/sample.rs"]
mod sample;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    print!("{}", sample::recipe(n));
}
