//! The order: what one batch needs beyond the formula (strengths, quantity, the prescription's
//! particulars). The same checks apply whether it comes from flags or a file.

use jiff::civil::Date;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::quantity::{self, ParseError, Quantity};
use crate::stock::potency::{self, Certificate};

/// Largest batch accepted. Far above any compounding batch; it bounds the arithmetic.
pub const MAX_UNITS: u32 = 1_000_000;

/// Whether a strength is written as the form that is weighed (the salt) or as the moiety.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    #[default]
    Salt,
    Moiety,
}

impl Basis {
    pub fn parse(text: &str) -> Result<Basis, ParseError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "salt" => Ok(Basis::Salt),
            "moiety" | "base" => Ok(Basis::Moiety),
            other => Err(ParseError(format!(
                "unknown basis \"{other}\"; allowed: salt (the strength is of the form weighed) or \
                 moiety (the strength is of the active moiety)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Salt => "salt",
            Basis::Moiety => "moiety",
        }
    }
}

/// "Make a couple more" or "add a percent to everything": both styles are in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preparation {
    Extra(u32),
    Overage(Decimal),
}

impl Default for Preparation {
    fn default() -> Self {
        Preparation::Extra(0)
    }
}

/// A prescribed strength per unit, optionally naming the active it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrengthSpec {
    pub active: Option<String>,
    pub amount: Quantity,
}

/// The basis of the strengths: for one named active, or (unnamed) for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisSpec {
    pub active: Option<String>,
    pub basis: Basis,
}

/// An assay from a lot's certificate of analysis: `percent` is the as-is potency, which
/// corrects the amount weighed; `certificate` keeps the certificate's figures when it states
/// the assay on the dried or anhydrous basis, so that the formula's accepted range can be
/// applied on the basis its monograph uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssaySpec {
    pub active: Option<String>,
    pub percent: Decimal,
    pub certificate: Option<Certificate>,
    /// The stock trituration weighed in place of the drug (its lot), of which `percent` is
    /// the concentration of the drug: the drug's own assay was judged when it was made.
    pub trituration: Option<String>,
}

impl AssaySpec {
    /// As an order writes it (without the active's name): "99.5", or "98.1 % dried, 12 %
    /// water"; [`parse_assay`] reads it back to the same value.
    pub fn text(&self) -> String {
        match (&self.certificate, &self.trituration) {
            (Some(c), _) => c.text(),
            (None, Some(t)) => format!("{} % trituration {t}", self.percent.normalize()),
            (None, None) => self.percent.to_string(),
        }
    }
}

/// A stock lot of another form than the formula weighs, which the formula allows
/// (`accepts_forms`): the active's amount is converted by the molecular weight of the lot's
/// form. Written "NAME=anhydrous 272.38".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSpec {
    pub active: String,
    pub form: String,
    pub mw: Decimal,
}

impl FormSpec {
    pub fn text(&self) -> String {
        format!("{}={} {}", self.active, self.form, self.mw.normalize())
    }

    pub fn parse(text: &str) -> Result<FormSpec, ParseError> {
        let bad = || ParseError(format!("\"{}\" is not NAME=FORM MW", quantity::echo(text)));
        let (active, rest) = text.rsplit_once('=').ok_or_else(bad)?;
        let (form, mw) = rest.trim().split_once(' ').ok_or_else(bad)?;
        Ok(FormSpec {
            active: active.trim().to_string(),
            form: form.to_string(),
            mw: quantity::parse_decimal(mw.trim())?,
        })
    }
}

/// A component lot pulled from stock, for the record and for capping the BUD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentLot {
    pub name: String,
    pub manufacturer: Option<String>,
    pub lot: String,
    pub expiry: Option<Date>,
}

