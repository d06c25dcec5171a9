//! Step 7 of docs/method.md: aliquots, for amounts below the minimum weighable quantity.

use rust_decimal::Decimal;

use crate::error::{Error, Result, overflow};
use crate::formula::{Diluent, Formula};
use crate::quantity::{Dimension, round_to, show_mass};

use super::{Aliquot, Balance, DisplacementSource, Ingredient, Role, add, div, mul, sub};

/// Step 7, done before displacement because its diluent enters the batch: every mass below
/// the minimum weighable quantity is replaced by an aliquot, and the diluent weighed for it
/// becomes a component row of its own, right after it.
pub(super) fn aliquots_step(
    formula: &Formula,
    ingredients: Vec<Ingredient>,
    mwq: Decimal,
    balance: &Balance,
    warnings: &mut Vec<String>,
) -> Result<Vec<Ingredient>> {
    let diluent: Diluent = formula.diluent();
    let mut out = Vec::with_capacity(ingredients.len() + 1);
    for mut i in ingredients {
        if i.dimension != Dimension::Mass || i.exact >= mwq {
            out.push(i);
            continue;
        }
        let plan = aliquot(i.exact, mwq, balance.readability, &diluent.name)?;
        i.steps.push(format!(
            "{} is below the minimum weighable quantity of {}: aliquot ×{}: weigh {}, mix with {} \
             of {} to {}, and take {} into the batch; that portion holds {} of {} (exact need {}) \
             and {} of diluent; the remaining {} of mixture is waste",
            show_mass(i.exact),
            show_mass(mwq),
            plan.multiple,
            show_mass(plan.weigh),
            show_mass(plan.diluent),
            diluent.name,
            show_mass(plan.total),
            show_mass(plan.portion),
            show_mass(plan.delivers),
            i.name,
            show_mass(i.exact),
            show_mass(plan.diluent_in_portion),
            show_mass(plan.remainder),
        ));
        warnings.push(format!(
            "{}: {} is below the minimum weighable quantity of {}; it is made by aliquot: weigh \
             {}, dilute with {} of {} to {}, and put {} of the mixture into the batch (the rest \
             is waste).",
            i.name,
            show_mass(i.exact),
            show_mass(mwq),
            show_mass(plan.weigh),
            show_mass(plan.diluent),
            diluent.name,
            show_mass(plan.total),
            show_mass(plan.portion),
        ));
        i.amount = plan.weigh;
        i.mass = plan.delivers;
        let row = Ingredient {
            name: diluent.name.clone(),
            role: Role::Diluent,
            exact: plan.diluent,
            dimension: Dimension::Mass,
            amount: plan.diluent,
            mass: plan.diluent_in_portion,
            displaced: None,
            displacement: diluent.displacement.map(DisplacementSource::Stated),
            active: None,
            aliquot: None,
            diluent_for: Some(i.name.clone()),
            steps: vec![format!(
                "aliquot diluent for {}: {} × {} − {} weighed = {}; the {} portion taken holds {} \
                 of it",
                i.name,
                plan.multiple,
                show_mass(plan.portion),
                show_mass(plan.weigh),
                show_mass(plan.diluent),
                show_mass(plan.portion),
                show_mass(plan.diluent_in_portion)
            )],
        };
        i.aliquot = Some(plan);
        out.push(i);
        out.push(row);
    }
    Ok(out)
}

/// Granularity the aliquot portion is rounded up to: a round figure is easier to weigh and
/// check. With the usual 120 mg MWQ this gives the textbook 125 mg portion.
const PORTION_STEP_MG: i64 = 25;

