#!/usr/bin/env bash
# Makes a Docker engine answer on the default socket, for the docker tests, the docker flavour of the local stack and
# CI on a fresh machine. Idempotent:
#   - a daemon already answering (any engine version) is used as it is;
#   - no `dockerd` → Debian's `docker.io` package (Engine 20.10 on Debian 12) is installed with apt-get (root only);
#   - then `dockerd` is started in the background with the flags that work in these sandboxes: vfs storage (no
#     overlayfs inside the VM), no default bridge and no iptables (containers use host networking, 127.0.0.1 only).
#     Its log: $STEPCA_CLOUDKMS_CACHE/dockerd.log (default $HOME/.cache/stepca-cloudkms).
#
# stdout: the engine's server version (only that line). Everything else goes to stderr.
# Exit 3: no engine and none can be installed or started here (the message says why; tests skip or fail on it).
# Usage:  bash scripts/docker-engine.sh && docker run --network host ...
set -euo pipefail

CACHE_ROOT="${STEPCA_CLOUDKMS_CACHE:-$HOME/.cache/stepca-cloudkms}"
LOG="$CACHE_ROOT/dockerd.log"
WAIT_SECONDS="${STEPCA_DOCKERD_WAIT_SECONDS:-60}"

log() { echo "docker-engine: $*" >&2; }
fail() { log "ERROR: $*"; exit 3; }

# The server's version when the daemon answers; nothing (and non-zero) when it does not.
server_version() { docker version --format '{{.Server.Version}}' 2>/dev/null; }

# /usr/local/bin/docker may be a newer client than the engine; the client negotiates the API version down.
answering() {
  command -v docker >/dev/null 2>&1 && server_version >/dev/null
}

if answering; then
  server_version
  exit 0
fi

# A chosen engine elsewhere is not ours to install or start: a local dockerd would not be the one asked.
case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
  unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
  *) fail "DOCKER_HOST=$DOCKER_HOST does not answer (this script only starts the local default engine)" ;;
esac

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.docker-engine.lock"
flock 9
if answering; then
  server_version
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "no dockerd, and installing Debian's docker.io needs root (run: sudo apt-get install docker.io)"
  command -v apt-get >/dev/null 2>&1 || fail "no dockerd and no apt-get to install Debian's docker.io"
  log "installing Debian's docker.io (apt-get)"
  # A stale package index (fresh image) gives 404s on install; update once, then install.
  apt-get update -qq >&2 || log "apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >&2 ||
    fail "apt-get install docker.io failed"
fi
# docker.io brings its own client (/usr/bin/docker); a client already earlier on PATH is fine too.
command -v docker >/dev/null 2>&1 || fail "dockerd is installed but no docker client is on PATH"

[ "$(id -u)" = 0 ] || fail "dockerd is installed but not running, and starting it needs root"

log "starting dockerd (vfs storage, no bridge, no iptables); log: $LOG"
# 9>&- : the daemon must not inherit the lock, or every later run of this script would wait on it forever.
setsid dockerd --storage-driver=vfs --bridge=none --iptables=false >"$LOG" 2>&1 9>&- </dev/null &
pid=$!

for _ in $(seq 1 "$WAIT_SECONDS"); do
  if answering; then
    log "dockerd (pid $pid) answers"
    server_version
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 20 "$LOG" >&2 || true
    fail "dockerd exited at start (log above: $LOG)"
  fi
  sleep 1
done
tail -n 20 "$LOG" >&2 || true
fail "dockerd did not answer within ${WAIT_SECONDS}s (log: $LOG)"
