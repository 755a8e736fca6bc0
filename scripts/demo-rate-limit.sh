#!/usr/bin/env bash
# The rate-limit demo: a redis-server of its own on 127.0.0.1:6390 (nothing saved to disk) and
# nginx with examples/rate-limit on http://127.0.0.1:8080, in the foreground; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
mkdir -p build/rate-limit

if (exec 3<>/dev/tcp/127.0.0.1/6390) 2>/dev/null; then
    echo "demo: something already listens on 127.0.0.1:6390; stop it, or change \$ratelimit_redis in examples/rate-limit/nginx.conf" >&2
    exit 1
fi
redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --dir build/rate-limit \
    --daemonize no --loglevel warning > build/rate-limit/redis.log 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true' EXIT

globals=$(bash scripts/demo-globals.sh)

nginx -q -p "$PWD/" -c examples/rate-limit/nginx.conf -g "$globals" -t
cat >&2 <<EOM
demo: nginx with the Redis rate limiter on http://127.0.0.1:8080, Redis (pid $redis_pid) on
127.0.0.1:6390 (Ctrl-C stops both); 10 requests a minute per client address or X-Api-Key:
  for i in \$(seq 12); do curl -s -o /dev/null -w '%{http_code} ' -H 'X-Api-Key: me' 127.0.0.1:8080/api/; done; echo
  curl -i 127.0.0.1:8080/api/                          # RateLimit-* headers, X-RateLimit-Source
  kill $redis_pid                                      # Redis gone: the shared-dict fallback answers
  tail -f build/rate-limit/error.log build/rate-limit/access.log
EOM
nginx -p "$PWD/" -c examples/rate-limit/nginx.conf -g "$globals"
