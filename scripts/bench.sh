#!/usr/bin/env bash
# npm run bench [-- --quick]: installs the anchors (njs, OpenResty's Lua, wrk), builds, and
# runs bench/run.ts pinned to CPU 1 (nginx's worker pins itself to CPU 0).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --bench
bash scripts/build.sh
rm -rf build/tsc-test
node_modules/.bin/tsc -p tsconfig.test.json

# the client of the pending-requests case holds 10 000 sockets
ulimit -n "$(ulimit -Hn)"
exec taskset -c 1 node build/tsc-test/bench/run.js "$@"
