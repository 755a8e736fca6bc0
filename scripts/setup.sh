#!/usr/bin/env bash
# Installs what ngx-node needs to build, test and run on Debian 12, idempotently:
#   - nginx and nginx-dev (the configured source tree dynamic modules are built against),
#   - Debian's libnode 18 (system-wide where apt can install it; otherwise, when a NodeSource
#     Node.js blocks it, extracted from the .debs into .deps/libnode: see ARCHITECTURE.md 13-14),
#   - the npm packages of package.json.
# Writes build/libnode.env for scripts/build.sh.
#
#   scripts/setup.sh              everything
#   scripts/setup.sh --npm-only   only the npm packages
#   scripts/setup.sh --bench      also what bench/ compares against (njs, OpenResty's Lua, wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

install_npm_packages() {
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        say "installing npm packages"
        if [ -f package-lock.json ]; then
            npm ci --no-audit --no-fund --loglevel=error
        else
            npm install --no-audit --no-fund --loglevel=error
        fi
    fi
}

if [ "${1:-}" = "--npm-only" ]; then
    install_npm_packages
    exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (it installs Debian packages)"
command -v dpkg-query >/dev/null || die "this set-up is for Debian 12 (dpkg/apt not found)"

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_updated=no
apt_update() {
    if [ $apt_updated = no ]; then
        say "apt-get update"
        apt-get update -qq || say "warning: apt-get update reported errors; trying with what is cached"
        apt_updated=yes
    fi
}

# Installs the packages that are missing. A package's maintainer script must not start a system
# nginx listening on 0.0.0.0:80, so services are kept from starting while apt runs.
apt_install() {
    local missing=() p
    for p in "$@"; do is_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -gt 0 ] || return 0
    apt_update
    say "installing ${missing[*]}"
    local policy=/usr/sbin/policy-rc.d own_policy=no
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy && own_policy=yes
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || { [ $own_policy = no ] || rm -f $policy; die "apt-get install ${missing[*]} failed"; }
    [ $own_policy = no ] || rm -f $policy
}

# libnginx-mod-http-js, libnginx-mod-stream(-js): the njs-compatibility tests run the same
# scripts under njs; libnginx-mod-stream: nginx's stream module, for ours;
# libnginx-mod-http-lua, lua-resty-core, lua-cjson: the OpenResty bridge's tests;
# redis-server: examples/rate-limit's tests start their own on a loopback port (the package's
# own service is kept from starting, as any service is here)
apt_install nginx nginx-dev g++ make libuv1-dev libssl-dev \
    libuv1 libbrotli1 libc-ares2 libicu72 libnghttp2-14 libssl3 zlib1g \
    libnginx-mod-http-js libnginx-mod-http-lua lua-resty-core lua-cjson \
    libnginx-mod-stream libnginx-mod-stream-js redis-server

if [ "${1:-}" = "--bench" ]; then
    apt_install wrk lua-luaossl util-linux
fi

# --- libnode -------------------------------------------------------------------------------
# Debian's libnode108 reads three "externalised built-ins" from fixed paths and aborts without them.
builtin_files=(
    cjs-module-lexer/lexer.js cjs-module-lexer/dist/lexer.js undici/undici-fetch.js
    acorn/dist/acorn.js acorn-walk/dist/walk.js
)

download_debs() {  # into .deps/debs
    mkdir -p .deps/debs
    apt_update
    (cd .deps/debs && rm -f ./*.deb && apt-get download -qq -o APT::Sandbox::User=root "$@" >/dev/null) \
        || die "apt-get download $* failed"
}

install_private_libnode() {
    local prefix=$root/.deps/libnode
    if [ ! -f "$prefix/usr/include/node/node.h" ] || ! ls "$prefix"/usr/lib/*/libnode.so.* >/dev/null 2>&1; then
        say "extracting Debian's libnode into $prefix (a NodeSource Node.js blocks apt install libnode-dev)"
        download_debs libnode108 libnode-dev node-acorn node-cjs-module-lexer node-undici
        rm -rf "$prefix" .deps/builtins
        mkdir -p "$prefix" .deps/builtins
        dpkg-deb -x .deps/debs/libnode108_*.deb "$prefix"
        dpkg-deb -x .deps/debs/libnode-dev_*.deb "$prefix"
        local deb
        for deb in .deps/debs/node-*.deb; do dpkg-deb -x "$deb" .deps/builtins; done
    fi
    local f
    for f in "${builtin_files[@]}"; do
        if [ ! -f "/usr/share/nodejs/$f" ]; then
            [ -f ".deps/builtins/usr/share/nodejs/$f" ] || { rm -rf "$prefix"; install_private_libnode; return; }
            install -D -m 644 ".deps/builtins/usr/share/nodejs/$f" "/usr/share/nodejs/$f"
        fi
    done
    LIBNODE_INCLUDE=$prefix/usr/include/node
    LIBNODE_LIBDIR=$(dirname "$(ls "$prefix"/usr/lib/*/libnode.so.* | head -n 1)")
}

node_headers_owner=$(dpkg-query -S /usr/include/node/node.h 2>/dev/null | cut -d: -f1 || true)
if is_installed libnode-dev; then
    LIBNODE_INCLUDE=/usr/include/node
    LIBNODE_LIBDIR=$(dirname "$(dpkg-query -L libnode108 | grep -m1 '/libnode\.so\.')")
elif [ -n "$node_headers_owner" ] && [ "$node_headers_owner" != libnode-dev ]; then
    install_private_libnode
else
    apt_install libnode-dev
    LIBNODE_INCLUDE=/usr/include/node
    LIBNODE_LIBDIR=$(dirname "$(dpkg-query -L libnode108 | grep -m1 '/libnode\.so\.')")
fi

grep -q 'define NODE_MAJOR_VERSION 18' "$LIBNODE_INCLUDE/node_version.h" \
    || die "$LIBNODE_INCLUDE is not Node 18's libnode"

mkdir -p build
cat > build/libnode.env <<EOF
LIBNODE_INCLUDE=$LIBNODE_INCLUDE
LIBNODE_LIBDIR=$LIBNODE_LIBDIR
EOF

install_npm_packages
