//! The layer every file format shares: reading a TOML file into the raw structs of a format,
//! and the located messages about it.
//!
//! Reading is two steps. The file is parsed into toml's spanned document tree; a syntax error
//! stops there, with one message placed by its span. The tree is then walked against the
//! format's list of keys ([`Field`]): every unknown key, value of the wrong kind and missing
//! key is reported with its line, and taken out, so the rest of the file can still be read
//! into the raw structs (which keep each value's place, so numbers are re-read from their
//! text, never through `f64`). Validation then pushes its problems to the same [`Source`], and
//! `troche check` lists them all.
//!
//! The messages are made from structured facts (the key path, the kind of value found, the
//! keys allowed, the text at the error's span), never from the wording of toml's or serde's
//! messages, which changes between versions.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Error, Result};
use crate::quantity::{self, ParseError, Quantity};

/// A number as it appears in the file: a quoted string, or a bare TOML number whose exact text
/// is re-read from the source (its parsed value is thrown away, since it went through f64).
#[derive(Debug)]
pub(crate) enum RawNum {
    Text(String),
    Bare,
}

impl<'de> Deserialize<'de> for RawNum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawNum;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or an amount in quotes such as \"0.892 g\"")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Text(v.to_string()))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Bare)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Bare)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<RawNum, E> {
                Ok(RawNum::Bare)
            }
        }
        d.deserialize_any(V)
    }
}

pub(crate) type Num = Spanned<RawNum>;

// Source-located validation, shared with the order and recipe loaders.

/// Validation state for one source file: the text (to re-read numbers and find lines) and every
/// problem found so far.
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub errors: Vec<Error>,
    /// Lines of the file before `text` (a recipe entry is read on its own).
    line_offset: usize,
}

impl<'a> Source<'a> {
    pub(crate) fn new(text: &'a str, file: &'a str) -> Self {
        Source {
            text,
            file,
            errors: Vec::new(),
            line_offset: 0,
        }
    }

