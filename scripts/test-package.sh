#!/usr/bin/env bash
# The Debian packages, end to end, in fresh debootstrap chroots (npm run test:package; not part of
# npm test or CI: it downloads a Debian and takes minutes). As root:
#
#   scripts/test-package.sh [bookworm|trixie] [--node none,debian,nodesource] [--build-in-chroot]
#                           [--no-build] [--keep]
#
# The release defaults to the running one. Its packages are built on this machine for the running
# release (scripts/package.sh), in a build chroot for the other (kept in build/pkgtest/<release>-build
# for the next run; --build-in-chroot uses one for the running release too; --no-build tests the
# packages already in build/package/<release>). Then, for each kind of
# Node.js a machine may already have (--node, default all three: none; Debian's nodejs, which brings
# Debian's libnode; NodeSource's nodejs, which keeps Debian's libnode from installing - repacked from
# this machine's, or NGX_NODE_NODESOURCE_DEB), in a fresh chroot of that release:
#   apt install nginx, then apt install ./ the three packages; the modules enabled in
#   /etc/nginx/modules-enabled; a site in /etc/nginx/conf.d with node_import, node_content,
#   node_set and fetch (handlers in /etc/nginx/node, TypeScript); nginx started as its service does,
#   with Debian's nginx.conf (workers as www-data), answers on 127.0.0.1; nginx -s reload with a
#   changed handler answers anew; a second nginx runs a stream server; nginx -s quit; apt purge,
#   and nothing of the packages is left (dpkg -L before, checked after).
# Services are kept from starting (policy-rc.d); the host's extra CA certificates
# (/usr/local/share/ca-certificates) are copied in; /proc, /sys, /dev are unmounted on exit.
# Logs: build/pkgtest/<release>-<node>.log. NGX_NODE_DEBIAN_MIRROR, NGX_NODE_PKGTEST_PORT (18631;
# the stream server uses the next port).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/pkgtest
mirror=${NGX_NODE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${NGX_NODE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
port=${NGX_NODE_PKGTEST_PORT:-18631}
sport=$((port + 1))

say() { printf 'test-package: %s\n' "$*" >&2; [ -z "${log:-}" ] || printf 'test-package: %s\n' "$*" >> "$log"; }
die() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot, mount)"
# shellcheck disable=SC1091
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

suite=$host_release flavours=none,debian,nodesource build_in_chroot=no keep=no build=yes
while [ $# -gt 0 ]; do
    case $1 in
        bookworm|trixie) suite=$1 ;;
        --node) flavours=$2; shift ;;
        --node=*) flavours=${1#--node=} ;;
        --build-in-chroot) build_in_chroot=yes ;;
        --keep) keep=yes ;;
        --no-build) build=no ;;
        *) die "unknown argument $1 (bookworm|trixie, --node none,debian,nodesource, --build-in-chroot, --no-build, --keep)" ;;
    esac
    shift
done
case $suite in bookworm|trixie) ;; *) die "the running release is ${suite:-unknown}: name bookworm or trixie" ;; esac
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt install debootstrap)"
mkdir -p "$work"

# --- chroots --------------------------------------------------------------------------------
mounts=()         # what we mounted, in order
masters=()        # "chroot pid-file" of the nginx instances we started
chroots=()        # test chroots to remove at exit

unmount_under() {  # unmounts what we mounted under $1, in reverse order
    local i m kept=()
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        m=${mounts[$i]}
        if [ "${m#"$1"/}" != "$m" ]; then
            umount "$m" 2>/dev/null || umount -l "$m" || say "warning: could not unmount $m"
        else
            kept=("$m" "${kept[@]}")
        fi
    done
    mounts=("${kept[@]}")
}

remove_chroot() {
    local c=$1
    unmount_under "$c"
    if grep -q " $c/" /proc/mounts; then
        say "warning: something is still mounted under $c; not removing it"
        return 0
    fi
    rm -rf --one-file-system "$c"
}

