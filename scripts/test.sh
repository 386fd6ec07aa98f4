#!/usr/bin/env bash
# Provisions what the tests need (Docker, pack images, PostgreSQL, Chromium) and runs the whole
# suite: type check, lint, then every test (unit, stores on PGlite and PostgreSQL, end to end).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/provision.sh" --test
export SOLUM_TEST_DATABASE_URL="${SOLUM_TEST_DATABASE_URL:-$(cat "$ROOT/.provision/test-database-url")}"
if [ -z "${SOLUM_BUILD_CA_BUNDLE+set}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export SOLUM_BUILD_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
fi
echo "-----> lint"
npx eslint .
echo "-----> tests"
set +e
npx ava "$@" 2>&1 | tee "$ROOT/.provision/ava.log"
status=${PIPESTATUS[0]}
set -e
# One closing line any CI can read.
# ava prints "N tests passed" only when nothing failed; count the ticks otherwise.
passed=$(grep -Eo '([0-9]+) tests? passed' "$ROOT/.provision/ava.log" | grep -Eo '^[0-9]+' | tail -n 1 || true)
[ -n "$passed" ] || passed=$(grep -c '^  ✔' "$ROOT/.provision/ava.log" || true)
failed=$(grep -Eo '([0-9]+) tests? failed' "$ROOT/.provision/ava.log" | grep -Eo '^[0-9]+' | tail -n 1 || true)
skipped=$(grep -Eo '([0-9]+) tests? skipped' "$ROOT/.provision/ava.log" | grep -Eo '^[0-9]+' | tail -n 1 || true)
if [ "$status" -ne 0 ] && [ -z "$failed" ]; then failed=1; fi
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
