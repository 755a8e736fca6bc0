#!/usr/bin/env bash
# npm run bench:reload [-- --seconds 20 --reloads 20 --connections 50 --together]: wrk against
# `return 200` and an async node_content handler while nginx reloads (bench/reload.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --bench
bash scripts/build.sh
rm -rf build/tsc-test
node_modules/.bin/tsc -p tsconfig.test.json

exec node build/tsc-test/bench/reload.js "$@"
