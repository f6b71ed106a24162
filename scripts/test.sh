#!/usr/bin/env bash
# The whole test suite: lint, type-check, then pytest. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy src
.venv/bin/pytest "$@"
