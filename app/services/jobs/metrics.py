"""Job metrics beyond the per-state counter of app/core/metrics.py: durations and failures."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from app.core.metrics import observe_monte_carlo_paths, record_job_state

JOB_SECONDS = Histogram(
    "job_duration_seconds",
    "Wall time of finished jobs from start to their final state, seconds.",
    ["kind", "state"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
JOB_FAILURES = Counter(
    "job_failures_total", "Jobs that failed, by kind and error type.", ["kind", "error"]
)


# Off in embedded pool processes: their registries are never scraped, the service records
# the outcome of each job it drives instead (app/tasks/embedded.py).
ENABLED = True


def job_state(state: str) -> None:
    """Count a job entering `state` (queued, running, succeeded, failed, cancelled)."""
    if ENABLED:
        record_job_state(state)


def job_finished(
    kind: str, state: str, seconds: float | None, error: str | None = None, *, paths: int = 0
) -> None:
    """Count a job reaching a final state, with its duration and (if failed) error type;
    ``paths``: Monte Carlo paths a succeeded job simulated (``montecarlo_paths_total``)."""
    if not ENABLED:
        return
    record_job_state(state)
    if state == "succeeded":
        observe_monte_carlo_paths(paths, "job")
    if seconds is not None:
        JOB_SECONDS.labels(kind, state).observe(max(seconds, 0.0))
    if state == "failed":
        JOB_FAILURES.labels(kind, error or "unknown").inc()
