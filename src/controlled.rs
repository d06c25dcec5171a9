//! The federal schedules of the controlled substances troches, lozenges and suppositories are
//! made of, so that a formula cannot drop or lower an active's schedule and with it the
//! prescription checks, the controlled-substance record and the transfer warning. The table
//! holds single-entity substances as the Controlled Substances Act lists them in 21 CFR 1308;
//! a state may schedule more, which a pharmacist lists as a signed policy in the log and
//! [`check_state`] holds formulas to where a batch is entered. The list and its sources are in
//! docs/method.md.

use crate::error::{Error, Result};
use crate::formula::{Formula, Schedule, short_name};
use crate::logbook::policy::StateListing;

/// Where a substance stands federally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Scheduled: a formula must state at least this schedule.
    Scheduled(Schedule),
    /// In Schedule I as a bulk substance: no prescription can be compounded from it.
    ScheduleOne(&'static str),
}

/// One listed substance: the name it is found by in an ingredient's name, its control and the
/// section of 21 CFR 1308 that lists it.
#[derive(Debug, Clone, Copy)]
pub struct Substance {
    pub name: &'static str,
    pub control: Control,
    pub source: &'static str,
}

const fn scheduled(name: &'static str, s: Schedule, source: &'static str) -> Substance {
    Substance {
        name,
        control: Control::Scheduled(s),
        source,
    }
}

/// The substances, each found in an ingredient's name as a whole word or the start of one
/// ("testosterone" in "Testosterone cypionate, USP"); salts and esters take their parent's
/// schedule, as the schedules list them ("its salts, isomers and esters").
pub const SUBSTANCES: &[Substance] = &[
    scheduled("ketamine", Schedule::CIII, "21 CFR 1308.13(c)"),
    // Ketamine's listing covers its isomers.
    scheduled("esketamine", Schedule::CIII, "21 CFR 1308.13(c)"),
    scheduled("testosterone", Schedule::CIII, "21 CFR 1308.13(f)"),
    scheduled("methyltestosterone", Schedule::CIII, "21 CFR 1308.13(f)"),
    scheduled("nandrolone", Schedule::CIII, "21 CFR 1308.13(f)"),
    scheduled("oxandrolone", Schedule::CIII, "21 CFR 1308.13(f)"),
    scheduled("buprenorphine", Schedule::CIII, "21 CFR 1308.13(e)"),
    scheduled("methadone", Schedule::CII, "21 CFR 1308.12(c)"),
    scheduled("morphine", Schedule::CII, "21 CFR 1308.12(b)"),
    scheduled("hydromorphone", Schedule::CII, "21 CFR 1308.12(b)"),
    scheduled("oxycodone", Schedule::CII, "21 CFR 1308.12(b)"),
    scheduled("codeine", Schedule::CII, "21 CFR 1308.12(b)"),
    scheduled("hydrocodone", Schedule::CII, "21 CFR 1308.12(b)"),
    scheduled("fentanyl", Schedule::CII, "21 CFR 1308.12(c)"),
    scheduled("tramadol", Schedule::CIV, "21 CFR 1308.14(b)"),
    scheduled("diazepam", Schedule::CIV, "21 CFR 1308.14(c)"),
    scheduled("lorazepam", Schedule::CIV, "21 CFR 1308.14(c)"),
    scheduled("alprazolam", Schedule::CIV, "21 CFR 1308.14(c)"),
    scheduled("midazolam", Schedule::CIV, "21 CFR 1308.14(c)"),
    scheduled("phenobarbital", Schedule::CIV, "21 CFR 1308.14(c)"),
    Substance {
        name: "dronabinol",
        control: Control::ScheduleOne(
            "Schedule III lists dronabinol only in the FDA-approved capsule product \
             (21 CFR 1308.13(g)); as a bulk substance it is a tetrahydrocannabinol",
        ),
        source: "21 CFR 1308.11(d)",
    },
    Substance {
        name: "tetrahydrocannabinol",
        control: Control::ScheduleOne("tetrahydrocannabinols are in Schedule I"),
        source: "21 CFR 1308.11(d)",
    },
];

/// The listed substance an ingredient's name names, if any.
pub fn lookup(ingredient: &str) -> Option<&'static Substance> {
    let name = short_name(ingredient).to_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    SUBSTANCES
        .iter()
        .find(|s| words.iter().any(|w| w.starts_with(s.name)))
}

