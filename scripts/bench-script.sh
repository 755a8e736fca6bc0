#!/usr/bin/env bash
# npm run bench:reload | bench:metrics | bench:rate-limit | bench:shared-dict [-- options]: one of the standalone benchmarks,
# bench/<name>.ts (its header says what it measures and takes), after setup and a build.
set -euo pipefail
cd "$(dirname "$0")/.."

name=$1
shift

bash scripts/setup.sh --bench
bash scripts/build.sh
rm -rf build/tsc-test
node_modules/.bin/tsc -p tsconfig.test.json

exec node "build/tsc-test/bench/$name.js" "$@"
