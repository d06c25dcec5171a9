//! Exact numbers and quantities with units, as a pharmacist types them.
//!
//! Everything here is `Decimal`: a weight that passes through `f64` can come back a milligram
//! off, and a milligram of a controlled substance is accounted for. Parsing is strict where a
//! typo could change a number (`1,000`, `5,5 mg`, `1e3`) and lenient only where the meaning is
//! plain (`50mg`, `50 MG`, `µg`).

use std::fmt;

use rust_decimal::prelude::*;

/// Digits after the decimal point a typed number may carry. More than this is almost always
/// a paste accident, and bounding it keeps every later sum exact within `Decimal`'s 28 digits.
pub const MAX_INPUT_DECIMALS: u32 = 10;

/// Places a quotient (a division that need not terminate, such as a salt factor) is carried to.
/// 1e-18 g is far below any balance; sums and products are otherwise exact.
pub const QUOTIENT_DP: u32 = 18;

/// Largest magnitude accepted for any typed number. A billion of anything is beyond a
/// compounding bench, and the bound leaves headroom so products of inputs stay in range.
const MAX_INPUT_MAGNITUDE: i64 = 1_000_000_000;

/// Why a typed number or quantity was refused; the text tells the user what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// Longest text echoed back in a message; a pasted page is shortened, not repeated.
const ECHO_MAX_CHARS: usize = 40;

/// The text as typed, in quotes, shortened when long so a message stays one readable line.
pub fn echo(text: &str) -> String {
    let n = text.chars().count();
    if n <= ECHO_MAX_CHARS {
        format!("\"{text}\"")
    } else {
        let head: String = text.chars().take(20).collect();
        format!("\"{head}…\" ({n} characters)")
    }
}

/// The readings of a number with one comma and no point: as a decimal comma ("5,5": 5.5),
/// and as a thousands separator where that is possible ("1,000": 1000; never "0,892" or "5,5").
fn comma_readings(t: &str) -> Option<(Option<String>, String)> {
    let (a, b) = t.split_once(',')?;
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let a_digits = a.strip_prefix(['+', '-']).unwrap_or(a);
    if !(digits(a_digits) && digits(b)) {
        return None;
    }
    let thousands = (b.len() == 3 && a_digits.len() <= 3 && !a_digits.starts_with('0'))
        .then(|| format!("{a}{b}"));
    Some((thousands, format!("{a}.{b}")))
}

/// Advice for a number with a comma; `unit` is appended to the readings ("" for none).
fn comma_advice(t: &str, num: &str, unit: &str) -> String {
    let q = |v: &str| {
        if unit.is_empty() {
            v.to_string()
        } else {
            format!("\"{v} {unit}\"")
        }
    };
    match comma_readings(num) {
        Some((Some(thousands), decimal)) => format!(
            "{} has a comma, so it could mean {} (comma as thousands separator) or {} (decimal \
             comma); write it with a decimal point and no separators: {} or {}",
            echo(t),
            q(&thousands),
            q(&decimal),
            q(&thousands),
            q(&decimal)
        ),
        Some((None, decimal)) => format!(
            "{} has a comma; only a decimal point is read here, never a comma: if it is a \
             decimal comma, write {}",
            echo(t),
            q(&decimal)
        ),
        None => match thousands_then_point(num) {
            Some(plain) => format!(
                "{} has a comma; write numbers without thousands separators: {}",
                echo(t),
                q(&plain)
            ),
            None => format!(
                "{} has a comma; a comma may be a thousands separator or a decimal comma, so \
                 write the number with a decimal point and no separators (e.g. 1000 or 5.5)",
                echo(t)
            ),
        },
    }
}

/// "1,274.19": a comma three digits before a decimal point can only group thousands; the
/// number without it, for advice.
fn thousands_then_point(t: &str) -> Option<String> {
    let (a, b) = t.split_once(',')?;
    let (mid, frac) = b.split_once('.')?;
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let a_digits = a.strip_prefix(['+', '-']).unwrap_or(a);
    (!a_digits.is_empty()
        && a_digits.len() <= 3
        && digits(a_digits)
        && mid.len() == 3
        && digits(mid)
        && digits(frac))
    .then(|| format!("{a}{mid}.{frac}"))
}