#[derive(Debug, Clone, Default)]
pub struct Order {
    pub strengths: Vec<StrengthSpec>,
    pub quantity: u32,
    pub preparation: Preparation,
    /// Empty means every strength is of the salt (the form weighed).
    pub bases: Vec<BasisSpec>,
    pub assays: Vec<AssaySpec>,
    /// Stock lots of another form than the formula weighs, converted (set by the stock pick).
    pub forms: Vec<FormSpec>,
    pub date: Option<Date>,
    pub lot: Option<String>,
    pub rx: Option<String>,
    pub patient: Option<String>,
    pub prescriber: Option<String>,
    pub directions: Option<String>,
    pub refills: Option<u32>,
    pub components: Vec<ComponentLot>,
    /// The prescriber's confirmation of a strength outside the formula's usual range, "REASON"
    /// or "ACTIVE=REASON" (which active is decided against the formula, see `calc`).
    pub confirm_strength: Vec<String>,
    /// The date the prescription was written.
    pub date_written: Option<Date>,
    /// The prescriber's DEA registration number, checked (see [`parse_dea`]).
    pub prescriber_dea: Option<String>,
}

/// Parses a count of units: a whole positive number, no fractions ("30.5 troches" is a typo).
pub fn parse_count(text: &str, what: &str, allow_zero: bool) -> Result<u32, ParseError> {
    let t = text.trim();
    let min = u32::from(!allow_zero);
    let v = quantity::parse_decimal(t).map_err(|e| {
        // A comma gets its own advice; anything else that is not digits is not a count.
        if t.contains(',')
            || (t.contains(['e', 'E']) && t.starts_with(|c: char| c.is_ascii_digit()))
        {
            e
        } else {
            ParseError(format!(
                "{what} must be a whole number written in digits, from {min} to {MAX_UNITS}; \
                 got {}",
                quantity::echo(t)
            ))
        }
    })?;
    if !v.fract().is_zero() {
        return Err(ParseError(format!(
            "{what} must be a whole number of units, got {}",
            quantity::echo(t)
        )));
    }
    let n = v.to_u32().filter(|n| *n >= min && *n <= MAX_UNITS);
    n.ok_or_else(|| {
        ParseError(format!(
            "{what} must be a whole number from {min} to {MAX_UNITS}, got {}",
            quantity::echo(t)
        ))
    })
}

/// Splits "Name=value" into its parts; a bare value has no name.
fn split_named(text: &str) -> (Option<String>, &str) {
    match text.rsplit_once('=') {
        Some((name, value)) => (Some(name.trim().to_string()), value),
        None => (None, text),
    }
}

/// Parses "50 mg" or "Ketamine hydrochloride=50 mg". A strength is a mass per unit.
pub fn parse_strength(text: &str) -> Result<StrengthSpec, ParseError> {
    let (active, value) = split_named(text);
    let amount = quantity::parse_quantity_in(value, quantity::MASS_UNITS)?;
    if amount.dimension() != quantity::Dimension::Mass {
        return Err(ParseError(format!(
            "\"{}\" is a volume; a strength is the mass of drug in one unit, e.g. \"50 mg\"",
            value.trim()
        )));
    }
    Ok(StrengthSpec { active, amount })
}

/// Parses "moiety" or "Name=moiety".
pub fn parse_basis(text: &str) -> Result<BasisSpec, ParseError> {
    let (active, value) = split_named(text);
    Ok(BasisSpec {
        active,
        basis: Basis::parse(value)?,
    })
}

