#!/usr/bin/env bash
# `npm run bench [section ...]`: sets up what the bench needs (scripts/toolchain.sh), then runs bench/run.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
exec node --import tsx bench/run.ts "$@"