/// "1e-3" written out ("0.001"), when that is a number a file may hold.
fn written_out(t: &str) -> Option<String> {
    let v = Decimal::from_scientific(t).ok()?.normalize();
    (v.scale() <= MAX_INPUT_DECIMALS && v.abs() <= Decimal::from(MAX_INPUT_MAGNITUDE))
        .then(|| v.to_string())
}

/// Parses a plain decimal number exactly ("0.892", "50", ".5", "+3").
///
/// Refused, each with advice: commas (thousands separator or decimal comma: both are read
/// both ways in the world, so neither is guessed), exponents, `inf`/`nan`, hex, more than
/// [`MAX_INPUT_DECIMALS`] decimals, and magnitudes beyond a billion.
pub fn parse_decimal(text: &str) -> Result<Decimal, ParseError> {
    let t = text.trim();
    if t.is_empty() {
        return err("no number was given");
    }
    if t.contains(',') {
        return err(comma_advice(t, t, ""));
    }
    let body = t.strip_prefix('+').unwrap_or(t);
    let (neg, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    if body.contains(['e', 'E'])
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || "eE.+-".contains(c))
    {
        return err(match written_out(t) {
            Some(full) => format!(
                "{} is in scientific notation; write the number out in full: {full}",
                echo(t)
            ),
            None => format!(
                "{} is in scientific notation; write the number out in full with digits and a \
                 decimal point (e.g. 0.0005), up to 1000000000",
                echo(t)
            ),
        });
    }
    let mut parts = body.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac_part = parts.next();
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let valid = digits_ok(int_part)
        && frac_part.is_none_or(|f| digits_ok(f) && !f.is_empty())
        && !(int_part.is_empty() && frac_part.is_none());
    if !valid {
        return err(format!(
            "{} is not a number; write digits with an optional decimal point (e.g. 0.892)",
            echo(t)
        ));
    }
    let decimals = frac_part.map_or(0, str::len);
    if decimals > MAX_INPUT_DECIMALS as usize {
        return err(format!(
            "{} has {decimals} decimal places; at most {MAX_INPUT_DECIMALS} are allowed",
            echo(t)
        ));
    }
    let int_digits = int_part.trim_start_matches('0').len();
    if int_digits > 10 {
        return err(format!(
            "{} is too large; numbers up to 1000000000 are allowed",
            echo(t)
        ));
    }
    let normalised = format!(
        "{}{}{}",
        if neg { "-" } else { "" },
        if int_part.is_empty() { "0" } else { int_part },
        frac_part.map(|f| format!(".{f}")).unwrap_or_default()
    );
    let value = Decimal::from_str_exact(&normalised)
        .map_err(|_| ParseError(format!("{} cannot be represented exactly", echo(t))))?;
    if value.abs() > Decimal::from(MAX_INPUT_MAGNITUDE) {
        return err(format!(
            "{} is too large; numbers up to 1000000000 are allowed",
            echo(t)
        ));
    }
    // "-0" means zero: drop the sign so it can never print as "-0".
    Ok(if value.is_zero() {
        Decimal::ZERO
    } else {
        value
    })
}

/// Parses a number that must be strictly positive, naming what it is in the message.
pub fn parse_positive(text: &str, what: &str) -> Result<Decimal, ParseError> {
    let v = parse_decimal(text).map_err(|e| ParseError(format!("{what}: {e}")))?;
    if v <= Decimal::ZERO {
        return err(format!(
            "{what} must be greater than zero, got \"{}\"",
            text.trim()
        ));
    }
    Ok(v)
}

/// Whether a quantity is weighed or measured. The calculation needs mass; a volume counts
/// only through a stated density.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Dimension {
    Mass,
    Volume,
}

impl Dimension {
    /// The unit every amount of this dimension is computed and reported in.
    pub fn base_unit(self) -> &'static str {
        match self {
            Dimension::Mass => "g",
            Dimension::Volume => "mL",
        }
    }
}

/// A unit a pharmacist may type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Kilogram,
    Gram,
    Milligram,
    Microgram,
    Litre,
    Millilitre,
}

impl Unit {
    const ALLOWED: &'static str = "g, mg, mcg (or µg, ug), kg, mL, L";

