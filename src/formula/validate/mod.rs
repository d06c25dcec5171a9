//! Validation: the raw file turned into the model, every problem collected (in the order of
//! the file's tables) rather than stopping at the first, so `troche check` can list them.

mod actives;
mod base;
mod bud;
mod excipients;
mod mold;
mod texts;

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use toml::Spanned;

use crate::input::toml::{Num, Source};
use crate::quantity;

use super::raw::RawFormula;
use super::{Displacement, Formula, SourceText, Stated, Unmeasured};

pub(super) fn validate(src: &mut Source, raw: &RawFormula, text: SourceText) -> Option<Formula> {
    let id = id(src, &raw.id);
    let name = src.text(&raw.name, "name");
    let dosage_form = src.text(&raw.dosage_form, "dosage_form");
    let route = src.text(&raw.route, "route");
    let version = src.count(&raw.version, "version", 1, 1_000_000);
    let description = src.text(&raw.description, "description");
    let change_note = raw.change_note.as_ref().map(|n| src.text(n, "change_note"));
    let mold = mold::mold(src, &raw.mold);
    let base = base::base(src, &raw.base);
    let diluent = raw.aliquot.as_ref().map(|a| base::diluent(src, a));
    let mut names = Names::default();
    let actives = actives::actives(src, &raw.active, &mut names);
    let ratio = raw
        .ratio
        .as_ref()
        .and_then(|r| actives::ratio(src, r, actives.len()));
    let usual_quantity = raw
        .usual_quantity
        .as_ref()
        .and_then(|n| src.count(n, "usual_quantity", 1, i64::from(crate::order::MAX_UNITS)));
    let excipients = excipients::excipients(src, &raw.excipient, &mut names);
    let bud = bud::bud(src, &raw.bud);
    let label = texts::label(src, &raw.label);
    let mut ingredients: Vec<String> = actives.iter().map(|a| a.name.clone()).collect();
    ingredients.extend(excipients.iter().map(|e| e.name.clone()));
    ingredients.push(base.name.clone());
    ingredients.extend(base.components.iter().map(|c| c.name.clone()));
    let procedure = texts::procedure(src, &raw.procedure, &ingredients);
    let tolerance = texts::weight_tolerance(src, raw.qc.as_ref());
    let qc = texts::qc(src, raw.qc.as_ref());
    let kind = kind(src, raw, &actives, &excipients, &base);
    Some(Formula {
        id,
        name,
        dosage_form,
        route,
        version: version?,
        description,
        change_note,
        kind,
        ratio,
        usual_quantity,
        mold: mold?,
        base,
        actives,
        excipients,
        bud: bud?,
        label,
        procedure,
        weight_tolerance_percent: tolerance?,
        qc: qc?,
        diluent,
        origin: src.file.to_string(),
        text,
    })
}

/// What the formula makes. A trituration is one drug in one diluent (the base), weighed mass
/// for mass (replacement factor 1 throughout), so that the drug's share of each unit is its
/// strength over the blank weight: no excipients, and nothing displacing otherwise.
fn kind(
    src: &mut Source,
    raw: &RawFormula,
    actives: &[super::Active],
    excipients: &[super::Excipient],
    base: &super::Base,
) -> super::FormulaKind {
    let Some(k) = raw.kind.as_ref() else {
        return super::FormulaKind::Preparation;
    };
    match k.get_ref().trim() {
        "preparation" => return super::FormulaKind::Preparation,
        "trituration" => {}
        other => {
            src.push(
                Some(k.span()),
                "kind",
                format!("\"{other}\" is not a kind; write \"preparation\" or \"trituration\""),
            );
            return super::FormulaKind::Preparation;
        }
    }
    let one = Displacement::Replacement(Decimal::ONE);
    let problem = if actives.len() != 1 {
        Some("a trituration dilutes one drug: give exactly one [[active]]")
    } else if !excipients.is_empty() {
        Some("a trituration is its drug and its diluent (the base) only: no [[excipient]]")
    } else if base.default_displacement != Some(one) || !base.components.is_empty() {
        Some(
            "a trituration is weighed mass for mass: its base (the diluent) needs \
             replacement_factor = \"1\", and no components",
        )
    } else if actives[0].displacement.is_some_and(|d| d != one) {
        Some("a trituration is weighed mass for mass: its active's factor, if any, is 1")
    } else {
        None
    };
    if let Some(p) = problem {
        src.push(Some(k.span()), "kind", p);
    }
    super::FormulaKind::Trituration
}

/// The formula's id, which names its files and its records: lowercase letters, digits and
/// hyphens.
fn id(src: &mut Source, raw: &Spanned<String>) -> String {
    let id = src.text(raw, "id");
    if !id.is_empty()
        && !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        src.push(
            Some(raw.span()),
            "id",
            "may hold only lowercase letters, digits and hyphens",
        );
    }
    id
}

/// The ingredients' names seen so far: every ingredient needs its own.
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    /// The name, refused when an ingredient before it has the same one.
    fn check(&mut self, src: &mut Source, name: &Spanned<String>, key: &str) -> String {
        let n = src.text(name, key);
        if !n.is_empty() && !self.0.insert(n.to_lowercase()) {
            src.push(
                Some(name.span()),
                key,
                format!("\"{n}\" appears twice; every ingredient needs its own name"),
            );
        }
        n
    }
}

