#!/usr/bin/env bash
# The demo: a real nginx with the module and examples/ on http://127.0.0.1:8080, in the
# foreground; Ctrl-C stops it. Installs and builds what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
mkdir -p build/demo

globals=$(bash scripts/demo-globals.sh)

nginx -q -p "$PWD/" -c examples/nginx.conf -g "$globals" -t
cat >&2 <<EOM
demo: nginx with ngx-node on http://127.0.0.1:8080 (Ctrl-C stops it)
  curl --data-binary 'hello there' http://127.0.0.1:8080/echo
  curl 'http://127.0.0.1:8080/hello?ms=100'
  tail -f build/demo/access.log build/demo/error.log
EOM
exec nginx -p "$PWD/" -c examples/nginx.conf -g "$globals"
