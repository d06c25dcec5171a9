#!/usr/bin/env python3
"""The reference the batch-run speed is measured against (docs/performance.md).

A plain Python script doing the same job as `troche batch` the obvious way, with reportlab:
for every [[batch]] entry of a recipe file it reads the formula, computes every amount with
exact decimals (strength x units x salt factor, excipients per unit or percent of blank,
displacement, base), and writes a one-page worksheet PDF, a label PDF and a JSON record.
It is simpler than troche (one page, no aliquots, no BUD capping), so the comparison flatters
it.

    pip install reportlab
    python3 benches/reportlab_reference.py RECIPE.toml OUT_DIR
"""

import json
import os
import sys
import tomllib
from decimal import Decimal

from reportlab.lib.pagesizes import letter
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


def main():
    recipe_path, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
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
