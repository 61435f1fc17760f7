#!/usr/bin/env bash
# Builds the `docker` Pulumi resource plugin that @pulumi/docker 5.2.0 needs, from the upstream Terraform provider
# it bridges (github.com/kreuzwerker/terraform-provider-docker) and pulumi-terraform-bridge, both served by the Go
# module proxy, because neither the released plugin nor pulumi-docker's own provider modules can be downloaded
# here. The wrapper module is scripts/docker-provider/ (its go.sum pins every module). Used by the docker tests and,
# when no docker plugin is installed, by the docker flavour of `npm run local`.
#
# Output directory $HOME/.cache/stepca-cloudkms/docker-provider-5.2.0-<inputs hash>/ holds `pulumi-resource-docker`
# and the `schema.json` the bridge generated for it (the binary reads it from beside itself). Put the directory on
# PATH: the Pulumi engine uses a `pulumi-resource-docker` found there. Idempotent: rebuilt only when an input (the
# wrapper's files, this script, the Go version) changes; concurrent runs wait for one build (flock).
#
# stdout: the output directory (only that line). Everything else goes to stderr.
# Cold build: several minutes on 2 cores (the module download alone is ~1 GB); start it early.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/docker-provider"
SDK_VERSION=5.2.0
UPSTREAM=github.com/kreuzwerker/terraform-provider-docker
UPSTREAM_VERSION="$(sed -n 's|^\tgithub.com/terraform-providers/terraform-provider-docker \(v[^ ]*\)$|\1|p' "$SRC/go.mod")"
CACHE_ROOT="${STEPCA_CLOUDKMS_CACHE:-$HOME/.cache/stepca-cloudkms}"

log() { echo "install-docker-provider: $*" >&2; }
fail() { log "ERROR: $*"; exit 3; }

command -v go >/dev/null 2>&1 || fail "'go' is not on PATH; the provider is built from Go modules"
[ -n "$UPSTREAM_VERSION" ] || fail "no upstream version in $SRC/go.mod"

# Contents only (no paths): every clone of the same commit shares one build.
inputs="$( (cd "$SRC" && cat go.mod go.sum main.go upstream/stepcaexport.go.in "$HERE/install-docker-provider.sh" && go version) |
  sha256sum | cut -c1-12)"
DEST="$CACHE_ROOT/docker-provider-$SDK_VERSION-$inputs"

installed() { [ -x "$DEST/pulumi-resource-docker" ] && [ -s "$DEST/schema.json" ]; }

if installed; then
  log "cached: $DEST"
  echo "$DEST"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.install-docker-provider.lock"
flock 9
if installed; then
  log "cached (built by a concurrent run): $DEST"
  echo "$DEST"
  exit 0
fi

STAGE="$(mktemp -d "$CACHE_ROOT/.docker-provider-stage.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
log "$(go version); building the docker provider ($UPSTREAM@$UPSTREAM_VERSION, bridged) — cold: several minutes"

# The module as a directory replace (go.mod: => ./upstream): its go.mod names another module path than the one the
# proxy serves it under, and a package of ours must sit inside it to reach internal/provider. `go build -overlay`
# cannot add files to a module in the module cache, hence a copy.
upstream_dir="$(go mod download -json "$UPSTREAM@$UPSTREAM_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$upstream_dir" ] || fail "go mod download $UPSTREAM@$UPSTREAM_VERSION gave no directory"
cp "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" "$STAGE/"
cp -r "$upstream_dir" "$STAGE/upstream"
chmod -R u+w "$STAGE/upstream"
mkdir "$STAGE/upstream/stepcaexport"
cp "$SRC/upstream/stepcaexport.go.in" "$STAGE/upstream/stepcaexport/export.go"

mkdir -p "$STAGE/out"
(cd "$STAGE" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o out/pulumi-resource-docker .) >&2 ||
  fail "go build failed (above)"
# The bridge's schema generator, run once: the schema the engine gets from GetSchema.
(cd "$STAGE" && ./out/pulumi-resource-docker tfgen schema --out "$STAGE/out/gen" --skip-docs --skip-examples) >&2 ||
  fail "schema generation failed (above)"
mv "$STAGE/out/gen/schema.json" "$STAGE/out/schema.json"
rm -rf "$STAGE/out/gen"
"$STAGE/out/pulumi-resource-docker" -version >&2

rm -rf "$DEST"
mv "$STAGE/out" "$DEST"
log "installed: $DEST"
echo "$DEST"
