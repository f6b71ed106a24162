#!/usr/bin/env bash
# The main job on the embedded default (DuckDB): make a sample borough, build its index, score it
# against the borough's truth, and write the CSV exports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/bx generate --out sample --seed 3 --properties 5000
.venv/bin/bx build --config sample/sources.toml --index sample/index.duckdb
.venv/bin/bx evaluate --index sample/index.duckdb --truth sample/truth
for what in records businesses properties; do
  .venv/bin/bx export "$what" --index sample/index.duckdb --out "sample/$what.csv"
done
echo "Index: sample/index.duckdb  Exports: sample/records.csv sample/businesses.csv sample/properties.csv"
