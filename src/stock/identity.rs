//! Which stock lot a lot string names. A lot number is the manufacturer's, so two
//! manufacturers (or two ingredients) may use the same one: each stock lot has an id, its key
//! in the log. The first lot received under a number has the number for its id (`K-78`, also
//! answering to `K-78.1`); a later one of another ingredient or manufacturer gets the number
//! and its place (`K-78.2`), which no lot number can be (a lot is letters, digits and `-`).
//!
//! A bare number that names more than one stock lot is refused, naming each by its id,
//! unless what the command knows besides (the drug, the ingredient, the manufacturer) leaves
//! one.

use crate::error::{Error, Result};
use crate::store::{Db, Value};

use super::StockLot;

/// The lot number and the place of an id: `K-78.2` is (`K-78`, 2), `K-78` (`K-78`, 1).
fn parts(id: &str) -> (&str, u32) {
    match id.rsplit_once('.') {
        Some((number, n)) => match n.parse::<u32>() {
            Ok(n) if n >= 1 => (number, n),
            _ => (id, 1),
        },
        None => (id, 1),
    }
}

/// The place of an id under its number: 2 for `K-78.2`, 1 for `K-78`.
pub fn place(id: &str) -> u32 {
    parts(id).1
}

/// The id a lot answers to unambiguously: `K-78.1` for the first of several.
pub fn full_id(l: &StockLot) -> String {
    match l.lot.rsplit_once('.') {
        Some(_) => l.lot.clone(),
        None => format!("{}.1", l.lot),
    }
}

/// Every stock lot received under the number of `text` (an id or a lot number), by its
/// index on the upper-case lot.
pub fn received_as(db: &mut dyn Db, text: &str) -> Result<Vec<StockLot>> {
    let upper = text.trim().to_uppercase();
    let (number, _) = parts(&upper);
    db.query_as(
        &super::lots::select_where(
            "upper(l.lot) = $1 OR (upper(l.lot) > $2 AND upper(l.lot) < $3)",
        ),
        &[
            Value::text(number),
            Value::text(format!("{number}.")),
            // '/' follows '.': every "NUMBER.n" sorts between the two.
            Value::text(format!("{number}/")),
        ],
    )
}

/// Of `lots`, the one `text` names (an id, or a lot number naming one), or `None`; a lot
/// number naming several is refused under `flag`, each named by its id.
pub fn one_of(flag: &str, text: &str, lots: Vec<StockLot>) -> Result<Option<StockLot>> {
    let upper = text.trim().to_uppercase();
    let (number, place) = parts(&upper);
    let named: Vec<StockLot> = if upper.contains('.') {
        lots.into_iter()
            .filter(|l| {
                let (n, p) = parts(&l.lot);
                n == number && p == place
            })
            .collect()
    } else {
        lots.into_iter()
            .filter(|l| parts(&l.lot).0 == number)
            .collect()
    };
    if named.len() > 1 {
        return Err(Error::arg(
            flag,
            format!(
                "lot {} names {} stock lots: {}; give the one meant by its id",
                crate::escape::escape(text.trim()),
                named.len(),
                named
                    .iter()
                    .map(|l| format!("{} ({}, {})", full_id(l), l.name, l.manufacturer))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(named.into_iter().next())
}

/// The stock lot `text` names among those `keep` allows (an ingredient's, a drug's, a
/// manufacturer's), or `None`; refused when it names several.
pub fn find_where(
    db: &mut dyn Db,
    flag: &str,
    text: &str,
    keep: impl Fn(&StockLot) -> bool,
) -> Result<Option<StockLot>> {
    let lots = received_as(db, text)?;
    one_of(flag, text, lots.into_iter().filter(|l| keep(l)).collect())
}

/// The stock lot whose id is `id` exactly, as the log's own rows name it (an event's lot).
pub fn by_id(db: &mut dyn Db, id: &str) -> Result<Option<StockLot>> {
    db.query_one(&super::lots::select_where("l.lot = $1"), &[Value::text(id)])
}

/// The id a new lot of number `number`, ingredient `name` and `manufacturer` is entered
/// under: the number if no lot has it, else the number and its place; refused when the
/// same ingredient's lot of that number from that manufacturer is in stock (a lot is
/// received once).
pub fn new_id(db: &mut dyn Db, number: &str, name: &str, manufacturer: &str) -> Result<String> {
    let same = received_as(db, number)?;
    if let Some(l) = same.iter().find(|l| {
        l.name.eq_ignore_ascii_case(name.trim())
            && l.manufacturer.eq_ignore_ascii_case(manufacturer.trim())
    }) {
        return Err(Error::arg(
            "--lot",
            format!(
                "stock lot {} is in the log already ({}, {}, received {}); a lot is received \
                 once: more of it is `troche stock adjust {} --quantity ... --reason ...`",
                l.lot, l.name, l.manufacturer, l.received_at, l.lot
            ),
        ));
    }
    let last = same.iter().map(|l| parts(&l.lot).1).max();
    Ok(match last {
        None => number.to_string(),
        Some(n) => format!(
            "{number}.{}",
            n.checked_add(1)
                .ok_or_else(|| crate::error::overflow("--lot"))?
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn an_id_is_a_number_and_its_place() {
        assert_eq!(parts("K-78"), ("K-78", 1));
        assert_eq!(parts("K-78.1"), ("K-78", 1));
        assert_eq!(parts("K-78.12"), ("K-78", 12));
        assert_eq!(parts("K-78.X"), ("K-78.X", 1));
        assert_eq!(parts("K-78.0"), ("K-78.0", 1));
    }
}
