"""Pydantic request/response schemas (the API contract) and SQLAlchemy ORM tables.

`load_all()` imports every module of this package so that all tables are registered on
`Base.metadata` (Alembic's env.py calls it; a new table module is picked up automatically).
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every module in app.models (registers all ORM tables on Base.metadata)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
