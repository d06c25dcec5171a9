//! From what was entered at the bench to a judged [`BenchRecord`]: each amount against its
//! tolerance, each unit against the accepted range, the unit weights' figures, the yield, the
//! reconciliation, and everything the record still lacks.

use rust_decimal::Decimal;

use crate::batch_record::Record;
use crate::calc::{Ingredient, Role};
use crate::error::{Error, Result, overflow};
use crate::formula::names::Names;
use crate::order;
use crate::quantity::{Dimension, Quantity, round_to};

use super::limits::{formula_tolerance, limits, measure, narrowest, off_percent};
use super::reconcile::{Counts, reconcile};
use super::stats::unit_figures;
use super::{
    Amount, BenchRecord, ComponentLot, Dec, ExtraUnits, Flag, FlagKind, Rejected, UnitStats,
    VERSION, Yield,
};

/// What was entered for one record, as typed, before it is judged.
#[derive(Debug, Default)]
pub struct Entered {
    pub number: u32,
    pub reason: Option<String>,
    pub by: String,
    pub witness: Option<String>,
    /// `--tolerance`: narrows the formula's, never widens them.
    pub tolerance: Option<Decimal>,
    /// (the flag it came from, the name as typed, the amount).
    pub amounts: Vec<(&'static str, String, Quantity)>,
    pub components: Vec<order::ComponentLot>,
    pub unit_weights: Vec<Decimal>,
    pub made: Option<u32>,
    pub rejected: Vec<(u32, String)>,
    pub extra_were: Option<ExtraUnits>,
    pub deviations: Vec<String>,
}

/// The batch's ingredients by name, as every command resolves them (full, short or moiety
/// name, in any case; a near miss refused with "did you mean").
fn names(record: &Record) -> Names {
    Names::rows(
        &record.formula,
        record.calc.ingredients.iter().map(|i| i.name.as_str()),
    )
}

/// The ingredient of the batch `name` names; else the refusal, naming `flag`.
fn ingredient<'a>(record: &'a Record, flag: &str, name: &str) -> Result<&'a Ingredient> {
    let names = names(record);
    let k = names.resolve_arg(flag, name, &format!("lot {}", record.lot))?;
    record
        .calc
        .ingredients
        .iter()
        .find(|i| i.name == names.full(k))
        .ok_or_else(|| {
            Error::arg(
                flag,
                format!("no ingredient \"{name}\" in lot {}", record.lot),
            )
        })
}

/// Whether `given` (a name as typed at `make` or `record`) names the ingredient `full`.
fn names_it(names: &Names, full: &str, given: &str) -> bool {
    names.resolve(given).is_ok_and(|k| names.full(k) == full)
}

/// What judging finds: flags to resolve and what is missing.
#[derive(Default)]
struct Findings {
    flags: Vec<Flag>,
    missing: Vec<String>,
}

