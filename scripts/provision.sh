#!/usr/bin/env bash
# Provisions what Solum needs on a Debian host: npm dependencies, a Docker engine, the stock
# language-pack images and (with --test) what the test suite adds: a running PostgreSQL and Chromium.
# Idempotent: each step checks before it acts, and it stops only processes it started itself.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${SOLUM_PROVISION_DIR:-$ROOT/.provision}"
BASE_IMAGE="${SOLUM_BASE_IMAGE:-solum/base:bookworm}"
mkdir -p "$STATE"

log() { printf -- '-----> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ ! -f "$STATE/apt-updated" ]; then as_root apt-get update -qq; touch "$STATE/apt-updated"; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_node_modules() {
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm dependencies"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  log "compiling TypeScript"
  (cd "$ROOT" && npm run --silent build)
}

docker_up() { timeout 5 docker info >/dev/null 2>&1; }

ensure_docker() {
  command -v git >/dev/null || apt_install git
  if docker_up; then return 0; fi
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || apt_install docker.io
  # A dockerd killed with its session leaves its pid file behind; drop it only when no live
  # process owns it.
  if [ -f /var/run/docker.pid ]; then
    local pid; pid="$(cat /var/run/docker.pid)"
    if ! kill -0 "$pid" 2>/dev/null; then as_root rm -f /var/run/docker.pid; fi
  fi
  log "starting dockerd (no default bridge, no iptables: Solum makes its own networks and firewall table)"
  as_root sh -c "nohup dockerd --bridge=none --iptables=false --ip-masq=false >'$STATE/dockerd.log' 2>&1 & echo \$! >'$STATE/dockerd.pid'"
  for _ in $(seq 1 60); do docker_up && return 0; sleep 0.5; done
  log "dockerd did not come up; its log:"; tail -n 30 "$STATE/dockerd.log" >&2; exit 1
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  apt_install debootstrap
  local dir="$STATE/rootfs"
  log "making $BASE_IMAGE with debootstrap (no registry needed)"
  as_root rm -rf "$dir"
  as_root debootstrap --variant=minbase bookworm "$dir" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$STATE/debootstrap.log" >&2; exit 1; }
  as_root rm -rf "$dir/var/cache/apt/archives"/*.deb "$dir/var/lib/apt/lists"/*
  as_root tar -C "$dir" -c . | docker import - "$BASE_IMAGE" >/dev/null
  as_root rm -rf "$dir"
}

# One image per folder with a Dockerfile under $1 (tagged solum/$2-<folder>:$5, default latest), built
# FROM the base image; the stamp label $3 records which sources an image was built from, so an
# unchanged folder is not rebuilt. Folders without a Dockerfile (the dockerfile pack) have no image.
ensure_images_from() {
  local root="$1" prefix="$2" label="$3" what="$4" tag="${5:-latest}"
  for dir in "$root"/*/; do
    [ -f "$dir/Dockerfile" ] || continue
    local name; name="$(basename "$dir")"
    local image="solum/$prefix-$name:$tag"
    local stamp; stamp="$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
    if [ "$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$image" 2>/dev/null || true)" = "$stamp" ]; then
      continue
    fi
    log "building $what $name"
    docker build --network host -q \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" \
      --label "$label=$stamp" \
      -t "$image" "$dir" >/dev/null
  done
}

# Stock language packs (language-packs/) and backing service images (services/: postgres, redis).
ensure_language_packs() { ensure_images_from "$ROOT/language-packs" lp io.solum.language-pack.source "language pack"; }
# Service images are tagged with the version of their interface with Solum: 2 listens where
# SOLUM_SERVICE_LISTEN says (container networks, decision 0014); :latest was loopback-only.
ensure_service_images() { ensure_images_from "$ROOT/services" svc io.solum.service.source "service image" 2; }

ensure_postgres() {
  if [ -n "${SOLUM_TEST_DATABASE_URL:-}" ]; then echo "$SOLUM_TEST_DATABASE_URL" >"$STATE/test-database-url"; return 0; fi
  apt_install postgresql
  local ver; ver="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
  local bin="/usr/lib/postgresql/$ver/bin"
  # Outside the checkout: the postgres user must reach it whatever the checkout's parents allow.
  local pgdir="${SOLUM_TEST_PG_DIR:-/var/tmp/solum-test-postgres}" port="${SOLUM_TEST_PG_PORT:-55432}"
  if ! pg_isready -h 127.0.0.1 -p "$port" -q 2>/dev/null; then
    as_root mkdir -p "$pgdir"
    as_root chown postgres: "$pgdir"
    if [ ! -f "$pgdir/data/PG_VERSION" ]; then
      log "initialising a PostgreSQL cluster for the tests in $pgdir"
      as_root su postgres -s /bin/sh -c "$bin/initdb -D '$pgdir/data' -A trust -U postgres" >/dev/null
    fi
    # A cluster killed with its session leaves its pid file behind.
    if [ -f "$pgdir/data/postmaster.pid" ] && ! kill -0 "$(head -n 1 "$pgdir/data/postmaster.pid")" 2>/dev/null; then
      as_root rm -f "$pgdir/data/postmaster.pid"
    fi
    log "starting PostgreSQL on 127.0.0.1:$port"
    as_root su postgres -s /bin/sh -c "$bin/pg_ctl -D '$pgdir/data' -l '$pgdir/postgres.log' -o '-c listen_addresses=127.0.0.1 -p $port -k /tmp -c max_connections=200 -c fsync=off' -w start" >/dev/null
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres" >"$STATE/test-database-url"
}

# The dashboard's end-to-end tests drive Debian's Chromium (playwright-core downloads no browser).
ensure_browser() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium
}

# Solum walls its container networks in with a table of its own (docs/decisions/0014-container-networks.md).
ensure_nftables() {
  command -v nft >/dev/null 2>&1 || apt_install nftables
}

# The suite's second git implementation (dulwich, pure Python) clones and pushes like a user's would.
ensure_dulwich() {
  /usr/bin/python3 -c 'import dulwich' >/dev/null 2>&1 || apt_install python3-dulwich
}

main() {
  local for_tests=0
  for arg in "$@"; do case "$arg" in --test | --postgres) for_tests=1 ;; esac; done
  ensure_node_modules
  ensure_docker
  ensure_nftables
  ensure_base_image
  ensure_language_packs
  ensure_service_images
  if [ "$for_tests" = 1 ]; then
    ensure_postgres
    ensure_browser
    ensure_dulwich
  fi
  return 0
}

main "$@"
