#!/usr/bin/env bash
# Builds everything into build/ (or NGX_NODE_BUILD_DIR):
#   ngx_http_node_module.so  the nginx modules (C), against the distro nginx (nginx-dev)
#   ngx_stream_node_module.so
#   libngx_node_core.so      the core the modules share (C): configuration, checker, loop glue
#   ngx_node_bridge.so       the bridge (C++), loaded by the module in each worker
#   ngx-node                 Node.js on the same libnode, for the configuration checker
#   lib/runtime/             the TypeScript runtime, compiled
#   lib/index.d.ts           the public types
#
# NGX_NODE_BUILD_DIR  another output directory (scripts/package.sh builds the .debs' files there)
# NGX_NODE_RPATH      where the modules find libngx_node_core.so at run time (default $ORIGIN)
# NGX_NODE_LIBNODE_RPATH  where the bridge and ngx-node find libnode at run time (default: where
#                     it is at build time, build/libnode.env's LIBNODE_LIBDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# (a build/libnode.env of before Node's version was recorded in it is renewed too)
grep -qs '^LIBNODE_NODE_MAJOR=' build/libnode.env || bash scripts/setup.sh

say() { printf 'build: %s\n' "$*" >&2; }

out=${NGX_NODE_BUILD_DIR:-build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ "$out" = "$root/build" ] || cmp -s build/libnode.env "$out/libnode.env" || cp build/libnode.env "$out/libnode.env"

say "runtime (tsc)"
rm -rf "$out/lib"
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$out/lib"

say "bridge"
make -s -C native -j2 BUILD="$out" ${NGX_NODE_LIBNODE_RPATH:+LIBNODE_RPATH="$NGX_NODE_LIBNODE_RPATH"}

# The modules are built the way nginx builds dynamic modules: the configured source tree of
# package nginx-dev, Debian's configure flags (--with-compat), plus ours. Both link the shared
# core, found beside them at run time (NGX_NODE_RPATH, default $ORIGIN).
export NGX_NODE_CORE_LIB="$out/libngx_node_core.so"
export NGX_NODE_LD_OPTIONS="$out/modules.ld-options"
printf -- '-rpath=%s\n' "${NGX_NODE_RPATH:-\$ORIGIN}" > "$NGX_NODE_LD_OPTIONS"
src=$out/nginx
stamp=$src/.configured-with
want="$(cat /usr/share/nginx/src/conf_flags; nginx -V 2>&1; cat native/nginx/config; dpkg-query -W -f='${Version}' nginx-dev; echo "$NGX_NODE_CORE_LIB"; cat "$NGX_NODE_LD_OPTIONS")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "configuring nginx $(dpkg-query -W -f='${Version}' nginx-dev) for the modules"
    rm -rf "$src"
    cp -r /usr/share/nginx/src "$src"
    # shellcheck disable=SC1091
    . /usr/share/nginx/src/conf_flags
    # nginx-dev's flags leave out the stream module that the nginx binary has (dynamic, its
    # own package): the stream module is built against the same, as nginx -V tells
    mapfile -t stream_flags < <(nginx -V 2>&1 | tr ' ' '\n' \
        | grep -E '^--with-stream(=dynamic|_[a-z_]+_module)$')
    (cd "$src" && ./configure "${NGX_CONF_FLAGS[@]}" "${stream_flags[@]}" \
        --add-dynamic-module="$root/native/nginx" >configure.log 2>&1) \
        || { tail -n 30 "$src/configure.log" >&2; exit 1; }
    printf '%s' "$want" > "$stamp"
fi

# what nginx's own objs/Makefile compiles with: CC, CFLAGS and ALL_INCS (one line each)
makefile_var() {
    awk -v name="$1" '
        $0 ~ "^" name " =" { sub("^" name " =[ \t]*", ""); on = 1 }
        on { line = $0; more = sub(/\\$/, "", line); printf "%s ", line; if (!more) exit }
    ' "$src/objs/Makefile"
}
say "core"
make -s -C native core BUILD="$out" NGX_SRC="$src" NGX_CC="$(makefile_var CC)" \
    NGX_CFLAGS="$(makefile_var CFLAGS)" NGX_INCS="$(makefile_var ALL_INCS)"

say "nginx modules"
# (only ours: nginx-dev's tree has the stream module's headers, not its sources)
make -s -C "$src" -f objs/Makefile objs/ngx_http_node_module.so objs/ngx_stream_node_module.so >/dev/null
cp "$src/objs/ngx_http_node_module.so" "$src/objs/ngx_stream_node_module.so" "$out/"
say "done: $out/ngx_http_node_module.so, $out/ngx_stream_node_module.so"
