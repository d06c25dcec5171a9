//! The beyond-use date rule: a USP <795> category, and days that may only shorten it.

use crate::bud::BudCategory;
use crate::formula::BudRule;
use crate::formula::raw::RawBud;
use crate::input::toml::Source;
use crate::quantity;

pub(super) fn bud(src: &mut Source, raw: &RawBud) -> Option<BudRule> {
    let category = BudCategory::parse(raw.category.get_ref());
    if category.is_none() {
        src.push(
            Some(raw.category.span()),
            "bud.category",
            format!(
                "unknown category {}; allowed: {} (PEG and fat-based troches, lozenges and \
                 suppositories are nonaqueous)",
                quantity::echo(raw.category.get_ref()),
                BudCategory::ALLOWED
            ),
        );
    }
    let storage = src.text(&raw.storage, "bud.storage");
    let days = match (&raw.days, category) {
        (Some(d), Some(c)) => match src.whole(d, "bud.days") {
            Some(v) if v > i64::from(c.max_days()) => {
                src.push(
                    Some(d.span()),
                    "bud.days",
                    format!(
                        "{v} days is longer than USP <795> allows for the \"{}\" category ({} \
                         days); a formula may only shorten it",
                        c.key(),
                        c.max_days()
                    ),
                );
                None
            }
            Some(_) => src.count(d, "bud.days", 1, i64::from(c.max_days())),
            None => None,
        },
        (None, Some(c)) => Some(c.max_days()),
        _ => None,
    };
    let reference = raw.reference.as_ref().map_or_else(
        || {
            category
                .map(|c| c.reference().to_string())
                .unwrap_or_default()
        },
        |r| src.text(r, "bud.reference"),
    );
    let container = raw.container.as_ref().map(|c| src.text(c, "bud.container"));
    Some(BudRule {
        category: category?,
        storage,
        days: days?,
        reference,
        container,
    })
}
