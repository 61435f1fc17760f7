#!/usr/bin/env bash
# `npm test` and `npm run test:<suite>`: sets up what the tests need (scripts/toolchain.sh), then runs them with
# Node 22's test runner through tsx.
#
#   scripts/test.sh            tsc --noEmit, then every test (test/**/*.test.ts)
#   scripts/test.sh <suite>    the tests of test/<suite>/ only (no type check)
#
# Arguments after the suite go to `node --test` (e.g. `npm run test:unit -- --test-name-pattern=fingerprint`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

if [ $# -eq 0 ] || [[ "$1" == -* ]]; then
  node_modules/.bin/tsc --noEmit
  files="test/**/*.test.ts"
else
  [ -d "test/$1" ] || { echo "test: no suite test/$1 (suites: $(ls test | tr '\n' ' '))" >&2; exit 2; }
  files="test/$1/**/*.test.ts"
  shift
fi
exec node --import tsx --test --test-reporter=spec "$@" "$files"