/// Judges what was entered for `record`; refuses (exit 2, naming the flag) what cannot be
/// true of the batch: an amount in the wrong unit, a tolerance wider than the formula's,
/// more units weighed than poured, units made and rejected that are not the units poured.
pub fn judge(record: &Record, entered: Entered) -> Result<BenchRecord> {
    let calc = &record.calc;
    narrow_only(record, entered.tolerance)?;
    let mut found = Findings::default();
    let (amounts, actual) = amounts(record, &entered, &mut found)?;
    let components = components(record, &entered.components, &mut found)?;
    let (unit_sample, unit_stats) = units(record, &entered.unit_weights, &mut found)?;
    let (rejected_total, yields) = made(record, entered.made, &entered.rejected, &mut found)?;
    if record.schedule().is_some() && calc.extra_units > 0 && entered.extra_were.is_none() {
        found.missing.push(format!(
            "what became of the {} extra units of a controlled substance (--extra-units \
             retained|destroyed)",
            calc.extra_units
        ));
    }
    let weighed = |name: &str| {
        calc.ingredients
            .iter()
            .zip(&actual)
            .find(|(i, _)| i.name == name)
            .and_then(|(_, a)| *a)
    };
    let reconciliation = reconcile(
        record,
        &weighed,
        &Counts {
            made: entered.made,
            rejected: rejected_total,
            extra_were: entered.extra_were,
        },
    )
    .ok_or_else(|| overflow("the reconciliation"))?;
    for r in reconciliation.iter().filter(|r| !r.balances) {
        found.missing.push(format!(
            "a reconciliation of {} that balances: {} g are not accounted for",
            r.active, r.difference
        ));
    }
    if !entered.deviations.is_empty() {
        found.flags.push(Flag {
            id: "deviation".into(),
            kind: FlagKind::Deviation,
            text: format!(
                "{} deviation(s) from the master formulation record",
                entered.deviations.len()
            ),
        });
    }
    let (low, high) = calc.accepted_range();
    Ok(BenchRecord {
        version: VERSION,
        number: entered.number,
        reason: entered.reason,
        by: entered.by,
        witness: entered.witness,
        narrowed_to_percent: entered.tolerance.map(Dec),
        amounts,
        components,
        unit_weights: entered.unit_weights.into_iter().map(Dec).collect(),
        unit_range: (Dec(low), Dec(high)),
        unit_sample,
        units_poured: calc.units_prepared,
        units_dispensed: calc.units_dispensed,
        extra_units: calc.extra_units,
        extra_units_were: entered.extra_were,
        made: entered.made,
        rejected: entered
            .rejected
            .into_iter()
            .map(|(count, reason)| Rejected { count, reason })
            .collect(),
        unit_stats,
        yields,
        reconciliation,
        deviations: entered.deviations,
        flags: found.flags,
        missing: found.missing,
        printed: None,
    })
}

/// Refuses a `--tolerance` wider than any of the formula's: a record may only narrow them.
fn narrow_only(record: &Record, tolerance: Option<Decimal>) -> Result<()> {
    if let Some(t) = tolerance
        && let Some((narrow, name)) = narrowest(&record.formula, &record.calc)
        && t > narrow
    {
        return Err(Error::arg(
            "--tolerance",
            format!(
                "{}% would widen the master formulation record's tolerances, which a record \
                 may only narrow; the narrowest is {}% ({name}). Leave --tolerance out to \
                 judge by the formula's",
                t.normalize(),
                narrow.normalize()
            ),
        ));
    }
    Ok(())
}

/// Each component's amount against its tolerance, in the unit the worksheet measures it.
fn amounts(
    record: &Record,
    entered: &Entered,
    found: &mut Findings,
) -> Result<(Vec<Amount>, Vec<Option<Decimal>>)> {
    let calc = &record.calc;
    let mut actual: Vec<Option<Decimal>> = vec![None; calc.ingredients.len()];
    for (flag, name, q) in &entered.amounts {
        let i = ingredient(record, flag, name)?;
        let k = calc
            .ingredients
            .iter()
            .position(|x| x.name == i.name)
            .unwrap_or(0);
        if actual[k].is_some() {
            return Err(Error::arg(
                *flag,
                format!("{} is given twice; give each amount once", i.name),
            ));
        }
        if q.dimension() != i.dimension {
            let (how, unit) = match i.dimension {
                Dimension::Volume => ("measured by volume", "mL"),
                Dimension::Mass => ("weighed", "g or mg"),
            };
            return Err(Error::arg(
                *flag,
                format!(
                    "{} is {how} on the worksheet ({} {}): give what was put in in {unit}, \
                     e.g. \"{}={} {}\"",
                    i.name,
                    i.amount,
                    i.dimension.base_unit(),
                    crate::formula::short_name(&i.name),
                    i.amount,
                    i.dimension.base_unit()
                ),
            ));
        }
        actual[k] = Some(q.in_base());
    }
    let mut amounts = Vec::new();
    for (i, got) in calc.ingredients.iter().zip(&actual) {
        let a = amount(record, i, *got, entered.tolerance)?;
        match (got, a.within()) {
            (None, _) => found.missing.push(format!(
                "the actual amount of {} (in {})",
                i.name,
                a.measure.unit()
            )),
            (Some(g), Some(false)) => {
                let active = i.role == Role::Active;
                let unit = a.measure.unit();
                found.flags.push(Flag {
                    id: format!("weight:{}", i.name),
                    kind: if active {
                        FlagKind::Active
                    } else {
                        FlagKind::Amount
                    },
                    text: format!(
                        "{}: {g} {unit} is outside {} to {} {unit} ({} % of {} {unit}){}",
                        i.name,
                        a.low,
                        a.high,
                        a.tolerance_percent.0.normalize(),
                        i.amount,
                        if active {
                            "; an active out of tolerance is not acknowledged: reject the \
                             batch (verify --reject) or remake it"
                        } else {
                            ""
                        }
                    ),
                });
            }
            _ => {}
        }
        amounts.push(a);
    }
    Ok((amounts, actual))
}