    /// A part of a file whose first line is line `offset + 1` of the file.
    pub(crate) fn part(text: &'a str, file: &'a str, offset: usize) -> Self {
        Source {
            line_offset: offset,
            ..Source::new(text, file)
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        count_newlines(&self.text.as_bytes()[..end]) + 1 + self.line_offset
    }

    pub(crate) fn error_at(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        msg: impl Into<String>,
    ) -> Error {
        Error::Input {
            file: self.file.to_string(),
            line: span.map(|s| self.line_of(s.start)),
            key: (!key.is_empty()).then(|| key.to_string()),
            message: msg.into(),
        }
    }

    pub(crate) fn push(
        &mut self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        msg: impl Into<String>,
    ) {
        let e = self.error_at(span, key, msg);
        self.errors.push(e);
    }

    /// The text of a number field as typed: the string, or the source text of a bare number.
    pub(crate) fn num_text(&self, n: &Num) -> String {
        match n.get_ref() {
            RawNum::Text(t) => t.clone(),
            RawNum::Bare => self.text.get(n.span()).unwrap_or("").replace('_', ""),
        }
    }

    pub(crate) fn parsed<T>(
        &mut self,
        n: &Num,
        key: &str,
        f: impl Fn(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        match f(&self.num_text(n)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(Some(n.span()), key, e.0);
                None
            }
        }
    }

    /// A dimensionless number that must be positive (a factor, a molecular weight, a percent).
    pub(crate) fn positive(&mut self, n: &Num, key: &str) -> Option<Decimal> {
        self.parsed(n, key, |t| {
            let v = quantity::parse_decimal(t)?;
            if v <= Decimal::ZERO {
                return Err(ParseError(format!(
                    "must be greater than zero, got {}",
                    quantity::echo(t.trim())
                )));
            }
            Ok(v)
        })
    }

    pub(crate) fn mass(&mut self, n: &Num, key: &str) -> Option<Quantity> {
        self.parsed(n, key, quantity::parse_mass)
    }

    pub(crate) fn quantity(&mut self, n: &Num, key: &str) -> Option<Quantity> {
        self.parsed(n, key, quantity::parse_quantity)
    }

    pub(crate) fn text(&mut self, s: &Spanned<String>, key: &str) -> String {
        let t = s.get_ref().trim();
        let limit = text_limit(key);
        let n = t.chars().count();
        if t.is_empty() {
            self.push(Some(s.span()), key, "must not be empty");
        } else if n > limit {
            self.push(
                Some(s.span()),
                key,
                format!(
                    "is {n} characters long; at most {limit} are allowed here (was something \
                     pasted by mistake?)"
                ),
            );
        } else if let Err(m) = crate::escape::check(t, limit > 200) {
            self.push(Some(s.span()), key, m);
        }
        t.to_string()
    }

    /// A count written as a bare whole number (`cavities = 30`). A quoted or fractional one is
    /// refused with what to write instead.
    pub(crate) fn whole(&mut self, n: &Num, key: &str) -> Option<i64> {
        let name = key.rsplit('.').next().unwrap_or(key);
        let text = self.num_text(n);
        let t = text.trim();
        if let RawNum::Text(_) = n.get_ref() {
            let msg = if !t.is_empty() && t.len() <= 10 && t.chars().all(|c| c.is_ascii_digit()) {
                format!("must be a whole number without quotes: write {name} = {t}")
            } else {
                format!(
                    "must be a whole number written without quotes, e.g. {name} = 30; got {}",
                    quantity::echo(t)
                )
            };
            self.push(Some(n.span()), key, msg);
            return None;
        }
        let v = match quantity::parse_decimal(t) {
            Ok(v) => v,
            Err(e) => {
                self.push(Some(n.span()), key, e.0);
                return None;
            }
        };
        if !v.fract().is_zero() {
            self.push(
                Some(n.span()),
                key,
                format!("must be a whole number, e.g. {name} = 2; got {t}"),
            );
            return None;
        }
        rust_decimal::prelude::ToPrimitive::to_i64(&v)
    }

    pub(crate) fn count(&mut self, n: &Num, key: &str, min: i64, max: i64) -> Option<u32> {
        let v = self.whole(n, key)?;
        if v < min || v > max {
            self.push(
                Some(n.span()),
                key,
                format!("must be a whole number from {min} to {max}, got {v}"),
            );
            return None;
        }
        u32::try_from(v).ok()
    }

    /// The problems found, when the file could not be read far enough to go on.
    pub(crate) fn fail<T>(self) -> Result<T> {
        self.finish()?;
        Err(Error::calc("the file could not be read"))
    }

    pub(crate) fn finish(mut self) -> Result<()> {
        // In the order of the file, whichever check found them.
        self.errors.sort_by_key(|e| match e {
            Error::Input { line, .. } => line.unwrap_or(0),
            _ => 0,
        });
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(self.errors.into_iter().next().expect("one error")),
            _ => Err(Error::Many(self.errors)),
        }
    }
}

/// Whether a file holds nothing but blank lines and comments.
pub(crate) fn is_empty_toml(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#')
    })
}

/// Longest text a field may hold: names are printed on one line of a label, the rest
/// (directions, steps, warnings) wraps. Past it, something was pasted by mistake.
fn text_limit(key: &str) -> usize {
    let field = key.rsplit('.').next().unwrap_or(key);
    match field {
        "id" | "name" | "dosage_form" | "route" | "moiety" | "category" | "lot" | "rx"
        | "patient" | "prescriber" | "manufacturer" | "formula" => 200,
        _ => 2000,
    }
}

/// Newlines in a byte string: the line of an offset is one more.
// Input files are kilobytes; a SIMD byte-counting crate would not pay for itself.
#[allow(clippy::naive_bytecount)]
pub(crate) fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Strips a UTF-8 byte-order mark, which word processors and Windows editors add and which
/// carries no meaning.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

// ---------------------------------------------------------------------------------------------
// The shape of a file: its keys, what each holds, which are required.

/// What a key holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Text in quotes.
    Text,
    /// A number: bare, or quoted with its unit (read as [`RawNum`]).
    Num,
    /// Any value; its reader checks it (a strength written as text or a table by active, a
    /// date written bare or quoted).
    Any,
    /// A list of texts.
    TextList,
    /// A table with these keys.
    Table(&'static [Field]),
    /// A list of tables (`[[name]]`) with these keys.
    Tables(&'static [Field]),
}

/// One key of a table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

/// A key that may be left out.
pub(crate) const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

/// A key that must be given.
pub(crate) const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}