/// Parses "99.5" or "Name=99.5" (as is), or the certificate's figure on another basis with
/// its water content or loss on drying, "98.1 % dried, 12 % water" (or "anhydrous"): an
/// assay percent above 0 and at most 200. Whether it is plausible for the active is the
/// formula's to say (its accepted range, on its basis, checked in `calc`).
pub fn parse_assay(text: &str) -> Result<AssaySpec, ParseError> {
    let (active, value) = split_named(text);
    let cleaned = value.replace(['%', ','], " ");
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let percent = |t: &str| -> Result<Decimal, ParseError> {
        let v = quantity::parse_decimal(t)?;
        if v <= Decimal::ZERO || v > Decimal::from(200) {
            return Err(ParseError(format!(
                "an assay of {v} % is not possible; enter the lot's assay from its \
                 certificate of analysis, a percent such as 99.5"
            )));
        }
        Ok(v)
    };
    let basis_of = |t: &str| {
        potency::Basis::from_text(t).ok_or_else(|| {
            ParseError(format!(
                "\"{}\" is not an assay basis; {}",
                quantity::echo(t),
                potency::ALLOWED
            ))
        })
    };
    let mut trituration = None;
    let (v, certificate) = match words.as_slice() {
        [a] => (percent(a)?, None),
        [a, "trituration", lot] => {
            trituration = Some((*lot).to_string());
            (percent(a)?, None)
        }
        [a, b] if basis_of(b)? == potency::Basis::AsIs => (percent(a)?, None),
        [a, b, w] | [a, b, w, "water" | "lod"] if basis_of(b)? != potency::Basis::AsIs => {
            let water = quantity::parse_decimal(w)?;
            if water < Decimal::ZERO || water >= Decimal::ONE_HUNDRED {
                return Err(ParseError(format!(
                    "{} % is not a water content or loss on drying: give 0 to below 100",
                    water.normalize()
                )));
            }
            let c = Certificate {
                assay: percent(a)?,
                basis: basis_of(b)?,
                water,
            };
            (c.as_is().map_err(|e| ParseError(e.to_string()))?.0, Some(c))
        }
        _ => {
            return Err(ParseError(format!(
                "\"{}\" is not an assay; give the as-is percent (99.5), or the certificate's \
                 figure on the dried or anhydrous basis with its water, \"98.1 % dried, 12 % \
                 water\"",
                quantity::echo(value.trim())
            )));
        }
    };
    Ok(AssaySpec {
        active,
        percent: v,
        certificate,
        trituration,
    })
}

/// Parses an overage percent: more than 0, at most 100.
pub fn parse_overage(text: &str) -> Result<Decimal, ParseError> {
    let v = quantity::parse_decimal(text.trim().trim_end_matches('%'))?;
    if v.is_zero() {
        return Err(ParseError(
            "an overage of 0 % adds nothing; leave overage out for no overage, or give a \
             percent above 0 and at most 100 (suppliers suggest 5 to 10)"
                .to_string(),
        ));
    }
    if v < Decimal::ZERO || v > Decimal::ONE_HUNDRED {
        return Err(ParseError(format!(
            "an overage of {v} % is not allowed; give a percent above 0 and at most 100 \
             (suppliers suggest 5 to 10)"
        )));
    }
    Ok(v)
}

/// Parses a DEA registration number: two letters (the second may be the digit 9), seven
/// digits whose last is the check digit (the last digit of d1 + d3 + d5 + 2 × (d2 + d4 + d6)),
/// and optionally an institution's suffix for a practitioner it supervises (`-` and up to 10
/// letters or digits). Letters are taken in capitals.
pub fn parse_dea(text: &str) -> Result<String, ParseError> {
    let t = text.trim().to_ascii_uppercase();
    let usage = "a DEA number is two letters (the second may be 9) and seven digits, e.g. \
                 AB1234563, optionally followed by an institution's suffix (-ABC123)";
    let (number, suffix) = match t.split_once('-') {
        Some((n, s)) => (n, Some(s)),
        None => (t.as_str(), None),
    };
    let b = number.as_bytes();
    let shape = b.len() == 9
        && b[0].is_ascii_uppercase()
        && (b[1].is_ascii_uppercase() || b[1] == b'9')
        && b[2..].iter().all(u8::is_ascii_digit);
    if !shape {
        return Err(ParseError(format!(
            "{} is not a DEA number: {usage}",
            quantity::echo(text.trim())
        )));
    }
    let d: Vec<u32> = b[2..].iter().map(|c| u32::from(c - b'0')).collect();
    let check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
    if check != d[6] {
        return Err(ParseError(format!(
            "{number} fails the DEA check digit: its last digit must be {check} (the last digit \
             of d1 + d3 + d5 + 2 x (d2 + d4 + d6)); check the number against the prescription"
        )));
    }
    if let Some(s) = suffix
        && (s.is_empty() || s.len() > 10 || !s.bytes().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(ParseError(format!(
            "{} has a suffix that is not 1 to 10 letters or digits after the \"-\"; {usage}",
            quantity::echo(text.trim())
        )));
    }
    Ok(t)
}

