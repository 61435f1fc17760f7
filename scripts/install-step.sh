#!/usr/bin/env bash
# Installs the real step-ca and step CLI at pinned versions from their official Go modules (through the Go module
# proxy), into $HOME/.cache/stepca-cloudkms/step-ca-<v>_step-<v>/bin. Idempotent: when both binaries are present
# it does nothing. Go's own caches (module cache, build cache) stay in their default places under $HOME, so a rerun
# after a cache wipe of our directory is fast too.
#
# stdout: the bin directory (only that line). Everything else goes to stderr.
# Usage:  BIN=$(bash scripts/install-step.sh) && "$BIN/step-ca" version
#
# STEP_CA_VERSION must equal the smallstep/step-ca image tag the program pins (lib/config/settings.ts `image`;
# test/interop/step-ca.test.ts checks it). STEP_CLI_VERSION: the step CLI release of the same version.
set -euo pipefail

STEP_CA_VERSION="${STEP_CA_VERSION:-0.30.2}"
STEP_CLI_VERSION="${STEP_CLI_VERSION:-0.30.2}"

CACHE_ROOT="${STEPCA_CLOUDKMS_CACHE:-$HOME/.cache/stepca-cloudkms}"
DEST="$CACHE_ROOT/step-ca-${STEP_CA_VERSION}_step-${STEP_CLI_VERSION}"
BIN="$DEST/bin"

log() { echo "install-step: $*" >&2; }

# Both binaries present and reporting the pinned versions ("Smallstep CA/0.30.2 (linux/amd64)").
# (Output captured first: `cmd | grep -q` under pipefail fails at random when grep exits before cmd writes.)
installed() {
  [ -x "$BIN/step-ca" ] && [ -x "$BIN/step" ] || return 1
  local ca cli
  ca="$("$BIN/step-ca" version 2>/dev/null)" && cli="$("$BIN/step" version 2>/dev/null)" || return 1
  [[ "$ca" == *"/$STEP_CA_VERSION "* && "$cli" == *"/$STEP_CLI_VERSION "* ]]
}

if installed; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "ERROR: 'go' is not on PATH; step-ca $STEP_CA_VERSION and step $STEP_CLI_VERSION are built from Go modules"
  exit 3
fi

mkdir -p "$CACHE_ROOT"
# Serialize concurrent installs (parallel test runs, several shells): the second one waits, then finds the cache.
exec 9>"$CACHE_ROOT/.install-step.lock"
flock 9
if installed; then
  log "cached (installed by a concurrent run): $BIN"
  echo "$BIN"
  exit 0
fi

STAGE="$(mktemp -d "$CACHE_ROOT/.step-stage.XXXXXX")"
chmod 755 "$STAGE"
trap 'rm -rf "$STAGE"' EXIT

log "$(go version); building step-ca v$STEP_CA_VERSION and step v$STEP_CLI_VERSION (cold: several minutes)"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# CGO_ENABLED=0 as in the official image build: no PKCS#11/YubiKey (cgo-only) KMS backends, Cloud KMS is pure Go.
# main.Version/main.BuildTime as the projects' Makefiles set them, so `step-ca version` reports the real version.
gobuild() { # <module/package> <version>
  CGO_ENABLED=0 GOBIN="$STAGE/bin" go install -trimpath \
    -ldflags="-w -X main.Version=$2 -X main.BuildTime=$build_date" "$1@v$2" >&2
}
gobuild github.com/smallstep/certificates/cmd/step-ca "$STEP_CA_VERSION"
gobuild github.com/smallstep/cli/cmd/step "$STEP_CLI_VERSION"

"$STAGE/bin/step-ca" version >&2
"$STAGE/bin/step" version >&2

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$STAGE" "$DEST"
trap - EXIT
log "installed: $BIN"
echo "$BIN"
