//! The components table: every weighing with its lot, expiry and initials, the aliquot
//! portion, and the theoretical batch weight.

use crate::calc::Calculation;

use super::*;

/// Column layout of the ingredient table.
pub(super) struct Columns {
    pub(super) x: [f32; 10],
}

pub(super) const TITLES: [&str; 9] = [
    "#",
    "Ingredient",
    "Amount to weigh",
    "Actual weighed",
    "Manufacturer",
    "Lot no.",
    "Expiry",
    "Weighed by",
    "Checked by",
];

impl Columns {
    pub(super) fn new(left: f32, right: f32) -> Self {
        // Fixed widths for everything but the ingredient name, which takes the rest.
        let fixed = [16.0, 0.0, 74.0, 52.0, 68.0, 60.0, 50.0, 34.0, 34.0];
        let flex = (right - left - fixed.iter().sum::<f32>()).max(60.0);
        let mut x = [left; 10];
        for i in 0..9 {
            let w = if i == 1 { flex } else { fixed[i] };
            x[i + 1] = x[i] + w;
        }
        Columns { x }
    }

    pub(super) fn w(&self, i: usize) -> f32 {
        self.x[i + 1] - self.x[i]
    }
}

/// Where an amount's integer part ends (the decimal point) and where its unit starts, so
/// every amount in the column lines up on the point.
pub(super) struct AmountColumn {
    pub(super) point_x: f32,
    pub(super) unit_x: f32,
}

pub(super) const AMOUNT_SIZE: f32 = 9.5;

pub(super) fn split_amount(a: &str) -> (&str, &str) {
    match a.find('.') {
        Some(i) => a.split_at(i),
        None => (a, ""),
    }
}

impl AmountColumn {
    pub(super) fn new(cols: &Columns, amounts: &[(String, &str)]) -> Self {
        let unit_w = amounts
            .iter()
            .map(|(_, u)| metrics::text_width(Font::HelveticaBold, AMOUNT_SIZE, u))
            .fold(0.0, f32::max);
        let frac_w = amounts
            .iter()
            .map(|(a, _)| metrics::text_width(Font::HelveticaBold, AMOUNT_SIZE, split_amount(a).1))
            .fold(0.0, f32::max);
        let unit_x = cols.x[3] - 5.0 - unit_w;
        AmountColumn {
            point_x: unit_x - 3.0 - frac_w,
            unit_x,
        }
    }

    pub(super) fn draw(&self, s: &mut Sheet, b: f32, amount: &str, unit: &str) {
        let (int, frac) = split_amount(amount);
        s.text_right(self.point_x, b, Font::HelveticaBold, AMOUNT_SIZE, int);
        s.text(self.point_x, b, Font::HelveticaBold, AMOUNT_SIZE, frac);
        s.text(self.unit_x, b, Font::HelveticaBold, AMOUNT_SIZE, unit);
    }
}

