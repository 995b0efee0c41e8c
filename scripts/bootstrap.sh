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
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req" -c constraints.txt
  # The project itself, editable: puts the `cashflow-engine` command in .venv/bin.
  # (setuptools' editable-install banner is noise; on failure the install is re-run to show why)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . >/dev/null 2>&1 \
    || .venv/bin/python -m pip install --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi
# Bytecode for the service's own modules, written now: where PYTHONDONTWRITEBYTECODE is set
# (containers, some CI machines) Python would otherwise recompile all of app/ at every start
# (~0.35 s of the ~1.5 s import). Only changed files are recompiled.
.venv/bin/python -m compileall -q app >/dev/null
