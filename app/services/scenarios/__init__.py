"""Scenario use cases: CRUD with optimistic versioning, resolution through templates and
parents, runs (one forecast, created by the forecasts service, for one or many scenarios, with
a risk block per scenario), sensitivity grids, stress tests and break-even solving.

Services never commit (the request's session dependency does); CPU work runs in a worker
thread; the numerics live in app.engine.sensitivity. Modules: resolution, crud, mapping (API
inputs -> engine inputs), runs, monte_carlo_block (a run's Monte Carlo block), analysis.
"""

from app.services.scenarios.analysis import breakeven, grid, stress, stress_shocks
from app.services.scenarios.crud import (
    create_scenario,
    delete_scenario,
    get_scenario,
    list_runs,
    list_scenarios,
    read_scenario,
    update_scenario,
)
from app.services.scenarios.mapping import (
    engine_valuation,
    load_pool,
    rate_shock_of,
    shocked_assumptions,
)
from app.services.scenarios.resolution import (
    MAX_DEPTH,
    Level,
    apply_vectors,
    chain_of,
    definition_of,
    resolve_fields,
    resolve_levels,
    resolve_row,
)
from app.services.scenarios.runs import (
    SUMMARY_KEYS,
    Planned,
    queued_jobs,
    run_many,
    run_planned,
    run_scenario,
)

__all__ = [
    "MAX_DEPTH",
    "SUMMARY_KEYS",
    "Level",
    "Planned",
    "apply_vectors",
    "breakeven",
    "chain_of",
    "create_scenario",
    "definition_of",
    "delete_scenario",
    "engine_valuation",
    "get_scenario",
    "grid",
    "list_runs",
    "list_scenarios",
    "load_pool",
    "queued_jobs",
    "rate_shock_of",
    "read_scenario",
    "resolve_fields",
    "resolve_levels",
    "resolve_row",
    "run_many",
    "run_planned",
    "run_scenario",
    "shocked_assumptions",
    "stress",
    "stress_shocks",
    "update_scenario",
]
