//! Random sequences of what a pharmacy does with one log: `make`, recipe runs into their own
//! folder and into another, reruns after a file was deleted, `record`, `verify` and `db
//! backup`, each through the real program. After every step the log's lots are unique, each
//! entry of every recipe run is made exactly once (one batch per content, date and
//! occurrence: docs/recipe-format.md), and `db check` verifies the chain.

use crate::claims::{entry, recipe, summary};
use crate::common::*;
use crate::log::Log;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The batches made: Rx and strength (one patient, one date).
const CONTENTS: [(&str, &str); 3] = [("RX-1", "100 mg"), ("RX-2", "100 mg"), ("RX-3", "200 mg")];

/// The recipes, as indexes into [`CONTENTS`]: the first holds one entry twice.
const RECIPES: [&[usize]; 2] = [&[0, 1, 0], &[2, 0]];

const DATE: &str = "2026-11-23";

#[derive(Debug, Clone)]
enum Step {
    /// `make` of a content.
    Make(usize),
    /// A recipe run into one of two folders.
    Batch(usize, usize),
    /// A recipe run again into its first folder after one of the files there was deleted.
    Rerun(usize),
    /// `record` of the n-th batch of the log (modulo their number).
    Record(usize),
    /// `verify` (release) of the n-th batch.
    Verify(usize),
    Backup,
}

fn step() -> impl Strategy<Value = Step> {
    // Recipe runs weigh most: reruns meet what the runs and `make`s before them made.
    prop_oneof![
        2 => (0..CONTENTS.len()).prop_map(Step::Make),
        3 => (0..RECIPES.len(), 0..2usize).prop_map(|(r, f)| Step::Batch(r, f)),
        3 => (0..RECIPES.len()).prop_map(Step::Rerun),
        1 => (0..8usize).prop_map(Step::Record),
        1 => (0..8usize).prop_map(Step::Verify),
        1 => Just(Step::Backup),
    ]
}

/// What the log must hold: per content, how many batches (a `make` takes the next
/// occurrence; a recipe claims the first as many as it has entries of that content).
#[derive(Default)]
struct Model {
    held: BTreeMap<usize, usize>,
}

impl Model {
    fn make(&mut self, content: usize) {
        *self.held.entry(content).or_default() += 1;
    }

    fn run(&mut self, recipe: usize) {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for c in RECIPES[recipe] {
            *counts.entry(*c).or_default() += 1;
        }
        for (c, k) in counts {
            let n = self.held.entry(c).or_default();
            *n = (*n).max(k);
        }
    }

    fn batches(&self) -> usize {
        self.held.values().sum()
    }
}

struct World {
    tmp: tempfile::TempDir,
    log: Log,
    cfg: String,
    model: Model,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let log = Log::sqlite(tmp.path());
        log.people();
        for (n, contents) in RECIPES.iter().enumerate() {
            let entries: Vec<String> = contents
                .iter()
                .map(|c| entry(CONTENTS[*c].0, CONTENTS[*c].1))
                .collect();
            fs::write(
                tmp.path().join(format!("recipe-{n}.toml")),
                recipe(DATE, &entries),
            )
            .unwrap();
        }
        World {
            tmp,
            log,
            cfg: fixture("troche.toml"),
            model: Model::default(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.tmp.path().join(name).display().to_string()
    }

    /// The lots of the log, in order.
    fn lots(&self) -> Vec<String> {
        let mut lots: Vec<String> = self
            .log
            .json(&["log", "--limit", "0"])
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["lot"].as_str().unwrap().to_string())
            .collect();
        lots.sort();
        lots
    }