/// One amount with its tolerance (the formula's, or a narrower `--tolerance`) and limits.
fn amount(
    record: &Record,
    i: &Ingredient,
    got: Option<Decimal>,
    narrowed: Option<Decimal>,
) -> Result<Amount> {
    let t = formula_tolerance(&record.formula, &record.calc, i);
    let (percent, from) = match narrowed {
        Some(n) if n < t.percent => (
            n,
            format!("narrowed by --tolerance from {}%", t.percent.normalize()),
        ),
        _ => (t.percent, t.from),
    };
    let (how, step) = measure(&record.calc, i);
    let (low, high) = limits(i.amount, percent, step).ok_or_else(|| overflow("the limits"))?;
    Ok(Amount {
        ingredient: i.name.clone(),
        role: i.role.as_str().to_string(),
        measure: how,
        expected: Dec(i.amount),
        actual: got.map(Dec),
        tolerance_percent: Dec(percent),
        tolerance_from: from,
        low,
        high,
        off_percent: got.and_then(|g| off_percent(g, i.amount)).map(Dec),
    })
}

/// Component lots: the order's (at make), then those entered with the record; every
/// component needs a lot and an expiry.
fn components(
    record: &Record,
    entered: &[order::ComponentLot],
    found: &mut Findings,
) -> Result<Vec<ComponentLot>> {
    let names = names(record);
    let mut components: Vec<ComponentLot> = record
        .order
        .components
        .iter()
        .map(|l| ComponentLot {
            ingredient: l.name.clone(),
            lot: l.lot.clone(),
            expiry: l.expiry.map(|d| d.to_string()),
            manufacturer: l.manufacturer.clone(),
            entered_at: "make".into(),
        })
        .collect();
    for l in entered {
        let i = ingredient(record, "--component", &l.name)?;
        if let Some(had) = components
            .iter()
            .find(|h| names_it(&names, &i.name, &h.ingredient))
        {
            return Err(Error::arg(
                "--component",
                format!(
                    "{}'s lot was entered at {} ({}); a component's lot is entered once",
                    i.name, had.entered_at, had.lot
                ),
            ));
        }
        components.push(ComponentLot {
            ingredient: i.name.clone(),
            lot: l.lot.clone(),
            expiry: l.expiry.map(|d| d.to_string()),
            manufacturer: l.manufacturer.clone(),
            entered_at: "record".into(),
        });
    }
    for i in &record.calc.ingredients {
        match components
            .iter()
            .find(|l| names_it(&names, &i.name, &l.ingredient))
        {
            None => found
                .missing
                .push(format!("the lot and expiry of {}", i.name)),
            Some(l) if l.expiry.is_none() => {
                found
                    .missing
                    .push(format!("the expiry of {} (lot {})", i.name, l.lot));
            }
            Some(_) => {}
        }
    }
    Ok(components)
}

