#!/usr/bin/env bash
# Installs what ngx-node needs to build, test and run on Debian 12, 13 or unstable, idempotently:
#   - nginx and nginx-dev (the configured source tree dynamic modules are built against),
#   - Debian's libnode of the running release (libnode108: Node 18 on Debian 12, libnode115:
#     Node 20 on Debian 13, Node 24 on sid; the names are asked of apt, not written here):
#     system-wide with `apt install libnode-dev` where apt can; when a NodeSource Node.js blocks it,
#     extracted from the .debs into .deps/libnode (ARCHITECTURE.md, facts 13-14),
#   - or, with LIBNODE_INCLUDE and LIBNODE_LIBDIR set, a libnode of your own (a Node.js built with
#     `./configure --shared`): it is remembered in build/libnode.env until that file is removed,
#   - the npm packages of package.json.
# Writes build/libnode.env for scripts/build.sh and native/Makefile.
#
#   scripts/setup.sh              everything
#   scripts/setup.sh --npm-only   only the npm packages
#   scripts/setup.sh --bench      also what bench/ compares against (njs, OpenResty's Lua, wrk)
#
# LIBNODE_FORCE_PRIVATE=1 takes the NodeSource path (extraction into .deps/libnode) regardless.
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
command -v dpkg-query >/dev/null || die "this set-up is for Debian (dpkg/apt not found)"

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
apt_install nginx nginx-dev g++ make binutils \
    libnginx-mod-http-js libnginx-mod-http-lua lua-resty-core lua-cjson \
    libnginx-mod-stream libnginx-mod-stream-js redis-server

if [ "${1:-}" = "--bench" ]; then
    apt_install wrk lua-luaossl util-linux
fi

# --- libnode -------------------------------------------------------------------------------
# The Node.js majors the bridge is built and tested against (Debian 12: 18, Debian 13: 20, sid: 24).
supported_majors="18 20 22 24"
prefix=$root/.deps/libnode   # Debian's libnode extracted from its .debs, when apt cannot install it
stamp=$prefix/.ngx-node      # what was extracted there (a shell fragment)

