#!/usr/bin/env bash
# Try the whole CA on this machine, no cloud account: `npm run local` (up) and `npm run local:down` (down).
#
#   up    Node 22, npm dependencies, the Pulumi CLI (the one on PATH, else built by scripts/install-pulumi.sh),
#         the Cloud KMS emulator in the background (state in .local/kms-emulator.json, reused when already running;
#         plaintext for the program, TLS behind a CONNECT proxy for step-ca), Pulumi state in a local file backend
#         (.local/pulumi-state, no Pulumi Cloud) with the passphrase secrets provider, stack `local`
#         (Pulumi.local.yaml), `pulumi up --yes`; then step-ca in the background on the bundle that wrote (kept
#         running while the bundle is unchanged) and how to get a certificate from it. step-ca is the one on PATH,
#         else scripts/install-step.sh's (cached, or built when Go is installed); without it, only the bundle.
#   emulator  Only starts the KMS emulator (or restarts it when it runs on another endpoint than kmsEndpoint).
#         With `localRuntime: docker` step-ca runs in a container instead, created by `pulumi up` through the
#         program's StepCaContainer (needs a Docker engine and the `image`; the docker plugin is installed, or
#         built by scripts/install-docker-provider.sh where it cannot be downloaded).
#   down  Stops step-ca, runs `pulumi destroy --yes` on the local stack (the emulator schedules every key version
#         for destruction, as Cloud KMS would; key rings stay, as they do in Cloud KMS), then stops the emulator.
#         `rm -rf .local` after it forgets everything.
#
# Environment:
#   PULUMI_CONFIG_PASSPHRASE   passphrase of the local stack's secrets (default: "stepca-cloudkms-local"; it only
#                              protects throwaway local state). The `encryptionsalt` committed in Pulumi.local.yaml
#                              belongs to that default: to use your own, export PULUMI_CONFIG_PASSPHRASE and delete
#                              the `encryptionsalt` line from Pulumi.local.yaml before the first `up` (Pulumi then
#                              writes a new salt for your passphrase).
#   STEPCA_BUILD_PULUMI=1      build the CLI with scripts/install-pulumi.sh even when `pulumi` is on PATH.
#   NODE_COMPILE_CACHE         Node's module compile cache directory (default .local/node-compile-cache).
#   STEPCA_LOCAL_PROXY_PORT    port of the emulator's CONNECT proxy for step-ca (default 8086; the other ports are
#                              Pulumi.local.yaml's kmsEndpoint and port).
#   Anything else is passed on: `npm run local -- --diff` → `pulumi up --yes --diff`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STACK=local
STATE_DIR="$ROOT/.local"
EMULATOR_STATE="$STATE_DIR/kms-emulator.json"
EMULATOR_PID="$STATE_DIR/kms-emulator.pid"
EMULATOR_LOG="$STATE_DIR/kms-emulator.log"
KMS_PROXY_PORT="${STEPCA_LOCAL_PROXY_PORT:-8086}" # step-ca's HTTPS_PROXY, in the emulator's process
KMS_CREDENTIALS="$STATE_DIR/kms-credentials" # throwaway TLS identity and service account (kms-emulator/credentials-cli.ts)
STEP_CA_PID="$STATE_DIR/step-ca.pid"
STEP_CA_LOG="$STATE_DIR/step-ca.log"

log() { echo "local: $*" >&2; }
die() { echo "local: ERROR: $*" >&2; exit 1; }

cmd="${1:-up}"
shift || true
case "$cmd" in up | down | emulator) ;; *) die "usage: scripts/local.sh up|down|emulator [pulumi flags]" ;; esac

# --- toolchain --------------------------------------------------------------------------------------------------
# shellcheck source=scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh" # Node 22, npm dependencies, Go on PATH

if [ "$cmd" = emulator ]; then
  : # no Pulumi needed
elif [ -z "${STEPCA_BUILD_PULUMI:-}" ] && command -v pulumi >/dev/null 2>&1 &&
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
# Node's module compile cache for every Node process of a run (the program, which loads TypeScript, and the dynamic
# provider): about 0.3 s less per program run; entries are checked against the sources, so it never goes stale.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$STATE_DIR/node-compile-cache}"

# --- background processes -----------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; } # <host> <port>

# Whether the process in a pid file is alive and still the one we started (its command line holds <what>).
running() { # <pid file> <what>
  local args
  [ -f "$1" ] && args="$(ps -o args= -p "$(cat "$1")" 2>/dev/null)" && [[ "$args" == *"$2"* ]]
}

