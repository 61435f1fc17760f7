#!/usr/bin/env bash
# Builds the Pulumi CLI from the official Go modules (through the Go module proxy) into the home cache and prints
# the directory holding the binaries on stdout (everything else goes to stderr):
#
#     PATH="$(scripts/install-pulumi.sh):$PATH"
#
# What lands in $HOME/.cache/stepca-cloudkms/pulumi-$PULUMI_VERSION/bin:
#   pulumi                         github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at $PULUMI_VERSION (the engine), built
#                                  through the wrapper module scripts/pulumi-cli (pkg/go.mod's replace directives
#                                  are ignored for a dependency, so the wrapper repeats them).
#   pulumi-language-nodejs         Pulumi's official Node.js language host, github.com/pulumi/pulumi/sdk/v3/nodejs/
#                                  cmd/pulumi-language-nodejs at $LANGUAGE_HOST_VERSION, through the wrapper module
#                                  scripts/pulumi-language-nodejs (its go.mod says why that version).
#   pulumi-resource-pulumi-nodejs  scripts/bin/pulumi-resource-pulumi-nodejs, the dynamic-provider shim Pulumi's
#                                  distribution ships next to `pulumi`, and pulumi-nodejs-provider-start.js, which
#                                  it preloads into the provider process.
#
# Idempotent: each binary carries a stamp of its inputs and is only rebuilt when they change. Go's module and build
# caches stay at their defaults under $HOME, so a rebuild after a version bump is incremental.
# Needs Go >= 1.26.6 (go.mod of pulumi v3.276.0); with GOTOOLCHAIN=auto (Go's default) an older go fetches it.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-3.276.0}" # matches the npm @pulumi/pulumi pinned in package.json
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRAPPER="$ROOT/scripts/pulumi-cli"
LANGUAGE_HOST="$ROOT/scripts/pulumi-language-nodejs"
LANGUAGE_HOST_VERSION=3.68.0 # the newest release whose language host the module proxy serves
SHIM_DIR="$ROOT/scripts/bin"
CACHE="${STEPCA_CLOUDKMS_CACHE:-$HOME/.cache/stepca-cloudkms}"
DEST="$CACHE/pulumi-$PULUMI_VERSION/bin"

log() { echo "install-pulumi: $*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (needed to build the Pulumi CLI from github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION)"
  exit 3
fi

# The wrapper module pins exactly one version; refuse a mismatch instead of silently building another one.
if ! grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION\b" "$WRAPPER/go.mod"; then
  log "scripts/pulumi-cli/go.mod does not pin github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION;"
  log "update it: cd scripts/pulumi-cli && go get -tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION" \
      "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION && go mod tidy (and re-check pkg/go.mod's replace lines)"
  exit 2
fi

mkdir -p "$DEST"
exec 9>"$DEST/.lock"
flock 9 # one build at a time (npm run local and the engine test may start together)

GO_VERSION="$(go env GOVERSION)"
CLI_STAMP="$(printf '%s %s\n' "$PULUMI_VERSION" "$GO_VERSION" | cat - "$WRAPPER/go.mod" "$WRAPPER/go.sum" | sha256sum | cut -c1-64)"
LH_STAMP="$(printf '%s\n' "$GO_VERSION" | cat - "$LANGUAGE_HOST/go.mod" "$LANGUAGE_HOST/go.sum" | sha256sum | cut -c1-64)"

build() { # name stamp module-dir package ldflags
  local name="$1" stamp="$2" dir="$3" pkg="$4" ldflags="$5"
  if [ -x "$DEST/$name" ] && [ "$(cat "$DEST/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "$name is up to date in $DEST"
    return
  fi
  log "building $name ($pkg, $GO_VERSION; takes minutes on 2 cores when cold)"
  local start=$SECONDS tmp="$DEST/.$name.tmp.$$"
  (cd "$dir" && GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "$pkg") >&2
  mv -f "$tmp" "$DEST/$name"
  echo "$stamp" >"$DEST/.$name.stamp"
  log "built $name in $((SECONDS - start))s"
}

build pulumi "$CLI_STAMP" "$WRAPPER" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
build pulumi-language-nodejs "$LH_STAMP" "$LANGUAGE_HOST" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANGUAGE_HOST_VERSION"

# The preload first: a shim that finds none runs the provider without it.
for file in pulumi-nodejs-provider-start.js:0644 pulumi-resource-pulumi-nodejs:0755; do
  if ! cmp -s "$SHIM_DIR/${file%:*}" "$DEST/${file%:*}"; then
    install -m "${file#*:}" "$SHIM_DIR/${file%:*}" "$DEST/${file%:*}"
  fi
done

echo "$DEST"
