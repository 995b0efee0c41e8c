"""Prometheus metrics: every metric the service exports, the helpers that move them and the
exposition used by ``GET /metrics``.

Multiprocess: when ``PROMETHEUS_MULTIPROC_DIR`` is set in the environment *before* the process
imports ``prometheus_client`` (uvicorn/gunicorn with several workers, Celery workers), every
process writes its samples to memory-mapped files in that directory and the exposition merges
them, so a scrape that lands on any worker sees the totals of all of them. The directory must be
empty at start-up and shared by all workers; gauges declare how they are merged.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

__all__ = [
    "CONTENT_TYPE_LATEST",
    "CACHE_ERRORS",
    "CACHE_LATENCY",
    "CACHE_REQUESTS",
    "CACHE_VALUE_BYTES",
    "CACHE_BREAKER_STATE",
    "ENGINE_LOANS",
    "ENGINE_LOAN_PERIODS",
    "ENGINE_RUN_SECONDS",
    "ENGINE_THROUGHPUT",
    "HTTP_IN_FLIGHT",
    "HTTP_REQUESTS",
    "HTTP_REQUEST_SECONDS",
    "JOBS",
    "JOBS_QUEUE_DEPTH",
    "JOBS_QUEUE_OLDEST_AGE",
    "JOBS_WORKERS",
    "MONTE_CARLO_PATHS",
    "RATE_LIMIT_REJECTIONS",
    "mark_process_dead",
    "exposition_registry",
    "multiprocess_dir",
    "observe_engine_run",
    "observe_http_request",
    "observe_monte_carlo_paths",
    "record_job_state",
    "render_metrics",
    "set_job_queue",
    "set_job_workers",
]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_CACHE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_BYTES_BUCKETS = tuple(float(4**k) for k in range(4, 15))  # 256 B .. 256 MiB
_ENGINE_SECONDS_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)
# loan-periods per second: 1, 2.5, 5 x 10^k from 1e4 to 1e10
_THROUGHPUT_BUCKETS = tuple(m * 10.0**k for k in range(4, 10) for m in (1.0, 2.5, 5.0)) + (1e10,)

# --- HTTP ---------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Wall time from the first byte received to the response sent, seconds.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "Requests being served right now (summed over live workers).",
    multiprocess_mode="livesum",
)

# --- Engine -------------------------------------------------------------------------------
ENGINE_RUN_SECONDS = Histogram(
    "engine_run_seconds",
    "Engine projection wall time per run, seconds.",
    ["kind"],
    buckets=_ENGINE_SECONDS_BUCKETS,
)
ENGINE_LOAN_PERIODS = Counter(
    "engine_loan_periods_total",
    "Loan-periods projected (loans x periods, summed over scenarios).",
    ["kind"],
)
ENGINE_LOANS = Counter(
    "engine_loans_total",
    "Loans projected by forecasts (loans x scenarios), fresh runs only (cache hits excluded).",
    ["kind"],
)
MONTE_CARLO_PATHS = Counter(
    "montecarlo_paths_total",
    "Monte Carlo rate paths simulated, by where they ran (direct: in the request; job).",
    ["mode"],
)
ENGINE_THROUGHPUT = Histogram(
    "engine_loan_periods_per_second",
    "Engine throughput per run: loans x periods / wall seconds.",
    ["kind"],
    buckets=_THROUGHPUT_BUCKETS,
)

# --- Cache --------------------------------------------------------------------------------
CACHE_REQUESTS = Counter(
    "cache_requests_total",
    "Cache look-ups by namespace and result (hit_memory, hit_redis, miss).",
    ["namespace", "result"],
)
CACHE_ERRORS = Counter(
    "cache_errors_total",
    "Cache operations that failed and fell back (operation: get/set/delete/encode/decode; "
    "reason: redis, breaker_open, codec).",
    ["operation", "reason"],
)
CACHE_LATENCY = Histogram(
    "cache_redis_seconds",
    "Round-trip time of Redis cache operations, seconds.",
    ["operation"],
    buckets=_CACHE_BUCKETS,
)
CACHE_VALUE_BYTES = Histogram(
    "cache_value_bytes",
    "Size of encoded cache values as stored (after compression), bytes.",
    buckets=_BYTES_BUCKETS,
)
CACHE_BREAKER_STATE = Gauge(
    "cache_breaker_state",
    "Redis circuit breaker: 0 closed, 1 half-open, 2 open (worst of the live workers).",
    multiprocess_mode="livemax",
)

# --- Rate limits and jobs -------------------------------------------------------------------
RATE_LIMIT_REJECTIONS = Counter(
    "rate_limit_rejections_total",
    "Requests refused with 429, by limit class (read, run).",
    ["limit_class"],
)
JOBS = Counter(
    "jobs_total",
    "Jobs that entered each state (queued, running, succeeded, failed, cancelled).",
    ["state"],
)
# Job queue gauges are set from the jobs table when /metrics is scraped (the database is the
# queue's source of truth, whichever broker carries the messages): every API worker that
# answers a scrape writes the same numbers, the most recent one is reported.
JOBS_QUEUE_DEPTH = Gauge(
    "jobs_queue_depth",
    "Jobs waiting or running right now, by state (queued, running), read from the database.",
    ["state"],
    multiprocess_mode="mostrecent",
)
JOBS_QUEUE_OLDEST_AGE = Gauge(
    "jobs_queue_oldest_age_seconds",
    "Age of the oldest queued job (0 when none is queued), seconds.",
    multiprocess_mode="mostrecent",
)
JOBS_WORKERS = Gauge(
    "jobs_workers",
    "Job worker processes available: the embedded pool's size, or each Celery worker's "
    "concurrency (sum over the scraped targets).",
    ["pool"],
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> str | None:
    """The multiprocess sample directory, or None when running single-process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition_registry() -> CollectorRegistry:
    """The registry to expose: one merging every process's samples in multiprocess mode, else
    this process's default registry (also used by the Celery worker's metrics server)."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def render_metrics() -> bytes:
    """Exposition text of all metrics; merges every worker's samples in multiprocess mode."""
    return generate_latest(exposition_registry())


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (call from the process manager's child-exit hook)."""
    if multiprocess_dir():
        _multiprocess.mark_process_dead(pid)


def observe_http_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one served request under its route template (never the raw path)."""
    labels = (method, route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_REQUEST_SECONDS.labels(*labels).observe(seconds)


def observe_engine_run(
    n_loans: int,
    n_periods: int,
    seconds: float,
    *,
    kind: str = "forecast",
    n_scenarios: int = 1,
    count_loans: bool = True,
) -> float:
    """Record one engine run and return its throughput in loan-periods per second.

    ``n_loans * n_periods * n_scenarios`` loan-periods were projected in ``seconds`` of wall time;
    ``n_loans * n_scenarios`` loans are counted in ``engine_loans_total`` unless ``count_loans``
    is False (callers whose ``n_loans`` is a cell count, not loans).
    """
    loan_periods = float(n_loans) * float(n_periods) * float(n_scenarios)
    if count_loans:
        ENGINE_LOANS.labels(kind).inc(float(n_loans) * float(n_scenarios))
    ENGINE_RUN_SECONDS.labels(kind).observe(seconds)
    ENGINE_LOAN_PERIODS.labels(kind).inc(loan_periods)
    rate = loan_periods / seconds if seconds > 0 else 0.0
    if seconds > 0:
        ENGINE_THROUGHPUT.labels(kind).observe(rate)
    return rate


def record_job_state(state: str) -> None:
    """Count a job entering ``state`` (queued, running, succeeded, failed, cancelled)."""
    JOBS.labels(state).inc()


def observe_monte_carlo_paths(n_paths: int, mode: str) -> None:
    """Count ``n_paths`` simulated rate paths (``mode``: direct or job)."""
    if n_paths > 0:
        MONTE_CARLO_PATHS.labels(mode).inc(n_paths)


def set_job_queue(depth: dict[str, int], oldest_queued_age_seconds: float) -> None:
    """Publish the jobs table's queue: jobs per active state and the oldest queued job's age."""
    for state in ("queued", "running"):
        JOBS_QUEUE_DEPTH.labels(state).set(depth.get(state, 0))
    JOBS_QUEUE_OLDEST_AGE.set(max(oldest_queued_age_seconds, 0.0))


def set_job_workers(pool: str, n: int) -> None:
    """Publish this process's job worker count under ``pool`` (embedded or celery)."""
    JOBS_WORKERS.labels(pool).set(n)
