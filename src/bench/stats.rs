//! The unit weights in figures: mean, lightest and heaviest, relative standard deviation.

use rust_decimal::{Decimal, RoundingStrategy};

/// Mean, lightest, heaviest and RSD (percent, of the sample: n − 1) of `weights`, the mean
/// and RSD to `places` decimal places; `None` for fewer than two weights or on overflow.
pub(super) fn unit_figures(
    weights: &[Decimal],
    places: u32,
) -> Option<(Decimal, Decimal, Decimal, Decimal)> {
    if weights.len() < 2 {
        return None;
    }
    let n = Decimal::from(weights.len());
    let mut sum = Decimal::ZERO;
    for w in weights {
        sum = sum.checked_add(*w)?;
    }
    let mean = sum.checked_div(n)?;
    let mut squares = Decimal::ZERO;
    for w in weights {
        let d = w.checked_sub(mean)?;
        squares = squares.checked_add(d.checked_mul(d)?)?;
    }
    let variance = squares.checked_div(n.checked_sub(Decimal::ONE)?)?;
    let sd = sqrt(variance)?;
    let rsd = if mean.is_zero() {
        Decimal::ZERO
    } else {
        sd.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(mean)?
    };
    let lightest = weights.iter().min()?;
    let heaviest = weights.iter().max()?;
    let round =
        |v: Decimal, dp: u32| v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let mut mean = round(mean, places + 1);
    mean.rescale(places + 1);
    let mut rsd = round(rsd, 2);
    rsd.rescale(2);
    Some((mean, *lightest, *heaviest, rsd))
}

/// The square root by Newton's method, in decimals: converges in a few dozen steps for any
/// variance a batch of units can have.
fn sqrt(v: Decimal) -> Option<Decimal> {
    if v.is_sign_negative() {
        return None;
    }
    if v.is_zero() {
        return Some(Decimal::ZERO);
    }
    let mut x = if v > Decimal::ONE { v } else { Decimal::ONE };
    for _ in 0..100 {
        let next = x
            .checked_add(v.checked_div(x)?)?
            .checked_div(Decimal::TWO)?;
        if (next - x).abs() < Decimal::new(1, 20) {
            return Some(next);
        }
        x = next;
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_four_units() {
        let w: Vec<Decimal> = ["0.98", "1.00", "1.02", "1.00"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let (mean, lo, hi, rsd) = unit_figures(&w, 3).unwrap();
        assert_eq!(mean.to_string(), "1.0000");
        assert_eq!(
            (lo.to_string(), hi.to_string()),
            ("0.98".into(), "1.02".into())
        );
        // sd = sqrt(0.0008 / 3) = 0.01633
        assert_eq!(rsd.to_string(), "1.63");
        assert_eq!(
            sqrt(Decimal::from(2)).unwrap().round_dp(6).to_string(),
            "1.414214"
        );
    }
}
