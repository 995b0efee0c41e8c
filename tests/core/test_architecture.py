"""The engine is a pure library: app/engine imports no web, database, cache or queue code and
nothing from the service layers (CONVENTIONS.md: arrows point down, never up)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "app" / "engine"
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "redis",
    "celery",
    "app.core",
    "app.api",
    "app.services",
    "app.tasks",
    "app.models",
)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _is_forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def test_engine_sources_import_nothing_forbidden() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert files, "app/engine has no sources?"
    bad = [
        f"{p.relative_to(ROOT)}:{line} imports {mod}"
        for p in files
        for line, mod in _imports(p)
        if _is_forbidden(mod)
    ]
    assert not bad, "\n".join(bad)


def test_checker_catches_violations(tmp_path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "import numpy\nfrom sqlalchemy import select\nimport app.core.config\n"
        "from app import services\ndef f():\n    import redis.asyncio\n"
    )
    mods = [m for _, m in _imports(sample) if _is_forbidden(m)]
    assert mods == [
        "sqlalchemy",
        "sqlalchemy.select",
        "app.core.config",
        "app.services",
        "redis.asyncio",
    ]


def test_importing_the_engine_loads_no_service_packages() -> None:
    """Import every engine module in a fresh interpreter; none of the forbidden packages may
    end up in sys.modules (catches indirect imports too)."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in ENGINE.rglob("*.py")
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n    importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print('\\n'.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", out.stdout