/// The lines under an ingredient's name: its role, the form weighed and how its strength was
/// converted, the assay, and what becomes of it. `portion_row` is the number of the aliquot
/// portion row an aliquot's weighings go into.
pub(super) fn role_note(
    record: &Record,
    i: &Ingredient,
    portion_row: Option<usize>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let into_aliquot = || match portion_row {
        Some(n) => format!("weighed into the aliquot mixture (row {n}), not into the batch"),
        None => "weighed into the aliquot mixture, not into the batch".to_owned(),
    };
    match i.role {
        Role::Active => {
            let Some(a) = &i.active else {
                lines.push("active".to_owned());
                return lines;
            };
            let mut first = "active".to_owned();
            if let Some(s) = a.schedule {
                let _ = write!(first, ", {}", schedule_name(s));
            }
            lines.push(first);
            // Salt/base confusion is a known cause of overdoses: say which form is weighed and
            // which form the strength is of, next to the amount.
            let source = match a.basis_source {
                BasisSource::Order => "as ordered",
                BasisSource::Formula => "as the formula prescribes",
                BasisSource::Only => "its only form",
            };
            let weighed = short_name(&i.name).to_lowercase();
            lines.push(match a.salt_factor {
                Some((mw, moiety_mw)) => format!(
                    "weighed as {weighed}; strength is of {} ({source}): × {}/{} salt factor",
                    short_name(&a.strength_form).to_lowercase(),
                    mw.normalize(),
                    moiety_mw.normalize()
                ),
                None if a.equivalent.is_some() => format!(
                    "weighed as {weighed}; strength is of this salt ({source}): no conversion"
                ),
                None => format!("weighed as {weighed}; strength is of the form weighed"),
            });
            lines.push(match (a.assay_percent, &a.trituration) {
                (Some(c), Some(lot)) => format!(
                    "stock trituration {lot} at {} %, weighed in place of the drug",
                    c.normalize()
                ),
                (Some(assay), None) => format!(
                    "assay (CoA) {} %: amount potency-corrected",
                    assay.normalize()
                ),
                (None, _) => "Assay (CoA) ________ % (100 % assumed)".to_owned(),
            });
            if i.aliquot.is_some() {
                lines.push(into_aliquot());
            }
        }
        Role::Excipient => lines.push("excipient".to_owned()),
        Role::Diluent => {
            lines.push(format!(
                "aliquot diluent for {}",
                i.diluent_for.as_deref().map_or("an aliquot", short_name)
            ));
            lines.push(into_aliquot());
        }
        Role::Base => {
            let component = record
                .formula
                .base
                .components
                .iter()
                .find(|c| c.name == i.name);
            lines.push(match component {
                Some(c) => format!(
                    "base component: {} % of the {} base",
                    c.percent.normalize(),
                    grams(record, record.calc.base_total)
                ),
                None => "base".to_owned(),
            });
        }
    }
    if i.dimension == Dimension::Volume
        && let Some(last) = lines.last_mut()
    {
        last.push_str("; measure by volume");
    }
    lines
}

/// What the aliquot portion row says: mix, weigh the portion, discard the rest.
pub(super) fn portion_runs(
    record: &Record,
    active: &Ingredient,
    a: &Aliquot,
    rows: (usize, usize),
) -> Vec<Run> {
    let g = |v: Decimal| grams(record, v);
    vec![
        regular("Mix"),
        bold(g(a.weigh)),
        regular(format!(
            "of {} (row {}) with",
            short_name(&active.name),
            rows.0
        )),
        bold(g(a.diluent)),
        regular(format!(
            "of {} (row {}) to",
            short_name(&a.diluent_name),
            rows.1
        )),
        bold(format!("{};", g(a.total))),
        regular("weigh"),
        bold(g(a.portion)),
        regular("of the mixture into the batch; discard the rest"),
        bold(format!("({})", g(a.remainder))),
        regular("as waste."),
    ]
}

/// One line of the table: an ingredient, or the portion of an aliquot mixture.
pub(super) enum Line<'a> {
    Ingredient(&'a Ingredient),
    Portion(&'a Ingredient, &'a Aliquot),
}

/// The table: its heading, the rows page by page under a repeated header, the batch's total
/// and the notes that explain it.
pub(super) fn ingredients(s: &mut Sheet, record: &Record) {
    let c = &record.calc;
    let cols = Columns::new(s.left, s.right);
    let total = grams(record, c.batch_weight);
    let lines = lines(c);
    let rows = rows(record, &cols, &lines);
    let mut amounts: Vec<(String, &str)> = rows
        .iter()
        .map(|r| (r.amount.0.clone(), r.amount.1))
        .collect();
    amounts.push((total.trim_end_matches(" g").to_owned(), "g"));
    let amount_col = AmountColumn::new(&cols, &amounts);
    let header = Header::new(&cols);
    let groups = groups(&lines);

    let first_h = groups
        .first()
        .map_or(0.0, |g| rows[g.clone()].iter().map(|r| r.h).sum::<f32>());
    s.heading(
        "Components: weigh, record and check each",
        (header.h + first_h).min(s.height() * 0.5),
    );
    header.draw(s, &cols);
    body(s, &cols, &header, &amount_col, &rows, groups);
    total_row(s, &cols, &amount_col, &total);
    notes(s, record, &lines);
}