# stops an nginx master we started in a chroot: by its pid file, only if that process runs there
stop_master() {
    local c=$1 pidfile=$2 pid i
    pid=$(cat "$c$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
    [ "$(readlink "/proc/$pid/root")" = "$c" ] || return 0
    kill -QUIT "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
    kill -TERM "$pid" 2>/dev/null || true
}

cleanup() {
    local m
    for m in "${masters[@]}"; do stop_master ${m}; done
    for m in "${chroots[@]}"; do
        if [ $keep = yes ]; then unmount_under "$m"; say "kept $m"; else remove_chroot "$m"; fi
    done
    unmount_under "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base_tar() {  # a minimal Debian of $suite, debootstrapped once
    local tar=$work/$suite-base.tar dir=$work/$suite-base
    if [ ! -f "$tar" ]; then
        say "debootstrap $suite (once; kept in $tar)"
        remove_chroot "$dir"
        debootstrap --variant=minbase --include=ca-certificates,curl,procps "$suite" "$dir" "$mirror" \
            > "$work/$suite-debootstrap.log" 2>&1 \
            || { tail -n 20 "$work/$suite-debootstrap.log" >&2; die "debootstrap $suite failed"; }
        tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
        remove_chroot "$dir"
    fi
    printf '%s\n' "$tar"
}

in_chroot() {  # runs a command in chroot $c with a clean environment
    local c=$1; shift
    chroot "$c" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        ${ca_env:+NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt} "$@"
}

mount_chroot() {
    local c=$1
    mount -t proc proc "$c/proc" && mounts+=("$c/proc")
    mount -t sysfs sysfs "$c/sys" && mounts+=("$c/sys")
    mount --bind /dev "$c/dev" && mounts+=("$c/dev")
    mount --bind /dev/pts "$c/dev/pts" && mounts+=("$c/dev/pts")
}

ca_env=
new_chroot() {  # a fresh chroot of $suite in $1 from the base tarball, mounted, apt updated
    local c=$1 tar
    tar=$(base_tar)
    remove_chroot "$c"
    mkdir -p "$c"
    tar -C "$c" -xf "$tar"
    setup_chroot "$c"
}

setup_chroot() {
    local c=$1
    cp /etc/resolv.conf "$c/etc/resolv.conf"
    printf '#!/bin/sh\nexit 101\n' > "$c/usr/sbin/policy-rc.d"
    chmod 755 "$c/usr/sbin/policy-rc.d"
    rm -f "$c/etc/apt/sources.list.d/"*
    cat > "$c/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF
    mount_chroot "$c"
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        mkdir -p "$c/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$c/usr/local/share/ca-certificates/"
        in_chroot "$c" update-ca-certificates >> "$log" 2>&1
        ca_env=yes
    fi
    in_chroot "$c" apt-get update -q >> "$log" 2>&1 || die "apt-get update in $c failed (log: $log)"
}

# --- the packages ---------------------------------------------------------------------------
debs=$root/build/package/$suite
build_packages() {
    log=$work/$suite-build.log
    : > "$log"
    if [ "$suite" = "$host_release" ] && [ $build_in_chroot = no ]; then
        say "building the $suite packages here (scripts/package.sh)"
        bash scripts/package.sh >> "$log" 2>&1 || { tail -n 20 "$log" >&2; die "scripts/package.sh failed (log: $log)"; }
        grep '^package:' "$log" >&2 || true
        return
    fi
    local c=$work/$suite-build version
    version=$(bash scripts/package.sh --version)
    if [ ! -f "$c/etc/ngx-node-build-chroot" ]; then
        say "making a $suite build chroot in $c (kept for the next run)"
        new_chroot "$c"
        say "installing Debian's nodejs and npm there (to build the runtime)"
        in_chroot "$c" apt-get install -y -q --no-install-recommends nodejs npm >> "$log" 2>&1 \
            || die "apt-get install nodejs npm failed (log: $log)"
        touch "$c/etc/ngx-node-build-chroot"
    else
        say "reusing the $suite build chroot $c"
        setup_chroot "$c"
    fi
    say "copying the working tree into $c/root/ngx-node"
    mkdir -p "$c/root/ngx-node"
    find "$c/root/ngx-node" -mindepth 1 -maxdepth 1 ! -name build ! -name node_modules ! -name .deps \
        -exec rm -rf {} +
    git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$c/root/ngx-node" -xf -
    say "building the $suite packages in the chroot (scripts/package.sh)"
    in_chroot "$c" env NGX_NODE_PKG_UPSTREAM="$(cut -f1 <<<"$version")" \
        NGX_NODE_PKG_DATE="$(cut -f2 <<<"$version")" bash /root/ngx-node/scripts/package.sh \
        >> "$log" 2>&1 || { grep '^package:' "$log" | tail -n 20 >&2; die "scripts/package.sh in $c failed (log: $log)"; }
    grep '^package:' "$log" >&2 || true
    rm -rf "$debs"
    mkdir -p "$debs"
    cp "$c/root/ngx-node/build/package/$suite/"*.deb "$debs/"
    unmount_under "$c"
}

# NodeSource's nodejs, for the machine where it blocks Debian's libnode: this machine's, repacked
nodesource_deb() {
    if [ -n "${NGX_NODE_NODESOURCE_DEB:-}" ]; then printf '%s\n' "$NGX_NODE_NODESOURCE_DEB"; return 0; fi
    local version arch deb dir f s
    version=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true)
    case $version in *nodesource*) ;; *) return 1 ;; esac
    arch=$(dpkg-query -W -f='${Architecture}' nodejs)
    deb=$work/nodejs_${version}_$arch.deb
    if [ ! -f "$deb" ]; then
        say "repacking this machine's NodeSource nodejs $version into $deb"
        dir=$work/nodejs-repack
        rm -rf "$dir"
        mkdir -p "$dir/DEBIAN"
        dpkg-query -L nodejs | while IFS= read -r f; do
            if [ -L "$f" ] || { [ -e "$f" ] && [ ! -d "$f" ]; }; then printf '%s\n' "${f#/}"; fi
        done | tar -C / --no-recursion -T - -cf - | tar -C "$dir" -xf -
        dpkg-query -s nodejs | awk '/^[A-Za-z-]+:/ { skip = ($1 == "Status:" || $1 == "Conffiles:") } !skip' \
            > "$dir/DEBIAN/control"
        for s in preinst postinst prerm postrm conffiles; do
            [ ! -f "/var/lib/dpkg/info/nodejs.$s" ] || cp "/var/lib/dpkg/info/nodejs.$s" "$dir/DEBIAN/$s"
        done
        dpkg-deb --root-owner-group -Zgzip -z1 -b "$dir" "$deb.tmp" >/dev/null && mv "$deb.tmp" "$deb"
        rm -rf "$dir"
    fi
    printf '%s\n' "$deb"
}

