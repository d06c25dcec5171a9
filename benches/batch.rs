//! A whole recipe run in the library: 1,000 generated mixed entries (examples/gen-recipe.rs),
//! each with its worksheet, label and JSON record written to a fresh directory, on every core
//! and on one. The end-to-end figure with process start is measured with hyperfine (see
//! docs/performance.md); this isolates the library's part.
//!
//! Every run writes into a new directory, and nothing is deleted until all benchmarks are
//! done: on ext4 without a journal, creating files just after thousands were deleted nearby
//! is several times slower (docs/performance.md), which would measure the disk's history.

#[path = "support/sample.rs"]
mod sample;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use troche::batch::{self, Options};
use troche::recipe;

/// Where every benchmark writes; removed when all are done.
static ROOT: OnceLock<PathBuf> = OnceLock::new();

fn main() {
    let root = tempfile::tempdir().expect("temp dir");
    ROOT.set(root.path().to_path_buf()).expect("set once");
    divan::main();
    drop(root);
}

fn root() -> &'static Path {
    ROOT.get().expect("set in main")
}

fn run(entries: usize, jobs: Option<usize>, bencher: divan::Bencher) {
    let text = sample::recipe(entries);
    let dir = tempfile::tempdir_in(root()).expect("temp dir");
    let cfg = dir.path().join("troche.toml");
    std::fs::write(
        &cfg,
        "[pharmacy]\nname = \"Bench Pharmacy\"\naddress = \"1 Main St\"\nphone = \"555-0100\"\n",
    )
    .expect("config");
    let path = dir.path().join("recipe.toml");
    let recipe = recipe::parse(&text, &path).expect("recipe");
    let mut n = 0;
    bencher
        .with_inputs(|| {
            n += 1;
            dir.path().join(format!("out-{n}"))
        })
        .bench_local_values(|out| {
            let opts = Options {
                backdate: true,
                out,
                check_only: false,
                jobs,
                force: false,
                config: Some(cfg.clone()),
                today: jiff::civil::date(2026, 11, 23),
                prepared_by: None,
                stamps: Vec::new(),
                remake: Vec::new(),
            };
            let report = batch::run(&recipe, &opts, |_, _, _| {}).expect("batch");
            assert_eq!(report.failed(), 0);
        });
    // Left for the root's removal at the end (see the module comment).
    let _ = dir.keep();
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn batch_1000_entries_all_cores(bencher: divan::Bencher) {
    run(1000, None, bencher);
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn batch_1000_entries_one_thread(bencher: divan::Bencher) {
    run(1000, Some(1), bencher);
}