/// Why a formula's schedule for `ingredient` cannot stand, if it cannot: the substance is in
/// Schedule I as a bulk drug, or the formula states no schedule or a lower one than federal
/// law.
pub fn check(ingredient: &str, stated: Option<Schedule>) -> Option<String> {
    let s = lookup(ingredient)?;
    match s.control {
        Control::ScheduleOne(why) => Some(format!(
            "{ingredient} is in Schedule I as a bulk substance and cannot be compounded \
             ({why}; {})",
            s.source
        )),
        // Schedule II is the strictest here: a formula may be stricter than federal law (a
        // state's schedule), never laxer.
        Control::Scheduled(federal) => match stated {
            Some(st) if st <= federal => None,
            Some(st) => Some(format!(
                "{ingredient} is federally in {} ({}), but the formula states {}; write \
                 schedule = \"{}\" (or a stricter one a state requires)",
                federal.as_str(),
                s.source,
                st.as_str(),
                federal.as_str()
            )),
            None => Some(format!(
                "{ingredient} is a controlled substance, federally in {} ({}), but the \
                 formula states no schedule; add schedule = \"{}\" to this active",
                federal.as_str(),
                s.source,
                federal.as_str()
            )),
        },
    }
}

/// Whether `substance` (one lower-case word, as a state listing holds it) is named by an
/// ingredient's name, matched as the federal table is.
pub fn names(ingredient: &str, substance: &str) -> bool {
    short_name(ingredient)
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.starts_with(substance))
}

/// Why a formula cannot stand against the substances the pharmacy's state lists (a signed
/// policy in the log), if it cannot: an active the state lists whose schedule the formula
/// leaves out or states laxer. Checked where a batch is entered, in its transaction.
pub fn check_state(formula: &Formula, listings: &[StateListing]) -> Result<()> {
    for active in &formula.actives {
        let Some(l) = listings.iter().find(|l| names(&active.name, &l.substance)) else {
            continue;
        };
        let stated = match active.schedule {
            Some(st) if st <= l.schedule => continue,
            Some(st) => format!("states {}", st.as_str()),
            None => "states no schedule".to_string(),
        };
        return Err(Error::Input {
            file: formula.origin.clone(),
            line: None,
            key: None,
            message: format!(
                "{} is in {} in this pharmacy's state (policy {} = {}, set by {} at {}), but \
                 formula {} version {} {stated} for it; add schedule = \"{}\" to this active \
                 and raise the version, or ask a pharmacist to change the policy",
                active.name,
                l.schedule.as_str(),
                l.policy_name(),
                l.schedule.as_str(),
                l.set_by,
                l.at,
                formula.id,
                formula.version,
                l.schedule.as_str()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_salts_and_esters_by_their_parent() {
        let sched = |n: &str| lookup(n).map(|s| s.control);
        assert_eq!(
            sched("Ketamine hydrochloride, USP"),
            Some(Control::Scheduled(Schedule::CIII))
        );
        assert_eq!(
            sched("Testosterone cypionate"),
            Some(Control::Scheduled(Schedule::CIII))
        );
        assert_eq!(
            sched("Morphine sulfate pentahydrate"),
            Some(Control::Scheduled(Schedule::CII))
        );
        // Names that merely contain a listed one are not it.
        assert_eq!(sched("Hydromorphone HCl").map(|_| ()), Some(()));
        assert!(lookup("Progesterone, USP (micronized)").is_none());
        assert!(lookup("Estradiol hemihydrate").is_none());
        assert!(matches!(sched("Dronabinol"), Some(Control::ScheduleOne(_))));
    }

    #[test]
    fn a_formula_may_be_stricter_never_laxer() {
        assert!(check("Ketamine hydrochloride", Some(Schedule::CIII)).is_none());
        assert!(check("Ketamine hydrochloride", Some(Schedule::CII)).is_none());
        assert!(check("Ketamine hydrochloride", Some(Schedule::CIV)).is_some());
        assert!(check("Ketamine hydrochloride", None).is_some());
        assert!(check("Oxycodone HCl", Some(Schedule::CIII)).is_some());
        assert!(check("Dronabinol", Some(Schedule::CIII)).is_some());
        assert!(check("Sildenafil citrate", None).is_none());
    }
}
