#!/usr/bin/env bash
# Create .venv (if missing) and install Business Index with its development tools.
# Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Business Index needs Python 3.11 or newer")'
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi

# Front-end packages from npm (GOV.UK Frontend for the pages, axe-core for their accessibility
# tests), copied into the Python package: pages are served from it, never from a CDN. GDS
# Transport, the GOV.UK font, is only for services on GOV.UK, so its files are not copied.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
fi
static=src/business_index/web/static
if [ ! -f "$static/govuk-frontend.min.css" ] || [ node_modules/.package-lock.json -nt "$static/govuk-frontend.min.css" ]; then
  cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$static/"
fi

# Debian's Chromium for the browser tests (Playwright drives it and never downloads a browser)
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# Java for pyspark (bx build --engine spark and its tests); pyspark brings Spark itself
if ! command -v java >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
fi