/// The table's lines in order. An aliquot's drug row, its diluent row and the portion row
/// stand together, so the portion follows the diluent it is mixed from.
fn lines(c: &Calculation) -> Vec<Line<'_>> {
    let mut lines: Vec<Line> = Vec::new();
    for i in &c.ingredients {
        lines.push(Line::Ingredient(i));
        if i.role == Role::Diluent
            && let Some(active) = c
                .ingredients
                .iter()
                .find(|a| a.aliquot.is_some() && i.diluent_for.as_deref() == Some(a.name.as_str()))
            && let Some(a) = &active.aliquot
        {
            lines.push(Line::Portion(active, a));
        }
    }
    lines
}

/// Each line wrapped and measured, with the row numbers its notes refer to (an aliquot's
/// drug and diluent name the portion row, the portion names both).
fn rows(record: &Record, cols: &Columns, lines: &[Line]) -> Vec<Row> {
    let number_of = |name: &str| {
        lines
            .iter()
            .position(|l| matches!(l, Line::Ingredient(i) if i.name == name))
            .map_or(0, |p| p + 1)
    };
    let portion_of = |active: &str| {
        lines
            .iter()
            .position(|l| matches!(l, Line::Portion(i, _) if i.name == active))
            .map(|p| p + 1)
    };
    lines
        .iter()
        .enumerate()
        .map(|(n, l)| match l {
            Line::Ingredient(i) => {
                let portion = match i.role {
                    Role::Diluent => i.diluent_for.as_deref().and_then(portion_of),
                    _ if i.aliquot.is_some() => portion_of(&i.name),
                    _ => None,
                };
                Row::new(record, cols, n + 1, i, portion)
            }
            Line::Portion(active, a) => {
                let diluent_row = lines
                    .iter()
                    .position(|l| {
                        matches!(l, Line::Ingredient(d) if d.role == Role::Diluent
                            && d.diluent_for.as_deref() == Some(active.name.as_str()))
                    })
                    .map_or(0, |p| p + 1);
                Row::portion(
                    record,
                    cols,
                    n + 1,
                    portion_runs(record, active, a, (number_of(&active.name), diluent_row)),
                    a,
                )
            }
        })
        .collect()
}

/// The column titles, wrapped to their columns; drawn again at the top of every page the
/// table continues on.
struct Header {
    lines: Vec<Vec<String>>,
    h: f32,
}

impl Header {
    fn new(cols: &Columns) -> Header {
        let lines: Vec<Vec<String>> = TITLES
            .iter()
            .enumerate()
            .map(|(i, t)| wrap_text(Font::HelveticaBold, 7.0, t, cols.w(i) - 4.0))
            .collect();
        let h = metrics::count(lines.iter().map(Vec::len).max().unwrap_or(1)) * 8.5 + 6.0;
        Header { lines, h }
    }

    fn draw(&self, s: &mut Sheet, cols: &Columns) {
        let y = s.y;
        let width = s.width();
        s.fill(cols.x[0], y, width, self.h, 0.88);
        for (i, lines) in self.lines.iter().enumerate() {
            for (k, l) in lines.iter().enumerate() {
                s.text(
                    cols.x[i] + 2.5,
                    y + 9.0 + metrics::count(k) * 8.5,
                    Font::HelveticaBold,
                    7.0,
                    l,
                );
            }
        }
        grid(s, cols, y, self.h, false);
        s.y += self.h;
    }
}

/// Rows kept on one page together: an aliquot's drug, diluent and portion, so the mixture
/// is never read across a page break; others alone.
fn groups(lines: &[Line]) -> Vec<std::ops::Range<usize>> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let len = match lines[k] {
            Line::Ingredient(i) if i.aliquot.is_some() => lines[k..]
                .iter()
                .position(|l| matches!(l, Line::Portion(a, _) if a.name == i.name))
                .map_or(1, |p| p + 1),
            _ => 1,
        };
        groups.push(k..k + len);
        k += len;
    }
    groups
}

