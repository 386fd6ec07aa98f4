#!/usr/bin/env bash
# Provisions what is missing (npm dependencies, a Docker engine, HAProxy for the router, the stock
# language-pack images) and starts Solum on its embedded defaults: PGlite and repos under ./data,
# SSH 2222, HTTP 3000, the router on 8080 (HTTPS 8443).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/provision.sh"
# Builders trust what this host trusts (needed behind TLS-inspecting proxies); override or unset
# SOLUM_BUILD_CA_BUNDLE to change that.
if [ -z "${SOLUM_BUILD_CA_BUNDLE+set}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export SOLUM_BUILD_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
fi
export SOLUM_DATA_DIR="${SOLUM_DATA_DIR:-$ROOT/data}"
exec node "$ROOT/dist/src/main.js"
