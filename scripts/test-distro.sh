#!/usr/bin/env bash
# Runs the README's test command (`npm test`) on a Debian release of your choice, in a debootstrap
# chroot with Debian's own nodejs and npm (no NodeSource), on a clean clone of the committed HEAD:
#
#   npm run test:distro -- bookworm|trixie|sid [--rebuild] [--base-only] [--reuse] [-- node --test options]
#
# The release's base system (debootstrap minbase, then nodejs npm git ca-certificates) is made once
# under .deps/distro/<release>/base; each run starts from it afresh, in a throw-away overlay
# (.deps/distro/<release>/run), so nothing one run installs or builds is seen by the next.
#   --rebuild     makes the base again
#   --base-only   stops once the base is ready
#   --reuse       runs in the previous run's tree (its packages, node_modules and build kept),
#                 its clone moved to the current HEAD: quicker, for iterating
# Needs root. The exit status is the test run's; its output also goes to
# .deps/distro/<release>/test.log.
set -euo pipefail

# The whole script is one function, read before it runs: editing this file during a run (they
# are long) does not derail it.
main() {
    cd "$(dirname "$0")/.."
    root=$PWD

    say() { printf 'test-distro: %s\n' "$*" >&2; }
    die() { say "error: $*"; exit 1; }

    release=${1:-}
    [ -n "$release" ] || die "which release? npm run test:distro -- bookworm|trixie|sid"
    shift
    rebuild=no base_only=no reuse=no
    while [ $# -gt 0 ]; do
        case $1 in
            --rebuild) rebuild=yes; shift ;;
            --base-only) base_only=yes; shift ;;
            --reuse) reuse=yes; shift ;;
            *) break ;;
        esac
    done
    [ "${1:-}" != -- ] || shift
    test_args=("$@")

    [ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mounts need it)"
    case $release in *[!a-z0-9-]*) die "not a release name: $release" ;; esac

    dir=$root/.deps/distro/$release
    base=$dir/base
    run=$dir/run
    target=$run/root

    # --- the host's mirrors --------------------------------------------------------------------------
    # The first archive URI in the host's apt sources (deb822 .sources or one-line format) whose
    # suites are not -security, and the first -security one.
    host_uris() {  # prints "uri suite" pairs
        local f
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i+1) }' "$f"
        done
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk 'BEGIN { RS = ""; FS = "\n" }
                 { uri = ""; suite = ""; types = ""
                   for (i = 1; i <= NF; i++) {
                       if ($i ~ /^Types:/) types = $i
                       if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
                       if ($i ~ /^Suites:/) { split($i, a, /[ \t]+/); suite = a[2] }
                   }
                   if (types ~ /[ \t]deb([ \t]|$)/ && uri != "") print uri, suite }' "$f"
        done
    }
    mirror=$(host_uris | awk '$1 ~ /debian\/?$/ && $2 !~ /-security/ { print $1; exit }')
    security=$(host_uris | awk '$2 ~ /-security/ { print $1; exit }')
    mirror=${mirror:-http://deb.debian.org/debian}
    security=${security:-http://deb.debian.org/debian-security}
    mirror=${mirror%/}
    security=${security%/}

    # --- mounts ----------------------------------------------------------------------------------
    mounted=()
    mount_in() {  # mount_in <dir inside the chroot> <mount args...>
        local where=$1; shift
        mkdir -p "$where"
        mount "$@" "$where"
        mounted+=("$where")
    }
    unmount_all() {
        local i
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
            umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" || say "warning: cannot unmount ${mounted[$i]}"
        done
        mounted=()
    }
    # Refuses to delete a tree that still has something mounted in it (a bound /dev!).
    remove_tree() {
        local path
        path=$(realpath -m "$1")
        if awk -v p="$path/" '{ if (index($2 "/", p) == 1) found = 1 } END { exit !found }' /proc/mounts; then
            die "$path still has mounts in it; unmount them first (see /proc/mounts)"
        fi
        rm -rf --one-file-system "$path"
    }
    trap unmount_all EXIT
    trap 'exit 130' INT TERM

    chroot_system_mounts() {  # <root>
        mount_in "$1/proc" -t proc proc
        mount_in "$1/sys" -t sysfs sysfs
        mount_in "$1/dev" --bind /dev
        mount_in "$1/dev/pts" --bind /dev/pts
    }

    in_chroot() {  # <root> <command...>: a clean environment, as root
        local where=$1; shift
        chroot "$where" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
            DEBIAN_FRONTEND=noninteractive "$@"
    }

    # --- the base system -------------------------------------------------------------------------
    make_base() {
        if ! command -v debootstrap >/dev/null; then
            say "installing debootstrap"
            apt-get update -qq || say "warning: apt-get update reported errors"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        fi
        remove_tree "$base"
        remove_tree "$base.tmp"
        mkdir -p "$dir"
        say "debootstrap $release from $mirror into $base (a few minutes)"
        debootstrap --variant=minbase --include=ca-certificates "$release" "$base.tmp" "$mirror" \
            > "$dir/debootstrap.log" 2>&1 \
            || { tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }
        mv "$base.tmp" "$base"

        # the release's own suites on the host's mirrors (sid has no -updates or -security)
        {
            printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n' "$mirror" \
                "$release$([ "$release" = sid ] || [ "$release" = unstable ] || printf ' %s-updates' "$release")"
            if [ "$release" != sid ] && [ "$release" != unstable ]; then
                printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$security" "$release"
            fi
        } > "$base/etc/apt/sources.list.d/debian.sources"
        : > "$base/etc/apt/sources.list"
        # The mirror may be a snapshot older than this machine's clock: a Valid-Until in the past
        # (sid's and -security's Release files have one) would make apt refuse the lists.
        printf 'Acquire::Check-Valid-Until "false";\n' > "$base/etc/apt/apt.conf.d/99ngx-node-test"
        # no service may start in the chroot (nginx's postinst would try)
        printf '#!/bin/sh\nexit 101\n' > "$base/usr/sbin/policy-rc.d"
        chmod 755 "$base/usr/sbin/policy-rc.d"
        install_host_files "$base"

        chroot_system_mounts "$base"
        say "installing nodejs npm git in the $release chroot"
        in_chroot "$base" apt-get update -qq
        in_chroot "$base" apt-get install -y -qq --no-install-recommends nodejs npm git >> "$dir/debootstrap.log" 2>&1 \
            || { tail -n 20 "$dir/debootstrap.log" >&2; die "apt-get install nodejs npm git failed"; }
        in_chroot "$base" apt-get clean
        unmount_all
        say "$release base ready: node $(chroot "$base" node --version), npm $(in_chroot "$base" npm --version)"
        touch "$base/.ngx-node-base"
    }

    # The host's resolver, and its extra CA certificates (a TLS-intercepting proxy: without them npm
    # fails with SELF_SIGNED_CERT_IN_CHAIN).
    install_host_files() {  # <root>
        cp -L /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || true
        # bookworm's debootstrap leaves no /etc/hosts (an installed system has one): without it
        # "localhost" does not resolve (vitest's server looks it up)
        [ -e "$1/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$1/etc/hosts"
        local crts=(/usr/local/share/ca-certificates/*.crt)
        if [ -e "${crts[0]}" ]; then
            mkdir -p "$1/usr/local/share/ca-certificates"
            cp "${crts[@]}" "$1/usr/local/share/ca-certificates/"
            chroot "$1" update-ca-certificates >/dev/null 2>&1 || say "warning: update-ca-certificates failed in $1"
        fi
    }

    if [ $rebuild = yes ] || [ ! -f "$base/.ngx-node-base" ]; then
        make_base
    fi
    [ $base_only = no ] || exit 0

    # --- this run --------------------------------------------------------------------------------
    # A fresh tree from the base; with --reuse, the previous run's (its packages, node_modules and
    # build kept: quicker, for iterating), its clone moved to the current HEAD.
    if [ $reuse = yes ] && [ ! -d "$run/upper/root/ngx-node/.git" ] && [ ! -d "$target/root/ngx-node/.git" ]; then
        say "no previous run of $release to reuse: starting afresh"
        reuse=no
    fi
    [ $reuse = yes ] || remove_tree "$run"
    mkdir -p "$run/upper" "$run/work" "$target"
    if [ -n "$(ls -A "$target")" ]; then
        :  # a copy of the base (no overlayfs), kept by --reuse
    elif ! mount_in "$target" -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" 2>/dev/null; then
        say "no overlayfs here: copying the base instead"
        rmdir "$target"
        cp -a "$base" "$target"
    fi
    install_host_files "$target"
    chroot_system_mounts "$target"

    head=$(git rev-parse HEAD)
    if [ $reuse = yes ] && [ -d "$target/root/ngx-node/.git" ]; then
        say "updating the previous run's clone in the $release chroot to $(git log -1 --format='%h %s' "$head")"
        git -C "$target/root/ngx-node" fetch -q "$root" "$head"
    else
        say "cloning $(git log -1 --format='%h %s' "$head") into the $release chroot"
        git clone -q --no-hardlinks "$root" "$target/root/ngx-node"
    fi
    git -C "$target/root/ngx-node" checkout -q --detach "$head"

    say "npm test in $release (node $(chroot "$target" node --version)); output also in $dir/test.log"
    set +e
    in_chroot "$target" bash -c 'cd /root/ngx-node && exec npm test -- "$@"' npm-test "${test_args[@]}" 2>&1 | tee "$dir/test.log"
    status=${PIPESTATUS[0]}
    set -e
    say "$release: npm test exited with $status"
    exit "$status"
}

main "$@"
