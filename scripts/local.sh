#!/usr/bin/env bash
# Try the whole CA on this machine, no cloud account: `npm run local` (up) and `npm run local:down` (down).
#
#   up    Node 22, npm dependencies, the Pulumi CLI (the one on PATH, else built by scripts/install-pulumi.sh),
#         the Cloud KMS emulator in the background (state in .local/kms-emulator.json, reused when already running),
#         Pulumi state in a local file backend (.local/pulumi-state, no Pulumi Cloud) with the passphrase secrets
#         provider, stack `local` (Pulumi.local.yaml), `pulumi up --yes`; then the outputs, the bundle directory and,
#         when step-ca is installed, the command that starts it.
#   down  `pulumi destroy --yes` on the local stack (the emulator schedules every key version for destruction, as
#         Cloud KMS would; key rings stay, as they do in Cloud KMS), then stops the emulator. `rm -rf .local` after
#         it forgets everything.
#
# Environment:
#   PULUMI_CONFIG_PASSPHRASE   passphrase of the local stack's secrets (default: "stepca-cloudkms-local"; it only
#                              protects throwaway local state; set your own before the first `up` to use another).
#   STEPCA_BUILD_PULUMI=1      build the CLI with scripts/install-pulumi.sh even when `pulumi` is on PATH.
#   Anything else is passed on: `npm run local -- --diff` → `pulumi up --yes --diff`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STACK=local
STATE_DIR="$ROOT/.local"
EMULATOR_STATE="$STATE_DIR/kms-emulator.json"
EMULATOR_PID="$STATE_DIR/kms-emulator.pid"
EMULATOR_LOG="$STATE_DIR/kms-emulator.log"

log() { echo "local: $*" >&2; }
die() { echo "local: ERROR: $*" >&2; exit 1; }

cmd="${1:-up}"
shift || true
case "$cmd" in up | down) ;; *) die "usage: scripts/local.sh up|down [pulumi flags]" ;; esac

# --- toolchain --------------------------------------------------------------------------------------------------
# shellcheck source=scripts/node22.sh
source "$ROOT/scripts/node22.sh"

