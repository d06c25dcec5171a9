//! Running a recipe file: every batch's worksheet, label and record, a summary and a pick list.
//!
//! Entries are taken in chunks. Within a chunk, the cheap and order-sensitive work (reading the
//! order, the calculation, assigning lots) runs in file order on one thread, so lots and every
//! byte written are the same whatever the number of threads; the expensive work (laying out
//! and writing PDFs) then runs in parallel. Only one chunk of documents is in memory at a time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::batch_record::{Origin, Record};
use crate::config::{self, Settings};
use crate::error::{Error, Result};
use crate::formula::{Formula, Schedule};
use crate::logbook::{self, Actor, LotCounter};
use crate::lots::{self, Lots};
use crate::recipe::{Entry, Recipe};
use crate::store::{Db, Transaction};
use crate::{batch_files, library, publish};

/// Entries laid out at once. Large enough to keep both cores busy, small enough that memory
/// does not depend on the size of the recipe.
const CHUNK: usize = 64;

#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Validate and lay out everything, write nothing.
    pub check_only: bool,
    /// Worker threads; `None` uses every core.
    pub jobs: Option<usize>,
    pub force: bool,
    pub config: Option<PathBuf>,
    /// Compounding date for entries that give none (the recipe's `date` comes first).
    pub today: Date,
    /// Allow compounding dates far from `today` and BUDs already past (see
    /// `batch_record::check_dates`).
    pub backdate: bool,
    /// Who prepares the run's batches, already signed (none in a log without people).
    pub prepared_by: Option<String>,
    /// Written across every page of every batch of the run: the practice log's stamp, whose
    /// lots are also marked `P-`.
    pub stamps: Vec<crate::batch_record::Stamp>,
    /// Lots the log holds that are made again when an entry of the recipe finds them (a
    /// rejected batch, say): each remake is a new lot, linked to the old in the log.
    pub remake: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Written in this run.
    Made,
    /// Valid (with `--check`: nothing written).
    Valid,
    /// Made by an earlier run of the same recipe into the same folder; its files are
    /// complete.
    DoneEarlier,
    /// Made earlier that day from another recipe, into another folder or by `make`: not made
    /// again, nothing written. The message names the lot and its state.
    MadeEarlier(String),
    Failed(String),
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Made => "made",
            Status::Valid => "valid",
            Status::DoneEarlier => "done-earlier",
            Status::MadeEarlier(_) => "made-earlier",
            Status::Failed(_) => "failed",
        }
    }
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    pub index: usize,
    pub line: usize,
    pub lot: String,
    pub rx: String,
    pub formula: String,
    pub strength: String,
    pub quantity: String,
    pub bud: String,
    pub status: Status,
    /// The warnings of the batch made (its record's notes, which its worksheet prints): the
    /// plausibility warnings, the same Rx filled again, the confirmed strengths.
    pub warnings: Vec<String>,
}

/// One ingredient to pull from stock, summed over the batches made.
#[derive(Debug, Clone)]
pub struct Pick {
    pub name: String,
    pub schedule: Option<Schedule>,
    pub unit: &'static str,
    pub total: Decimal,
    pub batches: usize,
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub picks: Vec<Pick>,
    pub readability: Decimal,
    /// Stems of PDFs in the output folder with no JSON record: sets a killed run left
    /// unfinished (the record is published last). They are not batches; their lots stay taken.
    pub interrupted: Vec<String>,
    /// Entries that failed because the machine did (a full disk, a file that could not be
    /// written), not because of their input: the run then exits 1.
    pub io_failures: usize,
    /// What the log found unusual about the new batches (an Rx filled again within the BUD
    /// of its earlier batch), each placed in the recipe file.
    pub warnings: Vec<String>,
    /// The stock lots the new batches draw on: (ingredient, lot, unit) → (millionths of the
    /// unit reserved, batches). Empty where the log keeps no stock.
    pub stock_lots: BTreeMap<(String, String, String), (i64, usize)>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.status, Status::Failed(_)))
            .count()
    }
}