stop_process() { # <name> <pid file> <what>
  if ! running "$2" "$3"; then
    log "$1 not running"
    rm -f "$2"
    return
  fi
  local pid
  pid="$(cat "$2")"
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && die "$1 (pid $pid) did not stop within 30 s"
  rm -f "$2"
  log "$1 stopped"
}

# --- the KMS emulator ---------------------------------------------------------------------------------------------
config_value() { # key in Pulumi.local.yaml → value (plain scalars only)
  sed -n "s/^[[:space:]]*stepca-cloudkms:$1:[[:space:]]*//p" "Pulumi.$STACK.yaml" | head -1 | tr -d "\"'"
}
ENDPOINT="$(config_value kmsEndpoint)"
[ -n "$ENDPOINT" ] || die "Pulumi.$STACK.yaml sets no stepca-cloudkms:kmsEndpoint"
EMULATOR_HOST="${ENDPOINT%:*}"
EMULATOR_PORT="${ENDPOINT##*:}"

# localRuntime docker: step-ca runs in a container through the program's StepCaContainer, which takes the proxy port
# and the credentials directory from the stack's settings; the emulator must serve exactly those.
LOCAL_RUNTIME="$(config_value localRuntime)"
LOCAL_RUNTIME="${LOCAL_RUNTIME:-bundle}"
if [ "$LOCAL_RUNTIME" = docker ]; then
  setting_port="$(config_value localKmsProxyPort)"
  setting_port="${setting_port:-8086}"
  [ -z "${STEPCA_LOCAL_PROXY_PORT:-}" ] || [ "$STEPCA_LOCAL_PROXY_PORT" = "$setting_port" ] ||
    die "STEPCA_LOCAL_PROXY_PORT=$STEPCA_LOCAL_PROXY_PORT, but the container uses localKmsProxyPort ($setting_port); set that instead"
  KMS_PROXY_PORT="$setting_port"
  credentials_dir="$(config_value localKmsCredentialsDir)"
  credentials_dir="${credentials_dir:-.local/kms-credentials}"
  case "$credentials_dir" in /*) KMS_CREDENTIALS="$credentials_dir" ;; *) KMS_CREDENTIALS="$ROOT/$credentials_dir" ;; esac
fi

emulator_running() { running "$EMULATOR_PID" kms-emulator/cli.ts; }

start_emulator() {
  if emulator_running && ! running "$EMULATOR_PID" "--host $EMULATOR_HOST --port $EMULATOR_PORT "; then
    # Started for another kmsEndpoint: the program would dial the new one and find nothing there.
    log "the running KMS emulator (pid $(cat "$EMULATOR_PID")) is not on kmsEndpoint $ENDPOINT: restarting it there"
    stop_emulator
  fi
  if emulator_running; then
    if port_open 127.0.0.1 "$KMS_PROXY_PORT"; then
      log "KMS emulator already running (pid $(cat "$EMULATOR_PID")) on $ENDPOINT"
      return
    fi
    log "the running KMS emulator has no CONNECT proxy for step-ca (an older version started it): restarting it"
    stop_emulator
  fi
  rm -f "$EMULATOR_PID"
  port_open "$EMULATOR_HOST" "$EMULATOR_PORT" &&
    die "$ENDPOINT is in use by another process; stop it or change kmsEndpoint in Pulumi.$STACK.yaml"
  port_open 127.0.0.1 "$KMS_PROXY_PORT" && die "port $KMS_PROXY_PORT (step-ca's way to the emulator) is in use by another process"
  node --import tsx kms-emulator/credentials-cli.ts "$KMS_CREDENTIALS" | sed 's/^/local: /' >&2
  log "starting the KMS emulator on $ENDPOINT (state $EMULATOR_STATE, log $EMULATOR_LOG)"
  # node --import tsx (not `npm run`/`tsx`): a single process, so the pid file names the emulator itself. TLS on a
  # free port: only the proxy, in the same process, needs to know it.
  nohup node --import tsx kms-emulator/cli.ts --host "$EMULATOR_HOST" --port "$EMULATOR_PORT" \
    --state "$EMULATOR_STATE" --tls-port 0 --tls-cert "$KMS_CREDENTIALS/tls.crt" \
    --tls-key "$KMS_CREDENTIALS/tls.key" --connect-proxy-port "$KMS_PROXY_PORT" >"$EMULATOR_LOG" 2>&1 </dev/null &
  echo $! >"$EMULATOR_PID"
  for _ in $(seq 1 150); do
    if grep -q "emulator listening on" "$EMULATOR_LOG" 2>/dev/null; then
      log "$(grep -m1 "emulator listening on" "$EMULATOR_LOG")"
      return
    fi
    emulator_running || { cat "$EMULATOR_LOG" >&2; die "the KMS emulator exited at start"; }
    sleep 0.2
  done
  cat "$EMULATOR_LOG" >&2
  die "the KMS emulator did not report listening within 30 s"
}

# On SIGTERM the emulator saves its state file, then exits.
stop_emulator() { stop_process "KMS emulator" "$EMULATOR_PID" kms-emulator/cli.ts; }

# --- step-ca ------------------------------------------------------------------------------------------------------
# step-ca on PATH, else the one scripts/install-step.sh has cached or can build (needs Go); fails when neither.
find_step_ca() {
  command -v step-ca && return
  local bin
  bin="$(bash "$ROOT/scripts/install-step.sh")" && echo "$bin/step-ca"
}

# step-ca as the container runs it, on the bundle, plus the way to the emulator: its Cloud KMS client dials
# cloudkms.googleapis.com:443 over TLS, so HTTPS_PROXY sends that to the emulator's proxy, SSL_CERT_FILE trusts the
# emulator's throwaway certificate, and the throwaway service account (ca.json names none, so Application Default
# Credentials) signs its own JWTs. A writable HOME of its own (the Google auth library reads ~/.config/gcloud);
# nothing else inherited. Kept when running and nothing it reads has changed since it started.
start_step_ca() { # <step-ca> <bundle> <ca url>
  local step_ca="$1" bundle="$2" url="$3"
  if running "$STEP_CA_PID" step-ca; then
    # -L: config, certs and secrets are symlinks into the published generation (bundle/current).
    if [ -z "$(find -L "$bundle/config" "$bundle/certs" "$bundle/secrets" "$KMS_CREDENTIALS" -newer "$STEP_CA_PID")" ]; then
      log "step-ca already running (pid $(cat "$STEP_CA_PID")); the bundle has not changed"
      return
    fi
    log "the bundle changed: restarting step-ca"
    stop_step_ca
  fi
  rm -f "$STEP_CA_PID"
  mkdir -p "$STATE_DIR/step-ca-home"
  log "starting step-ca $("$step_ca" version | sed -n 1p) (log $STEP_CA_LOG)"
  env -i PATH=/usr/bin:/bin HOME="$STATE_DIR/step-ca-home" STEPPATH="$bundle" \
    HTTPS_PROXY="http://127.0.0.1:$KMS_PROXY_PORT" SSL_CERT_FILE="$KMS_CREDENTIALS/tls-ca.crt" \
    GOOGLE_APPLICATION_CREDENTIALS="$KMS_CREDENTIALS/service-account.json" \
    nohup "$step_ca" --password-file "$bundle/secrets/password" "$bundle/config/ca.json" >"$STEP_CA_LOG" 2>&1 </dev/null &
  echo $! >"$STEP_CA_PID"
  for _ in $(seq 1 150); do
    curl -fsS --cacert "$bundle/certs/root_ca.crt" "$url/health" >/dev/null 2>&1 && return
    running "$STEP_CA_PID" step-ca || { tail -20 "$STEP_CA_LOG" >&2; die "step-ca exited at start (log: $STEP_CA_LOG)"; }
    sleep 0.2
  done
  tail -20 "$STEP_CA_LOG" >&2
  die "step-ca did not answer $url/health within 30 s (log: $STEP_CA_LOG)"
}

stop_step_ca() { stop_process step-ca "$STEP_CA_PID" step-ca; }

# --- the stack ----------------------------------------------------------------------------------------------------
select_stack() {
  # --secrets-provider only matters when the stack is created; the encryption salt goes into Pulumi.local.yaml.
  pulumi stack select "$STACK" --create --secrets-provider passphrase --non-interactive >&2
}

# --- the docker flavour's prerequisites: an engine, the image, the docker resource plugin -------------------------
prepare_docker() {
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    die "localRuntime docker needs a Docker engine answering on DOCKER_HOST or the local socket; start one (as root, scripts/docker-engine.sh installs and starts Debian's docker.io)"
  local image
  image="$(config_value image)"
  image="${image:-smallstep/step-ca:0.30.2}"
  if ! docker image inspect "$image" >/dev/null 2>&1 && ! docker pull "$image" >&2; then
    die "cannot pull $image. Where no registry is reachable, build the TEST-ONLY stand-in and use it: pulumi config set image \"\$(bash scripts/standin-image.sh)\" --stack $STACK (see README, Try it locally)"
  fi
  if command -v pulumi-resource-docker >/dev/null 2>&1 ||
    pulumi plugin ls 2>/dev/null | grep -Eq '^docker +resource +5\.2\.0 '; then
    return
  fi
  log "installing the docker resource plugin 5.2.0 (the one @pulumi/docker 5.2.0 asks for)"
  if ! pulumi plugin install resource docker 5.2.0 >&2; then
    log "it could not be downloaded: building it from the upstream Terraform provider instead"
    log "(scripts/install-docker-provider.sh: needs Go, several minutes the first time)"
    local dir
    dir="$(bash "$ROOT/scripts/install-docker-provider.sh")" || die "could not build the docker provider (see above)"
    export PATH="$dir:$PATH"
  fi
}

if [ "$cmd" = down ]; then
  stop_step_ca   # before its bundle goes
  start_emulator # destroying keys needs the emulator
  [ "$LOCAL_RUNTIME" != docker ] || prepare_docker # the container goes through the docker plugin
  if pulumi stack select "$STACK" --non-interactive >/dev/null 2>&1; then
    pulumi destroy --yes --non-interactive --stack "$STACK" "$@" >&2
  else
    log "no stack '$STACK' in $PULUMI_BACKEND_URL; nothing to destroy"
  fi
  stop_emulator
  exit 0
fi

if [ "$cmd" = emulator ]; then
  start_emulator
  exit 0
fi

start_emulator
select_stack
if [ "$LOCAL_RUNTIME" = docker ]; then
  prepare_docker
  stop_step_ca # a bundle-flavour step-ca would hold the port the container needs
fi
pulumi up --yes --non-interactive --stack "$STACK" "$@" >&2
echo >&2
log "outputs (secrets hidden; \`PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE=… pulumi stack output --show-secrets\` shows them):"
pulumi stack output --stack "$STACK" >&2
if [ "$LOCAL_RUNTIME" = docker ]; then
  CA_URL="$(pulumi stack output caUrl --stack "$STACK")"
  FINGERPRINT="$(pulumi stack output rootFingerprint --stack "$STACK")"
  PROVISIONER="$(config_value provisionerName)"
  PASSWORD_FILE="$STATE_DIR/provisioner-password"
  (umask 077 && pulumi stack output provisionerPassword --show-secrets --stack "$STACK" >"$PASSWORD_FILE")
  STEP="$(command -v step || echo step)"
  log "step-ca runs in the container stepca-cloudkms-$STACK at $CA_URL (\`docker logs stepca-cloudkms-$STACK\`)."
  log "Get a certificate with the step CLI (the provisioner password is in $PASSWORD_FILE):"
  cat >&2 <<EOF
  export STEPPATH="$STATE_DIR/step"   # the CLI's own settings; your ~/.step is left alone
  $STEP ca bootstrap --ca-url $CA_URL --fingerprint $FINGERPRINT --force
  $STEP ca certificate localhost localhost.crt localhost.key --provisioner ${PROVISIONER:-admin} \\
      --provisioner-password-file $PASSWORD_FILE
EOF
  log "tear down with: npm run local:down"
  exit 0
fi
BUNDLE="$(config_value localBundleDir)"
BUNDLE="${BUNDLE:-.local/bundle}"
case "$BUNDLE" in /*) ;; *) BUNDLE="$ROOT/$BUNDLE" ;; esac
echo >&2
log "step-ca bundle (STEPPATH): $BUNDLE"

STEP_CA="$(find_step_ca)" || true
if [ -z "$STEP_CA" ]; then
  log "step-ca not found, so not started: put step-ca on PATH, or install Go (≥ 1.26.6) and rerun to have"
  log "scripts/install-step.sh build it. The bundle is ready for it. Tear down with: npm run local:down"
  exit 0
fi
command -v curl >/dev/null 2>&1 || die "curl is needed to check step-ca's /health"
read -r CA_URL FINGERPRINT PROVISIONER < <(node -e '
  const [defaults, ca] = process.argv.slice(1).map((file) => require(file));
  console.log(defaults["ca-url"], defaults.fingerprint, ca.authority.provisioners[0].name);
' "$BUNDLE/config/defaults.json" "$BUNDLE/config/ca.json")
[ -n "${PROVISIONER:-}" ] || die "could not read the CA URL, fingerprint and provisioner from $BUNDLE/config"
start_step_ca "$STEP_CA" "$BUNDLE" "$CA_URL"
STEP="$(command -v step || echo "$(dirname "$STEP_CA")/step")"
log "step-ca is up at $CA_URL (pid $(cat "$STEP_CA_PID"), log $STEP_CA_LOG). Get a certificate with the step CLI:"
cat >&2 <<EOF
  export STEPPATH="$STATE_DIR/step"   # the CLI's own settings; your ~/.step is left alone
  $STEP ca bootstrap --ca-url $CA_URL --fingerprint $FINGERPRINT --force
  $STEP ca certificate localhost localhost.crt localhost.key --provisioner $PROVISIONER \\
      --provisioner-password-file $BUNDLE/secrets/password
EOF
log "tear down with: npm run local:down"
