#!/usr/bin/env bash
# The main job on the embedded default (DuckDB): make a sample borough, build its index, score it
# against the borough's truth, write the CSV exports, then serve the API on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/bx generate --out sample --seed 3 --properties 5000
.venv/bin/bx build --config sample/sources.toml --index sample/index.duckdb
.venv/bin/bx evaluate --index sample/index.duckdb --truth sample/truth
for what in records establishments organisations properties; do
  .venv/bin/bx export "$what" --index sample/index.duckdb --out "sample/$what.csv"
done
if [ -z "${BX_JWT_SECRET:-}" ]; then
  # a throwaway secret for this demo run; set BX_JWT_SECRET yourself to keep tokens across runs
  BX_JWT_SECRET="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
  export BX_JWT_SECRET
fi
TOKEN="$(.venv/bin/bx token --scope read --scope review --sub demo)"
SUBMIT_TOKEN="$(.venv/bin/bx token --scope submit --sub demo-officer)"
POSTCODE="$(.venv/bin/python -c "import duckdb; print(duckdb.connect('sample/index.duckdb', read_only=True).execute(\"SELECT postcode FROM property_names JOIN addresses USING (uprn) WHERE postcode IS NOT NULL ORDER BY uprn LIMIT 1\").fetchall()[0][0])")"
echo
echo "Exports: sample/records.csv sample/establishments.csv sample/organisations.csv sample/properties.csv"
echo "API docs: http://127.0.0.1:8000/api/v1/docs"
echo "A demo token (read, review): $TOKEN"
echo "A demo token (submit): $SUBMIT_TOKEN"
echo "Try: curl -H \"Authorization: Bearer $TOKEN\" \"http://127.0.0.1:8000/api/v1/addresses?postcode=${POSTCODE// /%20}\""
echo "More in the README, section 'The API'. Submissions are kept in sample/index.submissions.sqlite3."
exec .venv/bin/bx serve --index sample/index.duckdb --host 127.0.0.1 --port 8000