/// The rows, breaking the page before a group that does not fit (a group taller than a page
/// breaks between its rows) and repeating the header; a row taller than any page is written
/// as plain paragraphs instead.
fn body(
    s: &mut Sheet,
    cols: &Columns,
    header: &Header,
    amount_col: &AmountColumn,
    rows: &[Row],
    groups: Vec<std::ops::Range<usize>>,
) {
    let body_h = s.height();
    for g in groups {
        let group_h: f32 = rows[g.clone()].iter().map(|r| r.h).sum();
        for (n, row) in rows[g].iter().enumerate() {
            if row.h + header.h > body_h {
                row.flow(s);
                continue;
            }
            let need = if n == 0 && group_h + header.h <= body_h {
                group_h
            } else {
                row.h
            };
            if s.y + need > s.bottom && !s.at_top() {
                s.break_page();
                header.draw(s, cols);
            }
            row.draw(s, cols, amount_col);
        }
    }
}

/// The theoretical batch weight, on the amounts' decimal point, beside where the melt's
/// actual weight is written.
fn total_row(s: &mut Sheet, cols: &Columns, amount_col: &AmountColumn, total: &str) {
    let h = 22.0;
    if s.y + h > s.bottom && !s.at_top() {
        s.break_page();
    }
    let y = s.y;
    let b = baseline(y, BODY, h);
    s.text_right(
        cols.x[2] - 4.0,
        b,
        Font::HelveticaBold,
        BODY,
        "Theoretical batch weight",
    );
    amount_col.draw(s, b, split_total(total), "g");
    s.rect(cols.x[0], y, cols.x[9] - cols.x[0], h, 0.6);
    for i in [2, 3, 4] {
        s.line(cols.x[i], y, cols.x[i], y + h, 0.6);
    }
    s.text(
        cols.x[4] + 4.0,
        b,
        Font::Helvetica,
        SMALL,
        "Write the actual weight of the melt under Actual weighed",
    );
    s.y += h;
}

/// Why the rows do not simply add up to the batch weight (aliquots, a mixed base, liquids
/// counted by mass) and how the amounts were rounded. They stay together, under the table or
/// at the top of the next page.
fn notes(s: &mut Sheet, record: &Record, lines: &[Line]) {
    let c = &record.calc;
    let mut notes: Vec<String> = Vec::new();
    if lines.iter().any(|l| matches!(l, Line::Portion(..))) {
        notes.push(
            "An aliquot's drug and diluent are weighed into the aliquot mixture; only the \
             portion taken from it enters the batch and counts in the batch weight."
                .to_owned(),
        );
    }
    let base_rows: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l, Line::Ingredient(i) if i.role == Role::Base))
        .map(|(n, _)| n + 1)
        .collect();
    if let (Some(first), Some(last), true) =
        (base_rows.first(), base_rows.last(), base_rows.len() > 1)
    {
        notes.push(format!(
            "The base is mixed from rows {first} to {last}: {} in all.",
            grams(record, c.base_total)
        ));
    }
    if c.ingredients
        .iter()
        .any(|i| i.dimension == Dimension::Volume)
    {
        notes.push(
            "Liquids are measured by volume (mL); the batch weight counts them by mass \
             (volume × density)."
                .to_owned(),
        );
    }
    notes.push(
        "Amounts are rounded half away from zero to the balance readability; the exact values \
         are in the calculation below."
            .to_owned(),
    );
    let notes = [regular(notes.join(" "))];
    s.keep(|s| {
        s.gap(2.0);
        let (left, width) = (s.left, s.width());
        s.para(left, width, SMALL + 0.5, 10.0, &notes);
    });
}

pub(super) fn split_total(total: &str) -> &str {
    total.trim_end_matches(" g")
}

