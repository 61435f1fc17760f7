#!/usr/bin/env bash
# Installs what the HA test (test/ha) runs besides step-ca: HAProxy and PostgreSQL 15 from Debian's packages.
# Idempotent: when both are present it installs nothing. Needs root (or sudo) and apt only on a machine without them.
#
# stdout: two lines, `haproxy=<path>` and `postgres_bin=<dir with initdb, postgres, psql>`. Progress goes to stderr.
set -euo pipefail

PG_BIN="/usr/lib/postgresql/15/bin"
log() { echo "install-ha-tools: $*" >&2; }

present() { command -v haproxy >/dev/null 2>&1 && [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/psql" ]; }

if ! present; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "ERROR: haproxy or PostgreSQL 15 is missing and there is no apt-get to install them"
    exit 3
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { log "ERROR: installing haproxy/postgresql-15 needs root or sudo"; exit 3; }
    sudo=(sudo)
  fi
  # Serialize with other installs on this machine; apt's own lock fails rather than waits.
  exec 9>/tmp/stepca-install-ha-tools.lock
  flock 9
  if ! present; then
    packages=()
    command -v haproxy >/dev/null 2>&1 || packages+=(haproxy)
    [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/psql" ] || packages+=(postgresql-15)
    log "installing ${packages[*]} from Debian"
    # No service starts from the packages' maintainer scripts: the test runs its own servers on loopback.
    policy="/usr/sbin/policy-rc.d"
    created_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
      "${sudo[@]}" chmod 755 "$policy"
      created_policy=1
    fi
    trap '[ "$created_policy" = 1 ] && "${sudo[@]}" rm -f "$policy"' EXIT
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || log "apt-get update failed; trying the cached lists"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
  fi
fi

present || { log "ERROR: haproxy or $PG_BIN is still missing after the install"; exit 3; }
log "$(haproxy -v 2>/dev/null | head -1); $("$PG_BIN/postgres" --version)"
echo "haproxy=$(command -v haproxy)"
echo "postgres_bin=$PG_BIN"
