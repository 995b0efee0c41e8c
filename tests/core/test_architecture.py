"""The layering of app/ (CONVENTIONS.md: arrows point down, never up):

    api -> services -> (assets, engine, repositories, models, core);  tasks -> services
    assets -> engine only;  engine -> nothing of the app (a pure library);  core -> no layer above

Checked twice: statically over every import statement of every source file (function-level
imports and `importlib.import_module("...")` calls included), and dynamically by importing the
engine (and the assets) in a fresh interpreter and looking at what ended up in sys.modules.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

INFRA = ("fastapi", "starlette", "sqlalchemy", "alembic", "redis", "celery")
ABOVE_ENGINE = ("app.core", "app.api", "app.services", "app.tasks", "app.models", "app.assets")

# layer (a package under app/) -> the modules its sources must never import
RULES: dict[str, tuple[str, ...]] = {
    "app.engine": INFRA + ABOVE_ENGINE,
    # assets turn a pool of their class into engine calls: the engine is all they use
    "app.assets": INFRA + ("app.core", "app.api", "app.services", "app.tasks", "app.models"),
    "app.core": ("app.api", "app.services", "app.tasks", "app.assets"),
    # schemas derive their Literals from the vocabularies below them: engine and asset enums
    "app.models": ("app.api", "app.services", "app.tasks"),
    "app.services": ("app.api", "app.tasks"),
    "app.api": ("app.tasks",),
    "app.tasks": ("app.api",),
}
# the engine and the assets must also stay importable without any of these loaded
PURE = {"app.engine": RULES["app.engine"], "app.assets": RULES["app.assets"]}


def _module_name(path: Path, root: Path = ROOT) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) of every import in a source file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                head = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{head}.{base}" if base else head
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _matches(module: str, forbidden: tuple[str, ...]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def _violations(layer: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    folder = root.joinpath(*layer.split("."))
    return [
        f"{p.relative_to(root)}:{line} imports {mod}"
        for p in sorted(folder.rglob("*.py"))
        for line, mod in _imports(p, root)
        if _matches(mod, forbidden)
    ]


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    folder = ROOT.joinpath(*layer.split("."))
    assert (folder / "__init__.py").is_file(), f"{layer} is not a package"
    bad = _violations(layer, RULES[layer])
    assert not bad, "\n".join(bad)


def test_assets_is_the_asset_class_package() -> None:
    """app/assets is a package whose docstring states the rule it is held to."""
    doc = ast.get_docstring(ast.parse((APP / "assets" / "__init__.py").read_text()))
    assert doc and "engine" in doc and "services" in doc


def test_checker_catches_violations(tmp_path: Path) -> None:
    pkg = tmp_path / "app" / "engine" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "app" / "engine" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text(
        "import numpy\nfrom sqlalchemy import select\nimport app.core.config\n"
        "from app import services\ndef f():\n    import redis.asyncio\n"
        "from ...assets import consumer\nimport importlib\n"
        "importlib.import_module('app.tasks.kinds')\nfrom . import sibling\n"
    )
    mods = [m for _, m in _imports(pkg / "m.py", tmp_path) if _matches(m, RULES["app.engine"])]
    assert sorted(mods) == [
        "app.assets",
        "app.assets.consumer",
        "app.core.config",
        "app.services",
        "app.tasks.kinds",
        "redis.asyncio",
        "sqlalchemy",
        "sqlalchemy.select",
    ]
    assert len(_violations("app.engine", RULES["app.engine"], root=tmp_path)) == 8


@pytest.mark.parametrize(
    ("layer", "source", "target"),
    [
        ("app.core", "from app.api.metrics import router\n", "app.api"),
        ("app.core", "from app.services import pools\n", "app.services"),
        ("app.api", "from app.tasks.kinds import get_kind\n", "app.tasks"),
        ("app.services", "def f():\n    from app.tasks import metrics\n", "app.tasks"),
        ("app.services", "from app.api.v1.jobs import accept_as_job\n", "app.api"),
        ("app.engine", "from app.assets import consumer\n", "app.assets"),
        ("app.assets", "from app.services import forecasts\n", "app.services"),
        ("app.assets", "from fastapi import APIRouter\n", "fastapi"),
    ],
)
def test_each_forbidden_direction_is_caught(
    tmp_path: Path, layer: str, source: str, target: str
) -> None:
    folder = tmp_path.joinpath(*layer.split("."))
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "bad.py").write_text(source)
    bad = _violations(layer, RULES[layer], root=tmp_path)
    assert bad and all(target in b for b in bad), bad


@pytest.mark.parametrize("layer", sorted(PURE))
def test_importing_a_pure_layer_loads_no_service_packages(layer: str) -> None:
    """Import every module of the layer in a fresh interpreter; none of the forbidden packages
    may end up in sys.modules (catches indirect imports too)."""
    folder = ROOT.joinpath(*layer.split("."))
    modules = sorted(_module_name(p) for p in folder.rglob("*.py"))
    forbidden = PURE[layer]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') "
        f"for f in {forbidden!r}))\n"
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


# Entry points of the job path that import each other (the kinds registry imports the kinds'
# services, which import app.services.jobs to submit their runs): each must import first.
JOB_PATH_ENTRIES = (
    "app.services.forecast_job",
    "app.services.forecasts",
    "app.services.montecarlo.job_kind",
    "app.services.jobs.kinds",
    "app.services.scenarios",
    "app.tasks.tasks",
)


def test_job_path_modules_import_first() -> None:
    """No import cycle depends on which module a process loads first (a Celery worker loads
    app.tasks first, the API its routers, a script a service): each entry point is imported
    first in its own fresh interpreter (all started at once, to keep the wall time short)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = {
        m: subprocess.Popen(
            [sys.executable, "-c", f"import {m}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in JOB_PATH_ENTRIES
    }
    bad = []
    for m, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        if proc.returncode:
            bad.append(f"{m}: {err.strip().splitlines()[-1]}")
    assert not bad, "\n".join(bad)
