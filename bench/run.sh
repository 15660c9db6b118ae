#!/usr/bin/env bash
# Load test of a real server with wrk (2 threads, 32 connections, 20 s per
# endpoint by default). Usage:
#   bench/run.sh embedded            # SQLite + in-process cache
#   bench/run.sh postgres            # PostgreSQL + Redis on 127.0.0.1
# Environment: DURATION (20s), THREADS (2), CONNECTIONS (32), PORT (18080),
#   PG_URL (postgres://root@127.0.0.1:5432/test), REDIS (redis://127.0.0.1:6379/14),
#   SCENARIOS (space-separated; default "plans health user login"):
#     plans  GET /core/plans/ (anonymous, served from the cache)
#     health GET /core/health/
#     user   GET /auth/user/ with a Bearer token
#     login  POST /auth/login/ (argon2id password check each time)
#     questionnaires  GET /cv/questionnaire/ returning 20 questionnaires (Bearer)
#   RATE_LIMITS: by default lifted far above the load (the per-IP ceiling and
#     per-plan limits would otherwise refuse nearly every request from wrk's
#     single IP); RATE_LIMITS=off measures without any limiter.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-embedded}"
DURATION="${DURATION:-20s}"; THREADS="${THREADS:-2}"; CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18080}"; SCENARIOS="${SCENARIOS:-plans health user login}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }

work="$(mktemp -d)"
server=""; pg=""; schema=""
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  [ -n "$schema" ] && { psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; }
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/cvimprover" ./cmd/cvimprover
export DATA_DIR="$work/data" LISTEN_ADDR="127.0.0.1:$PORT" LOG_LEVEL=warn LOG_FORMAT=text
export RATE_LIMITS="${RATE_LIMITS:-ip=100000000/minute,burst=100000000/minute,anonymous.burst=100000000/minute,api_calls=100000000/hour,questionnaires=100000/day}"
case "$backend" in
  embedded) ;;
  postgres)
    pg="${PG_URL:-postgres://root@127.0.0.1:5432/test}"
    schema="bench_$$"
    psql "$pg" -qc "CREATE SCHEMA $schema" >/dev/null
    export DATABASE_URL="$pg?search_path=$schema" REDIS_URL="${REDIS:-redis://127.0.0.1:6379/14}" CACHE_PREFIX="bench$$:"
    ;;
  *) echo "backend must be embedded or postgres" >&2; exit 2 ;;
esac

"$work/cvimprover" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

base="http://127.0.0.1:$PORT"
curl -fs -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"benchuser","password1":"Bench-Passw0rd!","password2":"Bench-Passw0rd!"}' "$base/auth/registration/"
token="$(curl -fs -H 'Content-Type: application/json' -d '{"username":"benchuser","password":"Bench-Passw0rd!"}' \
  "$base/auth/login/" | sed -E 's/^\{"access":"([^"]+)".*/\1/')"

if [[ " $SCENARIOS " == *" questionnaires "* ]]; then
  for i in $(seq 1 20); do
    curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"position\":\"Engineer $i\",\"industry\":\"Tech\",\"experience_level\":\"3-5\",\"company_size\":\"medium\",\"application_timeline\":\"immediate\",\"location\":\"Remote\",\"job_description\":\"Go, PostgreSQL and Kubernetes experience required.\"}" \
      "$base/cv/questionnaire/"
  done
fi

run() { # name, wrk arguments…
  echo "== $1"
  shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|Latency  |99%|Non-2xx|Socket errors"
}
echo "backend=$backend threads=$THREADS connections=$CONNECTIONS duration=$DURATION"
for sc in $SCENARIOS; do
  case "$sc" in
    plans)  curl -fs -o /dev/null "$base/core/plans/"; run "GET /core/plans/" "$base/core/plans/" ;;
    health) run "GET /core/health/" "$base/core/health/" ;;
    user)   run "GET /auth/user/ (Bearer)" -H "Authorization: Bearer $token" "$base/auth/user/" ;;
    login)  run "POST /auth/login/" -s bench/lua/login.lua "$base/auth/login/" ;;
    questionnaires) run "GET /cv/questionnaire/ (20 items, Bearer)" -H "Authorization: Bearer $token" "$base/cv/questionnaire/" ;;
    *) echo "unknown scenario $sc" >&2; exit 2 ;;
  esac
done