    fn parse(text: &str) -> Option<Unit> {
        let lower = text.to_lowercase();
        Some(match lower.as_str() {
            "g" => Unit::Gram,
            "mg" => Unit::Milligram,
            "mcg" | "µg" | "μg" | "ug" => Unit::Microgram,
            "kg" => Unit::Kilogram,
            "ml" => Unit::Millilitre,
            "l" => Unit::Litre,
            _ => return None,
        })
    }

    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Litre | Unit::Millilitre => Dimension::Volume,
            _ => Dimension::Mass,
        }
    }

    /// How many base units (g or mL) one of this unit is; exact powers of ten.
    fn to_base(self) -> Decimal {
        match self {
            Unit::Kilogram | Unit::Litre => Decimal::ONE_THOUSAND,
            Unit::Gram | Unit::Millilitre => Decimal::ONE,
            Unit::Milligram => Decimal::new(1, 3),
            Unit::Microgram => Decimal::new(1, 6),
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Kilogram => "kg",
            Unit::Gram => "g",
            Unit::Milligram => "mg",
            Unit::Microgram => "mcg",
            Unit::Litre => "L",
            Unit::Millilitre => "mL",
        }
    }
}

/// An exact amount with the unit it was written in, so it can be shown back as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    /// The number as typed, in `unit`.
    pub value: Decimal,
    pub unit: Unit,
}

impl Quantity {
    /// The amount in grams or millilitres (exact: units differ by powers of ten).
    pub fn in_base(&self) -> Decimal {
        // value has at most 10 decimals and 10 integer digits; × 10^k cannot overflow.
        self.value * self.unit.to_base()
    }

    pub fn dimension(&self) -> Dimension {
        self.unit.dimension()
    }

    pub fn grams(value: Decimal) -> Quantity {
        Quantity {
            value,
            unit: Unit::Gram,
        }
    }

    /// `grams` shown in this quantity's unit to four significant figures, half away from zero:
    /// an equivalent printed beside a strength keeps the strength's unit and enough digits
    /// that 25 mcg of a hemihydrate reads "24.2 mcg" of the moiety, never "0.02 mg" or "0 mg".
    pub fn same_unit(&self, grams: Decimal) -> Option<String> {
        let v = grams.checked_div(self.unit.to_base())?;
        if v.is_zero() {
            return Some(format!("0 {}", self.unit.symbol()));
        }
        // Digits before the point: 4 significant figures leave 4 - that many decimals.
        let int_digits = i64::try_from(v.abs().trunc().normalize().to_string().len()).ok()?;
        let dp = if v.abs() < Decimal::ONE {
            let s = v.abs().normalize().to_string();
            let zeros = s
                .trim_start_matches("0.")
                .chars()
                .take_while(|c| *c == '0')
                .count();
            u32::try_from(zeros).ok()? + 4
        } else {
            u32::try_from((4 - int_digits).max(0)).ok()?
        };
        let r = v.round_dp_with_strategy(dp.min(12), RoundingStrategy::MidpointAwayFromZero);
        Some(format!("{} {}", r.normalize(), self.unit.symbol()))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value.normalize(), self.unit.symbol())
    }
}

/// Splits "50 mg", "50mg", "0.892 g" into number and unit text.
fn split_number_unit(t: &str) -> (&str, &str) {
    let end = t
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || "+-.,".contains(c)))
        .map_or(t.len(), |(i, _)| i);
    (t[..end].trim(), t[end..].trim())
}

/// Every mass unit, for messages where only a mass will do.
pub const MASS_UNITS: &str = "g, mg, mcg (or µg, ug), kg";

/// Parses a quantity such as "50 mg" or "0.033 mL". The number must be positive.
///
/// ```
/// use troche::quantity::{parse_quantity, round_to};
/// let q = parse_quantity("50mg").unwrap();
/// assert_eq!(q.in_base().to_string(), "0.050"); // grams, exactly
/// assert!(parse_quantity("1,000 mg").is_err()); // thousands separator or decimal comma?
/// // Half away from zero, to the balance's readability:
/// let step = parse_quantity("0.001 g").unwrap().in_base();
/// assert_eq!(round_to(parse_quantity("1.0005 g").unwrap().in_base(), step).unwrap().to_string(), "1.001");
/// ```
pub fn parse_quantity(text: &str) -> Result<Quantity, ParseError> {
    parse_quantity_in(text, Unit::ALLOWED)
}