/// The keys serde expects of `T` (a raw struct), for the test that a format's [`Field`] list
/// names exactly the raw struct's keys.
#[cfg(test)]
pub(crate) fn serde_fields<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
    struct Probe;
    #[derive(Debug)]
    struct Fields(Vec<&'static str>);
    impl std::fmt::Display for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl std::error::Error for Fields {}
    impl serde::de::Error for Fields {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Fields(Vec::new())
        }
    }
    impl<'de> serde::Deserializer<'de> for Probe {
        type Error = Fields;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(Vec::new()))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields.to_vec()))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Fields(f)) => f,
        Ok(_) => Vec::new(),
    }
}

/// What a value is, in words ("the quoted text \"30\"", "a table").
fn found(text: &str, v: &Spanned<DeValue>) -> String {
    let raw = text.get(v.span()).unwrap_or("").trim();
    match v.get_ref() {
        DeValue::String(s) => format!("the quoted text {}", quantity::echo(s)),
        DeValue::Integer(_) | DeValue::Float(_) => {
            format!("the number {}", quantity::echo(raw).trim_matches('"'))
        }
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => format!("the date {d}"),
        DeValue::Array(_) => "a list".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// Tables of the file formats, named as tables (with what they need) when missing.
fn table_needs(name: &str) -> &'static str {
    match name {
        "mold" => " with name, cavities and blank_weight",
        "base" => " with the base's name",
        "bud" => " with category and storage",
        "label" => " with directions",
        "procedure" => " with equipment and steps",
        "pharmacy" => " with name, address and phone",
        _ => "",
    }
}

/// The allowed key closest to a misspelt one, if it is close enough to be a typo.
fn closest<'a>(given: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(given, a), *a))
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a)
}

/// Whether a bare number's text is too large for any value of these formats (an exponent
/// beyond f64, or an integer beyond i64); `inf` and `nan` are left to the number reader,
/// which says they are not numbers.
fn too_large(v: &DeValue) -> bool {
    match v {
        DeValue::Integer(i) => {
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).is_err()
        }
        DeValue::Float(f) => {
            let t = f.as_str().replace('_', "");
            let word = t.trim_start_matches(['+', '-']);
            word != "inf" && word != "nan" && t.parse::<f64>().is_ok_and(f64::is_infinite)
        }
        _ => false,
    }
}