/// Parses a confirmation of an unusual strength, "REASON" or "ACTIVE=REASON": the reason
/// must say something, on one line.
pub fn parse_confirmation(text: &str) -> Result<String, ParseError> {
    let t = text.trim();
    let reason = t.split_once('=').map_or(t, |(_, r)| r.trim());
    if reason.is_empty() {
        return Err(ParseError(
            "must say how the strength was confirmed with the prescriber, e.g. \"confirmed \
             with Dr Ng by phone 2026-11-20\""
                .into(),
        ));
    }
    crate::escape::check(t, false).map_err(ParseError)?;
    Ok(t.to_string())
}

/// The years a date may fall in: lots are named YYMMDD, so one century, and no date of a batch
/// or a lot's expiry lies outside this one.
pub const YEARS: std::ops::RangeInclusive<i16> = 2000..=2099;

/// Parses an ISO date (YYYY-MM-DD) in the years 2000 to 2099.
pub fn parse_date(text: &str) -> Result<Date, ParseError> {
    let t = text.trim();
    let d = parse_any_date(t)?;
    if !YEARS.contains(&d.year()) {
        return Err(ParseError(format!(
            "{t} cannot be meant: dates must be in the years {} to {}",
            YEARS.start(),
            YEARS.end()
        )));
    }
    Ok(d)
}

