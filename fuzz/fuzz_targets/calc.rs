//! The whole calculation from an arbitrary (formula, order, balance).
//!
//! The formula is written out as TOML from fuzzed numbers and names and read back with
//! `troche::formula::parse`, so it goes through the same validation as a file; the order and
//! balance are built through the same parsers the command line and settings use. When the
//! calculation succeeds, the invariants a pharmacist relies on are asserted:
//! - the base is positive and at least two thirds of the blank total (3·base ≥ 2·blank total);
//! - base + Σ displaced == blank weight × unit-equivalents, exactly;
//! - every rounded `amount` is within half a readability step of its `exact` value.
#![no_main]

use std::fmt::Write as _;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use troche::calc::{self, Balance, Role};
use troche::order::{self, Order, Preparation};
use troche::quantity::{self, Dimension};

/// A number as text: mostly well-formed decimals of every size, sometimes raw text.
#[derive(Arbitrary, Debug)]
enum Num {
    /// mantissa × 10^-scale, written out in full.
    Dec { mantissa: u64, scale: u8 },
    /// A small number with a few decimals, the usual case.
    Small { units: u16, thousandths: u16 },
    /// Anything at all.
    Raw(String),
}

impl Num {
    fn text(&self) -> String {
        match self {
            Num::Dec { mantissa, scale } => {
                let digits = mantissa.to_string();
                let scale = usize::from(*scale % 14);
                if scale == 0 {
                    digits
                } else if digits.len() > scale {
                    let (i, f) = digits.split_at(digits.len() - scale);
                    format!("{i}.{f}")
                } else {
                    format!("0.{}{digits}", "0".repeat(scale - digits.len()))
                }
            }
            Num::Small { units, thousandths } => {
                format!("{}.{:03}", units % 1000, thousandths % 1000)
            }
            Num::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum MassUnit {
    G,
    Mg,
    Mcg,
    Kg,
}

impl MassUnit {
    fn symbol(self) -> &'static str {
        match self {
            MassUnit::G => "g",
            MassUnit::Mg => "mg",
            MassUnit::Mcg => "mcg",
            MassUnit::Kg => "kg",
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum VolumeUnit {
    Ml,
    L,
}

impl VolumeUnit {
    fn symbol(self) -> &'static str {
        match self {
            VolumeUnit::Ml => "mL",
            VolumeUnit::L => "L",
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Mass(Num, MassUnit);

impl Mass {
    fn text(&self) -> String {
        format!("{} {}", self.0.text(), self.1.symbol())
    }
}

#[derive(Arbitrary, Debug)]
enum Factor {
    Replacement(Num),
    Density(Num),
}

impl Factor {
    fn write(&self, out: &mut String) {
        let (key, n) = match self {
            Factor::Replacement(n) => ("replacement_factor", n),
            Factor::Density(n) => ("density_factor", n),
        };
        let _ = writeln!(out, "{key} = {}", quote(&n.text()));
    }
}

#[derive(Arbitrary, Debug)]
struct ActiveIn {
    name: u8,
    suffix: String,
    mw: Num,
    /// (moiety name, moiety mw)
    moiety: Option<(u8, Num)>,
    schedule: Option<u8>,
    max_strength: Option<Mass>,
    default_strength: Option<Mass>,
    factor: Option<Factor>,
}

#[derive(Arbitrary, Debug)]
enum AmountIn {
    PerUnit(Mass),
    Percent(Num),
    Volume(Num, VolumeUnit, Num),
}

#[derive(Arbitrary, Debug)]
struct ExcipientIn {
    name: u8,
    amount: AmountIn,
    factor: Option<Factor>,
}

#[derive(Arbitrary, Debug)]
struct FormulaIn {
    blank: Mass,
    cavities: u16,
    base_factor: Option<Factor>,
    actives: Vec<ActiveIn>,
    excipients: Vec<ExcipientIn>,
    category: u8,
    days: Option<u8>,
    tolerance: Option<Num>,
}

/// Who a strength, basis or assay is for: nobody named, an active by index (full or short
/// name, or its moiety), or any text.
#[derive(Arbitrary, Debug)]
enum Who {
    Unnamed,
    Full(u8),
    Short(u8),
    Moiety(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum PrepIn {
    Extra(u16),
    Overage(Num),
}

#[derive(Arbitrary, Debug)]
struct OrderIn {
    strengths: Vec<(Who, Mass)>,
    quantity: u32,
    preparation: PrepIn,
    bases: Vec<(Who, bool)>,
    assays: Vec<(Who, Num)>,
}

#[derive(Arbitrary, Debug)]
struct BalanceIn {
    readability: Option<Mass>,
    volume_readability: Option<(Num, VolumeUnit)>,
    sensitivity: Option<Mass>,
    acceptable_error: Option<Num>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    formula: FormulaIn,
    order: OrderIn,
    balance: BalanceIn,
}

const NAMES: [&str; 6] = [
    "Ketamine hydrochloride",
    "Estriol, USP (micronized)",
    "Estradiol hemihydrate (micronized)",
    "Progesterone",
    "Silica",
    "Stevia powder",
];
const MOIETIES: [&str; 3] = ["Ketamine", "Estradiol (anhydrous)", "Progesterone"];
const CATEGORIES: [&str; 5] = [
    "aqueous-unpreserved",
    "aqueous-preserved",
    "nonaqueous-oral-liquid",
    "nonaqueous",
    "bogus",
];
const SCHEDULES: [&str; 5] = ["CII", "CIII", "C-IV", "CV", "CVI"];

/// A TOML basic string holding `s`.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn active_name(a: &ActiveIn) -> String {
    let mut s: String = a.suffix.chars().take(12).collect();
    s.insert_str(0, NAMES[usize::from(a.name) % NAMES.len()]);
    s
}

fn formula_text(f: &FormulaIn) -> String {
    let mut out = String::from(
        "id = \"fuzz\"\nname = \"Fuzz troche\"\ndosage_form = \"troche\"\nroute = \"buccal\"\n\
         version = 1\ndescription = \"generated\"\n\n[mold]\nname = \"mold\"\n",
    );
    let _ = writeln!(out, "cavities = {}", f.cavities);
    let _ = writeln!(out, "blank_weight = {}", quote(&f.blank.text()));
    out.push_str("\n[base]\nname = \"Base\"\n");
    if let Some(b) = &f.base_factor {
        b.write(&mut out);
    }
    for a in f.actives.iter().take(4) {
        out.push_str("\n[[active]]\n");
        let _ = writeln!(out, "name = {}", quote(&active_name(a)));
        let _ = writeln!(out, "mw = {}", quote(&a.mw.text()));
        if let Some((m, mw)) = &a.moiety {
            let _ = writeln!(
                out,
                "moiety = {}",
                quote(MOIETIES[usize::from(*m) % MOIETIES.len()])
            );
            let _ = writeln!(out, "moiety_mw = {}", quote(&mw.text()));
        }
        if let Some(s) = a.schedule {
            let _ = writeln!(
                out,
                "schedule = {}",
                quote(SCHEDULES[usize::from(s) % SCHEDULES.len()])
            );
        }
        if let Some(m) = &a.max_strength {
            let _ = writeln!(out, "max_strength = {}", quote(&m.text()));
        }
        if let Some(m) = &a.default_strength {
            let _ = writeln!(out, "default_strength = {}", quote(&m.text()));
        }
        if let Some(x) = &a.factor {
            x.write(&mut out);
        }
    }
    for (i, e) in f.excipients.iter().take(4).enumerate() {
        out.push_str("\n[[excipient]]\n");
        let _ = writeln!(
            out,
            "name = {}",
            quote(&format!(
                "Excipient {i} {}",
                NAMES[usize::from(e.name) % NAMES.len()]
            ))
        );
        match &e.amount {
            AmountIn::PerUnit(m) => {
                let _ = writeln!(out, "per_unit = {}", quote(&m.text()));
            }
            AmountIn::Percent(p) => {
                let _ = writeln!(out, "percent_of_blank = {}", quote(&p.text()));
            }
            AmountIn::Volume(v, u, d) => {
                let _ = writeln!(out, "per_unit = {}", quote(&format!("{} {}", v.text(), u.symbol())));
                let _ = writeln!(out, "density = {}", quote(&format!("{} g/mL", d.text())));
            }
        }
        if let Some(x) = &e.factor {
            x.write(&mut out);
        }
    }
    out.push_str("\n[bud]\n");
    let _ = writeln!(
        out,
        "category = {}",
        quote(CATEGORIES[usize::from(f.category) % CATEGORIES.len()])
    );
    out.push_str("storage = \"room temperature\"\n");
    if let Some(d) = f.days {
        let _ = writeln!(out, "days = {d}");
    }
    out.push_str("\n[label]\ndirections = \"d\"\n\n[procedure]\n");
    if let Some(t) = &f.tolerance {
        let _ = writeln!(out, "\n[qc]\nweight_tolerance_percent = {}", quote(&t.text()));
    }
    out
}

fn who(w: &Who, f: &FormulaIn) -> Option<String> {
    let actives: Vec<&ActiveIn> = f.actives.iter().take(4).collect();
    let pick = |i: u8| (!actives.is_empty()).then(|| actives[usize::from(i) % actives.len()]);
    match w {
        Who::Unnamed => None,
        Who::Full(i) => pick(*i).map(active_name),
        Who::Short(i) => pick(*i).map(|a| {
            active_name(a)
                .split([',', '('])
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        }),
        Who::Moiety(i) => pick(*i).and_then(|a| {
            a.moiety
                .as_ref()
                .map(|(m, _)| MOIETIES[usize::from(*m) % MOIETIES.len()].to_string())
        }),
        Who::Text(s) => Some(s.clone()),
    }
}

fn named(name: Option<String>, value: &str) -> String {
    match name {
        Some(n) => format!("{n}={value}"),
        None => value.to_string(),
    }
}

/// The order as the command line would build it: every value through its parser.
fn build_order(o: &OrderIn, f: &FormulaIn) -> Order {
    let mut order = Order::default();
    for (w, m) in o.strengths.iter().take(5) {
        if let Ok(s) = order::parse_strength(&named(who(w, f), &m.text())) {
            order.strengths.push(s);
        }
    }
    order.quantity = o.quantity % (order::MAX_UNITS + 1);
    order.preparation = match &o.preparation {
        PrepIn::Extra(e) => Preparation::Extra(u32::from(*e)),
        PrepIn::Overage(n) => match order::parse_overage(&n.text()) {
            Ok(p) => Preparation::Overage(p),
            Err(_) => Preparation::Extra(0),
        },
    };
    for (w, moiety) in o.bases.iter().take(5) {
        let text = named(who(w, f), if *moiety { "moiety" } else { "salt" });
        if let Ok(b) = order::parse_basis(&text) {
            order.bases.push(b);
        }
    }
    for (w, n) in o.assays.iter().take(5) {
        if let Ok(a) = order::parse_assay(&named(who(w, f), &n.text())) {
            order.assays.push(a);
        }
    }
    order
}

/// The balance as the settings file would give it: values that do not parse keep the default.
fn build_balance(b: &BalanceIn) -> Balance {
    let mut out = Balance::default();
    if let Some(q) = b.readability.as_ref().and_then(|m| quantity::parse_mass(&m.text()).ok()) {
        out.readability = q.in_base();
    }
    if let Some(q) = b
        .volume_readability
        .as_ref()
        .and_then(|(n, u)| quantity::parse_quantity(&format!("{} {}", n.text(), u.symbol())).ok())
    {
        out.volume_readability = q.in_base();
    }
    if let Some(q) = b.sensitivity.as_ref().and_then(|m| quantity::parse_mass(&m.text()).ok()) {
        out.sensitivity = q.in_base();
    }
    if let Some(v) = b
        .acceptable_error
        .as_ref()
        .and_then(|n| quantity::parse_positive(&n.text(), "error").ok())
        .filter(|v| *v <= Decimal::ONE_HUNDRED)
    {
        out.acceptable_error_percent = v;
    }
    out
}

fuzz_target!(|input: Input| {
    let text = formula_text(&input.formula);
    let Ok(formula) = troche::formula::parse(&text, "fuzz") else {
        return;
    };
    let order = build_order(&input.order, &input.formula);
    let balance = build_balance(&input.balance);
    let Ok(c) = calc::calculate(&formula, &order, &balance) else {
        return;
    };

    let base = c.base_total;
    assert!(c.ingredients.last().is_some_and(|i| i.role == Role::Base));
    assert!(base > Decimal::ZERO, "base {base} <= 0");
    assert!(
        base * Decimal::from(3) >= c.blank_total * Decimal::TWO,
        "base {base} is below two thirds of the blank total {}",
        c.blank_total
    );

    let expected_blank_total = formula
        .mold
        .blank_weight
        .checked_mul(c.unit_equivalents)
        .expect("blank total was computed");
    assert_eq!(c.blank_total, expected_blank_total);
    let mut sum = base;
    for i in c.ingredients.iter().filter(|i| i.role != Role::Base) {
        let d = i.displaced.expect("every added ingredient displaces base");
        sum = sum.checked_add(d).expect("sum of displacements");
    }
    assert_eq!(
        sum, expected_blank_total,
        "base {base} + displaced {} != blank weight {} x {} units",
        c.displaced_total, formula.mold.blank_weight, c.unit_equivalents
    );

    let mwq = balance.mwq().expect("computed");
    for i in &c.ingredients {
        let step = match i.dimension {
            Dimension::Mass => balance.readability,
            Dimension::Volume => balance.volume_readability,
        };
        if let Some(a) = &i.aliquot {
            // An aliquot weighs more than needed; what it delivers is within half a step ÷ k.
            assert!(a.weigh >= mwq && a.diluent >= mwq && a.portion >= mwq);
            assert!((a.delivers - i.exact).abs() * Decimal::TWO <= step);
            continue;
        }
        if i.role == Role::Diluent {
            continue;
        }
        let off = (i.amount - i.exact).abs();
        assert!(
            off * Decimal::TWO <= step,
            "{}: amount {} is {} from exact {}, more than half of {}",
            i.name,
            i.amount,
            off,
            i.exact,
            step
        );
    }
});
