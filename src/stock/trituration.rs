//! Stock triturations: a batch of a `trituration` formula (a drug diluted in an inert powder,
//! estradiol 1:10 in lactose) is made, recorded and released like any batch, and at its
//! release enters stock as a component under the batch's own lot, its potency the drug's
//! concentration worked out from the weights actually recorded. Later batches weigh it in
//! place of the drug (see [`super::pick`]), and a controlled drug's trituration is in the
//! perpetual inventory like the drug.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::bench::BenchRecord;
use crate::error::{Error, Result};
use crate::formula::FormulaKind;
use crate::logbook::Actor;
use crate::store::Transaction;

use super::events::NewEvent;
use super::{QUARANTINED, RELEASED, Receipt, to_micro_up};

/// The form a trituration's stock lot is kept under: it marks the lot as one.
pub const FORM: &str = "trituration";

/// Who made a trituration, where a supplier's lot names its manufacturer.
pub const MADE_HERE: &str = "compounded in house";

/// Decimal places the concentration is kept to, in percent.
const PLACES: u32 = 4;

/// At the release of batch `lot`, in its transaction: when its formula is a trituration,
/// enters it in stock, released, and says how its potency was worked out.
pub fn enter(
    tx: &mut Transaction<'_>,
    lot: &str,
    bench: &BenchRecord,
    by: &str,
    actor: &Actor,
) -> Result<Option<String>> {
    let rebuilt = crate::logbook::rebuild(tx, lot)?;
    let record = &rebuilt.record;
    if record.formula.kind != FormulaKind::Trituration {
        return Ok(None);
    }
    let Some(active) = record.formula.actives.first() else {
        return Ok(None);
    };
    let refuse = |why: String| Error::arg("LOT", format!("lot {lot} cannot enter stock: {why}"));
    let mut total = Decimal::ZERO;
    let mut drug = None;
    for a in &bench.amounts {
        let actual = a.actual.as_ref().map(|d| d.0).ok_or_else(|| {
            refuse(format!(
                "its record has no actual amount of {}",
                a.ingredient
            ))
        })?;
        total = total
            .checked_add(actual)
            .ok_or_else(|| crate::error::overflow("the trituration's weight"))?;
        if a.ingredient == active.name {
            drug = Some(actual);
        }
    }
    let drug =
        drug.ok_or_else(|| refuse(format!("its record has no weight of {}", active.name)))?;
    if record.calc.ingredients.iter().any(|i| i.aliquot.is_some()) {
        return Err(refuse(
            "it was made through an aliquot, so the drug weighed is not the drug in it".to_string(),
        ));
    }
    if total <= Decimal::ZERO {
        return Err(refuse("its recorded weights add up to nothing".to_string()));
    }
    let assay = record
        .calc
        .ingredients
        .iter()
        .find(|i| i.name == active.name)
        .and_then(|i| i.active.as_ref())
        .and_then(|d| d.assay_percent)
        .unwrap_or(Decimal::ONE_HUNDRED);
    let concentration = drug
        .checked_mul(assay)
        .and_then(|x| x.checked_div(total))
        .ok_or_else(|| crate::error::overflow("the trituration's concentration"))?
        .round_dp_with_strategy(PLACES, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    let step = format!(
        "{} g of {} (assay {} % as is) in {} g of trituration = {} % (to {PLACES} places)",
        drug.normalize(),
        active.name,
        assay.normalize(),
        total.normalize(),
        concentration
    );
    let receipt = Receipt {
        name: active.name.clone(),
        lot: lot.to_string(),
        manufacturer: MADE_HERE.to_string(),
        expiry: record.bud.date,
        unit: "g",
        quantity: to_micro_up("LOT", total)?,
        assay: Some(concentration),
        assay_basis: Some("as-is".to_string()),
        water: None,
        potency: Some(concentration),
        form: Some(FORM.to_string()),
        schedule: active.schedule,
        supplier: None,
        invoice: None,
        order_form: None,
        certificate_sha256: None,
        potency_step: Some(step.clone()),
    };
    super::receive(tx, &receipt, by, actor)?;
    // The pharmacist's release of the batch is the release of its stock lot.
    super::transition(
        tx,
        lot,
        &[QUARANTINED],
        &NewEvent {
            lot,
            what: "released",
            status: Some(RELEASED),
            who: Some(by),
            meaning: Some("released"),
            details: serde_json::json!({ "batch": lot }),
            ..NewEvent::default()
        },
        actor,
    )?;
    Ok(Some(format!(
        "stock trituration {lot}: {} g of {} at {concentration} % entered in stock, released, \
         expiry {} ({step})",
        total.normalize(),
        active.name,
        record.bud.date
    )))
}
