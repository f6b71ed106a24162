#!/usr/bin/env bash
# The main job on the embedded default (DuckDB): make a sample borough, build its index, score it
# against the borough's truth, write the CSV exports, then serve the API on 127.0.0.1:$PORT (8000).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
scripts/setup.sh
if ! .venv/bin/python -c "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$PORT" 2>/dev/null; then
  echo "Port $PORT is taken (another demo still running?). Stop it, or run: PORT=8001 $0" >&2
  exit 2
fi
# the token secret of the demo, kept across runs in sample/demo.env so tokens stay valid
if [ -z "${BX_JWT_SECRET:-}" ] && [ -f sample/demo.env ]; then
  # shellcheck disable=SC1091
  source sample/demo.env
fi
if [ -z "${BX_JWT_SECRET:-}" ]; then
  BX_JWT_SECRET="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
fi
export BX_JWT_SECRET
.venv/bin/bx generate --out sample --seed 3 --properties 5000
printf 'export BX_JWT_SECRET=%s\n' "$BX_JWT_SECRET" > sample/demo.env
.venv/bin/bx build --config sample/sources.toml --index sample/index.duckdb
.venv/bin/bx evaluate --index sample/index.duckdb --truth sample/truth
for what in records establishments organisations properties quarantine unmatched; do
  .venv/bin/bx export "$what" --index sample/index.duckdb --out "sample/$what.csv"
done
READ="$(.venv/bin/bx token --scope read --sub demo-app)"
SUBMIT="$(.venv/bin/bx token --scope submit --sub demo-officer)"
REVIEW="$(.venv/bin/bx token --scope read --scope review --sub demo-data-team)"
ADMIN="$(.venv/bin/bx token --scope admin --sub demo-admin)"
PAGES="$(.venv/bin/bx token --scope read --scope submit --sub demo-resident)"
POSTCODE="$(.venv/bin/python -c "import duckdb; print(duckdb.connect('sample/index.duckdb', read_only=True).execute(\"SELECT postcode FROM property_names JOIN addresses USING (uprn) WHERE postcode IS NOT NULL ORDER BY uprn LIMIT 1\").fetchall()[0][0])")"
echo
echo "Exports: sample/{records,establishments,organisations,properties,quarantine,unmatched}.csv"
echo "API docs: http://127.0.0.1:$PORT/api/v1/docs"
echo "The demo's token secret is in sample/demo.env: 'source sample/demo.env' in another shell, and the"
echo "README's 'bx token' examples work against this server. Tokens for every scope (12 hours):"
echo "  READ=$READ"
echo "  SUBMIT=$SUBMIT"
echo "  REVIEW=$REVIEW"
echo "  ADMIN=$ADMIN"
echo "Try: curl -H \"Authorization: Bearer \$READ\" \"http://127.0.0.1:$PORT/api/v1/addresses?postcode=${POSTCODE// /%20}\""
echo "Pages: http://127.0.0.1:$PORT/find-your-business, signed in with this token (read and submit):"
echo "  PAGES=$PAGES"
echo "  and /review, /businesses, /dashboard with the REVIEW token"
echo "More in the README, sections 'The API' and 'Pages'. Submissions are kept in sample/index.submissions.sqlite3."
exec .venv/bin/bx serve --index sample/index.duckdb --host 127.0.0.1 --port "$PORT"
