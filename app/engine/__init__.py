"""The pure numerical engine: NumPy arrays and frozen dataclasses in and out.

It imports nothing from FastAPI, SQLAlchemy, Redis, Celery or app.core, so it can run in a
notebook, a worker or a test with no service around it.
"""

from app.engine.errors import EngineError, FieldProblem, InvalidInput
from app.engine.pool import LoanPool
from app.engine.projection import (
    LoanLevelResult,
    Projection,
    project_pool,
    project_with_rates,
)
from app.engine.types import (
    CASHFLOW_COLUMNS,
    Amortization,
    Assumptions,
    RateType,
    Speed,
    SpeedKind,
)

__all__ = [
    "CASHFLOW_COLUMNS",
    "Amortization",
    "Assumptions",
    "EngineError",
    "FieldProblem",
    "InvalidInput",
    "LoanLevelResult",
    "LoanPool",
    "Projection",
    "RateType",
    "Speed",
    "SpeedKind",
    "project_pool",
    "project_with_rates",
]
