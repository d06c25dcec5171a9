//! The master formulation record (`troche show ID --pdf`): the formula as approved, printed
//! for the binder an inspector reads, on the worksheet's page flow. It names the text it
//! prints by id, version and SHA-256, and says who approved that text and when, or that no
//! one has.

use crate::config::Paper;
use crate::error::{Error, Result};
use crate::formula::{Active, Displacement, ExcipientAmount, Formula, Stated};
use crate::quantity::show;
use crate::render::DocMeta;
use crate::render::metrics::Font;

use super::flow::Sheet;
use super::{BODY, LEAD, bold, regular, schedule_name};

/// Who approved the text printed, as the log says.
pub struct Approved<'a> {
    /// "RP" and when, or `None`: NOT APPROVED.
    pub by_at: Option<(&'a str, &'a str)>,
    /// Why it is not approved, when there is more to say than that no one approved it (the
    /// log knows another text under its id and version).
    pub why_not: Option<&'a str>,
}

/// Renders the master formulation record of `formula`.
///
/// # Errors
///
/// `Error::Render` if the PDF cannot be written.
pub fn master_record(formula: &Formula, approved: &Approved<'_>, paper: Paper) -> Result<Vec<u8>> {
    let (width, height) = paper.size_pt();
    let mut sheet = Sheet::new(
        (width, height),
        format!(
            "{} — master formulation record, version {} (continued)",
            formula.name, formula.version
        ),
    );
    identity(&mut sheet, formula, approved);
    ingredients(&mut sheet, formula);
    rules(&mut sheet, formula);
    procedure(&mut sheet, formula);
    let notes = sources(formula.text.as_str());
    if !notes.is_empty() {
        sheet.heading("Sources and notes (the formula's comments)", 30.0);
        let (left, w) = (sheet.left, sheet.width());
        for note in notes {
            sheet.para(left, w, 8.0, 10.0, &[regular(note)]);
        }
    }
    sheet.heading("Approval", 60.0);
    match approved.by_at {
        Some((by, at)) => line(
            &mut sheet,
            "Approved by",
            &format!("{by} at {at}, signed in the log"),
        ),
        None => line(
            &mut sheet,
            "Approval",
            "NOT APPROVED in this log: troche formula approve",
        ),
    }
    let canvas = sheet.finish(&footer(formula));
    let meta = DocMeta {
        title: format!(
            "Master formulation record {} version {} — {}",
            formula.id, formula.version, formula.name
        ),
        subject: Some(format!("SHA-256 {}", formula.text.sha256())),
        author: None,
        date: date_of(approved.by_at.map(|(_, at)| at)),
        document_id: format!(
            "troche/{}/{}/{}/master",
            formula.id,
            formula.version,
            formula.text.sha256()
        ),
    };
    canvas.into_pdf(&meta).map_err(Error::Render)
}

/// A caption and its value, wrapped to the width.
fn line(sheet: &mut Sheet, caption: &str, value: &str) {
    let (left, width) = (sheet.left, sheet.width());
    sheet.para(
        left,
        width,
        BODY,
        LEAD,
        &[bold(format!("{caption}: ")), regular(value)],
    );
}

/// Which text this is, and whether it may be compounded.
fn identity(sheet: &mut Sheet, formula: &Formula, approved: &Approved<'_>) {
    let (left, top) = (sheet.left, sheet.y);
    sheet.text(
        left,
        top + 14.0,
        Font::HelveticaBold,
        15.0,
        "Master formulation record",
    );
    sheet.y += 24.0;
    line(sheet, "Preparation", &formula.name);
    line(
        sheet,
        "Formula",
        &format!("{} version {}", formula.id, formula.version),
    );
    line(sheet, "SHA-256 of the text", formula.text.sha256());
    line(
        sheet,
        "Dosage form and route",
        &format!("{}, {}", formula.dosage_form, formula.route),
    );
    if let Some((by, at)) = approved.by_at {
        line(sheet, "Approved", &format!("by {by} at {at}"));
    } else {
        let width = sheet.width();
        sheet.para(
            left,
            width,
            12.0,
            16.0,
            &[bold(
                "NOT APPROVED: not to be compounded until a pharmacist approves it",
            )],
        );
        if let Some(why) = approved.why_not {
            line(sheet, "Why", why);
        }
    }
    if let Some(note) = &formula.change_note {
        line(sheet, "Change from the previous version", note);
    }
    if !formula.description.is_empty() {
        sheet.gap(4.0);
        let width = sheet.width();
        sheet.para(
            left,
            width,
            BODY,
            LEAD,
            &[regular(formula.description.clone())],
        );
    }
}

