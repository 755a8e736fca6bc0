#!/usr/bin/env bash
# Builds everything into build/:
#   ngx_http_node_module.so  the nginx module (C), against the distro nginx (nginx-dev)
#   ngx_node_bridge.so       the bridge (C++), loaded by the module in each worker
#   ngx-node                 Node.js on the same libnode, for the configuration checker
#   lib/runtime/             the TypeScript runtime, compiled
#   lib/index.d.ts           the public types
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

[ -f build/libnode.env ] || bash scripts/setup.sh

say() { printf 'build: %s\n' "$*" >&2; }

say "runtime (tsc)"
rm -rf build/lib
node_modules/.bin/tsc -p tsconfig.build.json

say "bridge"
make -s -C native -j2

# The module is built the way nginx builds dynamic modules: the configured source tree of
# package nginx-dev, Debian's configure flags (--with-compat), plus our module.
src=build/nginx
stamp=$src/.configured-with
want="$(cat /usr/share/nginx/src/conf_flags; cat native/nginx/config; dpkg-query -W -f='${Version}' nginx-dev)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "configuring nginx $(dpkg-query -W -f='${Version}' nginx-dev) for the module"
    rm -rf "$src"
    cp -r /usr/share/nginx/src "$src"
    # shellcheck disable=SC1091
    . /usr/share/nginx/src/conf_flags
    (cd "$src" && ./configure "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$root/native/nginx" >configure.log 2>&1) \
        || { tail -n 30 "$src/configure.log" >&2; exit 1; }
    printf '%s' "$want" > "$stamp"
fi
say "nginx module"
make -s -C "$src" -f objs/Makefile modules >/dev/null
cp "$src/objs/ngx_http_node_module.so" build/ngx_http_node_module.so
say "done: $root/build/ngx_http_node_module.so"
