//! A log of made-up batches, for measuring `troche log` and `troche recall` over a large log
//! (benches/log.rs, examples/gen-log.rs). Not library API, and not in the program: benches
//! and examples include this file by path.

use troche::logbook::{Actor, PREPARED, RECORDED, REJECTED, RELEASED};
use troche::store::{Db, Value};
use troche::{Error, Result};

/// Fills the log with `n` made-up batches (for measuring `log` and `recall`): 1,000 a
/// transaction, dates over three years, two component lots each from a pool of 5,000.
pub(crate) fn generate(db: &mut dyn Db, n: u64) -> Result<()> {
    const FORMULAS: [&str; 6] = [
        "ketamine-hcl-troche",
        "progesterone-troche",
        "bi-est-troche",
        "sildenafil-troche",
        "testosterone-troche",
        "hydrocortisone-suppository",
    ];
    let actor = Actor {
        workstation: "generator".into(),
        os_user: "generator".into(),
    };
    let start = jiff::civil::date(2024, 1, 1);
    let existing = db.query("SELECT count(*) AS n FROM batches", &[])?[0].int("n")?;
    let mut i = 0u64;
    while i < n {
        let end = (i + 1000).min(n);
        db.write(|db| {
            for k in i..end {
                let g = i64::try_from(k).unwrap_or(0) + existing;
                let date = start
                    .checked_add(jiff::Span::new().days(g % 1095))
                    .map_err(|e| Error::calc(e.to_string()))?;
                let prefix = format!(
                    "{:02}{:02}{:02}",
                    date.year().rem_euclid(100),
                    date.month(),
                    date.day()
                );
                let seq = g / 1095 + 1;
                let lot = format!("G{prefix}-{seq:03}");
                let status = [PREPARED, RECORDED, RELEASED, RELEASED, RELEASED, REJECTED]
                    [usize::try_from(g % 6).unwrap_or(0)];
                db.execute(
                    "INSERT INTO batches (lot, kind, compounding_date, formula_id, \
                     formula_version, rx, patient, prescriber, units, bud, bud_rule, status, \
                     record_json, created_at, workstation, os_user) VALUES ($1, 'generated', \
                     $2, $3, 1, $4, $5, $6, 30, $7, 'USP <795>', $8, '{}', $9, $10, $11)",
                    &[
                        Value::text(lot.clone()),
                        Value::text(date.to_string()),
                        Value::text(FORMULAS[usize::try_from(g % 6).unwrap_or(0)]),
                        Value::text(format!("RX{g:07}")),
                        Value::text(format!("Patient {}", g % 20_000)),
                        Value::text(format!("Dr. {}", g % 300)),
                        Value::text(date.to_string()),
                        Value::text(status),
                        Value::text(jiff::Timestamp::now().to_string()),
                        Value::text(actor.workstation.clone()),
                        Value::text(actor.os_user.clone()),
                    ],
                )?;
                for (p, c) in [(0, g % 5000), (1, (g * 7 + 3) % 5000)] {
                    db.execute(
                        "INSERT INTO components (lot, position, name, component_lot, expiry, \
                         manufacturer) VALUES ($1, $2, $3, $4, '2030-01-01', 'Generated')",
                        &[
                            Value::text(lot.clone()),
                            Value::int(p),
                            Value::text(if p == 0 { "Active" } else { "Base" }),
                            Value::text(format!("CL-{c:05}")),
                        ],
                    )?;
                }
                db.execute(
                    "INSERT INTO events (lot, seq, at, what, status, who, workstation, os_user, \
                     details) VALUES ($1, 1, $2, 'prepared', $3, NULL, $4, $5, '{}')",
                    &[
                        Value::text(lot),
                        Value::text(jiff::Timestamp::now().to_string()),
                        Value::text(status),
                        Value::text(actor.workstation.clone()),
                        Value::text(actor.os_user.clone()),
                    ],
                )?;
            }
            // Chained as the log chains its own events.
            troche::logbook::chain::link_unchained(db)
        })?;
        i = end;
    }
    Ok(())
}