/// Pick-list order: controlled substances first (`false` sorts before `true`), by schedule,
/// then by name and unit.
type PickKey = (bool, Option<Schedule>, String, &'static str);

/// A batch's files in memory: path and bytes.
type Files = Vec<(PathBuf, Vec<u8>)>;

/// Gives an entry its lot (the one it names, else the next free of its date): lot and stem.
type ClaimLot<'a> = dyn FnMut(Option<&str>, Date) -> Result<(String, String)> + 'a;

/// A batch ready to be laid out and written.
struct Job {
    row: usize,
    record: Record,
    stem: String,
    /// Made by an earlier run: complete whichever of its files are missing.
    resume: bool,
    /// The settings it was made with, when they come from the log rather than this run.
    settings: Option<Settings>,
    /// The stock lots it draws on, reserved when it is entered.
    picked: Vec<crate::stock::pick::Picked>,
    /// Its files as the log keeps them (a batch made earlier): written as they are, never
    /// laid out again.
    stored: Option<Files>,
    /// The lot this batch is a remake of.
    remake_of: Option<String>,
}

/// The lot an earlier run gave an entry, read from its JSON record.
struct Earlier {
    lot: String,
}

/// The largest JSON record read back from the output folder; troche's are 10 to 30 KB.
const MAX_RECORD_BYTES: u64 = 1 << 20;

/// Reads the JSON records in `dir` for recipe fingerprints (see `recipe::Entry::fingerprint`).
fn earlier_runs(dir: &Path) -> HashMap<String, Earlier> {
    let mut map = HashMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return map;
    };
    for e in rd.filter_map(std::result::Result::ok) {
        let p = e.path();
        if !p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            continue;
        }
        // Only a regular file of ours, never through a link: a FIFO, a device or a link
        // planted in the folder must neither block the run nor be read without end.
        let Ok(text) = crate::input::read_regular(&p, MAX_RECORD_BYTES, false) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        let (Some(fp), Some(lot)) = (v["origin"]["fingerprint"].as_str(), v["lot"].as_str()) else {
            continue;
        };
        map.insert(
            fp.to_string(),
            Earlier {
                lot: lot.to_string(),
            },
        );
    }
    map
}