    fn apply(&mut self, step: &Step) {
        match *step {
            Step::Make(c) => {
                let (rx, strength) = CONTENTS[c];
                let out = self.path("made");
                self.log.signed(
                    &[
                        "make",
                        "progesterone-troche",
                        "--strength",
                        strength,
                        "--quantity",
                        "30",
                        "--rx",
                        rx,
                        "--patient",
                        "Mary Major",
                        "--prescriber",
                        "Beth Jones, NP",
                        "--date",
                        DATE,
                        "--backdate",
                        "--config",
                        &self.cfg,
                        "--out",
                        &out,
                        "--by",
                        TK.0,
                    ],
                    &[TK.1],
                );
                self.model.make(c);
            }
            Step::Batch(r, folder) => self.run(r, &format!("out-{r}-{folder}")),
            Step::Rerun(r) => {
                let folder = format!("out-{r}-0");
                let deleted = fs::read_dir(self.path(&folder)).ok().and_then(|d| {
                    let mut pdfs: Vec<_> = d
                        .map(|e| e.unwrap().path())
                        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
                        .collect();
                    pdfs.sort();
                    let p = pdfs.into_iter().next()?;
                    fs::remove_file(&p).unwrap();
                    Some(p)
                });
                self.run(r, &folder);
                // A batch of this recipe and folder has its files written again from the log.
                if let Some(p) = deleted {
                    assert!(p.exists(), "{} was not written again", p.display());
                }
            }
            Step::Record(n) | Step::Verify(n) => {
                let lots = self.lots();
                if lots.is_empty() {
                    return;
                }
                let lot = &lots[n % lots.len()];
                let (args, pins) = if matches!(step, Step::Record(_)) {
                    (vec!["record", lot, "--by", TK.0], vec![TK.1])
                } else {
                    (vec!["verify", lot, "--by", RP.0], vec![RP.1])
                };
                let o = self.log.run_in(&args, &pins);
                let err = String::from_utf8_lossy(&o.stderr);
                // Done, or refused for the batch's state: never a failure of the program.
                assert!(
                    matches!(o.status.code(), Some(0 | 2)) && !err.contains("panicked"),
                    "{args:?}: {err}"
                );
            }
            Step::Backup => {
                let copy = self.path("backup.sqlite3");
                self.log.ok(&["db", "backup", &copy, "--force"]);
                let backup = Log {
                    db: copy,
                    env_url: None,
                };
                backup.ok(&["db", "check"]);
            }
        }
    }

    /// A recipe run into `folder`: each entry has a lot, none twice, and none failed.
    fn run(&mut self, r: usize, folder: &str) {
        let out = self.path(folder);
        let recipe = self.path(&format!("recipe-{r}.toml"));
        self.log.signed(
            &[
                "batch",
                &recipe,
                "--out",
                &out,
                "--config",
                &self.cfg,
                "--backdate",
                "--by",
                TK.0,
            ],
            &[TK.1],
        );
        let rows = summary(Path::new(&out));
        assert_eq!(rows.len(), RECIPES[r].len());
        let lots: BTreeSet<&str> = rows.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(lots.len(), rows.len(), "a lot twice in one run: {rows:?}");
        for (status, lot) in &rows {
            assert!(
                ["made", "done-earlier", "made-earlier"].contains(&status.as_str())
                    && !lot.is_empty(),
                "{rows:?}"
            );
        }
        self.model.run(r);
    }

    /// What holds after every step.
    fn check(&self, steps: &[Step]) {
        let lots = self.lots();
        let unique: BTreeSet<&String> = lots.iter().collect();
        assert_eq!(unique.len(), lots.len(), "{steps:?}");
        assert_eq!(lots.len(), self.model.batches(), "{steps:?}: {lots:?}");
        // Each batch answers one entry: no claim is held twice.
        let c = rusqlite::Connection::open(&self.log.db).unwrap();
        let twice: i64 = c
            .query_row(
                "SELECT count(*) FROM (SELECT fingerprint FROM batches GROUP BY fingerprint \
                 HAVING count(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(twice, 0, "{steps:?}");
        self.log.ok(&["db", "check"]);
    }
}

/// How many random sequences a run tries: each runs the program 10 to 30 times.
const CASES: u32 = 6;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        // A failing sequence is shrunk, but each try runs the program: a few only.
        max_shrink_iters: 16,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_sequence_keeps_lots_unique_and_each_entry_made_once(
        steps in prop::collection::vec(step(), 2..8)
    ) {
        let mut world = World::new();
        for (i, s) in steps.iter().enumerate() {
            world.apply(s);
            world.check(&steps[..=i]);
        }
    }
}
