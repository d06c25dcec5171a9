//! Pharmacy settings: who prints the paperwork, on what paper, weighing on which balance.
//!
//! Read from `--config FILE`, else `troche.toml` in the current directory, else the user's
//! config directory (`$XDG_CONFIG_HOME/troche/troche.toml`, `~/.config/troche/troche.toml`, or
//! `%APPDATA%\troche\troche.toml`). Missing everywhere is fine for calculations and worksheets;
//! a label needs the pharmacy and says how to give it.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use toml::Spanned;

use crate::calc::Balance;
use crate::error::{Error, Result};
use crate::input::toml::{Field, Kind, RawNum, Source, opt, req, strip_bom};
use crate::library::read_text;
use crate::publish::FileMode;
use crate::quantity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pharmacy {
    pub name: String,
    pub address: String,
    pub phone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    Letter,
    A4,
}

impl Paper {
    /// Width and height in PDF points.
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::Letter => (612.0, 792.0),
            Paper::A4 => (595.28, 841.89),
        }
    }
}

/// Label stock size in points (f32 only because it is a PDF coordinate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSize {
    pub width_pt: f32,
    pub height_pt: f32,
}

impl Default for LabelSize {
    /// 4 × 2 in, the common pharmacy prescription label.
    fn default() -> Self {
        LabelSize {
            width_pt: 288.0,
            height_pt: 144.0,
        }
    }
}

/// A mold the pharmacy owns: its asset id and the name formulas give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoldId {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub pharmacy: Option<Pharmacy>,
    pub balance: Balance,
    pub paper: Paper,
    pub label: LabelSize,
    /// The pharmacy's aliquot diluent, for formulas that name none.
    pub diluent: Option<String>,
    /// The pharmacy's molds by id, so the worksheet can name the one to use.
    pub molds: Vec<MoldId>,
    /// Where the settings came from, for messages ("defaults" when no file was found).
    pub origin: String,
    /// The compounding log's location (`database = ...`), a path or a `postgres://` URL.
    pub database: Option<String>,
    /// Whose initials `--by` means at this workstation when not given (`user = "JD"`): it
    /// only names the signer, whose PIN is still asked for.
    pub user: Option<String>,
    /// The permissions of the files and folders written (`file_mode`; owner-only by default).
    pub file_mode: FileMode,
    /// The CA certificate a PostgreSQL log's server must be signed by (`ca_file`), relative
    /// to the settings file's folder.
    pub ca_file: Option<PathBuf>,
    /// `practice = true`: this workstation works in the practice log (docs/log.md), as with
    /// `--practice`.
    pub practice: bool,
}

impl Settings {
    /// The pharmacy, or an error that says how to configure it.
    pub fn require_pharmacy(&self) -> Result<&Pharmacy> {
        self.pharmacy.as_ref().ok_or_else(|| {
            Error::arg(
                "--config",
                format!(
                    "a label must show the pharmacy's name, address and phone, and none is configured \
                     (settings: {}). Run `troche init` to write a troche.toml to fill in, or \
                     add a [pharmacy] table with name, address and phone to the settings file \
                     in use, or pass --config FILE",
                    self.origin
                ),
            )
        })
    }
}

/// The keys of a settings file, as [`RawSettings`] has them.
pub(crate) const KEYS: &[Field] = &[
    opt(
        "pharmacy",
        Kind::Table(&[
            req("name", Kind::Text),
            req("address", Kind::Text),
            req("phone", Kind::Text),
        ]),
    ),
    opt("balance", Kind::Table(BALANCE_KEYS)),
    opt("paper", Kind::Table(&[req("size", Kind::Text)])),
    opt(
        "label",
        Kind::Table(&[req("width", Kind::Text), req("height", Kind::Text)]),
    ),
    opt("aliquot", Kind::Table(&[req("diluent", Kind::Text)])),
    opt(
        "mold",
        Kind::Tables(&[req("id", Kind::Text), req("name", Kind::Text)]),
    ),
    opt("database", Kind::Text),
    opt("user", Kind::Text),
    opt("file_mode", Kind::Text),
    opt("ca_file", Kind::Text),
    opt("practice", Kind::Any),
];