fn parse_any_date(t: &str) -> Result<Date, ParseError> {
    t.parse::<Date>().map_err(|_| {
        let shape = t.len() == 10
            && t.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        ParseError(if shape {
            format!("{t} is not a real date: check the month and the day (YYYY-MM-DD)")
        } else if t.contains(['/', '.']) {
            format!(
                "{} is ambiguous: month and day are written in either order in different \
                 countries; write the date as YYYY-MM-DD, e.g. 2026-11-23",
                quantity::echo(t)
            )
        } else {
            format!(
                "{} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-23",
                quantity::echo(t)
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dea_numbers_carry_a_check_digit() {
        assert_eq!(parse_dea("AB1234563").unwrap(), "AB1234563");
        assert_eq!(parse_dea(" ab1234563 ").unwrap(), "AB1234563");
        assert_eq!(parse_dea("A91234563").unwrap(), "A91234563");
        assert_eq!(parse_dea("AB1234563-XY12").unwrap(), "AB1234563-XY12");
        for bad in [
            "AB1234564",
            "AB123456",
            "1B1234563",
            "AB12345630",
            "AB1234563-",
            "AB1234563-ABCDEFGHIJK",
            "AB1234563-A B",
            "",
        ] {
            assert!(parse_dea(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_are_whole_and_positive() {
        assert_eq!(parse_count("30", "q", false).unwrap(), 30);
        assert_eq!(parse_count("30.0", "q", false).unwrap(), 30);
        assert_eq!(parse_count("0", "q", true).unwrap(), 0);
        for bad in ["30.5", "0", "-3", "abc", "", "1e3", "99999999999"] {
            assert!(parse_count(bad, "q", false).is_err(), "{bad}");
        }
    }

    #[test]
    fn strengths_may_name_their_active() {
        let s = parse_strength("Ketamine hydrochloride=50 mg").unwrap();
        assert_eq!(s.active.as_deref(), Some("Ketamine hydrochloride"));
        assert_eq!(s.amount.to_string(), "50 mg");
        assert!(parse_strength("5 mL").is_err());
        assert!(parse_strength("5 mg/mL").is_err());
    }

    #[test]
    fn assay_range() {
        assert!(parse_assay("0").is_err());
        assert!(parse_assay("200.1").is_err());
        assert_eq!(parse_assay("110").unwrap().percent, Decimal::from(110));
        assert_eq!(parse_assay("X=99.5%").unwrap().active.as_deref(), Some("X"));
        // The certificate's figure on another basis, with its water: as is worked out, and
        // written back the same way.
        let a = parse_assay("Methylcobalamin=98.1 % dried, 12 % water").unwrap();
        assert_eq!(a.percent, "86.328".parse::<Decimal>().unwrap());
        assert_eq!(a.text(), "98.1 % dried, 12 % water");
        assert_eq!(
            parse_assay(&a.text()).unwrap(),
            AssaySpec { active: None, ..a }
        );
        assert!(parse_assay("98.1 dried").is_err());
        assert!(parse_assay("98.1 dried 100").is_err());
        assert!(parse_assay("98.1 moist 12").is_err());
        assert!(parse_assay("99.5 as-is").unwrap().certificate.is_none());
        let t = parse_assay("9.95 % trituration 261130-001").unwrap();
        assert_eq!(t.trituration.as_deref(), Some("261130-001"));
        assert_eq!(t.text(), "9.95 % trituration 261130-001");
    }
}

// ---------------------------------------------------------------------------------------------
// Order files (and the [[batch]] entries of recipe files, which have the same shape).

use serde::Deserialize;
use toml::Spanned;

use crate::error::Result;
use crate::input::toml::{Field, Kind, RawNum, Source, opt, req, strip_bom};

/// The keys of an order file (and of a recipe's `[[batch]]`), as [`RawOrder`] has them.
pub(crate) const KEYS: &[Field] = &[
    opt("formula", Kind::Text),
    opt("strength", Kind::Any),
    opt("quantity", Kind::Num),
    opt("extra", Kind::Num),
    opt("overage", Kind::Num),
    opt("basis", Kind::Any),
    opt("assay", Kind::Any),
    opt("date", Kind::Any),
    opt("lot", Kind::Text),
    opt("rx", Kind::Text),
    opt("patient", Kind::Text),
    opt("prescriber", Kind::Text),
    opt("directions", Kind::Text),
    opt("refills", Kind::Num),
    opt("component", Kind::Tables(COMPONENT_KEYS)),
    opt("confirm_strength", Kind::Any),
    opt("date_written", Kind::Any),
    opt("prescriber_dea", Kind::Text),
];
const COMPONENT_KEYS: &[Field] = &[
    req("name", Kind::Text),
    opt("manufacturer", Kind::Text),
    req("lot", Kind::Text),
    opt("expiry", Kind::Any),
];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrder {
    pub formula: Option<Spanned<String>>,
    strength: Option<Spanned<toml::Value>>,
    quantity: Option<Spanned<RawNum>>,
    extra: Option<Spanned<RawNum>>,
    overage: Option<Spanned<RawNum>>,
    basis: Option<Spanned<toml::Value>>,
    assay: Option<Spanned<toml::Value>>,
    date: Option<Spanned<toml::Value>>,
    lot: Option<Spanned<String>>,
    rx: Option<Spanned<String>>,
    patient: Option<Spanned<String>>,
    prescriber: Option<Spanned<String>>,
    directions: Option<Spanned<String>>,
    refills: Option<Spanned<RawNum>>,
    #[serde(default)]
    component: Vec<Spanned<RawComponent>>,
    confirm_strength: Option<Spanned<toml::Value>>,
    date_written: Option<Spanned<toml::Value>>,
    prescriber_dea: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: Spanned<String>,
    manufacturer: Option<Spanned<String>>,
    lot: Spanned<String>,
    expiry: Option<Spanned<toml::Value>>,
}

impl RawOrder {
    /// The line the entry starts on, for messages about the entry as a whole.
    pub(crate) fn first_span(&self) -> Option<std::ops::Range<usize>> {
        self.formula
            .as_ref()
            .map(Spanned::span)
            .or_else(|| self.quantity.as_ref().map(Spanned::span))
    }

    pub(crate) fn rx_text(&self) -> Option<&str> {
        self.rx.as_ref().map(|r| r.get_ref().as_str())
    }
}

/// Reads a value that may be one text ("50 mg", or a bare number re-read from the source) or a
/// table of texts by active name.
fn named_texts(
    src: &mut Source,
    v: &Spanned<toml::Value>,
    key: &str,
) -> Vec<(Option<String>, String)> {
    match v.get_ref() {
        toml::Value::String(s) => vec![(None, s.clone())],
        toml::Value::Integer(_) | toml::Value::Float(_) => {
            vec![(None, src.text.get(v.span()).unwrap_or("").replace('_', ""))]
        }
        toml::Value::Table(t) => {
            let mut out = Vec::new();
            for (name, value) in t {
                match value {
                    toml::Value::String(s) => out.push((Some(name.clone()), s.clone())),
                    _ => src.push(
                        Some(v.span()),
                        key,
                        format!("the value for \"{name}\" must be a quoted string, e.g. \"{name}\" = \"50 mg\""),
                    ),
                }
            }
            out
        }
        _ => {
            src.push(
                Some(v.span()),
                key,
                "must be a quoted value, or a table of quoted values by active name",
            );
            Vec::new()
        }
    }
}

fn date_value(src: &mut Source, v: &Spanned<toml::Value>, key: &str) -> Option<Date> {
    let text = match v.get_ref() {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    match parse_date(&text) {
        Ok(d) => Some(d),
        Err(e) => {
            src.push(Some(v.span()), key, e.0);
            None
        }
    }
}

fn opt_text(src: &mut Source, v: Option<&Spanned<String>>, key: &str) -> Option<String> {
    v.map(|s| src.text(s, key))
}

/// Validates an order read from a file; problems go to `src`. `prefix` names the entry in
/// messages (e.g. "batch[3]."), empty for an order file.
pub(crate) fn from_raw(src: &mut Source, raw: &RawOrder, prefix: &str) -> Order {
    let k = |name: &str| format!("{prefix}{name}");
    let mut order = Order::default();
    if let Some(v) = &raw.strength {
        for (name, text) in named_texts(src, v, &k("strength")) {
            match parse_strength(&text) {
                Ok(mut s) => {
                    s.active = name.or(s.active);
                    order.strengths.push(s);
                }
                Err(e) => src.push(Some(v.span()), &k("strength"), e.0),
            }
        }
    }
    if let Some(q) = &raw.quantity {
        match parse_count(&src.num_text(q), "quantity", false) {
            Ok(n) => order.quantity = n,
            Err(e) => src.push(Some(q.span()), &k("quantity"), e.0),
        }
    }
    match (&raw.extra, &raw.overage) {
        (Some(_), Some(o)) => src.push(
            Some(o.span()),
            &k("overage"),
            "give extra units or an overage percent, not both",
        ),
        (Some(e), None) => match parse_count(&src.num_text(e), "extra", true) {
            Ok(n) => order.preparation = Preparation::Extra(n),
            Err(err) => src.push(Some(e.span()), &k("extra"), err.0),
        },
        (None, Some(o)) => match parse_overage(&src.num_text(o)) {
            Ok(p) => order.preparation = Preparation::Overage(p),
            Err(err) => src.push(Some(o.span()), &k("overage"), err.0),
        },
        (None, None) => {}
    }
    if let Some(v) = &raw.basis {
        for (name, text) in named_texts(src, v, &k("basis")) {
            match Basis::parse(&text) {
                Ok(basis) => order.bases.push(BasisSpec {
                    active: name,
                    basis,
                }),
                Err(e) => src.push(Some(v.span()), &k("basis"), e.0),
            }
        }
    }
    if let Some(v) = &raw.assay {
        for (name, text) in named_texts(src, v, &k("assay")) {
            match parse_assay(&text) {
                Ok(mut a) => {
                    a.active = name.or(a.active);
                    order.assays.push(a);
                }
                Err(e) => src.push(Some(v.span()), &k("assay"), e.0),
            }
        }
    }
    order.date = raw
        .date
        .as_ref()
        .and_then(|d| date_value(src, d, &k("date")));
    order.lot = opt_text(src, raw.lot.as_ref(), &k("lot"));
    order.rx = opt_text(src, raw.rx.as_ref(), &k("rx"));
    order.patient = opt_text(src, raw.patient.as_ref(), &k("patient"));
    order.prescriber = opt_text(src, raw.prescriber.as_ref(), &k("prescriber"));
    order.directions = opt_text(src, raw.directions.as_ref(), &k("directions"));
    if let Some(r) = &raw.refills {
        match parse_count(&src.num_text(r), "refills", true) {
            Ok(n) if n <= 99 => order.refills = Some(n),
            Ok(n) => src.push(
                Some(r.span()),
                &k("refills"),
                format!("{n} refills is not plausible; at most 99"),
            ),
            Err(_) => src.push(
                Some(r.span()),
                &k("refills"),
                format!(
                    "refills must be a whole number from 0 to 99, got {}",
                    quantity::echo(&src.num_text(r))
                ),
            ),
        }
    }
    for (i, c) in raw.component.iter().enumerate() {
        let key = k(&format!("component[{}]", i + 1));
        let c = c.get_ref();
        order.components.push(ComponentLot {
            name: src.text(&c.name, &format!("{key}.name")),
            manufacturer: opt_text(src, c.manufacturer.as_ref(), &format!("{key}.manufacturer")),
            lot: src.text(&c.lot, &format!("{key}.lot")),
            expiry: c
                .expiry
                .as_ref()
                .and_then(|d| date_value(src, d, &format!("{key}.expiry"))),
        });
    }
    if let Some(v) = &raw.confirm_strength {
        for (name, text) in named_texts(src, v, &k("confirm_strength")) {
            let text = match name {
                Some(n) => format!("{n}={}", text.trim()),
                None => text,
            };
            match parse_confirmation(&text) {
                Ok(c) => order.confirm_strength.push(c),
                Err(e) => src.push(Some(v.span()), &k("confirm_strength"), e.0),
            }
        }
    }
    order.date_written = raw
        .date_written
        .as_ref()
        .and_then(|d| date_value(src, d, &k("date_written")));
    if let Some(d) = &raw.prescriber_dea {
        let text = src.text(d, &k("prescriber_dea"));
        match parse_dea(&text) {
            Ok(n) => order.prescriber_dea = Some(n),
            Err(e) => src.push(Some(d.span()), &k("prescriber_dea"), e.0),
        }
    }
    if let Some(date) = order.date {
        check_expiries(src, raw, &order, date, prefix);
    }
    order
}

/// Refuses, with its line, a component lot that expired on or before the compounding date
/// `date` (the order's own, or a recipe's shared date), before anything is computed.
pub(crate) fn check_expiries(
    src: &mut Source,
    raw: &RawOrder,
    order: &Order,
    date: Date,
    prefix: &str,
) {
    for (i, (c, lot)) in raw.component.iter().zip(&order.components).enumerate() {
        if let (Some(expiry), Some(span)) = (lot.expiry, &c.get_ref().expiry)
            && expiry <= date
        {
            src.push(
                Some(span.span()),
                &format!("{prefix}component[{}].expiry", i + 1),
                format!(
                    "{} lot {} expired on {expiry}, on or before the compounding date {date}; \
                     it cannot be used: take a lot within its expiry date",
                    lot.name, lot.lot
                ),
            );
        }
    }
}

/// Reads an order file. The formula may be named in it (`formula = "..."`).
pub fn parse_file(text: &str, file: &str) -> Result<(Option<String>, Order)> {
    let text = strip_bom(text);
    if crate::input::toml::is_empty_toml(text) {
        return Err(crate::error::Error::Input {
            file: file.to_string(),
            line: None,
            key: None,
            message: "holds no order: the file is empty or has only comments. An order needs \
                      at least formula, strength and quantity (see docs/order-format.md)"
                .into(),
        });
    }
    let mut src = Source::new(text, file);
    let Some(raw) = src.read::<RawOrder>(KEYS)? else {
        return src.fail();
    };
    let order = from_raw(&mut src, &raw, "");
    src.finish()?;
    Ok((raw.formula.map(Spanned::into_inner), order))
}

/// Parses "NAME|LOT|EXPIRY[|MANUFACTURER]" from the command line.
pub fn parse_component(text: &str) -> Result<ComponentLot, ParseError> {
    let parts: Vec<&str> = text.split('|').map(str::trim).collect();
    let usage = "write NAME|LOT|EXPIRY (YYYY-MM-DD) or NAME|LOT|EXPIRY|MANUFACTURER";
    if !(3..=4).contains(&parts.len()) || parts[0].is_empty() || parts[1].is_empty() {
        return Err(ParseError(format!("\"{text}\": {usage}")));
    }
    for (what, part) in ["name", "lot", "expiry", "manufacturer"].iter().zip(&parts) {
        crate::escape::check(part, false).map_err(|m| ParseError(format!("the {what} {m}")))?;
    }
    Ok(ComponentLot {
        name: parts[0].to_string(),
        lot: parts[1].to_string(),
        expiry: if parts[2].is_empty() {
            None
        } else {
            Some(parse_date(parts[2])?)
        },
        manufacturer: parts
            .get(3)
            .filter(|m| !m.is_empty())
            .map(|m| (*m).to_string()),
    })
}