/// Stops a run whose folder holds records of lots the log does not hold (made against another
/// log, or before the log was restored from an older backup): the log decides what was made,
/// and those lots must not be taken as made, nor handed out again.
fn refuse_unknown_lots(db: &mut dyn Db, out: &Path) -> Result<()> {
    let mut unknown = Vec::new();
    for e in earlier_runs(out).values() {
        if !logbook::exists(db, &e.lot)? {
            unknown.push(e.lot.clone());
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    unknown.dedup();
    Err(Error::arg(
        "--out",
        format!(
            "{} holds records of lots the compounding log ({}) does not hold: {}. They were \
             made against another log, or the log was restored from an older backup. Nothing \
             was made: use another folder, or the log that made them",
            out.display(),
            db.describe(),
            crate::escape::escape(&unknown.join(", "))
        ),
    ))
}

/// Refuses, before anything is made, a `--remake` lot the log does not hold.
fn refuse_unknown_remakes(db: &mut dyn Db, remake: &[String]) -> Result<()> {
    for lot in remake {
        if !logbook::exists(db, lot)? {
            return Err(Error::arg(
                "--remake",
                format!(
                    "the compounding log ({}) holds no lot {lot}; --remake names a batch made \
                     earlier (`troche log` lists them). Nothing was made",
                    db.describe()
                ),
            ));
        }
    }
    Ok(())
}

fn strength_text(record: &Record) -> String {
    record
        .calc
        .ingredients
        .iter()
        .filter_map(|i| {
            let a = i.active.as_ref()?;
            Some(a.strength_text(crate::calc::StrengthStyle::Summary))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs (or checks) every entry of a recipe, without the compounding log.
pub fn run(
    recipe: &Recipe,
    opts: &Options,
    progress: impl FnMut(&Row, usize, usize),
) -> Result<Report> {
    run_logged(recipe, opts, None, progress)
}

/// Runs (or checks) every entry of a recipe. With a log, each chunk of entries gets its lots
/// and records in one write transaction, and its files are written after the commit
/// (`crate::logbook`); an entry the log holds as made is done, and a rerun re-creates that
/// record's own paperwork.
pub fn run_logged(
    recipe: &Recipe,
    opts: &Options,
    mut log: Option<&mut (dyn Db + '_)>,
    mut progress: impl FnMut(&Row, usize, usize),
) -> Result<Report> {
    let settings = run_settings(recipe, opts)?;
    // A check reads the log for the lots it would give, and writes nothing to it.
    if let Some(db) = log.as_deref_mut().filter(|_| !opts.check_only) {
        refuse_unknown_lots(db, &opts.out)?;
        refuse_unknown_remakes(db, &opts.remake)?;
    }
    if !opts.check_only {
        prepare_folder(&opts.out, settings.file_mode)?;
    }
    let mut run = Run::new(recipe, opts, &settings)?;
    let total = recipe.entries.len();
    for chunk in recipe.entries.chunks(CHUNK) {
        run.chunk(chunk, log.as_deref_mut())?;
        let done = run.report.rows.len();
        for r in &run.report.rows[done - chunk.len()..] {
            progress(r, r.index, total);
        }
    }
    if !opts.check_only {
        publish::sync_dir(&opts.out);
    }
    if !opts.check_only {
        run.unused_remakes();
    }
    Ok(run.finish())
}

/// The settings a run uses: the settings file (`--config`, else the recipe's `config`), with
/// the recipe's balance over it.
fn run_settings(recipe: &Recipe, opts: &Options) -> Result<Settings> {
    let recipe_name = recipe.path.display().to_string();
    if let (None, Some(named)) = (&opts.config, &recipe.shared.config)
        && !named.exists()
    {
        return Err(Error::Input {
            file: recipe_name,
            line: None,
            key: Some("config".into()),
            message: format!(
                "the recipe names the settings file {}, which does not exist (a relative path \
                 is read from the recipe's folder); correct config = \"...\" or pass --config",
                named.display()
            ),
        });
    }
    let mut settings: Settings =
        config::load(opts.config.as_deref().or(recipe.shared.config.as_deref()))?;
    settings.balance = recipe
        .shared
        .balance(settings.balance.clone(), &recipe_name)?;
    // Every entry needs a label, and a label needs the pharmacy: fail the run, not each entry.
    settings.require_pharmacy()?;
    Ok(settings)
}

/// Readies the output folder: made if missing, cleared of temporaries a killed run left and
/// of the previous run's summary and pick list.
fn prepare_folder(out: &Path, mode: publish::FileMode) -> Result<()> {
    publish::create_dir(out, mode)?;
    publish::remove_stale(out);
    remove_run_files(out)
}

/// What a run carries from one chunk of entries to the next.
struct Run<'a> {
    recipe: &'a Recipe,
    recipe_name: String,
    opts: &'a Options,
    settings: &'a Settings,
    actor: Actor,
    /// Lots whose files lie in the output folder.
    lots: Lots,
    /// Who made each entry before.
    claims: Claims<'a>,
    /// Each formula the recipe names, loaded once.
    formulas: HashMap<String, std::result::Result<Formula, String>>,
    pool: rayon::ThreadPool,
    staging: Option<publish::Staging>,
    report: Report,
    picks: BTreeMap<PickKey, (Decimal, usize)>,
    /// The stock lots each new batch of the run draws on, by its lot, until it is written.
    stock_picks: HashMap<String, Vec<crate::stock::pick::Picked>>,
}

/// What a run knows of the batches made before it, and of the claims its entries made.
struct Claims<'a> {
    recipe: &'a Path,
    remake: &'a [String],
    /// Entries made by an earlier run into the folder, by their claim (read from its JSON
    /// records: only without a log, which otherwise decides).
    earlier: HashMap<String, Earlier>,
    /// How many entries of each content (see `logbook::claim`) the run has met so far.
    occurrences: HashMap<String, u32>,
    /// Lots of the log that answered an entry of this run.
    answered: std::collections::HashSet<String>,
    /// The `--remake` lots an entry found, and remade.
    remade: std::collections::HashSet<String>,
    /// The output folder as the log stores it.
    out_abs: String,
}

impl Claims<'_> {
    /// Finds who holds the entry's claim: its occurrence among the run's entries of the same
    /// content is counted here, in file order.
    fn claim(&mut self, c: &mut Computed, tx: Option<&mut Transaction<'_>>) -> Result<Found> {
        let n = self.occurrences.entry(c.content.clone()).or_insert(0);
        *n += 1;
        let key = logbook::claim::key(&c.content, *n);
        if let Some(o) = c.record.origin.as_mut() {
            o.fingerprint.clone_from(&key);
        }
        let Some(tx) = tx else {
            // Without a log (a run that writes no log): the folder's records.
            return Ok(self
                .earlier
                .get(&key)
                .map_or(Found::New, |e| Found::Here(e.lot.clone())));
        };
        // A log from before the claims holds the fingerprint of the entry's text instead.
        let mut found = logbook::claim::holder(tx, &key)?;
        if found.is_none() {
            let answered = &self.answered;
            found = logbook::claim::legacy_holder(tx, &c.legacy, c.date, |l| answered.contains(l))?;
        }
        let Some(h) = found else {
            return Ok(Found::New);
        };
        self.answered.insert(h.lot.clone());
        if self.remake.contains(&h.lot) {
            self.remade.insert(h.lot.clone());
            return Ok(Found::Remake(h.lot));
        }
        if self.same_run_place(&h) {
            return Ok(Found::Here(h.lot));
        }
        let source = match &h.recipe {
            Some(r) => format!("from the recipe {r}"),
            None => "by `troche make`".to_string(),
        };
        let into = h
            .out_dir
            .as_deref()
            .map(|d| format!(" into {d}"))
            .unwrap_or_default();
        let message = format!(
            "made earlier as {lot} ({status}) {source}{into}; not made again (`--remake {lot}` \
             makes a new batch in its place)",
            lot = h.lot,
            status = h.status,
        );
        Ok(Found::Elsewhere(h.lot, message))
    }

    /// Whether a batch made earlier came from this recipe into this folder (a rerun).
    fn same_run_place(&self, h: &logbook::claim::Claimed) -> bool {
        let same = |a: &str, b: &Path| {
            Path::new(a) == b
                || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
        };
        let recipe = h.recipe.as_deref().is_some_and(|r| same(r, self.recipe));
        let out = h
            .out_dir
            .as_deref()
            .is_some_and(|d| same(d, Path::new(&self.out_abs)));
        recipe && out
    }
}

/// A batch's outcome after its files were written: its row, the write's result, its record,
/// and whether it is new in this run.
type Written = (usize, Result<()>, Record, bool);

impl<'a> Run<'a> {
    fn new(recipe: &'a Recipe, opts: &'a Options, settings: &'a Settings) -> Result<Run<'a>> {
        // Never more threads than cores, nor than entries: 5,000 threads for one entry took
        // 36 s.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let threads = opts
            .jobs
            .unwrap_or(cores)
            .min(cores)
            .min(recipe.entries.len())
            .max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::internal("cannot start worker threads", e))?;
        // Temporaries are made in a hidden directory per worker thread (see
        // `publish::Staging`).
        let staging = if opts.check_only {
            None
        } else {
            Some(publish::Staging::new(
                &opts.out,
                threads,
                settings.file_mode,
            )?)
        };
        Ok(Run {
            recipe,
            recipe_name: recipe.path.display().to_string(),
            opts,
            settings,
            actor: Actor::current(),
            lots: Lots::scan(&opts.out)?,
            claims: Claims {
                recipe: &recipe.path,
                remake: &opts.remake,
                earlier: earlier_runs(&opts.out),
                occurrences: HashMap::new(),
                answered: std::collections::HashSet::new(),
                remade: std::collections::HashSet::new(),
                out_abs: std::path::absolute(&opts.out)
                    .unwrap_or_else(|_| opts.out.clone())
                    .display()
                    .to_string(),
            },
            formulas: HashMap::new(),
            pool,
            staging,
            report: Report {
                interrupted: interrupted_sets(&opts.out),
                readability: settings.balance.readability,
                ..Report::default()
            },
            picks: BTreeMap::new(),
            stock_picks: HashMap::new(),
        })
    }

    /// One chunk of entries, from their formulas to their files and rows.
    fn chunk(&mut self, chunk: &[Entry], mut log: Option<&mut (dyn Db + '_)>) -> Result<()> {
        self.load_formulas(chunk);
        let computed = self.compute(chunk);
        let rendered = self.lots_and_records(computed, log.as_deref_mut())?;
        // Written only now that the records are committed.
        let written = self.write(rendered);
        if let Some(db) = log.filter(|_| !self.opts.check_only) {
            self.void_unwritten(db, &written)?;
        }
        self.tally(written)
    }

    /// Gives the chunk's entries their lots, lays out their documents and enters the new
    /// batches in the log: with a log, all in one write transaction, which its drop rolls
    /// back if anything fails before the commit.
    fn lots_and_records(
        &mut self,
        computed: Vec<(Row, Option<Computed>)>,
        log: Option<&mut (dyn Db + '_)>,
    ) -> Result<Vec<(Job, Result<Files>)>> {
        let mut tx = match log {
            Some(db) => Some(Transaction::begin(db)?),
            None => None,
        };
        let jobs = self.assign_lots(computed, tx.as_mut())?;
        let rendered = self.render(jobs);
        // A check's transaction only read: it is rolled back on drop.
        if let Some(mut tx) = tx.filter(|_| !self.opts.check_only) {
            enter_chunk(&mut tx, &rendered, self.settings, self.opts, &self.actor)?;
            tx.commit()?;
        }
        Ok(rendered)
    }

    /// Loads each formula the chunk names, once for the run, in file order; the log stores
    /// the text each was parsed from.
    fn load_formulas(&mut self, chunk: &[Entry]) {
        for entry in chunk {
            let Some(arg) = &entry.formula else {
                continue;
            };
            let path = library::relative_to(&self.recipe.path, arg);
            self.formulas
                .entry(arg.clone())
                .or_insert_with(|| library::load(&path).map_err(entry_error));
            // A formula that cannot be read fails its entries through `formulas`.
        }
    }

    /// The chunk's calculations, independent of each other: in parallel.
    fn compute(&self, chunk: &[Entry]) -> Vec<(Row, Option<Computed>)> {
        let (recipe, opts, settings) = (self.recipe, self.opts, self.settings);
        let formulas = &self.formulas;
        self.pool.install(|| {
            chunk
                .par_iter()
                .map(|entry| compute(entry, recipe, opts, settings, formulas))
                .collect()
        })
    }

    /// Gives lots, in file order, to the entries that computed, and adds every entry's row.
    /// A batch the log holds is made again from its stored record, not from the recipe.
    fn assign_lots(
        &mut self,
        computed: Vec<(Row, Option<Computed>)>,
        mut tx: Option<&mut Transaction<'_>>,
    ) -> Result<Vec<Job>> {
        let opts = self.opts;
        let mut jobs = Vec::with_capacity(computed.len());
        // Every batch the transaction enters carries the chain's head as it began.
        let seal = tx.as_deref_mut().map(logbook::chain::seal).transpose()?;
        let mut counter = LotCounter::new(&mut self.lots)
            .practice(opts.stamps.contains(&crate::batch_record::Stamp::Practice));
        // The chunk's new batches, not yet in the log when the next entry is checked.
        let mut fills = Vec::new();
        // The stock they draw on, not yet reserved in the log.
        let mut pending = Vec::new();
        for (mut row, mut computed) in computed {
            // Claimed inside the transaction that assigns lots: an entry another run entered
            // since this one began is found here, and not made again.
            if let Some(c) = computed.as_mut() {
                match self.claims.claim(c, tx.as_deref_mut())? {
                    Found::New => {}
                    Found::Here(lot) => c.previous = Some(lot),
                    Found::Remake(lot) => c.remake_of = Some(lot),
                    Found::Elsewhere(lot, message) => {
                        row.lot = lot;
                        row.status = Status::MadeEarlier(message);
                        computed = None;
                    }
                }
            }
            // A new batch must be dated plausibly; one made earlier keeps its date.
            if let Some(m) = computed
                .as_ref()
                .filter(|c| c.previous.is_none())
                .and_then(|c| c.date_error.clone())
            {
                row.status =
                    Status::Failed(locate(&self.recipe_name, &row, format!("`date`: {m}")));
                computed = None;
            }
            // Checked against the log in the transaction the batch is entered in.
            let mut warning = None;
            let mut picked = Vec::new();
            if let (Some(tx), Some(c)) = (tx.as_deref_mut(), computed.as_mut())
                && c.previous.is_none()
            {
                // Stock lots first (they change the record); an entry short of stock fails
                // and the run goes on.
                match crate::stock::pick::choose_with(tx, &mut c.record, self.settings, &pending) {
                    Ok(p) => picked = p,
                    Err(e) if e.exit_code() == 2 => {
                        row.status =
                            Status::Failed(locate(&self.recipe_name, &row, entry_error(e)));
                        computed = None;
                    }
                    Err(e) => return Err(e),
                }
            }
            if let (Some(tx), Some(c)) = (tx.as_deref_mut(), computed.as_mut())
                && c.previous.is_none()
            {
                match crate::prescription::check_in_log(tx, &mut c.record, &fills) {
                    Ok(w) => warning = w,
                    Err(e @ (Error::Order { .. } | Error::Input { .. })) => {
                        row.status =
                            Status::Failed(locate(&self.recipe_name, &row, entry_error(e)));
                        computed = None;
                    }
                    Err(e) => return Err(e),
                }
            }
            let row_index = self.report.rows.len();
            let (row, job) = assign_lot(
                row,
                computed,
                &self.recipe_name,
                opts,
                row_index,
                &mut |explicit, date| match (tx.as_deref_mut(), explicit) {
                    (Some(tx), Some(l)) => counter.claim(tx, l, opts.force),
                    (Some(tx), None) => counter.next(tx, date).map(|l| (l.clone(), l)),
                    (None, Some(l)) => counter
                        .claim_in_dir(l, opts.force)
                        .map(|s| (l.to_string(), s)),
                    (None, None) => counter.next_in_dir(date).map(|l| (l.clone(), l)),
                },
            );
            let mut row = row;
            if let Some(j) = job.as_ref().filter(|j| !j.resume) {
                row.warnings.clone_from(&j.record.calc.warnings);
            }
            if let (Some(w), Some(j)) = (warning, &job) {
                let w = format!("lot {}: {w}", j.record.lot);
                self.report
                    .warnings
                    .push(locate(&self.recipe_name, &row, w));
            }
            if let Some(j) = job.as_ref().filter(|j| !j.resume) {
                fills.extend(crate::prescription::Fill::of(&j.record));
            }
            let mut job = job;
            if let Some(j) = job.as_mut()
                && !picked.is_empty()
            {
                pending.extend(picked.iter().cloned());
                self.stock_picks
                    .insert(j.record.lot.clone(), picked.clone());
                j.picked = picked;
            }
            self.report.rows.push(row);
            jobs.extend(job.map(|mut j| {
                if !j.resume {
                    j.record.seal.clone_from(&seal);
                }
                j
            }));
        }
        if let Some(tx) = tx {
            for job in jobs.iter_mut().filter(|j| j.resume) {
                // Its files as first printed; a batch the log keeps no bytes of (entered
                // before they were kept) is laid out again from its stored record, and one it
                // cannot rebuild (imported without its formula text) from the recipe.
                job.stored = stored_files(tx, &job.record.lot, &opts.out)?;
                if job.stored.is_none()
                    && let Ok(r) = logbook::rebuild(tx, &job.record.lot)
                {
                    job.record = r.record;
                    job.settings = Some(r.settings);
                }
            }
        }
        Ok(jobs)
    }

    /// Warns of each `--remake` lot no entry of the recipe found.
    fn unused_remakes(&mut self) {
        for lot in &self.opts.remake {
            if !self.claims.remade.contains(lot) {
                self.report.warnings.push(format!(
                    "--remake {lot}: no entry of {} is that batch's, so it was not made again",
                    self.recipe_name
                ));
            }
        }
    }

    /// Lays out every job's documents in parallel; results come back in entry order.
    fn render(&self, jobs: Vec<Job>) -> Vec<(Job, Result<Files>)> {
        let (settings, out) = (self.settings, &self.opts.out);
        self.pool.install(|| {
            jobs.into_par_iter()
                .map(|mut job| {
                    let r = if let Some(files) = job.stored.take() {
                        Ok(files)
                    } else {
                        let s = job.settings.as_ref().unwrap_or(settings);
                        batch_files::render_all(&job.record, s, out, &job.stem)
                    };
                    (job, r)
                })
                .collect()
        })
    }

    /// Writes the rendered files in parallel: all of a new batch's, the missing ones of a
    /// batch made earlier.
    fn write(&self, rendered: Vec<(Job, Result<Files>)>) -> Vec<Written> {
        let (opts, staging) = (self.opts, self.staging.as_ref());
        self.pool.install(|| {
            rendered
                .into_par_iter()
                .map(|(job, files)| {
                    let r = files.and_then(|files| {
                        if opts.check_only {
                            Ok(())
                        } else if job.resume {
                            write_missing(&files, opts.force, staging)
                        } else {
                            // The lot is new, so none of its files exist; the write
                            // itself refuses (atomically) any that appeared meanwhile.
                            publish::write_all_unsynced(&files, opts.force, staging)
                        }
                    });
                    (job.row, r, job.record, !job.resume)
                })
                .collect()
        })
    }

    /// A new batch whose files could not be written is void: its lot is never reused.
    fn void_unwritten(&self, db: &mut dyn Db, written: &[Written]) -> Result<()> {
        for (_, r, record, new) in written {
            if let (Err(e), true) = (r, *new)
                && self.report.rows.iter().any(|row| row.lot == record.lot)
            {
                let reason = format!("the files could not be written: {e}");
                logbook::void(db, &record.lot, &reason, &self.actor)?;
            }
        }
        Ok(())
    }

    /// Sets each written batch's row, and adds what it weighed to the pick list.
    fn tally(&mut self, written: Vec<Written>) -> Result<()> {
        for (row, result, record, _) in written {
            match result {
                Ok(()) => {
                    if self.report.rows[row].status == Status::Made {
                        self.pick(&record)?;
                        for p in self.stock_picks.remove(&record.lot).unwrap_or_default() {
                            let e = self
                                .report
                                .stock_lots
                                .entry((p.ingredient, p.lot, p.unit))
                                .or_insert((0, 0));
                            e.0 = e.0.saturating_add(p.quantity);
                            e.1 += 1;
                        }
                    }
                }
                Err(e) => {
                    if matches!(e, Error::Io { .. }) {
                        self.report.io_failures += 1;
                    }
                    // Nothing of this batch was written, so it has no lot to report.
                    let row = &mut self.report.rows[row];
                    row.lot.clear();
                    let msg = locate(&self.recipe_name, row, entry_error(e));
                    row.status = Status::Failed(msg);
                }
            }
        }
        Ok(())
    }

    /// Adds a batch made to the pick list. A batch counts once per ingredient, even when it
    /// weighs it twice (the diluent of two aliquots).
    fn pick(&mut self, record: &Record) -> Result<()> {
        let mut counted = std::collections::BTreeSet::new();
        for i in &record.calc.ingredients {
            let schedule = i.active.as_ref().and_then(|a| a.schedule);
            let key = (
                schedule.is_none(),
                schedule,
                i.name.clone(),
                i.dimension.base_unit(),
            );
            let e = self.picks.entry(key).or_insert((Decimal::ZERO, 0));
            // What is really put on the balance: an aliquot's drug and diluent weighings,
            // never the unweighable amount.
            e.0 =
                e.0.checked_add(i.amount)
                    .ok_or_else(|| crate::error::overflow("the pick list"))?;
            if counted.insert(i.name.as_str()) {
                e.1 += 1;
            }
        }
        Ok(())
    }

    /// The run's report, with its pick list.
    fn finish(self) -> Report {
        let mut report = self.report;
        report.picks = self
            .picks
            .into_iter()
            .map(|((_, schedule, name, unit), (total, batches))| Pick {
                name,
                schedule,
                unit,
                total,
                batches,
            })
            .collect();
        report
    }
}

/// Enters the chunk's new, rendered batches in the log (inside its write transaction).
fn enter_chunk(
    tx: &mut Transaction<'_>,
    rendered: &[(Job, Result<Files>)],
    settings: &Settings,
    opts: &Options,
    actor: &Actor,
) -> Result<()> {
    // The signer may have been deactivated or locked at another workstation since.
    if let Some(by) = &opts.prepared_by {
        logbook::people::require_signer(tx, "--by", by)?;
    }
    for (job, files) in rendered {
        let (Ok(files), false) = (files, job.resume) else {
            continue;
        };
        // The record JSON among the batch's files (published last, so not the first).
        let json = batch_files::record_json_of(files).unwrap_or_default();
        logbook::insert(
            tx,
            &logbook::NewBatch {
                record: &job.record,
                kind: "batch",
                settings,
                out_dir: Some(&opts.out),
                files,
                record_json: json,
                prepared_by: opts.prepared_by.as_deref(),
            },
            actor,
        )?;
        crate::stock::pick::reserve(
            tx,
            &job.record.lot,
            &job.picked,
            opts.prepared_by.as_deref(),
            actor,
        )?;
        if let Some(old) = &job.remake_of {
            logbook::claim::link_remake(
                tx,
                old,
                &job.record.lot,
                opts.prepared_by.as_deref(),
                actor,
            )?;
        }
    }
    Ok(())
}

/// A batch's files as the log keeps the bytes first printed, named in `out` as they were;
/// `None` when the log keeps no bytes of one of them. The record comes last, as it is
/// published last.
fn stored_files(tx: &mut Transaction<'_>, lot: &str, out: &Path) -> Result<Option<Files>> {
    let printed = logbook::files(tx, lot)?;
    if printed.is_empty() {
        return Ok(None);
    }
    let mut files = Vec::with_capacity(printed.len());
    for f in printed {
        let (Some(bytes), Some(name)) = (
            logbook::document(tx, lot, &f.kind)?,
            Path::new(&f.path).file_name(),
        ) else {
            return Ok(None);
        };
        files.push((out.join(name), bytes));
    }
    files.sort_by_key(|(p, _)| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    });
    Ok(Some(files))
}

/// Stems of the worksheets and labels in `dir` that have no JSON record beside them, sorted.
fn interrupted_sets(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut pdfs = std::collections::BTreeSet::new();
    let mut records = std::collections::HashSet::new();
    for e in rd.filter_map(std::result::Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name
            .strip_suffix("-worksheet.pdf")
            .or_else(|| name.strip_suffix("-label.pdf"))
        {
            pdfs.insert(stem.to_string());
        } else if let Some(stem) = name.strip_suffix(".json") {
            records.insert(stem.to_string());
        }
    }
    pdfs.into_iter().filter(|s| !records.contains(s)).collect()
}

/// The files describing a whole run, written when it ends.
pub const RUN_FILES: [&str; 2] = ["summary.csv", "picklist.csv"];

/// Removes the previous run's summary and pick list before anything is made, so that a run
/// that cannot write its own (a full disk, a kill) never leaves an earlier run's looking like
/// its own. A link at either name is removed itself, never followed.
fn remove_run_files(dir: &Path) -> Result<()> {
    for name in RUN_FILES {
        let p = dir.join(name);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    Ok(())
}

/// Publishes the files of a batch made by an earlier run that are not there any more. The
/// record is published last (see `batch_files::paths`), so an earlier batch whose record exists
/// had both PDFs; one deleted since is rendered again byte for byte under the same lot. A
/// name that exists as anything (a link included, never followed) counts as there.
fn write_missing(
    files: &[(PathBuf, Vec<u8>)],
    force: bool,
    staging: Option<&publish::Staging>,
) -> Result<()> {
    let missing: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| force || std::fs::symlink_metadata(p).is_err())
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    publish::write_all_unsynced(&missing, force, staging)
}

/// An entry's record, computed and waiting for its lot.
struct Computed {
    record: Record,
    /// The lot an earlier run of this entry was given.
    previous: Option<String>,
    explicit_lot: Option<String>,
    date: Date,
    /// What identical entries share (`logbook::claim::content_of`).
    content: String,
    /// The fingerprint of the entry's text, which logs from before the claims hold.
    legacy: String,
    /// Why its date does not do for a new batch (it does for one made earlier).
    date_error: Option<String>,
    /// The lot it is made again in place of (`--remake`).
    remake_of: Option<String>,
}

/// Who holds an entry's claim.
enum Found {
    /// No batch: the entry is made now.
    New,
    /// A batch this recipe made into this folder: its missing files are written.
    Here(String),
    /// A batch made elsewhere (another recipe or folder, `make`), and why it is not made.
    Elsewhere(String, String),
    /// A batch `--remake` names: the entry is made again, as a new lot.
    Remake(String),
}

/// Everything about an entry that does not depend on the others: its order, formula,
/// calculation and dates. Runs in parallel.
fn compute(
    entry: &Entry,
    recipe: &Recipe,
    opts: &Options,
    settings: &Settings,
    formulas: &HashMap<String, std::result::Result<Formula, String>>,
) -> (Row, Option<Computed>) {
    let mut row = Row {
        index: entry.index,
        line: entry.line,
        lot: String::new(),
        rx: entry.rx.clone().unwrap_or_default(),
        formula: entry.formula.clone().unwrap_or_default(),
        strength: String::new(),
        quantity: String::new(),
        bud: String::new(),
        status: Status::Valid,
        warnings: Vec::new(),
    };
    let recipe_name = recipe.path.display().to_string();
    let fail = |mut row: Row, msg: String| {
        row.status = Status::Failed(locate(&recipe_name, &row, msg));
        (row, None)
    };
    let order = match &entry.order {
        Ok(o) => o.clone(),
        Err(e) => return fail(row, e.clone()),
    };
    let Some(formula_arg) = &entry.formula else {
        return fail(row, "no formula".into());
    };
    let formula = match formulas.get(formula_arg) {
        Some(Ok(f)) => f.clone(),
        Some(Err(e)) => return fail(row, e.clone()),
        None => return fail(row, format!("formula `{formula_arg}` was not loaded")),
    };
    row.formula.clone_from(&formula.id);
    row.quantity = order.quantity.to_string();

    let date = order.date.or(recipe.shared.date).unwrap_or(opts.today);
    // Its claim, once its occurrence is known (`Run::claim`).
    let origin = Origin {
        recipe: recipe_name.clone(),
        entry: entry.index,
        fingerprint: String::new(),
    };
    let explicit_lot = order.lot.clone();
    let mut record = match Record::new(formula, order, settings, date, String::new()) {
        Ok(r) => r,
        Err(e) => return fail(row, entry_error(e)),
    };
    row.strength = strength_text(&record);
    row.bud = record.bud.date.to_string();
    if let Err(e) = crate::prescription::check(&record.formula, &record.order, record.date) {
        return fail(row, entry_error(e));
    }
    // Refused for a new batch only: one made earlier keeps its date (`Run::assign_lots`).
    let date_error = crate::batch_record::check_dates(
        record.date,
        Some(record.bud.date),
        opts.today,
        opts.backdate,
    )
    .err();
    record.origin = Some(origin);
    record.stamps.extend(opts.stamps.iter().cloned());
    let computed = Computed {
        content: logbook::claim::content_of(&record),
        legacy: entry.fingerprint.clone(),
        record,
        previous: None,
        explicit_lot,
        date,
        date_error,
        remake_of: None,
    };
    (row, Some(computed))
}

/// Gives a computed entry its lot: the one an earlier run gave it, the one the order names,
/// or the next free one of its date. Runs in file order, so lots do not depend on threads.
fn assign_lot(
    mut row: Row,
    computed: Option<Computed>,
    recipe_name: &str,
    opts: &Options,
    row_index: usize,
    claim: &mut ClaimLot<'_>,
) -> (Row, Option<Job>) {
    let Some(Computed {
        mut record,
        previous,
        explicit_lot,
        date,
        remake_of,
        ..
    }) = computed
    else {
        return (row, None);
    };
    let (lot, stem, status) = if let Some(p) = previous {
        let stem = lots::file_stem(&p);
        (p, stem, Status::DoneEarlier)
    } else {
        let claimed = claim(explicit_lot.as_deref(), date);
        match claimed {
            Ok((l, s)) => (
                l,
                s,
                if opts.check_only {
                    Status::Valid
                } else {
                    Status::Made
                },
            ),
            Err(e) => {
                row.status = Status::Failed(locate(recipe_name, &row, entry_error(e)));
                return (row, None);
            }
        }
    };
    record.lot.clone_from(&lot);
    row.lot = lot;
    let resume = status == Status::DoneEarlier;
    row.status = status;
    (
        row,
        Some(Job {
            picked: Vec::new(),
            row: row_index,
            record,
            stem,
            resume,
            settings: None,
            stored: None,
            remake_of,
        }),
    )
}

/// An error about one entry in the words of the recipe file: the library names a value by its
/// command-line flag (`--strength`, `FORMULA`), which in a recipe is the entry's key.
fn entry_error(e: Error) -> String {
    match e {
        Error::Order { field, message } => format!("`{}`: {message}", field.key()),
        Error::Argument { arg, message } => {
            format!(
                "`{}`: {message}",
                arg.trim_start_matches("--").to_ascii_lowercase()
            )
        }
        other => other.to_string(),
    }
}

/// Places a failure in the recipe file: messages about the entry's own text already name
/// their line; the others (unknown formula, a load too high, a label that cannot fit) get the
/// entry's line and number, so every message stands on its own.
fn locate(recipe: &str, row: &Row, msg: String) -> String {
    if msg.starts_with(recipe) {
        msg
    } else {
        format!("{recipe}:{}: batch[{}]: {msg}", row.line, row.index)
    }
}