/// Each unit against the accepted range as printed, and the weights' figures against the
/// formula's limits; returns the units to weigh and the figures.
fn units(
    record: &Record,
    weights: &[Decimal],
    found: &mut Findings,
) -> Result<(u32, Option<UnitStats>)> {
    let calc = &record.calc;
    let poured = calc.units_prepared;
    let count = u32::try_from(weights.len()).unwrap_or(u32::MAX);
    if count > poured {
        return Err(Error::arg(
            "--unit-weight",
            format!("{count} unit weights for the {poured} units poured"),
        ));
    }
    let (low, high) = calc.accepted_range();
    for (k, w) in weights.iter().enumerate() {
        if *w < low || *w > high {
            found.flags.push(Flag {
                id: format!("unit:{}", k + 1),
                kind: FlagKind::Unit,
                text: format!("unit {}: {w} g is outside {low} g to {high} g", k + 1),
            });
        }
    }
    let sample = record
        .formula
        .qc
        .unit_weight_sample
        .map_or(poured, |s| s.min(poured));
    if count < sample {
        found.missing.push(format!(
            "unit weights: {count} of the {sample} units to weigh one by one"
        ));
    }
    let places = calc.balance.readability.normalize().scale();
    let Some((mean, lightest, heaviest, rsd)) = unit_figures(weights, places) else {
        return Ok((sample, None));
    };
    let limit = record.formula.qc.unit_weight_rsd_percent;
    let stats = UnitStats {
        count,
        mean: Dec(mean),
        lightest: Dec(lightest),
        heaviest: Dec(heaviest),
        rsd_percent: Dec(rsd),
        rsd_limit_percent: Dec(limit),
        mean_within: mean >= low && mean <= high,
        all_within: lightest >= low && heaviest <= high,
        rsd_within: rsd <= limit,
    };
    if !stats.mean_within {
        found.flags.push(Flag {
            id: "unit-mean".into(),
            kind: FlagKind::UnitWeights,
            text: format!("the mean unit weight {mean} g is outside {low} g to {high} g"),
        });
    }
    if !stats.rsd_within {
        found.flags.push(Flag {
            id: "rsd".into(),
            kind: FlagKind::UnitWeights,
            text: format!(
                "the unit weights' RSD {rsd} % is above the formula's {} %",
                limit.normalize()
            ),
        });
    }
    Ok((sample, Some(stats)))
}

/// Units made and rejected, which add up to the units poured, and the yield.
fn made(
    record: &Record,
    made: Option<u32>,
    rejected: &[(u32, String)],
    found: &mut Findings,
) -> Result<(u32, Option<Yield>)> {
    let calc = &record.calc;
    let poured = calc.units_prepared;
    let rejected_total = rejected
        .iter()
        .try_fold(0u32, |t, (n, _)| t.checked_add(*n))
        .ok_or_else(|| overflow("the units rejected"))?;
    let Some(made) = made else {
        if rejected_total > 0 {
            return Err(Error::arg(
                "--rejected",
                "give the units made too (--made N): made + rejected = units poured",
            ));
        }
        found.missing.push("units made (--made)".into());
        return Ok((0, None));
    };
    if made.checked_add(rejected_total) != Some(poured) {
        return Err(Error::arg(
            "--made",
            format!(
                "{made} made + {rejected_total} rejected = {} units, but {poured} were poured \
                 for lot {}: every unit poured is made or rejected (--rejected \"N=REASON\")",
                u64::from(made) + u64::from(rejected_total),
                record.lot
            ),
        ));
    }
    let percent = round_to(
        Decimal::from(made) * Decimal::ONE_HUNDRED / Decimal::from(poured.max(1)),
        Decimal::new(1, 1),
    )
    .ok_or_else(|| overflow("the yield"))?;
    let minimum = record.formula.qc.minimum_yield_percent;
    let y = Yield {
        made,
        poured,
        percent: Dec(percent),
        minimum_percent: Dec(minimum),
        within: percent >= minimum && made >= calc.units_dispensed,
    };
    if !y.within {
        found.flags.push(Flag {
            id: "yield".into(),
            kind: FlagKind::Yield,
            text: format!(
                "{made} of {poured} units made ({percent} %; the formula's minimum is {} %, \
                 and {} are to be dispensed)",
                minimum.normalize(),
                calc.units_dispensed
            ),
        });
    }
    Ok((rejected_total, Some(y)))
}