/// Vertical rules between the table's columns for a band `h` high starting at `y`; with
/// `span`, none between manufacturer, lot and expiry.
pub(super) fn grid(s: &mut Sheet, cols: &Columns, y: f32, h: f32, span: bool) {
    s.rect(cols.x[0], y, cols.x[9] - cols.x[0], h, 0.6);
    for (k, x) in cols.x[1..9].iter().enumerate() {
        if span && (k + 1 == 5 || k + 1 == 6) {
            continue;
        }
        s.line(*x, y, *x, y + h, 0.6);
    }
}

/// One row of the table, wrapped and measured.
pub(super) struct Row {
    pub(super) number: String,
    pub(super) name: Vec<Vec<Run>>,
    pub(super) note: Vec<Vec<Run>>,
    /// The amount to weigh and its unit.
    pub(super) amount: (String, &'static str),
    pub(super) prefill: [Vec<String>; 3],
    /// Lines written across manufacturer, lot and expiry, each followed by a rule to write on
    /// (the aliquot portion, which has no lot of its own).
    pub(super) span: Vec<String>,
    /// The row as plain text, for a row too tall for a page.
    pub(super) plain: Vec<Run>,
    pub(super) h: f32,
}

pub(super) const NAME_LEAD: f32 = 11.0;
pub(super) const NOTE_LEAD: f32 = 8.5;
pub(super) const FILL_SIZE: f32 = 8.0;
pub(super) const FILL_LEAD: f32 = 9.5;
pub(super) const SPAN_LEAD: f32 = 16.0;

impl Row {
    pub(super) fn new(
        record: &Record,
        cols: &Columns,
        number: usize,
        i: &Ingredient,
        portion_row: Option<usize>,
    ) -> Row {
        let w = cols.w(1) - 6.0;
        let name = wrap_runs(&[bold(&i.name)], BODY, w);
        let notes = role_note(record, i, portion_row);
        let note = notes
            .iter()
            .flat_map(|n| wrap_runs(&[regular(n)], SMALL, w))
            .collect();
        let lot = record.component(&i.name);
        let fill = |col: usize, text: Option<String>| -> Vec<String> {
            text.map(|t| wrap_text(Font::Helvetica, FILL_SIZE, &t, cols.w(col) - 5.0))
                .unwrap_or_default()
                .into_iter()
                .filter(|l| !l.is_empty())
                .collect()
        };
        let prefill = [
            fill(4, lot.and_then(|l| l.manufacturer.clone())),
            fill(5, lot.map(|l| l.lot.clone())),
            fill(6, lot.and_then(|l| l.expiry).map(date)),
        ];
        let amount = (i.amount.to_string(), i.dimension.base_unit());
        let lot_text = lot.map_or_else(String::new, |l| {
            format!(
                "manufacturer {}, lot {}, expiry {}",
                l.manufacturer.as_deref().unwrap_or("____"),
                l.lot,
                l.expiry.map_or_else(|| "____".to_owned(), date)
            )
        });
        let plain = vec![
            regular(format!("{number}.")),
            bold(&i.name),
            regular(format!("({})", notes.join("; "))),
            bold(format!("{} {}", amount.0, amount.1)),
            regular(lot_text),
        ];
        Row::measured(number, name, note, amount, prefill, Vec::new(), plain)
    }

    /// The aliquot portion: what is taken from the mixture into the batch.
    pub(super) fn portion(
        record: &Record,
        cols: &Columns,
        number: usize,
        instruction: Vec<Run>,
        a: &Aliquot,
    ) -> Row {
        let w = cols.w(1) - 6.0;
        let title = "Aliquot portion into the batch";
        let name = wrap_runs(&[bold(title)], BODY, w);
        let note = wrap_runs(&instruction, SMALL, w);
        let amount = (
            grams(record, a.portion).trim_end_matches(" g").to_owned(),
            "g",
        );
        let span = vec![
            format!("Mixture made ({}):", grams(record, a.total)),
            format!("Rest discarded ({}):", grams(record, a.remainder)),
        ];
        let mut plain = vec![regular(format!("{number}.")), bold(title)];
        plain.extend(instruction);
        plain.push(bold(format!("{} g", amount.0)));
        plain.push(regular(span.join(" ____ g; ") + " ____ g"));
        Row::measured(number, name, note, amount, Default::default(), span, plain)
    }

