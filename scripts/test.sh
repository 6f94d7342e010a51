#!/usr/bin/env bash
# Runs scimgate's whole test suite. When redis-server is installed and
# SCIMGATE_TEST_REDIS_URL is not set, a throwaway redis-server is started on
# a free loopback port in a temporary directory so the store conformance
# suites run against real Redis as well as miniredis.
# Extra arguments go to `go test` (default: -race ./...).
set -euo pipefail
cd "$(dirname "$0")/.."

redis_pid=""
tmpdir=""
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  if [ -n "$tmpdir" ]; then rm -rf "$tmpdir"; fi
}
trap cleanup EXIT

if [ -z "${SCIMGATE_TEST_REDIS_URL:-}" ] && command -v redis-server >/dev/null 2>&1; then
  tmpdir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
  redis-server --port "$port" --bind 127.0.0.1 --dir "$tmpdir" --save "" --appendonly no \
    --daemonize no --logfile "$tmpdir/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  export SCIMGATE_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  echo "test.sh: real Redis at $SCIMGATE_TEST_REDIS_URL"
elif [ -z "${SCIMGATE_TEST_REDIS_URL:-}" ]; then
  echo "test.sh: redis-server not installed; real-Redis tests will skip (they fail when CI=true)"
fi

if [ $# -eq 0 ]; then set -- -race ./...; fi
go test "$@"
