//! The numbers the formula states without having measured them (a nominal or estimated blank
//! weight, a derived one, an estimated factor): each said to be what it is, with the step that
//! measures it and a box for the value found, before anything is weighed.

use crate::formula::{Displacement, Stated, short_name};

use super::{BODY, LEAD, Piece, Record, Sheet, bold, regular, show};

/// One unmeasured number: what it is, where it comes from, how to measure it, and the box.
struct Item {
    what: String,
    how: String,
    boxes: Vec<Vec<Piece>>,
}

pub(super) fn estimates(s: &mut Sheet, record: &Record) {
    let items = items(record);
    let mut items = items.iter().map(|item| {
        move |s: &mut Sheet| {
            let (left, width) = (s.left, s.width());
            s.para(left, width, BODY, LEAD, &[bold(&item.what)]);
            s.para(left + 12.0, width - 12.0, BODY, LEAD, &[regular(&item.how)]);
            s.form(&item.boxes);
            s.gap(3.0);
        }
    });
    if let Some(first) = items.next() {
        s.section("Not measured: verify before compounding", first);
    }
    for item in items {
        s.keep(item);
    }
}

fn stated_text(st: &Stated) -> String {
    format!("{} ({})", st.is.as_str().to_uppercase(), st.source)
}

fn items(record: &Record) -> Vec<Item> {
    let f = &record.formula;
    let mut out = Vec::new();
    let blank = show(f.mold.blank_weight);
    let kind = match (&f.mold.blank_weight_is, &f.mold.derived) {
        (Some(st), _) => Some(stated_text(st)),
        (None, Some(d)) => Some(format!("DERIVED from {}, not measured", d.from)),
        (None, None) => None,
    };
    if let Some(kind) = kind {
        out.push(Item {
            what: format!("Blank weight {blank} g per unit is {kind}."),
            how: format!(
                "Calibrate the mold ({}) with plain {}: fill every cavity with plain base, let it \
                 set, discard defective units, weigh the good ones together and divide by their \
                 count. If the average is not {blank} g, the amounts on this record are wrong: \
                 have the pharmacist recalculate the batch with the measured blank weight before \
                 compounding.",
                f.mold.name, f.base.name
            ),
            boxes: vec![
                vec![
                    Piece::Bold("Measured blank weight:".into()),
                    Piece::Blank(60.0),
                    Piece::Text("g per unit, from".into()),
                    Piece::Blank(30.0),
                    Piece::Text("units".into()),
                ],
                vec![Piece::Bold("By:".into()), Piece::Blank(50.0)],
            ],
        });
    }
    let factors = f
        .actives
        .iter()
        .filter_map(|a| Some((a.name.as_str(), a.displacement?, a.factor_is.as_ref()?)))
        .chain(
            f.excipients
                .iter()
                .filter_map(|e| Some((e.name.as_str(), e.displacement?, e.factor_is.as_ref()?))),
        );
    for (name, d, st) in factors {
        out.push(factor_item(short_name(name), d, st));
    }
    if let (Some(d), Some(st)) = (f.base.default_displacement, &f.base.factor_is) {
        out.push(factor_item(
            "every ingredient without a factor of its own (the base's default)",
            d,
            st,
        ));
    }
    out
}

fn factor_item(name: &str, d: Displacement, st: &Stated) -> Item {
    let (kind, value) = match d {
        Displacement::Replacement(v) => ("Replacement factor", v),
        Displacement::Density(v) => ("Density factor", v),
    };
    Item {
        what: format!(
            "{kind} {} of {name} is {}.",
            value.normalize(),
            stated_text(st)
        ),
        how: format!(
            "Determine it from trial units: cast plain-base units (average weight A), then units \
             each holding B of {name} (average weight C); troche factor --blank A --medicated C \
             --per-unit B gives both factors. If it differs from {}, have the pharmacist \
             recalculate the batch with the measured factor before compounding.",
            value.normalize()
        ),
        boxes: vec![
            vec![
                Piece::Bold(format!("Measured {}:", kind.to_lowercase())),
                Piece::Blank(50.0),
            ],
            vec![
                Piece::Text("A".into()),
                Piece::Blank(40.0),
                Piece::Text("g".into()),
            ],
            vec![
                Piece::Text("B".into()),
                Piece::Blank(40.0),
                Piece::Text("g".into()),
            ],
            vec![
                Piece::Text("C".into()),
                Piece::Blank(40.0),
                Piece::Text("g".into()),
            ],
            vec![Piece::Bold("By:".into()), Piece::Blank(50.0)],
        ],
    }
}