/// Reads the pair of displacement keys; stating both is refused.
fn displacement(
    src: &mut Source,
    replacement: Option<&Num>,
    density: Option<&Num>,
    key: &str,
) -> Option<Displacement> {
    match (replacement, density) {
        (Some(_), Some(d)) => {
            src.push(
                Some(d.span()),
                key,
                "both replacement_factor and density_factor are given; they are reciprocal \
                 conventions, state only one",
            );
            None
        }
        (Some(r), None) => src
            .positive(r, &format!("{key}.replacement_factor"))
            .map(Displacement::Replacement),
        (None, Some(d)) => src
            .positive(d, &format!("{key}.density_factor"))
            .map(Displacement::Density),
        (None, None) => None,
    }
}

/// A density in g/mL, at `{key}.density`.
fn density(src: &mut Source, n: &Num, key: &str) -> Option<Decimal> {
    let text = src.num_text(n);
    match quantity::parse_density(&text) {
        Ok(v) => Some(v),
        Err(err) => {
            src.push(Some(n.span()), &format!("{key}.density"), err.0);
            None
        }
    }
}

/// What an unmeasured number is (`{key}_is`) and where it comes from (`{key}_source`).
/// `measured` are the words for a value that was measured (nothing to print); `allowed` the
/// kinds of unmeasured value this key may be. A nominal or estimated value needs its source.
fn stated(
    src: &mut Source,
    is: Option<&Spanned<String>>,
    source: Option<&Spanned<String>>,
    key: &str,
    measured: &[&str],
    allowed: &[Unmeasured],
) -> Option<Stated> {
    let is_key = format!("{key}_is");
    let source_key = format!("{key}_source");
    let Some(is) = is else {
        if let Some(s) = source {
            src.push(
                Some(s.span()),
                &source_key,
                format!("says where the value comes from, but {is_key} does not say what it is"),
            );
        }
        return None;
    };
    let word = src.text(is, &is_key);
    let kind = allowed
        .iter()
        .copied()
        .find(|k| k.as_str().eq_ignore_ascii_case(&word));
    if kind.is_none() && !measured.iter().any(|m| m.eq_ignore_ascii_case(&word)) {
        let words: Vec<&str> = measured
            .iter()
            .copied()
            .chain(allowed.iter().map(|k| k.as_str()))
            .collect();
        src.push(
            Some(is.span()),
            &is_key,
            format!(
                "unknown {}; allowed: {}",
                quantity::echo(&word),
                words.join(", ")
            ),
        );
        return None;
    }
    let kind = kind?;
    let Some(source) = source else {
        src.push(
            Some(is.span()),
            &is_key,
            format!(
                "a {} value needs {source_key}: where the number comes from (a maker's \
                 catalogue, a table, the densities it was worked out from)",
                kind.as_str()
            ),
        );
        return None;
    };
    Some(Stated {
        is: kind,
        source: src.text(source, &source_key),
    })
}

/// [`stated`] for a displacement factor: `factor_is` and `factor_source` at `key`, which
/// describe the factor stated beside them (and need one).
fn factor_stated(
    src: &mut Source,
    is: Option<&Spanned<String>>,
    source: Option<&Spanned<String>>,
    has_factor: bool,
    key: &str,
) -> Option<Stated> {
    let prefix = if key.is_empty() {
        "factor".to_string()
    } else {
        format!("{key}.factor")
    };
    if !has_factor && let Some(is) = is {
        src.push(
            Some(is.span()),
            &format!("{prefix}_is"),
            "describes a factor, but none is stated here; give replacement_factor or \
             density_factor, or remove it",
        );
        return None;
    }
    stated(
        src,
        is,
        source,
        &prefix,
        &["measured", "published"],
        &[Unmeasured::Estimated],
    )
}

#[cfg(test)]
mod tests {
    use crate::formula::{Unmeasured, parse};

    fn library(id: &str) -> String {
        crate::library::get(id)
            .expect("library formula")
            .to_string()
    }

    /// The messages of a formula that must be refused.
    fn refused(text: &str) -> String {
        parse(text, "f.toml").expect_err("refused").to_string()
    }

    #[test]
    fn the_library_marks_what_it_did_not_measure() {
        let insert = parse(&library("progesterone-vaginal-suppository"), "x").unwrap();
        assert_eq!(
            insert.mold.blank_weight_is.as_ref().map(|s| s.is),
            Some(Unmeasured::Nominal)
        );
        assert_eq!(
            insert.actives[0].factor_is.as_ref().map(|s| s.is),
            Some(Unmeasured::Estimated)
        );
        let lollipop = parse(&library("lidocaine-hcl-lollipop"), "x").unwrap();
        assert!(lollipop.mold.is_calibrated());
        let ketamine = parse(&library("ketamine-hcl-troche"), "x").unwrap();
        assert!(
            !ketamine.mold.is_calibrated(),
            "a derived blank is not calibrated"
        );
    }

    #[test]
    fn a_factor_marking_needs_a_factor_and_a_derived_blank_no_marking() {
        let text = library("progesterone-vaginal-suppository").replacen(
            "density_factor = \"1.3\"\n",
            "",
            1,
        );
        assert!(
            refused(&text)
                .contains("`active[1].factor_is`: describes a factor, but none is stated"),
            "{}",
            refused(&text)
        );
        let text = library("ketamine-hcl-troche").replacen(
            "blank_weight = \"0.975 g\"",
            "blank_weight = \"0.975 g\"\nblank_weight_is = \"estimated\"\nblank_weight_source = \"x\"",
            1,
        );
        assert!(refused(&text).contains("a derived blank is printed as derived"));
        let text = library("tadalafil-troche").replacen("blank_weight_is = \"nominal\"\n", "", 1);
        assert!(
            refused(&text).contains("`mold.blank_weight_source`: says where the value comes from")
        );
    }
}