if [ ! -f node_modules/@pulumi/pulumi/package.json ] || [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  flock /tmp/npm.lock npm ci --no-audit --no-fund >&2
fi

if [ -z "${STEPCA_BUILD_PULUMI:-}" ] && command -v pulumi >/dev/null 2>&1 &&
  command -v pulumi-language-nodejs >/dev/null 2>&1; then
  log "using the Pulumi CLI on PATH: $(command -v pulumi) ($(pulumi version 2>/dev/null))"
else
  PULUMI_BIN="$(bash "$ROOT/scripts/install-pulumi.sh")" || die "could not build the Pulumi CLI (see above)"
  export PATH="$PULUMI_BIN:$PATH"
  log "using the Pulumi CLI built from Go modules: $PULUMI_BIN/pulumi ($(pulumi version))"
fi

# --- Pulumi: local file backend, passphrase secrets, offline -----------------------------------------------------
mkdir -p "$STATE_DIR/pulumi-state"
export PULUMI_BACKEND_URL="file://$STATE_DIR/pulumi-state" # this project only; no `pulumi login` needed or changed
export PULUMI_HOME="${PULUMI_HOME:-$STATE_DIR/pulumi-home}" # workspace settings and plugins, kept out of ~/.pulumi
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="stepca-cloudkms-local"
fi
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true # gcp/docker plugins are neither needed nor reachable here
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true

# --- the KMS emulator ---------------------------------------------------------------------------------------------
config_value() { # key in Pulumi.local.yaml → value (plain scalars only)
  sed -n "s/^[[:space:]]*stepca-cloudkms:$1:[[:space:]]*//p" "Pulumi.$STACK.yaml" | head -1 | tr -d "\"'"
}
ENDPOINT="$(config_value kmsEndpoint)"
[ -n "$ENDPOINT" ] || die "Pulumi.$STACK.yaml sets no stepca-cloudkms:kmsEndpoint"
EMULATOR_HOST="${ENDPOINT%:*}"
EMULATOR_PORT="${ENDPOINT##*:}"

port_open() { (exec 3<>"/dev/tcp/$EMULATOR_HOST/$EMULATOR_PORT") 2>/dev/null; }
emulator_running() { [ -f "$EMULATOR_PID" ] && kill -0 "$(cat "$EMULATOR_PID")" 2>/dev/null; }

start_emulator() {
  if emulator_running; then
    log "KMS emulator already running (pid $(cat "$EMULATOR_PID")) on $ENDPOINT"
    return
  fi
  rm -f "$EMULATOR_PID"
  port_open && die "$ENDPOINT is in use by another process; stop it or change kmsEndpoint in Pulumi.$STACK.yaml"
  log "starting the KMS emulator on $ENDPOINT (state $EMULATOR_STATE, log $EMULATOR_LOG)"
  # node --import tsx (not `npm run`/`tsx`): a single process, so the pid file names the emulator itself.
  nohup node --import tsx kms-emulator/cli.ts --host "$EMULATOR_HOST" --port "$EMULATOR_PORT" \
    --state "$EMULATOR_STATE" >"$EMULATOR_LOG" 2>&1 </dev/null &
  echo $! >"$EMULATOR_PID"
  for _ in $(seq 1 150); do
    if grep -q "listening on" "$EMULATOR_LOG" 2>/dev/null; then
      log "$(grep -m1 "listening on" "$EMULATOR_LOG")"
      return
    fi
    emulator_running || { cat "$EMULATOR_LOG" >&2; die "the KMS emulator exited at start"; }
    sleep 0.2
  done
  cat "$EMULATOR_LOG" >&2
  die "the KMS emulator did not report listening within 30 s"
}

stop_emulator() {
  if ! emulator_running; then
    log "KMS emulator not running"
    rm -f "$EMULATOR_PID"
    return
  fi
  local pid
  pid="$(cat "$EMULATOR_PID")"
  kill -TERM "$pid" # saves the state file, then exits
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && die "KMS emulator (pid $pid) did not stop within 10 s"
  rm -f "$EMULATOR_PID"
  log "KMS emulator stopped; state kept in $EMULATOR_STATE"
}

# --- the stack ----------------------------------------------------------------------------------------------------
select_stack() {
  # --secrets-provider only matters when the stack is created; the encryption salt goes into Pulumi.local.yaml.
  pulumi stack select "$STACK" --create --secrets-provider passphrase --non-interactive >&2
}

if [ "$cmd" = up ]; then
  start_emulator
  select_stack
  pulumi up --yes --non-interactive --stack "$STACK" "$@" >&2
  echo >&2
  log "outputs (secrets hidden; \`PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE=… pulumi stack output --show-secrets\` shows them):"
  pulumi stack output --stack "$STACK" >&2
  BUNDLE="$(config_value localBundleDir)"
  BUNDLE="${BUNDLE:-.local/bundle}"
  case "$BUNDLE" in /*) ;; *) BUNDLE="$ROOT/$BUNDLE" ;; esac
  echo >&2
  log "step-ca bundle (STEPPATH): $BUNDLE"
  STEP_CA="$(command -v step-ca 2>/dev/null || ls -1d "$HOME"/.cache/stepca-cloudkms/step-ca-*/bin/step-ca 2>/dev/null | tail -1 || true)"
  if [ -n "$STEP_CA" ]; then
    log "step-ca is installed; the command that starts it on this bundle:"
    echo "  STEPPATH=$BUNDLE $STEP_CA $BUNDLE/config/ca.json --password-file $BUNDLE/secrets/password" >&2
    log "note: step-ca has no Cloud KMS endpoint setting: it dials cloudkms.googleapis.com:443 over TLS, so to sign"
    log "with the keys on this plaintext emulator it needs what test/interop sets up (the emulator serving TLS, an"
    log "HTTPS_PROXY tunnelling to it, SSL_CERT_FILE trusting it); \`npm run test:interop\` runs exactly that."
  else
    log "step-ca is not installed (bash scripts/install-step.sh builds it from its Go module); the bundle is ready for it"
  fi
  log "tear down with: npm run local:down"
else
  start_emulator # destroying keys needs the emulator
  if pulumi stack select "$STACK" --non-interactive >/dev/null 2>&1; then
    pulumi destroy --yes --non-interactive --stack "$STACK" "$@" >&2
  else
    log "no stack '$STACK' in $PULUMI_BACKEND_URL; nothing to destroy"
  fi
  stop_emulator
fi
