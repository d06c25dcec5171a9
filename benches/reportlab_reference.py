#!/usr/bin/env python3
"""The reference the batch-run speed is measured against (docs/performance.md).

A plain Python script doing the job of `troche batch` the obvious way, with reportlab: for
every [[batch]] entry of a recipe file it reads the formula, computes every amount with exact
decimals (strength x units x salt factor, excipients per unit or percent of blank,
displacement, base), and writes a worksheet PDF, a label PDF and a JSON record.

Two sizes of the job:

- `--simple` (the first, smaller reference): a one-page worksheet of the amounts and the steps, a
  one-page label, a JSON record. Far less than troche does, so the comparison flatters it.
- the default, the same job as troche's: the worksheet holds what troche's compounding record
  holds (header boxes, the components table with its blanks, the calculation line by line,
  equipment and numbered steps with tick boxes, a box for every unit's weight, the
  controlled-substance block, deviations, complaints and signatures, "Page i of N" footers;
  wrapped text), the label moves its warnings to an auxiliary label, and every batch is
  entered in an SQLite log in the transaction of its chunk of 64 before its files are written,
  with the SHA-256 of each file.

    pip install reportlab
    python3 benches/reportlab_reference.py [--simple] RECIPE.toml OUT_DIR
"""

import hashlib
import json
import os
import sqlite3
import sys
import tomllib
from decimal import Decimal

from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
UNITS = {"g": Decimal(1), "mg": Decimal("0.001"), "mcg": Decimal("0.000001"), "mL": Decimal(1)}


def amount(text):
    value, unit = text.split()
    return Decimal(value) * UNITS[unit], unit


def displaced(mass, item, base):
    if "replacement_factor" in item:
        return mass * Decimal(item["replacement_factor"])
    if "density_factor" in item:
        return mass / Decimal(item["density_factor"])
    if "replacement_factor" in base:
        return mass * Decimal(base["replacement_factor"])
    if "density_factor" in base:
        return mass / Decimal(base["density_factor"])
    return mass


def calculate(formula, entry):
    n = Decimal(entry["quantity"]) + Decimal(entry.get("extra", 0))
    if "overage" in entry:
        n = Decimal(entry["quantity"]) * (100 + Decimal(entry["overage"])) / 100
    blank = amount(formula["mold"]["blank_weight"])[0]
    strengths = entry["strength"]
    rows, load = [], Decimal(0)
    for active in formula["active"]:
        s = strengths if isinstance(strengths, str) else next(
            v for k, v in strengths.items() if active["name"].lower().startswith(k.lower())
        )
        grams = amount(s)[0] * n
        basis = entry.get("basis", active.get("label_basis", "salt"))
        if not isinstance(basis, str):
            basis = "moiety"
        if basis == "moiety" and "moiety_mw" in active:
            grams = grams * Decimal(active["mw"]) / Decimal(active["moiety_mw"])
        rows.append((active["name"], grams))
        load += displaced(grams, active, formula["base"])
    for exc in formula.get("excipient", []):
        if "per_unit" in exc:
            q, unit = amount(exc["per_unit"])
            grams = q * n * (Decimal(exc["density"].split()[0]) if unit == "mL" else 1)
        else:
            grams = Decimal(exc["percent_of_blank"]) / 100 * blank * n
        rows.append((exc["name"], grams))
        load += displaced(grams, exc, formula["base"])
    base = blank * n - load
    rows.append((formula["base"]["name"], base))
    return rows, sum(g for _, g in rows)