/// Plans an aliquot of `amount` grams, below the minimum weighable quantity `mwq`, diluted
/// with `diluent_name`.
///
/// k = ceil(mwq / amount), so k × amount reaches the MWQ; the drug weighing is k × amount
/// rounded to the balance (raising k by one if rounding fell below the MWQ). The portion is
/// the larger of the MWQ and (MWQ + weighing) ÷ k, rounded up to 25 mg (or to the balance's
/// readability where that is coarser), so that the diluent weighing, k × portion − weighing,
/// is itself at least the MWQ. One portion delivers weighing ÷ k of drug, which differs from
/// the amount by at most half the readability ÷ k (reported, never hidden).
pub fn aliquot(
    amount: Decimal,
    mwq: Decimal,
    readability: Decimal,
    diluent_name: &str,
) -> Result<Aliquot> {
    if amount <= Decimal::ZERO {
        return Err(Error::calc("an aliquot needs an amount greater than zero"));
    }
    let what = "the aliquot";
    // The tolerance keeps a quotient's last digit (36.000…0004) from costing a whole extra
    // multiple; the check below still guarantees the weighing reaches the MWQ.
    let mut k = (div(mwq, amount, what)? - Decimal::new(1, 9))
        .ceil()
        .max(Decimal::TWO);
    let mut weigh = round_to(mul(k, amount, what)?, readability).ok_or_else(|| overflow(what))?;
    if weigh < mwq {
        k += Decimal::ONE;
        weigh = round_to(mul(k, amount, what)?, readability).ok_or_else(|| overflow(what))?;
    }
    if weigh < mwq {
        // Rounding to a coarse balance step can still fall short (found by fuzzing): rounding
        // half away from zero loses at most half a step, so k × amount ≥ MWQ + half a step
        // always reaches the MWQ.
        let half = div(readability, Decimal::TWO, what)?;
        k = div(add(mwq, half, what)?, amount, what)?.ceil();
        weigh = round_to(mul(k, amount, what)?, readability).ok_or_else(|| overflow(what))?;
    }
    let multiple: u32 = k.try_into().map_err(|_| overflow(what))?;
    let step = mul(
        div(Decimal::new(PORTION_STEP_MG, 3), readability, what)?.ceil(),
        readability,
        what,
    )?;
    let need = mwq.max(div(add(mwq, weigh, what)?, k, what)?);
    let portion = mul(div(need, step, what)?.ceil(), step, what)?;
    let total = mul(k, portion, what)?;
    let diluent = sub(total, weigh, what)?;
    Ok(Aliquot {
        multiple,
        weigh,
        diluent,
        diluent_name: diluent_name.to_string(),
        total,
        portion,
        delivers: div(weigh, k, what)?,
        diluent_in_portion: div(diluent, k, what)?,
        remainder: sub(total, portion, what)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    /// The textbook aliquot: 2 mg needed, weigh 120 mg, make 7500 mg with 7380 mg lactose, take
    /// 125 mg.
    #[test]
    fn classic_aliquot() {
        let a = aliquot(d("0.002"), d("0.120"), d("0.001"), "Lactose").unwrap();
        assert_eq!(a.multiple, 60);
        assert_eq!(a.weigh, d("0.120"));
        assert_eq!(a.total, d("7.500"));
        assert_eq!(a.diluent, d("7.380"));
        assert_eq!(a.portion, d("0.125"));
        assert_eq!(a.delivers, d("0.002"));
        assert_eq!(a.remainder, d("7.375"));
    }

    #[test]
    fn aliquot_of_an_unweighable_quotient_reports_what_it_delivers() {
        let amount = quantity::div(d("0.01"), Decimal::from(3)).unwrap(); // 3.333… mg
        let a = aliquot(amount, d("0.120"), d("0.001"), "Lactose").unwrap();
        assert_eq!(a.multiple, 36);
        assert_eq!(a.weigh, d("0.120"));
        assert!((a.delivers - amount).abs() <= d("0.0005") / Decimal::from(36));
        assert_eq!(a.weigh.scale(), 3);
    }

    /// Regression: 96 mg of methylcobalamin (4 mg × 24) used to be "mixed with 58 mg", a
    /// diluent weighing below the 120 mg MWQ.
    #[test]
    fn every_aliquot_weighing_reaches_the_mwq() {
        let mwq = d("0.120");
        for mg in 1..120 {
            let amount = Decimal::new(mg, 3);
            let a = aliquot(amount, mwq, d("0.001"), "Lactose").unwrap();
            assert!(a.weigh >= mwq, "{mg} mg: drug {}", a.weigh);
            assert!(a.diluent >= mwq, "{mg} mg: diluent {}", a.diluent);
            assert!(a.portion >= mwq, "{mg} mg: portion {}", a.portion);
            assert_eq!(a.weigh + a.diluent, a.total);
        }
        let a = aliquot(d("0.096"), mwq, d("0.001"), "Lactose").unwrap();
        assert_eq!((a.multiple, a.weigh), (2, d("0.192")));
        assert_eq!((a.portion, a.diluent), (d("0.175"), d("0.158")));
    }

    /// Regression (found by fuzzing the calculation): rounding the drug weighing to a coarse
    /// balance step fell short of the MWQ twice in a row, and the plan weighed below it.
    #[test]
    fn a_coarse_balance_step_never_leaves_the_weighing_below_the_mwq() {
        let a = aliquot(d("0.0034"), d("0.0101"), d("0.01"), "Lactose").unwrap();
        assert!(a.weigh >= d("0.0101"), "{a:?}");
        assert!(
            a.diluent >= d("0.0101") && a.portion >= d("0.0101"),
            "{a:?}"
        );
        for mg in 1..40 {
            let amount = Decimal::new(mg, 4);
            let a = aliquot(amount, d("0.0101"), d("0.01"), "Lactose").unwrap();
            assert!(a.weigh >= d("0.0101"), "{amount}: {a:?}");
        }
    }
}
