#!/usr/bin/env bash
# The -g directives the demos run nginx with: in the foreground, and with workers as root when
# the repository lies in a directory closed to other users (the workers, as "nobody", must read
# it). Prints them; says on stderr when it picks root.
set -euo pipefail
cd "$(dirname "$0")/.."

globals='daemon off;'
dir=$PWD
while [ "$dir" != / ]; do
    if [ -z "$(find "$dir" -maxdepth 0 -perm -o+x)" ]; then
        echo "demo: $dir is closed to other users; the workers run as root" >&2
        globals="$globals user root;"
        break
    fi
    dir=$(dirname "$dir")
done
printf '%s\n' "$globals"