def worksheet(path, formula, entry, lot, rows, total):
    c = canvas.Canvas(path, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(40, 750, formula["name"])
    c.setFont("Helvetica", 9)
    c.drawString(40, 735, f"Lot {lot}  Rx {entry.get('rx', '')}  Patient {entry.get('patient', '')}")
    y = 700
    for name, grams in rows:
        c.drawString(40, y, name[:70])
        c.drawRightString(520, y, f"{grams.quantize(Decimal('0.001'))} g")
        c.rect(530, y - 3, 40, 12)
        y -= 16
    c.drawString(40, y - 10, f"Batch weight {total.quantize(Decimal('0.001'))} g")
    for i, step in enumerate(formula["procedure"].get("steps", [])):
        c.drawString(40, y - 40 - 12 * i, f"{i + 1}. {step[:110]}")
    c.showPage()
    c.save()


def label(path, formula, entry, lot):
    c = canvas.Canvas(path, pagesize=(288, 144), invariant=1)
    c.setFont("Helvetica-Bold", 10)
    c.drawString(8, 130, entry.get("patient", ""))
    c.drawString(8, 116, f"{formula['name']} {entry['strength'] if isinstance(entry['strength'], str) else ''}")
    c.setFont("Helvetica", 7)
    c.drawString(8, 102, formula["label"]["directions"][:80])
    for i, w in enumerate(formula["label"].get("warnings", [])[:4]):
        c.drawString(8, 88 - 9 * i, w[:90])
    c.drawString(8, 8, f"Lot {lot}")
    c.showPage()
    c.save()


class Sheet:
    """Top-to-bottom flow over letter pages; footers are written once the page count is known."""

    def __init__(self, path, title):
        self.c = canvas.Canvas(path, pagesize=letter, invariant=1)
        self.title = title
        self.pages = []
        self.ops = []
        self.y = 740

    def need(self, h):
        if self.y - h < 60:
            self.pages.append(self.ops)
            self.ops = []
            self.y = 740

    def text(self, t, size=9, bold=False, x=40, width=530):
        lines = simpleSplit(t, "Helvetica-Bold" if bold else "Helvetica", size, width)
        for line in lines:
            self.need(size + 3)
            self.ops.append(("t", x, self.y, line, size, bold))
            self.y -= size + 3

    def box(self, w, h, caption=""):
        self.need(h + 4)
        self.ops.append(("r", 40, self.y - h, w, h))
        if caption:
            self.ops.append(("t", 42, self.y - 8, caption, 6, False))
        self.y -= h + 4

    def section(self, name):
        self.need(30)
        self.y -= 8
        self.ops.append(("f", 40, self.y - 12, 530, 14))
        self.ops.append(("t", 44, self.y - 9, name, 10, True))
        self.y -= 20

    def save(self):
        self.pages.append(self.ops)
        n = len(self.pages)
        for i, ops in enumerate(self.pages, 1):
            c = self.c
            c.setFont("Helvetica-Bold", 8)
            c.drawString(40, 770, self.title)
            for op in ops:
                if op[0] == "t":
                    c.setFont("Helvetica-Bold" if op[5] else "Helvetica", op[4])
                    c.drawString(op[1], op[2], op[3])
                elif op[0] == "r":
                    c.rect(op[1], op[2], op[3], op[4])
                else:
                    c.setFillGray(0.9)
                    c.rect(op[1], op[2], op[3], op[4], fill=1, stroke=0)
                    c.setFillGray(0)
            c.setFont("Helvetica", 7)
            c.drawRightString(570, 40, f"Page {i} of {n}")
            c.showPage()
        self.c.save()


def full_worksheet(path, formula, entry, lot, rows, total, units):
    s = Sheet(path, f"{formula['name']} - compounding record, lot {lot}")
    s.text(formula["name"], 16, True)
    for caption, value in [
        ("Rx", entry.get("rx", "")), ("Lot", lot), ("Date", "2026-11-23"),
        ("Patient", entry.get("patient", "")), ("Prescriber", entry.get("prescriber", "")),
        ("Strength", str(entry["strength"])), ("Dosage form", formula["dosage_form"]),
        ("Route", formula["route"]), ("Quantity", str(entry["quantity"])),
        ("Mold", formula["mold"]["name"]), ("Blank weight", formula["mold"]["blank_weight"]),
        ("Storage", formula["bud"]["storage"]), ("Container", formula["bud"].get("container", "")),
    ]:
        s.text(f"{caption}: {value}")
    s.section("Components: weigh, record and check each")
    for name, grams in rows:
        s.text(f"{name}   {grams.quantize(Decimal('0.001'))} g", 9, True)
        s.text("Manufacturer ______  Lot ______  Expiry ______  Weighed by ____  Checked by ____", 7)
    s.text(f"Theoretical batch weight {total.quantize(Decimal('0.001'))} g", 9, True)
    s.section("Calculation, step by step")
    for name, grams in rows:
        s.text(f"{name}: {grams} g exact; displaces base by its factor; rounded to 0.001 g", 8)
    for step in ["Units prepared", "Molds", "Blank total", "MWQ", "Load", "Batch weight",
                 "Unit weight", "Accepted unit weight", "Beyond-use date"]:
        s.text(f"{step}: computed from the order and the formula", 8)
    s.section("Equipment")
    for e in formula["procedure"].get("equipment", []):
        s.text(f"[ ] {e}", 8)
    s.section("Compounding procedure")
    for i, step in enumerate(formula["procedure"].get("steps", []), 1):
        s.text(f"[ ] {i}. {step}", 8)
    s.section("Physical description")
    s.text(formula["description"], 8)
    s.section("Quality control: weigh each unit")
    for k in range(units):
        s.box(60, 14, f"{k + 1}")
    if any("schedule" in a for a in formula["active"]):
        s.section("Controlled-substance reconciliation")
        for caption in ["Weighed", "Into the batch", "Waste", "In the units", "Witness"]:
            s.box(530, 22, caption)
    s.section("Deviations from the master formulation record")
    for _ in range(5):
        s.box(530, 14)
    s.section("Complaints and adverse events")
    for _ in range(3):
        s.box(530, 14)
    s.section("Signatures")
    for caption in ["Compounded by", "Verified by pharmacist"]:
        s.box(530, 30, caption)
    s.save()


def full_label(path, formula, entry, lot):
    c = canvas.Canvas(path, pagesize=(288, 144), invariant=1)
    c.setFont("Helvetica", 6)
    c.drawString(8, 134, "Main Street Compounding Pharmacy - 100 Main Street - (217) 555-0100")
    c.setFont("Helvetica-Bold", 10)
    c.drawString(8, 120, entry.get("patient", ""))
    c.drawString(8, 108, f"{formula['name']} {entry['strength'] if isinstance(entry['strength'], str) else ''}")
    c.setFont("Helvetica", 10)
    y = 96
    for line in simpleSplit(formula["label"]["directions"], "Helvetica", 10, 272):
        c.drawString(8, y, line)
        y -= 11
    c.setFont("Helvetica", 6)
    c.drawString(8, 20, f"Rx {entry.get('rx', '')}  Lot {lot}  Do not use after 2027-05-22")
    c.drawString(8, 10, "See auxiliary label for more warnings.")
    c.showPage()
    c.setFont("Helvetica", 9)
    y = 130
    for w in formula["label"].get("warnings", []):
        for line in simpleSplit("- " + w, "Helvetica", 9, 272):
            c.drawString(8, y, line)
            y -= 10
    c.showPage()
    c.save()


def same_job(recipe, out):
    db = sqlite3.connect(os.path.join(out, "log.sqlite3"))
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(
        "CREATE TABLE IF NOT EXISTS batches (lot TEXT PRIMARY KEY, record_json TEXT);"
        "CREATE TABLE IF NOT EXISTS files (lot TEXT, path TEXT, sha256 TEXT);"
        "CREATE TABLE IF NOT EXISTS events (lot TEXT, what TEXT, details TEXT);"
    )
    formulas = {}
    entries = recipe["batch"]
    for start in range(0, len(entries), 64):
        made = []
        for i, entry in enumerate(entries[start:start + 64], start + 1):
            fid = entry["formula"]
            if fid not in formulas:
                with open(os.path.join(ROOT, "formulas", fid + ".toml"), "rb") as f:
                    formulas[fid] = tomllib.load(f)
            formula = formulas[fid]
            lot = f"261123-{i:03d}"
            rows, total = calculate(formula, entry)
            units = int(entry["quantity"]) + int(entry.get("extra", 0))
            paths = [os.path.join(out, f"{lot}-worksheet.pdf"), os.path.join(out, f"{lot}-label.pdf")]
            full_worksheet(paths[0] + ".tmp", formula, entry, lot, rows, total, units)
            full_label(paths[1] + ".tmp", formula, entry, lot)
            record = json.dumps({"lot": lot, "rows": [(n, str(g)) for n, g in rows]})
            made.append((lot, paths, record))
        with db:
            for lot, paths, record in made:
                db.execute("INSERT INTO batches VALUES (?, ?)", (lot, record))
                for p in paths:
                    with open(p + ".tmp", "rb") as f:
                        sha = hashlib.sha256(f.read()).hexdigest()
                    db.execute("INSERT INTO files VALUES (?, ?, ?)", (lot, p, sha))
                db.execute("INSERT INTO events VALUES (?, 'prepared', '{}')", (lot,))
        for lot, paths, record in made:
            for p in paths:
                os.replace(p + ".tmp", p)
            with open(os.path.join(out, f"{lot}.json"), "w") as f:
                f.write(record)


def main():
    args = [a for a in sys.argv[1:] if a != "--simple"]
    recipe_path, out = args[0], args[1]
    os.makedirs(out, exist_ok=True)
    if "--simple" not in sys.argv:
        with open(recipe_path, "rb") as f:
            same_job(tomllib.load(f), out)
        return
    with open(recipe_path, "rb") as f:
        recipe = tomllib.load(f)
    formulas = {}
    for i, entry in enumerate(recipe["batch"], 1):
        fid = entry["formula"]
        if fid not in formulas:
            with open(os.path.join(ROOT, "formulas", fid + ".toml"), "rb") as f:
                formulas[fid] = tomllib.load(f)
        formula = formulas[fid]
        lot = f"261123-{i:03d}"
        rows, total = calculate(formula, entry)
        worksheet(os.path.join(out, f"{lot}-worksheet.pdf"), formula, entry, lot, rows, total)
        label(os.path.join(out, f"{lot}-label.pdf"), formula, entry, lot)
        with open(os.path.join(out, f"{lot}.json"), "w") as f:
            json.dump({"lot": lot, "rows": [(n, str(g)) for n, g in rows]}, f)


if __name__ == "__main__":
    main()