# --- one end-to-end test --------------------------------------------------------------------
http_get() {  # curl in the chroot: body of http://127.0.0.1:$port$2
    in_chroot "$1" curl -sS --max-time 10 "http://127.0.0.1:$port$2"
}

write_handlers() {  # $1 chroot, $2 version tag
    mkdir -p "$1/etc/nginx/node"
    cat > "$1/etc/nginx/node/main.ts" <<EOF
import type { NginxHTTPRequest } from 'ngx-node';

const version: string = '$2';

export function hello(r: NginxHTTPRequest): void {
    r.headersOut['Content-Type'] = 'text/plain';
    r.return(200, \`hello \${version} from Node.js \${process.version}, ngx-node \${ngx.ngx_node_version}, worker \${process.pid}\\n\`);
}

export function greeting(r: NginxHTTPRequest): string {
    return \`\${version}:\${r.method}:\${r.uri}\`;
}

export async function viaFetch(r: NginxHTTPRequest): Promise<void> {
    const res = await fetch('http://127.0.0.1:$port/set');
    r.return(200, \`fetched \${(await res.text()).trim()}\\n\`);
}
EOF
    cat > "$1/etc/nginx/node/stream.mjs" <<EOF
export function greeting(s) {
    return \`stream $2 from Node.js \${process.version}\`;
}
EOF
}

expect() {  # expect <what> <actual> <substring>
    if [ "${2#*"$3"}" = "$2" ]; then die "$1: got '$2', wanted '$3'"; fi
    say "  $1: $2"
}

test_flavour() {
    local flavour=$1 c=$work/$suite-test-$1 nodeinfo master pids users i answer line libnode f left
    log=$work/$suite-$flavour.log
    : > "$log"
    say "=== $suite, Node.js already on the machine: $flavour (log: $log)"
    chroots+=("$c")
    new_chroot "$c"
    in_chroot "$c" apt-get install -y -q nginx >> "$log" 2>&1 || die "apt-get install nginx failed"
    say "installed Debian's nginx $(in_chroot "$c" dpkg-query -W -f='${Version}' nginx)"
    libnode=$(in_chroot "$c" apt-cache search --names-only '^libnode[0-9]+$' | cut -d' ' -f1 | head -n 1)
    case $flavour in
        none) ;;
        debian)
            in_chroot "$c" apt-get install -y -q nodejs >> "$log" 2>&1 || die "apt-get install nodejs failed"
            say "installed Debian's nodejs: $(in_chroot "$c" dpkg-query -W -f='${Package} ${Version}, ' nodejs "$libnode" node-acorn)"
            ;;
        nodesource)
            local deb
            deb=$(nodesource_deb) || die "no NodeSource nodejs here to repack: set NGX_NODE_NODESOURCE_DEB or leave nodesource out of --node"
            cp "$deb" "$c/root/"
            in_chroot "$c" apt-get install -y -q "/root/$(basename "$deb")" >> "$log" 2>&1 \
                || die "apt-get install NodeSource's nodejs failed"
            say "installed NodeSource's nodejs $(in_chroot "$c" dpkg-query -W -f='${Version}' nodejs)"
            if in_chroot "$c" apt-get install -s -q "$libnode" >> "$log" 2>&1; then
                die "$libnode would install beside NodeSource's nodejs: this is not the blocked case"
            fi
            line=$(in_chroot "$c" apt-get install -s -q "$libnode" 2>&1 | sed -n '/Depends:/,/installable/p' \
                | sed 's/^ *//' | tr '\n' ' ' || true)
            say "  and Debian's $libnode cannot be installed: $line"
            ;;
        *) die "unknown --node kind $flavour" ;;
    esac

    rm -f "$c/etc/nginx/sites-enabled/default"   # it would listen on *:80
    cp "$debs"/*.deb "$c/root/"
    local files
    files=$(cd "$debs" && ls ./*.deb | tr '\n' ' ')
    say "cd /root && apt install -y $files"
    in_chroot "$c" sh -c "cd /root && apt-get install -y -q $files" >> "$log" 2>&1 \
        || { tail -n 30 "$log" >&2; die "apt install of the packages failed"; }
    in_chroot "$c" dpkg-query -W -f='${Package} ${Version}: Depends: ${Depends}\n' \
        ngx-node-common libnginx-mod-http-node libnginx-mod-stream-node | while IFS= read -r line; do say "  $line"; done
    say "  /etc/nginx/modules-enabled: $(ls "$c/etc/nginx/modules-enabled" | tr '\n' ' ')"
    for f in "$c"/usr/share/nginx/modules-available/mod-*-node.conf; do
        say "  $(basename "$f"): $(tr '\n' ' ' < "$f")"
    done
    say "  RUNPATH of the modules: $(for f in http stream; do readelf -d "$c/usr/lib/nginx/modules/ngx_${f}_node_module.so" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p'; done | sort -u | tr '\n' ' ')"
    say "  the bridge's libnode: $(in_chroot "$c" ldd /usr/lib/ngx-node/ngx_node_bridge.so | awk '/libnode/ { print $1, $2, $3 }')"
    in_chroot "$c" dpkg -L ngx-node-common libnginx-mod-http-node libnginx-mod-stream-node \
        | sort -u > "$work/$suite-$flavour.files"
    say "  $(wc -l < "$work/$suite-$flavour.files") paths in dpkg -L; /usr/share/nodejs exists: $([ -e "$c/usr/share/nodejs" ] && echo yes || echo no)"

    in_chroot "$c" nginx -t >> "$log" 2>&1 || { tail -n 5 "$log" >&2; die "nginx -t fails with the modules loaded"; }
    say "nginx -t with the modules loaded and no node_* directive: ok"

    # a site with node_import, node_content, node_set and fetch
    write_handlers "$c" v1
    cat > "$c/etc/nginx/conf.d/ngx-node-test.conf" <<EOF
node_import main from /etc/nginx/node/main.ts;
node_set \$ngx_node_greeting main.greeting;

server {
    listen 127.0.0.1:$port;
    location / { node_content main.hello; }
    location /set { return 200 "\$ngx_node_greeting\n"; }
    location /fetch { node_content main.viaFetch; }
}
EOF
    in_chroot "$c" nginx -t >> "$log" 2>&1 || { tail -n 5 "$log" >&2; die "nginx -t failed"; }
    say "nginx -t: ok"
    masters+=("$c /run/nginx.pid")
    in_chroot "$c" /usr/sbin/nginx -g 'daemon on; master_process on;' >> "$log" 2>&1 \
        || { tail -n 5 "$c/var/log/nginx/error.log" >&2; die "nginx did not start"; }
    master=$(cat "$c/run/nginx.pid")
    sleep 1
    pids=$(ps -o pid= --ppid "$master" | xargs)
    users=$(ps -o user= --ppid "$master" | sort -u | xargs)
    say "nginx started (master $master, workers $pids as $users)"
    [ "$users" = www-data ] || die "the workers run as $users, not www-data"
    expect "GET /" "$(http_get "$c" /)" "hello v1 from Node.js v"
    expect "ngx.ngx_node_version" "$(http_get "$c" /)" ", ngx-node $(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -n 1),"
    expect "GET /set (node_set)" "$(http_get "$c" /set)" "v1:GET:/set"
    expect "GET /fetch (fetch, async)" "$(http_get "$c" /fetch)" "fetched v1:GET:/set"

    write_handlers "$c" v2
    in_chroot "$c" nginx -s reload >> "$log" 2>&1 || die "nginx -s reload failed"
    answer=
    for i in $(seq 1 50); do
        answer=$(http_get "$c" / || true)
        [ "${answer#hello v2}" = "$answer" ] || break
        sleep 0.2
    done
    say "nginx -s reload with the handler changed"
    expect "GET / after reload" "$answer" "hello v2 from Node.js v"
    expect "GET /set after reload" "$(http_get "$c" /set)" "v2:GET:/set"

    # the stream module, in a second nginx of its own (Debian's nginx.conf has no stream block)
    cat > "$c/etc/nginx/ngx-node-stream-test.conf" <<EOF
include /etc/nginx/modules-enabled/*.conf;
user www-data;
pid /run/ngx-node-stream-test.pid;
error_log /var/log/nginx/ngx-node-stream-test.log;
events {}
stream {
    node_import stream from /etc/nginx/node/stream.mjs;
    node_set \$greeting stream.greeting;
    server { listen 127.0.0.1:$sport; return "\$greeting\n"; }
}
EOF
    masters+=("$c /run/ngx-node-stream-test.pid")
    in_chroot "$c" /usr/sbin/nginx -c /etc/nginx/ngx-node-stream-test.conf -g 'daemon on; master_process on;' \
        >> "$log" 2>&1 || { tail -n 5 "$c/var/log/nginx/ngx-node-stream-test.log" >&2; die "the stream nginx did not start"; }
    answer=$(in_chroot "$c" bash -c "exec 3<>/dev/tcp/127.0.0.1/$sport && timeout 10 head -n 1 <&3")
    expect "stream 127.0.0.1:$sport (node_set, return)" "$answer" "stream v2 from Node.js v"
    in_chroot "$c" nginx -c /etc/nginx/ngx-node-stream-test.conf -s quit >> "$log" 2>&1

    in_chroot "$c" nginx -s quit >> "$log" 2>&1 || die "nginx -s quit failed"
    for i in $(seq 1 100); do [ -d "/proc/$master" ] || break; sleep 0.1; done
    [ ! -d "/proc/$master" ] || die "nginx (master $master) did not quit"
    say "nginx -s quit: master $master exited"
    if grep -E '\[(alert|emerg|crit)\]' "$c/var/log/nginx/error.log" "$c/var/log/nginx/ngx-node-stream-test.log"; then
        die "the error_log has alerts"
    fi

    # purge: nothing of the packages stays
    rm -f "$c/etc/nginx/conf.d/ngx-node-test.conf" "$c/etc/nginx/ngx-node-stream-test.conf"
    in_chroot "$c" apt-get purge -y -q ngx-node-common libnginx-mod-http-node libnginx-mod-stream-node \
        >> "$log" 2>&1 || die "apt-get purge failed"
    say "apt purge ngx-node-common libnginx-mod-http-node libnginx-mod-stream-node"
    # every file and link of dpkg -L, and the directories that were the packages' own
    left=$(while IFS= read -r f; do
        if [ -L "$c$f" ] || { [ -e "$c$f" ] && [ ! -d "$c$f" ]; }; then
            echo "$f"
        elif [ -d "$c$f" ]; then
            case $f in
                /usr/lib/ngx-node*|/usr/share/doc/ngx-node-common|/usr/share/doc/libnginx-mod-*-node) echo "$f/" ;;
            esac
        fi
    done < "$work/$suite-$flavour.files")
    left+=$(ls -d "$c"/etc/nginx/modules-enabled/*node* "$c/usr/lib/ngx-node" 2>/dev/null | sed "s|^$c||" || true)
    [ -z "$left" ] || die "left behind after purge: $(echo "$left" | tr '\n' ' ')"
    say "  nothing left: none of the $(wc -l < "$work/$suite-$flavour.files") paths, no /usr/lib/ngx-node, /etc/nginx/modules-enabled: $(ls "$c/etc/nginx/modules-enabled" | tr '\n' ' ')"
    in_chroot "$c" nginx -t >> "$log" 2>&1 || die "nginx -t fails after the purge"
    say "  nginx -t after the purge: ok"
    say "=== $suite, $flavour: passed"
    remove_chroot_now "$c"
}

remove_chroot_now() {
    local c=$1 kept=() m
    if [ $keep = yes ]; then unmount_under "$c"; say "kept $c"; else remove_chroot "$c"; fi
    for m in "${chroots[@]}"; do [ "$m" = "$c" ] || kept+=("$m"); done
    chroots=("${kept[@]}")
}

for p in $port $sport; do
    if grep -qi ":$(printf '%04X' "$p") 00000000:0000 0A" /proc/net/tcp; then
        die "127.0.0.1:$p is in use here (NGX_NODE_PKGTEST_PORT chooses another)"
    fi
done

[ $build = no ] || build_packages
ls "$debs"/ngx-node-common_*.deb "$debs"/libnginx-mod-http-node_*.deb "$debs"/libnginx-mod-stream-node_*.deb \
    >/dev/null || die "the packages are not in $debs"
passed=()
for flavour in ${flavours//,/ }; do
    test_flavour "$flavour"
    passed+=("$flavour")
done
log=
say "$suite: passed (${passed[*]})"