/// Parses a quantity; `allowed` lists the units that messages offer.
pub fn parse_quantity_in(text: &str, allowed: &str) -> Result<Quantity, ParseError> {
    let t = text.trim();
    if t.is_empty() {
        return err(format!(
            "no quantity was given; write a number and a unit ({allowed})"
        ));
    }
    let (num, unit_text) = split_number_unit(t);
    if num.is_empty() {
        return err(format!(
            "{} does not start with a number; write a number and a unit, e.g. \"50 mg\"",
            echo(t)
        ));
    }
    // "1e-3 g": the exponent was cut off as if it were the unit.
    let exponent_len = unit_text.strip_prefix(['e', 'E']).map_or(0, |r| {
        let r2 = r.strip_prefix(['+', '-']).unwrap_or(r);
        let digits = r2.len() - r2.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            0
        } else {
            1 + (r.len() - r2.len()) + digits
        }
    });
    if exponent_len > 0 {
        let scientific = format!("{num}{}", &unit_text[..exponent_len]);
        let unit = unit_text[exponent_len..].trim();
        return err(match written_out(&scientific) {
            Some(full) => format!(
                "{} is in scientific notation; write the number out in full: \"{full} {unit}\"",
                echo(t)
            ),
            None => format!(
                "{} is in scientific notation; write the number out in full with digits and a \
                 decimal point, e.g. \"0.5 {unit}\"",
                echo(t)
            ),
        });
    }
    if unit_text.is_empty() {
        return err(format!(
            "{} has no unit; write the number followed by its unit ({allowed}), e.g. \"{num} g\" \
             or \"{num} mg\"",
            echo(t)
        ));
    }
    if unit_text.contains('/') {
        return err(format!(
            "{} is a concentration; an amount in one unit (one troche, lozenge or \
             suppository) is needed here, e.g. \"50 mg\", not an amount per mL",
            echo(t)
        ));
    }
    let unit = Unit::parse(unit_text).ok_or_else(|| {
        // "mgs", "gs": a plural of a unit that exists.
        let plural = unit_text
            .strip_suffix(['s', 'S'])
            .and_then(Unit::parse)
            .map(|u| format!(" (write \"{num} {}\": units take no plural s)", u.symbol()))
            .unwrap_or_default();
        ParseError(format!(
            "unknown unit \"{unit_text}\" in {}{plural}; allowed units: {allowed}",
            echo(t)
        ))
    })?;
    if num.contains(',') {
        return err(comma_advice(t, num, unit.symbol()));
    }
    let value = parse_decimal(num).map_err(|e| ParseError(format!("in {}: {e}", echo(t))))?;
    if value <= Decimal::ZERO {
        return err(format!("{} must be greater than zero", echo(t)));
    }
    Ok(Quantity { value, unit })
}

/// Parses a quantity that must be a mass.
pub fn parse_mass(text: &str) -> Result<Quantity, ParseError> {
    let q = parse_quantity_in(text, MASS_UNITS)?;
    if q.dimension() != Dimension::Mass {
        return err(format!(
            "{} is a volume; a mass is needed here ({MASS_UNITS})",
            echo(text.trim())
        ));
    }
    Ok(q)
}

/// Parses a density written as "1.0 g/mL" (also "g/ml"), returned in g/mL.
pub fn parse_density(text: &str) -> Result<Decimal, ParseError> {
    let t = text.trim();
    let (num, unit_text) = split_number_unit(t);
    let compact: String = unit_text.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.eq_ignore_ascii_case("g/ml") {
        return err(format!(
            "density {} must be written in g/mL, e.g. \"1.0 g/mL\"",
            echo(t)
        ));
    }
    parse_positive(num, "density")
}

/// Rounds half away from zero to a multiple of `step` (a balance's readability), and keeps the
/// step's decimal places so "1.6" prints as "1.600". `round_dp` alone would round half to even.
pub fn round_to(value: Decimal, step: Decimal) -> Option<Decimal> {
    let q = value.checked_div(step)?;
    let n = q.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let mut r = n.checked_mul(step)?;
    r.rescale(step.normalize().scale());
    Some(r)
}

