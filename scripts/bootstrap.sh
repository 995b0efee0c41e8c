#!/usr/bin/env bash
# Create ./.venv (if missing) and install pinned dependencies. Usage: bootstrap.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-runtime}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
req=requirements.txt
[ "$kind" = dev ] && req=requirements-dev.txt
stamp=".venv/.installed-$kind"
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req" -c constraints.txt
  touch "$stamp"
fi