impl Source<'_> {
    /// Reads the file into `T`, whose keys `fields` lists. A syntax error is returned at once:
    /// nothing more can be read. Problems of shape are pushed to `self.errors`; `None` when
    /// `T` cannot be built without what is missing. The caller validates and then calls
    /// [`Source::finish`].
    pub(crate) fn read<T: DeserializeOwned>(
        &mut self,
        fields: &'static [Field],
    ) -> Result<Option<T>> {
        let doc = DeTable::parse(self.text).map_err(|e| self.syntax_error(&e))?;
        let span = doc.span();
        let mut complete = true;
        let table = self.walk(doc.into_inner(), fields, "", Some(&span), &mut complete);
        if !complete {
            return Ok(None);
        }
        match T::deserialize(toml::de::Deserializer::from(Spanned::new(span, table))) {
            Ok(t) => Ok(Some(t)),
            // Every shape the walk lets through is one `T` reads: a failure here is a gap in
            // `fields`, said in toml's words rather than lost.
            Err(e) => {
                self.push(e.span(), "", e.message().to_string());
                Ok(None)
            }
        }
    }

    /// Checks one table against its keys; returns it without the keys that are wrong.
    #[allow(clippy::single_match_else)]
    fn walk<'i>(
        &mut self,
        table: DeTable<'i>,
        fields: &'static [Field],
        path: &str,
        at: Option<&std::ops::Range<usize>>,
        complete: &mut bool,
    ) -> DeTable<'i> {
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        let join = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        let given: Vec<String> = table.iter().map(|(k, _)| k.get_ref().to_string()).collect();
        let mut out = DeTable::new();
        for (k, mut v) in table {
            let mut name = k.get_ref().to_string();
            let field = match fields.iter().find(|f| f.name == name) {
                Some(f) => f,
                None => {
                    let typo = closest(&name, &names);
                    self.push(
                        Some(k.span()),
                        &join(&name),
                        Self::unknown_key(&name, &names, path, typo),
                    );
                    // A typo of a key not otherwise given is read as that key, so the rest
                    // of the file is still checked (and its absence not reported as well).
                    let fits = |t: &&str| {
                        fields
                            .iter()
                            .find(|f| f.name == *t)
                            .is_some_and(|f| fits(f.kind, v.get_ref()))
                    };
                    match typo.filter(|t| {
                        !given.iter().any(|g| g == t) && !is_ambiguous(&name) && fits(t)
                    }) {
                        Some(t) => {
                            name = t.to_string();
                            fields.iter().find(|f| f.name == t).expect("a listed key")
                        }
                        None => continue,
                    }
                }
            };
            let key = join(&name);
            if self.check_value(&mut v, field, &key, complete) {
                out.insert(Spanned::new(k.span(), name.into()), v);
            }
        }
        for f in fields.iter().filter(|f| f.required) {
            if out.contains_key(f.name) {
                continue;
            }
            *complete = false;
            // Given but wrong: said already.
            if given.iter().any(|g| g == f.name) {
                continue;
            }
            let at = if path.is_empty() { None } else { at.cloned() };
            match f.kind {
                Kind::Table(_) => self.push(
                    at,
                    &join(f.name),
                    format!(
                        "the [{}] table is missing; add it{}",
                        f.name,
                        table_needs(f.name)
                    ),
                ),
                _ => {
                    let under = if path.is_empty() {
                        String::new()
                    } else {
                        format!(" under [{}]", strip_indices(path))
                    };
                    self.push(
                        at,
                        &join(f.name),
                        format!("is required; add {} = ...{under}", f.name),
                    );
                }
            }
        }
        out
    }

    /// Checks one value against what its key holds; false when it is to be left out.
    fn check_value(
        &mut self,
        v: &mut Spanned<DeValue>,
        field: &Field,
        key: &str,
        complete: &mut bool,
    ) -> bool {
        let name = field.name;
        let span = v.span();
        let wrong = |src: &mut Self, want: String, v: &Spanned<DeValue>| {
            let got = found(src.text, v);
            src.push(
                Some(span.clone()),
                key,
                format!("must be {want}, not {got}"),
            );
            false
        };
        let ok = match (field.kind, v.get_mut()) {
            (Kind::Any, d) => {
                if too_large(d) {
                    self.push(Some(span), key, TOO_LARGE);
                    return false;
                }
                true
            }
            (Kind::Text, DeValue::String(_)) => true,
            (Kind::Text, _) => wrong(
                self,
                format!("text in double quotes, e.g. {name} = \"...\""),
                v,
            ),
            (Kind::Num, d @ (DeValue::Integer(_) | DeValue::Float(_))) if too_large(d) => {
                self.push(Some(span), key, TOO_LARGE);
                false
            }
            (Kind::Num, DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_)) => true,
            (Kind::Num, _) => wrong(
                self,
                format!("a number, or an amount in quotes such as {name} = \"0.892 g\""),
                v,
            ),
            (Kind::TextList, DeValue::Array(items)) => {
                let mut ok = true;
                for item in items.iter() {
                    if !matches!(item.get_ref(), DeValue::String(_)) {
                        let got = found(self.text, item);
                        self.push(
                            Some(item.span()),
                            key,
                            format!("every item must be text in double quotes, not {got}"),
                        );
                        ok = false;
                    }
                }
                ok
            }
            (Kind::TextList, _) => wrong(
                self,
                format!("a list in square brackets, e.g. {name} = [\"...\", \"...\"]"),
                v,
            ),
            (Kind::Table(fields), DeValue::Table(t)) => {
                let inner = std::mem::take(t);
                *t = self.walk(inner, fields, key, Some(&span), complete);
                true
            }
            (Kind::Table(_), _) => wrong(
                self,
                format!("a table, written as a [{name}] section with its keys below it"),
                v,
            ),
            (Kind::Tables(fields), DeValue::Array(items))
                if items.iter().all(|i| i.get_ref().is_table()) =>
            {
                for (n, item) in items.iter_mut().enumerate() {
                    let item_span = item.span();
                    if let DeValue::Table(t) = item.get_mut() {
                        let inner = std::mem::take(t);
                        let k = format!("{key}[{}]", n + 1);
                        *t = self.walk(inner, fields, &k, Some(&item_span), complete);
                    }
                }
                true
            }
            (Kind::Tables(_), _) => wrong(
                self,
                format!("a list of tables, each written as a [[{name}]] section (double brackets)"),
                v,
            ),
        };
        if !ok && field.required {
            *complete = false;
        }
        ok
    }

    /// The message for a key that is not one of `allowed`.
    fn unknown_key(name: &str, allowed: &[&str], path: &str, typo: Option<&str>) -> String {
        let place = if path.is_empty() {
            "at the top of the file".to_string()
        } else {
            format!("in [{}]", strip_indices(path))
        };
        if is_ambiguous(name) {
            format!(
                "a bare `{name}` is ambiguous: write `replacement_factor` (grams of base \
                 displaced by 1 g of ingredient) or `density_factor` (grams of ingredient that \
                 displace 1 g of base)"
            )
        } else if name.starts_with("batch") && allowed.contains(&"config") {
            "each order is a [[batch]] table, with double brackets, one per order".to_string()
        } else if (name == "overage" || name == "extra") && allowed.contains(&"dosage_form") {
            format!(
                "`{name}` belongs to the order (or a recipe's [[batch]]), not the formula; \
                 remove it here"
            )
        } else {
            let hint = typo
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            if allowed.is_empty() {
                format!("unknown key; {hint}no keys are allowed {place}")
            } else {
                format!("unknown key; {hint}allowed {place}: {}", allowed.join(", "))
            }
        }
    }

    /// A TOML syntax error, placed by its span and explained from the text found there (the
    /// parser's own wording is shown only for a case not recognised here).
    fn syntax_error(&self, e: &toml::de::Error) -> Error {
        let span = e.span();
        let at = span.as_ref().map_or(0, |s| s.start.min(self.text.len()));
        let at = if self.text.is_char_boundary(at) {
            at
        } else {
            0
        };
        let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        let line = &self.text[line_start..line_end];
        let spanned = span
            .as_ref()
            .and_then(|s| self.text.get(s.clone()))
            .unwrap_or("")
            .trim();
        let (key, message) = explain_syntax(&self.text[..line_start], line, spanned)
            .unwrap_or_else(|| (key_of_line(line), e.message().trim().to_string()));
        self.error_at(span, &key, message)
    }
}

