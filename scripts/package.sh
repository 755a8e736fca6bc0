#!/usr/bin/env bash
# Builds ngx-node's Debian packages for the release it runs on (Debian 12 or 13), as root, into
# build/package/<codename>/:
#   ngx-node-common_<version>_<arch>.deb           /usr/lib/ngx-node (core, bridge, checker, runtime,
#                                                  types, bundled libnode and sucrase)
#   libnginx-mod-http-node_<version>_<arch>.deb    the http module, enabled in /etc/nginx/modules-enabled
#   libnginx-mod-stream-node_<version>_<arch>.deb  the stream module, loaded after nginx's stream module
# packaging/debian/ is the debian/ directory; dpkg-buildpackage builds in a staging tree there,
# into a build directory of its own (the developer build/ is left alone).
#
# The version is package.json's, plus the commit (+git<UTC date>.<hash>) in a git checkout, plus
# -1~deb<release>; NGX_NODE_PKG_UPSTREAM and NGX_NODE_PKG_DATE (RFC 2822) override the first part
# and the changelog's date. scripts/package.sh --version prints both (tab-separated).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf 'package: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

upstream_version() {
    local version sha date
    version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -n 1)
    [ -n "$version" ] || die "no version in package.json"
    if [ -z "${NGX_NODE_PKG_UPSTREAM:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
        sha=$(git rev-parse --short=7 HEAD)
        date=$(TZ=UTC0 git log -1 --format=%cd --date=format-local:%Y%m%d%H%M)
        NGX_NODE_PKG_UPSTREAM="$version+git$date.$sha"
        NGX_NODE_PKG_DATE=${NGX_NODE_PKG_DATE:-$(git log -1 --format=%cD)}
    fi
    NGX_NODE_PKG_UPSTREAM=${NGX_NODE_PKG_UPSTREAM:-$version}
    NGX_NODE_PKG_DATE=${NGX_NODE_PKG_DATE:-$(date -R)}
}

if [ "${1:-}" = "--version" ]; then
    upstream_version
    printf '%s\t%s\n' "$NGX_NODE_PKG_UPSTREAM" "$NGX_NODE_PKG_DATE"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (scripts/setup.sh installs Debian packages)"
# shellcheck disable=SC1091
. /etc/os-release
[ "${ID:-}" = debian ] && [ -n "${VERSION_CODENAME:-}" ] || die "this builds packages for Debian (12 or 13)"

bash scripts/setup.sh

upstream_version
if [ -n "${VERSION_ID:-}" ]; then revision="1~deb$VERSION_ID"; else revision="1~$VERSION_CODENAME"; fi
version="$NGX_NODE_PKG_UPSTREAM-$revision"
out=build/package/$VERSION_CODENAME
tree=$out/ngx-node-$NGX_NODE_PKG_UPSTREAM
rm -rf "$out"
mkdir -p "$tree"
cp -r packaging/debian "$tree/debian"
maintainer=$(sed -n 's/^Maintainer: //p' packaging/debian/control)
commit=$(git log -1 --format='%h (%s)' 2>/dev/null | cut -c1-60 || true)
cat > "$tree/debian/changelog" <<EOF2
ngx-node ($version) $VERSION_CODENAME; urgency=medium

  * Built for Debian ${VERSION_ID:-$VERSION_CODENAME} ($VERSION_CODENAME) against nginx $(dpkg-query -W -f='${Version}' nginx-dev)${commit:+,
    from commit $commit}.

 -- $maintainer  $NGX_NODE_PKG_DATE
EOF2

cd "$tree"
# dpkg-buildpackage checks debian/control's Build-Depends (and build-essential); the set-up
# above installs all but build-essential on a machine that has g++ and make
if ! unmet=$(dpkg-checkbuilddeps 2>&1); then
    mapfile -t missing < <(printf '%s\n' "$unmet" | sed -n 's/.*[Uu]nmet build dependencies: //p' \
        | sed -e 's/([^)]*)//g' -e 's/|[^,]*//g' | tr ' ,' '\n\n' | sed -e 's/:native$//' | grep -v '^$')
    [ ${#missing[@]} -gt 0 ] || die "$unmet"
    say "installing build dependencies: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
say "dpkg-buildpackage in $out (log: $out/build.log)"
NGX_NODE_SRC=$root dpkg-buildpackage -b -us -uc > ../build.log 2>&1 \
    || { tail -n 40 ../build.log >&2; die "dpkg-buildpackage failed (log: $out/build.log)"; }
cd "$root"
for deb in "$out"/*.deb; do
    say "$deb"
    dpkg-deb -f "$deb" Depends | sed 's/^/package:     Depends: /' >&2
done
