//! A formula file as read: structs that keep each value's place in the file, and the keys
//! checked before it is read (see [`crate::input::toml`]).

use serde::Deserialize;
use toml::Spanned;

use crate::input::toml::{Field, Kind, Num, opt, req};

/// The keys of a formula file, checked before it is read (see [`crate::input::toml`]); the
/// same keys as the raw structs below (a test holds them together).
const DISPLACEMENT: [Field; 2] = [
    opt("replacement_factor", Kind::Num),
    opt("density_factor", Kind::Num),
];
const DERIVED_INGREDIENT_KEYS: &[Field] = &[
    req("name", Kind::Text),
    req("amount", Kind::Num),
    opt("density", Kind::Num),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
];
const DERIVED_KEYS: &[Field] = &[
    req("from", Kind::Text),
    req("units", Kind::Num),
    req("base", Kind::Num),
    opt("ingredient", Kind::Tables(DERIVED_INGREDIENT_KEYS)),
];
const MOLD_KEYS: &[Field] = &[
    req("name", Kind::Text),
    req("cavities", Kind::Num),
    req("blank_weight", Kind::Num),
    opt("derived", Kind::Table(DERIVED_KEYS)),
    opt("blank_weight_is", Kind::Text),
    opt("blank_weight_source", Kind::Text),
];
const BASE_KEYS: &[Field] = &[
    req("name", Kind::Text),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
    opt("factor_is", Kind::Text),
    opt("factor_source", Kind::Text),
    opt(
        "component",
        Kind::Tables(&[req("name", Kind::Text), req("percent", Kind::Num)]),
    ),
];
const ACTIVE_KEYS: &[Field] = &[
    req("name", Kind::Text),
    req("mw", Kind::Num),
    opt("moiety", Kind::Text),
    opt("moiety_mw", Kind::Num),
    opt("schedule", Kind::Text),
    opt("max_strength", Kind::Num),
    opt("default_strength", Kind::Num),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
    opt("factor_is", Kind::Text),
    opt("factor_source", Kind::Text),
    opt("label_basis", Kind::Text),
    opt("assay_min", Kind::Num),
    opt("assay_max", Kind::Num),
    opt("assay_basis", Kind::Text),
    opt("usual_strength", Kind::TextList),
    opt("form", Kind::Text),
    opt(
        "accepts_forms",
        Kind::Tables(&[req("form", Kind::Text), req("mw", Kind::Num)]),
    ),
];
const EXCIPIENT_KEYS: &[Field] = &[
    req("name", Kind::Text),
    opt("per_unit", Kind::Num),
    opt("percent_of_blank", Kind::Num),
    opt("density", Kind::Num),
    DISPLACEMENT[0],
    DISPLACEMENT[1],
    opt("factor_is", Kind::Text),
    opt("factor_source", Kind::Text),
];
const BUD_KEYS: &[Field] = &[
    req("category", Kind::Text),
    req("storage", Kind::Text),
    opt("days", Kind::Num),
    opt("reference", Kind::Text),
    opt("container", Kind::Text),
];
const LABEL_KEYS: &[Field] = &[
    req("directions", Kind::Text),
    opt("warnings", Kind::TextList),
];
const PROCEDURE_KEYS: &[Field] = &[
    opt("equipment", Kind::TextList),
    opt("steps", Kind::TextList),
];
const ALIQUOT_KEYS: &[Field] = &[req("diluent", Kind::Text), DISPLACEMENT[0], DISPLACEMENT[1]];
pub(crate) const KEYS: &[Field] = &[
    req("id", Kind::Text),
    req("name", Kind::Text),
    req("dosage_form", Kind::Text),
    req("route", Kind::Text),
    req("version", Kind::Num),
    req("description", Kind::Text),
    opt("change_note", Kind::Text),
    opt("kind", Kind::Text),
    opt("ratio", Kind::Text),
    opt("usual_quantity", Kind::Num),
    req("mold", Kind::Table(MOLD_KEYS)),
    req("base", Kind::Table(BASE_KEYS)),
    opt("active", Kind::Tables(ACTIVE_KEYS)),
    opt("excipient", Kind::Tables(EXCIPIENT_KEYS)),
    req("bud", Kind::Table(BUD_KEYS)),
    req("label", Kind::Table(LABEL_KEYS)),
    req("procedure", Kind::Table(PROCEDURE_KEYS)),
    opt(
        "qc",
        Kind::Table(&[
            opt("weight_tolerance_percent", Kind::Num),
            opt("active_weighing_tolerance_percent", Kind::Num),
            opt("weighing_tolerance_percent", Kind::Num),
            opt("unit_weight_sample", Kind::Num),
            opt("unit_weight_rsd_percent", Kind::Num),
            opt("minimum_yield_percent", Kind::Num),
        ]),
    ),
    opt("aliquot", Kind::Table(ALIQUOT_KEYS)),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFormula {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) dosage_form: Spanned<String>,
    pub(super) route: Spanned<String>,
    pub(super) version: Num,
    pub(super) description: Spanned<String>,
    pub(super) change_note: Option<Spanned<String>>,
    pub(super) kind: Option<Spanned<String>>,
    pub(super) ratio: Option<Spanned<String>>,
    pub(super) usual_quantity: Option<Num>,
    pub(super) mold: RawMold,
    pub(super) base: RawBase,
    #[serde(default)]
    pub(super) active: Vec<Spanned<RawActive>>,
    #[serde(default)]
    pub(super) excipient: Vec<Spanned<RawExcipient>>,
    pub(super) bud: RawBud,
    pub(super) label: RawLabel,
    pub(super) procedure: RawProcedure,
    pub(super) qc: Option<RawQc>,
    pub(super) aliquot: Option<RawAliquot>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAliquot {
    pub(super) diluent: Spanned<String>,
    pub(super) replacement_factor: Option<Num>,
    pub(super) density_factor: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDerived {
    pub(super) from: Spanned<String>,
    pub(super) units: Num,
    pub(super) base: Num,
    #[serde(default)]
    pub(super) ingredient: Vec<Spanned<RawDerivedIngredient>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDerivedIngredient {
    pub(super) name: Spanned<String>,
    pub(super) amount: Num,
    pub(super) density: Option<Num>,
    pub(super) replacement_factor: Option<Num>,
    pub(super) density_factor: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBaseComponent {
    pub(super) name: Spanned<String>,
    pub(super) percent: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMold {
    pub(super) name: Spanned<String>,
    pub(super) cavities: Num,
    pub(super) blank_weight: Num,
    pub(super) derived: Option<RawDerived>,
    pub(super) blank_weight_is: Option<Spanned<String>>,
    pub(super) blank_weight_source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBase {
    pub(super) name: Spanned<String>,
    pub(super) replacement_factor: Option<Num>,
    pub(super) density_factor: Option<Num>,
    pub(super) factor_is: Option<Spanned<String>>,
    pub(super) factor_source: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) component: Vec<Spanned<RawBaseComponent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActive {
    pub(super) name: Spanned<String>,
    pub(super) mw: Num,
    pub(super) moiety: Option<Spanned<String>>,
    pub(super) moiety_mw: Option<Num>,
    pub(super) schedule: Option<Spanned<String>>,
    pub(super) max_strength: Option<Num>,
    pub(super) default_strength: Option<Num>,
    pub(super) replacement_factor: Option<Num>,
    pub(super) density_factor: Option<Num>,
    pub(super) factor_is: Option<Spanned<String>>,
    pub(super) factor_source: Option<Spanned<String>>,
    pub(super) label_basis: Option<Spanned<String>>,
    pub(super) assay_min: Option<Num>,
    pub(super) assay_max: Option<Num>,
    pub(super) assay_basis: Option<Spanned<String>>,
    pub(super) usual_strength: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) form: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) accepts_forms: Vec<Spanned<RawAcceptedForm>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAcceptedForm {
    pub(super) form: Spanned<String>,
    pub(super) mw: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExcipient {
    pub(super) name: Spanned<String>,
    pub(super) per_unit: Option<Num>,
    pub(super) percent_of_blank: Option<Num>,
    pub(super) density: Option<Num>,
    pub(super) replacement_factor: Option<Num>,
    pub(super) density_factor: Option<Num>,
    pub(super) factor_is: Option<Spanned<String>>,
    pub(super) factor_source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBud {
    pub(super) category: Spanned<String>,
    pub(super) storage: Spanned<String>,
    pub(super) days: Option<Num>,
    pub(super) reference: Option<Spanned<String>>,
    pub(super) container: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLabel {
    pub(super) directions: Spanned<String>,
    #[serde(default)]
    pub(super) warnings: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProcedure {
    #[serde(default)]
    pub(super) equipment: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) steps: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQc {
    pub(super) weight_tolerance_percent: Option<Num>,
    pub(super) active_weighing_tolerance_percent: Option<Num>,
    pub(super) weighing_tolerance_percent: Option<Num>,
    pub(super) unit_weight_sample: Option<Num>,
    pub(super) unit_weight_rsd_percent: Option<Num>,
    pub(super) minimum_yield_percent: Option<Num>,
}

/// Checks each of the formula's key lists against its raw struct (see `source`'s tests).
#[cfg(test)]
pub(crate) fn check_key_lists(table: impl Fn(&'static [Field], &str) -> &'static [Field]) {
    use crate::input::toml::serde_fields;
    let names = |f: &[Field]| f.iter().map(|f| f.name).collect::<Vec<_>>();
    let mold = table(KEYS, "mold");
    let base = table(KEYS, "base");
    let derived = table(mold, "derived");
    for (fields, serde) in [
        (KEYS, serde_fields::<RawFormula>()),
        (mold, serde_fields::<RawMold>()),
        (derived, serde_fields::<RawDerived>()),
        (
            table(derived, "ingredient"),
            serde_fields::<RawDerivedIngredient>(),
        ),
        (base, serde_fields::<RawBase>()),
        (table(base, "component"), serde_fields::<RawBaseComponent>()),
        (table(KEYS, "active"), serde_fields::<RawActive>()),
        (
            table(table(KEYS, "active"), "accepts_forms"),
            serde_fields::<RawAcceptedForm>(),
        ),
        (table(KEYS, "excipient"), serde_fields::<RawExcipient>()),
        (table(KEYS, "bud"), serde_fields::<RawBud>()),
        (table(KEYS, "label"), serde_fields::<RawLabel>()),
        (table(KEYS, "procedure"), serde_fields::<RawProcedure>()),
        (table(KEYS, "qc"), serde_fields::<RawQc>()),
        (table(KEYS, "aliquot"), serde_fields::<RawAliquot>()),
    ] {
        assert_eq!(names(fields), serde);
    }
}
