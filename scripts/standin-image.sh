#!/usr/bin/env bash
# TEST-ONLY: builds a local STAND-IN for the smallstep/step-ca image, because no image registry is reachable from
# the machines the tests run on (nothing can be pulled). It is not the upstream image and is never pushed anywhere.
#
# What it keeps of smallstep/step-ca (what the program relies on): step-ca and step at the pinned version in
# /usr/local/bin (built from their Go modules by scripts/install-step.sh, static binaries), user `step` uid/gid 1000
# with HOME /home/step owned by it, ENV STEPPATH/CONFIGPATH/PWDPATH, VOLUME and WORKDIR /home/step, USER step,
# STOPSIGNAL, HEALTHCHECK, an entrypoint that runs the given command once a ca.json exists and the default CMD. What differs: FROM scratch
# with busybox-static (Debian's package) as /bin/sh and its applets instead of Debian + bash; its entrypoint does
# not implement upstream's DOCKER_STEPCA_INIT_* first-start initialisation (the program never uses it); no pcscd.
#
# Idempotent: the image carries a label with the hash of its inputs and is rebuilt only when they change.
# Needs a running engine (scripts/docker-engine.sh) and apt-get (to download busybox-static; nothing is installed).
#
# stdout: the image reference (only that line). Everything else goes to stderr.
# Usage:  IMAGE=$(bash scripts/standin-image.sh)
set -euo pipefail

VERSION="${STEP_CA_VERSION:-0.30.2}"
IMAGE="stepca-cloudkms/step-ca-standin:$VERSION"
LABEL="org.stepca-cloudkms.standin-inputs"
CACHE_ROOT="${STEPCA_CLOUDKMS_CACHE:-$HOME/.cache/stepca-cloudkms}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "standin-image: $*" >&2; }
fail() { log "ERROR: $*"; exit 3; }

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  fail "no Docker engine answers (start one with scripts/docker-engine.sh)"

BIN="$(STEP_CA_VERSION="$VERSION" STEP_CLI_VERSION="$VERSION" bash "$HERE/install-step.sh")"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.standin-image.lock"
flock 9

# busybox-static from Debian, downloaded (not installed) and unpacked once per package version.
busybox_version="$(apt-cache policy busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p')"
if [ -z "$busybox_version" ] || [ "$busybox_version" = "(none)" ]; then
  apt-get update -qq >&2 || true
  busybox_version="$(apt-cache policy busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p')"
fi
[ -n "$busybox_version" ] && [ "$busybox_version" != "(none)" ] || fail "apt knows no busybox-static package"
BUSYBOX="$CACHE_ROOT/busybox-static-$busybox_version/busybox"
if [ ! -x "$BUSYBOX" ]; then
  log "downloading Debian's busybox-static $busybox_version"
  dl="$(mktemp -d)"
  chmod 755 "$dl" # apt-get download fetches as the _apt user
  (cd "$dl" && apt-get download "busybox-static=$busybox_version" >&2) || fail "apt-get download busybox-static failed"
  dpkg-deb -x "$dl"/busybox-static_*.deb "$dl/x"
  mkdir -p "$(dirname "$BUSYBOX")"
  cp "$dl/x/bin/busybox" "$BUSYBOX.tmp" && mv "$BUSYBOX.tmp" "$BUSYBOX"
  rm -rf "$dl"
fi

inputs="$( (sha256sum "$0" "$BIN/step-ca" "$BIN/step" "$BUSYBOX" | cut -d' ' -f1) | sha256sum | cut -c1-16)"
current="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)"
if [ "$current" = "$inputs" ]; then
  log "cached: $IMAGE"
  echo "$IMAGE"
  exit 0
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/root/bin" "$ctx/root/usr/local/bin" "$ctx/root/etc" "$ctx/root/tmp" "$ctx/home-step"
cp "$BUSYBOX" "$ctx/root/bin/busybox"
# The applets a shell user and the entrypoint need; busybox has no bash applet.
for applet in sh ls cat cp mv rm mkdir chmod id env sleep ps grep; do ln -s busybox "$ctx/root/bin/$applet"; done
cp "$BIN/step-ca" "$BIN/step" "$ctx/root/usr/local/bin/"
printf 'root:x:0:0:root:/root:/bin/sh\nstep:x:1000:1000::/home/step:/bin/sh\n' >"$ctx/root/etc/passwd"
printf 'root:x:0:\nstep:x:1000:\n' >"$ctx/root/etc/group"
cat >"$ctx/root/entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for smallstep/step-ca's entrypoint.sh, which also refuses to run anything without a ca.json; upstream's
# DOCKER_STEPCA_INIT_* first-start initialisation is not implemented.
set -e
if [ ! -f "$STEPPATH/config/ca.json" ]; then
  echo "step-ca stand-in image: there is no ca.json config file ($STEPPATH/config/ca.json)" >&2
  exit 1
fi
exec "$@"
EOF
chmod 0755 "$ctx/root/entrypoint.sh"
chmod 1777 "$ctx/root/tmp"
cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY root/ /
COPY --chown=1000:1000 home-step/ /home/step/
ENV PATH=/usr/local/bin:/bin \\
    STEP=/home/step STEPPATH=/home/step \\
    CONFIGPATH=/home/step/config/ca.json PWDPATH=/home/step/secrets/password
LABEL $LABEL=$inputs org.opencontainers.image.description="TEST-ONLY stand-in for smallstep/step-ca:$VERSION"
WORKDIR /home/step
USER step
VOLUME ["/home/step"]
STOPSIGNAL SIGTERM
HEALTHCHECK CMD step ca health 2>/dev/null | grep "^ok" >/dev/null
ENTRYPOINT ["/bin/sh", "/entrypoint.sh"]
CMD exec /usr/local/bin/step-ca --password-file \$PWDPATH \$CONFIGPATH
EOF
log "building $IMAGE (inputs $inputs)"
# The legacy builder: Engine 20.10's BuildKit is optional and a FROM scratch build needs none of it.
DOCKER_BUILDKIT=0 docker build --quiet --tag "$IMAGE" "$ctx" >&2
echo "$IMAGE"