download_debs() {  # into .deps/debs
    mkdir -p .deps/debs
    apt_update
    (cd .deps/debs && rm -f ./*.deb && apt-get download -qq -o APT::Sandbox::User=root "$@" >/dev/null) \
        || die "apt-get download $* failed"
}

# apt's lists, if it does not know the package yet (an image without them). Called in this shell
# before the functions that run in $(...), so that apt-get update runs once at most.
apt_knows() {
    apt-cache show "$1" >/dev/null 2>&1 || apt_update
}

# A package's dependencies as apt's candidate version states them, by name, one a line: the first
# alternative of each (a virtual package counts for nothing, the next alternative is taken).
apt_depends() {
    apt-cache depends "$1" 2>/dev/null | awk '
        $1 == "Depends:" || $1 == "|Depends:" {
            if (!done && $2 !~ /^</) { print $2; done = 1 }
            if ($1 == "Depends:") done = 0
        }'
}

# The runtime package libnode-dev depends on in this release: libnode108, libnode115, ...
libnode_runtime_package() {
    local pkg=
    if is_installed libnode-dev; then
        pkg=$(dpkg-query -W -f='${Depends}' libnode-dev | tr ',' '\n' \
            | sed -E 's/^ *//; s/[ :(|].*//' | grep -m1 -E '^libnode[0-9]+$' || true)
    fi
    [ -n "$pkg" ] || pkg=$(apt_depends libnode-dev | grep -m1 -E '^libnode[0-9]+$' || true)
    [ -n "$pkg" ] || die "apt knows no libnode-dev depending on a libnodeNNN package here (are Debian's main archive and its lists there? apt-get update)"
    printf '%s\n' "$pkg"
}

# Why `apt install libnode-dev` cannot be done here, if it cannot (on stdout; status 1 if it can).
libnode_dev_blocker() {
    local owner sim removes
    owner=$(dpkg-query -S /usr/include/node/node.h 2>/dev/null | head -n 1 | cut -d: -f1 || true)
    if [ -n "$owner" ] && [ "$owner" != libnode-dev ]; then
        printf 'package %s owns /usr/include/node' "$owner"
        return 0
    fi
    if ! sim=$(apt-get -s install --no-install-recommends libnode-dev 2>&1); then
        printf 'apt-get install libnode-dev would fail: %s' "$(tail -n 1 <<<"$sim")"
        return 0
    fi
    removes=$(awk '$1 == "Remv" { printf "%s%s", sep, $2; sep = " " }' <<<"$sim")
    if [ -n "$removes" ]; then
        printf 'apt-get install libnode-dev would remove %s' "$removes"
        return 0
    fi
    return 1
}

# The files under /usr/share/nodejs this libnode reads at start (fact 13: acorn, cjs-module-lexer,
# undici on Debian 12; whatever the release's build externalised).
libnode_builtins() {  # <libnode.so.N>
    grep -aoE '/usr/share/nodejs/[A-Za-z0-9@._+/-]+\.(js|mjs|cjs|json)' "$1" | sort -u || true
}

use_system_libnode() {
    local pkg
    pkg=$(libnode_runtime_package)
    is_installed "$pkg" || die "libnode-dev is installed but $pkg is not"
    LIBNODE_INCLUDE=/usr/include/node
    local lib
    lib=$(dpkg-query -L "$pkg" | grep -E '/libnode\.so\.[0-9]+$' | head -n 1 || true)
    [ -n "$lib" ] || die "$pkg has no libnode.so.N (dpkg-query -L $pkg)"
    LIBNODE_LIBDIR=$(dirname "$lib")
    LIBNODE_LIBFILE=$(basename "$lib")
    LIBNODE_SOURCE=system
    LIBNODE_PACKAGE=$pkg=$(dpkg-query -W -f='${Version}' "$pkg")
    describe="Debian's $pkg ${LIBNODE_PACKAGE#*=}, installed with apt"
}

install_private_libnode() {  # <why apt cannot install it>
    if [ ! -f "$stamp" ] || [ ! -f "$prefix/usr/include/node/node.h" ]; then
        local pkg version deps dev_deps d runtime_libs=() builtin_pkgs=() dev_libs=()
        apt_knows libnode-dev
        pkg=$(libnode_runtime_package)
        version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '$1 == "Version:" && !v { v = $2 } END { print v }')
        mapfile -t deps < <(apt_depends "$pkg")
        mapfile -t dev_deps < <(apt_depends libnode-dev)
        # node-*: the packages of the externalised built-ins (they depend on nodejs, which NodeSource's
        # replaces, so they are extracted as well); the rest are ordinary libraries apt installs
        for d in "${deps[@]}"; do
            case $d in node-*) builtin_pkgs+=("$d") ;; *) runtime_libs+=("$d") ;; esac
        done
        for d in "${dev_deps[@]}"; do
            [ "$d" = "$pkg" ] || dev_libs+=("$d")
        done
        # and what those need in turn (sid: node-undici needs node-llhttp, node-minimatch needs
        # node-brace-expansion, which needs node-balanced-match; libnode reads files of all of them)
        local queue=("${builtin_pkgs[@]}") seen=" ${builtin_pkgs[*]} " dep
        while [ ${#queue[@]} -gt 0 ]; do
            d=${queue[0]}
            queue=("${queue[@]:1}")
            for dep in $(apt_depends "$d"); do
                case $dep in node-*) ;; *) continue ;; esac
                case $seen in *" $dep "*) continue ;; esac
                seen+="$dep "
                builtin_pkgs+=("$dep")
                queue+=("$dep")
            done
        done
        say "extracting Debian's $pkg $version and libnode-dev into $prefix ($1)"
        download_debs libnode-dev "$pkg" "${builtin_pkgs[@]}"
        rm -rf "$prefix" .deps/builtins
        mkdir -p "$prefix" .deps/builtins
        dpkg-deb -x .deps/debs/"${pkg}"_*.deb "$prefix"
        dpkg-deb -x .deps/debs/libnode-dev_*.deb "$prefix"
        for d in "${builtin_pkgs[@]}"; do dpkg-deb -x .deps/debs/"${d}"_*.deb .deps/builtins; done
        local lib
        lib=$(ls "$prefix"/usr/lib/*/libnode.so.[0-9]* 2>/dev/null | grep -E '/libnode\.so\.[0-9]+$' | head -n 1 || true)
        [ -n "$lib" ] || die "$pkg's .deb has no libnode.so.N"
        cat > "$stamp.tmp" <<EOF
LIBNODE_PACKAGE=$pkg=$version
LIBNODE_WHY="$1"
LIBNODE_LIB=$lib
LIBNODE_RUNTIME_LIBS="${runtime_libs[*]}"
LIBNODE_DEV_LIBS="${dev_libs[*]}"
LIBNODE_BUILTINS="$(libnode_builtins "$lib" | tr '\n' ' ')"
EOF
        mv "$stamp.tmp" "$stamp"
    fi
    local LIBNODE_WHY LIBNODE_LIB LIBNODE_RUNTIME_LIBS LIBNODE_DEV_LIBS LIBNODE_BUILTINS
    # shellcheck disable=SC1090
    . "$stamp"
    if [ ! -f "$LIBNODE_LIB" ]; then
        rm -f "$stamp"
        install_private_libnode "$1"
        return
    fi
    # shellcheck disable=SC2086
    apt_install $LIBNODE_RUNTIME_LIBS $LIBNODE_DEV_LIBS
    local f
    for f in $LIBNODE_BUILTINS; do
        [ ! -f "$f" ] || continue
        if [ -f ".deps/builtins$f" ]; then
            install -D -m 644 ".deps/builtins$f" "$f"
        else
            say "warning: $(basename "$LIBNODE_LIB") refers to $f, which none of its packages has; Node.js may fail to start"
        fi
    done
    LIBNODE_INCLUDE=$prefix/usr/include/node
    LIBNODE_LIBDIR=$(dirname "$LIBNODE_LIB")
    LIBNODE_LIBFILE=$(basename "$LIBNODE_LIB")
    LIBNODE_SOURCE=private
    describe="Debian's ${LIBNODE_PACKAGE%%=*} ${LIBNODE_PACKAGE#*=}, extracted into .deps/libnode ($LIBNODE_WHY)"
}

use_custom_libnode() {  # LIBNODE_INCLUDE and LIBNODE_LIBDIR are set
    [ -f "$LIBNODE_INCLUDE/node.h" ] \
        || die "LIBNODE_INCLUDE=$LIBNODE_INCLUDE has no node.h (Node's 'make install' puts it in <prefix>/include/node)"
    local lib
    lib=$(ls "$LIBNODE_LIBDIR"/libnode.so.[0-9]* 2>/dev/null | grep -E '/libnode\.so\.[0-9]+$' | sort -V | tail -n 1 || true)
    [ -n "$lib" ] || lib=$(ls "$LIBNODE_LIBDIR"/libnode.so 2>/dev/null || true)
    [ -n "$lib" ] || die "LIBNODE_LIBDIR=$LIBNODE_LIBDIR has no libnode.so.N (build Node.js with ./configure --shared)"
    LIBNODE_LIBFILE=$(basename "$lib")
    LIBNODE_SOURCE=custom
    LIBNODE_PACKAGE=
    describe="your own, from LIBNODE_INCLUDE=$LIBNODE_INCLUDE and LIBNODE_LIBDIR=$LIBNODE_LIBDIR"
}

describe=
if [ -n "${LIBNODE_INCLUDE:-}" ] || [ -n "${LIBNODE_LIBDIR:-}" ]; then
    [ -n "${LIBNODE_INCLUDE:-}" ] && [ -n "${LIBNODE_LIBDIR:-}" ] \
        || die "set both LIBNODE_INCLUDE (the directory of node.h) and LIBNODE_LIBDIR (that of libnode.so.N)"
    use_custom_libnode
elif [ -f build/libnode.env ] && grep -qx 'LIBNODE_SOURCE=custom' build/libnode.env; then
    # a libnode of your own, set up before: kept until build/libnode.env is removed
    LIBNODE_INCLUDE=$(sed -n 's/^LIBNODE_INCLUDE=//p' build/libnode.env)
    LIBNODE_LIBDIR=$(sed -n 's/^LIBNODE_LIBDIR=//p' build/libnode.env)
    use_custom_libnode
    describe="$describe (kept from build/libnode.env; remove that file to use Debian's)"
elif [ -n "${LIBNODE_FORCE_PRIVATE:-}" ]; then
    # the NodeSource path on a machine without NodeSource (to test it)
    install_private_libnode "LIBNODE_FORCE_PRIVATE is set"
elif is_installed libnode-dev; then
    use_system_libnode
elif [ -f "$stamp" ]; then
    install_private_libnode "as set up before"
elif apt_knows libnode-dev && blocker=$(libnode_dev_blocker); then
    install_private_libnode "$blocker"
else
    apt_install libnode-dev
    use_system_libnode
fi

version_h=$LIBNODE_INCLUDE/node_version.h
[ -f "$version_h" ] || die "$version_h not found"
node_version() { awk -v name="NODE_$1_VERSION" '$1 == "#define" && $2 == name { print $3; exit }' "$version_h"; }
LIBNODE_NODE_MAJOR=$(node_version MAJOR)
LIBNODE_NODE_VERSION=$LIBNODE_NODE_MAJOR.$(node_version MINOR).$(node_version PATCH)
case " $supported_majors " in
    *" $LIBNODE_NODE_MAJOR "*) ;;
    *) die "the libnode found is Node.js $LIBNODE_NODE_VERSION ($describe); the bridge supports Node.js ${supported_majors// /, }" ;;
esac

# Debian's libnode uses the system's libuv (the bridge links it too); one built with Node's own
# copy exports libuv's functions itself, and a second libuv must not be linked in.
needed=$(objdump -p "$LIBNODE_LIBDIR/$LIBNODE_LIBFILE" 2>/dev/null || true)
if grep -qE 'NEEDED +libuv\.so' <<<"$needed"; then
    LIBNODE_LINK_UV=yes
    [ "$LIBNODE_SOURCE" = system ] || apt_install libuv1-dev
else
    LIBNODE_LINK_UV=no
fi

say "libnode: Node.js $LIBNODE_NODE_VERSION, $describe"

# rewritten only when it changes: native/Makefile rebuilds the bridge when it does
mkdir -p build
cat > build/libnode.env.tmp <<EOF
LIBNODE_SOURCE=$LIBNODE_SOURCE
LIBNODE_PACKAGE=$LIBNODE_PACKAGE
LIBNODE_INCLUDE=$LIBNODE_INCLUDE
LIBNODE_LIBDIR=$LIBNODE_LIBDIR
LIBNODE_LIBFILE=$LIBNODE_LIBFILE
LIBNODE_LINK_UV=$LIBNODE_LINK_UV
LIBNODE_NODE_MAJOR=$LIBNODE_NODE_MAJOR
LIBNODE_NODE_VERSION=$LIBNODE_NODE_VERSION
EOF
if cmp -s build/libnode.env.tmp build/libnode.env; then
    rm build/libnode.env.tmp
else
    mv build/libnode.env.tmp build/libnode.env
fi

install_npm_packages
