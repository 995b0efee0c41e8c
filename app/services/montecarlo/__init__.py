"""Monte Carlo use cases: requests (route body -> engine request), results (-> JSON), direct
runs, and the `monte_carlo` job kind (plan, compute a chunk, merge)."""

from app.services.montecarlo.requests import (
    build_request,
    engine_error,
    engine_request,
    job_request,
    work_cells,
)
from app.services.montecarlo.results import result_json
from app.services.montecarlo.runs import run_direct, run_or_submit

__all__ = [
    "build_request",
    "engine_error",
    "engine_request",
    "job_request",
    "result_json",
    "run_direct",
    "run_or_submit",
    "work_cells",
]
