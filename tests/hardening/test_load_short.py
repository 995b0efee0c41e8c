"""A short, bounded version of bench/load_clients.py (issue 12, standing suite): many concurrent
clients writing and reading on loopback against a real uvicorn, on the embedded SQLite default
and on PostgreSQL: 0 errors. No timing is asserted (the figures are in docs/benchmarks.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location(
        "load_clients", ROOT / "bench" / "load_clients.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_concurrent_clients_get_no_errors(db, request) -> None:
    postgres = request.getfixturevalue("pg_url") if db == "postgres" else None
    summary = _bench().run(clients=25, seconds=4.0, postgres=postgres)
    assert summary["requests"] > 25
    assert summary["error_count"] == 0, summary["errors"]
    assert {"forecast", "upload", "list"} <= set(summary["per_kind"])
