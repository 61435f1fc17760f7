# Sourced by scripts/local.sh, scripts/test.sh and scripts/bench.sh: everything the project's commands need before
# they run, so that a fresh clone needs no set-up step of its own.
#   - Node >= 22 on PATH (scripts/node22.sh);
#   - node_modules installed from package-lock.json (`npm ci`) when missing or older than the lock file;
#   - Go's official install location on PATH when `go` is not (a non-login shell may lack it); the Go-built tools
#     themselves are built on demand by scripts/install-*.sh.
# Expects to be sourced from the project root.
# shellcheck source=scripts/node22.sh
source "$(dirname "${BASH_SOURCE[0]}")/node22.sh"

if [ ! -f node_modules/@pulumi/pulumi/package.json ] || [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "toolchain: installing npm dependencies (npm ci)" >&2
  flock /tmp/npm.lock npm ci --no-audit --no-fund >&2
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