/// Divides and carries the quotient to [`QUOTIENT_DP`] places, half away from zero.
pub fn div(a: Decimal, b: Decimal) -> Option<Decimal> {
    let q = a.checked_div(b)?;
    Some(q.round_dp_with_strategy(QUOTIENT_DP, RoundingStrategy::MidpointAwayFromZero))
}

/// Shows an exact value for a reader: in full when short, else to 6 places marked "≈".
pub fn show(value: Decimal) -> String {
    let n = value.normalize();
    if n.scale() <= 6 {
        n.to_string()
    } else {
        let r = n.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
        format!("≈{}", r.normalize())
    }
}

/// A mass in grams as a reader expects it: "10 mg" below a gram, "1.6 g" above.
pub fn show_mass(grams: Decimal) -> String {
    if grams.abs() < Decimal::ONE && !grams.is_zero() {
        format!("{} mg", show(grams * Decimal::ONE_THOUSAND))
    } else {
        format!("{} g", show(grams))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn parses_quantities_as_typed() {
        for (text, value, unit) in [
            ("50 mg", "50", Unit::Milligram),
            ("50mg", "50", Unit::Milligram),
            ("50 MG", "50", Unit::Milligram),
            ("0.892 g", "0.892", Unit::Gram),
            ("250 µg", "250", Unit::Microgram),
            ("250 ug", "250", Unit::Microgram),
            ("0.033 mL", "0.033", Unit::Millilitre),
            (".5 mg", "0.5", Unit::Milligram),
        ] {
            let q = parse_quantity(text).unwrap();
            assert_eq!((q.value, q.unit), (d(value), unit), "{text}");
        }
        assert_eq!(parse_quantity("50 mg").unwrap().in_base(), d("0.050"));
        assert_eq!(parse_quantity("1.5 kg").unwrap().in_base(), d("1500"));
    }

    #[test]
    fn refuses_ambiguous_or_malformed() {
        for bad in [
            "", "mg", "50", "50 mgs", "5mg/ml", "1,000 mg", "5,5 mg", "1e3 mg", "-5 mg", "0 mg",
            "-0 mg", "0x10 mg", "inf mg", "1.2.3 mg", "1. mg",
        ] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_quantity("1,000 mg").unwrap_err().0.contains("comma"));
        assert!(parse_mass("1 mL").unwrap_err().0.contains("volume"));
    }

    #[test]
    fn density_needs_g_per_ml() {
        assert_eq!(parse_density("1.0 g/mL").unwrap(), d("1.0"));
        assert_eq!(parse_density("0.95 g / ml").unwrap(), d("0.95"));
        assert!(parse_density("1.0 g").is_err());
        assert!(parse_density("0 g/mL").is_err());
    }

    #[test]
    fn rounds_half_away_from_zero_to_readability() {
        let step = d("0.001");
        assert_eq!(round_to(d("1.0005"), step).unwrap().to_string(), "1.001");
        assert_eq!(round_to(d("1.0025"), step).unwrap().to_string(), "1.003");
        assert_eq!(round_to(d("1.6"), step).unwrap().to_string(), "1.600");
        assert_eq!(
            round_to(d("25.6665"), d("0.005")).unwrap().to_string(),
            "25.665"
        );
        assert_eq!(
            round_to(d("25.6675"), d("0.005")).unwrap().to_string(),
            "25.670"
        );
    }

    #[test]
    fn equivalents_keep_the_strength_unit_and_four_figures() {
        let mcg = parse_mass("25 mcg").unwrap();
        assert_eq!(mcg.same_unit(d("0.0000241995")).unwrap(), "24.2 mcg");
        let mg = parse_mass("100 mg").unwrap();
        assert_eq!(mg.same_unit(d("0.14047619")).unwrap(), "140.5 mg");
        assert_eq!(mg.same_unit(d("0.0000034678")).unwrap(), "0.003468 mg");
        assert_eq!(mg.same_unit(d("2.5")).unwrap(), "2500 mg");
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(parse_decimal("-0").unwrap().to_string(), "0");
    }
}