const TOO_LARGE: &str = "this number is too large; write it with digits and a decimal point (no \
                         exponent), at most 1000000000";

/// Whether a value is of the sort a key holds (before its contents are checked).
fn fits(kind: Kind, v: &DeValue) -> bool {
    match kind {
        Kind::Any => true,
        Kind::Text => v.is_str(),
        Kind::Num => v.is_str() || v.is_integer() || v.is_float(),
        Kind::TextList => v.is_array(),
        Kind::Table(_) => v.is_table(),
        Kind::Tables(_) => v
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i.get_ref().is_table())),
    }
}

/// A bare `factor`: the two conventions are reciprocal, so it is never read as either.
fn is_ambiguous(name: &str) -> bool {
    name == "factor" || name == "displacement_factor"
}

/// "active[1].x" → "active.x", for naming a table.
fn strip_indices(path: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for c in path.chars() {
        match c {
            '[' => skip = true,
            ']' => skip = false,
            c if !skip => out.push(c),
            _ => {}
        }
    }
    out
}

/// The key a `key = value` line sets, for syntax errors that carry no key path.
fn key_of_line(line: &str) -> String {
    let Some((k, _)) = line.split_once('=') else {
        return String::new();
    };
    let k = k.trim();
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c));
    if ok {
        k.trim_matches(['"', '\'']).to_string()
    } else {
        String::new()
    }
}