    pub(super) fn measured(
        number: usize,
        name: Vec<Vec<Run>>,
        note: Vec<Vec<Run>>,
        amount: (String, &'static str),
        prefill: [Vec<String>; 3],
        span: Vec<String>,
        plain: Vec<Run>,
    ) -> Row {
        let text_h = 6.0
            + metrics::count(name.len()) * NAME_LEAD
            + metrics::count(note.len()) * NOTE_LEAD
            + 4.0;
        let fill_h =
            metrics::count(prefill.iter().map(Vec::len).max().unwrap_or(0)) * FILL_LEAD + 10.0;
        let span_h = metrics::count(span.len()) * SPAN_LEAD + 6.0;
        Row {
            number: number.to_string(),
            name,
            note,
            amount,
            prefill,
            span,
            plain,
            h: text_h.max(fill_h).max(span_h).max(28.0),
        }
    }

    pub(super) fn draw(&self, s: &mut Sheet, cols: &Columns, amount: &AmountColumn) {
        let y = s.y;
        let spanned = !self.span.is_empty();
        if spanned {
            // No lot to record: shade the cells so nobody looks for one.
            s.fill(cols.x[4], y, cols.x[7] - cols.x[4], self.h, 0.94);
        }
        grid(s, cols, y, self.h, spanned);
        let b = baseline(y + 3.0, BODY, NAME_LEAD);
        s.text(cols.x[0] + 3.0, b, Font::Helvetica, BODY, &self.number);
        let mut top = y + 3.0;
        for l in &self.name {
            s.runs(cols.x[1] + 3.0, baseline(top, BODY, NAME_LEAD), BODY, l);
            top += NAME_LEAD;
        }
        for l in &self.note {
            s.runs(cols.x[1] + 3.0, baseline(top, SMALL, NOTE_LEAD), SMALL, l);
            top += NOTE_LEAD;
        }
        amount.draw(s, b, &self.amount.0, self.amount.1);
        for (k, lines) in self.prefill.iter().enumerate() {
            for (n, l) in lines.iter().enumerate() {
                let yb = baseline(
                    y + 3.0 + metrics::count(n) * FILL_LEAD,
                    FILL_SIZE,
                    FILL_LEAD,
                );
                s.text(cols.x[4 + k] + 3.0, yb, Font::Helvetica, FILL_SIZE, l);
            }
        }
        let label_w = self
            .span
            .iter()
            .map(|l| metrics::text_width(Font::Helvetica, FILL_SIZE, l))
            .fold(0.0, f32::max);
        for (n, l) in self.span.iter().enumerate() {
            let yb = y + 4.0 + metrics::count(n + 1) * SPAN_LEAD - 3.0;
            let x = cols.x[4] + 4.0;
            s.text(x, yb, Font::Helvetica, FILL_SIZE, l);
            let end = cols.x[7] - 14.0;
            s.line(x + label_w + 4.0, yb + 1.5, end, yb + 1.5, 0.5);
            s.text(end + 3.0, yb, Font::Helvetica, FILL_SIZE, "g");
        }
        s.y += self.h;
    }

    /// A row too tall for any page (absurdly long text) as plain paragraphs.
    pub(super) fn flow(&self, s: &mut Sheet) {
        let (left, width) = (s.left, s.width());
        s.para(left, width, BODY, LEAD, &self.plain);
        s.form(&[
            vec![Piece::Bold("Actual:".into()), Piece::Blank(60.0)],
            vec![Piece::Bold("Weighed by:".into()), Piece::Blank(40.0)],
            vec![Piece::Bold("Checked by:".into()), Piece::Blank(40.0)],
        ]);
    }
}
