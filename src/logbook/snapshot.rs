//! What a batch was made with, as the log keeps it: the order and the settings, each as one
//! snapshot type that both writes the stored JSON ([`OrderSnapshot::of`],
//! [`SettingsSnapshot::of`]) and reads it back into the model ([`OrderSnapshot::order`],
//! [`SettingsSnapshot::settings`]), so a batch's paperwork can be made again byte for byte.
//!
//! The model's own types are not serialized: the stored JSON is the log's format, which must
//! read the same years later whatever the model's fields become, and every value in it is
//! kept as the text the order file and flags accept (parsed back by the same parsers).

use serde::{Deserialize, Serialize};

use crate::config::{LabelSize, MoldId, Paper, Pharmacy, Settings};
use crate::error::{Error, Result};
use crate::order::{self, Order, Preparation};

/// The settings a batch was made with, so its paperwork can be made again byte for byte.
#[derive(Serialize, Deserialize, Default)]
pub struct SettingsSnapshot {
    pharmacy: Option<(String, String, String)>,
    balance_id: Option<String>,
    readability: String,
    volume_readability: String,
    sensitivity: String,
    acceptable_error_percent: String,
    minimum_weight: Option<String>,
    paper: String,
    label: (f32, f32),
    diluent: Option<String>,
    molds: Vec<(String, String)>,
}

impl SettingsSnapshot {
    pub fn of(s: &Settings) -> SettingsSnapshot {
        let b = &s.balance;
        SettingsSnapshot {
            pharmacy: s
                .pharmacy
                .as_ref()
                .map(|p| (p.name.clone(), p.address.clone(), p.phone.clone())),
            balance_id: b.id.clone(),
            readability: b.readability.to_string(),
            volume_readability: b.volume_readability.to_string(),
            sensitivity: b.sensitivity.to_string(),
            acceptable_error_percent: b.acceptable_error_percent.to_string(),
            minimum_weight: b.minimum_weight.map(|d| d.to_string()),
            paper: match s.paper {
                Paper::Letter => "letter".into(),
                Paper::A4 => "a4".into(),
            },
            label: (s.label.width_pt, s.label.height_pt),
            diluent: s.diluent.clone(),
            molds: s
                .molds
                .iter()
                .map(|m| (m.id.clone(), m.name.clone()))
                .collect(),
        }
    }

    pub fn settings(&self) -> Result<Settings> {
        let dec = |s: &str| {
            s.parse::<rust_decimal::Decimal>()
                .map_err(|e| Error::database(format!("a stored setting {s:?} is unreadable"), e))
        };
        let mut s = Settings {
            origin: "the compounding log".into(),
            ..Settings::default()
        };
        s.pharmacy = self.pharmacy.as_ref().map(|(n, a, p)| Pharmacy {
            name: n.clone(),
            address: a.clone(),
            phone: p.clone(),
        });
        s.balance.id.clone_from(&self.balance_id);
        s.balance.readability = dec(&self.readability)?;
        s.balance.volume_readability = dec(&self.volume_readability)?;
        s.balance.sensitivity = dec(&self.sensitivity)?;
        s.balance.acceptable_error_percent = dec(&self.acceptable_error_percent)?;
        s.balance.minimum_weight = self.minimum_weight.as_deref().map(dec).transpose()?;
        s.paper = if self.paper == "a4" {
            Paper::A4
        } else {
            Paper::Letter
        };
        s.label = LabelSize {
            width_pt: self.label.0,
            height_pt: self.label.1,
        };
        s.diluent.clone_from(&self.diluent);
        s.molds = self
            .molds
            .iter()
            .map(|(id, name)| MoldId {
                id: id.clone(),
                name: name.clone(),
            })
            .collect();
        Ok(s)
    }
}

/// The order as stored: every value in the text the order file and flags accept.
#[derive(Serialize, Deserialize, Default)]
pub struct OrderSnapshot {
    strengths: Vec<String>,
    quantity: u32,
    extra: Option<u32>,
    overage: Option<String>,
    bases: Vec<String>,
    assays: Vec<String>,
    date: Option<String>,
    lot: Option<String>,
    rx: Option<String>,
    patient: Option<String>,
    prescriber: Option<String>,
    directions: Option<String>,
    refills: Option<u32>,
    components: Vec<(String, String, Option<String>, Option<String>)>,
    // Absent from orders stored before the prescription checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    confirm_strength: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date_written: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prescriber_dea: Option<String>,
    // Stock lots of another form than the formula weighs; absent from orders before them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    forms: Vec<String>,
}

fn named(active: Option<&String>, v: String) -> String {
    match active {
        Some(a) => format!("{a}={v}"),
        None => v,
    }
}

