//! The label's text: the record's and the pharmacy's fields gathered once, and prepared as
//! words ready to wrap at every size the layout tries.

use crate::batch_record::{FEDERAL_TRANSFER_WARNING, Record};
use crate::config::Pharmacy;
use crate::render::text::{BLANK, Run, Words, bold, date, or_blank, regular, strength_runs};

use super::{INITIALS, SEE_AUX};

/// The label's text, gathered once so that every size tried lays out the same words.
pub(super) struct Content {
    pub(super) pharmacy_name: String,
    pub(super) pharmacy_address: String,
    pub(super) pharmacy_phone: String,
    pub(super) pharmacy_contact: String,
    pub(super) rx: String,
    pub(super) filled: String,
    pub(super) patient: Option<String>,
    pub(super) prescriber: String,
    pub(super) strengths: Vec<String>,
    /// "30 troches (buccal)": the count with the dosage form and route.
    pub(super) quantity: String,
    pub(super) directions: String,
    pub(super) description: String,
    pub(super) bud: String,
    pub(super) lot: String,
    pub(super) storage: String,
    pub(super) refills: String,
    pub(super) warnings: Vec<String>,
    pub(super) federal: bool,
}

impl Content {
    pub(super) fn new(record: &Record, pharmacy: &Pharmacy) -> Self {
        let order = &record.order;
        let mut strengths = record.strength_lines();
        if strengths.is_empty() {
            strengths.push(record.formula.name.clone());
        }
        let units = record.calc.units_dispensed;
        let form = record.formula.dosage_form.trim();
        let form = if units == 1 {
            form.to_owned()
        } else {
            plural(form)
        };
        let route = record.formula.route.trim();
        let quantity = match (form.is_empty(), route.is_empty()) {
            (false, false) => format!("{units} {form} ({route})"),
            (false, true) => format!("{units} {form}"),
            (true, false) => format!("{units} ({route})"),
            (true, true) => units.to_string(),
        };
        let contact = [pharmacy.address.trim(), pharmacy.phone.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>();
        let contact = match contact.as_slice() {
            [] => String::new(),
            [one] if *one == pharmacy.phone.trim() => format!("Phone {one}"),
            [one] => (*one).to_owned(),
            [address, phone, ..] => format!("{address} · {phone}"),
        };
        Content {
            pharmacy_name: pharmacy.name.trim().to_owned(),
            pharmacy_address: pharmacy.address.trim().to_owned(),
            pharmacy_phone: pharmacy.phone.trim().to_owned(),
            pharmacy_contact: contact,
            rx: or_blank(order.rx.as_deref()),
            filled: date(record.date),
            patient: order
                .patient
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            prescriber: or_blank(order.prescriber.as_deref()),
            strengths,
            quantity,
            directions: record.directions.trim().to_owned(),
            description: record.formula.description.trim().to_owned(),
            bud: date(record.bud.date),
            lot: record.lot.clone(),
            storage: record.formula.bud.storage.trim().to_owned(),
            refills: order
                .refills
                .map_or_else(|| BLANK.to_owned(), |r| r.to_string()),
            warnings: record
                .formula
                .label
                .warnings
                .iter()
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect(),
            federal: record.needs_transfer_warning(),
        }
    }

    /// The patient as the heading of an auxiliary label names them.
    pub(super) fn patient_or_blank(&self) -> &str {
        self.patient.as_deref().unwrap_or(BLANK)
    }
}

/// The plural of a dosage form: "troches", "suppositories", "rapid-dissolve tablets".
fn plural(form: &str) -> String {
    let consonant_y = form.strip_suffix('y').filter(|stem| {
        stem.chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphabetic() && !"aeiouAEIOU".contains(c))
    });
    match consonant_y {
        _ if form.is_empty() => String::new(),
        Some(stem) => format!("{stem}ies"),
        None if form.ends_with('s') || form.ends_with('x') || form.ends_with("ch") => {
            format!("{form}es")
        }
        None => format!("{form}s"),
    }
}

/// The label's paragraphs and field groups as words ready to wrap, prepared once for all
/// the sizes [`label_layout`] tries.
pub(super) struct Prepared {
    /// The pharmacy's name, address and phone on one line; when they do not fit on one,
    /// the name and address, and the phone starting a line of its own so it never breaks.
    pub(super) pharmacy: [Words; 3],
    pub(super) patient: Words,
    pub(super) strengths: Vec<Words>,
    pub(super) directions: Words,
    /// Short fields, in order: beside the key fields where there is room, the rest packed
    /// onto as few lines as they fit.
    pub(super) details: Vec<(&'static str, Words)>,
    /// "Do not use after ...", in bold.
    pub(super) bud: Words,
    /// The storage conditions word by word: they run on from the beyond-use date's line.
    pub(super) storage: Vec<String>,
    pub(super) description: Option<Words>,
    pub(super) warnings: Vec<Words>,
    /// The federal transfer warning alone, and with each pointer run on after it.
    pub(super) federal: Option<[Words; 3]>,
    /// The main label's pointer to the auxiliary labels: when the description moved, and
    /// when only warnings did.
    pub(super) see_aux: [Words; 2],
}

impl Prepared {
    pub(super) fn new(content: &Content) -> Self {
        let pair = |label: &str, value: &str| Words::new(&[bold(label), regular(value)]);
        let name = bold(content.pharmacy_name.as_str());
        let dotted = |s: &str| (!s.is_empty()).then(|| regular(format!("· {s}")));
        let full: Vec<Run> = std::iter::once(name.clone())
            .chain(dotted(&content.pharmacy_contact))
            .collect();
        let address: Vec<Run> = std::iter::once(name)
            .chain(dotted(&content.pharmacy_address))
            .collect();
        let phone = if content.pharmacy_phone.is_empty() {
            Vec::new()
        } else {
            vec![regular(format!("Phone {}", content.pharmacy_phone))]
        };
        Prepared {
            pharmacy: [Words::new(&full), Words::new(&address), Words::new(&phone)],
            patient: match &content.patient {
                Some(p) => Words::new(&[bold(p.as_str())]),
                None => pair("Patient:", BLANK),
            },
            strengths: content
                .strengths
                .iter()
                .map(|s| Words::new(&strength_runs(s)))
                .collect(),
            directions: if content.directions.is_empty() {
                pair("Directions:", BLANK)
            } else {
                Words::new(&[regular(content.directions.as_str())])
            },
            details: vec![
                ("Rx number", pair("Rx:", &content.rx)),
                ("date filled", pair("Filled:", &content.filled)),
                ("quantity", pair("Qty:", &content.quantity)),
                ("refills", pair("Refills:", &content.refills)),
                ("prescriber", pair("Prescriber:", &content.prescriber)),
                ("lot", pair("Lot:", &content.lot)),
                ("pharmacist's initials", pair("RPh:", INITIALS)),
                (
                    "\"Compounded preparation\"",
                    Words::new(&[bold("Compounded preparation")]),
                ),
            ],
            bud: Words::new(&[bold(format!("Do not use after {}.", content.bud))]),
            storage: content
                .storage
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            description: (!content.description.is_empty())
                .then(|| pair("Description:", &content.description)),
            warnings: content
                .warnings
                .iter()
                .map(|w| Words::new(&[bold("•"), regular(w.as_str())]))
                .collect(),
            federal: content
                .federal
                .then(|| SEE_AUX.map(|s| Words::new(&[bold(FEDERAL_TRANSFER_WARNING), bold(s)]))),
            see_aux: [SEE_AUX[1], SEE_AUX[2]].map(|s| Words::new(&[bold(s)])),
        }
    }
}
