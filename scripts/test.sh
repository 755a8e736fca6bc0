#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, type-checks, then runs every test
# (node:test, real nginx on loopback), twice: with error_log at info, then at debug (nginx's
# debug logging reads every event and timer the module owns). Extra arguments go to node --test;
# NGX_NODE_TEST_PASSES=info (or debug) runs one pass only.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh

echo "test: type-check (tsc --noEmit, strict)" >&2
node_modules/.bin/tsc --noEmit -p tsconfig.json

rm -rf build/tsc-test
node_modules/.bin/tsc -p tsconfig.test.json

passes=${NGX_NODE_TEST_PASSES:-info debug}
for level in $passes; do
    echo "test: the suite with error_log at $level" >&2
    NGX_NODE_TEST_LOG_LEVEL=$level node --test --test-reporter=spec "$@" build/tsc-test/test/*.test.js
done
