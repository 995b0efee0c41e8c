#!/bin/sh
# Container entry point: `api` (uvicorn, WEB_CONCURRENCY workers), `api-dev` (one worker,
# auto-reload on ./app), `worker` (Celery, WORKER_CONCURRENCY processes), `migrate` (Alembic
# upgrade head), or any other command as is. The Prometheus multiprocess directory, when set,
# is emptied first: samples of a previous run's processes must not be summed with ours.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete
fi
role="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$role" in
  api)
    exec uvicorn app.main:app --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-1}" --proxy-headers \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" --no-server-header "$@" ;;
  api-dev)
    exec uvicorn app.main:app --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
      --reload --reload-dir app "$@" ;;
  worker)
    exec celery -A app.tasks.celery_app worker -Q "${CELERY_QUEUE:-cfe-jobs}" \
      --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel "${LOG_LEVEL:-INFO}" \
      --hostname "worker@%h" "$@" ;;
  migrate)
    if [ "$#" -eq 0 ]; then set -- upgrade head; fi
    exec alembic "$@" ;;
  *)
    exec "$role" "$@" ;;
esac
