#!/usr/bin/env bash
# npm run fuzz [-- --count N --seed S ...]: builds, then runs the bad-input fuzzer
# (test/fuzz/fuzz.ts) against a real nginx. --valgrind runs it under memcheck.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
if [[ " $* " == *" --valgrind "* ]] && ! command -v valgrind >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
bash scripts/build.sh
rm -rf build/tsc-test
node_modules/.bin/tsc -p tsconfig.test.json

ulimit -n "$(ulimit -Hn)"
exec node build/tsc-test/test/fuzz/fuzz.js "$@"
