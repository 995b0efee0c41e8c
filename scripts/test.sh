#!/usr/bin/env bash
# Set up and run the whole test suite. Uses the local PostgreSQL, Redis and RabbitMQ when they
# answer (see .ci/run, which starts them); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m pytest "$@"
