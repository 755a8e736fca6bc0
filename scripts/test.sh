#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, type-checks, then runs every test
# (node:test, real nginx on loopback). Extra arguments go to node --test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh

echo "test: type-check (tsc --noEmit, strict)" >&2
node_modules/.bin/tsc --noEmit -p tsconfig.json

rm -rf build/tsc-test
node_modules/.bin/tsc -p tsconfig.test.json

exec node --test --test-reporter=spec "$@" build/tsc-test/test/*.test.js
