//! A whole recipe run in the library: 1,000 generated mixed entries (examples/gen-recipe.rs),
//! each with its worksheet, label and JSON record written to a fresh directory, on every core.
//! The end-to-end figure with process start is measured with hyperfine (see the closing note
//! of the batch issue); this isolates the library's part.

use troche::batch::{self, Options};
use troche::recipe;

fn main() {
    divan::main();
}

fn run(entries: usize, jobs: Option<usize>, bencher: divan::Bencher) {
    let text = troche::sample::recipe(entries);
    let dir = tempfile::tempdir().expect("temp dir");
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
                out,
                check_only: false,
                jobs,
                force: false,
                config: Some(cfg.clone()),
                today: jiff::civil::date(2026, 11, 23),
            };
            let report = batch::run(&recipe, &opts, |_, _, _| {}).expect("batch");
            assert_eq!(report.failed(), 0);
        });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn batch_1000_entries_all_cores(bencher: divan::Bencher) {
    run(1000, None, bencher);
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn batch_1000_entries_one_thread(bencher: divan::Bencher) {
    run(1000, Some(1), bencher);
}
