#!/usr/bin/env bash
# Set up and start the service on its embedded defaults (SQLite under ./data, in-memory cache,
# in-process jobs), bound to loopback. Extra arguments go to uvicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