impl OrderSnapshot {
    pub fn of(o: &Order) -> OrderSnapshot {
        OrderSnapshot {
            strengths: o
                .strengths
                .iter()
                .map(|s| named(s.active.as_ref(), s.amount.to_string()))
                .collect(),
            quantity: o.quantity,
            extra: match o.preparation {
                Preparation::Extra(n) => Some(n),
                Preparation::Overage(_) => None,
            },
            overage: match o.preparation {
                Preparation::Overage(p) => Some(p.to_string()),
                Preparation::Extra(_) => None,
            },
            bases: o
                .bases
                .iter()
                .map(|b| named(b.active.as_ref(), b.basis.as_str().to_string()))
                .collect(),
            assays: o
                .assays
                .iter()
                .map(|a| named(a.active.as_ref(), a.text()))
                .collect(),
            date: o.date.map(|d| d.to_string()),
            lot: o.lot.clone(),
            rx: o.rx.clone(),
            patient: o.patient.clone(),
            prescriber: o.prescriber.clone(),
            directions: o.directions.clone(),
            refills: o.refills,
            components: o
                .components
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.lot.clone(),
                        c.expiry.map(|d| d.to_string()),
                        c.manufacturer.clone(),
                    )
                })
                .collect(),
            confirm_strength: o.confirm_strength.clone(),
            date_written: o.date_written.map(|d| d.to_string()),
            prescriber_dea: o.prescriber_dea.clone(),
            forms: o.forms.iter().map(order::FormSpec::text).collect(),
        }
    }

    pub fn order(&self) -> Result<Order> {
        let bad = |what: &str, e: crate::quantity::ParseError| {
            Error::stored(format!("the stored order's {what} is unreadable: {}", e.0))
        };
        let mut o = Order {
            quantity: self.quantity,
            ..Order::default()
        };
        for s in &self.strengths {
            o.strengths
                .push(order::parse_strength(s).map_err(|e| bad("strength", e))?);
        }
        o.preparation = match (&self.extra, &self.overage) {
            (_, Some(p)) => {
                Preparation::Overage(order::parse_overage(p).map_err(|e| bad("overage", e))?)
            }
            (Some(n), None) => Preparation::Extra(*n),
            (None, None) => Preparation::default(),
        };
        for b in &self.bases {
            o.bases
                .push(order::parse_basis(b).map_err(|e| bad("basis", e))?);
        }
        for a in &self.assays {
            o.assays
                .push(order::parse_assay(a).map_err(|e| bad("assay", e))?);
        }
        for f in &self.forms {
            o.forms
                .push(order::FormSpec::parse(f).map_err(|e| bad("form", e))?);
        }
        o.date = self
            .date
            .as_deref()
            .map(|d| order::parse_date(d).map_err(|e| bad("date", e)))
            .transpose()?;
        o.lot.clone_from(&self.lot);
        o.rx.clone_from(&self.rx);
        o.patient.clone_from(&self.patient);
        o.prescriber.clone_from(&self.prescriber);
        o.directions.clone_from(&self.directions);
        o.refills = self.refills;
        o.confirm_strength.clone_from(&self.confirm_strength);
        o.date_written = self
            .date_written
            .as_deref()
            .map(|d| order::parse_date(d).map_err(|e| bad("date written", e)))
            .transpose()?;
        o.prescriber_dea.clone_from(&self.prescriber_dea);
        for (name, lot, expiry, mfr) in &self.components {
            o.components.push(order::ComponentLot {
                name: name.clone(),
                lot: lot.clone(),
                expiry: expiry
                    .as_deref()
                    .map(|d| order::parse_date(d).map_err(|e| bad("component expiry", e)))
                    .transpose()?,
                manufacturer: mfr.clone(),
            });
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logbook::testing;

    /// What is stored reads back into the same model: the snapshot of the read-back value is
    /// the snapshot first stored.
    #[test]
    fn order_and_settings_read_back_as_stored() {
        let mut o = testing::order();
        o.strengths
            .push(order::parse_strength("Ketamine=25 mg").unwrap());
        o.preparation = Preparation::Overage(order::parse_overage("7.5").unwrap());
        o.bases.push(order::parse_basis("moiety").unwrap());
        o.assays.push(order::parse_assay("98.5").unwrap());
        o.date = Some(jiff::civil::date(2026, 11, 30));
        o.lot = Some("LOT-1".into());
        o.refills = Some(2);
        o.directions = Some("Dissolve one under the tongue".into());
        let stored = serde_json::to_string(&OrderSnapshot::of(&o)).unwrap();
        let back: OrderSnapshot = serde_json::from_str(&stored).unwrap();
        let again = serde_json::to_string(&OrderSnapshot::of(&back.order().unwrap())).unwrap();
        assert_eq!(again, stored);

        let mut s = testing::settings();
        s.paper = Paper::A4;
        s.balance.minimum_weight = Some("0.1".parse().unwrap());
        s.diluent = Some("Lactose".into());
        s.molds.push(MoldId {
            id: "M-3".into(),
            name: "Troche mold, 30 cavities".into(),
        });
        let stored = serde_json::to_string(&SettingsSnapshot::of(&s)).unwrap();
        let back: SettingsSnapshot = serde_json::from_str(&stored).unwrap();
        let read = back.settings().unwrap();
        assert_eq!(read.origin, "the compounding log");
        let again = serde_json::to_string(&SettingsSnapshot::of(&read)).unwrap();
        assert_eq!(again, stored);
    }

    #[test]
    fn an_unreadable_stored_value_is_an_error() {
        let s = SettingsSnapshot {
            readability: "lots".into(),
            ..SettingsSnapshot::default()
        };
        let e = s.settings().unwrap_err();
        assert!(e.to_string().contains("\"lots\""), "{e}");
        let o: OrderSnapshot = serde_json::from_str(r#"{"strengths":["fifty"],"quantity":30,"extra":null,"overage":null,"bases":[],"assays":[],"date":null,"lot":null,"rx":null,"patient":null,"prescriber":null,"directions":null,"refills":null,"components":[]}"#).unwrap();
        assert!(o.order().unwrap_err().to_string().contains("strength"));
    }
}
