#!/usr/bin/env bash
# Apply the database migrations (Alembic) to the database the service is configured for
# (DATABASE_URL from the environment or .env; unset: the embedded SQLite under ./data).
# Extra arguments replace the default "upgrade head", e.g. `bash scripts/migrate.sh current`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ "$#" -eq 0 ]; then set -- upgrade head; fi
exec .venv/bin/python -m alembic "$@"