/// The keys of a `[balance]` table, here and in a recipe file.
pub(crate) const BALANCE_KEYS: &[Field] = &[
    opt("id", Kind::Text),
    opt("minimum_weight", Kind::Num),
    opt("readability", Kind::Num),
    opt("volume_readability", Kind::Num),
    opt("sensitivity", Kind::Num),
    opt("acceptable_error_percent", Kind::Num),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    pharmacy: Option<RawPharmacy>,
    balance: Option<RawBalance>,
    paper: Option<RawPaper>,
    label: Option<RawLabel>,
    aliquot: Option<RawAliquot>,
    #[serde(default)]
    mold: Vec<RawMoldId>,
    /// The compounding log: a SQLite file path or a `postgres://` URL (docs/log.md).
    database: Option<Spanned<String>>,
    /// The initials `--by` defaults to at this workstation.
    user: Option<Spanned<String>>,
    /// Octal permissions of the documents written, e.g. "0640" for a pharmacy group.
    file_mode: Option<Spanned<String>>,
    /// The PEM file of the CA that signed the PostgreSQL server's certificate.
    ca_file: Option<Spanned<String>>,
    /// `true` for a training workstation: every command uses the practice log.
    practice: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAliquot {
    diluent: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMoldId {
    id: Spanned<String>,
    name: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPharmacy {
    name: Spanned<String>,
    address: Spanned<String>,
    phone: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBalance {
    id: Option<Spanned<String>>,
    minimum_weight: Option<Spanned<RawNum>>,
    readability: Option<Spanned<RawNum>>,
    volume_readability: Option<Spanned<RawNum>>,
    sensitivity: Option<Spanned<RawNum>>,
    acceptable_error_percent: Option<Spanned<RawNum>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaper {
    size: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabel {
    width: Spanned<String>,
    height: Spanned<String>,
}

/// Reads a balance table (shared with recipe files, which may override the pharmacy's).
pub(crate) fn balance(src: &mut Source, raw: &RawBalance, mut b: Balance) -> Balance {
    if let Some(id) = &raw.id {
        b.id = Some(src.text(id, "balance.id"));
    }
    // A table that sets sensitivity or error sets the MWQ that way, over an inherited minimum
    // weight (a recipe's [balance] over the pharmacy's).
    if raw.minimum_weight.is_none()
        && (raw.sensitivity.is_some() || raw.acceptable_error_percent.is_some())
    {
        b.minimum_weight = None;
    }
    if let Some(n) = &raw.minimum_weight {
        if let Some(s) = raw
            .sensitivity
            .as_ref()
            .or(raw.acceptable_error_percent.as_ref())
        {
            src.push(
                Some(s.span()),
                "balance.minimum_weight",
                "give either minimum_weight (from the balance's USP <41> check) or sensitivity \
                 and acceptable_error_percent, not both: each sets the minimum weighable quantity",
            );
        } else if let Some(q) = src.mass(n, "balance.minimum_weight") {
            b.minimum_weight = Some(q.in_base());
        }
    }
    if let Some(n) = &raw.readability
        && let Some(q) = src.mass(n, "balance.readability")
    {
        b.readability = q.in_base();
    }
    if let Some(n) = &raw.volume_readability
        && let Some(q) = src.quantity(n, "balance.volume_readability")
    {
        if q.dimension() == quantity::Dimension::Volume {
            b.volume_readability = q.in_base();
        } else {
            src.push(
                Some(n.span()),
                "balance.volume_readability",
                "must be a volume, e.g. \"0.01 mL\"",
            );
        }
    }
    if let Some(n) = &raw.sensitivity
        && let Some(q) = src.mass(n, "balance.sensitivity")
    {
        b.sensitivity = q.in_base();
    }
    if let Some(n) = &raw.acceptable_error_percent
        && let Some(v) = src.positive(n, "balance.acceptable_error_percent")
    {
        if v > Decimal::ONE_HUNDRED {
            src.push(
                Some(n.span()),
                "balance.acceptable_error_percent",
                "must be at most 100",
            );
        } else {
            b.acceptable_error_percent = v;
        }
    }
    b
}

/// Parses a label dimension such as "4 in" or "101.6 mm" into points.
fn length_pt(src: &mut Source, s: &Spanned<String>, key: &str) -> Option<f32> {
    let t = s.get_ref().trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_alphabetic()).unwrap_or(t.len()));
    let per_unit = match unit.trim().to_ascii_lowercase().as_str() {
        "in" => 72.0,
        "mm" => 72.0 / 25.4,
        _ => {
            src.push(
                Some(s.span()),
                key,
                format!("\"{t}\" needs a unit: in or mm, e.g. \"4 in\""),
            );
            return None;
        }
    };
    match quantity::parse_positive(num, "the length") {
        Ok(v) => {
            let pt = v.to_f32().unwrap_or(0.0) * per_unit;
            if (72.0..=1440.0).contains(&pt) {
                Some(pt)
            } else {
                src.push(
                    Some(s.span()),
                    key,
                    format!("\"{t}\" is outside 1 to 20 inches"),
                );
                None
            }
        }
        Err(e) => {
            src.push(Some(s.span()), key, e.0);
            None
        }
    }
}

/// Parses settings text; `file` names it in messages.
pub fn parse(text: &str, file: &str) -> Result<Settings> {
    let text = strip_bom(text);
    let mut src = Source::new(text, file);
    let Some(raw) = src.read::<RawSettings>(KEYS)? else {
        return src.fail();
    };
    let pharmacy = raw.pharmacy.as_ref().map(|p| Pharmacy {
        name: src.text(&p.name, "pharmacy.name"),
        address: src.text(&p.address, "pharmacy.address"),
        phone: src.text(&p.phone, "pharmacy.phone"),
    });
    let balance = match &raw.balance {
        Some(b) => balance(&mut src, b, Balance::default()),
        None => Balance::default(),
    };
    let paper = match &raw.paper {
        None => Paper::Letter,
        Some(p) => match p.size.get_ref().trim().to_ascii_lowercase().as_str() {
            "letter" => Paper::Letter,
            "a4" => Paper::A4,
            other => {
                src.push(
                    Some(p.size.span()),
                    "paper.size",
                    format!("unknown paper \"{other}\"; allowed: letter, a4"),
                );
                Paper::Letter
            }
        },
    };
    let label = match &raw.label {
        None => LabelSize::default(),
        Some(l) => {
            let w = length_pt(&mut src, &l.width, "label.width");
            let h = length_pt(&mut src, &l.height, "label.height");
            LabelSize {
                width_pt: w.unwrap_or(288.0),
                height_pt: h.unwrap_or(144.0),
            }
        }
    };
    let diluent = raw
        .aliquot
        .as_ref()
        .map(|a| src.text(&a.diluent, "aliquot.diluent"));
    let molds = raw
        .mold
        .iter()
        .enumerate()
        .map(|(i, m)| MoldId {
            id: src.text(&m.id, &format!("mold[{}].id", i + 1)),
            name: src.text(&m.name, &format!("mold[{}].name", i + 1)),
        })
        .collect();
    let database = raw.database.as_ref().map(|d| src.text(d, "database"));
    let user = raw.user.as_ref().map(|u| src.text(u, "user"));
    let file_mode = match &raw.file_mode {
        None => FileMode::default(),
        Some(m) => FileMode::parse(m.get_ref()).unwrap_or_else(|e| {
            src.push(Some(m.span()), "file_mode", e);
            FileMode::default()
        }),
    };
    let ca_file = raw.ca_file.as_ref().map(|c| {
        let p = PathBuf::from(src.text(c, "ca_file"));
        match Path::new(file).parent() {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        }
    });
    let practice = match &raw.practice {
        None => false,
        Some(v) => v.get_ref().as_bool().unwrap_or_else(|| {
            src.push(
                Some(v.span()),
                "practice",
                "must be true or false (without quotes)".to_string(),
            );
            false
        }),
    };
    src.finish()?;
    Ok(Settings {
        practice,
        database,
        user,
        file_mode,
        ca_file,
        pharmacy,
        balance,
        paper,
        label,
        diluent,
        molds,
        origin: file.to_string(),
    })
}

/// The settings file in the user's configuration directory, as the platform names it
/// (`$XDG_CONFIG_HOME` or `~/.config` on Linux, Application Support on macOS, `%APPDATA%` on
/// Windows).
pub(crate) fn user_config_file() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join("troche").join("troche.toml"))
}

/// Finds and reads the settings in the documented order.
pub fn load(explicit: Option<&Path>) -> Result<Settings> {
    if let Some(p) = explicit {
        // A settings file that is not there is a mistake in the command, not a failure of
        // the machine.
        if !p.exists() {
            return Err(Error::arg(
                "--config",
                format!(
                    "{}: no such file; give the pharmacy's settings file (`troche init \
                     --path FILE` writes one to fill in)",
                    p.display()
                ),
            ));
        }
        return parse(&read_text(p)?, &p.display().to_string());
    }
    let candidates = [Some(PathBuf::from("troche.toml")), user_config_file()];
    for c in candidates.into_iter().flatten() {
        if c.is_file() {
            return parse(&read_text(&c)?, &c.display().to_string());
        }
    }
    Ok(Settings {
        origin: "none found: no --config, no ./troche.toml, no user config file".to_string(),
        ..Settings::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a recipe's [balance] that sets sensitivity kept the pharmacy's minimum
    /// weight, which silently went on deciding the MWQ.
    #[test]
    fn sensitivity_over_an_inherited_minimum_weight_takes_effect() {
        let s = parse(
            "[balance]\nid = \"B-1\"\nminimum_weight = \"100 mg\"\n",
            "cfg.toml",
        )
        .unwrap();
        assert_eq!(s.balance.mwq().unwrap(), Decimal::new(100, 3));
        assert_eq!(s.balance.id.as_deref(), Some("B-1"));
        let text = "sensitivity = \"6 mg\"\n";
        let raw: RawBalance = toml::from_str(text).unwrap();
        let mut src = Source::new(text, "recipe.toml");
        let b = balance(&mut src, &raw, s.balance);
        assert_eq!(b.mwq().unwrap(), Decimal::new(120, 3));
        let e = parse(
            "[balance]\nminimum_weight = \"20 mg\"\nsensitivity = \"6 mg\"\n",
            "cfg.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not both"), "{e}");
    }

    #[test]
    fn reads_a_full_config() {
        let s = parse(
            r#"
[pharmacy]
name = "Main Street Compounding"
address = "1 Main St, Springfield"
phone = "555-0100"
[balance]
readability = "0.0001 g"
sensitivity = "1 mg"
acceptable_error_percent = "5"
[paper]
size = "a4"
[label]
width = "3 in"
height = "50.8 mm"
"#,
            "t",
        )
        .unwrap();
        assert_eq!(s.pharmacy.unwrap().phone, "555-0100");
        assert_eq!(s.balance.readability, Decimal::new(1, 4));
        assert_eq!(s.balance.mwq().unwrap(), Decimal::new(2, 2));
        assert_eq!(s.paper, Paper::A4);
        assert!((s.label.height_pt - 144.0).abs() < 0.01);
    }

    #[test]
    fn names_bad_keys() {
        let e = parse("[balance]\nreadability = \"1 mL\"\n", "cfg.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cfg.toml:2: `balance.readability`"), "{e}");
        assert!(parse("[pharmacy]\nname = \"x\"\n", "c").is_err());
        assert!(parse("[label]\nwidth = \"4\"\nheight = \"2 in\"", "c").is_err());
    }
}
