//! The master formulation record: what a preparation is made of, read from TOML.
//!
//! Loading is two steps. The file is read into raw structs that keep each value's place in the
//! source (`raw`, checked by [`crate::input::toml`], which also reports every key that is unknown,
//! missing or of the wrong kind). Validation (`validate`) then turns the raw structs into the
//! model (`model`) and collects every problem rather than stopping at the first, so
//! `troche check` can list them. The formula keeps the text it was parsed from (`text`).

mod model;
pub mod names;
mod raw;
pub mod steps;
mod text;
mod validate;

use crate::error::{Error, Result};
use crate::input::toml::Source;
// The input layer's helpers, where the loaders of other formats have long imported them.
pub(crate) use crate::input::toml::{count_newlines, is_empty_toml, strip_bom};

pub use self::model::{
    Active, AssayBasis, Base, BaseComponent, BudRule, DEFAULT_ASSAY_RANGE, DEFAULT_DILUENT,
    DerivedBlank, DerivedIngredient, Diluent, Displacement, Excipient, ExcipientAmount, Formula,
    FormulaKind, LabelText, Moiety, Mold, Procedure, Qc, Schedule, Stated, Unmeasured,
    name_matches, short_name,
};
pub(crate) use self::raw::KEYS;
#[cfg(test)]
pub(crate) use self::raw::check_key_lists;
pub use self::text::SourceText;

use self::raw::RawFormula;
use self::validate::validate;

/// Parses and validates a formula. `file` names the source in messages.
pub fn parse(text: &str, file: &str) -> Result<Formula> {
    let source = SourceText::new(text);
    let text = strip_bom(text);
    if is_empty_toml(text) {
        return Err(Error::Input {
            file: file.to_string(),
            line: None,
            key: None,
            message: "holds no formula: the file is empty or has only comments. A formula needs \
                      id, name, dosage_form, route, version, description and the tables [mold], \
                      [base], [[active]], [bud], [label] and [procedure] \
                      (see docs/formula-format.md)"
                .into(),
        });
    }
    let mut src = Source::new(text, file);
    let formula = src
        .read::<RawFormula>(KEYS)?
        .and_then(|raw| validate(&mut src, &raw, source));
    src.finish()?;
    formula.ok_or_else(|| Error::calc("formula invalid"))
}
