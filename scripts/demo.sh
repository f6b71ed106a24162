#!/usr/bin/env bash
# The main job on the embedded default (DuckDB): make a sample borough, build its index, report it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/bx generate --out sample --seed 3 --properties 5000
.venv/bin/bx build --config sample/sources.toml --index sample/index.duckdb
