#!/usr/bin/env bash
# Rebuilds business-index-udfs.jar from java/ (needs a JDK 17 and pyspark installed; the jar is
# committed, so builds and CI need only a Java runtime). Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../../../../.venv/bin/python}"
jars="$("$python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
javac --release 17 -nowarn -cp "$jars/*" -d "$out" "$here"/java/uk/gov/businessindex/*.java
# fixed timestamps, so that the same source gives the same jar
find "$out" -exec touch -d '2020-01-01T00:00:00Z' {} +
(cd "$out" && jar --create --date=2020-01-01T00:00:00Z --file "$here/business-index-udfs.jar" uk)
echo "$here/business-index-udfs.jar"
