#!/usr/bin/env bash
# Makes the seed corpora of the fuzz targets from files the project already keeps: the
# library, the test fixtures, the bad-input corpus and the documented examples. The corpora
# are generated, so they are not in git; run this once before the first `cargo fuzz run`.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/{formula,order,recipe,quantity,calc}
cp "$root"/formulas/*.toml "$root"/tests/fixtures/*.toml corpus/formula/
find "$root"/tests/bad-inputs -path '*/formula/*.toml' -exec cp {} corpus/formula/ \;
cp "$root"/docs/examples/order.toml corpus/order/
find "$root"/tests/bad-inputs -path '*/order/*.toml' -exec cp {} corpus/order/ \;
cp "$root"/docs/examples/recipe.toml corpus/recipe/
find "$root"/tests/bad-inputs -path '*/recipe/*.toml' -exec cp {} corpus/recipe/ \;
i=0
for v in "50 mg" "0.892 g" "1.0 g/mL" "0.033 mL" "250 mcg" "1,000 mg" "1e3 mg" "-5 mg" \
         "30" "30.5" "99.5" "2026-11-23" "Ketamine=50 mg" "K|L1|2027-01-31|Medisca"; do
    printf '%s' "$v" > "corpus/quantity/seed-$i"
    i=$((i + 1))
done
echo "seeded: $(find corpus -type f | wc -l) files"
