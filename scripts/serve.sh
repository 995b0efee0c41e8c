#!/usr/bin/env bash
# Set up and start the service on its embedded defaults (SQLite under ./data, in-memory cache,
# in-process jobs), bound to loopback. HOST and PORT come from the environment or .env (through
# app.core.config.Settings, the same values the app checks its bind policy against). Extra
# arguments go to uvicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Compile the Numba kernels into their on-disk cache now (seconds once cached), so the first
# request of the server is answered at full speed instead of waiting for the JIT.
.venv/bin/python -m app warm-up
read -r HOST PORT < <(.venv/bin/python -c \
  'from app.core.config import get_settings as g; s = g(); print(s.host, s.port)')
export HOST PORT
exec .venv/bin/python -m uvicorn app.main:app --host "$HOST" --port "$PORT" "$@"
