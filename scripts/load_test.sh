#!/usr/bin/env bash
# Load test: start the service on its embedded defaults on a loopback port (SQLite in a
# throwaway directory, in-memory cache, in-process job pool, no auth: the local user), run
# locustfile.py headless (LOAD_USERS users, LOAD_DURATION, default 20 users for 60 s), stop the
# server, print p50/p95. Exits non-zero when the server does not come up, a request fails or a
# threshold of locustfile.py is broken. Rate limits are off for the run: all virtual users are
# the same local user, and the test measures the engine, not the limiter.
# Usage: bash scripts/load_test.sh [extra locust arguments]. Report: data/load-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev >/dev/null
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
USERS="${LOAD_USERS:-20}"
DURATION="${LOAD_DURATION:-60s}"
OUT="data/load-test"
mkdir -p "$OUT"
work="$(mktemp -d)"
port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

# the embedded defaults: nothing optional configured, whatever the calling shell has set
embedded=(env -u DATABASE_URL -u REDIS_URL -u UPSTASH_REDIS_HOST -u CELERY_BROKER_URL
          -u SUPABASE_URL -u SUPABASE_JWT_SECRET -u SUPABASE_JWKS_URL -u SENTRY_DSN
          -u PROMETHEUS_MULTIPROC_DIR ENV=development HOST=127.0.0.1 PORT="$port"
          DATA_DIR="$work/data" RATE_LIMIT_ENABLED=false LOG_LEVEL=WARNING)

# compile the kernels into the on-disk Numba cache first (what the Docker build does), so the
# figures are those of a warm service, not of the JIT
timeout 300 "${embedded[@]}" .venv/bin/python scripts/warm_numba_cache.py >"$OUT/warm-up.log" 2>&1 \
  || { echo "warm-up failed, see $OUT/warm-up.log" >&2; exit 1; }

cd "$work" && mkdir -p data && cd - >/dev/null
"${embedded[@]}" .venv/bin/python -m uvicorn app.main:app --host 127.0.0.1 --port "$port" \
  --no-access-log >"$OUT/server.log" 2>&1 &
server_pid=$!
up=""
for _ in $(seq 1 120); do
  if .venv/bin/python - "$port" <<'PY' 2>/dev/null; then up=1; break; fi
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$up" ]; then echo "server did not answer /health; log:" >&2; tail -40 "$OUT/server.log" >&2; exit 1; fi

echo "load test: $USERS users for $DURATION against http://127.0.0.1:$port (embedded defaults)"
set +e
timeout 300 env -u SUPABASE_JWT_SECRET -u LOCUST_JWT_SECRET .venv/bin/locust -f locustfile.py \
  --headless -u "$USERS" -r 10 -t "$DURATION" --host "http://127.0.0.1:$port" \
  --csv "$OUT/locust" --html "$OUT/report.html" --only-summary --stop-timeout 15 "$@" \
  >"$OUT/locust.log" 2>&1
rc=$?
set -e
grep -E "THRESHOLD|Aggregated|Type +Name|^ *(POST|GET|PUT|DELETE|WS) " "$OUT/locust.log" | tail -40 || true
.venv/bin/python - "$OUT/locust_stats.csv" <<'PY' || true
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
agg = next(r for r in rows if r["Name"] == "Aggregated")
print(f"requests={agg['Request Count']} failures={agg['Failure Count']} "
      f"rps={float(agg['Requests/s']):.1f} p50={agg['50%']} ms p95={agg['95%']} ms p99={agg['99%']} ms")
PY
if [ "$rc" -ne 0 ]; then echo "load test FAILED (locust exit $rc); see $OUT/locust.log" >&2; fi
exit "$rc"
