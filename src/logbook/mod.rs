//! The compounding log: pharmacy-wide lots, and each batch's record from worksheet to
//! release, in a database (`crate::store`). docs/log.md describes the schema and the states.
//!
//! A batch's row is written in the same transaction that assigns its lot, with the SHA-256 of
//! every file to be printed; the files are written only after that transaction commits. The
//! history of a batch is its events, appended and never changed; the `status` column of a
//! batch is written only by [`append_event`], in the event's transaction.
//!
//! One part a job: [`lots`] numbers batches, [`snapshot`] keeps the order and settings a batch
//! was made with, [`batches`] enters a new batch, [`events`] appends to its history,
//! [`queries`] reads the log back, [`import`] enters records made before the log, [`people`]
//! keeps who signs, [`policy`] the pharmacy's signed decisions and [`approval`] the
//! pharmacists' approvals of master formulation records. Everything
//! that writes takes a [`Transaction`](crate::store::Transaction).

mod actor;
pub mod approval;
pub mod audit;
mod batches;
pub mod chain;
pub mod claim;
mod digest;
mod events;
mod import;
mod lots;
pub mod people;
pub mod policy;
mod queries;
mod snapshot;

#[cfg(test)]
mod testing;

pub use actor::Actor;
pub use batches::{NewBatch, document, insert, keep_document};
pub use digest::sha256_hex;
pub use events::{
    Event, NewEvent, append_event, append_event_at, dispensed_units, events, latest_event,
    signed_by, transition, void,
};
pub use import::{CheckedRecord, check_record, import_record};
pub use lots::{LotCounter, exists, is_practice, lot_number, normalize as normalize_lot};
pub use queries::{
    Batch, Check, Component, EarlierFill, Filter, LIST_COLUMNS, Listed, PrintedFile,
    RECALL_COLUMNS, Rebuilt, Recalled, batch, check, components, earlier_fill, files, list,
    rebuild, recall, recall_by_number, require_status,
};
pub use snapshot::{OrderSnapshot, SettingsSnapshot};

/// The states of a batch.
pub const PREPARED: &str = "prepared";
pub const RECORDED: &str = "recorded";
pub const RELEASED: &str = "released";
pub const REJECTED: &str = "rejected";
pub const VOID: &str = "void";
pub const DISPENSED: &str = "dispensed";
pub const QUARANTINED: &str = "quarantined";
pub const RECALLED: &str = "recalled";
/// Every state, in the order a batch passes through them.
pub const STATES: &[&str] = &[
    PREPARED,
    RECORDED,
    RELEASED,
    REJECTED,
    VOID,
    DISPENSED,
    QUARANTINED,
    RECALLED,
];

/// The time of an entry in the log: UTC, RFC 3339.
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// The next number of a history table numbered by `seq` across the whole log (people's
/// events, policy decisions), read inside the transaction that appends it.
fn next_seq(tx: &mut crate::store::Transaction<'_>, table: &'static str) -> crate::Result<i64> {
    let last = tx
        .query(&format!("SELECT max(seq) AS seq FROM {table}"), &[])?
        .into_iter()
        .next()
        .map_or(Ok(None), |mut r| r.opt_int("seq"))?
        .unwrap_or(0);
    Ok(last + 1)
}