/// The name of a table header line (`[mold]`, `[[active]]`), if the line is one.
fn header_of(line: &str) -> Option<&str> {
    let t = line.split('#').next().unwrap_or("").trim();
    let inner = t.strip_prefix('[')?;
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let inner = inner.strip_suffix(']')?;
    Some(inner.strip_suffix(']').unwrap_or(inner).trim())
}

/// A syntax error in a pharmacist's words, from the line it is on, the text before it and the
/// text at its span: (key, message). `None` when the case is not one of these.
fn explain_syntax(before: &str, line: &str, spanned: &str) -> Option<(String, String)> {
    let line_key = key_of_line(line);
    let trimmed = line.trim();
    if line.contains(['“', '”', '‘', '’', '„', '«', '»']) {
        let k = if line_key.is_empty() {
            "key"
        } else {
            line_key.as_str()
        };
        return Some((
            line_key.clone(),
            format!(
                "has curly quotes (“ ”), as a word processor types them; use straight quotes: \
                 {k} = \"...\" (save the file as plain text)"
            ),
        ));
    }
    // A table header: unclosed, or the same table twice.
    if trimmed.starts_with('[') {
        let code = trimmed.split('#').next().unwrap_or("").trim();
        let double = code.starts_with("[[");
        if !code.ends_with(']') || (double && !code.ends_with("]]")) {
            let name = code.trim_matches(['[', ']']).trim();
            let name = if name.is_empty() { "name" } else { name };
            let header = if double {
                format!("[[{name}]]")
            } else {
                format!("[{name}]")
            };
            return Some((
                String::new(),
                format!("this table header is not closed; write {header}"),
            ));
        }
        let name = header_of(code)?;
        if !double && before.lines().any(|l| header_of(l) == Some(name)) {
            return Some((
                name.to_string(),
                format!("the table [{name}] appears twice; keep one [{name}] with all its keys"),
            ));
        }
        return None;
    }
    let value = line.split_once('=').map_or("", |(_, v)| v.trim());
    // A quoted text not closed on its line.
    for q in ['"', '\''] {
        if value.starts_with(q) && value.matches(q).count() % 2 == 1 {
            return Some((
                line_key,
                format!("the quoted text is not closed; end it with {q} on the same line"),
            ));
        }
    }
    // The same key twice in one table: set on an earlier line since the table's header.
    if !line_key.is_empty() && spanned.trim_matches(['"', '\'']) == line_key {
        let table = before
            .lines()
            .rev()
            .take_while(|l| header_of(l).is_none())
            .collect::<Vec<_>>();
        if table.iter().any(|l| key_of_line(l) == line_key) {
            return Some((
                line_key,
                "is given twice in the same table; keep only one".into(),
            ));
        }
    }
    // A date that does not exist (February 30th), written bare.
    let date = spanned.get(..10).unwrap_or("");
    if date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
    {
        return Some((
            line_key,
            format!(
                "{spanned} is not a real date: check the month and the day; write an existing \
                 date as YYYY-MM-DD, e.g. 2026-11-23"
            ),
        ));
    }
    if line.contains('=') && value.is_empty() {
        return Some((line_key, "a key with no value; write key = value".into()));
    }
    if line.contains('=') {
        return Some((
            line_key,
            "this value cannot be read: write text in double quotes (name = \"...\"), numbers \
             with digits only, and one key = value per line (no comma at the end; a list goes \
             in square brackets)"
                .into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fields: &[Field]) -> Vec<&'static str> {
        fields.iter().map(|f| f.name).collect()
    }

    /// Every list of keys names exactly the keys of the raw struct it describes, so a key
    /// added to a struct and not to its list (or the reverse) fails here, not at the bench.
    #[test]
    fn key_lists_are_the_raw_structs_keys() {
        let top = |fields: &'static [Field], name: &str| match fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.kind)
        {
            Some(Kind::Table(f) | Kind::Tables(f)) => f,
            _ => panic!("{name} is not a table"),
        };
        crate::formula::check_key_lists(top);
        assert_eq!(
            names(crate::order::KEYS),
            serde_fields::<crate::order::RawOrder>()
        );
        assert_eq!(
            names(crate::config::KEYS),
            serde_fields::<crate::config::RawSettings>()
        );
        assert_eq!(
            names(crate::config::BALANCE_KEYS),
            serde_fields::<crate::config::RawBalance>()
        );
    }

    fn messages(text: &str, fields: &'static [Field]) -> Vec<String> {
        let mut src = Source::new(text, "f.toml");
        if let Err(e) = src.read::<toml::Table>(fields) {
            src.errors.push(e);
        }
        src.errors.iter().map(ToString::to_string).collect()
    }

    const KEYS: &[Field] = &[
        req("name", Kind::Text),
        opt("count", Kind::Num),
        opt("steps", Kind::TextList),
        opt("mold", Kind::Table(&[req("cavities", Kind::Num)])),
        opt("active", Kind::Tables(&[req("mw", Kind::Num)])),
    ];

    /// The wording of the messages is ours, made from the key path, the kind of value and the
    /// text at the error's place: pinned here so a new version of toml cannot change it.
    #[test]
    fn messages_are_worded_from_structure_not_from_toml() {
        let cases: &[(&str, &[&str])] = &[
            (
                "name = 5\n",
                &[
                    "f.toml:1: `name`: must be text in double quotes, e.g. name = \"...\", not the number 5",
                ],
            ),
            (
                "name = \"x\"\nstesp = [\"a\"]\n",
                &[
                    "f.toml:2: `stesp`: unknown key; did you mean `steps`? allowed at the top of the file: name, count, steps, mold, active",
                ],
            ),
            (
                "name = \"x\"\nmold = 3\n",
                &[
                    "f.toml:2: `mold`: must be a table, written as a [mold] section with its keys below it, not the number 3",
                ],
            ),
            (
                "name = \"x\"\n[mold]\n",
                &["f.toml:2: `mold.cavities`: is required; add cavities = ... under [mold]"],
            ),
            (
                "name = \"x\"\n[[active]]\nmw = 1e400\n",
                &[
                    "f.toml:3: `active[1].mw`: this number is too large; write it with digits and a decimal point (no exponent), at most 1000000000",
                ],
            ),
            (
                "name = \"x\"\ncount = true\nsteps = [1]\n",
                &[
                    "f.toml:2: `count`: must be a number, or an amount in quotes such as count = \"0.892 g\", not true",
                    "f.toml:3: `steps`: every item must be text in double quotes, not the number 1",
                ],
            ),
            (
                "count = 1\n",
                &["f.toml: `name`: is required; add name = ..."],
            ),
            (
                "name = “x”\n",
                &[
                    "f.toml:1: `name`: has curly quotes (“ ”), as a word processor types them; use straight quotes: name = \"...\" (save the file as plain text)",
                ],
            ),
            (
                "name = \"x\n",
                &[
                    "f.toml:1: `name`: the quoted text is not closed; end it with \" on the same line",
                ],
            ),
            (
                "name = \"x\"\nname = \"y\"\n",
                &["f.toml:2: `name`: is given twice in the same table; keep only one"],
            ),
            (
                "name = \"x\"\n[mold]\ncavities = 1\n[mold]\n",
                &[
                    "f.toml:4: `mold`: the table [mold] appears twice; keep one [mold] with all its keys",
                ],
            ),
            (
                "name = \"x\"\n[[active]\n",
                &["f.toml:2: this table header is not closed; write [[active]]"],
            ),
            (
                "name = \"x\"\ncount = 2026-02-30\n",
                &[
                    "f.toml:2: `count`: 2026-02-30 is not a real date: check the month and the day; write an existing date as YYYY-MM-DD, e.g. 2026-11-23",
                ],
            ),
            (
                "name = \"x\",\n",
                &[
                    "f.toml:1: `name`: this value cannot be read: write text in double quotes (name = \"...\"), numbers with digits only, and one key = value per line (no comma at the end; a list goes in square brackets)",
                ],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&messages(text, KEYS), want, "{text:?}");
        }
    }
}
