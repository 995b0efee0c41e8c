"""Start-up cost: `import app.main` and building the app load no Numba and no SciPy (they are
imported at the first request that computes), no Redis client or circuit breaker when no Redis
is configured, no Alembic, no httpx (the JWKS client imports it at its first fetch); and the lazily bound kernels all resolve."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEAVY_AT_FIRST_USE = ("numba", "llvmlite", "scipy", "redis", "pybreaker", "alembic", "httpx")


def test_starting_the_app_imports_no_numba_or_scipy() -> None:
    code = (
        "import sys\n"
        "from app.main import create_app\n"
        "create_app()\n"
        f"print(' '.join(sorted(m for m in {HEAVY_AT_FIRST_USE!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **{k: v for k, v in os.environ.items() if "REDIS" not in k},  # the embedded default
            "PYTHONPATH": str(ROOT),
            "ENV": "test",
            "HOST": "127.0.0.1",
        },
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"imported at start: {out.stdout.strip()}"


@pytest.mark.parametrize(
    ("module", "attribute", "kernel_name"),
    [
        ("app.engine.deals.run", "wk", "T_BAL"),
        ("app.engine.montecarlo.preparation", "_nb", "mc_project_nb"),
        ("app.engine.scheduled_batch", "_nb", "combine_nb"),
        ("app.engine.analytics.vectorised", "irr_nb", "irr_many_nb"),
        ("app.services.clo_tranches", "wk", "T_PPAID"),
        ("app.services.deals", "wk", "C_BAL"),
    ],
)
def test_lazy_kernel_modules_resolve(module: str, attribute: str, kernel_name: str) -> None:
    """Each stand-in reaches its real kernel module (a wrong name would otherwise only show at
    the first request that uses it)."""
    stand_in = getattr(importlib.import_module(module), attribute)
    real = importlib.import_module(stand_in.__name__)
    assert getattr(stand_in, kernel_name) is getattr(real, kernel_name)
