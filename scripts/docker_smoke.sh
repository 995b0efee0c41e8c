#!/usr/bin/env bash
# Smoke test of a built image: start it on its embedded defaults (SQLite inside the container,
# no auth, so bound to the container's loopback), wait for the image's HEALTHCHECK command to
# pass (GET /health 200), then post a forecast from inside the container and check the answer
# and how long the first forecast took (the Numba cache was compiled at build time).
# Usage: bash scripts/docker_smoke.sh IMAGE[:TAG]. Exits non-zero on any failure.
set -euo pipefail
image="${1:?usage: docker_smoke.sh IMAGE}"
name="cfe-smoke-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$name" -e ENV=development -e HOST=127.0.0.1 "$image" api >/dev/null
for i in $(seq 1 60); do
  if docker exec "$name" python /usr/local/bin/healthcheck.py 2>/dev/null; then
    echo "/health 200 after ${i}s"; break
  fi
  if [ "$i" = 60 ]; then echo "no healthy answer" >&2; docker logs "$name" | tail -30 >&2; exit 1; fi
  sleep 1
done
docker exec -i "$name" python - <<'PY'
import json, time, urllib.request

body = {"name": "smoke", "pool": {"loans": [
    {"loan_id": "S1", "balance": 300000, "rate": 0.065, "original_term_months": 360},
    {"loan_id": "S2", "balance": 150000, "rate": 0.055, "original_term_months": 180}]},
    "assumptions": {"prepayment": {"type": "psa", "speed": 150},
                    "default": {"type": "cdr", "rate": 0.02}, "severity": 0.35}}
req = urllib.request.Request("http://127.0.0.1:8000/api/v1/cashflow/forecast",
                             data=json.dumps(body).encode(), method="POST",
                             headers={"content-type": "application/json"})
start = time.perf_counter()
with urllib.request.urlopen(req, timeout=120) as resp:
    out = json.load(resp)
    assert resp.status == 201, resp.status
seconds = time.perf_counter() - start
cf = out["scenarios"][0]["cashflows"]
assert len(cf["scheduled_principal"]) == 360 and sum(cf["scheduled_principal"]) > 0
print(f"forecast {out['forecast_id']}: 201 in {seconds:.2f} s, {len(cf['scheduled_principal'])} periods")
PY
docker exec "$name" id -u | grep -qv '^0$' && echo "runs as a non-root user"