fn ingredients(sheet: &mut Sheet, formula: &Formula) {
    sheet.heading("Ingredients, per unit", 40.0);
    let mold = &formula.mold;
    let blank = show(mold.blank_weight);
    let blank = match &mold.blank_weight_is {
        Some(st) => format!("{blank} g ({})", stated(st)),
        None if mold.derived.is_some() => {
            format!("{blank} g (derived from a published blank formula)")
        }
        None => format!("{blank} g (calibrated)"),
    };
    line(
        sheet,
        "Mold",
        &format!(
            "{}, {} cavities, blank weight {blank}",
            mold.name, mold.cavities
        ),
    );
    line(sheet, "Base", &formula.base.name);
    for c in &formula.base.components {
        bullet(sheet, &format!("{} {} % by mass", c.name, show(c.percent)));
    }
    for active in &formula.actives {
        bullet(sheet, &active_line(active));
    }
    for e in &formula.excipients {
        let amount = match &e.amount {
            ExcipientAmount::PerUnit(q) => format!("{q}"),
            ExcipientAmount::PercentOfBlank(p) => format!("{} % of the blank weight", show(*p)),
        };
        let factor = e
            .displacement
            .as_ref()
            .map(|d| format!("; {}", factor(d)))
            .unwrap_or_default();
        bullet(sheet, &format!("{}: {amount}{factor}", e.name));
    }
    if let Some(ratio) = &formula.ratio {
        let parts: Vec<String> = ratio.iter().map(|v| show(*v)).collect();
        line(sheet, "Fixed ratio of the actives", &parts.join(":"));
    }
}

fn active_line(active: &Active) -> String {
    let mut name = format!("Active: {} (MW {})", active.name, show(active.mw));
    if let Some(mo) = &active.moiety {
        name = format!("{name}, as {} (MW {})", mo.name, show(mo.mw));
    }
    let mut parts = vec![name];
    parts.extend(active.schedule.map(|sc| schedule_name(sc).to_string()));
    parts.extend(
        active
            .usual_strength
            .map(|(low, high)| format!("usual strength {low} to {high}")),
    );
    parts.extend(active.max_strength.map(|most| format!("maximum {most}")));
    if let Some(d) = &active.displacement {
        let how = active
            .factor_is
            .as_ref()
            .map(|st| format!(" ({})", stated(st)))
            .unwrap_or_default();
        parts.push(format!("{}{how}", factor(d)));
    }
    parts.push(format!(
        "assay {} to {} %",
        show(active.assay_range.0),
        show(active.assay_range.1)
    ));
    parts.join("; ")
}

/// Tolerances, the beyond-use date and storage.
fn rules(sheet: &mut Sheet, formula: &Formula) {
    sheet.heading("Tolerances", 30.0);
    line(
        sheet,
        "Unit weight",
        &format!(
            "each unit within {} % of the target weight",
            show(formula.weight_tolerance_percent)
        ),
    );
    sheet.heading("Beyond-use date and storage", 30.0);
    let bud = &formula.bud;
    line(sheet, "Category", bud.category.key());
    line(
        sheet,
        "Beyond-use date",
        &format!("{} days after compounding ({})", bud.days, bud.reference),
    );
    line(sheet, "Storage", &bud.storage);
    if let Some(c) = &bud.container {
        line(sheet, "Container", c);
    }
}

/// Equipment, the steps as written (placeholders are filled per batch on the worksheet) and
/// the label's text.
fn procedure(sheet: &mut Sheet, formula: &Formula) {
    if !formula.procedure.equipment.is_empty() {
        sheet.heading("Equipment", 30.0);
        for e in &formula.procedure.equipment {
            bullet(sheet, e);
        }
    }
    sheet.heading("Procedure", 30.0);
    for (i, step) in formula.procedure.steps.iter().enumerate() {
        let number = format!("{}.", i + 1);
        sheet.hanging(
            move |sheet, baseline| {
                let x = sheet.left;
                sheet.text(x, baseline, Font::HelveticaBold, BODY, &number);
            },
            18.0,
            &[regular(step.clone())],
        );
    }
    sheet.heading("Label", 30.0);
    line(sheet, "Directions", &formula.label.directions);
    for warning in &formula.label.warnings {
        bullet(sheet, warning);
    }
}

/// The footer of every page: the formula, its version and the start of its SHA-256.
fn footer(formula: &Formula) -> String {
    format!(
        "Master formulation record {} version {} · SHA-256 {}",
        formula.id,
        formula.version,
        formula.text.sha256().get(..16).unwrap_or_default()
    )
}

fn bullet(s: &mut Sheet, text: &str) {
    s.hanging(
        |s, b| {
            let x = s.left + 4.0;
            s.text(x, b, Font::Helvetica, BODY, "•");
        },
        14.0,
        &[regular(text)],
    );
}

fn factor(d: &Displacement) -> String {
    match d {
        Displacement::Replacement(f) => format!("replacement factor {}", show(*f)),
        Displacement::Density(f) => format!("density factor {}", show(*f)),
    }
}

fn stated(st: &Stated) -> String {
    format!("{}: {}", st.is.as_str(), st.source)
}

/// The date of an RFC 3339 time ("2026-12-05T18:40:27Z"), for the document's metadata; a
/// record not approved is dated by nothing that changes, so its bytes do not either.
fn date_of(at: Option<&str>) -> (i32, u8, u8) {
    at.and_then(|a| a.get(..10))
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .map_or((2000, 1, 1), |d| {
            (
                i32::from(d.year()),
                d.month().unsigned_abs(),
                d.day().unsigned_abs(),
            )
        })
}

/// The comment lines at the top of the formula's text, before its first key: the sources,
/// what was checked, what was adapted and what is uncertain.
fn sources(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .map(|l| {
            l.trim_start()
                .trim_start_matches('#')
                .trim_end()
                .to_string()
        })
        .skip_while(String::is_empty)
        .collect()
}
