//! What the commands share about the compounding log: where it is, and entering one batch in
//! it (lot and record in one transaction), then writing its files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config::{self, Settings};
use crate::error::{Error, Result};
use crate::library;
use crate::logbook::{self, Actor, LotCounter, NewBatch};
use crate::lots::Lots;
use crate::order;
use crate::output;
use crate::record::Record;
use crate::report;
use crate::store::{self, Db};

use super::order::OrderArgs;

/// A batch's files in memory: path and bytes.
pub(super) type Files = Vec<(PathBuf, Vec<u8>)>;

/// `--db` as given on the command line (set once by `run`).
pub(super) static DB_FLAG: OnceLock<Option<String>> = OnceLock::new();

/// Opens the log named by `--db`, `TROCHE_DATABASE_URL` or the settings' `database`.
pub(super) fn open(settings_db: Option<&str>) -> Result<Box<dyn Db>> {
    let flag = DB_FLAG.get().and_then(Option::as_deref);
    store::open(&store::locate(flag, settings_db)?)
}

/// Opens the log for the commands that only read or add events: settings from `--config`
/// (or the usual places) for `database`.
pub(super) fn open_with_config(config_file: Option<&Path>) -> Result<Box<dyn Db>> {
    let settings = config::load(config_file)?;
    open(settings.database.as_deref())
}

/// The text of a formula named on the command line (library id or file), for the record.
pub(super) fn source_text(arg: &str) -> Result<String> {
    logbook::formula_source(arg)
}

/// The formula's text for an order given by flags and maybe an order file.
pub(super) fn formula_text(args: &OrderArgs) -> Result<String> {
    if let Some(f) = &args.formula {
        return source_text(f);
    }
    if let Some(p) = &args.order_file {
        let (f, _) = order::parse_file(&library::read_text(p)?, &p.display().to_string())?;
        if let Some(f) = f {
            return source_text(&library::relative_to(p, &f));
        }
    }
    Err(Error::arg("FORMULA", "name a formula"))
}

/// Enters one batch: in one write transaction its lot is decided (explicit, or the next free
/// in the whole log), its files rendered and hashed, and its record inserted. The files are
/// written after the commit; if that fails the batch is voided with the reason.
pub(super) fn enter_and_write(
    mut record: Record,
    settings: &Settings,
    formula_text: &str,
    dir: &Path,
    kind: &str,
    force: bool,
    render: impl Fn(&Record, &str) -> Result<Files>,
) -> Result<(Record, Files)> {
    let mut db = open(settings.database.as_deref())?;
    let actor = Actor::current();
    let files = db.write(|tx| {
        let mut lots = Lots::scan(dir)?;
        let mut counter = LotCounter::new(&mut lots);
        let stem = if let Some(l) = record.order.lot.clone() {
            let stem = counter.claim(tx, &l, force)?;
            record.lot = l;
            stem
        } else {
            let l = counter.next(tx, record.date)?;
            record.lot.clone_from(&l);
            l
        };
        let files = render(&record, &stem)?;
        // `make` renders the record JSON among its files; a single document does not.
        let own;
        let json = if let Some(j) = crate::paperwork::record_json_of(&files) {
            j
        } else {
            own = report::record_json(&record);
            own.as_str()
        };
        logbook::insert(
            tx,
            &NewBatch {
                record: &record,
                kind,
                formula_text: Some(formula_text),
                settings,
                out_dir: Some(dir),
                files: &files,
                record_json: json,
            },
            &actor,
        )?;
        Ok(files)
    })?;
    if let Err(e) = output::write_all(&files, force) {
        let reason = format!("the files could not be written: {e}");
        if let Err(v) = logbook::void(db.as_mut(), &record.lot, &reason, &actor) {
            eprintln!("troche: lot {} could not be voided: {v}", record.lot);
        }
        return Err(e);
    }
    Ok((record, files))
}
