//! The procedure's steps: an amount in a step is a placeholder the worksheet fills in for the
//! batch (`{amount:Polyethylene glycol 400}`), never a number written into the master record,
//! which would be right for one batch size only.

/// A piece of a step: text as written, or the amount of the ingredient it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepPart<'a> {
    Text(&'a str),
    Amount(&'a str),
}

/// What is wrong with a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepProblem {
    /// A number with a mass or volume unit, as written.
    FixedAmount(String),
    /// A `{...}` that is not `{amount:NAME}`, or a `{` never closed.
    BadPlaceholder(String),
}

const PLACEHOLDER: &str = "amount:";

/// The step cut into text and placeholders, or what is wrong with its braces.
pub fn parts(step: &str) -> Result<Vec<StepPart<'_>>, StepProblem> {
    let mut out = Vec::new();
    let mut rest = step;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(StepPart::Text(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(StepProblem::BadPlaceholder(
                rest[open..].chars().take(40).collect(),
            ));
        };
        let inner = &after[..close];
        match inner.strip_prefix(PLACEHOLDER) {
            Some(name) if !name.trim().is_empty() && !name.contains('{') => {
                out.push(StepPart::Amount(name.trim()));
            }
            _ => return Err(StepProblem::BadPlaceholder(format!("{{{inner}}}"))),
        }
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(StepPart::Text(rest));
    }
    Ok(out)
}

/// Units that make a number an amount of something.
const UNITS: &[&str] = &[
    "kg",
    "g",
    "gm",
    "gram",
    "grams",
    "mg",
    "milligram",
    "milligrams",
    "mcg",
    "µg",
    "ug",
    "microgram",
    "micrograms",
    "l",
    "liter",
    "liters",
    "litre",
    "litres",
    "ml",
    "milliliter",
    "milliliters",
    "millilitre",
    "millilitres",
];

/// The first number with a mass or volume unit in `text` ("0.338 g", "3 mL"), as written.
pub fn fixed_amount(text: &str) -> Option<String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (start, c) = chars[k];
        let follows_word = k > 0 && {
            let p = chars[k - 1].1;
            p.is_alphanumeric() || p == '.' || p == ','
        };
        if !c.is_ascii_digit() || follows_word {
            k += 1;
            continue;
        }
        let mut j = k;
        while j < chars.len() && (chars[j].1.is_ascii_digit() || chars[j].1 == '.') {
            j += 1;
        }
        // A point that ends the number ends the sentence.
        let mut num_end = j;
        if chars[num_end - 1].1 == '.' {
            num_end -= 1;
        }
        let mut u = num_end;
        if u < chars.len() && chars[u].1 == ' ' {
            u += 1;
        }
        let unit_start = u;
        while u < chars.len() && chars[u].1.is_alphabetic() {
            u += 1;
        }
        if u > unit_start {
            let unit: String = chars[unit_start..u].iter().map(|(_, c)| *c).collect();
            if UNITS.contains(&unit.to_lowercase().as_str()) {
                let end = chars.get(u).map_or(text.len(), |(i, _)| *i);
                return Some(text[start..end].to_string());
            }
        }
        k = j.max(k + 1);
    }
    None
}

/// What is wrong with a step, if anything: a placeholder it cannot read, or a fixed amount in
/// its text. The names its placeholders give are checked by the caller, which knows the
/// formula's ingredients.
pub fn problem(step: &str) -> Option<StepProblem> {
    let parts = match parts(step) {
        Ok(p) => p,
        Err(e) => return Some(e),
    };
    parts.iter().find_map(|p| match p {
        StepPart::Text(t) => fixed_amount(t).map(StepProblem::FixedAmount),
        StepPart::Amount(_) => None,
    })
}

/// The step with each placeholder replaced by `amount(name)`; a name it does not know is left
/// as written.
pub fn fill(step: &str, amount: impl Fn(&str) -> Option<String>) -> String {
    match parts(step) {
        Ok(parts) => parts
            .iter()
            .map(|p| match p {
                StepPart::Text(t) => (*t).to_string(),
                StepPart::Amount(name) => {
                    amount(name).unwrap_or_else(|| format!("{{{PLACEHOLDER}{name}}}"))
                }
            })
            .collect(),
        Err(_) => step.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_with_a_mass_or_volume_unit_is_a_fixed_amount() {
        for (text, found) in [
            ("Weigh the PEG 400 by mass, 0.338 g for 30", Some("0.338 g")),
            ("measure the flavor with the 3 mL syringe", Some("3 mL")),
            ("11.28 mg per troche", Some("11.28 mg")),
            ("a 200mg mold", Some("200mg")),
            ("Melt the PEG 1450 at about 55 °C.", None),
            ("Let set about 30 minutes; 2-8 °C; 5-9 % extra", None),
            ("Pass through the No. 40 sieve.", None),
            ("Polyethylene glycol 400, NF", None),
            ("Weigh 1 g.", Some("1 g")),
            ("USP <795> 30 gauge", None),
        ] {
            assert_eq!(fixed_amount(text).as_deref(), found, "{text}");
        }
    }

    #[test]
    fn placeholders_are_read_and_filled() {
        let step = "Measure the PEG 400, {amount:Polyethylene glycol 400}, slowly.";
        assert_eq!(problem(step), None);
        assert_eq!(
            fill(step, |n| (n == "Polyethylene glycol 400")
                .then(|| "0.32 mL".into())),
            "Measure the PEG 400, 0.32 mL, slowly."
        );
        assert_eq!(
            problem("Weigh {weight:PEG}"),
            Some(StepProblem::BadPlaceholder("{weight:PEG}".into()))
        );
        assert!(matches!(
            problem("Weigh {amount:PEG"),
            Some(StepProblem::BadPlaceholder(_))
        ));
        // A number inside a placeholder's name is not an amount.
        assert_eq!(
            problem("{amount:Polyethylene glycol 1450, NF} in all"),
            None
        );
    }
}
