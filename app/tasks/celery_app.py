"""The Celery application: broker and result backend from Settings (Redis or RabbitMQ).

Run workers with `celery -A app.tasks.celery_app worker -Q $CELERY_QUEUE` on as many machines as
wanted, all pointing at the same broker and database (docs/JOBS.md). Tasks are acknowledged
late and rejected back to the queue when their worker dies (`task_acks_late`,
`task_reject_on_worker_lost`), one message is prefetched at a time, and messages are JSON.
No result backend is needed: chunk results are stored in the database by the tasks.
"""

from __future__ import annotations

import logging

from celery import Celery, signals

from app.core.config import Settings, get_settings

log = logging.getLogger("app.jobs")


def make_celery(settings: Settings) -> Celery:
    """A Celery app configured for `settings` (broker required)."""
    app = Celery(
        "cfe",
        broker=settings.celery_broker_url,
        backend=settings.celery_result_backend,
        include=["app.tasks.tasks"],
    )
    hard_limit = settings.jobs_time_limit_seconds + 120.0
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.celery_queue,
        task_time_limit=hard_limit,  # backstop: the units enforce the soft limit themselves
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.jobs_visibility_timeout_seconds,
            "max_retries": 3,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 2.0,
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
    )
    return app


celery_app = make_celery(get_settings())


@signals.setup_logging.connect
def _setup_logging(**_: object) -> None:
    """Workers log like the service (one JSON object per line with the job's request id);
    connecting this signal stops Celery from installing its own handlers."""
    import sys

    from app.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format, settings.env, stream=sys.__stdout__)


@signals.worker_ready.connect
def _on_ready(sender: object = None, **_: object) -> None:
    """A worker that starts re-enqueues jobs whose messages were lost or whose worker died."""
    from app.tasks import tasks

    settings = get_settings()
    if settings.jobs_worker_metrics_port:
        from prometheus_client import start_http_server

        from app.core import metrics

        concurrency = getattr(getattr(sender, "controller", None), "concurrency", None)
        metrics.set_job_workers("celery", int(concurrency or 1))
        start_http_server(
            settings.jobs_worker_metrics_port,
            addr=settings.jobs_worker_metrics_host,
            registry=metrics.exposition_registry(),
        )
    try:
        n = tasks.recover_stale()
        if n:
            log.info("re-enqueued %d stale jobs", n)
    except Exception as exc:  # noqa: BLE001 - a sweep failure must not stop the worker
        log.warning("stale-job sweep failed: %s", exc)
