#!/usr/bin/env bash
# Set up and start the service on its embedded defaults (SQLite under ./data, in-memory cache,
# in-process jobs), bound to loopback. HOST and PORT come from the environment or .env (through
# app.core.config.Settings, the same values the app checks its bind policy against). Extra
# arguments go to uvicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
read -r HOST PORT < <(.venv/bin/python -c \
  'from app.core.config import get_settings as g; s = g(); print(s.host, s.port)')
export HOST PORT
exec .venv/bin/python -m uvicorn app.main:app --host "$HOST" --port "$PORT" "$@"
