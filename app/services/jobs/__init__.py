"""Jobs: the use cases of long runs (lifecycle), the one run-now-or-submit call (submission),
the registry of job kinds (kinds), the progress message format (progress) and job metrics.

`app/tasks` only transports jobs (Celery tasks, the embedded pool, progress hubs); it imports
from here, never the other way round.
"""

from app.services.jobs.lifecycle import (
    cancel_job,
    get_job,
    job_update,
    job_view,
    list_jobs,
    result_url,
    submit_job,
)
from app.services.jobs.submission import Submitted, run_or_submit, submit, validate_payload

__all__ = [
    "Submitted",
    "cancel_job",
    "get_job",
    "job_update",
    "job_view",
    "list_jobs",
    "result_url",
    "run_or_submit",
    "submit",
    "submit_job",
    "validate_payload",
]
